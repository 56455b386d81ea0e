/**
 * fast-check arbitraries for whole catalogs. Every catalog `arbCatalog` produces passes
 * `validateCatalog` (checked as it is built: a failure is a bug of this package and throws with
 * the problems). Built from specs with `map` only (no `chain`), so shrinking is deterministic:
 * fewer features, plans, add-ons and coupons, then each part's own minimum.
 */
import fc from 'fast-check';
import {
  FEATURE_TYPES,
  validateCatalog,
  type AddonDefinition,
  type BillingPeriod,
  type CatalogDefinition,
  type CouponDefinition,
  type FeatureType,
  type PlanDefinition,
  type PriceModel,
  type PricingType,
  type ProductDefinition,
  type PromotionCodeDefinition,
  type ResetPeriod,
  type TaxRateDefinition,
} from '@tessera/core';
import { DEFAULT_CURRENCIES } from './arbitraries.js';
import { DEFAULT_RESET_PERIODS, buildCoupon, buildFeature, couponSpec, featureSpec, type CouponSpec, type FeatureSpec } from './arbitraries-feature.js';
import { COUPON_IDS, addonId, addonSpec, buildAddon, buildPlan, planId, planSpec, type AddonSpec, type PlanSpec } from './arbitraries-plan.js';
import { DEFAULT_COUNTRY_CURRENCIES, PRICE_MODELS } from './arbitraries-price.js';
import { compact, index, pick, weighted } from './choice.js';

// ---------------------------------------------------------------------------------------------
// Catalogs

/** Bounds [min, max] of how many of each part a catalog has. */
export interface CatalogSizes {
  /** Default [1, 4]. */
  features?: [number, number];
  /** Products; default [1, 1]. */
  products?: [number, number];
  /** Plans per product; default [1, 3]. */
  plans?: [number, number];
  /** Add-ons per product; default [0, 2]. */
  addons?: [number, number];
  /** Default [0, 2]. */
  coupons?: [number, number];
}

/** Options of `arbCatalog`: each narrows what catalogs hold. */
export interface CatalogOptions {
  /** Base currency of all prices, picked from these; default USD, EUR, JPY, KWD. */
  currencies?: readonly string[];
  /** Pricing models; default all of `PRICE_MODELS`. */
  models?: readonly PriceModel[];
  /** USAGE_BASED prices on metered features; default true. */
  usageBased?: boolean;
  /** Billing periods prices use; default ['MONTHLY', 'ANNUALLY']. */
  billingPeriods?: readonly BillingPeriod[];
  /** Reset periods of METERED entitlements; default `DEFAULT_RESET_PERIODS`. */
  resetPeriods?: readonly (ResetPeriod | null)[];
  /** Feature types; default all four. */
  featureTypes?: readonly FeatureType[];
  /** Plan pricing types; default PAID, FREE, CUSTOM. */
  pricingTypes?: readonly PricingType[];
  /** Country overrides on every price: a map country to currency, or false for none; default some of `DEFAULT_COUNTRY_CURRENCIES`. */
  countries?: Readonly<Record<string, string>> | false;
  /** Tax rates for some countries; default true. */
  taxRates?: boolean;
  /** Trials on plans; default true. */
  trials?: boolean;
  /** METERED features fed by meters over raw events; default true. */
  meters?: boolean;
  /** Coupon types, in shrinking order; default PERCENTAGE, FIXED. */
  couponTypes?: readonly ('PERCENTAGE' | 'FIXED')[];
  /** Promotion codes for coupons; default true. */
  promotionCodes?: boolean;
  /** Products with one subscription per resource; default false. */
  multipleSubscriptions?: boolean;
  sizes?: CatalogSizes;
}

interface ProductSpec {
  plans: PlanSpec[];
  addons: AddonSpec[];
  journey: 'NONE' | 'FREE_PLAN' | 'TRIAL';
  downgrade: boolean;
  cancellation: 'NONE' | 'IMMEDIATE' | 'END_OF_BILLING_PERIOD';
  multiple: boolean;
}

const TAX_RATES = ['0.20', '0.19', '0.10', '0.075', '0'];

/**
 * Whole catalogs that pass `validateCatalog` (asserted for every one): features of the allowed
 * types, products with ordered plans (parents, trials, compatible add-ons), add-ons with
 * dependencies, prices of every model in one base currency with the same country overrides
 * everywhere (so any plan with any add-on bills in one currency per country), coupons with
 * promotion codes, tax rates, and product journeys (default, downgrade and trial plans,
 * cancellation timing).
 *
 * Shrinks to `{ features: [{ id: 'sso', type: 'BOOLEAN' }], products: [{ id: 'app' }],
 * plans: [{ id: 'starter', productId: 'app', pricingType: 'PAID', prices: [{ billingPeriod:
 * 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '0.00' }] }] }` (with the first of
 * each narrowed option).
 */
export function arbCatalog(options: CatalogOptions = {}): fc.Arbitrary<CatalogDefinition> {
  const sizes = options.sizes ?? {};
  const [fMin, fMax] = sizes.features ?? [1, 4];
  const [prMin, prMax] = sizes.products ?? [1, 1];
  const [plMin, plMax] = sizes.plans ?? [1, 3];
  const [aMin, aMax] = sizes.addons ?? [0, 2];
  const [cMin, cMax] = sizes.coupons ?? [0, 2];
  const currencies = options.currencies ?? DEFAULT_CURRENCIES;
  const countryChoices: Readonly<Record<string, string>>[] =
    options.countries === false ? [{}] : options.countries ? [options.countries] : [{}, { DE: 'EUR' }, { DE: 'EUR', GB: 'GBP' }, DEFAULT_COUNTRY_CURRENCIES];
  // One spec arbitrary per currency, so that amounts have that currency's digits.
  const byCurrency = currencies.map((currency) =>
    fc.record({
      products: fc.array(
        fc.record({
          plans: fc.array(planSpec(currency), { minLength: plMin, maxLength: Math.max(plMin, plMax) }),
          addons: fc.array(addonSpec(currency), { minLength: aMin, maxLength: Math.max(aMin, aMax) }),
          journey: weighted<ProductSpec['journey']>([
            ['NONE', 3],
            ['FREE_PLAN', 2],
            ['TRIAL', 1],
          ]),
          downgrade: weighted([
            [false, 1],
            [true, 1],
          ]),
          cancellation: weighted<ProductSpec['cancellation']>([
            ['NONE', 2],
            ['IMMEDIATE', 1],
            ['END_OF_BILLING_PERIOD', 1],
          ]),
          multiple: options.multipleSubscriptions ? fc.boolean() : fc.constant(false),
        }),
        { minLength: prMin, maxLength: Math.max(prMin, prMax) },
      ),
      coupons: fc.array(couponSpec(currency), { minLength: cMin, maxLength: Math.max(cMin, cMax) }),
    }),
  );
  return fc
    .record({
      currency: index(currencies.length - 1),
      parts: fc.tuple(...byCurrency),
      features: fc.array(featureSpec(options.meters ?? true), { minLength: fMin, maxLength: Math.max(fMin, fMax) }),
      countries: index(countryChoices.length - 1),
      taxRates: options.taxRates === false ? fc.constant([]) : fc.array(fc.record({ country: index(), rate: index(TAX_RATES.length - 1) }), { maxLength: 2 }),
    })
    .map(({ currency, parts, features, countries, taxRates }) => {
      const c = currencies[currency] ?? 'USD';
      const part = parts[currency]!;
      const def = buildCatalog(options, c, countryChoices[countries] ?? {}, features, part.products, part.coupons, taxRates);
      const problems = validateCatalog(def);
      if (problems.length > 0) {
        throw new Error(
          `@tessera/testing arbCatalog built an invalid catalog (a bug in @tessera/testing, please report it):\n` +
            `${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n${JSON.stringify(def)}`,
        );
      }
      return def;
    });
}

function buildCatalog(
  options: CatalogOptions,
  currency: string,
  countries: Readonly<Record<string, string>>,
  featureSpecs: readonly FeatureSpec[],
  productSpecs: readonly ProductSpec[],
  couponSpecs: readonly CouponSpec[],
  taxSpecs: readonly { country: number; rate: number }[],
): CatalogDefinition {
  const types = options.featureTypes ?? FEATURE_TYPES;
  const counts = new Map<FeatureType, number>();
  const features = featureSpecs.map((spec) =>
    buildFeature(spec, types, (type) => {
      const n = counts.get(type) ?? 0;
      counts.set(type, n + 1);
      return n;
    }),
  );
  const products: ProductDefinition[] = [];
  const plans: PlanDefinition[] = [];
  const addons: AddonDefinition[] = [];
  productSpecs.forEach((ps, p) => {
    const productId = p === 0 ? 'app' : `app-${p + 1}`;
    const base = {
      productId,
      features,
      currency,
      countries,
      billingPeriods: options.billingPeriods ?? (['MONTHLY', 'ANNUALLY'] as BillingPeriod[]),
      models: options.models ?? PRICE_MODELS,
      usageBased: options.usageBased ?? true,
      pricingTypes: options.pricingTypes ?? (['PAID', 'FREE', 'CUSTOM'] as PricingType[]),
      resetPeriods: options.resetPeriods ?? DEFAULT_RESET_PERIODS,
      trials: options.trials ?? true,
    };
    const productAddons: AddonDefinition[] = [];
    ps.addons.forEach((spec, i) => {
      const id = addonId(p, i);
      productAddons.push(buildAddon(spec, { ...base, id, parentIds: [], addons: [] }, productAddons.map((a) => a.id)));
    });
    const productPlans: PlanDefinition[] = [];
    ps.plans.forEach((spec, i) => {
      productPlans.push(buildPlan(spec, { ...base, id: planId(p, i), parentIds: productPlans.map((x) => x.id), addons: productAddons }));
    });
    const product: ProductDefinition = { id: productId };
    const free = productPlans.find((x) => x.pricingType === 'FREE');
    const trial = productPlans.find((x) => x.trial !== undefined);
    if (ps.journey === 'FREE_PLAN' && free) {
      product.defaultPlanId = free.id;
      product.startWith = 'FREE_PLAN';
    } else if (ps.journey === 'TRIAL' && trial) {
      product.trialPlanId = trial.id;
      product.startWith = 'TRIAL';
    }
    if (ps.downgrade) product.downgradePlanId = (free ?? productPlans[0])!.id;
    if (ps.cancellation !== 'NONE') product.cancellationTime = ps.cancellation;
    if (ps.multiple) product.multipleSubscriptions = true;
    products.push(product);
    plans.push(...productPlans);
    addons.push(...productAddons);
  });
  const coupons: CouponDefinition[] = [];
  const promotionCodes: PromotionCodeDefinition[] = [];
  couponSpecs.forEach((spec, i) => {
    const coupon = buildCoupon(spec, COUPON_IDS[i] ?? `coupon-${i + 1}`, currency, options.couponTypes ?? ['PERCENTAGE', 'FIXED']);
    coupons.push(coupon);
    if (options.promotionCodes === false || spec.code === 'NONE') return;
    const code: PromotionCodeDefinition = { code: `${coupon.id.toUpperCase()}${coupon.type === 'PERCENTAGE' ? coupon.value.replace('.', '') : ''}`, couponId: coupon.id };
    if (spec.code === 'LIMITED') code.maxRedemptions = 3;
    if (spec.code === 'EXPIRING') code.expiresAt = '2099-12-31T23:59:59Z';
    promotionCodes.push(code);
  });
  const taxCountries = [...Object.keys(countries), 'US'];
  const taxRates: TaxRateDefinition[] = [];
  for (const t of taxSpecs) {
    const countryCode = pick(taxCountries, t.country)!;
    if (!taxRates.some((r) => r.countryCode === countryCode)) taxRates.push({ countryCode, rate: TAX_RATES[t.rate] ?? '0.20' });
  }
  return compact({
    features,
    products,
    plans,
    addons: addons.length > 0 ? addons : undefined,
    coupons: coupons.length > 0 ? coupons : undefined,
    promotionCodes: promotionCodes.length > 0 ? promotionCodes : undefined,
    taxRates: taxRates.length > 0 ? taxRates : undefined,
  });
}
