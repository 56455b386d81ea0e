/**
 * UTC calendar arithmetic on epoch milliseconds. One rule for the whole project
 * (docs/conventions.md#calendar): adding months keeps the day of month and clamps to the
 * last day when the target month is shorter (Jan 31 + 1 month = Feb 29 in 2024, Feb 28 in 2023),
 * like date-fns `addMonths`, but always in UTC whatever the process time zone.
 */

export const MS_PER_SECOND = 1000;
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
/** 400 Gregorian years are exactly 146,097 days, so the calendar repeats with that period. */
const MS_PER_400_YEARS = 146_097 * MS_PER_DAY;

/** Whether a (proleptic Gregorian) year is a leap year. */
function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * `Date.UTC` without its legacy quirk: `Date.UTC` reads years 0-99 as 1900-1999, which would
 * turn year 50 into 1950. Those years are computed 400 years later and shifted back.
 */
function utc(year: number, month: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
  if (year >= 0 && year < 100) return Date.UTC(year + 400, month, day, h, mi, s, ms) - MS_PER_400_YEARS;
  return Date.UTC(year, month, day, h, mi, s, ms);
}

/** Number of days in a UTC month (`month` 0-11; other integers roll into the neighbouring years). */
export function daysInMonthUtc(year: number, month: number): number {
  const y = year + Math.floor(month / 12);
  const m = ((month % 12) + 12) % 12;
  return m === 1 && isLeapYear(y) ? 29 : (DAYS_IN_MONTH[m] ?? Number.NaN);
}

/**
 * `at` plus `months` calendar months in UTC, clamping the day of month. Example: addMonthsUtc(Jan 31, 1) = Feb 28/29.
 * Throws a RangeError when `months` is not an integer (a fractional month has no calendar meaning).
 */
export function addMonthsUtc(at: number, months: number): number {
  if (!Number.isInteger(months)) throw new RangeError(`addMonthsUtc: months must be an integer, got ${months}`);
  const d = new Date(at);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const ty = y + Math.floor(m / 12);
  const tm = ((m % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), daysInMonthUtc(ty, tm));
  return utc(ty, tm, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** `at` plus `years` in UTC; Feb 29 clamps to Feb 28 in a common year. */
export function addYearsUtc(at: number, years: number): number {
  return addMonthsUtc(at, years * 12);
}

/** `at` plus `days` days of 24 hours (UTC has no daylight saving). */
export function addDaysUtc(at: number, days: number): number {
  return at + days * MS_PER_DAY;
}

/** Midnight UTC of the day containing `at`. */
export function startOfDayUtc(at: number): number {
  return at - (((at % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY);
}

/** The first instant of the UTC calendar month containing `at`. */
export function startOfMonthUtc(at: number): number {
  const d = new Date(at);
  return utc(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * The `n`-th step from `anchor` of `months` months each, computed from the anchor (never by
 * chaining), so Jan 31 -> Feb 29 -> Mar 31 rather than drifting to Mar 29.
 */
export function nthMonthStep(anchor: number, months: number, n: number): number {
  return addMonthsUtc(anchor, months * n);
}
