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

/** Number of days in a UTC month (`month` 0-11). */
export function daysInMonthUtc(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** `at` plus `months` calendar months in UTC, clamping the day of month. Example: addMonthsUtc(Jan 31, 1) = Feb 28/29. */
export function addMonthsUtc(at: number, months: number): number {
  const d = new Date(at);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const ty = y + Math.floor(m / 12);
  const tm = ((m % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), daysInMonthUtc(ty, tm));
  return Date.UTC(ty, tm, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
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
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * The `n`-th step from `anchor` of `months` months each, computed from the anchor (never by
 * chaining), so Jan 31 -> Feb 29 -> Mar 31 rather than drifting to Mar 29.
 */
export function nthMonthStep(anchor: number, months: number, n: number): number {
  return addMonthsUtc(anchor, months * n);
}
