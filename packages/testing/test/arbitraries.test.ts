/**
 * Every arbitrary produces valid values and shrinks to the minimum its doc comment names.
 * numRuns is moderate for CI; run more with FC_NUM_RUNS=2000 npx vitest run packages/testing/test/arbitraries
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createEngine,
  currencyDigits,
  memoryStore,
  priceLine,
  testClock,
  validateCatalog,
  type CatalogDefinition,
  type FeatureDefinition,
  type PriceDefinition,
} from '@tessera/core';
import {
  DEFAULT_FEATURES,
  arbAddon,
  arbCatalog,
  arbCoupon,
  arbEntitlement,
  arbEventBatch,
  arbFeature,
  arbInstant,
  arbMoney,
  arbPlan,
  arbPrice,
  arbScenario,
  arbSubscriptionParams,
  arbUsageSequence,
  boundaryQuantities,
  playTimeline,
} from '@tessera/testing';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);

/** The value fast-check shrinks to when every value fails: the arbitrary's minimum. */
function minimumOf<T>(arb: fc.Arbitrary<T>): T {
  const out = fc.check(fc.property(arb, () => false));
  if (!out.failed || !out.counterexample) throw new Error('expected a counterexample');
  return out.counterexample[0] as T;
}

/** A catalog around `prices` on one plan, with the features prices and entitlements name. */
function catalogAround(part: { prices?: PriceDefinition[]; features?: FeatureDefinition[]; plan?: Partial<CatalogDefinition['plans'][number]> }): CatalogDefinition {
  // A usage-based price needs its feature to reset within the billing period (core docs/pricing.md#usage-in-arrears).
  const usage = [...new Set((part.prices ?? []).flatMap((p) => (p.billingModel === 'USAGE_BASED' && p.featureId ? [p.featureId] : [])))];
  const entitlements = usage.map((featureId) => ({ featureId, isUnlimited: true, resetPeriod: 'MONTH' as const }));
  return {
    features: part.features ?? [...DEFAULT_FEATURES],
    products: [{ id: 'app' }],
    plans: [
      {
        id: 'p',
        productId: 'app',
        pricingType: 'PAID',
        prices: part.prices ?? [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '1.00' }],
        ...(entitlements.length > 0 ? { entitlements } : {}),
        ...part.plan,
      },
    ],
  };
}

const demoWithMeter: CatalogDefinition = {
  ...demoCatalog,
  features: [...demoCatalog.features, { id: 'tokens', type: 'METERED', meter: { eventName: 'llm.call', aggregation: { type: 'SUM', field: 'tokens' } } }],
};

describe('arbInstant', () => {
  it('gives UTC instants from the first of the start month, biased toward month ends and Feb 29', () => {
    const sample = fc.sample(arbInstant(), 2000);
    const from = Date.parse('2024-01-01T00:00:00Z');
    for (const d of sample) expect(d.getTime()).toBeGreaterThanOrEqual(from);
    const lastDay = sample.filter((d) => new Date(d.getTime() + 86_400_000).getUTCDate() === 1).length;
    const leapDay = sample.filter((d) => d.getUTCMonth() === 1 && d.getUTCDate() === 29).length;
    // A uniform day would be a month end about 3% of the time and Feb 29 well under 1%.
    expect(lastDay / sample.length).toBeGreaterThan(0.2);
    expect(leapDay / sample.length).toBeGreaterThan(0.05);
  });

  it('favours the boundaries it is given and their neighbours', () => {
    const boundary = Date.parse('2024-02-29T00:00:00Z');
    const sample = fc.sample(arbInstant({ boundaries: [boundary] }), 1000);
    const near = sample.filter((d) => Math.abs(d.getTime() - boundary) <= 86_400_000).length;
    expect(near / sample.length).toBeGreaterThan(0.15);
  });

  it('shrinks to midnight on the first of the start month', () => {
    expect(minimumOf(arbInstant()).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(minimumOf(arbInstant({ from: '2023-06-15T10:00:00Z' })).toISOString()).toBe('2023-06-01T00:00:00.000Z');
  });
});

describe('arbMoney', () => {
  it('gives amounts with exactly the currency minor digits, within bounds', () => {
    fc.assert(
      fc.property(arbMoney(), arbMoney('JPY', { min: 5, max: 50 }), (any, yen) => {
        expect(any.amount).toMatch(new RegExp(`^\\d+${currencyDigits(any.currency) > 0 ? `\\.\\d{${currencyDigits(any.currency)}}` : ''}$`));
        expect(yen.amount).toMatch(/^\d+$/);
        expect(Number(yen.amount)).toBeGreaterThanOrEqual(5);
        expect(Number(yen.amount)).toBeLessThanOrEqual(50);
      }),
      { numRuns },
    );
  });

  it("shrinks to { amount: '0.00', currency: 'USD' } (and to min in the given currency)", () => {
    expect(minimumOf(arbMoney())).toEqual({ amount: '0.00', currency: 'USD' });
    expect(minimumOf(arbMoney('KWD', { min: 2 }))).toEqual({ amount: '2.000', currency: 'KWD' });
  });
});

describe('arbPrice', () => {
  it('gives prices that a catalog accepts and that price at their boundary quantities', () => {
    fc.assert(
      fc.property(arbPrice(), (price) => {
        expect(validateCatalog(catalogAround({ prices: [price] }))).toEqual([]);
        for (const quantity of boundaryQuantities(price)) priceLine(price, { quantity });
      }),
      { numRuns },
    );
  });

  it('covers every billing model, both periods, and country overrides', () => {
    const sample = fc.sample(arbPrice(), 1000);
    const kinds = new Set(sample.map((p) => `${p.billingModel}:${p.tiersMode ?? (p.blockSize ? 'PACKAGE' : 'AMOUNT')}`));
    for (const k of ['FLAT_FEE:AMOUNT', 'PER_UNIT:AMOUNT', 'PER_UNIT:PACKAGE', 'PER_UNIT:GRADUATED', 'PER_UNIT:VOLUME', 'USAGE_BASED:GRADUATED', 'USAGE_BASED:VOLUME', 'USAGE_BASED:PACKAGE'])
      expect(kinds).toContain(k);
    expect(new Set(sample.map((p) => p.billingPeriod))).toEqual(new Set(['MONTHLY', 'ANNUALLY']));
    expect(sample.some((p) => p.countryOverrides?.JP?.currency === 'JPY')).toBe(true);
  });

  it('narrows to the models and periods asked for', () => {
    for (const p of fc.sample(arbPrice({ models: ['VOLUME'], billingPeriods: ['ANNUALLY'], usageBased: false }), 200)) {
      expect(p.billingPeriod).toBe('ANNUALLY');
      expect(p.tiersMode).toBe('VOLUME');
      expect(p.billingModel).toBe('PER_UNIT');
    }
  });

  it("shrinks to a flat monthly price of '0.00' USD", () => {
    expect(minimumOf(arbPrice())).toEqual({ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '0.00' });
  });
});

describe('arbFeature and arbEntitlement', () => {
  it('give features and entitlements that a catalog accepts, for every type', () => {
    fc.assert(
      fc.property(
        arbFeature().chain((feature) => fc.tuple(fc.constant(feature), arbEntitlement(feature))),
        ([feature, entitlement]) => {
          expect(validateCatalog(catalogAround({ features: [feature], plan: { entitlements: [entitlement] } }))).toEqual([]);
        },
      ),
      { numRuns },
    );
  });

  it('shrink to a BOOLEAN sso feature and the plainest entitlement of each type', () => {
    expect(minimumOf(arbFeature())).toEqual({ id: 'sso', type: 'BOOLEAN' });
    expect(minimumOf(arbEntitlement({ id: 'api-calls', type: 'METERED' }))).toEqual({ featureId: 'api-calls', usageLimit: 10, resetPeriod: 'MONTH' });
    expect(minimumOf(arbEntitlement({ id: 'projects', type: 'NUMERIC' }))).toEqual({ featureId: 'projects', value: 10 });
    expect(minimumOf(arbEntitlement({ id: 'sso', type: 'BOOLEAN' }))).toEqual({ featureId: 'sso' });
    expect(minimumOf(arbEntitlement({ id: 'export', type: 'ENUM', enumValues: ['csv', 'json'] }))).toEqual({ featureId: 'export', enumValues: ['csv'] });
  });
});

describe('arbCoupon', () => {
  it('gives coupons that a catalog accepts', () => {
    fc.assert(
      fc.property(arbCoupon({ currency: 'JPY' }), (coupon) => {
        expect(validateCatalog({ ...catalogAround({}), coupons: [coupon] })).toEqual([]);
      }),
      { numRuns },
    );
  });

  it('shrinks to 10% off forever', () => {
    expect(minimumOf(arbCoupon())).toEqual({ id: 'launch', type: 'PERCENTAGE', value: '10' });
  });
});

describe('arbPlan and arbAddon', () => {
  it('give plans and add-ons that a catalog with the default features accepts', () => {
    fc.assert(
      fc.property(arbAddon(), arbPlan({ addons: [] }), (addon, plan) => {
        const withAddon = { ...plan, compatibleAddonIds: [addon.id] };
        const def: CatalogDefinition = { features: [...DEFAULT_FEATURES], products: [{ id: 'app' }], plans: [withAddon], addons: [addon] };
        expect(validateCatalog(def)).toEqual([]);
      }),
      { numRuns },
    );
  });

  it('shrink to one flat monthly price', () => {
    const flat = { billingModel: 'FLAT_FEE', currency: 'USD', amount: '0.00' };
    expect(minimumOf(arbPlan())).toEqual({ id: 'starter', productId: 'app', pricingType: 'PAID', prices: [{ billingPeriod: 'MONTHLY', ...flat }] });
    expect(minimumOf(arbAddon())).toEqual({
      id: 'extra-seats',
      productId: 'app',
      prices: [
        { billingPeriod: 'MONTHLY', ...flat },
        { billingPeriod: 'ANNUALLY', ...flat },
      ],
    });
  });
});

describe('arbCatalog', () => {
  it('gives catalogs that pass validateCatalog', () => {
    fc.assert(
      fc.property(arbCatalog({ sizes: { products: [1, 2], plans: [1, 4], addons: [0, 3] }, multipleSubscriptions: true }), (def) => {
        expect(validateCatalog(def)).toEqual([]);
      }),
      { numRuns },
    );
  });

  it('gives catalogs an engine publishes', async () => {
    await fc.assert(
      fc.asyncProperty(arbCatalog(), async (catalog) => {
        const engine = await createEngine({ store: memoryStore(), catalog });
        expect(engine.catalogVersion).toBe(1);
        await engine.close();
      }),
      { numRuns: 50 },
    );
  });

  it('narrows models, currencies, reset periods and sizes', () => {
    const options = { models: ['GRADUATED' as const], currencies: ['JPY'], resetPeriods: [null], usageBased: false, countries: false as const, sizes: { features: [3, 3] as [number, number], plans: [2, 2] as [number, number] } };
    for (const def of fc.sample(arbCatalog(options), 200)) {
      expect(def.features).toHaveLength(3);
      expect(def.plans).toHaveLength(2);
      for (const owner of [...def.plans, ...(def.addons ?? [])]) {
        for (const e of owner.entitlements ?? []) expect(e.resetPeriod).toBeUndefined();
        for (const p of owner.prices ?? []) {
          expect(p.currency).toBe('JPY');
          expect(p.countryOverrides).toBeUndefined();
          expect(p.billingModel).not.toBe('USAGE_BASED');
          // Prices without a feature to count fall back to FLAT_FEE.
          if (p.billingModel === 'PER_UNIT') expect(p.tiersMode).toBe('GRADUATED');
        }
      }
    }
  });

  it('shrinks to one BOOLEAN feature, one product and one flat-priced plan', () => {
    expect(minimumOf(arbCatalog())).toEqual({
      features: [{ id: 'sso', type: 'BOOLEAN' }],
      products: [{ id: 'app' }],
      plans: [{ id: 'starter', productId: 'app', pricingType: 'PAID', prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '0.00' }] }],
    });
  });
});

describe('arbSubscriptionParams', () => {
  it('gives parameters that match the catalog', () => {
    fc.assert(
      fc.property(arbCatalog({ sizes: { addons: [1, 3] } }).chain((def) => fc.tuple(fc.constant(def), arbSubscriptionParams(def))), ([def, params]) => {
        const plan = def.plans.find((p) => p.id === params.planId)!;
        expect(plan).toBeDefined();
        if (plan.pricingType === 'PAID') expect(plan.prices!.some((p) => p.billingPeriod === params.billingPeriod)).toBe(true);
        else expect(params.billingPeriod).toBeUndefined();
        for (const b of params.billableFeatures ?? []) {
          // Without a billing period (a CUSTOM plan) a PER_UNIT price of any period counts, as the engine reads it.
          const price = plan.prices!.find((p) => p.billingModel === 'PER_UNIT' && p.featureId === b.featureId && (params.billingPeriod === undefined || p.billingPeriod === params.billingPeriod))!;
          expect(price).toBeDefined();
          expect(b.quantity).toBeGreaterThanOrEqual(price.minUnitQuantity ?? 0);
          expect(b.quantity).toBeLessThanOrEqual(price.maxUnitQuantity ?? Infinity);
        }
        const ids = (params.addons ?? []).map((a) => a.addonId);
        for (const a of params.addons ?? []) {
          const addon = def.addons!.find((x) => x.id === a.addonId)!;
          expect(plan.compatibleAddonIds).toContain(a.addonId);
          expect(a.quantity).toBeLessThanOrEqual(addon.maxQuantity ?? Infinity);
          for (const d of addon.dependencies ?? []) expect(ids).toContain(d);
        }
        if (params.promotionCode !== undefined) expect(def.promotionCodes!.map((p) => p.code)).toContain(params.promotionCode);
      }),
      { numRuns },
    );
  });

  it('gives parameters the engine provisions for a new customer', async () => {
    // FIXED coupons are left out: a FIXED coupon in another currency than USD on a document
    // without lines is refused by the core (reported as a core bug), not by these parameters.
    const arb = arbCatalog({ couponTypes: ['PERCENTAGE'], sizes: { addons: [0, 3] } }).chain((def) => fc.tuple(fc.constant(def), arbSubscriptionParams(def)));
    await fc.assert(
      fc.asyncProperty(arb, async ([catalog, params]) => {
        const engine = await createEngine({ store: memoryStore(), catalog, clock: testClock('2024-01-31') });
        try {
          await engine.provisionCustomer({ customerId: params.customerId, subscriptionParams: null });
          const result = await engine.provisionSubscription(params);
          expect(result.subscription.planId).toBe(params.planId);
        } finally {
          await engine.close();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('shrinks to the first plan in its first billing period', () => {
    expect(minimumOf(arbSubscriptionParams(demoCatalog))).toEqual({ customerId: 'c1', planId: 'free' });
    expect(minimumOf(arbSubscriptionParams(demoCatalog, { planIds: ['pro'] }))).toEqual({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' });
  });
});

describe('arbUsageSequence', () => {
  it('gives reports the engine records, never taking usage below zero', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-31') });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(arbUsageSequence(demoCatalog, { customerIds: ['a', 'b'] }), async (ops) => {
        const prefix = `run${++run}-`;
        for (const id of ['a', 'b']) await engine.provisionCustomer({ customerId: prefix + id, subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        for (const op of ops) {
          expect(['api-calls', 'seats']).toContain(op.featureId);
          await engine.reportUsage({ ...op, customerId: prefix + op.customerId });
        }
      }),
      { numRuns: 100 },
    );
    await engine.close();
  });

  it('repeats idempotency keys', () => {
    const sample = fc.sample(arbUsageSequence(demoCatalog), 200);
    expect(sample.some((ops) => new Set(ops.flatMap((o) => o.idempotencyKey ?? [])).size < ops.filter((o) => o.idempotencyKey).length)).toBe(true);
  });

  it('shrinks to one DELTA of 1 on the first reportable feature', () => {
    expect(minimumOf(arbUsageSequence(demoCatalog))).toEqual([{ customerId: 'c1', featureId: 'api-calls', value: 1, updateBehavior: 'DELTA' }]);
  });
});

describe('arbEventBatch', () => {
  it('gives batches the engine accepts, with duplicates and late events', async () => {
    const now = '2024-03-10T12:00:00Z';
    const engine = await createEngine({ store: memoryStore(), catalog: demoWithMeter, clock: testClock(now) });
    await engine.provisionCustomer({ customerId: 'c1' });
    let run = 0;
    let duplicates = 0;
    let late = 0;
    await fc.assert(
      fc.asyncProperty(arbEventBatch(demoWithMeter, { now }), async (events) => {
        // Keys are unique per store: each run gets its own.
        const prefix = `r${++run}-`;
        const result = await engine.reportEvent(events.map((e) => ({ ...e, idempotencyKey: prefix + e.idempotencyKey })));
        expect(result.accepted + result.duplicates).toBe(events.length);
        duplicates += result.duplicates;
        late += events.filter((e) => e.timestamp !== undefined).length;
      }),
      { numRuns: 100 },
    );
    expect(duplicates).toBeGreaterThan(0);
    expect(late).toBeGreaterThan(0);
    await engine.close();
  });

  it('shrinks to one event on time', () => {
    expect(minimumOf(arbEventBatch(demoWithMeter))).toEqual([{ customerId: 'c1', eventName: 'llm.call', idempotencyKey: 'e1', dimensions: { tokens: 1 } }]);
  });
});

describe('arbScenario', () => {
  it('gives timelines that run to the end, refused calls recorded', async () => {
    await fc.assert(
      fc.asyncProperty(arbScenario(demoCatalog), async (timeline) => {
        const clock = testClock(timeline[0]!.at!);
        const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock });
        try {
          const { rows } = await playTimeline(engine, clock, timeline, { onError: 'record' });
          for (const r of rows) expect(r.kind).not.toBe('');
        } finally {
          await engine.close();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('shrinks to one step that creates a customer and provisions the first plan', () => {
    expect(minimumOf(arbScenario(demoCatalog))).toEqual([
      { at: '2024-01-01T00:00:00.000Z', provisionCustomer: { customerId: 'c1', subscriptionParams: null }, provisionSubscription: { customerId: 'c1', planId: 'free' } },
    ]);
  });
});
