/**
 * fast-check arbitraries for prices: every billing model, both periods, country overrides.
 */
import fc from 'fast-check';
import { Decimal, currencyDigits, type BillingPeriod, type PriceAmounts, type PriceDefinition, type PriceModel, type PriceTier } from '@tessera/core';
import { arbAmount } from './arbitraries.js';
import { compact, index, pick, weighted } from './choice.js';

// ---------------------------------------------------------------------------------------------
// Prices

/** The pricing models, in the order arbitraries shrink through them (FLAT_FEE is the plainest). */
export const PRICE_MODELS: readonly PriceModel[] = ['FLAT_FEE', 'PER_UNIT', 'PACKAGE', 'GRADUATED', 'VOLUME'];

/** Countries and the currency each is billed in, for country overrides. */
export const DEFAULT_COUNTRY_CURRENCIES: Readonly<Record<string, string>> = { DE: 'EUR', GB: 'GBP', JP: 'JPY', KW: 'KWD' };

/** Rough value of one unit of a currency in USD, to derive override amounts from base amounts. */
const USD_PER_UNIT: Readonly<Record<string, string>> = { USD: '1', EUR: '1.1', GBP: '1.25', JPY: '0.0067', KWD: '3.25', CHF: '1.1', CAD: '0.73' };

/** `amount` in `from` converted to `to` at fixed rates, keeping at least `to`'s minor digits (and the source's decimals, up to 4). */
export function convertAmount(amount: string, from: string, to: string): string {
  if (from === to) return amount;
  const source = new Decimal(amount);
  const converted = source.times(USD_PER_UNIT[from] ?? '1').div(USD_PER_UNIT[to] ?? '1');
  const digits = Math.max(currencyDigits(to), Math.min(4, source.decimalPlaces()));
  return converted.toDecimalPlaces(digits, Decimal.ROUND_HALF_UP).toFixed(digits);
}

/** A tier as generated: its width in units and its amounts. */
interface TierSpec {
  width: number;
  unitAmount: string;
  flat: boolean;
  flatAmount: string;
}

/** What a price is made of before it is shaped by a context; internal to the arbitraries. */
export interface PriceSpec {
  period: number;
  model: number;
  usage: boolean;
  feature: number;
  amount: string;
  unitAmount: string;
  blockSize: number;
  tiers: TierSpec[];
  bounds: 'NONE' | 'MIN' | 'MIN_MAX';
  minQuantity: number;
  extraQuantity: number;
}

/** The values a `PriceSpec` becomes a price with. */
export interface PriceContext {
  currency: string;
  billingPeriods: readonly BillingPeriod[];
  models: readonly PriceModel[];
  /** Features a PER_UNIT price may count (NUMERIC or METERED); none: PER_UNIT prices are left out. */
  unitFeatureIds: readonly string[];
  /** METERED features a USAGE_BASED price may bill; none: no usage-based prices. */
  usageFeatureIds: readonly string[];
  /** Bill usage instead of quantities for non-flat prices when the spec says so. */
  usageBased: boolean;
  /** Each price gets an override for each of these countries, in the given currency. */
  countries: Readonly<Record<string, string>>;
  /** 'addon': PER_UNIT prices have no featureId (the add-on quantity is the unit count). */
  owner: 'plan' | 'addon';
  /** Allow minUnitQuantity / maxUnitQuantity on PER_UNIT prices. */
  quantityBounds: boolean;
}

/** The arbitrary of `PriceSpec`s (amounts in `currency`). */
export function priceSpec(currency: string): fc.Arbitrary<PriceSpec> {
  const tier = fc.record({
    width: weighted<number | 'ANY'>([
      [10, 3],
      [100, 2],
      [1000, 1],
      [1, 1],
      ['ANY', 2],
    ]),
    any: fc.integer({ min: 1, max: 500 }),
    unitAmount: arbAmount(currency, { max: 100, fine: true }),
    flat: weighted([
      [false, 3],
      [true, 1],
    ]),
    flatAmount: arbAmount(currency, { max: 500 }),
  });
  return fc.record({
    period: index(3),
    model: index(7),
    usage: weighted([
      [false, 3],
      [true, 1],
    ]),
    feature: index(),
    amount: arbAmount(currency),
    unitAmount: arbAmount(currency, { max: 100, fine: true }),
    blockSize: weighted<number>([
      [10, 3],
      [100, 2],
      [5, 1],
      [1, 1],
      [1000, 1],
    ]),
    tiers: fc
      .array(tier, { minLength: 1, maxLength: 4 })
      .map((ts) => ts.map(({ width, any, unitAmount, flat, flatAmount }) => ({ width: width === 'ANY' ? any : width, unitAmount, flat, flatAmount }))),
    bounds: weighted<PriceSpec['bounds']>([
      ['NONE', 4],
      ['MIN', 1],
      ['MIN_MAX', 1],
    ]),
    minQuantity: fc.integer({ min: 0, max: 5 }),
    extraQuantity: weighted<number>([
      [10, 2],
      [100, 1],
      [1, 1],
    ]),
  });
}

function buildTiers(specs: readonly TierSpec[]): PriceTier[] {
  let upTo = 0;
  return specs.map((t, i) => {
    upTo += t.width;
    const tier: PriceTier = { upTo: i === specs.length - 1 ? null : upTo, unitAmount: t.unitAmount };
    if (t.flat) tier.flatAmount = t.flatAmount;
    return tier;
  });
}

function convertTiers(tiers: readonly PriceTier[], from: string, to: string): PriceTier[] {
  return tiers.map((t) =>
    compact({
      upTo: t.upTo,
      unitAmount: t.unitAmount === undefined ? undefined : convertAmount(t.unitAmount, from, to),
      flatAmount: t.flatAmount === undefined ? undefined : convertAmount(t.flatAmount, from, to),
    }),
  );
}

/**
 * Shapes a spec into a valid price for `ctx`. The model falls back to FLAT_FEE when the context
 * has no feature for it (a PER_UNIT price needs a countable feature).
 */
export function buildPrice(spec: PriceSpec, ctx: PriceContext): PriceDefinition {
  const billingPeriod = pick(ctx.billingPeriods, spec.period) ?? 'MONTHLY';
  let model = pick(ctx.models, spec.model) ?? 'FLAT_FEE';
  const usage = model !== 'FLAT_FEE' && ctx.usageBased && spec.usage && ctx.usageFeatureIds.length > 0;
  const featureId = usage ? pick(ctx.usageFeatureIds, spec.feature) : pick(ctx.unitFeatureIds, spec.feature);
  if (model !== 'FLAT_FEE' && featureId === undefined && !(ctx.owner === 'addon' && !usage)) model = 'FLAT_FEE';
  const currency = ctx.currency;
  let price: PriceDefinition;
  if (model === 'FLAT_FEE') {
    price = { billingPeriod, billingModel: 'FLAT_FEE', currency, amount: spec.amount };
  } else {
    price = { billingPeriod, billingModel: usage ? 'USAGE_BASED' : 'PER_UNIT', currency };
    if (featureId !== undefined && (usage || ctx.owner === 'plan')) price.featureId = featureId;
    if (model === 'PER_UNIT') price.amount = spec.unitAmount;
    else if (model === 'PACKAGE') {
      price.amount = spec.amount;
      price.blockSize = spec.blockSize;
    } else {
      price.tiersMode = model;
      price.tiers = buildTiers(spec.tiers);
    }
    if (!usage && ctx.quantityBounds && spec.bounds !== 'NONE') {
      price.minUnitQuantity = spec.minQuantity;
      if (spec.bounds === 'MIN_MAX') price.maxUnitQuantity = spec.minQuantity + spec.extraQuantity;
    }
  }
  const countries = Object.entries(ctx.countries);
  if (countries.length > 0) {
    const overrides: Record<string, PriceAmounts> = {};
    for (const [country, to] of countries) {
      overrides[country] =
        price.tiers !== undefined
          ? { currency: to, tiers: convertTiers(price.tiers, currency, to) }
          : { currency: to, amount: convertAmount(price.amount ?? '0', currency, to) };
    }
    price.countryOverrides = overrides;
  }
  return price;
}

/** Options of `arbPrice`. */
export interface PriceOptions {
  /** Currency of the base amounts; default 'USD'. */
  currency?: string;
  /** Billing periods to pick from; default ['MONTHLY', 'ANNUALLY']. */
  billingPeriods?: readonly BillingPeriod[];
  /** Pricing models to pick from; default all of `PRICE_MODELS`. */
  models?: readonly PriceModel[];
  /** Non-flat prices may bill metered usage in arrears (USAGE_BASED) instead of a quantity; default true. */
  usageBased?: boolean;
  /** The feature PER_UNIT prices count; default 'seats'. */
  featureId?: string;
  /** The METERED feature USAGE_BASED prices bill; default 'api-calls'. */
  meteredFeatureId?: string;
  /**
   * Country overrides: a map of country to currency that every price overrides, or 'any' to pick
   * none, { DE: 'EUR' } or all of `DEFAULT_COUNTRY_CURRENCIES` (default 'any').
   */
  countries?: Readonly<Record<string, string>> | 'any';
  /** minUnitQuantity / maxUnitQuantity on PER_UNIT prices; default true. */
  quantityBounds?: boolean;
}

/**
 * Prices of every billing model: FLAT_FEE, PER_UNIT (optionally with unit bounds), PACKAGE
 * (`blockSize`), tiered GRADUATED and VOLUME (1 to 4 tiers, the last open, flat amounts
 * sometimes), billed per quantity or (USAGE_BASED) on usage, for both billing periods, with
 * country overrides. Unit and tier amounts may be finer than a cent ('0.0125').
 *
 * Shrinks to `{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '0.00' }`.
 */
export function arbPrice(options: PriceOptions = {}): fc.Arbitrary<PriceDefinition> {
  const currency = options.currency ?? 'USD';
  const countryChoices: Readonly<Record<string, string>>[] =
    options.countries === undefined || options.countries === 'any'
      ? [{}, { DE: 'EUR' }, DEFAULT_COUNTRY_CURRENCIES]
      : [options.countries];
  return fc.record({ spec: priceSpec(currency), countries: index(countryChoices.length - 1) }).map(({ spec, countries }) =>
    buildPrice(spec, {
      currency,
      billingPeriods: options.billingPeriods ?? ['MONTHLY', 'ANNUALLY'],
      models: options.models ?? PRICE_MODELS,
      unitFeatureIds: [options.featureId ?? 'seats'],
      usageFeatureIds: [options.meteredFeatureId ?? 'api-calls'],
      usageBased: options.usageBased ?? true,
      countries: countryChoices[countries] ?? {},
      owner: 'plan',
      quantityBounds: options.quantityBounds ?? true,
    }),
  );
}
