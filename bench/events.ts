/**
 * Measure 4: raw event ingest, `reportEvent` in batches of 1,000, into a SQLite file; and the same
 * into a file that already holds 1,000,000 events.
 *
 * The bench catalog meters the event `request` twice: `tokens` (SUM of the `tokens` dimension)
 * and `requests` (COUNT). 1,000 customers; a batch holds 10 events of each of 100 customers
 * (the next 100 in the following batch), every event with a new random UUID idempotency key, so
 * one call stores 1,000 events and updates 200 usage cells (and appends their 200 changes), in
 * one transaction. Calls are awaited one after another.
 *
 * Three cases take turns in the same process:
 * - `engine`: reportEvent on a file that starts empty (it grows as the samples run);
 * - `large`: reportEvent on a second file given 1,000,000 events first, by raw inserts through
 *   the store's own schema (events and their keys, as after the store merged them); its ratio is
 *   to `engine`;
 * - `raw`: the baseline of `engine`: raw better-sqlite3 inserts of the same event rows into the
 *   events table as it was before schema v8 (frozen below: a unique index on the key's text),
 *   `on conflict (idempotency_key) do nothing` as that store did, 1,000 per transaction.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RawEvent } from '@tessera/core';
import { eventKeyHash } from '@tessera/sql';
import { sqliteStore } from '@tessera/sqlite';
import BetterSqlite3 from 'better-sqlite3';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, tempDir, timed } from './harness.js';
import { rawDb, txStatements } from './raw-sqlite.js';

const CUSTOMERS = 1_000;
const PER_BATCH = 100;
const EVENTS_PER_CUSTOMER = 10;
const BATCH = PER_BATCH * EVENTS_PER_CUSTOMER;
const STORED = 1_000_000;
const TARGET = 100_000;
const dir = tempDir();
const ids = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i));

let batchNo = 0;
function eventBatch(): RawEvent[] {
  const first = (batchNo++ * PER_BATCH) % CUSTOMERS;
  const events: RawEvent[] = [];
  for (let c = 0; c < PER_BATCH; c++) {
    const customer = ids[first + c]!;
    for (let e = 0; e < EVENTS_PER_CUSTOMER; e++) {
      events.push({ customerId: customer, eventName: 'request', idempotencyKey: randomUUID(), dimensions: { tokens: 100 + e } });
    }
  }
  return events;
}

const engine = await benchEngine(sqliteStore({ filename: join(dir, 'events.db') }));
await provisionCustomers(engine, 0, CUSTOMERS);

// The large file: customers through the engine, then 1,000,000 events of the last day written
// straight into the store's tables (what reportEvent would have stored, without the usage cells).
const largeFile = join(dir, 'large.db');
const built = await timed(async () => {
  const e = await benchEngine(sqliteStore({ filename: largeFile }));
  await provisionCustomers(e, 0, CUSTOMERS);
  await e.close();
  const db = new BetterSqlite3(largeFile);
  db.pragma('journal_mode = WAL');
  const insert = db.prepare(
    `insert into events (key_hash, idempotency_key, customer_id, event_name, resource_id, entity_id, dimensions, timestamp, received_at, unmatched_reason)
     values (?, ?, ?, 'request', '', '', ?, ?, ?, null)`,
  );
  const start = Date.now() - 86_400_000;
  db.transaction(() => {
    for (let i = 0; i < STORED; i++) {
      const key = randomUUID();
      const at = start + Math.floor((i * 86_400_000) / STORED);
      insert.run(eventKeyHash(key), key, ids[i % CUSTOMERS], `{"tokens":${100 + (i % 10)}}`, at, at);
    }
    db.exec('insert into event_keys (key_hash, event_id) select key_hash, id from events order by key_hash, id');
    db.exec('update event_keys_state set merged_through = (select max(id) from events)');
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
});
log(`  large file: ${fmt(STORED)} events written in ${fmt(built.ms / 1000)} s`);
const large = await benchEngine(sqliteStore({ filename: largeFile }));

// The baseline's file: the store's schema with the events table of schema v7 put back (frozen
// here, so that the baseline stays the pre-v8 schema whatever the store does next).
const db = await rawDb(join(dir, 'raw.db'));
db.exec(`
  drop table events;
  create table events (idempotency_key text not null unique, customer_id text not null, event_name text not null,
    resource_id text not null, dimensions text not null, timestamp integer not null, received_at integer not null,
    unmatched_reason text, entity_id text not null default '');
  create index events_unmatched on events (received_at, idempotency_key) where unmatched_reason is not null;
  create index events_by_stream on events (customer_id, resource_id, event_name, timestamp);
`);
const tx = txStatements(db);
const insertEvent = db.prepare(
  `insert into events (idempotency_key, customer_id, event_name, resource_id, entity_id, dimensions, timestamp, received_at, unmatched_reason)
   values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (idempotency_key) do nothing`,
);
const rawBatch = () => {
  const events = eventBatch();
  const now = Date.now();
  tx.begin();
  for (const e of events) insertEvent.run(e.idempotencyKey, e.customerId, e.eventName, '', '', JSON.stringify(e.dimensions), now, now, null);
  tx.commit();
};

let accepted = 0;
const r = await compare(
  [
    {
      name: 'engine',
      batch: async () => {
        accepted += (await engine.reportEvent(eventBatch())).accepted;
      },
      ops: BATCH,
    },
    {
      name: 'large',
      batch: async () => {
        accepted += (await large.reportEvent(eventBatch())).accepted;
      },
      ops: BATCH,
    },
    { name: 'raw', batch: rawBatch, ops: BATCH },
  ],
  { samples: 7, sampleMs: 300 },
);
log(`  ${fmt(accepted)} events accepted by the engines`);
await engine.close();
await large.close();
db.close();

report([
  {
    measure: 'reportEvent, batches of 1,000 (SUM + COUNT meters), empty store',
    result: r.engine!,
    unit: 'events/s',
    baseline: { name: 'raw better-sqlite3, same event rows into the pre-v8 events table (unique key text), 1,000 per transaction', result: r.raw! },
    ratio: 'ratio',
    target: '>= 100,000 events/s and >= 1.5x raw',
    met: r.engine! >= TARGET && r.engine! >= 1.5 * r.raw!,
  },
  {
    measure: 'reportEvent, batches of 1,000, 1,000,000 events stored',
    result: r.large!,
    unit: 'events/s',
    baseline: { name: 'the same on the empty store (engine above)', result: r.engine! },
    ratio: 'ratio',
    target: '>= 0.6x of the empty store',
    met: r.large! >= 0.6 * r.engine!,
  },
]);
