/**
 * `getSubscriptions` paging through 10,000 subscriptions on a SQLite file.
 *
 * 10,000 customers are provisioned through the engine (64 calls in flight), every other one with
 * `subscriptionParams: { planId: 'basic' }` and the rest on the default plan, so the file holds
 * 10,000 subscriptions, 5,000 of them on 'basic'; many share a `createdAt` millisecond, so the
 * cursor's id tie-break is exercised. One pass pages through all of them with
 * `engine.getSubscriptions({ sort: { field: 'createdAt', direction: 'ASC' }, first: 100, after })`,
 * each page awaited before the next; the filtered pass adds `filter: { planId: { eq: 'basic' } }`.
 * Before timing, one pass of each kind checks that every subscription is visited exactly once
 * (and in createdAt order); every timed pass checks the row count. Any miss exits non-zero.
 *
 * Baseline, taking turns with the engine in the same process, on the same file (a second
 * connection): raw better-sqlite3 keyset paging over the `subscriptions` table with one prepared
 * statement, `SELECT <the store's columns> ... WHERE (created_at, id) > (?, ?) ORDER BY
 * created_at, id LIMIT 100` (plus `plan_id = ?` for the filtered pass), rows as arrays.
 */
import { join } from 'node:path';
import { createEngine, type CatalogDefinition, type Engine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import BetterSqlite3 from 'better-sqlite3';
import { benchCatalog, customerId } from './catalog.js';
import { compare, fmt, log, report, tempDir, timed } from './harness.js';

const SUBSCRIPTIONS = 10_000;
const PAGE = 100;
const BASIC = SUBSCRIPTIONS / 2;
const dir = tempDir();
const filename = join(dir, 'subscriptions.db');

/** The bench catalog plus a second free plan of the same product, for the filtered pass. */
const catalog: CatalogDefinition = {
  ...benchCatalog,
  plans: [...benchCatalog.plans!, { id: 'basic', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'sso' }] }],
};

const engine: Engine = await createEngine({ store: sqliteStore({ filename }), catalog });
const setup = await timed(async () => {
  let next = 0;
  const worker = async () => {
    while (next < SUBSCRIPTIONS) {
      const i = next++;
      await engine.provisionCustomer(i % 2 === 0 ? { customerId: customerId(i), subscriptionParams: { planId: 'basic' } } : { customerId: customerId(i) });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
});
log(`  setup: ${fmt(SUBSCRIPTIONS)} customers and subscriptions provisioned in ${(setup.ms / 1000).toFixed(1)} s`);

const db = new BetterSqlite3(filename);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const COLUMNS = `id, customer_id, product_id, plan_id, plan_version, catalog_version, resource_id, billing_period, status,
  start_date, billing_anchor, usage_anchor, trial_end_date, end_date, cancellation_date, addons, billable_features,
  promotion_code, billing_country_code, scheduled_updates, metadata, created_at, updated_at, promotion_applied_at`;
const rawAll = db
  .prepare(`select ${COLUMNS} from subscriptions where (created_at, id) > (?, ?) order by created_at, id limit ${PAGE}`)
  .raw(true);
const rawBasic = db
  .prepare(`select ${COLUMNS} from subscriptions where plan_id = ? and (created_at, id) > (?, ?) order by created_at, id limit ${PAGE}`)
  .raw(true);
const ID = 0;
const PLAN = 3;
const CREATED = 21;

const total = (db.prepare('select count(*) from subscriptions').pluck().get() as number);
const basicTotal = (db.prepare(`select count(*) from subscriptions where plan_id = 'basic'`).pluck().get() as number);
if (total !== SUBSCRIPTIONS || basicTotal !== BASIC) {
  log(`  setup wrote ${total} subscriptions (${basicTotal} on basic), expected ${SUBSCRIPTIONS} (${BASIC})`);
  process.exit(1);
}

type Visit = (id: string, createdAt: number, planId: string) => void;

/** One engine pass; returns the number of rows paged, calling `visit` on each. */
async function enginePass(filtered: boolean, visit?: Visit): Promise<number> {
  let after: string | undefined;
  let n = 0;
  for (;;) {
    const page = await engine.getSubscriptions({
      ...(filtered ? { filter: { planId: { eq: 'basic' } } } : {}),
      sort: { field: 'createdAt', direction: 'ASC' },
      first: PAGE,
      ...(after !== undefined ? { after } : {}),
    });
    n += page.data.length;
    if (visit) for (const s of page.data) visit(s.id, s.createdAt.getTime(), s.planId);
    if (!page.pageInfo.hasNextPage) return n;
    after = page.pageInfo.endCursor!;
  }
}

/** One raw keyset pass; returns the number of rows paged, calling `visit` on each. */
function rawPass(filtered: boolean, visit?: Visit): number {
  let at = -1;
  let id = '';
  let n = 0;
  for (;;) {
    const rows = (filtered ? rawBasic.all('basic', at, id) : rawAll.all(at, id)) as unknown[][];
    n += rows.length;
    if (visit) for (const r of rows) visit(r[ID] as string, r[CREATED] as number, r[PLAN] as string);
    if (rows.length < PAGE) return n;
    const last = rows[rows.length - 1]!;
    at = last[CREATED] as number;
    id = last[ID] as string;
  }
}

/** Checks that a pass visits every expected subscription exactly once, in (createdAt, id) order. */
async function verify(name: string, filtered: boolean, pass: (filtered: boolean, visit: Visit) => number | Promise<number>): Promise<void> {
  const seen = new Map<string, number>();
  let prev = -Infinity;
  let errors = 0;
  const n = await pass(filtered, (id, createdAt, planId) => {
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (createdAt < prev || (filtered && planId !== 'basic')) errors++;
    prev = createdAt;
  });
  const expected = filtered ? BASIC : SUBSCRIPTIONS;
  const twice = [...seen.values()].filter((c) => c > 1).length;
  if (n !== expected || seen.size !== expected || twice > 0 || errors > 0) {
    log(`  ${name}: ${n} rows, ${seen.size} distinct of ${expected} expected, ${twice} visited more than once, ${errors} out of order or off the filter`);
    process.exit(1);
  }
}
await verify('engine, all', false, enginePass);
await verify('engine, planId basic', true, enginePass);
await verify('raw, all', false, rawPass);
await verify('raw, planId basic', true, rawPass);

/** A timed pass that still fails the run if a row goes missing or comes twice. */
const counted = (n: number, expected: number, name: string) => {
  if (n !== expected) {
    log(`  ${name}: a timed pass paged ${n} rows, expected ${expected}`);
    process.exit(1);
  }
};
const r = await compare([
  { name: 'engine', batch: async () => counted(await enginePass(false), SUBSCRIPTIONS, 'engine'), ops: SUBSCRIPTIONS },
  { name: 'raw', batch: () => counted(rawPass(false), SUBSCRIPTIONS, 'raw'), ops: SUBSCRIPTIONS },
  { name: 'engineBasic', batch: async () => counted(await enginePass(true), BASIC, 'engine, basic'), ops: BASIC },
  { name: 'rawBasic', batch: () => counted(rawPass(true), BASIC, 'raw, basic'), ops: BASIC },
]);
await engine.close();
db.close();

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x of raw`;
const setupNote = `${ratio(r.engine!, r.raw!)}; setup ${(setup.ms / 1000).toFixed(1)} s for ${fmt(SUBSCRIPTIONS)} provisionCustomer calls; every subscription visited exactly once`;
report([
  {
    measure: 'getSubscriptions, pages of 100, createdAt ASC, 10,000 subscriptions',
    result: r.engine!,
    unit: 'subscriptions/s',
    baseline: { name: 'raw better-sqlite3 keyset paging, same file, 100 per page', result: r.raw! },
    ratio: 'ratio',
    target: 'information',
    notes: setupNote,
  },
  {
    measure: "getSubscriptions, pages of 100, createdAt ASC, filter planId eq 'basic' (5,000 of 10,000)",
    result: r.engineBasic!,
    unit: 'subscriptions/s',
    baseline: { name: 'raw better-sqlite3 keyset paging with plan_id = ?, same file', result: r.rawBasic! },
    ratio: 'ratio',
    target: 'information',
    notes: ratio(r.engineBasic!, r.rawBasic!),
  },
]);
