/**
 * Pricing one billing period (docs/pricing.md#billing-models). Pure: prices in, unrounded
 * Decimal lines out. Rounding happens once per line when a document is assembled
 * (rules/invoice.ts, docs/pricing.md#rounding), never here.
 */
import type { AddonDefinition, BillingPeriod, PlanDefinition, PriceAmounts, PriceDefinition } from '../catalog/types.js';
import { TesseraError, invalidArgument } from '../errors.js';
import { Decimal, assertSameCurrency, currencyDigits, toDecimal } from '../money.js';
import { type TierCharge, graduatedAmount, volumeAmount } from './tiers.js';

/** How a price was computed: its billing model, with PACKAGE and the tier modes told apart. */
export type PriceModel = 'FLAT_FEE' | 'PER_UNIT' | 'PACKAGE' | 'GRADUATED' | 'VOLUME';

/** A price with the currency and amounts of one billing country (or the base ones). */
export interface ResolvedPrice extends Omit<PriceDefinition, 'countryOverrides'> {
  /** The country whose override was used; null when the base amounts apply. */
  billingCountryCode: string | null;
}

/** One price computed for one full period. `amount` is unrounded. */
export interface PriceCalculation {
  amount: Decimal;
  currency: string;
  model: PriceModel;
  /** Units priced (PER_UNIT: seats; USAGE_BASED: usage); absent for FLAT_FEE. */
  quantity?: number;
  /** Price of one unit (PER_UNIT), of one block (PACKAGE), or the fee (FLAT_FEE); absent for tiers. */
  unitAmount?: Decimal;
  /** PACKAGE: blocks billed, ceil(quantity / blockSize). */
  blocks?: number;
  /** GRADUATED / VOLUME: what each reached tier contributes. */
  tiers?: TierCharge[];
  /** What was computed, for an invoice line: '12 x 10.00', '10 x 5.00 + 5 x 4.00 + 20.00 flat'. */
  description: string;
}

/** Line kinds a period's price produces (rules/invoice.ts adds proration, discount and tax kinds). */
export type PricedLineKind = 'PLAN' | 'ADDON' | 'PER_UNIT' | 'USAGE';

/**
 * One charge of a subscription for one full billing period, unrounded. `key` identifies the
 * charge across a change (same plan or add-on and price slot) so proration can leave out what
 * did not change.
 */
export interface PricedLine {
  key: string;
  kind: PricedLineKind;
  description: string;
  currency: string;
  amount: Decimal;
  quantity?: number;
  unitAmount?: Decimal;
  billingPeriod: BillingPeriod;
  source: { type: 'PLAN' | 'ADDON'; id: string };
  featureId?: string;
  model: PriceModel;
}

/** A feature and a number of its units: subscription quantities or metered usage in a period. */
export interface FeatureQuantity {
  featureId: string;
  quantity: number;
}

/**
 * The currency and amounts that apply in `countryCode`: its `countryOverrides` entry when there is
 * one (replacing currency, amount and tiers as a whole, never merged with the base), else the
 * base. Codes are ISO-3166-1 alpha-2; a lowercase code finds an uppercase override.
 */
export function resolvePriceAmounts(price: PriceDefinition, countryCode?: string | null): PriceAmounts {
  const override = overrideFor(price, countryCode);
  const source = override?.amounts ?? price;
  const amounts: PriceAmounts = { currency: source.currency };
  if (source.amount !== undefined) amounts.amount = source.amount;
  if (source.tiers !== undefined) amounts.tiers = source.tiers;
  return amounts;
}

function overrideFor(price: PriceDefinition, countryCode?: string | null): { code: string; amounts: PriceAmounts } | null {
  if (!countryCode || !price.countryOverrides) return null;
  for (const code of [countryCode, countryCode.toUpperCase()]) {
    if (Object.hasOwn(price.countryOverrides, code)) {
      const amounts = price.countryOverrides[code];
      if (amounts) return { code, amounts };
    }
  }
  return null;
}

/** `price` with the amounts of `countryCode` in place (see `resolvePriceAmounts`). */
export function resolvePrice(price: PriceDefinition | ResolvedPrice, countryCode?: string | null): ResolvedPrice {
  if (!('countryOverrides' in price) || price.countryOverrides === undefined) {
    const { countryOverrides: _ignored, ...rest } = price as PriceDefinition;
    return { billingCountryCode: null, ...rest } as ResolvedPrice;
  }
  const { countryOverrides: _ignored, amount: _a, tiers: _t, ...rest } = price;
  const override = overrideFor(price, countryCode);
  return { ...rest, ...resolvePriceAmounts(price, countryCode), billingCountryCode: override?.code ?? null };
}

/** The prices of `billingPeriod`, each resolved for `countryCode`, in declared order. */
export function selectPrices(
  prices: readonly PriceDefinition[] | undefined,
  billingPeriod: BillingPeriod,
  countryCode?: string | null,
): ResolvedPrice[] {
  return (prices ?? []).filter((p) => p.billingPeriod === billingPeriod).map((p) => resolvePrice(p, countryCode));
}

/** Options of `priceLine`. */
export interface PriceLineOptions {
  /** PER_UNIT: units on the subscription (required: a minimum is a bound, not a default). USAGE_BASED: usage in the period (default 0). Ignored by FLAT_FEE. */
  quantity?: number;
  /** Chooses `countryOverrides`; the base amounts when absent or not overridden. */
  billingCountryCode?: string | null;
}

/**
 * The charge of one price for one full billing period, unrounded (docs/pricing.md#billing-models):
 * FLAT_FEE `amount`; PER_UNIT quantity x `amount`; PACKAGE ceil(quantity / blockSize) x `amount`;
 * GRADUATED / VOLUME by `tiers` (rules/tiers.ts).
 * PER_UNIT quantities are required, whole and must lie within [minUnitQuantity, maxUnitQuantity];
 * usage may be fractional. Throws `INVALID_ARGUMENT` (with `details.field`) for a malformed price, a
 * missing PER_UNIT quantity or a quantity out of bounds.
 */
export function priceLine(price: PriceDefinition | ResolvedPrice, options: PriceLineOptions = {}): PriceCalculation {
  const resolved = resolvePrice(price, options.billingCountryCode);
  const currency = resolved.currency;
  currencyDigits(currency);
  if (resolved.billingModel === 'FLAT_FEE') {
    const fee = amountOf(resolved);
    return { amount: fee, currency, model: 'FLAT_FEE', unitAmount: fee, description: formatAmount(fee, currency) };
  }
  if (resolved.billingModel !== 'PER_UNIT' && resolved.billingModel !== 'USAGE_BASED') {
    throw invalidArgument('price.billingModel', 'must be FLAT_FEE, PER_UNIT or USAGE_BASED', {
      value: resolved.billingModel,
      allowed: ['FLAT_FEE', 'PER_UNIT', 'USAGE_BASED'],
    });
  }
  const quantity = quantityOf(resolved, options.quantity);
  const q = new Decimal(String(quantity));
  if (resolved.tiers !== undefined) {
    if (resolved.blockSize !== undefined) throw invalidArgument('price.blockSize', 'a tiered price cannot also have a blockSize');
    if (resolved.tiersMode !== 'GRADUATED' && resolved.tiersMode !== 'VOLUME') {
      throw invalidArgument('price.tiersMode', 'a tiered price needs tiersMode GRADUATED or VOLUME', {
        value: resolved.tiersMode,
        allowed: ['GRADUATED', 'VOLUME'],
      });
    }
    const tiered = resolved.tiersMode === 'GRADUATED' ? graduatedAmount(resolved.tiers, q) : volumeAmount(resolved.tiers, q);
    return {
      amount: tiered.amount,
      currency,
      model: resolved.tiersMode,
      quantity,
      tiers: tiered.charges,
      description: describeTiers(tiered.charges, currency),
    };
  }
  const unit = amountOf(resolved);
  if (resolved.blockSize !== undefined) {
    const size = resolved.blockSize;
    if (!Number.isInteger(size) || size <= 0) throw invalidArgument('price.blockSize', 'must be a positive whole number', { value: size });
    const blocks = q.div(size).ceil().toNumber();
    return {
      amount: unit.times(blocks),
      currency,
      model: 'PACKAGE',
      quantity,
      unitAmount: unit,
      blocks,
      description: `${quantity} units = ${blocks} packages of ${size} x ${formatAmount(unit, currency)}`,
    };
  }
  return { amount: unit.times(q), currency, model: 'PER_UNIT', quantity, unitAmount: unit, description: `${quantity} x ${formatAmount(unit, currency)}` };
}

function amountOf(price: ResolvedPrice): Decimal {
  if (price.amount === undefined) throw invalidArgument('price.amount', `a ${price.billingModel} price needs an amount`);
  const d = toDecimal(price.amount, 'price.amount');
  if (d.isNegative() && !d.isZero()) throw invalidArgument('price.amount', 'must not be negative', { value: price.amount });
  return d;
}

function quantityOf(price: ResolvedPrice, given: number | undefined): number {
  const field = price.featureId ? `billableFeatures.${price.featureId}` : 'quantity';
  if (price.billingModel === 'USAGE_BASED') {
    const usage = given ?? 0;
    if (typeof usage !== 'number' || !Number.isFinite(usage) || usage < 0) {
      throw invalidArgument(field, 'usage must be a non-negative finite number', { value: usage });
    }
    return usage;
  }
  const min = price.minUnitQuantity;
  const max = price.maxUnitQuantity;
  // A minimum is a bound, never a default: billing it silently while the subscription shows no
  // quantity is what docs/pricing.md#per-unit-quantities rules out.
  if (given === undefined) {
    const bounds = min !== undefined || max !== undefined ? ` (${min ?? 0} to ${max ?? 'unbounded'})` : '';
    throw new TesseraError('INVALID_ARGUMENT', `${field}: a PER_UNIT price needs a quantity; give the units bought${price.featureId ? ` of "${price.featureId}" in billableFeatures` : ''}${bounds}`, {
      field,
      min,
      max,
    });
  }
  const quantity = given;
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 0) {
    throw invalidArgument(field, 'must be a non-negative whole number', { value: quantity });
  }
  if ((min !== undefined && quantity < min) || (max !== undefined && quantity > max)) {
    throw new TesseraError('INVALID_ARGUMENT', `${field}: ${quantity} is outside the allowed ${min ?? 0} to ${max ?? 'unbounded'} units`, {
      field,
      value: quantity,
      min,
      max,
    });
  }
  return quantity;
}

/** An amount for a description: at least the currency's minor digits ('5.00'), more if it has them ('0.0125'). */
export function formatAmount(d: Decimal, currency: string): string {
  return d.toFixed(Math.max(currencyDigits(currency), d.decimalPlaces()));
}

function describeTiers(charges: readonly TierCharge[], currency: string): string {
  const parts: string[] = [];
  for (const c of charges) {
    if (!c.units.isZero() || c.flatAmount.isZero()) parts.push(`${c.units.toString()} x ${formatAmount(c.unitAmount, currency)}`);
    if (!c.flatAmount.isZero()) parts.push(`${formatAmount(c.flatAmount, currency)} flat`);
  }
  return parts.join(' + ');
}

/** Options shared by `pricePlan`, `priceAddon` and `pricePeriod`. */
export interface PeriodPricing {
  billingPeriod: BillingPeriod;
  billingCountryCode?: string | null;
  /** Quantities of billable features set on the subscription (PER_UNIT prices of the plan). */
  billableFeatures?: readonly FeatureQuantity[];
  /**
   * Metered usage in the period being billed (USAGE_BASED prices, charged in arrears). When
   * absent, USAGE_BASED prices produce no line: an invoice in advance or an estimate has no usage yet.
   */
  usage?: readonly FeatureQuantity[];
}

/**
 * A stored subscription's quantities made whole for pricing: each PER_UNIT price of the plan in
 * `billingPeriod` that has no quantity gets the one such records were billed before quantities
 * were required, the price's `minUnitQuantity`, else 1 (docs/pricing.md#per-unit-quantities).
 * Input is never passed through this: a call without a quantity is refused.
 */
export function storedQuantities(plan: PlanDefinition, billingPeriod: BillingPeriod, given: readonly FeatureQuantity[]): FeatureQuantity[] {
  const out = [...given];
  for (const price of perUnitPrices(plan, billingPeriod)) {
    if (out.some((f) => f.featureId === price.featureId)) continue;
    out.push({ featureId: price.featureId, quantity: price.minUnitQuantity ?? 1 });
  }
  return out;
}

/** The PER_UNIT prices of a plan in `billingPeriod` that sell a feature: each needs a quantity on a subscription. */
export function perUnitPrices(plan: PlanDefinition, billingPeriod: BillingPeriod): (PriceDefinition & { featureId: string })[] {
  return (plan.prices ?? []).filter((p): p is PriceDefinition & { featureId: string } => p.billingModel === 'PER_UNIT' && p.billingPeriod === billingPeriod && p.featureId !== undefined);
}

function quantityFor(list: readonly FeatureQuantity[] | undefined, featureId: string): number | undefined {
  return list?.find((f) => f.featureId === featureId)?.quantity;
}

const PERIOD_LABEL: Record<BillingPeriod, string> = { MONTHLY: 'monthly', ANNUALLY: 'annually' };

/**
 * A plan's lines for one full billing period, unrounded: FLAT_FEE as PLAN, PER_UNIT (quantity of
 * its feature from `billableFeatures`, required) as PER_UNIT, USAGE_BASED (from `usage`, when given) as USAGE.
 * FREE and CUSTOM plans price to no lines (CUSTOM is invoiced outside Tessera).
 * Throws `PRICE_NOT_FOUND` when a PAID plan has no price for the billing period, `INVALID_ARGUMENT`
 * when a PER_UNIT price has no quantity in `billableFeatures`.
 */
export function pricePlan(plan: PlanDefinition, options: PeriodPricing): PricedLine[] {
  if (plan.pricingType !== 'PAID') return [];
  const prices = selectPrices(plan.prices, options.billingPeriod, options.billingCountryCode);
  if (prices.length === 0) {
    throw new TesseraError('PRICE_NOT_FOUND', `plan ${plan.id} has no ${options.billingPeriod} price; choose a billing period it is sold in`, {
      field: 'billingPeriod',
      value: options.billingPeriod,
      planId: plan.id,
      allowed: [...new Set((plan.prices ?? []).map((p) => p.billingPeriod))],
    });
  }
  const name = plan.displayName ?? plan.id;
  const lines: PricedLine[] = [];
  prices.forEach((price, index) => {
    let calc: PriceCalculation;
    let kind: PricedLineKind;
    if (price.billingModel === 'FLAT_FEE') {
      calc = priceLine(price);
      kind = 'PLAN';
    } else {
      const featureId = requireFeature(price, `plans.${plan.id}.prices[${index}].featureId`);
      if (price.billingModel === 'USAGE_BASED') {
        if (!options.usage) return;
        calc = priceLine(price, { quantity: quantityFor(options.usage, featureId) ?? 0 });
        kind = 'USAGE';
      } else {
        calc = priceLine(price, { quantity: quantityFor(options.billableFeatures, featureId) });
        kind = 'PER_UNIT';
      }
    }
    const what = price.featureId ? `${name} - ${price.featureId}: ${calc.description}` : name;
    lines.push(toLine(priceKey('PLAN', plan.id, index), kind, `${what} (${PERIOD_LABEL[options.billingPeriod]})`, calc, price, { type: 'PLAN', id: plan.id }));
  });
  return lines;
}

/**
 * An add-on's lines for one full billing period, unrounded, all of kind ADDON. The add-on quantity
 * multiplies a FLAT_FEE and is the unit count of a PER_UNIT price (so tiers and packages apply to
 * it); USAGE_BASED prices use `usage` like a plan's. An add-on without prices is free.
 * Throws `INVALID_ARGUMENT` for a quantity below 1, `ADDON_QUANTITY_EXCEEDED` above `maxQuantity`,
 * `PRICE_NOT_FOUND` when it has prices but none for the billing period.
 */
export function priceAddon(addon: AddonDefinition, quantity: number, options: PeriodPricing): PricedLine[] {
  if (!Number.isInteger(quantity) || quantity < 1) {
    throw invalidArgument(`addons.${addon.id}.quantity`, 'must be a whole number of at least 1', { value: quantity });
  }
  if (addon.maxQuantity !== undefined && quantity > addon.maxQuantity) {
    throw new TesseraError('ADDON_QUANTITY_EXCEEDED', `add-on ${addon.id} allows at most ${addon.maxQuantity}, got ${quantity}`, {
      field: `addons.${addon.id}.quantity`,
      value: quantity,
      max: addon.maxQuantity,
    });
  }
  if (!addon.prices || addon.prices.length === 0) return [];
  const prices = selectPrices(addon.prices, options.billingPeriod, options.billingCountryCode);
  if (prices.length === 0) {
    throw new TesseraError('PRICE_NOT_FOUND', `add-on ${addon.id} has no ${options.billingPeriod} price`, {
      field: 'billingPeriod',
      value: options.billingPeriod,
      addonId: addon.id,
    });
  }
  const name = addon.displayName ?? addon.id;
  const lines: PricedLine[] = [];
  prices.forEach((price, index) => {
    let calc: PriceCalculation;
    if (price.billingModel === 'FLAT_FEE') {
      const fee = priceLine(price);
      calc = { ...fee, amount: fee.amount.times(quantity), quantity, description: `${quantity} x ${fee.description}` };
    } else if (price.billingModel === 'USAGE_BASED') {
      if (!options.usage) return;
      const featureId = requireFeature(price, `addons.${addon.id}.prices[${index}].featureId`);
      calc = priceLine(price, { quantity: quantityFor(options.usage, featureId) ?? 0 });
    } else {
      calc = priceLine(price, { quantity });
    }
    const description = `${name}: ${calc.description} (${PERIOD_LABEL[options.billingPeriod]})`;
    lines.push(toLine(priceKey('ADDON', addon.id, index), 'ADDON', description, calc, price, { type: 'ADDON', id: addon.id }));
  });
  return lines;
}

/** Input of `pricePeriod`: the plan, its add-ons with quantities, and what `PeriodPricing` holds. */
export interface PeriodPriceInput extends PeriodPricing {
  plan: PlanDefinition;
  addons?: readonly { addon: AddonDefinition; quantity: number }[];
}

/**
 * Every line of a subscription for one full billing period, unrounded: the plan's, then each
 * add-on's in the given order. Throws `INVALID_ARGUMENT` when the lines are not all in one
 * currency (a country override in another currency on only some prices), plus what
 * `pricePlan`/`priceAddon` throw.
 * Example: plan 'pro' FLAT_FEE 49.00 + seats PER_UNIT 10.00 x 3 + add-on 'storage' 5.00 x 2
 * = lines 49, 30, 10 (USD).
 */
export function pricePeriod(input: PeriodPriceInput): PricedLine[] {
  const lines = pricePlan(input.plan, input);
  for (const { addon, quantity } of input.addons ?? []) lines.push(...priceAddon(addon, quantity, input));
  const first = lines[0];
  if (first) for (const line of lines) assertSameCurrency(first.currency, line.currency, `prices of ${line.source.id}`);
  return lines;
}

/**
 * The `key` of the line a plan's or add-on's price produces: its source and the price's position
 * among the source's prices for the billing period (`selectPrices` order), e.g. 'plan:pro:1'.
 */
export function priceKey(source: 'PLAN' | 'ADDON', id: string, index: number): string {
  return `${source === 'PLAN' ? 'plan' : 'addon'}:${id}:${index}`;
}

function requireFeature(price: ResolvedPrice, field: string): string {
  if (!price.featureId) throw invalidArgument(field, `a ${price.billingModel} price needs the featureId it charges for`);
  return price.featureId;
}

function toLine(
  key: string,
  kind: PricedLineKind,
  description: string,
  calc: PriceCalculation,
  price: ResolvedPrice,
  source: PricedLine['source'],
): PricedLine {
  const line: PricedLine = {
    key,
    kind,
    description,
    currency: calc.currency,
    amount: calc.amount,
    billingPeriod: price.billingPeriod,
    source,
    model: calc.model,
  };
  if (calc.quantity !== undefined) line.quantity = calc.quantity;
  if (calc.unitAmount !== undefined) line.unitAmount = calc.unitAmount;
  if (price.featureId !== undefined) line.featureId = price.featureId;
  return line;
}
