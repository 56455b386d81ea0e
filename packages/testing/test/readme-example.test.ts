// The example of packages/testing/README.md, kept runnable: a team's property tests of its own catalog.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, memoryStore, type CatalogDefinition, type PriceDefinition } from '@tessera/core';
import {
  arbInstant,
  arbScenario,
  checkEngineAgainstModel,
  formatTimeline,
  playTimeline,
  prorationOfWholePeriodEqualsPrice,
  runPricingTimeline,
  testClock,
  totalsNeverNegative,
  volumeCliffs,
} from '@tessera/testing';

// Seats in volume tiers, API calls billed in arrears past 100,000 a month.
const seats: PriceDefinition = {
  billingPeriod: 'MONTHLY',
  billingModel: 'PER_UNIT',
  featureId: 'seats',
  currency: 'USD',
  tiersMode: 'VOLUME',
  tiers: [
    { upTo: 10, unitAmount: '12.00' },
    { upTo: 100, unitAmount: '10.00', flatAmount: '20.00' },
    { upTo: null, unitAmount: '8.00', flatAmount: '220.00' },
  ],
};

const catalog: CatalogDefinition = {
  features: [
    { id: 'seats', type: 'NUMERIC', units: 'seat', unitsPlural: 'seats' },
    { id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
    { id: 'sso', type: 'BOOLEAN' },
  ],
  products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free', startWith: 'FREE_PLAN' }],
  plans: [
    { id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 1000, resetPeriod: 'MONTH' }] },
    {
      id: 'team',
      productId: 'app',
      parentPlanId: 'free',
      pricingType: 'PAID',
      entitlements: [{ featureId: 'sso' }, { featureId: 'api-calls', usageLimit: 100_000, hasSoftLimit: true, resetPeriod: 'MONTH' }],
      prices: [
        seats,
        {
          billingPeriod: 'MONTHLY',
          billingModel: 'USAGE_BASED',
          featureId: 'api-calls',
          currency: 'USD',
          tiersMode: 'GRADUATED',
          tiers: [{ upTo: 100_000, unitAmount: '0' }, { upTo: null, unitAmount: '0.001' }],
        },
      ],
    },
  ],
  coupons: [{ id: 'launch', type: 'PERCENTAGE', value: '20', durationInMonths: 3 }],
  promotionCodes: [{ code: 'LAUNCH20', couponId: 'launch' }],
};

describe('our pricing', () => {
  it('never makes n + 1 seats cheaper than n', () => {
    // 100 seats: 100 x 10.00 + 20.00 = 1,020.00; 101 seats: 101 x 8.00 + 220.00 = 1,028.00.
    expect(volumeCliffs(seats)).toEqual([]);
  });

  it('bills a whole month at the full price, whatever day and month it starts', () => {
    fc.assert(
      fc.property(arbInstant(), fc.integer({ min: 1, max: 500 }), (start, quantity) => {
        prorationOfWholePeriodEqualsPrice({ price: seats, start, quantity });
      }),
    );
  });

  it('bills what it estimates, never a negative total, over random timelines', async () => {
    await fc.assert(
      fc.asyncProperty(arbScenario(catalog), async (timeline) => {
        const clock = testClock(timeline[0]!.at!);
        const engine = await createEngine({ store: memoryStore(), catalog, clock });
        try {
          const { rows } = await playTimeline(engine, clock, timeline, { onError: 'record', checkEstimates: true });
          for (const row of rows) if (row.kind !== 'ERROR') totalsNeverNegative(row);
        } finally {
          await engine.close();
        }
      }),
      { numRuns: 50 },
    );
  });

  it('grants what the model of the engine says, step after step', async () => {
    await checkEngineAgainstModel({ catalog, store: () => memoryStore(), numRuns: 50 });
  });

  it('keeps a reviewable table of a typical customer', async () => {
    const rows = await runPricingTimeline({
      catalog,
      timeline: [
        {
          at: '2024-01-31',
          provisionCustomer: { customerId: 'acme', subscriptionParams: null },
          provisionSubscription: { customerId: 'acme', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 12 }], promotionCode: 'LAUNCH20' },
        },
        { at: '2024-02-15', updateSubscription: { subscriptionId: '$1', billableFeatures: [{ featureId: 'seats', quantity: 15 }] } },
        { at: '2024-02-20', reportUsage: { customerId: 'acme', featureId: 'api-calls', value: 150_000 } },
        { at: '2024-02-29', tick: true },
      ],
    });
    console.log(formatTimeline(rows));
    expect(rows.map((r) => [r.kind, r.total])).toEqual([
      ['PROVISIONING', '112.00'], // 12 x 10.00 + 20.00 = 140.00, less 20%
      ['UPDATE', '11.58'], // (170.00 - 140.00) for 14 of February's 29 days: -67.59 + 82.07 = 14.48, less 20%
      ['USAGE', '40.00'], // 50,000 calls past the free 100,000 at 0.001, less 20%
      ['RENEWAL', '136.00'], // 15 x 10.00 + 20.00 = 170.00, less 20%
    ]);
  });
});
