import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  currencyMinorUnits,
  defineCatalog,
  isCountryCode,
  isCurrencyCode,
  isTesseraError,
  nextCatalogVersion,
  validateCatalog,
} from '../src/index.js';
import type { CatalogDefinition, CatalogProblem } from '../src/index.js';

// Tests put wrong values where the declared types forbid them, as a JSON catalog could.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** A catalog that uses every feature of the format and is valid. */
function richCatalog(): CatalogDefinition {
  const eur = (amount: string) => ({ currency: 'EUR', amount });
  const jpy = (amount: string) => ({ currency: 'JPY', amount });
  return {
    features: [
      { id: 'sso', type: 'BOOLEAN', displayName: 'Single sign-on' },
      { id: 'seats', type: 'NUMERIC', units: 'seat', unitsPlural: 'seats', metadata: { group: 'team' } },
      {
        id: 'api-calls',
        type: 'METERED',
        units: 'call',
        meter: {
          eventName: 'api.call',
          filters: [
            {
              conditions: [
                { field: 'status', operator: 'IN', value: [200, 201] },
                { field: 'internal', operator: 'IS_NULL' },
              ],
            },
            { conditions: [{ field: 'path', operator: 'STARTS_WITH', value: '/v2/' }] },
          ],
          aggregation: { type: 'COUNT' },
        },
        creditCost: { currencyId: 'ai-credits', amount: '0.5' },
      },
      { id: 'storage-gb', type: 'METERED', meter: { eventName: 'storage.sampled', aggregation: { type: 'MAX', field: 'gb' } } },
      { id: 'projects', type: 'METERED' },
      { id: 'region', type: 'ENUM', enumValues: ['us', 'eu', 'apac'] },
    ],
    products: [
      {
        id: 'app',
        displayName: 'App',
        defaultPlanId: 'free',
        downgradePlanId: 'free',
        trialPlanId: 'pro',
        cancellationTime: 'END_OF_BILLING_PERIOD',
        startWith: 'FREE_PLAN',
      },
      { id: 'storage', startWith: 'TRIAL', trialPlanId: 'storage-plus', multipleSubscriptions: true, cancellationTime: 'IMMEDIATE' },
    ],
    plans: [
      {
        id: 'free',
        productId: 'app',
        pricingType: 'FREE',
        entitlements: [
          { featureId: 'seats', value: 1 },
          { featureId: 'api-calls', usageLimit: 1000, resetPeriod: 'MONTH', resetPeriodConfiguration: { monthlyAccordingTo: 'START_OF_THE_MONTH' } },
          { featureId: 'region', enumValues: ['us'] },
          { featureId: 'projects', usageLimit: 3, resetPeriod: null },
        ],
      },
      {
        id: 'pro',
        productId: 'app',
        parentPlanId: 'free',
        pricingType: 'PAID',
        trial: { days: 14, onEnd: 'DOWNGRADE' },
        compatibleAddonIds: ['extra-seats', 'priority-support'],
        entitlements: [
          { featureId: 'sso' },
          { featureId: 'seats', value: 10 },
          { featureId: 'api-calls', usageLimit: 100_000, hasSoftLimit: true, resetPeriod: 'WEEK', resetPeriodConfiguration: { weeklyAccordingTo: 'MONDAY' } },
        ],
        prices: [
          { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '49.00', countryOverrides: { DE: eur('45.00'), JP: jpy('7000') } },
          { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '490.00', countryOverrides: { DE: eur('450.00'), JP: jpy('70000') } },
          {
            billingPeriod: 'MONTHLY',
            billingModel: 'PER_UNIT',
            featureId: 'seats',
            currency: 'USD',
            amount: '8',
            minUnitQuantity: 1,
            maxUnitQuantity: 500,
            countryOverrides: { DE: eur('7.50'), JP: jpy('1200') },
          },
          {
            billingPeriod: 'MONTHLY',
            billingModel: 'USAGE_BASED',
            featureId: 'api-calls',
            currency: 'USD',
            tiersMode: 'GRADUATED',
            tiers: [
              { upTo: 1000, unitAmount: '0', flatAmount: '5' },
              { upTo: 10_000, unitAmount: '0.01' },
              { upTo: null, unitAmount: '0.005' },
            ],
            countryOverrides: {
              DE: { currency: 'EUR', tiers: [{ upTo: 1000, flatAmount: '5' }, { upTo: null, unitAmount: '0.009' }] },
              JP: { currency: 'JPY', tiers: [{ upTo: null, unitAmount: '1' }] },
            },
          },
        ],
      },
      {
        id: 'enterprise',
        productId: 'app',
        parentPlanId: 'pro',
        pricingType: 'CUSTOM',
        hidden: true,
        entitlements: [
          { featureId: 'seats', isUnlimited: true },
          { featureId: 'region', enumValues: ['us', 'eu', 'apac'] },
        ],
      },
      {
        id: 'storage-basic',
        productId: 'storage',
        pricingType: 'PAID',
        entitlements: [{ featureId: 'storage-gb', usageLimit: 1000, resetPeriod: 'MONTH' }],
        prices: [{ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'storage-gb', currency: 'GBP', amount: '2.50', blockSize: 100 }],
      },
      {
        id: 'storage-plus',
        productId: 'storage',
        parentPlanId: 'storage-basic',
        pricingType: 'PAID',
        trial: { days: 7, onEnd: 'CONVERT_TO_PAID' },
        entitlements: [{ featureId: 'storage-gb', isUnlimited: true, resetPeriod: 'DAY' }],
        prices: [
          {
            billingPeriod: 'ANNUALLY',
            billingModel: 'PER_UNIT',
            featureId: 'seats',
            currency: 'GBP',
            tiersMode: 'VOLUME',
            tiers: [
              { upTo: 10, unitAmount: '5' },
              { upTo: null, unitAmount: '4', flatAmount: '10' },
            ],
          },
        ],
      },
    ],
    addons: [
      {
        id: 'extra-seats',
        productId: 'app',
        entitlements: [{ featureId: 'seats', value: 5 }],
        maxQuantity: 10,
        prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20' }],
      },
      { id: 'priority-support', productId: 'app', dependencies: ['extra-seats'], entitlements: [{ featureId: 'sso' }] },
    ],
    coupons: [
      { id: 'launch', name: 'Launch', type: 'PERCENTAGE', value: '20', durationInMonths: 3 },
      { id: 'ten-off', type: 'FIXED', value: '10.00', currency: 'USD', metadata: { campaign: 'spring' } },
    ],
    promotionCodes: [
      { code: 'LAUNCH20', couponId: 'launch', expiresAt: '2030-01-01T00:00:00Z', maxRedemptions: 100, active: true },
      { code: 'TEN', couponId: 'ten-off', expiresAt: '2030-02-28' },
    ],
    taxRates: [
      { countryCode: 'DE', rate: '0.19' },
      { countryCode: 'GB', rate: '0.20' },
    ],
    creditCurrencies: [{ id: 'ai-credits', displayName: 'AI credits', unitPrice: { amount: '0.01', currency: 'USD' } }],
  };
}

function problemsAfter(mutate: (c: Loose) => void): CatalogProblem[] {
  const catalog: Loose = richCatalog();
  mutate(catalog);
  return validateCatalog(catalog);
}

/** The sorted problem paths of the rich catalog after `mutate`; every problem must say something. */
function pathsAfter(mutate: (c: Loose) => void): string[] {
  const problems = problemsAfter(mutate);
  for (const p of problems) expect(p.message.length, `message of ${p.path}`).toBeGreaterThan(0);
  return problems.map((p) => p.path).sort();
}

const plan = (c: Loose, id: string): Loose => c.plans.find((p: Loose) => p.id === id);
const feature = (c: Loose, id: string): Loose => c.features.find((f: Loose) => f.id === id);
const proPrices = (c: Loose): Loose[] => plan(c, 'pro').prices;

describe('validateCatalog', () => {
  it('accepts a rich valid catalog with zero problems', () => {
    expect(validateCatalog(richCatalog())).toEqual([]);
  });

  it('accepts a minimal catalog without the optional lists', () => {
    expect(validateCatalog({ features: [], products: [], plans: [] })).toEqual([]);
  });

  it('reports every problem of a broken catalog at once', () => {
    const paths = pathsAfter((c) => {
      c.features.push({ id: 'sso', type: 'BOOLEAN' }); // features[6]
      feature(c, 'region').enumValues = [];
      plan(c, 'free').entitlements[0].usageLimit = 5;
      plan(c, 'pro').parentPlanId = 'enterprise';
      proPrices(c)[0].currency = undefined;
      proPrices(c)[1].amount = '-1';
      plan(c, 'storage-basic').productId = 'nope';
      c.addons[1].dependencies = ['ghost'];
      c.coupons[0].value = '150';
      c.promotionCodes[1].couponId = 'missing';
      c.taxRates[1].countryCode = 'UK';
      c.creditCurrencies[0].unitPrice.amount = '0';
      c.products[0].downgradePlanId = 'storage-plus';
    });
    expect(paths).toEqual(
      [
        'features[6].id',
        'features[5].enumValues',
        // The ENUM feature's values are gone, so the entitlements naming them no longer fit.
        'plans[0].entitlements[2].enumValues[0]',
        'plans[2].entitlements[1].enumValues[0]',
        'plans[2].entitlements[1].enumValues[1]',
        'plans[2].entitlements[1].enumValues[2]',
        'plans[0].entitlements[0].usageLimit',
        'plans[1].parentPlanId',
        'plans[1].prices[0].currency',
        'plans[1].prices[1].amount',
        'plans[3].productId',
        'addons[1].dependencies[0]',
        'coupons[0].value',
        'promotionCodes[1].couponId',
        'taxRates[1].countryCode',
        'creditCurrencies[0].unitPrice.amount',
        'products[0].downgradePlanId',
      ].sort(),
    );
  });

  it('names the plans of a parent cycle once', () => {
    const problems = problemsAfter((c) => (plan(c, 'free').parentPlanId = 'enterprise'));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('plans[0].parentPlanId');
    expect(problems[0]?.message).toContain('"free" -> "enterprise" -> "pro" -> "free"');
  });

  it('reports two separate parent cycles once each', () => {
    const problems = problemsAfter((c) => {
      plan(c, 'free').parentPlanId = 'enterprise';
      plan(c, 'storage-basic').parentPlanId = 'storage-plus';
    });
    expect(problems.map((p) => p.path)).toEqual(['plans[0].parentPlanId', 'plans[3].parentPlanId']);
  });

  it('answers a non-object with one problem and never throws', () => {
    for (const bad of [null, undefined, 42, 'catalog', []]) {
      expect(validateCatalog(bad as Loose).map((p) => p.path)).toEqual(['catalog']);
    }
    expect(() => validateCatalog({ features: [null, 1], products: [[]], plans: [{ prices: 'x' }] } as Loose)).not.toThrow();
  });
});

/** Every (object, key) slot of a JSON-like value, so that a test can put anything anywhere. */
function slotsOf(value: Loose, out: [Loose, string | number][] = []): [Loose, string | number][] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([value, i]), slotsOf(v, out)));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.push([value, k]);
      slotsOf(v, out);
    }
  return out;
}

describe('validateCatalog never throws', () => {
  // Invariant: any value at any place of a catalog yields a list of problems, never an exception.
  // Raise numRuns locally (e.g. 20_000) to search harder.
  it('returns problems for any value put at any place of a valid catalog', () => {
    const arbJunk = fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true });
    fc.assert(
      fc.property(fc.nat(), arbJunk, (pick, junk) => {
        const catalog: Loose = richCatalog();
        const slots = slotsOf(catalog);
        const slot = slots[pick % slots.length];
        if (slot) slot[0][slot[1]] = junk;
        const problems = validateCatalog(catalog);
        expect(Array.isArray(problems)).toBe(true);
        for (const p of problems) expect(typeof p.path === 'string' && p.message.length > 0).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

type Case = [name: string, mutate: (c: Loose) => void, paths: string[]];

function runCases(cases: Case[]): void {
  it.each(cases)('%s', (_name, mutate, paths) => {
    expect(pathsAfter(mutate)).toEqual([...paths].sort());
  });
}

describe('validateCatalog: structure and ids', () => {
  runCases([
    ['features missing', (c) => delete c.features, ['features', ...[0, 1, 2, 3, 4].map((i) => `plans[${i}].entitlements[0].featureId`), 'plans[0].entitlements[1].featureId', 'plans[0].entitlements[2].featureId', 'plans[0].entitlements[3].featureId', 'plans[1].entitlements[1].featureId', 'plans[1].entitlements[2].featureId', 'plans[2].entitlements[1].featureId', 'plans[1].prices[2].featureId', 'plans[1].prices[3].featureId', 'plans[3].prices[0].featureId', 'plans[4].prices[0].featureId', 'addons[0].entitlements[0].featureId', 'addons[1].entitlements[0].featureId']],
    ['products not an array', (c) => (c.products = {}), ['products', 'plans[0].productId', 'plans[1].productId', 'plans[2].productId', 'plans[3].productId', 'plans[4].productId', 'addons[0].productId', 'addons[1].productId']],
    ['plans missing (references to them break too)', (c) => delete c.plans, ['plans', 'products[0].defaultPlanId', 'products[0].downgradePlanId', 'products[0].trialPlanId', 'products[1].trialPlanId']],
    ['optional list not an array', (c) => (c.coupons = 'launch'), ['coupons', 'promotionCodes[0].couponId', 'promotionCodes[1].couponId']],
    ['item not an object', (c) => c.features.push('sso'), ['features[6]']],
    ['id missing', (c) => c.coupons.push({ type: 'PERCENTAGE', value: '5' }), ['coupons[2].id']],
    ['id not a string', (c) => c.creditCurrencies.push({ id: 7 }), ['creditCurrencies[1].id']],
    ['id empty', (c) => c.products.push({ id: ' ' }), ['products[2].id']],
    ['duplicate feature id', (c) => c.features.push({ id: 'seats', type: 'NUMERIC' }), ['features[6].id']],
    ['duplicate product id', (c) => c.products.push({ id: 'app' }), ['products[2].id']],
    ['duplicate plan id', (c) => c.plans.push({ id: 'free', productId: 'app', pricingType: 'FREE' }), ['plans[5].id']],
    ['duplicate add-on id', (c) => c.addons.push({ id: 'extra-seats', productId: 'app' }), ['addons[2].id']],
    ['duplicate coupon id', (c) => c.coupons.push({ id: 'launch', type: 'PERCENTAGE', value: '5' }), ['coupons[2].id']],
    ['duplicate credit currency id', (c) => c.creditCurrencies.push({ id: 'ai-credits' }), ['creditCurrencies[1].id']],
    ['duplicate promotion code', (c) => c.promotionCodes.push({ code: 'TEN', couponId: 'launch' }), ['promotionCodes[2].code']],
    ['add-on with the id of a plan', (c) => c.addons.push({ id: 'pro', productId: 'app' }), ['addons[2].id']],
  ]);
});

describe('validateCatalog: references', () => {
  runCases([
    ['plan.productId unknown (no cascade to its parent or product references)', (c) => (plan(c, 'free').productId = 'nope'), ['plans[0].productId']],
    ['plan.productId missing', (c) => delete plan(c, 'storage-plus').productId, ['plans[4].productId']],
    ['plan.parentPlanId unknown', (c) => (plan(c, 'pro').parentPlanId = 'basic'), ['plans[1].parentPlanId']],
    ['plan.parentPlanId of another product', (c) => (plan(c, 'storage-plus').parentPlanId = 'free'), ['plans[4].parentPlanId']],
    ['plan that is its own parent', (c) => (plan(c, 'free').parentPlanId = 'free'), ['plans[0].parentPlanId']],
    ['addon.productId unknown', (c) => (c.addons[0].productId = 'nope'), ['addons[0].productId']],
    ['compatibleAddonIds unknown', (c) => plan(c, 'pro').compatibleAddonIds.push('turbo'), ['plans[1].compatibleAddonIds[2]']],
    ['compatibleAddonIds listed twice', (c) => plan(c, 'pro').compatibleAddonIds.push('extra-seats'), ['plans[1].compatibleAddonIds[2]']],
    ['compatible add-on of another product', (c) => (plan(c, 'storage-basic').compatibleAddonIds = ['extra-seats']), ['plans[3].compatibleAddonIds[0]']],
    ['compatible add-on whose dependency is not compatible', (c) => (plan(c, 'pro').compatibleAddonIds = ['priority-support']), ['plans[1].compatibleAddonIds[0]']],
    ['addon.dependencies unknown', (c) => (c.addons[0].dependencies = ['ghost']), ['addons[0].dependencies[0]']],
    [
      'addon dependency of another product',
      (c) => {
        c.addons.push({ id: 'archive', productId: 'storage' });
        c.addons[0].dependencies = ['archive'];
      },
      ['addons[0].dependencies[0]'],
    ],
    ['add-on dependency cycle', (c) => (c.addons[0].dependencies = ['priority-support']), ['addons[0].dependencies']],
    ['add-on depending on itself', (c) => (c.addons[0].dependencies = ['extra-seats']), ['addons[0].dependencies']],
    ['entitlement.featureId unknown', (c) => plan(c, 'free').entitlements.push({ featureId: 'gpu' }), ['plans[0].entitlements[4].featureId']],
    ['entitlement.featureId missing', (c) => c.addons[1].entitlements.push({ value: 1 }), ['addons[1].entitlements[1].featureId']],
    ['price.featureId unknown', (c) => (proPrices(c)[2].featureId = 'gpus'), ['plans[1].prices[2].featureId']],
    ['product.defaultPlanId unknown', (c) => (c.products[0].defaultPlanId = 'gone'), ['products[0].defaultPlanId']],
    ['product.downgradePlanId of another product', (c) => (c.products[0].downgradePlanId = 'storage-basic'), ['products[0].downgradePlanId']],
    ['product.trialPlanId of another product', (c) => (c.products[1].trialPlanId = 'pro'), ['products[1].trialPlanId']],
    ['promotionCode.couponId unknown', (c) => (c.promotionCodes[0].couponId = 'gone'), ['promotionCodes[0].couponId']],
    ['feature.creditCost.currencyId unknown', (c) => (feature(c, 'api-calls').creditCost.currencyId = 'gems'), ['features[2].creditCost.currencyId']],
  ]);

  it('reports a longer parent cycle once, naming every plan in it', () => {
    const problems = problemsAfter((c) => {
      plan(c, 'storage-basic').parentPlanId = 'storage-plus';
      c.addons[1].dependencies = ['extra-seats'];
      c.addons[0].dependencies = ['priority-support'];
    });
    expect(problems.map((p) => p.path).sort()).toEqual(['addons[0].dependencies', 'plans[3].parentPlanId']);
    expect(problems.find((p) => p.path === 'plans[3].parentPlanId')?.message).toContain('"storage-basic" -> "storage-plus" -> "storage-basic"');
    expect(problems.find((p) => p.path === 'addons[0].dependencies')?.message).toContain('"extra-seats", "priority-support"');
  });
});

describe('validateCatalog: features and meters', () => {
  runCases([
    ['unknown feature type', (c) => (feature(c, 'sso').type = 'FLAG'), ['features[0].type']],
    ['feature type missing', (c) => delete feature(c, 'sso').type, ['features[0].type']],
    ['ENUM without enumValues', (c) => delete feature(c, 'region').enumValues, ['features[5].enumValues', 'plans[0].entitlements[2].enumValues[0]', 'plans[2].entitlements[1].enumValues[0]', 'plans[2].entitlements[1].enumValues[1]', 'plans[2].entitlements[1].enumValues[2]']],
    ['ENUM values repeated', (c) => feature(c, 'region').enumValues.push('eu'), ['features[5].enumValues[3]']],
    ['ENUM value not a string', (c) => feature(c, 'region').enumValues.push(3), ['features[5].enumValues[3]']],
    ['enumValues on a non-ENUM feature', (c) => (feature(c, 'seats').enumValues = ['a']), ['features[1].enumValues']],
    ['meter on a non-METERED feature', (c) => (feature(c, 'seats').meter = { eventName: 'x', aggregation: { type: 'COUNT' } }), ['features[1].meter']],
    ['meter not an object', (c) => (feature(c, 'projects').meter = 'count'), ['features[4].meter']],
    ['meter without eventName', (c) => delete feature(c, 'api-calls').meter.eventName, ['features[2].meter.eventName']],
    ['meter without aggregation', (c) => delete feature(c, 'api-calls').meter.aggregation, ['features[2].meter.aggregation']],
    ['meter with unknown aggregation', (c) => (feature(c, 'api-calls').meter.aggregation.type = 'MEDIAN'), ['features[2].meter.aggregation.type']],
    ['meter aggregation other than COUNT without field', (c) => delete feature(c, 'storage-gb').meter.aggregation.field, ['features[3].meter.aggregation.field']],
    ['meter filters not an array', (c) => (feature(c, 'api-calls').meter.filters = { status: 200 }), ['features[2].meter.filters']],
    ['meter filter without conditions', (c) => (feature(c, 'api-calls').meter.filters[1] = { conditions: [] }), ['features[2].meter.filters[1].conditions']],
    ['meter condition with unknown operator', (c) => (feature(c, 'api-calls').meter.filters[1].conditions[0].operator = 'LIKE'), ['features[2].meter.filters[1].conditions[0].operator']],
    ['meter condition without field', (c) => delete feature(c, 'api-calls').meter.filters[1].conditions[0].field, ['features[2].meter.filters[1].conditions[0].field']],
    ['IN needs an array', (c) => (feature(c, 'api-calls').meter.filters[0].conditions[0].value = 200), ['features[2].meter.filters[0].conditions[0].value']],
    ['IN values must be scalars', (c) => (feature(c, 'api-calls').meter.filters[0].conditions[0].value = [200, { a: 1 }]), ['features[2].meter.filters[0].conditions[0].value[1]']],
    ['IS_NULL takes no value', (c) => (feature(c, 'api-calls').meter.filters[0].conditions[1].value = 'x'), ['features[2].meter.filters[0].conditions[1].value']],
    ['STARTS_WITH needs a scalar value', (c) => (feature(c, 'api-calls').meter.filters[1].conditions[0].value = ['/v2/']), ['features[2].meter.filters[1].conditions[0].value']],
    ['EQUALS needs a value', (c) => (feature(c, 'api-calls').meter.filters[1].conditions[0] = { field: 'x', operator: 'EQUALS' }), ['features[2].meter.filters[1].conditions[0].value']],
    ['creditCost on a non-METERED feature', (c) => (feature(c, 'seats').creditCost = { currencyId: 'ai-credits', amount: '1' }), ['features[1].creditCost']],
    ['creditCost amount zero', (c) => (feature(c, 'api-calls').creditCost.amount = '0'), ['features[2].creditCost.amount']],
    ['creditCost amount not decimal', (c) => (feature(c, 'api-calls').creditCost.amount = 0.5), ['features[2].creditCost.amount']],
    ['metadata value not a string', (c) => (feature(c, 'seats').metadata.size = 3), ['features[1].metadata.size']],
  ]);
});

describe('validateCatalog: entitlements', () => {
  const ent = (c: Loose, planId: string, i: number): Loose => plan(c, planId).entitlements[i];
  runCases([
    ['BOOLEAN with a value', (c) => (ent(c, 'pro', 0).value = 1), ['plans[1].entitlements[0].value']],
    ['BOOLEAN with usageLimit, resetPeriod, isUnlimited', (c) => Object.assign(ent(c, 'pro', 0), { usageLimit: 1, resetPeriod: 'DAY', isUnlimited: true }), ['plans[1].entitlements[0].usageLimit', 'plans[1].entitlements[0].resetPeriod', 'plans[1].entitlements[0].isUnlimited']],
    ['NUMERIC without value or isUnlimited', (c) => delete ent(c, 'free', 0).value, ['plans[0].entitlements[0].value']],
    ['NUMERIC with value and isUnlimited', (c) => (ent(c, 'free', 0).isUnlimited = true), ['plans[0].entitlements[0].value']],
    ['NUMERIC with a negative value', (c) => (ent(c, 'free', 0).value = -1), ['plans[0].entitlements[0].value']],
    ['NUMERIC with an infinite value', (c) => (ent(c, 'free', 0).value = Infinity), ['plans[0].entitlements[0].value']],
    ['NUMERIC with usageLimit and resetPeriod', (c) => Object.assign(ent(c, 'free', 0), { usageLimit: 3, resetPeriod: 'MONTH' }), ['plans[0].entitlements[0].usageLimit', 'plans[0].entitlements[0].resetPeriod']],
    ['METERED without usageLimit or isUnlimited', (c) => delete ent(c, 'free', 1).usageLimit, ['plans[0].entitlements[1].usageLimit']],
    ['METERED with usageLimit and isUnlimited', (c) => (ent(c, 'free', 1).isUnlimited = true), ['plans[0].entitlements[1].usageLimit']],
    ['METERED with a string usageLimit', (c) => (ent(c, 'free', 1).usageLimit = '1000'), ['plans[0].entitlements[1].usageLimit']],
    ['METERED with a NaN usageLimit', (c) => (ent(c, 'free', 1).usageLimit = NaN), ['plans[0].entitlements[1].usageLimit']],
    ['METERED with a value', (c) => (ent(c, 'free', 3).value = 3), ['plans[0].entitlements[3].value']],
    ['METERED with unknown resetPeriod', (c) => (ent(c, 'free', 3).resetPeriod = 'QUARTER'), ['plans[0].entitlements[3].resetPeriod']],
    ['monthlyAccordingTo with WEEK', (c) => (ent(c, 'free', 1).resetPeriod = 'WEEK'), ['plans[0].entitlements[1].resetPeriodConfiguration.monthlyAccordingTo']],
    ['weeklyAccordingTo with MONTH', (c) => (ent(c, 'pro', 2).resetPeriod = 'MONTH'), ['plans[1].entitlements[2].resetPeriodConfiguration.weeklyAccordingTo']],
    ['unknown monthlyAccordingTo', (c) => (ent(c, 'free', 1).resetPeriodConfiguration.monthlyAccordingTo = 'FIRST'), ['plans[0].entitlements[1].resetPeriodConfiguration.monthlyAccordingTo']],
    ['unknown weeklyAccordingTo', (c) => (ent(c, 'pro', 2).resetPeriodConfiguration.weeklyAccordingTo = 'MON'), ['plans[1].entitlements[2].resetPeriodConfiguration.weeklyAccordingTo']],
    ['isUnlimited not a boolean', (c) => (plan(c, 'enterprise').entitlements[0].isUnlimited = 'yes'), ['plans[2].entitlements[0].isUnlimited', 'plans[2].entitlements[0].value']],
    ['ENUM without enumValues', (c) => delete ent(c, 'free', 2).enumValues, ['plans[0].entitlements[2].enumValues']],
    ['ENUM value outside the feature', (c) => ent(c, 'free', 2).enumValues.push('mars'), ['plans[0].entitlements[2].enumValues[1]']],
    ['ENUM with a usageLimit', (c) => (ent(c, 'free', 2).usageLimit = 1), ['plans[0].entitlements[2].usageLimit']],
    ['feature listed twice in one list', (c) => c.addons[0].entitlements.push({ featureId: 'seats', value: 1 }), ['addons[0].entitlements[1].featureId']],
    ['entitlements not an array', (c) => (c.addons[1].entitlements = { sso: true }), ['addons[1].entitlements']],
    ['entitlement not an object', (c) => c.addons[1].entitlements.push('sso'), ['addons[1].entitlements[1]']],
  ]);
});

describe('validateCatalog: prices', () => {
  runCases([
    ['unknown pricingType', (c) => (plan(c, 'pro').pricingType = 'SUBSCRIPTION'), ['plans[1].pricingType']],
    ['PAID plan without prices', (c) => delete plan(c, 'storage-basic').prices, ['plans[3].prices']],
    ['FREE plan with prices', (c) => (plan(c, 'free').prices = [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '0' }]), ['plans[0].prices']],
    ['unknown billingPeriod', (c) => (proPrices(c)[0].billingPeriod = 'WEEKLY'), ['plans[1].prices[0].billingPeriod']],
    ['unknown billingModel', (c) => (proPrices(c)[0].billingModel = 'TIERED'), ['plans[1].prices[0].billingModel']],
    ['currency missing', (c) => delete c.addons[0].prices[0].currency, ['addons[0].prices[0].currency']],
    ['currency lowercase', (c) => (c.addons[0].prices[0].currency = 'usd'), ['addons[0].prices[0].currency']],
    ['currency not ISO-4217', (c) => (c.addons[0].prices[0].currency = 'XYZ'), ['addons[0].prices[0].currency']],
    ['amount as a number', (c) => (c.addons[0].prices[0].amount = 20), ['addons[0].prices[0].amount']],
    ['amount negative', (c) => (c.addons[0].prices[0].amount = '-20'), ['addons[0].prices[0].amount']],
    ['amount malformed', (c) => (c.addons[0].prices[0].amount = '20.'), ['addons[0].prices[0].amount']],
    ['FLAT_FEE without amount', (c) => delete c.addons[0].prices[0].amount, ['addons[0].prices[0].amount']],
    ['FLAT_FEE with featureId and tiers', (c) => Object.assign(c.addons[0].prices[0], { featureId: 'seats', tiers: [] }), ['addons[0].prices[0].featureId', 'addons[0].prices[0].tiers']],
    ['PER_UNIT without featureId', (c) => delete proPrices(c)[2].featureId, ['plans[1].prices[2].featureId']],
    ['USAGE_BASED on an add-on without featureId', (c) => (c.addons[0].prices = [{ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', currency: 'USD', amount: '1' }]), ['addons[0].prices[0].featureId']],
    ['PER_UNIT on a BOOLEAN feature', (c) => (proPrices(c)[2].featureId = 'sso'), ['plans[1].prices[2].featureId']],
    ['USAGE_BASED on a NUMERIC feature', (c) => (plan(c, 'storage-basic').prices[0].featureId = 'seats'), ['plans[3].prices[0].featureId']],
    ['unit price with amount and tiers', (c) => (proPrices(c)[2].tiers = [{ upTo: null, unitAmount: '1' }]), ['plans[1].prices[2].tiers']],
    ['unit price with neither amount nor tiers', (c) => delete proPrices(c)[2].amount, ['plans[1].prices[2].amount']],
    ['blockSize not a positive integer', (c) => (plan(c, 'storage-basic').prices[0].blockSize = 0), ['plans[3].prices[0].blockSize']],
    ['blockSize with tiers', (c) => (proPrices(c)[3].blockSize = 10), ['plans[1].prices[3].blockSize']],
    ['tiers without tiersMode', (c) => delete proPrices(c)[3].tiersMode, ['plans[1].prices[3].tiersMode']],
    ['unknown tiersMode', (c) => (proPrices(c)[3].tiersMode = 'STAIRCASE'), ['plans[1].prices[3].tiersMode']],
    ['tiersMode without tiers', (c) => (proPrices(c)[2].tiersMode = 'VOLUME'), ['plans[1].prices[2].tiersMode']],
    ['tiers empty', (c) => (proPrices(c)[3].tiers = []), ['plans[1].prices[3].tiers']],
    ['tiers not increasing', (c) => (proPrices(c)[3].tiers[1].upTo = 1000), ['plans[1].prices[3].tiers[1].upTo']],
    ['tier upTo not an integer', (c) => (proPrices(c)[3].tiers[0].upTo = 10.5), ['plans[1].prices[3].tiers[0].upTo']],
    ['open tier before the last', (c) => (proPrices(c)[3].tiers[1].upTo = null), ['plans[1].prices[3].tiers[1].upTo']],
    ['last tier not open', (c) => (proPrices(c)[3].tiers[2].upTo = 20_000), ['plans[1].prices[3].tiers[2].upTo']],
    ['tier without amounts', (c) => (proPrices(c)[3].tiers[1] = { upTo: 10_000 }), ['plans[1].prices[3].tiers[1]']],
    ['tier amount negative', (c) => (proPrices(c)[3].tiers[1].unitAmount = '-0.01'), ['plans[1].prices[3].tiers[1].unitAmount']],
    ['minUnitQuantity negative', (c) => (proPrices(c)[2].minUnitQuantity = -1), ['plans[1].prices[2].minUnitQuantity']],
    ['min above max', (c) => (proPrices(c)[2].minUnitQuantity = 600), ['plans[1].prices[2].maxUnitQuantity']],
    ['quantity bounds on USAGE_BASED', (c) => (proPrices(c)[3].maxUnitQuantity = 5), ['plans[1].prices[3].maxUnitQuantity']],
    ['two prices for one slot', (c) => proPrices(c).push({ ...proPrices(c)[2], amount: '9' }), ['plans[1].prices[4]']],
    ['prices in two currencies', (c) => (c.addons[0].prices = [c.addons[0].prices[0], { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'EUR', amount: '200' }]), ['addons[0].prices[1].currency']],
    ['a country billed in two currencies', (c) => (proPrices(c)[1].countryOverrides.DE.currency = 'CHF'), ['plans[1].prices[1].countryOverrides.DE.currency']],
    ['a price without the override the others have', (c) => delete proPrices(c)[2].countryOverrides.JP, ['plans[1].prices[2].countryOverrides']],
    ['countryOverrides key not ISO-3166-1', (c) => (proPrices(c)[0].countryOverrides.UK = { currency: 'GBP', amount: '40' }), ['plans[1].prices[0].countryOverrides.UK']],
    ['countryOverrides key lowercase', (c) => (proPrices(c)[0].countryOverrides.de = { currency: 'EUR', amount: '40' }), ['plans[1].prices[0].countryOverrides.de']],
    ['override without currency', (c) => delete proPrices(c)[0].countryOverrides.DE.currency, ['plans[1].prices[0].countryOverrides.DE.currency']],
    ['override with tiers for an amount price', (c) => (proPrices(c)[0].countryOverrides.DE = { currency: 'EUR', tiers: [{ upTo: null, unitAmount: '1' }] }), ['plans[1].prices[0].countryOverrides.DE.amount', 'plans[1].prices[0].countryOverrides.DE.tiers']],
    ['override with an amount for a tiered price', (c) => (proPrices(c)[3].countryOverrides.DE = { currency: 'EUR', amount: '1' }), ['plans[1].prices[3].countryOverrides.DE.amount', 'plans[1].prices[3].countryOverrides.DE.tiers']],
    ['override tiers malformed', (c) => (proPrices(c)[3].countryOverrides.JP.tiers[0].upTo = 5), ['plans[1].prices[3].countryOverrides.JP.tiers[0].upTo']],
  ]);
});

// Usage is billed by the reset windows that start within a billing period (docs/pricing.md#usage-in-arrears).
describe('validateCatalog: usage-based prices and their reset windows', () => {
  const storageGb = (c: Loose): Loose => plan(c, 'storage-basic').entitlements[0];
  const usagePrice = (featureId: string) => ({ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId, currency: 'USD', amount: '1' });
  runCases([
    ['USAGE_BASED on a feature the plan gives no entitlement (bills 0.00)', (c) => (plan(c, 'storage-basic').entitlements = []), ['plans[3].prices[0].featureId']],
    ['USAGE_BASED on a feature that never resets (bills 0.00)', (c) => (storageGb(c).resetPeriod = null), ['plans[3].prices[0].featureId']],
    ['a YEAR reset billed MONTHLY (one month billed for another)', (c) => (storageGb(c).resetPeriod = 'YEAR'), ['plans[3].prices[0].billingPeriod']],
    ['a YEAR reset billed ANNUALLY is fine', (c) => Object.assign(storageGb(c), { resetPeriod: 'YEAR' }) && (plan(c, 'storage-basic').prices[0].billingPeriod = 'ANNUALLY'), []],
    ['a reset period inherited from the parent plan counts', (c) => {
      plan(c, 'storage-plus').entitlements = [];
      plan(c, 'storage-plus').prices.push({ ...usagePrice('storage-gb'), currency: 'GBP' });
    }, []],
    ['an inherited YEAR reset billed MONTHLY', (c) => {
      storageGb(c).resetPeriod = 'YEAR';
      plan(c, 'storage-plus').entitlements = [];
      plan(c, 'storage-basic').prices[0].billingPeriod = 'ANNUALLY';
      plan(c, 'storage-plus').prices.push({ ...usagePrice('storage-gb'), currency: 'GBP' });
    }, ['plans[4].prices[1].billingPeriod']],
    ['USAGE_BASED on an add-on whose plans give the feature no reset period', (c) => c.addons[0].prices.push(usagePrice('storage-gb')), ['addons[0].prices[1].featureId']],
    ['USAGE_BASED on an add-on with a reset period of its own', (c) => {
      c.addons[0].prices.push(usagePrice('storage-gb'));
      c.addons[0].entitlements.push({ featureId: 'storage-gb', usageLimit: 10, resetPeriod: 'MONTH' });
    }, []],
    ['USAGE_BASED on an add-on whose plans reset the feature weekly', (c) => c.addons[0].prices.push(usagePrice('api-calls')), []],
    ['USAGE_BASED on an add-on with its own YEAR reset billed MONTHLY', (c) => {
      c.addons[0].prices.push(usagePrice('storage-gb'));
      c.addons[0].entitlements.push({ featureId: 'storage-gb', usageLimit: 10, resetPeriod: 'YEAR' });
    }, ['addons[0].prices[1].billingPeriod']],
  ]);

  it('says what would go wrong and what to add', () => {
    const [none] = problemsAfter((c) => (plan(c, 'storage-basic').entitlements = []));
    expect(none?.message).toMatch(/plan "storage-basic" gives "storage-gb" no entitlement.*bill 0\.00.*resetPeriod of MONTH or shorter to plans\[3\]\.entitlements/);
    const [year] = problemsAfter((c) => (storageGb(c).resetPeriod = 'YEAR'));
    expect(year?.message).toMatch(/MONTHLY but plans\[3\]\.entitlements\[0\] resets it every YEAR.*resetPeriod of MONTH or shorter/);
  });
});

describe('validateCatalog: trials, add-ons, products', () => {
  runCases([
    ['trial days not a positive integer', (c) => (plan(c, 'pro').trial.days = 0), ['plans[1].trial.days']],
    ['trial with unknown onEnd', (c) => (plan(c, 'pro').trial.onEnd = 'CANCEL'), ['plans[1].trial.onEnd']],
    ['trial on a FREE plan', (c) => (plan(c, 'free').trial = { days: 7, onEnd: 'CONVERT_TO_PAID' }), ['plans[0].trial']],
    ['add-on maxQuantity zero', (c) => (c.addons[0].maxQuantity = 0), ['addons[0].maxQuantity']],
    ['add-on maxQuantity fractional', (c) => (c.addons[0].maxQuantity = 1.5), ['addons[0].maxQuantity']],
    ['unknown cancellationTime', (c) => (c.products[0].cancellationTime = 'LATER'), ['products[0].cancellationTime']],
    ['unknown startWith', (c) => (c.products[0].startWith = 'PAID_PLAN'), ['products[0].startWith']],
    ['startWith FREE_PLAN without defaultPlanId', (c) => delete c.products[0].defaultPlanId, ['products[0].defaultPlanId']],
    ['startWith FREE_PLAN with a paid default plan', (c) => (c.products[0].defaultPlanId = 'pro'), ['products[0].defaultPlanId']],
    ['startWith TRIAL on a plan without trial', (c) => (c.products[1].trialPlanId = 'storage-basic'), ['products[1].trialPlanId']],
    ['startWith TRIAL without any trial plan', (c) => delete c.products[1].trialPlanId, ['products[1].startWith']],
    ['startWith TRIAL with a default plan that has no trial', (c) => Object.assign(c.products[1], { trialPlanId: undefined, defaultPlanId: 'storage-basic' }), ['products[1].startWith']],
    ['multipleSubscriptions not a boolean', (c) => (c.products[1].multipleSubscriptions = 'yes'), ['products[1].multipleSubscriptions']],
  ]);

  it('accepts an add-on PER_UNIT price without featureId (the unit is the add-on)', () => {
    expect(pathsAfter((c) => (c.addons[0].prices = [{ billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', currency: 'USD', amount: '5', blockSize: 5 }]))).toEqual([]);
  });

  it('accepts startWith TRIAL through a default plan with a trial', () => {
    expect(pathsAfter((c) => Object.assign(c.products[1], { trialPlanId: undefined, defaultPlanId: 'storage-plus' }))).toEqual([]);
  });
});

describe('validateCatalog: coupons, promotion codes, tax rates, credit currencies', () => {
  runCases([
    ['unknown coupon type', (c) => (c.coupons[0].type = 'AMOUNT'), ['coupons[0].type']],
    ['percentage zero', (c) => (c.coupons[0].value = '0'), ['coupons[0].value']],
    ['percentage above 100', (c) => (c.coupons[0].value = '100.5'), ['coupons[0].value']],
    ['percentage as a number', (c) => (c.coupons[0].value = 20), ['coupons[0].value']],
    ['fixed without currency', (c) => delete c.coupons[1].currency, ['coupons[1].currency']],
    ['fixed amount zero', (c) => (c.coupons[1].value = '0.00'), ['coupons[1].value']],
    ['durationInMonths zero', (c) => (c.coupons[0].durationInMonths = 0), ['coupons[0].durationInMonths']],
    ['promotion code empty', (c) => (c.promotionCodes[0].code = ''), ['promotionCodes[0].code']],
    ['expiresAt not a date', (c) => (c.promotionCodes[0].expiresAt = 'next year'), ['promotionCodes[0].expiresAt']],
    ['expiresAt a day that does not exist', (c) => (c.promotionCodes[1].expiresAt = '2030-02-29'), ['promotionCodes[1].expiresAt']],
    ['expiresAt a date-time without offset', (c) => (c.promotionCodes[0].expiresAt = '2030-01-01T00:00:00'), ['promotionCodes[0].expiresAt']],
    ['maxRedemptions zero', (c) => (c.promotionCodes[0].maxRedemptions = 0), ['promotionCodes[0].maxRedemptions']],
    ['active not a boolean', (c) => (c.promotionCodes[0].active = 1), ['promotionCodes[0].active']],
    ['tax country unknown', (c) => (c.taxRates[0].countryCode = 'XX'), ['taxRates[0].countryCode']],
    ['tax country twice', (c) => c.taxRates.push({ countryCode: 'DE', rate: '0.07' }), ['taxRates[2].countryCode']],
    ['tax rate of 1 or more', (c) => (c.taxRates[0].rate = '1'), ['taxRates[0].rate']],
    ['tax rate negative', (c) => (c.taxRates[0].rate = '-0.1'), ['taxRates[0].rate']],
    ['tax rate as a number', (c) => (c.taxRates[0].rate = 0.19), ['taxRates[0].rate']],
    ['credit unit price without currency', (c) => delete c.creditCurrencies[0].unitPrice.currency, ['creditCurrencies[0].unitPrice.currency']],
    ['credit unit price zero', (c) => (c.creditCurrencies[0].unitPrice.amount = '0'), ['creditCurrencies[0].unitPrice.amount']],
  ]);

  it('accepts date-times with an offset and fractional seconds', () => {
    expect(pathsAfter((c) => (c.promotionCodes[0].expiresAt = '2030-01-01T10:30:00.123+02:00'))).toEqual([]);
  });
});

describe('docs/catalog.md', () => {
  it('has an example catalog that is valid and resolves as the text says', () => {
    const doc = readFileSync(new URL('../docs/catalog.md', import.meta.url), 'utf8');
    const json = /## Example\s+```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(json).toBeDefined();
    const definition = JSON.parse(json ?? '{}') as CatalogDefinition;
    expect(validateCatalog(definition)).toEqual([]);
    const pro = defineCatalog(definition).planEntitlements('pro');
    expect(pro.map((e) => e.featureId).sort()).toEqual(['api-calls', 'seats', 'sso']);
  });
});

describe('defineCatalog', () => {
  it('throws INVALID_ARGUMENT with every problem in details.problems', () => {
    const bad: Loose = richCatalog();
    bad.plans[0].productId = 'nope';
    bad.coupons[0].value = '0';
    let caught: unknown;
    try {
      defineCatalog(bad);
    } catch (e) {
      caught = e;
    }
    expect(isTesseraError(caught, 'INVALID_ARGUMENT')).toBe(true);
    if (!isTesseraError(caught)) return;
    const paths = (caught.details.problems ?? []).map((p) => p.path).sort();
    expect(paths).toEqual(['coupons[0].value', 'plans[0].productId']);
    expect(caught.message).toContain('coupons[0].value');
  });

  it('resolves plan entitlements through the parent chain, the child overriding per feature', () => {
    const catalog = defineCatalog(richCatalog());
    const byFeature = (planId: string) => Object.fromEntries(catalog.planEntitlements(planId).map((e) => [e.featureId, e]));

    const free = byFeature('free');
    expect(Object.keys(free).sort()).toEqual(['api-calls', 'projects', 'region', 'seats']);

    const pro = byFeature('pro');
    expect(Object.keys(pro).sort()).toEqual(['api-calls', 'projects', 'region', 'seats', 'sso']);
    expect(pro.seats?.value).toBe(10); // pro overrides free's 1
    expect(pro['api-calls']?.usageLimit).toBe(100_000);
    expect(pro.projects?.usageLimit).toBe(3); // inherited from free

    // enterprise -> pro -> free: the grandparent's entitlements reach the grandchild.
    const enterprise = byFeature('enterprise');
    expect(enterprise.seats?.isUnlimited).toBe(true);
    expect(enterprise.sso).toBeDefined(); // from pro
    expect(enterprise.projects?.usageLimit).toBe(3); // from free
    expect(enterprise.region?.enumValues).toEqual(['us', 'eu', 'apac']); // own, over free's ['us']
    expect(enterprise['api-calls']?.resetPeriod).toBe('WEEK'); // pro's, over free's MONTH
  });

  it('orders plans within their product as declared', () => {
    const catalog = defineCatalog(richCatalog());
    expect(catalog.plansOfProduct('app').map((p) => p.id)).toEqual(['free', 'pro', 'enterprise']);
    expect(catalog.plansOfProduct('storage').map((p) => p.id)).toEqual(['storage-basic', 'storage-plus']);
    expect(catalog.plansOfProduct('nope')).toEqual([]);
    expect(['free', 'pro', 'enterprise', 'storage-basic', 'storage-plus'].map((id) => catalog.planRank(id))).toEqual([0, 1, 2, 0, 1]);
    expect(catalog.planRank('nope')).toBe(-1);
  });

  it('keeps its own copy of the definition', () => {
    const def = richCatalog();
    const catalog = defineCatalog(def);
    def.plans[0]!.id = 'changed';
    expect(catalog.plans.has('free')).toBe(true);
  });
});

describe('countries and currencies', () => {
  it('knows assigned ISO-3166-1 alpha-2 codes only', () => {
    expect(['US', 'DE', 'JP', 'GB', 'AX', 'SS', 'BQ'].every(isCountryCode)).toBe(true);
    expect(['UK', 'EU', 'XK', 'de', 'USA', '', 42].some(isCountryCode)).toBe(false);
  });

  it('gives the ISO-4217 minor units', () => {
    expect(['USD', 'EUR', 'GBP', 'CHF', 'INR', 'BRL'].map(currencyMinorUnits)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(['JPY', 'KRW', 'CLP', 'ISK'].map(currencyMinorUnits)).toEqual([0, 0, 0, 0]);
    expect(['KWD', 'BHD', 'JOD', 'OMR', 'TND'].map(currencyMinorUnits)).toEqual([3, 3, 3, 3, 3]);
    expect(currencyMinorUnits('usd')).toBeUndefined();
    expect(currencyMinorUnits('XYZ')).toBeUndefined();
    expect(currencyMinorUnits('toString')).toBeUndefined();
    expect(isCurrencyCode('SEK')).toBe(true);
    expect(isCurrencyCode('constructor')).toBe(false);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('follows JSON.stringify for undefined and non-finite numbers', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, NaN], c: null })).toBe('{"b":[null,null],"c":null}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
  });

  it('throws on a circular structure', () => {
    const a: Loose = {};
    a.self = a;
    expect(() => canonicalJson(a)).toThrow(TypeError);
  });
});

describe('nextCatalogVersion', () => {
  const T0 = Date.UTC(2025, 0, 1);
  const T1 = Date.UTC(2025, 1, 1);
  const first = () => nextCatalogVersion(undefined, richCatalog(), T0);

  it('starts at version 1 with every plan and add-on at 1', () => {
    const { record, changed } = first();
    expect(changed).toBe(true);
    expect(record.version).toBe(1);
    expect(record.publishedAt).toBe(T0);
    expect(record.planVersions).toEqual({ free: 1, pro: 1, enterprise: 1, 'storage-basic': 1, 'storage-plus': 1 });
    expect(record.addonVersions).toEqual({ 'extra-seats': 1, 'priority-support': 1 });
  });

  it('reports no change for a canonically identical catalog, whatever the key order', () => {
    const v1 = first().record;
    const reordered = JSON.parse(canonicalJson(richCatalog())) as CatalogDefinition; // keys sorted: another order
    const next = nextCatalogVersion(v1, reordered, T1);
    expect(next.changed).toBe(false);
    expect(next.record).toBe(v1);
  });

  it('bumps only the changed plan when it has no children', () => {
    const v1 = first().record;
    const def: Loose = richCatalog();
    plan(def, 'enterprise').metadata = { sales: 'yes' };
    const { record, changed } = nextCatalogVersion(v1, def, T1);
    expect(changed).toBe(true);
    expect(record.version).toBe(2);
    expect(record.publishedAt).toBe(T1);
    expect(record.planVersions).toEqual({ free: 1, pro: 1, enterprise: 2, 'storage-basic': 1, 'storage-plus': 1 });
    expect(record.addonVersions).toEqual({ 'extra-seats': 1, 'priority-support': 1 });
  });

  it('bumps the children of a plan whose entitlements changed', () => {
    const v1 = first().record;
    const def: Loose = richCatalog();
    plan(def, 'free').entitlements[3].usageLimit = 5; // projects: inherited by pro and enterprise
    const { record } = nextCatalogVersion(v1, def, T1);
    expect(record.planVersions).toEqual({ free: 2, pro: 2, enterprise: 2, 'storage-basic': 1, 'storage-plus': 1 });
  });

  it('does not bump children when the parent changes something they do not inherit', () => {
    const v1 = first().record;
    const def: Loose = richCatalog();
    proPrices(def)[0].amount = '59.00';
    const { record } = nextCatalogVersion(v1, def, T1);
    expect(record.planVersions).toEqual({ free: 1, pro: 2, enterprise: 1, 'storage-basic': 1, 'storage-plus': 1 });
  });

  it('does not bump a child whose own entitlement overrides what changed in the parent', () => {
    const v1 = first().record;
    const def: Loose = richCatalog();
    plan(def, 'free').entitlements[0].value = 2; // seats: pro and enterprise override it
    const { record } = nextCatalogVersion(v1, def, T1);
    expect(record.planVersions).toEqual({ free: 2, pro: 1, enterprise: 1, 'storage-basic': 1, 'storage-plus': 1 });
  });

  it('gives an added plan version 1 and keeps counting the others across publishes', () => {
    const v1 = first().record;
    const def2: Loose = richCatalog();
    plan(def2, 'pro').trial.days = 30;
    const v2 = nextCatalogVersion(v1, def2, T1).record;
    const def3: Loose = structuredClone(def2);
    def3.plans.push({ id: 'team', productId: 'app', pricingType: 'CUSTOM' });
    plan(def3, 'pro').trial.days = 21;
    def3.addons[0].maxQuantity = 20;
    const v3 = nextCatalogVersion(v2, def3, T1 + 1);
    expect(v3.changed).toBe(true);
    expect(v3.record.version).toBe(3);
    expect(v3.record.planVersions).toEqual({ free: 1, pro: 3, enterprise: 1, 'storage-basic': 1, 'storage-plus': 1, team: 1 });
    expect(v3.record.addonVersions).toEqual({ 'extra-seats': 2, 'priority-support': 1 });
  });

  it('drops removed plans and restarts a re-added one at 1', () => {
    const v1 = first().record;
    const without: Loose = richCatalog();
    without.plans = without.plans.filter((p: Loose) => p.id !== 'enterprise');
    const v2 = nextCatalogVersion(v1, without, T1).record;
    expect(v2.planVersions).not.toHaveProperty('enterprise');
    const v3 = nextCatalogVersion(v2, richCatalog(), T1 + 1).record;
    expect(v3.version).toBe(3);
    expect(v3.planVersions.enterprise).toBe(1);
  });

  it('keeps the record apart from the caller’s object', () => {
    const def = richCatalog();
    const { record } = nextCatalogVersion(undefined, def, T0);
    def.plans[0]!.id = 'changed';
    expect(record.definition.plans[0]?.id).toBe('free');
  });

  it('terminates on a parent cycle in an unvalidated definition', () => {
    const def: Loose = richCatalog();
    plan(def, 'free').parentPlanId = 'enterprise';
    expect(nextCatalogVersion(undefined, def, T0).record.planVersions.free).toBe(1);
  });
});
