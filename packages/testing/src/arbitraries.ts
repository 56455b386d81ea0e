/**
 * fast-check arbitraries for instants and money. Prices are in `arbitraries-price.ts`; features,
 * entitlements and coupons in `arbitraries-feature.ts`; plans, add-ons and catalogs in
 * `arbitraries-plan.ts` and `arbitraries-catalog.ts`; subscriptions, usage and events in
 * `arbitraries-activity.ts`; scenarios in `arbitraries-scenario.ts`.
 *
 * Every arbitrary is built from integers and weighted choices whose first option is the plainest
 * one, so a failing property shrinks toward small, readable values: the first of the month at
 * midnight, round amounts, a flat monthly price, one plan. Each doc comment names the minimum.
 */
import fc from 'fast-check';
import { Decimal, currencyDigits, type Money } from '@tessera/core';
import { index, pick, toMs, weighted } from './choice.js';

// ---------------------------------------------------------------------------------------------
// Instants

/** Options of `arbInstant`. */
export interface InstantOptions {
  /** The earliest month generated (its first day); default 2024-01-01T00:00:00Z. */
  from?: Date | string | number;
  /** How many years from `from` the instants span; default 3. */
  years?: number;
  /** Instants to favour, with their neighbours (1 ms and 1 s either side, the day before and after): billing period ends, trial ends. */
  boundaries?: readonly (Date | string | number)[];
}

type DayKind = 'FIRST_OF_MONTH' | 'LAST_OF_MONTH' | 'FEB_29' | 'YEAR_END' | 'ANY_DAY' | 'BOUNDARY';
type TimeKind = 'MIDNIGHT' | 'LAST_SECOND' | 'LAST_MS' | 'NOON' | 'ANY_SECOND';

const MS_PER_SECOND = 1000;
const MS_PER_DAY = 86_400_000;
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * UTC instants from the first of `from`'s month over `years` years, biased toward the days that
 * break calendar code: first and last days of months, Feb 29, Dec 31, and the `boundaries` given
 * (with their neighbours), at midnight, the last second or millisecond of the day, noon, or any second.
 *
 * Shrinks to midnight on the first of `from`'s month: 2024-01-01T00:00:00.000Z by default.
 */
export function arbInstant(options: InstantOptions = {}): fc.Arbitrary<Date> {
  const from = new Date(toMs(options.from ?? '2024-01-01T00:00:00Z'));
  const fromYear = from.getUTCFullYear();
  const fromMonth = from.getUTCMonth();
  const months = Math.max(1, Math.round((options.years ?? 3) * 12));
  const boundaries = (options.boundaries ?? []).map(toMs);
  const kinds: [DayKind, number][] = [
    ['FIRST_OF_MONTH', 3],
    ['LAST_OF_MONTH', 3],
    ['FEB_29', 2],
    ['YEAR_END', 1],
    ['ANY_DAY', 3],
  ];
  if (boundaries.length > 0) kinds.push(['BOUNDARY', 4]);
  return fc
    .record({
      kind: weighted(kinds),
      month: fc.integer({ min: 0, max: months - 1 }),
      day: fc.integer({ min: 0, max: 30 }),
      time: weighted<TimeKind>([
        ['MIDNIGHT', 4],
        ['LAST_SECOND', 1],
        ['LAST_MS', 1],
        ['NOON', 1],
        ['ANY_SECOND', 3],
      ]),
      second: fc.integer({ min: 0, max: 86_399 }),
      boundary: index(),
      nudge: weighted<number>([
        [0, 3],
        [-1, 1],
        [1, 1],
        [-MS_PER_SECOND, 1],
        [MS_PER_SECOND, 1],
        [-MS_PER_DAY, 1],
        [MS_PER_DAY, 1],
      ]),
    })
    .map(({ kind, month, day, time, second, boundary, nudge }) => {
      if (kind === 'BOUNDARY') return new Date((pick(boundaries, boundary) ?? from.getTime()) + nudge);
      const y = fromYear + Math.floor((fromMonth + month) / 12);
      const m = (fromMonth + month) % 12;
      const daysInMonth = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
      let date: number;
      if (kind === 'FIRST_OF_MONTH') date = Date.UTC(y, m, 1);
      else if (kind === 'LAST_OF_MONTH') date = Date.UTC(y, m, daysInMonth);
      else if (kind === 'YEAR_END') date = Date.UTC(y, 11, 31);
      else if (kind === 'FEB_29') {
        let leap = m <= 1 ? y : y + 1;
        while (!isLeap(leap)) leap++;
        date = Date.UTC(leap, 1, 29);
      } else date = Date.UTC(y, m, 1 + (day % daysInMonth));
      const offset =
        time === 'MIDNIGHT' ? 0 : time === 'LAST_SECOND' ? MS_PER_DAY - MS_PER_SECOND : time === 'LAST_MS' ? MS_PER_DAY - 1 : time === 'NOON' ? MS_PER_DAY / 2 : second * MS_PER_SECOND;
      return new Date(date + offset);
    });
}

// ---------------------------------------------------------------------------------------------
// Money

/** Options of `arbMoney` and the amounts inside prices. */
export interface AmountOptions {
  /** Smallest amount in major units (default 0). */
  min?: number;
  /** Largest amount in major units (default 1,000). */
  max?: number;
  /** Also amounts finer than the currency's minor unit, up to 4 decimals ('0.0125'), as unit prices have. Default false. */
  fine?: boolean;
}

/** A decimal string of `units` (an integer) counted in 10^-digits: (1250, 2) = '12.50'. */
export function formatScaled(units: number, digits: number): string {
  return new Decimal(units).div(new Decimal(10).pow(digits)).toFixed(digits);
}

/**
 * Decimal strings of an amount in `currency`: whole units ('12.00'), any number of minor units
 * ('12.34'), prices ending in .99, and with `fine` sub-minor unit prices ('0.0125').
 * Shrinks to `min` in whole units ('0.00' by default; '0' in JPY, '0.000' in KWD).
 */
export function arbAmount(currency: string, options: AmountOptions = {}): fc.Arbitrary<string> {
  const digits = currencyDigits(currency);
  const min = Math.max(0, Math.ceil(options.min ?? 0));
  const max = Math.max(min, Math.floor(options.max ?? 1000));
  const kinds: ['WHOLE' | 'MINOR' | 'NINETY_NINE' | 'FINE', number][] = [
    ['WHOLE', 4],
    ['MINOR', 3],
  ];
  if (digits > 0) kinds.push(['NINETY_NINE', 1]);
  if (options.fine) kinds.push(['FINE', 2]);
  const scale = 10 ** digits;
  return fc
    .record({
      kind: weighted(kinds),
      whole: fc.integer({ min, max }),
      minor: fc.integer({ min: min * scale, max: max * scale }),
      fine: fc.integer({ min: min * 10_000, max: Math.max(min * 10_000, Math.min(max, 10) * 10_000) }),
    })
    .map(({ kind, whole, minor, fine }) => {
      if (kind === 'WHOLE') return formatScaled(whole * scale, digits);
      if (kind === 'MINOR') return formatScaled(minor, digits);
      if (kind === 'NINETY_NINE') return formatScaled(Math.max(min * scale, whole * scale - 1), digits);
      // At least the currency's digits, so that '0.0100' reads as '0.0100' rather than '0.01'.
      return formatScaled(fine, 4);
    });
}

/** The currencies the arbitraries pick from by default: 2, 2, 0 and 3 minor digits. */
export const DEFAULT_CURRENCIES: readonly string[] = ['USD', 'EUR', 'JPY', 'KWD'];

/**
 * API money `{ amount, currency }` in `currency` (or one of USD, EUR, JPY, KWD), amounts as
 * `arbAmount` makes them. Shrinks to `{ amount: '0.00', currency: 'USD' }` (the given currency,
 * and `min` when given).
 */
export function arbMoney(currency?: string, options: AmountOptions = {}): fc.Arbitrary<Money> {
  const currencies = currency === undefined ? DEFAULT_CURRENCIES : [currency];
  return fc
    .record({ c: index(currencies.length - 1), amounts: fc.tuple(...currencies.map((c) => arbAmount(c, options))) })
    .map(({ c, amounts }) => ({ amount: amounts[c] ?? '0', currency: currencies[c] ?? 'USD' }));
}
