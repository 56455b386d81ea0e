import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../src/catalog/catalog.js';
import type { CatalogDefinition } from '../src/catalog/types.js';
import { isTesseraError } from '../src/errors.js';
import { buildPaywall } from '../src/rules/paywall.js';

function catalogDefinition(): CatalogDefinition {
  return {
    features: [
      { id: 'sso', type: 'BOOLEAN', displayName: 'Single sign-on' },
      { id: 'seats', type: 'NUMERIC', units: 'seat', unitsPlural: 'seats' },
      { id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls', metadata: { group: 'api' } },
    ],
    products: [
      { id: 'app', displayName: 'App', description: 'The app', metadata: { tier: 'main' }, defaultPlanId: 'free' },
      { id: 'other', displayName: 'Other' },
    ],
    plans: [
      {
        id: 'free',
        productId: 'app',
        displayName: 'Free',
        pricingType: 'FREE',
        entitlements: [
          { featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' },
          { featureId: 'seats', value: 1 },
        ],
      },
      {
        id: 'legacy',
        productId: 'app',
        pricingType: 'PAID',
        hidden: true,
        prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '5.00' }],
      },
      {
        id: 'pro',
        productId: 'app',
        displayName: 'Pro',
        description: 'For teams',
        parentPlanId: 'free',
        pricingType: 'PAID',
        trial: { days: 14, onEnd: 'CONVERT_TO_PAID' },
        metadata: { badge: 'popular' },
        // Overrides the parent's api-calls, inherits seats, adds sso.
        entitlements: [
          { featureId: 'api-calls', usageLimit: 10000, resetPeriod: 'MONTH' },
          { featureId: 'sso' },
        ],
        prices: [
          {
            billingPeriod: 'MONTHLY',
            billingModel: 'FLAT_FEE',
            currency: 'USD',
            amount: '49.00',
            countryOverrides: { DE: { currency: 'EUR', amount: '45.00' } },
          },
          {
            billingPeriod: 'ANNUALLY',
            billingModel: 'FLAT_FEE',
            currency: 'USD',
            amount: '490.00',
            countryOverrides: { DE: { currency: 'EUR', amount: '450.00' } },
          },
        ],
        compatibleAddonIds: ['extra-calls', 'priority-support'],
      },
      { id: 'other-basic', productId: 'other', pricingType: 'FREE' },
    ],
    addons: [
      {
        id: 'extra-calls',
        productId: 'app',
        displayName: 'Extra calls',
        maxQuantity: 5,
        entitlements: [{ featureId: 'api-calls', usageLimit: 5000, resetPeriod: 'MONTH' }],
        prices: [
          {
            billingPeriod: 'MONTHLY',
            billingModel: 'FLAT_FEE',
            currency: 'USD',
            amount: '10.00',
            countryOverrides: { DE: { currency: 'EUR', amount: '9.00' } },
          },
        ],
      },
      { id: 'priority-support', productId: 'app', dependencies: ['extra-calls'] },
    ],
  };
}

const catalog = defineCatalog(catalogDefinition());

describe('buildPaywall', () => {
  it('prices a plan in the base currency for a country without an override, and in EUR for DE', () => {
    const us = buildPaywall({ catalog, productId: 'app', billingCountryCode: 'US' });
    const de = buildPaywall({ catalog, productId: 'app', billingCountryCode: 'DE' });
    const proUs = us.products[0]!.plans.find((p) => p.id === 'pro')!;
    const proDe = de.products[0]!.plans.find((p) => p.id === 'pro')!;
    expect(proUs.prices.map((p) => [p.billingPeriod, p.amount, p.currency, p.billingCountryCode])).toEqual([
      ['MONTHLY', '49.00', 'USD', null],
      ['ANNUALLY', '490.00', 'USD', null],
    ]);
    expect(proDe.prices.map((p) => [p.billingPeriod, p.amount, p.currency, p.billingCountryCode])).toEqual([
      ['MONTHLY', '45.00', 'EUR', 'DE'],
      ['ANNUALLY', '450.00', 'EUR', 'DE'],
    ]);
    expect(proDe.compatibleAddons[0]!.prices.map((p) => [p.amount, p.currency])).toEqual([['9.00', 'EUR']]);
    expect(proUs.compatibleAddons[0]!.prices.map((p) => [p.amount, p.currency])).toEqual([['10.00', 'USD']]);
    expect(de.billingCountryCode).toBe('DE');
    // Prices carry no countryOverrides: the viewer sees their own price only.
    expect(proDe.prices[0]).not.toHaveProperty('countryOverrides');
  });

  it('lists visible plans in product order with inherited entitlements, features, trial and add-ons', () => {
    const paywall = buildPaywall({ catalog, productId: 'app' });
    expect(paywall.billingCountryCode).toBeNull();
    const [product] = paywall.products;
    expect(product).toMatchObject({ id: 'app', displayName: 'App', description: 'The app', metadata: { tier: 'main' }, currentPlanId: null });
    expect(product!.plans.map((p) => [p.id, p.order])).toEqual([
      ['free', 0],
      ['pro', 2],
    ]);
    const pro = product!.plans[1]!;
    expect(pro).toMatchObject({
      displayName: 'Pro',
      description: 'For teams',
      pricingType: 'PAID',
      parentPlanId: 'free',
      isCurrentPlan: false,
      trial: { days: 14, onEnd: 'CONVERT_TO_PAID' },
      billingPeriods: ['MONTHLY', 'ANNUALLY'],
      metadata: { badge: 'popular' },
    });
    expect(pro.entitlements.map((e) => [e.featureId, e.usageLimit ?? e.value ?? null, e.feature.displayName])).toEqual([
      ['api-calls', 10000, 'api-calls'],
      ['seats', 1, 'seats'],
      ['sso', null, 'Single sign-on'],
    ]);
    expect(pro.entitlements[0]!.feature).toEqual({ id: 'api-calls', displayName: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls', metadata: { group: 'api' } });
    expect(pro.compatibleAddons).toEqual([
      {
        id: 'extra-calls',
        displayName: 'Extra calls',
        description: null,
        maxQuantity: 5,
        dependencies: [],
        entitlements: [
          {
            featureId: 'api-calls',
            usageLimit: 5000,
            resetPeriod: 'MONTH',
            feature: { id: 'api-calls', displayName: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls', metadata: { group: 'api' } },
          },
        ],
        prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '10.00', billingCountryCode: null }],
        metadata: {},
      },
      { id: 'priority-support', displayName: 'priority-support', description: null, maxQuantity: null, dependencies: ['extra-calls'], entitlements: [], prices: [], metadata: {} },
    ]);
    const free = product!.plans[0]!;
    expect(free).toMatchObject({ prices: [], billingPeriods: [], trial: null, compatibleAddons: [] });
  });

  it('includes hidden plans only when asked', () => {
    const all = buildPaywall({ catalog, productId: 'app', includeHiddenPlans: true });
    expect(all.products[0]!.plans.map((p) => p.id)).toEqual(['free', 'legacy', 'pro']);
  });

  it("marks the viewer's current plan, naming it on the product even when hidden", () => {
    const paywall = buildPaywall({ catalog, currentPlanIds: ['pro', 'other-basic'] });
    expect(paywall.products.map((p) => [p.id, p.currentPlanId])).toEqual([
      ['app', 'pro'],
      ['other', 'other-basic'],
    ]);
    expect(paywall.products[0]!.plans.filter((p) => p.isCurrentPlan).map((p) => p.id)).toEqual(['pro']);
    const legacy = buildPaywall({ catalog, productId: 'app', currentPlanIds: ['legacy'] });
    expect(legacy.products[0]!.currentPlanId).toBe('legacy');
    expect(legacy.products[0]!.plans.some((p) => p.isCurrentPlan)).toBe(false);
  });

  it('lists every product in declared order without a productId', () => {
    expect(buildPaywall({ catalog }).products.map((p) => p.id)).toEqual(['app', 'other']);
  });

  it('accepts a lowercase country code and refuses an unknown one', () => {
    expect(buildPaywall({ catalog, productId: 'app', billingCountryCode: 'de' }).billingCountryCode).toBe('DE');
    try {
      buildPaywall({ catalog, billingCountryCode: 'XX' });
      expect.unreachable();
    } catch (e) {
      expect(isTesseraError(e, 'INVALID_ARGUMENT') && e.details.field).toBe('billingCountryCode');
    }
  });

  it('refuses an unknown product with INVALID_ARGUMENT on productId', () => {
    try {
      buildPaywall({ catalog, productId: 'nope' });
      expect.unreachable();
    } catch (e) {
      expect(isTesseraError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as { details: { field: string; allowed: string[] } }).details).toMatchObject({ field: 'productId', allowed: ['app', 'other'] });
    }
  });

  it('returns copies: changing the paywall does not change the catalog', () => {
    const paywall = buildPaywall({ catalog, productId: 'app' });
    paywall.products[0]!.plans[1]!.entitlements[0]!.usageLimit = 1;
    paywall.products[0]!.plans[1]!.prices[0]!.amount = '0';
    const again = buildPaywall({ catalog, productId: 'app' });
    expect(again.products[0]!.plans[1]!.entitlements[0]!.usageLimit).toBe(10000);
    expect(again.products[0]!.plans[1]!.prices[0]!.amount).toBe('49.00');
  });
});
