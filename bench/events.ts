/**
 * Measure 4: raw event ingest, `reportEvent` in batches of 1,000, into a SQLite file.
 *
 * The bench catalog meters the event `request` twice: `tokens` (SUM of the `tokens` dimension)
 * and `requests` (COUNT). 1,000 customers; a batch holds 10 events of each of 100 customers
 * (the next 100 in the following batch), every event with a new random UUID idempotency key, so
 * one call stores 1,000 events and updates 200 usage cells (and appends their 200 changes), in
 * one transaction. Calls are awaited one after another.
 *
 * Baseline, taking turns with the engine in the same process, on a file with the same schema and
 * pragmas: raw better-sqlite3 inserts of the same event rows (same columns, same key shape,
 * `on conflict (idempotency_key) do nothing` as the store), 1,000 per transaction. Both tables
 * grow as the samples run, at about the same pace.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RawEvent } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, tempDir } from './harness.js';
import { rawDb, txStatements } from './raw-sqlite.js';

const CUSTOMERS = 1_000;
const PER_BATCH = 100;
const EVENTS_PER_CUSTOMER = 10;
const BATCH = PER_BATCH * EVENTS_PER_CUSTOMER;
const TARGET = 100_000;
const dir = tempDir();
const ids = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i));

const engine = await benchEngine(sqliteStore({ filename: join(dir, 'events.db') }));
await provisionCustomers(engine, 0, CUSTOMERS);

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

const db = await rawDb(join(dir, 'raw.db'));
const tx = txStatements(db);
const insertEvent = db.prepare(
  `insert into events (idempotency_key, customer_id, event_name, resource_id, dimensions, timestamp, received_at, unmatched_reason)
   values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (idempotency_key) do nothing`,
);
const rawBatch = () => {
  const events = eventBatch();
  const now = Date.now();
  tx.begin();
  for (const e of events) insertEvent.run(e.idempotencyKey, e.customerId, e.eventName, '', JSON.stringify(e.dimensions), now, now, null);
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
    { name: 'raw', batch: rawBatch, ops: BATCH },
  ],
  { samples: 7, sampleMs: 300 },
);
log(`  ${fmt(accepted)} events accepted by the engine`);
await engine.close();
db.close();

report([
  {
    measure: 'reportEvent, batches of 1,000 (SUM + COUNT meters)',
    result: r.engine!,
    unit: 'events/s',
    baseline: { name: 'raw better-sqlite3, same event rows, 1,000 per transaction', result: r.raw! },
    ratio: 'ratio',
    target: '>= 100,000 events/s',
    met: r.engine! >= TARGET,
  },
]);
