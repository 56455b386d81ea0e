/**
 * Measure 6: resident memory of the in-memory view.
 *
 * A SQLite file with 100,000 customers on the bench plan (10 features each) is built first:
 * 1,000 are provisioned through the engine, then their customer and subscription rows are copied
 * 99 times under new ids with one INSERT ... SELECT per table (seconds, where provisioning all
 * 100,000 one by one would take most of a minute here). Then two fresh child processes (run
 * with --expose-gc) open an engine on it and are measured:
 *
 * - `resolved`: `cache.maxCustomers` 200,000; after `global.gc()`, RSS and heapUsed are taken as
 *   the baseline; then one check per customer (BOOLEAN `sso`), which loads the customer and its
 *   subscriptions into the view and resolves all 10 entitlements of the plan; after
 *   `global.gc()` again, the growth over the baseline is divided by the 1,000,000 resolved
 *   entitlements. The store itself stays in SQLite, off the JS heap. (Usage cells, cached once a
 *   METERED feature is checked, come on top: about one small object per checked feature.)
 * - `bounded`: `cache.maxCustomers` 10,000 and the same 100,000 distinct customers checked;
 *   memory is sampled after 25,000, 50,000 and 100,000 customers: it must stop growing once the
 *   view is full (the growth from 50,000 to 100,000 customers stays small).
 * - `every`: like `resolved`, but each of the first 20,000 customers has all 10 features checked
 *   (a check slot per feature, the METERED ones' usage cells read from the store and cached):
 *   what a view costs once everything in it has been asked for.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqliteStore } from '@tessera/sqlite';
import BetterSqlite3 from 'better-sqlite3';
import { benchCatalog, benchEngine, customerId, FEATURES_PER_CUSTOMER, provisionCustomers } from './catalog.js';
import { fmt, log, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 100_000;
const SEED = 1_000;
const BOUNDED = 10_000;
const MiB = 1024 * 1024;

interface Sample {
  rss: number;
  heapUsed: number;
}

function sample(): Sample {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/** Customers whose every feature the `every` child checks (each METERED check reads its usage cell from the store). */
const EVERY_CUSTOMERS = 20_000;

/**
 * In a child process: load the view of every customer and report the growth. With `every`, each
 * of the first EVERY_CUSTOMERS customers has every feature of the plan checked instead (a check
 * slot per feature, the usage cells of the METERED ones).
 */
async function child(filename: string, maxCustomers: number, every: boolean): Promise<void> {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') throw new Error('run with --expose-gc');
  const engine = await benchEngine(sqliteStore({ filename }), { maxCustomers });
  // Warm the code paths (and SQLite's page cache) on a few customers, then forget them.
  for (let i = 0; i < 100; i++) await engine.getEntitlements({ customerId: customerId(i) });
  await engine.close();
  const measured = await benchEngine(sqliteStore({ filename }), { maxCustomers });
  const before = sample();
  const at: Record<number, Sample> = {};
  const features = benchCatalog.features.map((f) => f.id);
  const t = await timed(async () => {
    if (every) {
      for (let i = 0; i < EVERY_CUSTOMERS; i++) {
        for (const featureId of features) {
          const e = await measured.getEntitlement({ customerId: customerId(i), featureId });
          if (!e.hasAccess) throw new Error(`customer ${i}, ${featureId}: ${e.accessDeniedReason}`);
        }
      }
      return;
    }
    for (let i = 0; i < CUSTOMERS; i++) {
      const e = await measured.getEntitlement({ customerId: customerId(i), featureId: 'sso' });
      if (!e.hasAccess) throw new Error(`customer ${i}: ${e.accessDeniedReason}`);
      if ((i + 1) % (CUSTOMERS / 4) === 0 && i + 1 < CUSTOMERS) at[i + 1] = sample();
    }
  });
  const after = sample();
  const cached = measured.cachedCustomers;
  console.log(JSON.stringify({ before, after, at, cached, ms: t.ms }));
  await measured.close();
}

/**
 * Copies the SEED provisioned customers and their subscriptions to ids SEED...CUSTOMERS - 1: copy k
 * of customer j becomes customerId(k * SEED + j); a subscription id gets `~k` appended. Every
 * other column is copied as it is, whatever the schema version.
 */
function copyCustomers(filename: string): void {
  const db = new BetterSqlite3(filename);
  try {
    const columns = (table: string) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
    const newCustomerId = `printf('cust-%07d', k.i * ${SEED} + cast(substr(customer_id, 6) as integer))`;
    db.exec(`create temp table k (i integer primary key)`);
    const addCopy = db.prepare('insert into k (i) values (?)');
    for (let i = 1; i < CUSTOMERS / SEED; i++) addCopy.run(i);
    db.transaction(() => {
      for (const [table, idColumn] of [['customers', 'customer_id'], ['subscriptions', 'id']] as const) {
        const cols = columns(table);
        const select = cols.map((c) => (c === 'customer_id' ? newCustomerId : c === idColumn ? `${c} || '~' || k.i` : c));
        db.exec(`insert into ${table} (${cols.join(', ')}) select ${select.join(', ')} from ${table}, k`);
      }
    })();
    const n = (db.prepare('select count(*) from customers').pluck().get() as number) ?? 0;
    if (n !== CUSTOMERS) throw new Error(`expected ${CUSTOMERS} customers, found ${n}`);
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const dir = tempDir();
  const filename = join(dir, 'memory.db');
  const setup = await timed(async () => {
    const engine = await benchEngine(sqliteStore({ filename }));
    await provisionCustomers(engine, 0, SEED, 64);
    await engine.close();
    copyCustomers(filename);
  });
  log(`  ${fmt(SEED)} customers provisioned and copied to ${fmt(CUSTOMERS)} in ${(setup.ms / 1000).toFixed(1)} s`);

  const runChild = (maxCustomers: number, every = false) => {
    const out = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), 'child', filename, String(maxCustomers), every ? 'every' : 'one'], {
      encoding: 'utf8',
      maxBuffer: 16 * MiB,
    });
    if (out.status !== 0) throw new Error(`memory child failed: ${out.stderr}`);
    const line = out.stdout.trim().split('\n').pop()!;
    return JSON.parse(line) as { before: Sample; after: Sample; at: Record<number, Sample>; cached: number; ms: number };
  };

  const full = runChild(CUSTOMERS * 2);
  const bounded = runChild(BOUNDED);
  const everyRun = runChild(CUSTOMERS * 2, true);
  const entitlements = full.cached * FEATURES_PER_CUSTOMER;
  const grow = (r: typeof full) => ({ rss: r.after.rss - r.before.rss, heap: r.after.heapUsed - r.before.heapUsed });
  const ge = grow(everyRun);
  const everyEntitlements = everyRun.cached * FEATURES_PER_CUSTOMER;
  const g = grow(full);
  const gb = grow(bounded);
  const half = bounded.at[CUSTOMERS / 2]!;
  const lateGrowth = bounded.after.rss - half.rss;
  log(`  resolved: ${fmt(full.cached)} views in ${(full.ms / 1000).toFixed(1)} s; bounded: ${fmt(bounded.cached)} views kept after ${fmt(CUSTOMERS)} customers`);
  log(
    `  bounded RSS growth at 25k/50k/75k/100k customers: ${[25_000, 50_000, 75_000].map((n) => fmt((bounded.at[n]!.rss - bounded.before.rss) / MiB)).join(' / ')} / ${fmt(gb.rss / MiB)} MiB`,
  );
  const perEntitlement = g.rss / entitlements;
  const perCheckedEntitlement = ge.rss / everyEntitlements;
  const figures: Figure[] = [
    {
      measure: `resident memory per resolved entitlement, ${fmt(CUSTOMERS)} customers x ${FEATURES_PER_CUSTOMER} features (RSS growth / entitlements)`,
      result: perEntitlement,
      unit: 'bytes',
      baseline: { name: `the same with every feature checked (a slot and usage cell each), ${fmt(EVERY_CUSTOMERS)} customers`, result: perCheckedEntitlement },
      ratio: 'ratio',
      target: '<= 300 bytes',
      met: perEntitlement <= 300,
      notes: `every feature checked: ${fmt(perCheckedEntitlement)} bytes of RSS and ${fmt(ge.heap / everyEntitlements)} of heap per entitlement, ${fmt(everyRun.cached)} views in ${(everyRun.ms / 1000).toFixed(1)} s`,
    },
    {
      measure: `resident memory, ${fmt(CUSTOMERS)} customers x ${FEATURES_PER_CUSTOMER} features resolved in the view (RSS growth)`,
      result: g.rss / MiB,
      unit: 'MiB',
      baseline: { name: 'RSS before loading', result: full.before.rss / MiB },
      ratio: 'ratio',
      target: 'information',
      notes: `${fmt(g.rss / entitlements)} bytes of RSS and ${fmt(g.heap / entitlements)} of heap per resolved entitlement; heapUsed +${fmt(g.heap / MiB)} MiB`,
    },
    {
      measure: `resident memory, bounded view (maxCustomers ${fmt(BOUNDED)}), ${fmt(CUSTOMERS)} distinct customers checked (RSS growth)`,
      result: gb.rss / MiB,
      unit: 'MiB',
      baseline: { name: 'RSS growth with every customer resident', result: g.rss / MiB },
      ratio: 'ratio',
      target: 'stays bounded: no growth from 50,000 to 100,000 customers',
      met: bounded.cached <= BOUNDED && lateGrowth <= 0.05 * g.rss + 8 * MiB,
      notes: `${fmt(bounded.cached)} views kept; RSS +${fmt(lateGrowth / MiB)} MiB from 50,000 to 100,000 customers; heapUsed +${fmt(gb.heap / MiB)} MiB`,
    },
  ];
  report(figures);
}

if (process.argv[2] === 'child') await child(process.argv[3]!, Number(process.argv[4]), process.argv[5] === 'every');
else await main();

