import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDaysUtc,
  addMonthsUtc,
  addYearsUtc,
  daysInMonthUtc,
  MS_PER_DAY,
  MS_PER_HOUR,
  MS_PER_MINUTE,
  MS_PER_SECOND,
  nthMonthStep,
  startOfDayUtc,
  startOfMonthUtc,
} from '../src/rules/calendar.js';

// Property runs: ~300 by default so CI stays fast. Run more locally with
//   FC_NUM_RUNS=20000 npx vitest run packages/core/test/calendar.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);
const fcOptions = { numRuns: NUM_RUNS };

const t = (iso: string): number => {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
};
const iso = (ms: number): string => new Date(ms).toISOString();

/** 400 Gregorian years are exactly 146,097 days: the calendar repeats with this period. */
const MS_PER_400_YEARS = 146_097 * MS_PER_DAY;

/** Days in month `m` of year `y` from the platform's Date (only trusted for years >= 100). */
const referenceDaysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

// ---------------------------------------------------------------------------------------------
// Arbitraries. Instants are biased toward the places where calendar code breaks: the last days
// of a month, Feb 29, exact midnights, and the last millisecond of a day.

const arbYear = fc.integer({ min: 1900, max: 2200 });
const arbMonth = fc.integer({ min: 0, max: 11 });
const arbTimeOfDay = fc.oneof(
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.constant(MS_PER_DAY - 1), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: MS_PER_DAY - 1 }), weight: 4 },
);
/** One of the last four days of a month (28th..31st), at some time of day. */
const arbMonthEnd = fc
  .record({ y: arbYear, m: arbMonth, back: fc.integer({ min: 0, max: 3 }), tod: arbTimeOfDay })
  .map(({ y, m, back, tod }) => Date.UTC(y, m + 1, -back) + tod);
/** Feb 29 of a leap year, at some time of day. */
const arbLeapDay = fc
  .record({ y: arbYear.filter(isLeap), tod: arbTimeOfDay })
  .map(({ y, tod }) => Date.UTC(y, 1, 29) + tod);
const arbUniformInstant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) });
const arbMidnight = arbUniformInstant.map(startOfDayReference);
/**
 * Midnight of the day of `ms`, via the Date getters. Shifted 2000 years (5 x 400) so that Date.UTC
 * reads the year literally for every instant the arbitraries make (years -600..3000).
 */
function startOfDayReference(ms: number): number {
  const shift = 5 * MS_PER_400_YEARS;
  const d = new Date(ms + shift);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - shift;
}

/** An instant between 1900 and 2200, biased toward month ends, Feb 29 and midnights. */
const arbInstant = fc.oneof(
  { arbitrary: arbUniformInstant, weight: 3 },
  { arbitrary: arbMonthEnd, weight: 4 },
  { arbitrary: arbLeapDay, weight: 2 },
  { arbitrary: arbMidnight, weight: 1 },
);

/** An instant anywhere from year -600 to 3000, biased toward month ends of years 0-99. */
const arbWideInstant = fc.oneof(
  fc.integer({ min: Date.UTC(-600, 0, 1), max: Date.UTC(3000, 0, 1) }),
  // Month ends in years -50..150, built 400 years later (where Date.UTC reads years literally).
  fc
    .record({ y: fc.integer({ min: -50, max: 150 }), m: arbMonth, back: fc.integer({ min: 0, max: 3 }), tod: arbTimeOfDay })
    .map(({ y, m, back, tod }) => Date.UTC(y + 400, m + 1, -back) + tod - MS_PER_400_YEARS),
);

/** A month count: small steps most of the time, sometimes many years either way. */
const arbMonths = fc.oneof(fc.integer({ min: -13, max: 13 }), fc.integer({ min: -1200, max: 1200 }));

const timeOfDay = (ms: number): number => ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
const monthIndex = (ms: number): number => new Date(ms).getUTCFullYear() * 12 + new Date(ms).getUTCMonth();

// ---------------------------------------------------------------------------------------------

describe('constants', () => {
  it('are the lengths of a second, minute, hour and day in milliseconds', () => {
    expect([MS_PER_SECOND, MS_PER_MINUTE, MS_PER_HOUR, MS_PER_DAY]).toEqual([1_000, 60_000, 3_600_000, 86_400_000]);
  });
});

describe('daysInMonthUtc', () => {
  it('counts 29 days in February of leap years and 28 otherwise, including the century rules', () => {
    expect(daysInMonthUtc(2024, 1)).toBe(29);
    expect(daysInMonthUtc(2023, 1)).toBe(28);
    expect(daysInMonthUtc(2000, 1)).toBe(29); // divisible by 400
    expect(daysInMonthUtc(1900, 1)).toBe(28); // divisible by 100, not by 400
    expect(daysInMonthUtc(2100, 1)).toBe(28);
  });

  it('counts 31 and 30 day months', () => {
    const lengths = Array.from({ length: 12 }, (_, m) => daysInMonthUtc(2023, m));
    expect(lengths).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
  });

  it('rolls month indexes outside 0-11 into the neighbouring years', () => {
    expect(daysInMonthUtc(2023, 13)).toBe(29); // Feb 2024
    expect(daysInMonthUtc(2024, -1)).toBe(31); // Dec 2023
    expect(daysInMonthUtc(2024, -11)).toBe(28); // Feb 2023
  });

  it('reads years 0-99 literally (Date.UTC would read year 0 as 1900)', () => {
    // Year 0 is a leap year in the proleptic Gregorian calendar (divisible by 400); 1900 is not.
    expect(daysInMonthUtc(0, 1)).toBe(29);
    expect(daysInMonthUtc(50, 1)).toBe(28);
    expect(daysInMonthUtc(4, 1)).toBe(29);
    expect(daysInMonthUtc(-1, 1)).toBe(28);
  });

  it('agrees with the platform calendar for every month of 1900-2200', () => {
    fc.assert(
      fc.property(arbYear, arbMonth, (y, m) => {
        expect(daysInMonthUtc(y, m)).toBe(referenceDaysInMonth(y, m));
      }),
      fcOptions,
    );
  });

  it('repeats every 400 years', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 3000 }), arbMonth, (y, m) => {
        expect(daysInMonthUtc(y + 400, m)).toBe(daysInMonthUtc(y, m));
      }),
      fcOptions,
    );
  });
});

describe('addMonthsUtc', () => {
  it('clamps Jan 31 + 1 month to Feb 29 in a leap year and Feb 28 otherwise', () => {
    expect(iso(addMonthsUtc(t('2024-01-31T00:00:00Z'), 1))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2023-01-31T00:00:00Z'), 1))).toBe('2023-02-28T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2100-01-31T00:00:00Z'), 1))).toBe('2100-02-28T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2000-01-31T00:00:00Z'), 1))).toBe('2000-02-29T00:00:00.000Z');
  });

  it('keeps the day of month when the target month is long enough', () => {
    expect(iso(addMonthsUtc(t('2024-01-31T00:00:00Z'), 2))).toBe('2024-03-31T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2024-01-30T00:00:00Z'), 1))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2024-01-29T00:00:00Z'), 1))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2024-01-28T00:00:00Z'), 1))).toBe('2024-02-28T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2024-05-31T00:00:00Z'), 1))).toBe('2024-06-30T00:00:00.000Z');
  });

  it('keeps the time of day to the millisecond', () => {
    expect(iso(addMonthsUtc(t('2024-01-31T13:45:10.123Z'), 1))).toBe('2024-02-29T13:45:10.123Z');
    expect(iso(addMonthsUtc(t('2024-01-31T23:59:59.999Z'), 1))).toBe('2024-02-29T23:59:59.999Z');
  });

  it('crosses year boundaries in both directions', () => {
    expect(iso(addMonthsUtc(t('2024-12-15T00:00:00Z'), 1))).toBe('2025-01-15T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2024-01-15T00:00:00Z'), -1))).toBe('2023-12-15T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2024-03-31T00:00:00Z'), -13))).toBe('2023-02-28T00:00:00.000Z');
    // Oct 31 2024 + 4 months = Feb 2025, which has 28 days.
    expect(iso(addMonthsUtc(t('2024-10-31T00:00:00Z'), 4))).toBe('2025-02-28T00:00:00.000Z');
    expect(iso(addMonthsUtc(t('2024-03-31T00:00:00Z'), -1))).toBe('2024-02-29T00:00:00.000Z');
  });

  it('works before 1970 (negative epoch milliseconds)', () => {
    expect(iso(addMonthsUtc(t('1960-01-31T06:00:00Z'), 1))).toBe('1960-02-29T06:00:00.000Z'); // 1960 was leap
    expect(iso(addMonthsUtc(t('1970-01-31T00:00:00Z'), -2))).toBe('1969-11-30T00:00:00.000Z');
  });

  it('adds zero months as the identity', () => {
    expect(addMonthsUtc(t('2024-02-29T12:00:00Z'), 0)).toBe(t('2024-02-29T12:00:00Z'));
  });

  it('stays in years 0-99 instead of jumping to 1900-1999 (Date.UTC legacy rule)', () => {
    // Jan 31 of year 50 + 1 month: year 50 is a common year, so Feb 28 of year 50.
    const jan31y50 = Date.UTC(450, 0, 31) - MS_PER_400_YEARS;
    expect(iso(jan31y50)).toBe('0050-01-31T00:00:00.000Z');
    expect(iso(addMonthsUtc(jan31y50, 1))).toBe('0050-02-28T00:00:00.000Z');
    // Dec 31 of year 99 + 1 month leaves the 0-99 range: Jan 31 of year 100.
    expect(iso(addMonthsUtc(Date.UTC(499, 11, 31) - MS_PER_400_YEARS, 1))).toBe('0100-01-31T00:00:00.000Z');
    // Year 0 is leap: Jan 31 0000 + 1 month = Feb 29 0000.
    expect(iso(addMonthsUtc(Date.UTC(400, 0, 31) - MS_PER_400_YEARS, 1))).toBe('0000-02-29T00:00:00.000Z');
  });

  it('rejects a fractional or non-finite month count instead of guessing', () => {
    const at = t('2024-01-15T00:00:00Z');
    expect(() => addMonthsUtc(at, 0.5)).toThrow(RangeError);
    expect(() => addMonthsUtc(at, -0.5)).toThrow(RangeError);
    expect(() => addMonthsUtc(at, Number.NaN)).toThrow(RangeError);
    expect(() => addMonthsUtc(at, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('lands in the month k months later on day min(day, days in that month), same time of day', () => {
    fc.assert(
      fc.property(arbInstant, arbMonths, (at, k) => {
        const r = addMonthsUtc(at, k);
        const from = new Date(at);
        const to = new Date(r);
        expect(monthIndex(r)).toBe(monthIndex(at) + k);
        expect(to.getUTCDate()).toBe(Math.min(from.getUTCDate(), referenceDaysInMonth(to.getUTCFullYear(), to.getUTCMonth())));
        expect(timeOfDay(r)).toBe(timeOfDay(at));
      }),
      fcOptions,
    );
  });

  it('is strictly increasing in the month count', () => {
    fc.assert(
      fc.property(arbInstant, arbMonths, fc.integer({ min: 1, max: 60 }), (at, k, more) => {
        expect(addMonthsUtc(at, k)).toBeLessThan(addMonthsUtc(at, k + more));
      }),
      fcOptions,
    );
  });

  it('chaining a then b lands in the same month as a+b, never later, and equal unless clamped on the way', () => {
    // Chaining can only lose days: Jan 31 +1 = Feb 29, +1 = Mar 29, while Jan 31 +2 = Mar 31.
    // Chained day = min(day, days(intermediate), days(target)); direct day = min(day, days(target)).
    fc.assert(
      fc.property(arbInstant, arbMonths, arbMonths, (at, a, b) => {
        const mid = addMonthsUtc(at, a);
        const chained = addMonthsUtc(mid, b);
        const direct = addMonthsUtc(at, a + b);
        expect(monthIndex(chained)).toBe(monthIndex(direct));
        expect(timeOfDay(chained)).toBe(timeOfDay(direct));
        expect(chained).toBeLessThanOrEqual(direct);
        const day = new Date(at).getUTCDate();
        const midDays = referenceDaysInMonth(new Date(mid).getUTCFullYear(), new Date(mid).getUTCMonth());
        if (day <= midDays) expect(chained).toBe(direct);
        expect(new Date(chained).getUTCDate()).toBe(Math.min(new Date(direct).getUTCDate(), new Date(mid).getUTCDate()));
      }),
      fcOptions,
    );
  });

  it('round-trips (+k then -k) exactly when the day of month is 28 or less', () => {
    fc.assert(
      fc.property(arbInstant, arbMonths, (at, k) => {
        const back = addMonthsUtc(addMonthsUtc(at, k), -k);
        if (new Date(at).getUTCDate() <= 28) expect(back).toBe(at);
        else expect(back).toBeLessThanOrEqual(at);
      }),
      fcOptions,
    );
  });

  it('commutes with a shift of 400 years, also across years 0-99 and before year 0', () => {
    fc.assert(
      fc.property(arbWideInstant, arbMonths, (at, k) => {
        expect(addMonthsUtc(at + MS_PER_400_YEARS, k)).toBe(addMonthsUtc(at, k) + MS_PER_400_YEARS);
      }),
      fcOptions,
    );
  });
});

describe('addYearsUtc', () => {
  it('clamps Feb 29 to Feb 28 in common years and returns to Feb 29 in leap years', () => {
    const leapDay = t('2024-02-29T08:30:00Z');
    expect(iso(addYearsUtc(leapDay, 1))).toBe('2025-02-28T08:30:00.000Z');
    expect(iso(addYearsUtc(leapDay, 4))).toBe('2028-02-29T08:30:00.000Z');
    expect(iso(addYearsUtc(leapDay, -4))).toBe('2020-02-29T08:30:00.000Z');
    expect(iso(addYearsUtc(leapDay, -1))).toBe('2023-02-28T08:30:00.000Z');
    expect(iso(addYearsUtc(leapDay, 76))).toBe('2100-02-28T08:30:00.000Z'); // 2100 is not leap
    expect(iso(addYearsUtc(leapDay, 100))).toBe('2124-02-29T08:30:00.000Z');
  });

  it('equals adding 12 months per year', () => {
    fc.assert(
      fc.property(arbInstant, fc.integer({ min: -100, max: 100 }), (at, years) => {
        expect(addYearsUtc(at, years)).toBe(addMonthsUtc(at, 12 * years));
      }),
      fcOptions,
    );
  });
});

describe('addDaysUtc', () => {
  it('adds days of exactly 24 hours, across Feb 29', () => {
    expect(iso(addDaysUtc(t('2024-02-28T10:00:00Z'), 1))).toBe('2024-02-29T10:00:00.000Z');
    expect(iso(addDaysUtc(t('2024-02-28T10:00:00Z'), 2))).toBe('2024-03-01T10:00:00.000Z');
    expect(iso(addDaysUtc(t('2024-03-01T00:00:00Z'), -1))).toBe('2024-02-29T00:00:00.000Z');
    // Mar 10 2024 was a DST change in the US; UTC does not care.
    expect(addDaysUtc(t('2024-03-10T00:00:00Z'), 1) - t('2024-03-10T00:00:00Z')).toBe(86_400_000);
  });
});

describe('startOfDayUtc', () => {
  it('returns midnight UTC of the same day, and midnight itself at midnight', () => {
    expect(iso(startOfDayUtc(t('2024-02-29T23:59:59.999Z')))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(startOfDayUtc(t('2024-02-29T00:00:00Z')))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(startOfDayUtc(t('2024-03-01T00:00:00.001Z')))).toBe('2024-03-01T00:00:00.000Z');
  });

  it('rounds down (not toward zero) before 1970', () => {
    expect(startOfDayUtc(-1)).toBe(-86_400_000); // 1969-12-31T23:59:59.999Z -> 1969-12-31T00:00Z
    expect(iso(startOfDayUtc(t('1969-12-31T12:00:00Z')))).toBe('1969-12-31T00:00:00.000Z');
    expect(startOfDayUtc(-86_400_000)).toBe(-86_400_000);
  });

  it('is the midnight on or before the instant, less than a day before it', () => {
    fc.assert(
      fc.property(arbWideInstant, (at) => {
        const s = startOfDayUtc(at);
        expect(s).toBe(startOfDayReference(at));
        expect(s).toBeLessThanOrEqual(at);
        expect(at - s).toBeLessThan(MS_PER_DAY);
      }),
      fcOptions,
    );
  });
});

describe('startOfMonthUtc', () => {
  it('returns the 1st of the month at midnight', () => {
    expect(iso(startOfMonthUtc(t('2024-02-29T13:45:10.123Z')))).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(startOfMonthUtc(t('2024-03-01T00:00:00Z')))).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(startOfMonthUtc(t('2024-12-31T23:59:59.999Z')))).toBe('2024-12-01T00:00:00.000Z');
    expect(iso(startOfMonthUtc(t('1969-12-15T00:00:00Z')))).toBe('1969-12-01T00:00:00.000Z');
  });

  it('stays in years 0-99 (Date.UTC would answer in 1900-1999)', () => {
    const mar15y50 = Date.UTC(450, 2, 15, 12) - MS_PER_400_YEARS;
    expect(iso(startOfMonthUtc(mar15y50))).toBe('0050-03-01T00:00:00.000Z');
  });

  it('is on or before the instant, in the same month, and the next month starts after the instant', () => {
    fc.assert(
      fc.property(arbWideInstant, (at) => {
        const s = startOfMonthUtc(at);
        expect(s).toBeLessThanOrEqual(at);
        expect(monthIndex(s)).toBe(monthIndex(at));
        expect(new Date(s).getUTCDate()).toBe(1);
        expect(timeOfDay(s)).toBe(0);
        expect(addMonthsUtc(s, 1)).toBeGreaterThan(at);
      }),
      fcOptions,
    );
  });
});

describe('nthMonthStep', () => {
  it('steps Jan 31 2024 month by month without drifting to the 29th', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    const steps = Array.from({ length: 13 }, (_, n) => iso(nthMonthStep(anchor, 1, n)).slice(0, 10));
    expect(steps).toEqual([
      '2024-01-31',
      '2024-02-29',
      '2024-03-31', // chaining would give Mar 29
      '2024-04-30',
      '2024-05-31',
      '2024-06-30',
      '2024-07-31',
      '2024-08-31',
      '2024-09-30',
      '2024-10-31',
      '2024-11-30',
      '2024-12-31',
      '2025-01-31',
    ]);
    // Chaining for contrast: Jan 31 -> Feb 29 -> Mar 29.
    expect(iso(addMonthsUtc(addMonthsUtc(anchor, 1), 1))).toBe('2024-03-29T00:00:00.000Z');
  });

  it('steps backwards from the anchor too', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    expect(iso(nthMonthStep(anchor, 1, -1))).toBe('2023-12-31T00:00:00.000Z');
    expect(iso(nthMonthStep(anchor, 1, -11))).toBe('2023-02-28T00:00:00.000Z');
    expect(iso(nthMonthStep(anchor, 1, -23))).toBe('2022-02-28T00:00:00.000Z');
  });

  it('steps by years: Feb 29 2024 -> Feb 28 2025, 2026, 2027 -> Feb 29 2028', () => {
    const anchor = t('2024-02-29T00:00:00Z');
    const steps = Array.from({ length: 5 }, (_, n) => iso(nthMonthStep(anchor, 12, n)).slice(0, 10));
    expect(steps).toEqual(['2024-02-29', '2025-02-28', '2026-02-28', '2027-02-28', '2028-02-29']);
  });

  it('never drifts: step n falls on min(anchor day, days in its month) at the anchor time of day', () => {
    fc.assert(
      fc.property(arbInstant, fc.constantFrom(1, 3, 12), fc.integer({ min: -120, max: 120 }), (anchor, months, n) => {
        const step = nthMonthStep(anchor, months, n);
        const d = new Date(step);
        expect(monthIndex(step)).toBe(monthIndex(anchor) + months * n);
        expect(d.getUTCDate()).toBe(
          Math.min(new Date(anchor).getUTCDate(), referenceDaysInMonth(d.getUTCFullYear(), d.getUTCMonth())),
        );
        expect(timeOfDay(step)).toBe(timeOfDay(anchor));
      }),
      fcOptions,
    );
  });
});

describe('process time zone', () => {
  // Date.parse and the non-UTC Date getters read the process time zone, and Node fixes the zone
  // when the process starts, so the check runs the same script in child processes with TZ set.
  const calendarUrl = new URL('../src/rules/calendar.ts', import.meta.url).href;
  const windowsUrl = new URL('../src/rules/windows.ts', import.meta.url).href;
  const clockUrl = new URL('../src/clock.ts', import.meta.url).href;
  const script = `
    const c = await import(${JSON.stringify(calendarUrl)});
    const w = await import(${JSON.stringify(windowsUrl)});
    const k = await import(${JSON.stringify(clockUrl)});
    const instants = JSON.parse(process.env.TESSERA_INSTANTS);
    const out = { offset: new Date(2024, 0, 1).getTimezoneOffset(), rows: [] };
    for (const at of instants) {
      const anchor = at - 37 * 86400000 - 12345;
      out.rows.push([
        c.addMonthsUtc(at, 1), c.addMonthsUtc(at, -13), c.startOfDayUtc(at), c.startOfMonthUtc(at),
        ...['HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR'].flatMap((p) => {
          const u = w.usageWindow({ resetPeriod: p, anchor, weeklyAccordingTo: p === 'WEEK' ? 'MONDAY' : undefined }, at);
          return [u.start, u.end];
        }),
        w.usageWindow({ resetPeriod: 'MONTH', anchor, monthlyAccordingTo: 'START_OF_THE_MONTH' }, at).start,
        w.billingPeriodAt(anchor, 'MONTHLY', at).end,
        k.addDuration(new Date(at), { months: 1, days: 1, hours: 1 }).getTime(),
      ]);
    }
    // Local-looking strings: a DST gap in New York (Mar 10 2024 02:30) and Lord Howe (Oct 6 2024 02:30).
    out.clock = ['2024-03-10T02:30', '2024-10-06T02:30:00.000', '2024-01-31 13:45:10'].map((s) => k.testClock(s).nowMs());
    console.log(JSON.stringify(out));
  `;
  const zones = ['UTC', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];

  it('gives the same instants whatever TZ the process runs in', async () => {
    const instants = fc.sample(arbInstant, { numRuns: 200, seed: 42 });
    instants.push(t('2024-01-31T00:00:00Z'), t('2024-02-29T23:59:59.999Z'), t('2024-03-10T07:00:00Z'));
    const run = promisify(execFile);
    const outputs = await Promise.all(
      zones.map(async (tz) => {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          env: { ...process.env, TZ: tz, TESSERA_INSTANTS: JSON.stringify(instants) },
        });
        return JSON.parse(stdout) as { offset: number; rows: number[][]; clock: number[] };
      }),
    );
    // The zones really differ (otherwise the comparison proves nothing): UTC, -5h, +11h, +5:45.
    expect(outputs.map((o) => o.offset)).toEqual([0, 300, -660, -345]);
    const [utc, ...others] = outputs;
    for (const o of others) {
      expect(o.rows).toEqual(utc!.rows);
      expect(o.clock).toEqual(utc!.clock);
    }
    expect(utc!.clock.map(iso)).toEqual([
      '2024-03-10T02:30:00.000Z',
      '2024-10-06T02:30:00.000Z',
      '2024-01-31T13:45:10.000Z',
    ]);
    // And the child's answers are the in-process answers.
    expect(utc!.rows.map((r) => r[0])).toEqual(instants.map((at) => addMonthsUtc(at, 1)));
  }, 60_000);
});
