import { addMonthsUtc, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from './rules/calendar.js';

/**
 * Where the engine reads the time. All instants are UTC milliseconds since the epoch.
 * `nowMs` is the hot-path form (no allocation); `now` the convenient one.
 */
export interface Clock {
  now(): Date;
  nowMs(): number;
}

/** The machine's clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  nowMs: () => Date.now(),
};

/** A calendar step for `TestClock.advance`; months and years clamp at month ends (UTC). */
export interface Duration {
  years?: number;
  months?: number;
  weeks?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  milliseconds?: number;
}

/** A clock that only moves when told: for tests and simulations. */
export interface TestClock extends Clock {
  /** Moves forward by milliseconds or a calendar duration. Throws on a negative step. */
  advance(by: number | Duration): Date;
  /** Jumps to an instant (forward or back). */
  set(at: Date | string | number): Date;
}

/** Applies a calendar duration to an instant (UTC; month ends clamp: Jan 31 + 1 month = Feb 28/29). */
export function addDuration(at: Date, d: Duration): Date {
  let t = at.getTime();
  if (d.years !== undefined || d.months !== undefined) t = addMonthsUtc(t, (d.years ?? 0) * 12 + (d.months ?? 0));
  t += ((d.weeks ?? 0) * 7 + (d.days ?? 0)) * MS_PER_DAY;
  t += (d.hours ?? 0) * MS_PER_HOUR + (d.minutes ?? 0) * MS_PER_MINUTE;
  t += (d.seconds ?? 0) * 1000 + (d.milliseconds ?? 0);
  return new Date(t);
}

/**
 * A test clock starting at `start` (default 2024-01-01T00:00:00Z); calendar steps are UTC.
 * A string without `Z` or an offset (`'2024-01-31T12:00'`) is read as UTC, never as local time.
 */
export function testClock(start: Date | string | number = '2024-01-01T00:00:00Z'): TestClock {
  let ms = toMs(start);
  return {
    now: () => new Date(ms),
    nowMs: () => ms,
    advance(by) {
      const next = typeof by === 'number' ? ms + by : addDuration(new Date(ms), by).getTime();
      if (!(next >= ms)) throw new RangeError('testClock.advance: the step must not be negative');
      ms = next;
      return new Date(ms);
    },
    set(at) {
      ms = toMs(at);
      return new Date(ms);
    },
  };
}

/** An ISO date-time without `Z` or an offset, which `Date.parse` would read in the process time zone. */
const ISO_LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

function toMs(at: Date | string | number): number {
  const ms =
    at instanceof Date
      ? at.getTime()
      : typeof at === 'number'
        ? at
        : Date.parse(ISO_LOCAL_DATE_TIME.test(at) ? `${at.replace(' ', 'T')}Z` : at);
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(at)}`);
  return ms;
}
