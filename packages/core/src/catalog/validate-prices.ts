/**
 * Validation of the prices of a plan or add-on: each price's model, amounts, tiers and country
 * overrides, and the rules across one price list (no two prices for one slot, one currency per
 * country). Internal to the catalog.
 */
import { isCountryCode } from './countries.js';
import type { Ctx, Rec } from './validate-context.js';
import {
  checkAmount,
  checkCurrency,
  checkOneOf,
  checkRef,
  featureTypeOf,
  isNonNegativeInteger,
  isPositiveInteger,
  isRecord,
  keyPath,
  report,
  show,
} from './validate-context.js';
import { BILLING_PERIODS } from './types.js';

const BILLING_MODELS = ['FLAT_FEE', 'PER_UNIT', 'USAGE_BASED'] as const;
const TIERS_MODES = ['GRADUATED', 'VOLUME'] as const;

/** How a price states its amounts; a country override must use the same one. */
type Shape = 'amount' | 'tiers' | undefined;

/** What one price contributes to the checks across the list. */
interface PriceSummary {
  path: string;
  slot: string | undefined;
  currency: string | undefined;
  overrides: Map<string, string | undefined>;
}

/** Checks the price list of a plan or add-on (`path` = `plans[1].prices`). */
export function checkPrices(ctx: Ctx, list: readonly unknown[], path: string, owner: 'plan' | 'addon'): void {
  const summaries: PriceSummary[] = [];
  list.forEach((raw, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(raw)) report(ctx, p, 'must be an object { billingPeriod, billingModel, currency, ... }');
    else summaries.push(checkPrice(ctx, raw, p, owner));
  });
  checkSlots(ctx, summaries);
  checkCurrencies(ctx, summaries);
}

function checkPrice(ctx: Ctx, price: Rec, path: string, owner: 'plan' | 'addon'): PriceSummary {
  const period = checkOneOf(ctx, price, 'billingPeriod', path, BILLING_PERIODS, true);
  const model = checkOneOf(ctx, price, 'billingModel', path, BILLING_MODELS, true);
  const currency = checkCurrency(ctx, price.currency, `${path}.currency`);
  let shape: Shape;

  if (model === 'FLAT_FEE') {
    shape = 'amount';
    checkAmount(ctx, price.amount, `${path}.amount`, { required: true });
    for (const key of ['featureId', 'tiers', 'tiersMode', 'blockSize', 'minUnitQuantity', 'maxUnitQuantity'])
      if (price[key] !== undefined) report(ctx, `${path}.${key}`, `a FLAT_FEE price takes no ${key}: remove it`);
  } else if (model === 'PER_UNIT' || model === 'USAGE_BASED') {
    // An add-on's PER_UNIT unit count is the add-on quantity itself (docs/pricing.md), so the
    // feature is optional there.
    const featureRequired = !(owner === 'addon' && model === 'PER_UNIT');
    const feature = checkRef(ctx, price, 'featureId', path, ctx.features, 'feature', featureRequired);
    const type = featureTypeOf(feature);
    if (model === 'PER_UNIT' && type === 'BOOLEAN')
      report(ctx, `${path}.featureId`, `a PER_UNIT price needs a feature with a quantity; "${String(price.featureId)}" is BOOLEAN`);
    if (model === 'USAGE_BASED' && type !== undefined && type !== 'METERED')
      report(ctx, `${path}.featureId`, `a USAGE_BASED price needs a METERED feature; "${String(price.featureId)}" is ${type}`);
    shape = checkUnitAmounts(ctx, price, path);
    if (model === 'PER_UNIT') checkQuantityBounds(ctx, price, path);
    else
      for (const key of ['minUnitQuantity', 'maxUnitQuantity'])
        if (price[key] !== undefined) report(ctx, `${path}.${key}`, `applies only to PER_UNIT prices: remove it`);
  }

  const overrides = checkCountryOverrides(ctx, price.countryOverrides, `${path}.countryOverrides`, shape);
  const slot = period && model ? `${period} ${model}${typeof price.featureId === 'string' ? ` of "${price.featureId}"` : ''}` : undefined;
  return { path, slot, currency, overrides };
}

/** PER_UNIT / USAGE_BASED: exactly one of `amount` (optionally per `blockSize`) or `tiers` with `tiersMode`. */
function checkUnitAmounts(ctx: Ctx, price: Rec, path: string): Shape {
  const hasAmount = price.amount !== undefined;
  const hasTiers = price.tiers !== undefined;
  if (hasAmount && hasTiers) {
    report(ctx, `${path}.tiers`, 'give amount or tiers, not both');
    return undefined;
  }
  if (!hasAmount && !hasTiers) {
    report(ctx, `${path}.amount`, 'is required: give amount (per unit, or per blockSize units) or tiers with tiersMode');
    return undefined;
  }
  if (hasAmount) {
    checkAmount(ctx, price.amount, `${path}.amount`, { required: true });
    if (price.blockSize !== undefined && !isPositiveInteger(price.blockSize))
      report(ctx, `${path}.blockSize`, `must be a positive integer (units per package; got ${show(price.blockSize)})`);
    if (price.tiersMode !== undefined) report(ctx, `${path}.tiersMode`, 'applies only with tiers: remove it');
    return 'amount';
  }
  checkTiers(ctx, price.tiers, `${path}.tiers`);
  checkOneOf(ctx, price, 'tiersMode', path, TIERS_MODES, true);
  if (price.blockSize !== undefined) report(ctx, `${path}.blockSize`, 'package pricing (blockSize) cannot be combined with tiers');
  return 'tiers';
}

function checkQuantityBounds(ctx: Ctx, price: Rec, path: string): void {
  const min = price.minUnitQuantity;
  const max = price.maxUnitQuantity;
  if (min !== undefined && !isNonNegativeInteger(min))
    report(ctx, `${path}.minUnitQuantity`, `must be an integer >= 0 (got ${show(min)})`);
  if (max !== undefined && !isNonNegativeInteger(max))
    report(ctx, `${path}.maxUnitQuantity`, `must be an integer >= 0 (got ${show(max)})`);
  if (isNonNegativeInteger(min) && isNonNegativeInteger(max) && min > max)
    report(ctx, `${path}.maxUnitQuantity`, `must be at least minUnitQuantity (${min}; got ${max})`);
}

/** Tiers: upTo strictly increasing positive integers, the last one open (null); each with an amount. */
function checkTiers(ctx: Ctx, tiers: unknown, path: string): void {
  if (!Array.isArray(tiers) || tiers.length === 0) {
    report(ctx, path, 'must be a non-empty array of { upTo, unitAmount?, flatAmount? }');
    return;
  }
  let previous = 0;
  tiers.forEach((tier, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(tier)) {
      report(ctx, p, 'must be an object { upTo, unitAmount?, flatAmount? }');
      return;
    }
    const last = i === tiers.length - 1;
    const upTo = tier.upTo;
    if (last) {
      if (upTo !== null) report(ctx, `${p}.upTo`, `the last tier must be open: set upTo to null (got ${show(upTo)})`);
    } else if (upTo === null) {
      report(ctx, `${p}.upTo`, 'only the last tier may be open (upTo null)');
    } else if (!isPositiveInteger(upTo)) {
      report(ctx, `${p}.upTo`, `must be a positive integer (got ${show(upTo)})`);
    } else if (upTo <= previous) {
      report(ctx, `${p}.upTo`, `must be greater than the previous tier's upTo (${previous}; got ${upTo})`);
    } else {
      previous = upTo;
    }
    if (tier.unitAmount === undefined && tier.flatAmount === undefined)
      report(ctx, p, 'needs unitAmount, flatAmount or both');
    checkAmount(ctx, tier.unitAmount, `${p}.unitAmount`, { required: false });
    checkAmount(ctx, tier.flatAmount, `${p}.flatAmount`, { required: false });
  });
}

/** Checks `countryOverrides`; returns each valid country with the currency it overrides to. */
function checkCountryOverrides(ctx: Ctx, v: unknown, path: string, shape: Shape): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (v === undefined) return out;
  if (!isRecord(v)) {
    report(ctx, path, 'must be an object keyed by ISO-3166-1 alpha-2 country code ({ "DE": { currency, amount } })');
    return out;
  }
  for (const [country, amounts] of Object.entries(v)) {
    const p = keyPath(path, country);
    if (!isCountryCode(country)) {
      report(ctx, p, `"${country}" is not an ISO-3166-1 alpha-2 country code (two uppercase letters, e.g. "DE")`);
      continue;
    }
    if (!isRecord(amounts)) {
      report(ctx, p, 'must be an object { currency, amount } or { currency, tiers }');
      continue;
    }
    out.set(country, checkCurrency(ctx, amounts.currency, `${p}.currency`));
    const hasAmount = amounts.amount !== undefined;
    const hasTiers = amounts.tiers !== undefined;
    if (shape === 'amount') {
      checkAmount(ctx, amounts.amount, `${p}.amount`, { required: true });
      if (hasTiers) report(ctx, `${p}.tiers`, 'the price has an amount, so its override gives an amount too, not tiers');
    } else if (shape === 'tiers') {
      checkTiers(ctx, amounts.tiers, `${p}.tiers`);
      if (hasAmount) report(ctx, `${p}.amount`, 'the price has tiers, so its override gives tiers too, not an amount');
    } else {
      if (hasAmount) checkAmount(ctx, amounts.amount, `${p}.amount`, { required: true });
      if (hasTiers) checkTiers(ctx, amounts.tiers, `${p}.tiers`);
    }
  }
  return out;
}

/** At most one price per billing period, model and feature. */
function checkSlots(ctx: Ctx, summaries: readonly PriceSummary[]): void {
  const first = new Map<string, string>();
  for (const s of summaries) {
    if (s.slot === undefined) continue;
    const taken = first.get(s.slot);
    if (taken !== undefined) {
      report(ctx, s.path, `a second ${s.slot} price (${taken} is the first): keep one price per billing period, model and feature`);
    } else first.set(s.slot, s.path);
  }
}

/**
 * One currency per country: a subscription is invoiced in one currency, so every price of a plan
 * (or add-on) must bill a given country in the same one, overrides included.
 */
function checkCurrencies(ctx: Ctx, summaries: readonly PriceSummary[]): void {
  const priced = summaries.filter((s) => s.currency !== undefined);
  const base = priced[0];
  if (!base) return;
  for (const s of priced.slice(1))
    if (s.currency !== base.currency)
      report(ctx, `${s.path}.currency`, `is ${s.currency} but ${base.path} is in ${base.currency}: all prices share one currency`);

  const countries = new Set<string>();
  for (const s of priced) for (const c of s.overrides.keys()) countries.add(c);
  for (const country of countries) {
    let reference: { path: string; currency: string } | undefined;
    for (const s of priced) {
      const hasOverride = s.overrides.has(country);
      const currency = hasOverride ? s.overrides.get(country) : s.currency;
      if (currency === undefined) continue;
      if (!reference) {
        reference = { path: s.path, currency };
      } else if (currency !== reference.currency) {
        const at = hasOverride ? keyPath(`${s.path}.countryOverrides`, country) + '.currency' : `${s.path}.countryOverrides`;
        report(
          ctx,
          at,
          hasOverride
            ? `bills ${country} in ${currency} but ${reference.path} bills it in ${reference.currency}: use one currency per country`
            : `has no ${country} override, so it bills ${country} in ${currency} while ${reference.path} bills it in ${reference.currency}: add a ${country} override`,
        );
      }
    }
  }
}
