/**
 * Money: decimal amounts with a currency (docs/pricing.md#rounding).
 *
 * Amounts cross the API as strings (`{ amount: '12.50', currency: 'USD' }`) and are `Decimal`
 * inside; nothing here ever does float arithmetic on money. `roundMoney` is the one rounding
 * function of the project: every priced line goes through it exactly once.
 */
import DecimalJs from 'decimal.js';
// The types by their named export: the declarations then hold under every moduleResolution
// (node16 reads decimal.js's types as CommonJS, where the default import is the whole module).
import type { Decimal as DecimalClass } from 'decimal.js';
import { currencyMinorUnits } from './catalog/currencies.js';
import { TesseraError, invalidArgument } from './errors.js';

/** An amount at the API boundary: a decimal string in `currency` (ISO-4217, e.g. 'USD'). */
export interface Money {
  amount: string;
  currency: string;
}

/**
 * The project's Decimal: 40 significant digits and ROUND_HALF_UP.
 * 40 digits keep `amount x seconds / seconds` exact far beyond any real price (an amount with 25
 * significant digits times a year in seconds still fits), so the only rounding that shows is
 * `roundMoney`'s. The exponent limits keep `toString()` in plain notation.
 */
export const Decimal: typeof DecimalClass = DecimalJs.clone({
  precision: 40,
  rounding: DecimalJs.ROUND_HALF_UP,
  toExpNeg: -50,
  toExpPos: 50,
});
/** A Decimal instance (any decimal.js clone interoperates with ours). */
export type Decimal = DecimalClass;

/** A plain decimal number: optional minus, digits, optional fraction. No exponent, no '+', no spaces. */
const DECIMAL_STRING = /^-?\d+(?:\.\d+)?$/;

/** True when `value` is a decimal string `toDecimal` accepts ('12.50', '-3', '0.005'). */
export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 200 && DECIMAL_STRING.test(value);
}

/**
 * Parses a decimal string strictly: '12.50', '-3', '0.005'. Rejects numbers (pass money as
 * strings so no float ever touches it), exponents ('1e3'), 'NaN', 'Infinity', '', ' 1', '1.'.
 * Throws `INVALID_ARGUMENT` with `details.field` = `field`.
 */
export function toDecimal(value: string, field = 'amount'): Decimal {
  if (typeof value !== 'string') {
    throw invalidArgument(field, `must be a decimal string such as '12.50', got ${typeof value}`, { value });
  }
  if (!isDecimalString(value)) {
    throw invalidArgument(field, `must be a plain decimal string such as '12.50' (no exponent, no spaces), got '${value}'`, {
      value,
    });
  }
  return new Decimal(value);
}

/**
 * Number of minor-unit digits of `currency` (USD 2, JPY 0, KWD 3).
 * Throws `INVALID_ARGUMENT` for a currency the project does not know, rather than guessing.
 */
export function currencyDigits(currency: string): number {
  const digits = typeof currency === 'string' ? currencyMinorUnits(currency) : undefined;
  if (digits === undefined) {
    throw invalidArgument('currency', `unknown currency '${String(currency)}'; use an ISO-4217 code such as 'USD'`, {
      value: currency,
    });
  }
  return digits;
}

/**
 * THE rounding function (docs/pricing.md#rounding): `d` rounded to the minor unit of `currency`,
 * half-up, i.e. ties away from zero, so a credit of -10.005 rounds to -10.01 and mirrors the
 * debit of 10.005 exactly. Idempotent: rounding a rounded amount changes nothing.
 * Throws `INVALID_ARGUMENT` for an unknown currency.
 */
export function roundMoney(d: Decimal, currency: string): Decimal {
  return new Decimal(d).toDecimalPlaces(currencyDigits(currency), Decimal.ROUND_HALF_UP);
}

/**
 * `d` as a string with exactly the currency's minor digits: formatMoney(12.5, 'USD') = '12.50',
 * (1234, 'JPY') = '1234', (1.5, 'KWD') = '1.500'. Goes through `roundMoney` (a no-op on an
 * amount that is already rounded, which is what callers pass); never prints '-0.00'.
 */
export function formatMoney(d: Decimal, currency: string): string {
  const rounded = roundMoney(d, currency);
  return (rounded.isZero() ? new Decimal(0) : rounded).toFixed(currencyDigits(currency));
}

/** `d` rounded and formatted as API `Money`. */
export function toMoney(d: Decimal, currency: string): Money {
  return { amount: formatMoney(d, currency), currency };
}

/** Parses API `Money` (strictly, like `toDecimal`); `field` names it in errors. */
export function moneyToDecimal(money: Money, field = 'amount'): Decimal {
  if (!money || typeof money !== 'object') throw invalidArgument(field, 'must be { amount, currency }', { value: money });
  currencyDigits(money.currency);
  return toDecimal(money.amount, `${field}.amount`);
}

/**
 * Throws `INVALID_ARGUMENT` unless `actual` is `expected`: arithmetic never mixes currencies.
 * `field` names the input that brought the other currency.
 */
export function assertSameCurrency(expected: string, actual: string, field = 'currency'): void {
  if (expected !== actual) {
    throw new TesseraError('INVALID_ARGUMENT', `${field}: currency ${actual} cannot be combined with ${expected}`, {
      field,
      value: actual,
      allowed: [expected],
    });
  }
}

/**
 * The sum of two Money values in one currency. Both are normally rounded already, so the sum is
 * exact; otherwise it is rounded once by `formatMoney`. Throws `INVALID_ARGUMENT` on mixed currencies.
 */
export function addMoney(a: Money, b: Money): Money {
  assertSameCurrency(a.currency, b.currency);
  return { amount: formatMoney(moneyToDecimal(a).plus(moneyToDecimal(b)), a.currency), currency: a.currency };
}

/** The exact sum of Decimals (0 for none); callers sum amounts that are already rounded. */
export function sumDecimals(values: readonly Decimal[]): Decimal {
  let total = new Decimal(0);
  for (const v of values) total = total.plus(v);
  return total;
}
