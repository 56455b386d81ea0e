/**
 * Measures 2, 3 and 4 on PostgreSQL, next to SQLite in the same process: `reportUsage` awaited
 * one by one and with 16 callers in flight, `reportUsageBulk` of 1,000, and `reportEvent` in
 * batches of 1,000.
 *
 * One throwaway PostgreSQL cluster (test/support/postgres-server.ts, durable settings: fsync and
 * synchronous_commit on; TESSERA_PG_URL when set), started for this process and stopped at the
 * end. No server: the script says so on stderr and exits 0 with no figures.
 *
 * Engines in this process on the bench catalog with the same 1,000 customers (views warm): one
 * on a fresh PostgreSQL schema (`postgresStore`, default pool of 10), one on a SQLite file
 * (durability 'normal', the default), and for single reports one on a SQLite file with durability
 * 'full' (a WAL sync at every commit, as PostgreSQL does here). Every measure runs the same calls
 * on each, taking turns sample by sample (harness.ts `compare`), so the SQLite engine is the
 * baseline measured under the same machine load. The workloads are those of report-usage.ts,
 * report-usage-bulk.ts and events.ts.
 *
 * Raw `pg` baselines, on a second schema with the store's own tables (made by opening a
 * postgresStore on it), through one `pg.Client` with named prepared statements, taking turns too:
 * - single reports: BEGIN, upsert the usage cell (INSERT ... ON CONFLICT DO UPDATE), insert the
 *   change row, COMMIT, one transaction per usage (the rows reportUsage writes), at the server's
 *   default READ COMMITTED;
 * - bulk: the same two statements per usage, 1,000 usages in one transaction;
 * - events: the same event rows as the engine's (same columns, random UUID keys, `on conflict
 *   (idempotency_key) do nothing`), one INSERT per event in one transaction, and, as the floor,
 *   one multi-row INSERT of the 1,000 rows (unnest of arrays). The store itself inserts events
 *   100 rows a statement; its remaining round trips are per customer and per usage cell.
 *
 * Write transactions on PostgreSQL are SERIALIZABLE and retried on serialization failures; the
 * engine's store is wrapped to count how often each write transaction ran, shown in the notes.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RawEvent, ReportUsageParams } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { sqliteStore } from '@tessera/sqlite';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.js';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { countedStore, dropSchemas, type Tally } from './pg-helpers.js';
import { compare, fmt, log, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 1_000;
const BATCH = 50;
const CONCURRENCY = 16;
/** Calls each of the 16 callers makes per batch. */
const PER_CALLER = 7;
const BULK = 1_000;
const EVENTS_PER_CUSTOMER = 10;
const EVENT_CUSTOMERS = 100;
const EVENT_BATCH = EVENTS_PER_CUSTOMER * EVENT_CUSTOMERS;
const ids = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i));
const payload = '{"resourceId":"","windowStart":0,"windowEnd":1,"value":1}';

const server = await startPostgres({ durable: true });
if (!server) {
  log('  postgres: skipped, no PostgreSQL server (no initdb/pg_ctl/postgres binaries found and TESSERA_PG_URL not set)');
  report([]);
  process.exit(0);
}

const figures: Figure[] = [];
const stamp = Date.now();
try {
  log(`  PostgreSQL ${server.version} (${server.kind})`);
  const tally: Tally = { transactions: 0, attempts: 0, reads: 0 };
  const pgEngine = await benchEngine(countedStore(postgresStore({ connectionString: server.url, schema: `bench_${stamp}` }), tally));
  const dir = tempDir();
  const sqEngine = await benchEngine(sqliteStore({ filename: join(dir, 'postgres-side.db') }));
  // Durability 'full' syncs the WAL at every commit, as PostgreSQL does; 'normal' does not.
  const sqFull = await benchEngine(sqliteStore({ filename: join(dir, 'postgres-side-full.db'), durability: 'full' }));
  const setup = await timed(async () => {
    // A few at a time: provisioning new customers side by side conflicts under SERIALIZABLE
    // (adjacent ids land on the same index page), and every conflict is a retry.
    await provisionCustomers(pgEngine, 0, CUSTOMERS, 4);
    await provisionCustomers(sqEngine, 0, CUSTOMERS);
    await provisionCustomers(sqFull, 0, CUSTOMERS);
    for (const engine of [pgEngine, sqEngine, sqFull]) {
      let next = 0;
      const worker = async () => {
        while (next < CUSTOMERS) await engine.getEntitlement({ customerId: ids[next++]!, featureId: 'api-calls' });
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    }
  });
  log(`  ${fmt(CUSTOMERS)} customers provisioned on both stores, views loaded, in ${(setup.ms / 1000).toFixed(1)} s (PostgreSQL: ${tally.attempts} attempts at ${tally.transactions} write transactions)`);

  // Raw pg: a schema with the store's tables, one client, named prepared statements.
  const rawSchema = `bench_${stamp}_raw`;
  const schemaStore = postgresStore({ connectionString: server.url, schema: rawSchema });
  await schemaStore.open();
  await schemaStore.close();
  const raw = new pg.Client({ connectionString: server.url, options: `-c search_path=${rawSchema}` });
  await raw.connect();
  const upsertUsage = {
    name: 'raw_upsert_usage',
    text: `insert into usage (customer_id, resource_id, entity_id, feature_id, window_start, window_end, value, count, sum, min, max, latest_at, latest_value, updated_at)
           values ($1, $2, '', $3, $4, $5, $6, 0, 0, null, null, null, null, $7)
           on conflict (customer_id, resource_id, entity_id, feature_id, window_start, window_end) do update set value = usage.value + excluded.value, updated_at = excluded.updated_at`,
  };
  const appendChange = { name: 'raw_append_change', text: 'insert into changes (at, kind, customer_id, entity_id, payload) values ($1, $2, $3, $4, $5)' };
  const insertEvent = {
    name: 'raw_insert_event',
    text: `insert into events (idempotency_key, customer_id, event_name, resource_id, dimensions, timestamp, received_at, unmatched_reason)
           values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (idempotency_key) do nothing`,
  };
  const insertEvents = {
    name: 'raw_insert_events',
    text: `insert into events (idempotency_key, customer_id, event_name, resource_id, dimensions, timestamp, received_at, unmatched_reason)
           select k, c, 'request', '', d, $4, $4, null from unnest($1::text[], $2::text[], $3::text[]) as t(k, c, d)
           on conflict (idempotency_key) do nothing`,
  };
  const usageRow = async (id: string, now: number) => {
    await raw.query({ ...upsertUsage, values: [id, '', 'api-calls', 0, 1, 1, now] });
    await raw.query({ ...appendChange, values: [now, 'usage.updated', id, 'api-calls', payload] });
  };

  // Per-case retry tallies: the write transactions and attempts each case's batches made.
  const retries = new Map<string, Tally>();
  const tallied = (name: string, batch: () => Promise<unknown>) => async () => {
    const t0 = { ...tally };
    await batch();
    const t = retries.get(name) ?? { transactions: 0, attempts: 0, reads: 0 };
    t.transactions += tally.transactions - t0.transactions;
    t.attempts += tally.attempts - t0.attempts;
    retries.set(name, t);
  };
  const retryNote = (name: string) => {
    const t = retries.get(name)!;
    return `${(t.attempts / t.transactions).toFixed(3)} attempts per write transaction (${fmt(t.attempts - t.transactions)} retries in ${fmt(t.transactions)})`;
  };

  // Measure 2: single reports.
  {
    const reporter = (engine: typeof pgEngine) => {
      let at = 0;
      const one = () => {
        const id = ids[at]!;
        if (++at === CUSTOMERS) at = 0;
        return engine.reportUsage({ customerId: id, featureId: 'api-calls', value: 1 });
      };
      return {
        sequential: async () => {
          for (let j = 0; j < BATCH; j++) await one();
        },
        concurrent: async () => {
          const worker = async () => {
            for (let j = 0; j < PER_CALLER; j++) await one();
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        },
      };
    };
    const p = reporter(pgEngine);
    const s = reporter(sqEngine);
    const full = reporter(sqFull);
    let at = 0;
    const rawSingles = async () => {
      for (let j = 0; j < BATCH; j++) {
        const id = ids[at]!;
        if (++at === CUSTOMERS) at = 0;
        await raw.query('BEGIN');
        await usageRow(id, Date.now());
        await raw.query('COMMIT');
      }
    };
    log('  reportUsage one by one and 16 in flight...');
    const r = await compare(
      [
        { name: 'pg', batch: tallied('pg', p.sequential), ops: BATCH },
        { name: 'sqlite', batch: s.sequential, ops: BATCH },
        { name: 'raw', batch: rawSingles, ops: BATCH },
        { name: 'sqliteFull', batch: full.sequential, ops: BATCH },
        { name: 'pg16', batch: tallied('pg16', p.concurrent), ops: CONCURRENCY * PER_CALLER },
        { name: 'sqlite16', batch: s.concurrent, ops: CONCURRENCY * PER_CALLER },
      ],
      { samples: 7 },
    );
    figures.push(
      {
        measure: 'reportUsage, awaited one by one, postgres store',
        result: r.pg!,
        unit: 'calls/s',
        baseline: { name: "the same on the sqlite store, durability 'normal'", result: r.sqlite! },
        ratio: 'ratio',
        target: 'information',
        notes: `${retryNote('pg')}; sqlite with durability 'full' (a WAL sync per commit, as PostgreSQL here): ${fmt(r.sqliteFull!)}/s, postgres at ${(r.pg! / r.sqliteFull!).toFixed(2)}x of it`,
      },
      {
        measure: 'reportUsage, awaited one by one, postgres store, against raw pg',
        result: r.pg!,
        unit: 'calls/s',
        baseline: { name: 'raw pg, same rows, one transaction each, one client', result: r.raw! },
        ratio: 'ratio',
        target: '>= 0.8x raw pg (issue 21)',
        met: r.pg! >= 0.8 * r.raw!,
      },
      {
        measure: `reportUsage, ${CONCURRENCY} callers in flight, postgres store (pool of 10)`,
        result: r.pg16!,
        unit: 'calls/s',
        baseline: { name: `the same on the sqlite store (group commit), durability 'normal'`, result: r.sqlite16! },
        ratio: 'ratio',
        target: 'information',
        notes: `${retryNote('pg16')}; ${(r.pg16! / r.pg!).toFixed(2)}x the postgres one-by-one figure`,
      },
    );
  }

  // Measure 3: bulk.
  {
    const usages: ReportUsageParams[] = ids.slice(0, BULK).map((id) => ({ customerId: id, featureId: 'api-calls', value: 1 }));
    const rawBulk = async () => {
      const now = Date.now();
      await raw.query('BEGIN');
      for (const u of usages) await usageRow(u.customerId, now);
      await raw.query('COMMIT');
    };
    log('  reportUsageBulk of 1,000...');
    const r = await compare(
      [
        { name: 'pg', batch: tallied('bulk', () => pgEngine.reportUsageBulk({ usages })), ops: BULK },
        { name: 'sqlite', batch: () => sqEngine.reportUsageBulk({ usages }), ops: BULK },
        { name: 'raw', batch: rawBulk, ops: BULK },
      ],
      { samples: 5, warmupMs: 200 },
    );
    figures.push(
      {
        measure: 'reportUsageBulk, 1,000 usages per call, postgres store',
        result: r.pg!,
        unit: 'rows/s',
        baseline: { name: 'the same on the sqlite store', result: r.sqlite! },
        ratio: 'ratio',
        target: 'information',
        notes: retryNote('bulk'),
      },
      {
        measure: 'reportUsageBulk, 1,000 usages per call, postgres store, against raw pg',
        result: r.pg!,
        unit: 'rows/s',
        baseline: { name: 'raw pg, same rows, one statement each, 1,000 per transaction', result: r.raw! },
        ratio: 'ratio',
        target: 'information',
      },
    );
  }

  // Measure 4: events.
  {
    let batchNo = 0;
    const eventBatch = (): RawEvent[] => {
      const first = (batchNo++ * EVENT_CUSTOMERS) % CUSTOMERS;
      const events: RawEvent[] = [];
      for (let c = 0; c < EVENT_CUSTOMERS; c++) {
        for (let e = 0; e < EVENTS_PER_CUSTOMER; e++) {
          events.push({ customerId: ids[first + c]!, eventName: 'request', idempotencyKey: randomUUID(), dimensions: { tokens: 100 + e } });
        }
      }
      return events;
    };
    const rawEach = async () => {
      const events = eventBatch();
      const now = Date.now();
      await raw.query('BEGIN');
      for (const e of events) {
        await raw.query({ ...insertEvent, values: [e.idempotencyKey, e.customerId, e.eventName, '', JSON.stringify(e.dimensions), now, now, null] });
      }
      await raw.query('COMMIT');
    };
    const rawMulti = async () => {
      const events = eventBatch();
      await raw.query({
        ...insertEvents,
        values: [events.map((e) => e.idempotencyKey), events.map((e) => e.customerId), events.map((e) => JSON.stringify(e.dimensions)), Date.now()],
      });
    };
    let accepted = 0;
    const ingest = (engine: typeof pgEngine) => async () => {
      accepted += (await engine.reportEvent(eventBatch())).accepted;
    };
    log('  reportEvent in batches of 1,000...');
    const r = await compare(
      [
        { name: 'pg', batch: tallied('events', ingest(pgEngine)), ops: EVENT_BATCH },
        { name: 'sqlite', batch: ingest(sqEngine), ops: EVENT_BATCH },
        { name: 'rawEach', batch: rawEach, ops: EVENT_BATCH },
        { name: 'rawMulti', batch: rawMulti, ops: EVENT_BATCH },
      ],
      { samples: 5, warmupMs: 200 },
    );
    log(`  ${fmt(accepted)} events accepted by the engines`);
    figures.push(
      {
        measure: 'reportEvent, batches of 1,000 (SUM + COUNT meters), postgres store',
        result: r.pg!,
        unit: 'events/s',
        baseline: { name: 'the same on the sqlite store', result: r.sqlite! },
        ratio: 'ratio',
        target: 'information',
        notes: retryNote('events'),
      },
      {
        measure: 'reportEvent, batches of 1,000, postgres store, against raw pg',
        result: r.pg!,
        unit: 'events/s',
        baseline: { name: 'raw pg, same event rows, one INSERT each, 1,000 per transaction', result: r.rawEach! },
        ratio: 'ratio',
        target: 'information',
      },
      {
        measure: 'raw pg event rows, one INSERT each, against one multi-row INSERT',
        result: r.rawEach!,
        unit: 'events/s',
        baseline: { name: 'raw pg, the same 1,000 rows in one INSERT ... SELECT FROM unnest(...)', result: r.rawMulti! },
        ratio: 'ratio',
        target: 'information',
      },
    );
  }

  await raw.end();
  await pgEngine.close();
  await sqEngine.close();
  await sqFull.close();
} finally {
  if (server.kind === 'external') await dropSchemas(server.url, [`bench_${stamp}`, `bench_${stamp}_raw`]);
  await server.stop();
}
report(figures);
