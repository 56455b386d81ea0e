/**
 * Rollover of unused allowance (docs/rollovers.md): a warm check and a consumeUsage on a feature
 * that rolls over against the same on a feature with the same limit and no rollover, same engine,
 * same customers, same run.
 *
 * 10,000 customers on a plan granting both features (MONTH windows), memory store, a test clock
 * standing 12 months after the subscriptions started, so the ledger has 12 closed windows to read.
 * One pass over every (customer, feature) before timing loads every view, usage cell and carried
 * balance. A batch is 1,000 awaited `getEntitlement` calls, or 1,000 awaited `consumeUsage` of 1
 * unit, cycling through the customers. The two cases take turns sample by sample (harness.ts
 * `compare`); each ratio is the plain rate over the rollover rate.
 */
import { createEngine, memoryStore, testClock, type Engine } from '@tessera/core';
import { compare, fmt, log, report, timed, type Figure } from './harness.js';

const CUSTOMERS = 10_000;
const BATCH = 1_000;
let sink = 0;

const customerId = (i: number): string => `cust-${String(i).padStart(7, '0')}`;

function checkBatch(engine: Engine, featureId: string) {
  let at = 0;
  return async () => {
    for (let j = 0; j < BATCH; j++) {
      if ((await engine.getEntitlement({ customerId: customerId(at), featureId })).hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

function consumeBatch(engine: Engine, featureId: string) {
  let at = 0;
  return async () => {
    for (let j = 0; j < BATCH; j++) {
      sink += (await engine.consumeUsage({ customerId: customerId(at), featureId, amount: 1 })).granted;
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

const clock = testClock('2025-01-01T00:00:00Z');
const engine = await createEngine({
  store: memoryStore(),
  clock,
  cache: { maxCustomers: 100_000 },
  catalog: {
    features: [
      { id: 'plain', type: 'METERED' },
      { id: 'rolling', type: 'METERED' },
    ],
    products: [{ id: 'app', defaultPlanId: 'standard' }],
    plans: [
      {
        id: 'standard',
        productId: 'app',
        pricingType: 'FREE',
        entitlements: [
          { featureId: 'plain', usageLimit: 10_000_000, resetPeriod: 'MONTH' },
          { featureId: 'rolling', usageLimit: 10_000_000, resetPeriod: 'MONTH', rollover: { max: 5_000_000, expiresAfter: 2 } },
        ],
      },
    ],
  },
});
const setup = await timed(async () => {
  for (let i = 0; i < CUSTOMERS; i++) await engine.provisionCustomer({ customerId: customerId(i) });
  clock.set('2026-01-15T00:00:00Z');
  for (let i = 0; i < CUSTOMERS; i++) {
    await engine.reportUsage({ customerId: customerId(i), featureId: 'plain', value: i % 100 });
    await engine.reportUsage({ customerId: customerId(i), featureId: 'rolling', value: i % 100 });
  }
  for (const f of ['plain', 'rolling']) for (let i = 0; i < CUSTOMERS; i++) await engine.getEntitlement({ customerId: customerId(i), featureId: f });
});
log(`  rollover: ${fmt(CUSTOMERS)} customers provisioned, used and checked in ${(setup.ms / 1000).toFixed(1)} s`);
const checks = await compare([
  { name: 'plain', batch: checkBatch(engine, 'plain'), ops: BATCH },
  { name: 'rolling', batch: checkBatch(engine, 'rolling'), ops: BATCH },
]);
const consumes = await compare([
  { name: 'plain', batch: consumeBatch(engine, 'plain'), ops: BATCH },
  { name: 'rolling', batch: consumeBatch(engine, 'rolling'), ops: BATCH },
]);
await engine.close();
const figures: Figure[] = [
  {
    measure: 'warm getEntitlement, METERED with a rollover (12 closed MONTH windows), memory store',
    result: checks.rolling!,
    unit: 'checks/s',
    baseline: { name: 'the same check on a feature without rollover', result: checks.plain! },
    ratio: 'slowdown',
    target: 'information (docs/rollovers.md)',
  },
  {
    measure: 'consumeUsage of 1, METERED with a rollover (12 closed MONTH windows), memory store',
    result: consumes.rolling!,
    unit: 'calls/s',
    baseline: { name: 'the same call on a feature without rollover', result: consumes.plain! },
    ratio: 'slowdown',
    target: 'information (docs/rollovers.md)',
  },
];
if (sink === -1) console.log(sink);
report(figures);
