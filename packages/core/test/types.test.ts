/**
 * Type tests: `npm run typecheck` compiles this file, so an `expectTypeOf` that does not hold, or a
 * `@ts-expect-error` line that compiles (a typo the types let through), fails the build. The
 * calls also run, to show what the run time answers for what the types refuse.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createEngine,
  defineCatalog,
  memoryStore,
  testClock,
  type BooleanEntitlement,
  type CatalogDefinition,
  type CatalogIds,
  type CatalogIdsOf,
  type Engine,
  type EnumEntitlement,
  type Entitlement,
  type MeteredEntitlement,
  type NumericEntitlement,
} from '@tessera/core';
import type { TesseraClient } from '@tessera/http';

const catalog = defineCatalog({
  features: [
    { id: 'sso', type: 'BOOLEAN' },
    { id: 'projects', type: 'NUMERIC' },
    { id: 'api-calls', type: 'METERED' },
    { id: 'export', type: 'ENUM', enumValues: ['csv', 'json'] },
  ],
  products: [{ id: 'app', defaultPlanId: 'free', startWith: 'FREE_PLAN' }],
  plans: [
    {
      id: 'free',
      productId: 'app',
      pricingType: 'FREE',
      compatibleAddonIds: ['extra-projects'],
      entitlements: [
        { featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' },
        { featureId: 'projects', value: 3 },
      ],
    },
    { id: 'pro', productId: 'app', pricingType: 'PAID', prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20' }] },
  ],
  addons: [{ id: 'extra-projects', productId: 'app', entitlements: [{ featureId: 'projects', value: 5 }] }],
  coupons: [{ id: 'welcome', type: 'PERCENTAGE', value: '10' }],
  creditCurrencies: [{ id: 'ai-credits' }],
});

type Ids = CatalogIdsOf<typeof catalog>;
const open = () => createEngine({ store: memoryStore(), catalog, clock: testClock(new Date('2025-01-01T00:00:00Z')) });

describe('catalog-typed ids', () => {
  it('keeps the literal ids of a catalog declared in defineCatalog', () => {
    expectTypeOf<Ids>().toEqualTypeOf<{
      feature: 'sso' | 'projects' | 'api-calls' | 'export';
      plan: 'free' | 'pro';
      addon: 'extra-projects';
      product: 'app';
      coupon: 'welcome';
      creditCurrency: 'ai-credits';
    }>();
    // A catalog without add-ons accepts no add-on id at all.
    const bare = defineCatalog({ features: [], products: [{ id: 'p' }], plans: [{ id: 'x', productId: 'p', pricingType: 'FREE' }] });
    expectTypeOf<CatalogIdsOf<typeof bare>['addon']>().toEqualTypeOf<never>();
  });

  it('an engine created from it accepts only those ids, and still checks them at run time', async () => {
    const engine = await open();
    expectTypeOf(engine).toEqualTypeOf<Engine<Ids>>();
    await engine.provisionCustomer({ customerId: 'c1', couponId: 'welcome', subscriptionParams: { planId: 'free', addons: [{ addonId: 'extra-projects' }] } });
    expect((await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' })).usageLimit).toBe(100);

    // @ts-expect-error a misspelt feature id does not compile
    const typo = await engine.getEntitlement({ customerId: 'c1', featureId: 'api-cals' });
    expect(typo.accessDeniedReason).toBe('FeatureNotFound');
    // @ts-expect-error nor a misspelt plan id
    await expect(engine.provisionSubscription({ customerId: 'c1', planId: 'prro' })).rejects.toMatchObject({ code: 'PLAN_NOT_FOUND' });
    // @ts-expect-error nor one inside subscriptionParams
    const unknownPlan = () => engine.provisionCustomer({ customerId: 'c2', subscriptionParams: { planId: 'gold' } });
    // @ts-expect-error nor an add-on id
    const unknownAddon = () => engine.updateSubscription({ subscriptionId: 's', addons: [{ addonId: 'extra-project' }] });
    // @ts-expect-error nor a coupon id
    const unknownCoupon = () => engine.updateCustomer({ customerId: 'c1', couponId: 'welcom' });
    // @ts-expect-error nor a product id
    const unknownProduct = () => engine.getPaywall({ productId: 'ap' });
    // @ts-expect-error nor a credit currency
    const unknownCurrency = () => engine.getCreditBalance({ customerId: 'c1', currencyId: 'credits' });
    // @ts-expect-error nor a feature in usage reports
    const unknownUsage = () => engine.reportUsage({ customerId: 'c1', featureId: 'api', value: 1 });
    expect([unknownPlan, unknownAddon, unknownCoupon, unknownProduct, unknownCurrency, unknownUsage].every((f) => typeof f === 'function')).toBe(true);
    expectTypeOf(engine.consumeUsage).parameter(0).toHaveProperty('featureId').toEqualTypeOf<Ids['feature']>();
    await engine.close();
  });

  it('falls back to string ids for a catalog loaded from JSON, or none', async () => {
    const json: CatalogDefinition = JSON.parse(
      '{"features":[{"id":"sso","type":"BOOLEAN"}],"products":[{"id":"app"}],"plans":[{"id":"free","productId":"app","pricingType":"FREE"}]}',
    );
    expectTypeOf<CatalogIdsOf<typeof json>>().toEqualTypeOf<CatalogIds>();
    const engine = await createEngine({ store: memoryStore(), catalog: defineCatalog(json) });
    expectTypeOf(engine).toEqualTypeOf<Engine>();
    expectTypeOf(engine.getEntitlement).parameter(0).toHaveProperty('featureId').toEqualTypeOf<string>();
    expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'anything' })).hasAccess).toBe(false);
    const raw = await createEngine({ store: memoryStore(), catalog: json });
    expectTypeOf(raw).toEqualTypeOf<Engine>();
    await Promise.all([engine.close(), raw.close()]);
  });

  it('an engine of typed ids is still an Engine (what adapters and the sidecar take)', async () => {
    const engine = await open();
    const plain: Engine = engine;
    expect(plain).toBe(engine);
    await engine.close();
  });

  it('the sidecar client takes the same ids', () => {
    type Client = TesseraClient<Ids>;
    expectTypeOf<Client['getEntitlement']>().parameter(0).toHaveProperty('featureId').toEqualTypeOf<Ids['feature']>();
    expectTypeOf<TesseraClient['getEntitlement']>().parameter(0).toHaveProperty('featureId').toEqualTypeOf<string>();
    expectTypeOf<Client['getMeteredEntitlement']>().returns.resolves.toEqualTypeOf<MeteredEntitlement>();
  });
});

describe('typed entitlement getters', () => {
  it('each returns its own entitlement type, so its fields need no narrowing', async () => {
    const engine = await open();
    await engine.provisionCustomer({ customerId: 'c1' });
    expectTypeOf(engine.getBooleanEntitlement).returns.resolves.toEqualTypeOf<BooleanEntitlement>();
    expectTypeOf(engine.getNumericEntitlement).returns.resolves.toEqualTypeOf<NumericEntitlement>();
    expectTypeOf(engine.getMeteredEntitlement).returns.resolves.toEqualTypeOf<MeteredEntitlement>();
    expectTypeOf(engine.getEnumEntitlement).returns.resolves.toEqualTypeOf<EnumEntitlement>();
    expectTypeOf(engine.getEntitlement).returns.resolves.toEqualTypeOf<Entitlement>();

    const calls = await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' });
    expect(calls.currentUsage + 1).toBe(1);
    // The run time matches the type also when the answer is a denial for a feature of another type.
    const mismatch = await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'projects' });
    expect([mismatch.type, mismatch.hasAccess, mismatch.accessDeniedReason, mismatch.usageLimit, mismatch.currentUsage]).toEqual(['METERED', false, 'FeatureTypeMismatch', null, 0]);
    const any = await engine.getEntitlement({ customerId: 'c1', featureId: 'api-calls' });
    // @ts-expect-error the union needs narrowing first
    expect(any.currentUsage).toBe(0);
    if (any.type === 'METERED') expect(any.currentUsage).toBe(0);
    await engine.close();
  });
});
