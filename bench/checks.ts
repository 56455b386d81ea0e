/**
 * Measure 1: warm entitlement checks.
 *
 * 10,000 customers on the bench plan; one pass of checks over every (customer, feature) before
 * timing loads every view and usage cell. A batch is 1,000 `await engine.getEntitlement(...)`
 * calls one after another (each awaited before the next starts, as a request handler would),
 * cycling through the customers with parameter objects built beforehand. The clock is the
 * system clock (one `Date.now()` per check, as in production).
 *
 * One store per process (`checks.ts memory`, `checks.ts sqlite`, `checks.ts postgres`; run.ts
 * runs all three): records read from different stores have different shapes, and a second engine
 * in the same process would run on inline caches made polymorphic by the first. `postgres` starts
 * a throwaway PostgreSQL cluster (durable settings; TESSERA_PG_URL when set) and skips, exiting 0,
 * when there is no server; warm checks are answered from the view, so they should match sqlite.
 *
 * Baseline: a plain synchronous `Map.get` of a precomputed answer, keyed by a precomputed string
 * per (customer, feature), over the same 10,000 customers, in batches of 1,000, taking turns with
 * the checks (harness.ts `compare`). Shown for information: the same Map.get awaited
 * (`await map.get(k)`), the floor of any async API.
 */
import { join } from 'node:path';
import { memoryStore, type Engine, type Entitlement, type GetEntitlementParams } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { sqliteStore } from '@tessera/sqlite';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.js';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { dropSchemas } from './pg-helpers.js';
import { compare, fmt, log, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 10_000;
/** On PostgreSQL, customers provisioned through the engine; the others are copies (copyCustomers). */
const SEED = 1_000;
const BATCH = 1_000;
const TARGET_OPS = 1_000_000;
const TARGET_SLOWDOWN = 20;

const dir = tempDir();
let sink = 0;

function mapBaseline(featureId: string) {
  const answers = new Map<string, { hasAccess: boolean; usage: number }>();
  const keys: string[] = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const k = `${customerId(i)}\u0000${featureId}`;
    keys.push(k);
    answers.set(k, { hasAccess: true, usage: i });
  }
  let at = 0;
  const sync = () => {
    for (let j = 0; j < BATCH; j++) {
      if (answers.get(keys[at]!)!.hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
  const awaited = async () => {
    for (let j = 0; j < BATCH; j++) {
      if ((await answers.get(keys[at]!))!.hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
  return { sync, awaited };
}

function checkBatch(engine: Engine, featureId: string) {
  const params: GetEntitlementParams[] = [];
  for (let i = 0; i < CUSTOMERS; i++) params.push({ customerId: customerId(i), featureId });
  let at = 0;
  return async () => {
    for (let j = 0; j < BATCH; j++) {
      const e: Entitlement = await engine.getEntitlement(params[at]!);
      if (e.hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

/**
 * Copies the SEED provisioned customers and their subscriptions to ids SEED...CUSTOMERS - 1 in a
 * PostgreSQL schema (as memory.ts does on SQLite): copy k of customer j becomes customerId(k *
 * SEED + j), a subscription id gets `~k` appended, every other column is copied as it is.
 */
async function copyCustomers(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    const columns = async (table: string) =>
      (
        await client.query<{ name: string }>(
          'select column_name as name from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position',
          [schema, table],
        )
      ).rows.map((r) => r.name);
    const newCustomerId = `'cust-' || lpad((k * ${SEED} + substr(customer_id, 6)::int)::text, 7, '0')`;
    await client.query('begin');
    for (const [table, idColumn] of [['customers', 'customer_id'], ['subscriptions', 'id']] as const) {
      const cols = await columns(table);
      const select = cols.map((c) => (c === 'customer_id' ? newCustomerId : c === idColumn ? `${c} || '~' || k` : c));
      await client.query(`insert into ${table} (${cols.join(', ')}) select ${select.join(', ')} from ${table}, generate_series(1, ${CUSTOMERS / SEED - 1}) as k`);
    }
    await client.query('commit');
    const n = Number((await client.query<{ n: string }>('select count(*) as n from customers')).rows[0]!.n);
    if (n !== CUSTOMERS) throw new Error(`expected ${CUSTOMERS} customers, found ${n}`);
  } finally {
    await client.end();
  }
}

const figures: Figure[] = [];
const kind = process.argv[2] ?? 'memory';
if (kind !== 'memory' && kind !== 'sqlite' && kind !== 'postgres') throw new Error(`checks.ts: store "${kind}"; use memory, sqlite or postgres`);
const server = kind === 'postgres' ? await startPostgres({ durable: true }) : undefined;
const schema = `bench_${Date.now()}`;
if (kind === 'postgres' && !server) log('  postgres: skipped, no PostgreSQL server (no initdb/pg_ctl/postgres binaries found and TESSERA_PG_URL not set)');
else {
  try {
    const store =
      kind === 'memory'
        ? memoryStore()
        : kind === 'sqlite'
          ? sqliteStore({ filename: join(dir, 'checks.db') })
          : postgresStore({ connectionString: server!.url, schema });
    const engine = await benchEngine(store, { maxCustomers: 100_000 });
    const setup = await timed(async () => {
      if (kind !== 'postgres') return provisionCustomers(engine, 0, CUSTOMERS);
      // PostgreSQL serialises provisioning at a few hundred a second here (a commit each, and
      // retries when new ids share an index page), so as memory.ts does: SEED customers through
      // the engine, copied to the rest with one INSERT ... SELECT per table.
      await provisionCustomers(engine, 0, SEED, 4);
      await copyCustomers(server!.url, schema);
    });
    // Loads every view and usage cell; on PostgreSQL each load is a read transaction over the
    // network, so 16 go at a time (only the timed checks below must be awaited one by one).
    const warm = await timed(async () => {
      for (const f of ['api-calls', 'sso']) {
        let next = 0;
        const worker = async () => {
          while (next < CUSTOMERS) await engine.getEntitlement({ customerId: customerId(next++), featureId: f });
        };
        await Promise.all(Array.from({ length: kind === 'postgres' ? 16 : 1 }, worker));
      }
    });
    log(
      `  ${kind}: ${fmt(CUSTOMERS)} customers provisioned in ${(setup.ms / 1000).toFixed(1)} s, views loaded in ${(warm.ms / 1000).toFixed(1)} s; ${fmt(engine.cachedCustomers)} views cached, heap ${fmt(process.memoryUsage().heapUsed / 2 ** 20)} MiB`,
    );
    for (const [featureId, type] of [['api-calls', 'METERED (monthly window)'], ['sso', 'BOOLEAN']] as const) {
      const base = mapBaseline(featureId);
      const r = await compare([
        { name: 'check', batch: checkBatch(engine, featureId), ops: BATCH },
        { name: 'map', batch: base.sync, ops: BATCH },
        { name: 'awaited', batch: base.awaited, ops: BATCH },
      ]);
      const slowdown = r.map! / r.check!;
      figures.push({
        measure: `warm getEntitlement, ${type}, ${kind} store`,
        result: r.check!,
        unit: 'checks/s',
        baseline: { name: 'Map.get of a precomputed answer', result: r.map! },
        ratio: 'slowdown',
        target: '>= 1,000,000/s, within 20x of Map.get',
        met: r.check! >= TARGET_OPS && slowdown <= TARGET_SLOWDOWN,
        notes: `awaited Map.get ${fmt(r.awaited!)}/s`,
      });
    }
    await engine.close();
  } finally {
    if (server?.kind === 'external') await dropSchemas(server.url, [schema]);
    await server?.stop();
  }
}

if (sink === -1) console.log(sink);
report(figures);
