/**
 * Measure 1: warm entitlement checks.
 *
 * 10,000 customers on the bench plan; one pass of checks over every (customer, feature) before
 * timing loads every view and usage cell. A batch is 1,000 `await engine.getEntitlement(...)`
 * calls one after another (each awaited before the next starts, as a request handler would),
 * cycling through the customers with parameter objects built beforehand. The clock is the
 * system clock (one `Date.now()` per check, as in production).
 *
 * One store per process (`checks.ts memory`, `checks.ts sqlite`; run.ts runs both): records
 * read from different stores have different shapes, and a second engine in the same process
 * would run on inline caches made polymorphic by the first.
 *
 * Baseline: a plain synchronous `Map.get` of a precomputed answer, keyed by a precomputed string
 * per (customer, feature), over the same 10,000 customers, in batches of 1,000, taking turns with
 * the checks (harness.ts `compare`). Shown for information: the same Map.get awaited
 * (`await map.get(k)`), the floor of any async API.
 */
import { join } from 'node:path';
import { memoryStore, type Engine, type Entitlement, type GetEntitlementParams } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 10_000;
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

const figures: Figure[] = [];
const kind = process.argv[2] ?? 'memory';
if (kind !== 'memory' && kind !== 'sqlite') throw new Error(`checks.ts: store "${kind}"; use memory or sqlite`);
{
  const store = kind === 'memory' ? memoryStore() : sqliteStore({ filename: join(dir, 'checks.db') });
  const engine = await benchEngine(store, { maxCustomers: 100_000 });
  const setup = await timed(() => provisionCustomers(engine, 0, CUSTOMERS));
  for (const f of ['api-calls', 'sso']) for (let i = 0; i < CUSTOMERS; i++) await engine.getEntitlement({ customerId: customerId(i), featureId: f });
  log(`  ${kind}: ${fmt(CUSTOMERS)} customers provisioned in ${(setup.ms / 1000).toFixed(1)} s; ${fmt(engine.cachedCustomers)} views cached`);
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
}

if (sink === -1) console.log(sink);
report(figures);
