import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BillingPeriod, ResetPeriod, WeekDay } from '../src/catalog/types.js';
import { RESET_PERIODS, WEEK_DAYS } from '../src/catalog/types.js';
import { MS_PER_DAY, MS_PER_HOUR, nthMonthStep } from '../src/rules/calendar.js';
import { NO_WINDOW_END } from '../src/store/records.js';
import type { Window, WindowSpec } from '../src/rules/windows.js';
import { ALL_TIME, billingPeriodAt, nthBillingPeriod, usageWindow } from '../src/rules/windows.js';

// Property runs: ~300 by default so CI stays fast. Run more locally with
//   FC_NUM_RUNS=20000 npx vitest run packages/core/test/windows.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);
const fcOptions = { numRuns: NUM_RUNS };

const MS_PER_WEEK = 7 * MS_PER_DAY;

const t = (iso: string): number => {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
};
const iso = (ms: number): string => new Date(ms).toISOString();
/** A window as ISO strings, so a failure reads as dates. */
const show = (w: Window): [string, string] => [iso(w.start), iso(w.end)];
/** The expected window [from, to) as ISO strings. */
const win = (from: string, to: string): [string, string] => [iso(t(from)), iso(t(to))];

const daysIn = (y: number, m: number): number => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
/** Non-negative remainder (and +0 rather than -0, which toBe tells apart). */
const mod = (a: number, n: number): number => (((a % n) + n) % n) + 0;
const timeOfDay = (ms: number): number => mod(ms, MS_PER_DAY);

// ---------------------------------------------------------------------------------------------
// Arbitraries: instants in 1900-2200 biased toward month ends, Feb 29 and exact midnights.

const arbYear = fc.integer({ min: 1900, max: 2200 });
const arbTimeOfDay = fc.oneof(
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.constant(MS_PER_DAY - 1), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: MS_PER_DAY - 1 }), weight: 4 },
);
const arbMonthEnd = fc
  .record({ y: arbYear, m: fc.integer({ min: 0, max: 11 }), back: fc.integer({ min: 0, max: 3 }), tod: arbTimeOfDay })
  .map(({ y, m, back, tod }) => Date.UTC(y, m + 1, -back) + tod);
const arbLeapDay = fc
  .record({ y: arbYear.filter(isLeap), tod: arbTimeOfDay })
  .map(({ y, tod }) => Date.UTC(y, 1, 29) + tod);
const arbUniformInstant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) });
const arbMidnight = arbUniformInstant.map((ms) => ms - timeOfDay(ms));

/** An instant between 1900 and 2200, biased toward month ends, Feb 29 and midnights. */
const arbInstant = fc.oneof(
  { arbitrary: arbUniformInstant, weight: 3 },
  { arbitrary: arbMonthEnd, weight: 4 },
  { arbitrary: arbLeapDay, weight: 2 },
  { arbitrary: arbMidnight, weight: 1 },
);

const arbResetPeriod = fc.constantFrom<ResetPeriod>(...RESET_PERIODS);
const arbWeekDay = fc.constantFrom<WeekDay>(...WEEK_DAYS);

/** Every reset period with every anchor configuration (configurations that do not apply included). */
const arbSpec: fc.Arbitrary<WindowSpec & { resetPeriod: ResetPeriod }> = fc.record(
  {
    resetPeriod: arbResetPeriod,
    anchor: arbInstant,
    monthlyAccordingTo: fc.constantFrom('SUBSCRIPTION_START' as const, 'START_OF_THE_MONTH' as const),
    weeklyAccordingTo: arbWeekDay,
  },
  { requiredKeys: ['resetPeriod', 'anchor'] },
);

/** An instant near the anchor most of the time (the common case), sometimes anywhere. */
const arbSpecAndInstant = fc.tuple(arbSpec, fc.oneof(arbInstant, fc.integer({ min: -4e9, max: 4e9 }))).map(
  ([spec, x]) => [spec, Math.abs(x) <= 4e9 ? spec.anchor + x : x] as const,
);

const arbBillingPeriod = fc.constantFrom<BillingPeriod>('MONTHLY', 'ANNUALLY');

// ---------------------------------------------------------------------------------------------

describe('usageWindow: no reset period', () => {
  it('is ALL_TIME for null, undefined and an absent reset period', () => {
    const at = t('2024-02-29T12:00:00Z');
    const anchor = t('2024-01-31T00:00:00Z');
    expect(usageWindow({ anchor, resetPeriod: null }, at)).toEqual(ALL_TIME);
    expect(usageWindow({ anchor, resetPeriod: undefined }, at)).toEqual(ALL_TIME);
    expect(usageWindow({ anchor }, at)).toEqual(ALL_TIME);
    expect(ALL_TIME).toEqual({ start: 0, end: NO_WINDOW_END });
  });

  it('shares one frozen ALL_TIME that callers cannot move', () => {
    expect(Object.isFrozen(ALL_TIME)).toBe(true);
    expect(() => {
      (ALL_TIME as { start: number }).start = 5;
    }).toThrow(TypeError);
    expect(ALL_TIME.start).toBe(0);
  });
});

describe('usageWindow: HOUR and DAY', () => {
  const anchor = t('2024-01-31T13:45:10.123Z'); // ignored by HOUR and DAY

  it('uses UTC clock hours; an instant exactly at a window end is in the next window', () => {
    const hour = (at: string) => show(usageWindow({ resetPeriod: 'HOUR', anchor }, t(at)));
    expect(hour('2024-02-29T22:59:59.999Z')).toEqual(win('2024-02-29T22:00:00Z', '2024-02-29T23:00:00Z'));
    expect(hour('2024-02-29T23:00:00.000Z')).toEqual(win('2024-02-29T23:00:00Z', '2024-03-01T00:00:00Z'));
    expect(hour('2024-02-29T23:59:59.999Z')).toEqual(win('2024-02-29T23:00:00Z', '2024-03-01T00:00:00Z'));
  });

  it('uses UTC days; an instant exactly at midnight starts the next day', () => {
    const day = (at: string) => show(usageWindow({ resetPeriod: 'DAY', anchor }, t(at)));
    expect(day('2024-02-28T23:59:59.999Z')).toEqual(win('2024-02-28T00:00:00Z', '2024-02-29T00:00:00Z'));
    expect(day('2024-02-29T00:00:00.000Z')).toEqual(win('2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z'));
    expect(day('2024-12-31T23:59:59.999Z')).toEqual(win('2024-12-31T00:00:00Z', '2025-01-01T00:00:00Z'));
  });

  it('rounds down before 1970 (negative epoch milliseconds)', () => {
    expect(usageWindow({ resetPeriod: 'HOUR', anchor }, -1)).toEqual({ start: -MS_PER_HOUR, end: 0 });
    expect(usageWindow({ resetPeriod: 'DAY', anchor }, -1)).toEqual({ start: -MS_PER_DAY, end: 0 });
    expect(usageWindow({ resetPeriod: 'DAY', anchor }, 0)).toEqual({ start: 0, end: MS_PER_DAY });
  });
});

describe('usageWindow: WEEK', () => {
  const anchor = t('2024-01-31T13:45:10.123Z'); // a Wednesday

  it('starts on Monday 00:00 UTC with weeklyAccordingTo MONDAY (2024-01-01 was a Monday)', () => {
    const week = (at: string) => show(usageWindow({ resetPeriod: 'WEEK', anchor, weeklyAccordingTo: 'MONDAY' }, t(at)));
    expect(new Date(t('2024-01-01T00:00:00Z')).getUTCDay()).toBe(1); // the calendar agrees
    expect(week('2024-01-03T10:00:00Z')).toEqual(win('2024-01-01T00:00:00Z', '2024-01-08T00:00:00Z'));
    expect(week('2024-01-01T00:00:00Z')).toEqual(win('2024-01-01T00:00:00Z', '2024-01-08T00:00:00Z'));
    expect(week('2024-01-07T23:59:59.999Z')).toEqual(win('2024-01-01T00:00:00Z', '2024-01-08T00:00:00Z'));
    expect(week('2024-01-08T00:00:00Z')).toEqual(win('2024-01-08T00:00:00Z', '2024-01-15T00:00:00Z'));
    // Feb 29 2024 was a Thursday: its week began Monday Feb 26.
    expect(week('2024-02-29T12:00:00Z')).toEqual(win('2024-02-26T00:00:00Z', '2024-03-04T00:00:00Z'));
  });

  it('starts on Sunday 00:00 UTC with weeklyAccordingTo SUNDAY', () => {
    const week = (at: string) => show(usageWindow({ resetPeriod: 'WEEK', anchor, weeklyAccordingTo: 'SUNDAY' }, t(at)));
    // Sunday Dec 31 2023 is the day before Monday Jan 1 2024.
    expect(week('2024-01-03T10:00:00Z')).toEqual(win('2023-12-31T00:00:00Z', '2024-01-07T00:00:00Z'));
    expect(week('2024-01-06T23:59:59.999Z')).toEqual(win('2023-12-31T00:00:00Z', '2024-01-07T00:00:00Z'));
    expect(week('2024-01-07T00:00:00Z')).toEqual(win('2024-01-07T00:00:00Z', '2024-01-14T00:00:00Z'));
  });

  it('handles the other weekdays, including the epoch day Thursday and Saturday', () => {
    const week = (d: WeekDay, at: string) => show(usageWindow({ resetPeriod: 'WEEK', anchor, weeklyAccordingTo: d }, t(at)));
    // Wednesday Jan 3 2024: the last Thursday is Dec 28, the last Saturday Dec 30, today is Wednesday.
    expect(week('THURSDAY', '2024-01-03T10:00:00Z')).toEqual(win('2023-12-28T00:00:00Z', '2024-01-04T00:00:00Z'));
    expect(week('SATURDAY', '2024-01-03T10:00:00Z')).toEqual(win('2023-12-30T00:00:00Z', '2024-01-06T00:00:00Z'));
    expect(week('WEDNESDAY', '2024-01-03T10:00:00Z')).toEqual(win('2024-01-03T00:00:00Z', '2024-01-10T00:00:00Z'));
    expect(week('TUESDAY', '2024-01-03T10:00:00Z')).toEqual(win('2024-01-02T00:00:00Z', '2024-01-09T00:00:00Z'));
    expect(week('FRIDAY', '2024-01-03T10:00:00Z')).toEqual(win('2023-12-29T00:00:00Z', '2024-01-05T00:00:00Z'));
  });

  it('works before 1970: Wednesday Dec 31 1969 is in the week of Monday Dec 29 1969', () => {
    const w = usageWindow({ resetPeriod: 'WEEK', anchor, weeklyAccordingTo: 'MONDAY' }, t('1969-12-31T12:00:00Z'));
    expect(show(w)).toEqual(win('1969-12-29T00:00:00Z', '1970-01-05T00:00:00Z'));
  });

  it('counts every 7 days from the anchor, time of day included, when no weekday is configured', () => {
    const week = (at: string) => show(usageWindow({ resetPeriod: 'WEEK', anchor }, t(at)));
    // Anchor Wed Jan 31 13:45:10.123; windows start Jan 31, Feb 7, 14, 21, 28, Mar 6 at 13:45:10.123.
    expect(week('2024-02-07T13:45:10.122Z')).toEqual(win('2024-01-31T13:45:10.123Z', '2024-02-07T13:45:10.123Z'));
    expect(week('2024-02-07T13:45:10.123Z')).toEqual(win('2024-02-07T13:45:10.123Z', '2024-02-14T13:45:10.123Z'));
    expect(week('2024-02-29T12:00:00Z')).toEqual(win('2024-02-28T13:45:10.123Z', '2024-03-06T13:45:10.123Z'));
    // Before the anchor: the same grid, extended backwards.
    expect(week('2024-01-31T00:00:00Z')).toEqual(win('2024-01-24T13:45:10.123Z', '2024-01-31T13:45:10.123Z'));
    expect(week('2023-12-31T00:00:00Z')).toEqual(win('2023-12-27T13:45:10.123Z', '2024-01-03T13:45:10.123Z'));
  });

  it('rejects a weekday it does not know instead of silently picking one', () => {
    const spec = { resetPeriod: 'WEEK', anchor, weeklyAccordingTo: 'MONDAYS' as WeekDay } as const;
    expect(() => usageWindow(spec, anchor)).toThrow(RangeError);
  });
});

describe('usageWindow: MONTH from the anchor', () => {
  it('clamps the month ends of an anchor on Jan 31 2024: [Jan 31, Feb 29), [Feb 29, Mar 31), [Mar 31, Apr 30)', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    const month = (at: string) => show(usageWindow({ resetPeriod: 'MONTH', anchor }, t(at)));
    expect(month('2024-01-31T00:00:00Z')).toEqual(win('2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z'));
    expect(month('2024-02-15T00:00:00Z')).toEqual(win('2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z'));
    expect(month('2024-02-28T23:59:59.999Z')).toEqual(win('2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z'));
    expect(month('2024-02-29T00:00:00Z')).toEqual(win('2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z'));
    // Not Mar 29: each end is computed from the anchor, never from the previous (clamped) start.
    expect(month('2024-03-30T12:00:00Z')).toEqual(win('2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z'));
    expect(month('2024-03-31T00:00:00Z')).toEqual(win('2024-03-31T00:00:00Z', '2024-04-30T00:00:00Z'));
    expect(month('2024-04-30T00:00:00Z')).toEqual(win('2024-04-30T00:00:00Z', '2024-05-31T00:00:00Z'));
  });

  it('walks a whole year from Jan 31 2024 end to start without gaps or drift', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    const starts: string[] = [];
    let at = anchor;
    for (let i = 0; i < 13; i++) {
      const w = usageWindow({ resetPeriod: 'MONTH', anchor }, at);
      starts.push(iso(w.start).slice(0, 10));
      at = w.end;
    }
    expect(starts).toEqual([
      '2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31', '2024-06-30', '2024-07-31',
      '2024-08-31', '2024-09-30', '2024-10-31', '2024-11-30', '2024-12-31', '2025-01-31',
    ]);
  });

  it('uses Feb 28 for the same anchor in 2023 (a common year)', () => {
    const anchor = t('2023-01-31T00:00:00Z');
    const month = (at: string) => show(usageWindow({ resetPeriod: 'MONTH', anchor }, t(at)));
    expect(month('2023-02-27T23:59:59.999Z')).toEqual(win('2023-01-31T00:00:00Z', '2023-02-28T00:00:00Z'));
    expect(month('2023-02-28T00:00:00Z')).toEqual(win('2023-02-28T00:00:00Z', '2023-03-31T00:00:00Z'));
    expect(month('2023-03-31T00:00:00Z')).toEqual(win('2023-03-31T00:00:00Z', '2023-04-30T00:00:00Z'));
  });

  it('keeps the anchor time of day (Jan 31 13:45:10.123Z): the window turns at that millisecond', () => {
    const anchor = t('2024-01-31T13:45:10.123Z');
    const month = (at: string) => show(usageWindow({ resetPeriod: 'MONTH', anchor }, t(at)));
    expect(month('2024-02-29T00:00:00Z')).toEqual(win('2024-01-31T13:45:10.123Z', '2024-02-29T13:45:10.123Z'));
    expect(month('2024-02-29T13:45:10.122Z')).toEqual(win('2024-01-31T13:45:10.123Z', '2024-02-29T13:45:10.123Z'));
    expect(month('2024-02-29T13:45:10.123Z')).toEqual(win('2024-02-29T13:45:10.123Z', '2024-03-31T13:45:10.123Z'));
    // The anchor day itself, before the anchor time, is still in the previous window.
    expect(month('2024-01-31T00:00:00Z')).toEqual(win('2023-12-31T13:45:10.123Z', '2024-01-31T13:45:10.123Z'));
  });

  it('extends backwards from the anchor with the same clamping', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    const month = (at: string) => show(usageWindow({ resetPeriod: 'MONTH', anchor }, t(at)));
    expect(month('2024-01-30T23:59:59.999Z')).toEqual(win('2023-12-31T00:00:00Z', '2024-01-31T00:00:00Z'));
    expect(month('2023-12-30T00:00:00Z')).toEqual(win('2023-11-30T00:00:00Z', '2023-12-31T00:00:00Z'));
    expect(month('2023-02-15T00:00:00Z')).toEqual(win('2023-01-31T00:00:00Z', '2023-02-28T00:00:00Z'));
    expect(month('2023-03-01T00:00:00Z')).toEqual(win('2023-02-28T00:00:00Z', '2023-03-31T00:00:00Z'));
    // An anchor on Mar 31: Feb 29 and Jan 31 going back.
    const mar31 = t('2024-03-31T00:00:00Z');
    expect(show(usageWindow({ resetPeriod: 'MONTH', anchor: mar31 }, t('2024-03-01T00:00:00Z')))).toEqual(
      win('2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z'),
    );
    expect(show(usageWindow({ resetPeriod: 'MONTH', anchor: mar31 }, t('2024-02-28T00:00:00Z')))).toEqual(
      win('2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z'),
    );
  });

  it('counts SUBSCRIPTION_START the same as no configuration', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    const at = t('2024-03-15T00:00:00Z');
    expect(usageWindow({ resetPeriod: 'MONTH', anchor, monthlyAccordingTo: 'SUBSCRIPTION_START' }, at)).toEqual(
      usageWindow({ resetPeriod: 'MONTH', anchor }, at),
    );
  });
});

describe('usageWindow: MONTH with START_OF_THE_MONTH', () => {
  const anchor = t('2024-01-31T13:45:10.123Z'); // ignored
  const month = (at: string) =>
    show(usageWindow({ resetPeriod: 'MONTH', anchor, monthlyAccordingTo: 'START_OF_THE_MONTH' }, t(at)));

  it('uses calendar months at 00:00 UTC whatever the anchor', () => {
    expect(month('2024-02-29T12:00:00Z')).toEqual(win('2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'));
    expect(month('2024-02-01T00:00:00Z')).toEqual(win('2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'));
    expect(month('2024-01-31T23:59:59.999Z')).toEqual(win('2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z'));
    expect(month('2024-12-31T23:59:59.999Z')).toEqual(win('2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z'));
    expect(month('2023-02-14T00:00:00Z')).toEqual(win('2023-02-01T00:00:00Z', '2023-03-01T00:00:00Z'));
  });
});

describe('usageWindow: YEAR', () => {
  it('anchored on Feb 29 2024 uses Feb 28 in common years and returns to Feb 29 in 2028', () => {
    const anchor = t('2024-02-29T00:00:00Z');
    const year = (at: string) => show(usageWindow({ resetPeriod: 'YEAR', anchor }, t(at)));
    expect(year('2024-06-01T00:00:00Z')).toEqual(win('2024-02-29T00:00:00Z', '2025-02-28T00:00:00Z'));
    expect(year('2025-02-28T00:00:00Z')).toEqual(win('2025-02-28T00:00:00Z', '2026-02-28T00:00:00Z'));
    expect(year('2026-02-28T00:00:00Z')).toEqual(win('2026-02-28T00:00:00Z', '2027-02-28T00:00:00Z'));
    expect(year('2027-06-03T00:00:00Z')).toEqual(win('2027-02-28T00:00:00Z', '2028-02-29T00:00:00Z'));
    // Not Feb 28 2028: computed from the anchor, not by chaining from Feb 28 2027.
    expect(year('2028-02-28T23:59:59.999Z')).toEqual(win('2027-02-28T00:00:00Z', '2028-02-29T00:00:00Z'));
    expect(year('2028-02-29T00:00:00Z')).toEqual(win('2028-02-29T00:00:00Z', '2029-02-28T00:00:00Z'));
  });

  it('extends backwards from a Feb 29 anchor', () => {
    const anchor = t('2024-02-29T00:00:00Z');
    const year = (at: string) => show(usageWindow({ resetPeriod: 'YEAR', anchor }, t(at)));
    expect(year('2024-01-01T00:00:00Z')).toEqual(win('2023-02-28T00:00:00Z', '2024-02-29T00:00:00Z'));
    expect(year('2020-02-29T00:00:00Z')).toEqual(win('2020-02-29T00:00:00Z', '2021-02-28T00:00:00Z'));
    expect(year('2020-02-28T23:59:59.999Z')).toEqual(win('2019-02-28T00:00:00Z', '2020-02-29T00:00:00Z'));
  });

  it('is 365 days from Feb 29 2024 to Feb 28 2025 and 366 from Feb 28 2027 to Feb 29 2028', () => {
    const anchor = t('2024-02-29T00:00:00Z');
    const w1 = usageWindow({ resetPeriod: 'YEAR', anchor }, anchor);
    const w4 = usageWindow({ resetPeriod: 'YEAR', anchor }, t('2027-12-01T00:00:00Z'));
    expect((w1.end - w1.start) / MS_PER_DAY).toBe(365); // Feb 29 + 1 day = Mar 1; Mar 1 2024 -> Mar 1 2025 = 365
    expect((w4.end - w4.start) / MS_PER_DAY).toBe(366); // Feb 28 2027 -> Feb 28 2028 = 365, +1 for Feb 29
  });
});

describe('usageWindow: unknown reset period', () => {
  it('throws instead of returning undefined', () => {
    expect(() => usageWindow({ resetPeriod: 'FORTNIGHT' as ResetPeriod, anchor: 0 }, 0)).toThrow(RangeError);
  });
});

describe('usageWindow: properties', () => {
  it('the window contains the instant: start <= at < end', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, ([spec, at]) => {
        const w = usageWindow(spec, at);
        expect(w.start).toBeLessThanOrEqual(at);
        expect(w.end).toBeGreaterThan(at);
      }),
      fcOptions,
    );
  });

  it('the window of window.end is the next window, starting exactly at the previous end', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, ([spec, at]) => {
        const w = usageWindow(spec, at);
        const next = usageWindow(spec, w.end);
        expect(next.start).toBe(w.end);
        expect(next.end).toBeGreaterThan(next.start);
        // w.end - 1 is still in w: no gap and no overlap.
        expect(usageWindow(spec, w.end - 1)).toEqual(w);
      }),
      fcOptions,
    );
  });

  it('the window of start - 1 ends exactly at start', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, ([spec, at]) => {
        const w = usageWindow(spec, at);
        const prev = usageWindow(spec, w.start - 1);
        expect(prev.end).toBe(w.start);
        expect(prev.start).toBeLessThan(w.start);
      }),
      fcOptions,
    );
  });

  it('the window is a fixed point: usageWindow(w.start) = w', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, ([spec, at]) => {
        const w = usageWindow(spec, at);
        expect(usageWindow(spec, w.start)).toEqual(w);
      }),
      fcOptions,
    );
  });

  it('windows never go backwards: a later instant has a window starting no earlier', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, fc.integer({ min: 0, max: 400 * MS_PER_DAY }), ([spec, at], later) => {
        const a = usageWindow(spec, at);
        const b = usageWindow(spec, at + later);
        expect(b.start).toBeGreaterThanOrEqual(a.start);
        if (at + later < a.end) expect(b).toEqual(a);
      }),
      fcOptions,
    );
  });

  it('lengths: HOUR 1 h, DAY 24 h, WEEK 7 d, MONTH 28-31 whole days, YEAR 365 or 366 days', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, ([spec, at]) => {
        const w = usageWindow(spec, at);
        const len = w.end - w.start;
        switch (spec.resetPeriod) {
          case 'HOUR':
            expect(len).toBe(3_600_000);
            break;
          case 'DAY':
            expect(len).toBe(86_400_000);
            break;
          case 'WEEK':
            expect(len).toBe(7 * 86_400_000);
            break;
          case 'MONTH':
            expect(len % MS_PER_DAY).toBe(0);
            expect(len / MS_PER_DAY).toBeGreaterThanOrEqual(28);
            expect(len / MS_PER_DAY).toBeLessThanOrEqual(31);
            break;
          case 'YEAR':
            expect([365, 366]).toContain(len / MS_PER_DAY);
            break;
        }
      }),
      fcOptions,
    );
  });

  it('boundaries sit where the configuration says', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, ([spec, at]) => {
        const w = usageWindow(spec, at);
        const s = new Date(w.start);
        const anchor = new Date(spec.anchor);
        switch (spec.resetPeriod) {
          case 'HOUR':
            expect(mod(w.start, MS_PER_HOUR)).toBe(0);
            break;
          case 'DAY':
            expect(timeOfDay(w.start)).toBe(0);
            break;
          case 'WEEK':
            if (spec.weeklyAccordingTo) {
              expect(timeOfDay(w.start)).toBe(0);
              expect(s.getUTCDay()).toBe(WEEK_DAYS.indexOf(spec.weeklyAccordingTo));
            } else {
              expect(mod(w.start - spec.anchor, MS_PER_WEEK)).toBe(0);
            }
            break;
          case 'MONTH':
            if (spec.monthlyAccordingTo === 'START_OF_THE_MONTH') {
              expect(timeOfDay(w.start)).toBe(0);
              expect(s.getUTCDate()).toBe(1);
              break;
            }
          // falls through: SUBSCRIPTION_START (or absent) is anchored like YEAR
          case 'YEAR': {
            // Anchored: the anchor's time of day, on min(anchor day, days in the month): no drift.
            expect(timeOfDay(w.start)).toBe(timeOfDay(spec.anchor));
            expect(s.getUTCDate()).toBe(Math.min(anchor.getUTCDate(), daysIn(s.getUTCFullYear(), s.getUTCMonth())));
            if (spec.resetPeriod === 'YEAR') expect(s.getUTCMonth()).toBe(anchor.getUTCMonth());
            break;
          }
        }
      }),
      fcOptions,
    );
  });

  it('weekday windows ignore the anchor; HOUR, DAY and START_OF_THE_MONTH windows too', () => {
    fc.assert(
      fc.property(arbSpecAndInstant, arbInstant, ([spec, at], otherAnchor) => {
        const ignoresAnchor =
          spec.resetPeriod === 'HOUR' ||
          spec.resetPeriod === 'DAY' ||
          (spec.resetPeriod === 'WEEK' && spec.weeklyAccordingTo !== undefined) ||
          (spec.resetPeriod === 'MONTH' && spec.monthlyAccordingTo === 'START_OF_THE_MONTH');
        fc.pre(ignoresAnchor);
        expect(usageWindow({ ...spec, anchor: otherAnchor }, at)).toEqual(usageWindow(spec, at));
      }),
      fcOptions,
    );
  });
});

describe('billingPeriodAt', () => {
  it('MONTHLY from Jan 31 09:00 2024: Feb 29 09:00 to Mar 31 09:00 contains Mar 15', () => {
    const anchor = t('2024-01-31T09:00:00Z');
    const at = (s: string) => show(billingPeriodAt(anchor, 'MONTHLY', t(s)));
    expect(at('2024-03-15T00:00:00Z')).toEqual(win('2024-02-29T09:00:00Z', '2024-03-31T09:00:00Z'));
    expect(at('2024-02-29T08:59:59.999Z')).toEqual(win('2024-01-31T09:00:00Z', '2024-02-29T09:00:00Z'));
    expect(at('2024-02-29T09:00:00Z')).toEqual(win('2024-02-29T09:00:00Z', '2024-03-31T09:00:00Z'));
    // Before the anchor: Dec 31 2023 00:00 is before Dec 31 09:00, so two periods back.
    expect(at('2023-12-31T00:00:00Z')).toEqual(win('2023-11-30T09:00:00Z', '2023-12-31T09:00:00Z'));
  });

  it('ANNUALLY from Feb 29 2024: Feb 28 2025 to Feb 28 2026 contains Jan 1 2026', () => {
    const anchor = t('2024-02-29T00:00:00Z');
    expect(show(billingPeriodAt(anchor, 'ANNUALLY', t('2026-01-01T00:00:00Z')))).toEqual(
      win('2025-02-28T00:00:00Z', '2026-02-28T00:00:00Z'),
    );
    expect(show(billingPeriodAt(anchor, 'ANNUALLY', t('2028-03-01T00:00:00Z')))).toEqual(
      win('2028-02-29T00:00:00Z', '2029-02-28T00:00:00Z'),
    );
  });

  it('rejects an unknown billing period instead of treating it as monthly', () => {
    expect(() => billingPeriodAt(0, 'YEARLY' as BillingPeriod, 0)).toThrow(RangeError);
    expect(() => nthBillingPeriod(0, 'WEEKLY' as BillingPeriod, 0)).toThrow(RangeError);
  });

  it('equals the MONTH / YEAR usage window anchored on the same instant', () => {
    fc.assert(
      fc.property(arbInstant, arbBillingPeriod, arbInstant, (anchor, period, at) => {
        const resetPeriod = period === 'ANNUALLY' ? 'YEAR' : 'MONTH';
        expect(billingPeriodAt(anchor, period, at)).toEqual(usageWindow({ resetPeriod, anchor }, at));
      }),
      fcOptions,
    );
  });

  it('partitions time: contains at, next period starts at its end, previous ends at its start', () => {
    fc.assert(
      fc.property(arbInstant, arbBillingPeriod, arbInstant, (anchor, period, at) => {
        const p = billingPeriodAt(anchor, period, at);
        expect(p.start).toBeLessThanOrEqual(at);
        expect(p.end).toBeGreaterThan(at);
        expect(billingPeriodAt(anchor, period, p.end).start).toBe(p.end);
        expect(billingPeriodAt(anchor, period, p.start - 1).end).toBe(p.start);
        expect(billingPeriodAt(anchor, period, p.start)).toEqual(p);
      }),
      fcOptions,
    );
  });
});

describe('nthBillingPeriod', () => {
  it('MONTHLY from Jan 31 2024: n = 0, 1, 12 and -1', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    const nth = (n: number) => show(nthBillingPeriod(anchor, 'MONTHLY', n));
    expect(nth(0)).toEqual(win('2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z'));
    expect(nth(1)).toEqual(win('2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z'));
    expect(nth(12)).toEqual(win('2025-01-31T00:00:00Z', '2025-02-28T00:00:00Z'));
    expect(nth(-1)).toEqual(win('2023-12-31T00:00:00Z', '2024-01-31T00:00:00Z'));
  });

  it('ANNUALLY from Feb 29 2024: n = 3 ends on Feb 29 2028, n = 4 starts there', () => {
    const anchor = t('2024-02-29T00:00:00Z');
    expect(show(nthBillingPeriod(anchor, 'ANNUALLY', 3))).toEqual(win('2027-02-28T00:00:00Z', '2028-02-29T00:00:00Z'));
    expect(show(nthBillingPeriod(anchor, 'ANNUALLY', 4))).toEqual(win('2028-02-29T00:00:00Z', '2029-02-28T00:00:00Z'));
  });

  it('periods chain without gaps and each is the billing period of its own start', () => {
    fc.assert(
      fc.property(arbInstant, arbBillingPeriod, fc.integer({ min: -150, max: 150 }), (anchor, period, n) => {
        const p = nthBillingPeriod(anchor, period, n);
        expect(nthBillingPeriod(anchor, period, n + 1).start).toBe(p.end);
        expect(p.start).toBe(nthMonthStep(anchor, period === 'ANNUALLY' ? 12 : 1, n));
        expect(billingPeriodAt(anchor, period, p.start)).toEqual(p);
        expect(billingPeriodAt(anchor, period, p.end - 1)).toEqual(p);
      }),
      fcOptions,
    );
  });

  it('n = 0 starts at the anchor', () => {
    fc.assert(
      fc.property(arbInstant, arbBillingPeriod, (anchor, period) => {
        expect(nthBillingPeriod(anchor, period, 0).start).toBe(anchor);
      }),
      fcOptions,
    );
  });
});
