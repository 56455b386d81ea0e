/**
 * Several limits on one feature (docs/limits.md): a warm check on a feature with three limits
 * (HOUR, DAY and MONTH) against a warm check on a feature with one (MONTH), same engine, same
 * customers, same run.
 *
 * 10,000 customers on a plan granting both features, memory store, system clock. One pass over
 * every (customer, feature) before timing loads every view and usage cell. A batch is 1,000
 * awaited `getEntitlement` calls cycling through the customers (as checks.ts). The two cases take
 * turns sample by sample (harness.ts `compare`); the ratio is the one-limit rate over the
 * three-limit rate.
 */
import { createEngine, memoryStore, type Engine, type GetEntitlementParams } from '@tessera/core';
import { compare, fmt, log, report, timed, type Figure } from './harness.js';

const CUSTOMERS = 10_000;
const BATCH = 1_000;
let sink = 0;

const customerId = (i: number): string => `cust-${String(i).padStart(7, '0')}`;

function checkBatch(engine: Engine, featureId: string) {
  const params: GetEntitlementParams[] = [];
  for (let i = 0; i < CUSTOMERS; i++) params.push({ customerId: customerId(i), featureId });
  let at = 0;
  return async () => {
    for (let j = 0; j < BATCH; j++) {
      if ((await engine.getEntitlement(params[at]!)).hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

const engine = await createEngine({
  store: memoryStore(),
  cache: { maxCustomers: 100_000 },
  catalog: {
    features: [
      { id: 'one', type: 'METERED' },
      { id: 'three', type: 'METERED' },
    ],
    products: [{ id: 'app', defaultPlanId: 'standard' }],
    plans: [
      {
        id: 'standard',
        productId: 'app',
        pricingType: 'FREE',
        entitlements: [
          { featureId: 'one', usageLimit: 100_000, resetPeriod: 'MONTH' },
          {
            featureId: 'three',
            usageLimit: 1_000,
            resetPeriod: 'HOUR',
            limits: [
              { usageLimit: 10_000, resetPeriod: 'DAY' },
              { usageLimit: 100_000, resetPeriod: 'MONTH' },
            ],
          },
        ],
      },
    ],
  },
});
const setup = await timed(async () => {
  for (let i = 0; i < CUSTOMERS; i++) {
    await engine.provisionCustomer({ customerId: customerId(i) });
    await engine.reportUsage({ customerId: customerId(i), featureId: 'one', value: i % 100 });
    await engine.reportUsage({ customerId: customerId(i), featureId: 'three', value: i % 100 });
  }
  for (const f of ['one', 'three']) for (let i = 0; i < CUSTOMERS; i++) await engine.getEntitlement({ customerId: customerId(i), featureId: f });
});
log(`  multi-limits: ${fmt(CUSTOMERS)} customers provisioned, used and checked in ${(setup.ms / 1000).toFixed(1)} s`);
const r = await compare([
  { name: 'one', batch: checkBatch(engine, 'one'), ops: BATCH },
  { name: 'three', batch: checkBatch(engine, 'three'), ops: BATCH },
]);
await engine.close();
const figures: Figure[] = [
  {
    measure: 'warm getEntitlement, METERED with three limits (HOUR, DAY, MONTH), memory store',
    result: r.three!,
    unit: 'checks/s',
    baseline: { name: 'the same check on a feature with one limit (MONTH)', result: r.one! },
    ratio: 'slowdown',
    target: 'information (docs/limits.md)',
  },
];
if (sink === -1) console.log(sink);
report(figures);
