/**
 * Tax (docs/pricing.md#tax): one rate per billing country, a fraction ('0.20' = 20%), applied
 * after discounts to the discounted subtotal and rounded once. Tax-exempt customers, customers
 * without a billing country and countries without a rate pay none.
 */
import type { TaxRateDefinition } from '../catalog/types.js';
import { invalidArgument } from '../errors.js';
import { Decimal, roundMoney, toDecimal } from '../money.js';

/** Tax rates by country code, as `Catalog.taxRates` holds them, or as declared in the catalog. */
export type TaxRates = ReadonlyMap<string, string> | readonly TaxRateDefinition[];

/** Who is taxed where. */
export interface TaxParty {
  billingCountryCode?: string | null;
  /** From the customer's billing info: no tax at all. */
  taxExempt?: boolean;
}

/** The rate that applies to a party: zero (and `countryCode` null) when exempt or not found. */
export interface TaxRate {
  rate: Decimal;
  /** The country whose rate applies; null when none does. */
  countryCode: string | null;
  exempt: boolean;
}

/** Parses a rate: a decimal fraction from 0 to 1 ('0.2', '0.075'). Throws `INVALID_ARGUMENT` otherwise (a '20' is a mistake for '0.20'). */
export function parseTaxRate(rate: string, field = 'taxRates.rate'): Decimal {
  const d = toDecimal(rate, field);
  if (d.lessThan(0) || d.greaterThan(1)) throw invalidArgument(field, `must be a fraction between 0 and 1 ('0.20' is 20%), got '${rate}'`, { value: rate });
  return d;
}

/** The tax rate of `party` in `rates`: its billing country's (matched exactly, then uppercased), unless it is exempt. */
export function taxRateFor(party: TaxParty, rates: TaxRates): TaxRate {
  if (party.taxExempt) return { rate: new Decimal(0), countryCode: null, exempt: true };
  const code = party.billingCountryCode;
  if (!code) return { rate: new Decimal(0), countryCode: null, exempt: false };
  for (const candidate of [code, code.toUpperCase()]) {
    const rate = lookup(rates, candidate);
    if (rate !== undefined) return { rate: parseTaxRate(rate, `taxRates.${candidate}`), countryCode: candidate, exempt: false };
  }
  return { rate: new Decimal(0), countryCode: null, exempt: false };
}

function lookup(rates: TaxRates, code: string): string | undefined {
  if (rates instanceof Map) return rates.get(code);
  return (rates as readonly TaxRateDefinition[]).find((r) => r.countryCode === code)?.rate;
}

/**
 * Tax on `taxable` (the subtotal after discounts, in `currency`): taxable x rate rounded once,
 * half-up, to the minor unit. Zero when `taxable` is zero or negative (a net credit carries no tax).
 * Example: 20% of 39.99 = 7.998 -> 8.00.
 */
export function computeTax(taxable: Decimal, rate: Decimal, currency: string): Decimal {
  const amount = roundMoney(Decimal.max(taxable, 0).times(rate), currency);
  return amount.isZero() ? new Decimal(0) : amount;
}

/** Tax computed for a document: the rate used and the rounded amount, with a line description. */
export interface TaxResult extends TaxRate {
  amount: Decimal;
  description: string;
}

/** `computeTax` with the rate of `party` looked up in `rates` (docs/pricing.md#tax). */
export function applyTax(taxable: Decimal, currency: string, party: TaxParty, rates: TaxRates): TaxResult {
  const rate = taxRateFor(party, rates);
  const amount = computeTax(taxable, rate.rate, currency);
  const description = rate.exempt
    ? 'Tax (exempt)'
    : rate.countryCode === null
      ? 'Tax'
      : `Tax (${rate.countryCode} ${rate.rate.times(100).toString()}%)`;
  return { ...rate, amount, description };
}
