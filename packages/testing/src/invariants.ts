/**
 * Pricing invariants as plain functions: each returns when the invariant holds and throws an
 * `InvariantError` (expected, seen, inputs) when it does not, so that it drops into any
 * `fc.property`. The rules under test can be swapped (`rules` arguments) to check your own
 * wrappers, or to see a deliberately broken rule caught. Engine-level invariants are in
 * `invariants-engine.ts`.
 */
import {
  Decimal,
  addDuration,
  currencyDigits,
  priceLine,
  prorateBetween,
  type CouponDefinition,
  type PriceDefinition,
  type Window,
} from '@tessera/core';
import { toMs } from './choice.js';
import { InvariantError } from './invariant-error.js';
import { boundaryQuantities, referenceAmounts, referencePrice } from './reference-pricing.js';

/** Rounds to the currency's minor unit, half away from zero (the convention of docs/pricing.md). */
function round(d: Decimal, currency: string): Decimal {
  return d.toDecimalPlaces(currencyDigits(currency), Decimal.ROUND_HALF_UP);
}

/** One minor unit of a currency (0.01 USD, 1 JPY, 0.001 KWD). */
function minorUnit(currency: string): Decimal {
  return new Decimal(10).pow(-currencyDigits(currency));
}

// ---------------------------------------------------------------------------------------------
// Proration

/** The proration rule: `amount` (a whole period's price) for the part [from, to) of `period`. */
export type ProrateRule = (amount: Decimal, period: Window, from: number, to: number) => Decimal;

/** A price, where its billing periods start, and what to price it with. */
export interface ProrationCase {
  price: PriceDefinition;
  /** The subscription's billing anchor: periods run from it one month (or year) at a time. */
  start: Date | string | number;
  /** PER_UNIT quantity (default: its minUnitQuantity, or 1) or usage (default 0). */
  quantity?: number;
  billingCountryCode?: string | null;
}

/** The billing period of `price` anchored at `start` that contains `at` (months clamp: Jan 31, Feb 29, Mar 31). */
function periodAt(price: PriceDefinition, start: number, at: number): Window {
  const step = (n: number): number => addDuration(new Date(start), price.billingPeriod === 'ANNUALLY' ? { years: n } : { months: n }).getTime();
  let n = 0;
  while (step(n + 1) <= at) n++;
  return { start: step(n), end: step(n + 1) };
}

function fullAmount(c: ProrationCase): { amount: Decimal; currency: string } {
  const options: { quantity?: number; billingCountryCode?: string | null } = {};
  if (c.quantity !== undefined) options.quantity = c.quantity;
  // The core requires a PER_UNIT quantity (a minimum is a bound, not a default); a case picks one.
  else if (c.price.billingModel === 'PER_UNIT') options.quantity = c.price.minUnitQuantity ?? 1;
  if (c.billingCountryCode !== undefined) options.billingCountryCode = c.billingCountryCode;
  const line = priceLine(c.price, options);
  return { amount: line.amount, currency: line.currency };
}

/**
 * Prorating a price over its whole billing period gives the price: round(prorate(amount, period,
 * start, end)) = round(amount), for a period of any length (28 to 31 days, 365 or 366).
 * `rules.prorate` defaults to the core's `prorateBetween`.
 */
export function prorationOfWholePeriodEqualsPrice(c: ProrationCase, rules: { prorate?: ProrateRule } = {}): void {
  const prorate = rules.prorate ?? prorateBetween;
  const start = toMs(c.start);
  const period = periodAt(c.price, start, start);
  const { amount, currency } = fullAmount(c);
  const expected = round(amount, currency);
  const seen = round(prorate(amount, period, period.start, period.end), currency);
  if (!seen.eq(expected)) {
    throw new InvariantError('prorationOfWholePeriodEqualsPrice', 'prorating a price over its whole billing period must give the price', {
      expected: expected.toFixed(),
      seen: seen.toFixed(),
      inputs: { ...c, period: { start: new Date(period.start), end: new Date(period.end) } },
    });
  }
}

/**
 * Splitting a billing period at `at` splits its price: round(part before) + round(part after) is
 * within one minor unit of round(price) (each part is rounded once, so they may differ by one).
 * `at` is any instant from `start` on; the period is the one containing it.
 */
export function splitProrationSumsToWhole(c: ProrationCase & { at: Date | string | number }, rules: { prorate?: ProrateRule } = {}): void {
  const prorate = rules.prorate ?? prorateBetween;
  const at = toMs(c.at);
  const start = toMs(c.start);
  if (at < start) throw new RangeError(`splitProrationSumsToWhole: at (${new Date(at).toISOString()}) is before start`);
  const period = periodAt(c.price, start, at);
  const { amount, currency } = fullAmount(c);
  const whole = round(amount, currency);
  const before = round(prorate(amount, period, period.start, at), currency);
  const after = round(prorate(amount, period, at, period.end), currency);
  const parts = before.plus(after);
  if (parts.minus(whole).abs().gt(minorUnit(currency))) {
    throw new InvariantError('splitProrationSumsToWhole', 'the two prorated parts of a period must add up to its price within one minor unit', {
      expected: whole.toFixed(),
      seen: `${before.toFixed()} + ${after.toFixed()} = ${parts.toFixed()}`,
      inputs: { ...c, period: { start: new Date(period.start), end: new Date(period.end) } },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Documents (invoices and estimates)

/** What the document invariants read of an invoice, an estimate or a `PricedDocument`. */
export interface DocumentLike {
  currency: string;
  subTotal: string;
  discount?: { amount: string } | null;
  tax: string;
  total: string;
  excessCredit?: string;
  lines: readonly { kind: string; amount: string }[];
}

const isZeroOrMore = (s: string | undefined): boolean => s === undefined || s === '' || new Decimal(s).gte(0);

/** What `totalsNeverNegative` reads: a document, an estimate, or a timeline row (discount as a string, '' for none). */
export interface TotalsLike {
  subTotal: string;
  discount?: { amount: string } | string | null;
  tax: string;
  total: string;
  excessCredit?: string;
}

/**
 * Nothing a customer is billed is negative: total, tax, discount and excess credit are >= 0, and
 * the discount never exceeds a positive subtotal.
 */
export function totalsNeverNegative(doc: TotalsLike, inputs?: unknown): void {
  const fail = (what: string, expected: string, seen: unknown): never => {
    throw new InvariantError('totalsNeverNegative', what, { expected, seen, inputs: inputs ?? doc });
  };
  if (!isZeroOrMore(doc.total)) fail('a total must never be negative', '>= 0', doc.total);
  if (!isZeroOrMore(doc.tax)) fail('tax must never be negative', '>= 0', doc.tax);
  if (!isZeroOrMore(doc.excessCredit)) fail('excess credit must never be negative', '>= 0', doc.excessCredit);
  const discount = typeof doc.discount === 'string' ? doc.discount || undefined : doc.discount?.amount;
  if (!isZeroOrMore(discount)) fail('a discount must never be negative', '>= 0', discount);
  if (discount !== undefined && new Decimal(doc.subTotal).gt(0) && new Decimal(discount).gt(doc.subTotal)) {
    fail('a discount must never exceed the subtotal', `<= ${doc.subTotal}`, discount);
  }
}

/** What `documentAddsUp` checks a document against; leave a field out to skip its check. */
export interface DocumentContext {
  /** The coupon in force; null: none applies (no discount expected). */
  coupon?: CouponDefinition | null;
  /** The tax rate that applies, as a fraction ('0.20'); null: none. */
  taxRate?: string | null;
}

/**
 * The document's arithmetic follows docs/pricing.md, recomputed here independently:
 * subTotal = sum of the charge lines; discount = round(subTotal x percent / 100) or
 * min(fixed, subTotal), zero when subTotal <= 0; tax = round((subTotal - discount) x rate), zero
 * when that is <= 0 (tax after discount); total = max(subTotal - discount + tax, 0); and all lines
 * (DISCOUNT and TAX included) sum to subTotal - discount + tax.
 */
export function documentAddsUp(doc: DocumentLike, context: DocumentContext = {}): void {
  const c = doc.currency;
  const fail = (what: string, expected: Decimal, seen: string): never => {
    throw new InvariantError('documentAddsUp', what, { expected: expected.toFixed(currencyDigits(c)), seen, inputs: { document: doc, ...context } });
  };
  const charges = doc.lines.filter((l) => l.kind !== 'DISCOUNT' && l.kind !== 'TAX');
  const subTotal = charges.reduce((sum, l) => sum.plus(l.amount), new Decimal(0));
  if (!subTotal.eq(doc.subTotal)) fail('subTotal must be the sum of the charge lines', subTotal, doc.subTotal);
  const base = Decimal.max(subTotal, 0);
  let discount = new Decimal(doc.discount?.amount ?? '0');
  if (context.coupon !== undefined) {
    const coupon = context.coupon;
    const expected =
      coupon === null
        ? new Decimal(0)
        : coupon.type === 'PERCENTAGE'
          ? round(base.times(coupon.value).div(100), c)
          : round(Decimal.min(new Decimal(coupon.value), base), c);
    if (!expected.eq(discount)) fail('the discount must be taken from the subtotal (percentage) or capped at it (fixed)', expected, doc.discount?.amount ?? '0');
    discount = expected;
  }
  let tax = new Decimal(doc.tax);
  if (context.taxRate !== undefined) {
    const taxable = Decimal.max(subTotal.minus(discount), 0);
    const expected = context.taxRate === null ? new Decimal(0) : round(taxable.times(context.taxRate), c);
    if (!expected.eq(tax)) fail('tax must be the rate applied to (subTotal - discount), after the discount', expected, doc.tax);
    tax = expected;
  }
  const net = subTotal.minus(discount).plus(tax);
  if (!Decimal.max(net, 0).eq(doc.total)) fail('total must be max(subTotal - discount + tax, 0)', Decimal.max(net, 0), doc.total);
  const sum = doc.lines.reduce((s, l) => s.plus(l.amount), new Decimal(0));
  if (!sum.eq(net)) fail('the lines (DISCOUNT and TAX included) must sum to subTotal - discount + tax', net, sum.toFixed(currencyDigits(c)));
}

// ---------------------------------------------------------------------------------------------
// Tiers and models

/** The pricing rule under test: a price and a quantity to an unrounded amount (the core's `priceLine` by default). */
export type PriceRule = (price: PriceDefinition, options: { quantity?: number; billingCountryCode?: string | null }) => { amount: Decimal };

/** Countries whose amounts a price has: the base (null) and each override. */
function countriesOf(price: PriceDefinition): (string | null)[] {
  return [null, ...Object.keys(price.countryOverrides ?? {})];
}

/**
 * `price` computes what the reference implementation of docs/pricing.md computes (exactly, before
 * rounding) at every quantity in `quantities` (default: `boundaryQuantities(price)`: 0, 1, 2, each
 * tier's upTo and its neighbours, block edges, unit bounds), for the base amounts and each
 * country override. Catches tiers off by one unit, packages that round down, flat amounts
 * billed in the wrong tier.
 */
export function priceMatchesReference(price: PriceDefinition, options: { quantities?: readonly number[] } = {}, rules: { priceLine?: PriceRule } = {}): void {
  const rule = rules.priceLine ?? priceLine;
  const quantities = options.quantities ?? boundaryQuantities(price);
  for (const country of countriesOf(price)) {
    for (const quantity of quantities) {
      const expected = referencePrice(price, quantity, country);
      const seen = rule(price, { quantity, billingCountryCode: country }).amount;
      if (!new Decimal(seen).eq(expected)) {
        throw new InvariantError('priceMatchesReference', `the price of ${quantity} units must follow docs/pricing.md`, {
          expected: expected.toFixed(),
          seen: new Decimal(seen).toFixed(),
          inputs: { price, quantity, billingCountryCode: country },
        });
      }
    }
  }
}

/** Quantities to scan for monotonicity: every one up to a bound, plus the boundaries. */
function scanQuantities(price: PriceDefinition, maxQuantity: number | undefined): number[] {
  const lastUpTo = Math.max(0, ...countriesOf(price).flatMap((c) => (referenceAmounts(price, c).tiers ?? []).map((t) => t.upTo ?? 0)));
  const bound = maxQuantity ?? Math.min(lastUpTo + 10, 2_000);
  const qs = new Set<number>(boundaryQuantities(price).filter((q) => q <= bound + 1));
  for (let q = 0; q <= bound; q++) qs.add(q);
  const min = price.billingModel === 'PER_UNIT' ? (price.minUnitQuantity ?? 0) : 0;
  const max = price.billingModel === 'PER_UNIT' ? (price.maxUnitQuantity ?? Infinity) : Infinity;
  return [...qs].filter((q) => q >= min && q <= max).sort((a, b) => a - b);
}

/**
 * A GRADUATED price never charges less for more units: cost(n + 1) >= cost(n) for every n up to
 * `maxQuantity` (default: 10 past the last tier's upTo, at most 2,000) and at every tier
 * boundary, for the base amounts and each country override. A price with another model is
 * refused (RangeError): VOLUME prices may drop at a tier boundary, see `volumeCliffs`.
 */
export function graduatedIsMonotonic(price: PriceDefinition, options: { maxQuantity?: number } = {}, rules: { priceLine?: PriceRule } = {}): void {
  if (price.tiersMode !== 'GRADUATED') throw new RangeError(`graduatedIsMonotonic: the price is not GRADUATED (tiersMode ${String(price.tiersMode)})`);
  const rule = rules.priceLine ?? priceLine;
  const quantities = scanQuantities(price, options.maxQuantity);
  for (const country of countriesOf(price)) {
    let previous: { quantity: number; amount: Decimal } | undefined;
    for (const quantity of quantities) {
      const amount = new Decimal(rule(price, { quantity, billingCountryCode: country }).amount);
      if (previous && amount.lt(previous.amount)) {
        throw new InvariantError('graduatedIsMonotonic', `${quantity} units must not cost less than ${previous.quantity}`, {
          expected: `>= ${previous.amount.toFixed()}`,
          seen: amount.toFixed(),
          inputs: { price, quantities: [previous.quantity, quantity], billingCountryCode: country },
        });
      }
      previous = { quantity, amount };
    }
  }
}

/** A quantity where one more unit costs less (a VOLUME price crossing into a cheaper tier). */
export interface VolumeCliff {
  /** n: n + 1 units cost less than n. */
  quantity: number;
  amount: string;
  nextAmount: string;
  currency: string;
  /** The country override the amounts are from; null for the base amounts. */
  billingCountryCode: string | null;
}

/**
 * Where `price` makes n + 1 units cheaper than n, for n up to `maxQuantity` (default: 10 past the
 * last tier's upTo, at most 2,000) and at every tier boundary, base amounts and each override.
 *
 * VOLUME prices every unit at the tier the total falls in, so crossing into a cheaper tier can
 * lower the total: tiers 1-1,000 at 10.00 and 1,001+ at 9.00 make 1,000 seats cost 10,000.00 and
 * 1,001 seats 9,009.00. That is how VOLUME works (GRADUATED never does it), and often not what a
 * pricing page means: assert `expect(volumeCliffs(price)).toEqual([])` to keep your tiers free of
 * such cliffs (a tier's flat amount can make up the difference). Amounts are unrounded strings.
 */
export function volumeCliffs(price: PriceDefinition, options: { maxQuantity?: number } = {}, rules: { priceLine?: PriceRule } = {}): VolumeCliff[] {
  if (price.billingModel === 'FLAT_FEE') return [];
  const rule = rules.priceLine ?? priceLine;
  const quantities = scanQuantities(price, options.maxQuantity);
  const cliffs: VolumeCliff[] = [];
  for (const country of countriesOf(price)) {
    const { currency } = referenceAmounts(price, country);
    const cost = new Map<number, Decimal>();
    const at = (q: number): Decimal | undefined => {
      if (!cost.has(q)) {
        try {
          cost.set(q, new Decimal(rule(price, { quantity: q, billingCountryCode: country }).amount));
        } catch {
          // A quantity the price refuses (beyond maxUnitQuantity) has no cost to compare.
          return undefined;
        }
      }
      return cost.get(q);
    };
    for (const q of quantities) {
      const a = at(q);
      const b = at(q + 1);
      if (a !== undefined && b !== undefined && b.lt(a)) cliffs.push({ quantity: q, amount: a.toFixed(), nextAmount: b.toFixed(), currency, billingCountryCode: country });
    }
  }
  return cliffs;
}

// ---------------------------------------------------------------------------------------------
// Credits

/** A credit grant as the ledger invariant reads it (`CreditGrant`, `CreditGrantView` fit). */
export interface GrantLike {
  id: string;
  remaining: string;
}

/** A ledger entry as the ledger invariant reads it (`LedgerEntry` and `getCreditLedger` rows fit). */
export interface LedgerEntryLike {
  grantId: string;
  amount: string;
}

/**
 * The credit ledger balances (docs/credits.md#ledger): for every grant the sum of its entries
 * equals its `remaining`, and no entry names a grant that is not there.
 */
export function ledgerBalances(ledger: { grants: readonly GrantLike[]; entries: readonly LedgerEntryLike[] }): void {
  const sums = new Map<string, Decimal>();
  for (const e of ledger.entries) sums.set(e.grantId, (sums.get(e.grantId) ?? new Decimal(0)).plus(e.amount));
  const ids = new Set(ledger.grants.map((g) => g.id));
  for (const g of ledger.grants) {
    const sum = sums.get(g.id) ?? new Decimal(0);
    if (!sum.eq(g.remaining)) {
      throw new InvariantError('ledgerBalances', `the ledger entries of grant ${g.id} must add up to what it has remaining`, {
        expected: g.remaining,
        seen: sum.toFixed(),
        inputs: { grant: g, entries: ledger.entries.filter((e) => e.grantId === g.id) },
      });
    }
  }
  for (const [grantId, sum] of sums) {
    if (!ids.has(grantId)) {
      throw new InvariantError('ledgerBalances', `ledger entries name grant ${grantId}, which is not among the grants`, {
        expected: 'no entries',
        seen: sum.toFixed(),
        inputs: { entries: ledger.entries.filter((e) => e.grantId === grantId) },
      });
    }
  }
}
