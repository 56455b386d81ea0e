import type { BillingPeriod, MonthlyResetAnchor, ResetPeriod, WeekDay } from '../catalog/types.js';
import { WEEK_DAYS } from '../catalog/types.js';
import { NO_WINDOW_END } from '../records.js';
import { MS_PER_DAY, MS_PER_HOUR, nthMonthStep, startOfDayUtc, startOfMonthUtc } from './calendar.js';

/** A half-open interval of UTC epoch milliseconds: [start, end). */
export interface Window {
  start: number;
  end: number;
}

/** How a usage window is computed: the reset period, and what it is anchored on. */
export interface WindowSpec {
  /** null or absent: one window for all time (cumulative usage, like seats). */
  resetPeriod?: ResetPeriod | null;
  /** The subscription's usage anchor (epoch ms): MONTH, YEAR and un-configured WEEK windows count from it. */
  anchor: number;
  monthlyAccordingTo?: MonthlyResetAnchor;
  weeklyAccordingTo?: WeekDay;
}

const MS_PER_WEEK = 7 * MS_PER_DAY;

/** The window of every feature that never resets. */
export const ALL_TIME: Window = Object.freeze({ start: 0, end: NO_WINDOW_END });

/**
 * The usage window containing `at` (docs/conventions.md#usage-windows):
 * - HOUR and DAY: UTC clock hours and days.
 * - WEEK: from 00:00 UTC of `weeklyAccordingTo`, or every 7 days from the anchor when not set.
 * - MONTH: from the anchor, one calendar month at a time, month ends clamped and computed from
 *   the anchor (Jan 31 -> Feb 29 -> Mar 31), or calendar months with `START_OF_THE_MONTH`.
 * - YEAR: from the anchor, one year at a time (Feb 29 -> Feb 28 in common years).
 * Example: usageWindow({ resetPeriod: 'MONTH', anchor: Jan 31 }, Feb 15) = [Jan 31, Feb 29) in 2024.
 */
export function usageWindow(spec: WindowSpec, at: number): Window {
  switch (spec.resetPeriod) {
    case undefined:
    case null:
      return ALL_TIME;
    case 'HOUR': {
      const start = at - (((at % MS_PER_HOUR) + MS_PER_HOUR) % MS_PER_HOUR);
      return { start, end: start + MS_PER_HOUR };
    }
    case 'DAY': {
      const start = startOfDayUtc(at);
      return { start, end: start + MS_PER_DAY };
    }
    case 'WEEK': {
      let origin = spec.anchor;
      if (spec.weeklyAccordingTo) {
        // 1970-01-01 was a Thursday (day 4): the first midnight of the wanted weekday on or after it.
        const wanted = WEEK_DAYS.indexOf(spec.weeklyAccordingTo);
        if (wanted < 0) throw new RangeError(`usageWindow: unknown weeklyAccordingTo ${String(spec.weeklyAccordingTo)}`);
        origin = ((wanted - 4 + 7) % 7) * MS_PER_DAY;
      }
      const start = origin + Math.floor((at - origin) / MS_PER_WEEK) * MS_PER_WEEK;
      return { start, end: start + MS_PER_WEEK };
    }
    case 'MONTH':
      if (spec.monthlyAccordingTo === 'START_OF_THE_MONTH') {
        const start = startOfMonthUtc(at);
        return { start, end: nthMonthStep(start, 1, 1) };
      }
      return steppedWindow(spec.anchor, 1, at);
    case 'YEAR':
      return steppedWindow(spec.anchor, 12, at);
    default:
      // Unreachable for typed callers; a reset period read from untyped JSON must not yield undefined.
      throw new RangeError(`usageWindow: unknown resetPeriod ${String(spec.resetPeriod satisfies never)}`);
  }
}

/**
 * A usage window as the API shows it: its bounds as Dates, or nulls for the single all-time
 * window of a feature that never resets.
 */
export function usagePeriod(start: number, end: number): { usagePeriodStart: Date | null; usagePeriodEnd: Date | null } {
  const all = start === ALL_TIME.start && end === ALL_TIME.end;
  return { usagePeriodStart: all ? null : new Date(start), usagePeriodEnd: all ? null : new Date(end) };
}

/** The billing period containing `at` for a subscription billed from `anchor`. */
export function billingPeriodAt(anchor: number, billingPeriod: BillingPeriod, at: number): Window {
  return steppedWindow(anchor, monthsPer(billingPeriod), at);
}

/** The n-th billing period from the anchor (n = 0 is the first). */
export function nthBillingPeriod(anchor: number, billingPeriod: BillingPeriod, n: number): Window {
  const months = monthsPer(billingPeriod);
  return { start: nthMonthStep(anchor, months, n), end: nthMonthStep(anchor, months, n + 1) };
}

function monthsPer(billingPeriod: BillingPeriod): number {
  if (billingPeriod === 'MONTHLY') return 1;
  if (billingPeriod === 'ANNUALLY') return 12;
  throw new RangeError(`unknown billing period ${String(billingPeriod satisfies never)}`);
}

/** The window [anchor + n*months, anchor + (n+1)*months) containing `at`, each end computed from the anchor. */
function steppedWindow(anchor: number, months: number, at: number): Window {
  const a = new Date(anchor);
  const b = new Date(at);
  const monthsApart =
    (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
  let n = Math.floor(monthsApart / months);
  // The estimate is off by at most one step either way (day of month and time of day).
  while (nthMonthStep(anchor, months, n) > at) n--;
  while (nthMonthStep(anchor, months, n + 1) <= at) n++;
  return { start: nthMonthStep(anchor, months, n), end: nthMonthStep(anchor, months, n + 1) };
}
