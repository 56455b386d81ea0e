import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDuration, systemClock, testClock } from '../src/clock.js';
import type { Duration } from '../src/clock.js';
import { addMonthsUtc, MS_PER_DAY } from '../src/rules/calendar.js';

// Property runs: ~300 by default so CI stays fast. Run more locally with
//   FC_NUM_RUNS=20000 npx vitest run packages/core/test/clock.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);
const fcOptions = { numRuns: NUM_RUNS };

const iso = (d: Date | number): string => new Date(d).toISOString();

/** An instant between 1900 and 2200, biased toward the last days of a month. */
const arbInstant = fc.oneof(
  fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }),
  fc
    .record({
      y: fc.integer({ min: 1900, max: 2200 }),
      m: fc.integer({ min: 0, max: 11 }),
      back: fc.integer({ min: 0, max: 3 }),
      tod: fc.integer({ min: 0, max: MS_PER_DAY - 1 }),
    })
    .map(({ y, m, back, tod }) => Date.UTC(y, m + 1, -back) + tod),
);
/** A non-negative calendar duration. */
const arbDuration: fc.Arbitrary<Duration> = fc.record(
  {
    years: fc.nat(5),
    months: fc.nat(30),
    weeks: fc.nat(10),
    days: fc.nat(60),
    hours: fc.nat(48),
    minutes: fc.nat(120),
    seconds: fc.nat(120),
    milliseconds: fc.nat(5000),
  },
  { requiredKeys: [] },
);

describe('testClock', () => {
  it('starts at 2024-01-01T00:00:00Z by default and does not move by itself', () => {
    const clock = testClock();
    expect(iso(clock.now())).toBe('2024-01-01T00:00:00.000Z');
    expect(clock.nowMs()).toBe(Date.UTC(2024, 0, 1));
    expect(clock.nowMs()).toBe(clock.now().getTime());
  });

  it('accepts a Date, an ISO string or epoch milliseconds as the start', () => {
    expect(testClock(new Date('2024-02-29T12:00:00Z')).nowMs()).toBe(Date.UTC(2024, 1, 29, 12));
    expect(testClock('2024-02-29T12:00:00Z').nowMs()).toBe(Date.UTC(2024, 1, 29, 12));
    expect(testClock('2024-02-29T12:00:00+02:00').nowMs()).toBe(Date.UTC(2024, 1, 29, 10));
    expect(testClock(Date.UTC(2024, 1, 29, 12)).nowMs()).toBe(Date.UTC(2024, 1, 29, 12));
    expect(testClock('2024-02-29').nowMs()).toBe(Date.UTC(2024, 1, 29)); // date-only: UTC by spec
  });

  it('reads a date-time string without an offset as UTC, not in the process time zone', () => {
    // Date.parse would read these in local time; the child-process check in calendar.test.ts
    // runs the same strings under other TZ values.
    expect(iso(testClock('2024-01-31T13:45').now())).toBe('2024-01-31T13:45:00.000Z');
    expect(iso(testClock('2024-01-31T13:45:10.123').now())).toBe('2024-01-31T13:45:10.123Z');
    expect(iso(testClock('2024-01-31 13:45:10').now())).toBe('2024-01-31T13:45:10.000Z');
  });

  it('rejects a start that is not an instant', () => {
    expect(() => testClock('not a date')).toThrow(RangeError);
    expect(() => testClock(Number.NaN)).toThrow(RangeError);
    expect(() => testClock(new Date('nope'))).toThrow(RangeError);
    expect(() => testClock(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('advances by milliseconds and returns the new time', () => {
    const clock = testClock('2024-01-01T00:00:00Z');
    expect(iso(clock.advance(1))).toBe('2024-01-01T00:00:00.001Z');
    expect(iso(clock.advance(MS_PER_DAY - 1))).toBe('2024-01-02T00:00:00.000Z');
    expect(iso(clock.advance(0))).toBe('2024-01-02T00:00:00.000Z');
    expect(iso(clock.now())).toBe('2024-01-02T00:00:00.000Z');
  });

  it('advances by calendar months with clamping: Jan 31 + 1 month = Feb 29 2024, + 1 more = Mar 29', () => {
    const clock = testClock('2024-01-31T10:00:00Z');
    expect(iso(clock.advance({ months: 1 }))).toBe('2024-02-29T10:00:00.000Z');
    // The clock chains from where it is now (Feb 29), unlike windows computed from an anchor.
    expect(iso(clock.advance({ months: 1 }))).toBe('2024-03-29T10:00:00.000Z');
    const common = testClock('2023-01-31T00:00:00Z');
    expect(iso(common.advance({ months: 1 }))).toBe('2023-02-28T00:00:00.000Z');
  });

  it('advances by years (Feb 29 -> Feb 28), weeks, days, hours, minutes, seconds and milliseconds', () => {
    const clock = testClock('2024-02-29T00:00:00Z');
    expect(iso(clock.advance({ years: 1 }))).toBe('2025-02-28T00:00:00.000Z');
    expect(iso(clock.advance({ weeks: 1 }))).toBe('2025-03-07T00:00:00.000Z');
    expect(iso(clock.advance({ days: 25 }))).toBe('2025-04-01T00:00:00.000Z');
    expect(iso(clock.advance({ hours: 25, minutes: 61, seconds: 61, milliseconds: 1001 }))).toBe(
      '2025-04-02T02:02:02.001Z',
    );
  });

  it('throws on a negative step and stays where it was', () => {
    const clock = testClock('2024-03-31T00:00:00Z');
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance({ days: -1 })).toThrow(RangeError);
    expect(() => clock.advance({ months: -1 })).toThrow(RangeError);
    // Net negative: Mar 31 + 1 month = Apr 30, - 31 days = Mar 30.
    expect(() => clock.advance({ months: 1, days: -31 })).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(iso(clock.now())).toBe('2024-03-31T00:00:00.000Z');
  });

  it('allows a mixed step whose total is not negative', () => {
    // Mar 31 + 1 month = Apr 30, - 30 days = Mar 31: a zero step.
    const clock = testClock('2024-03-31T00:00:00Z');
    expect(iso(clock.advance({ months: 1, days: -30 }))).toBe('2024-03-31T00:00:00.000Z');
  });

  it('rejects a fractional or NaN month count instead of ignoring it', () => {
    const clock = testClock('2024-01-15T00:00:00Z');
    expect(() => clock.advance({ months: 0.5 })).toThrow(RangeError);
    expect(() => clock.advance({ months: Number.NaN })).toThrow(RangeError);
    expect(() => clock.advance({ years: Number.NaN })).toThrow(RangeError);
    expect(iso(clock.now())).toBe('2024-01-15T00:00:00.000Z');
  });

  it('set jumps forward and back, from a Date, a string or milliseconds', () => {
    const clock = testClock('2024-06-01T00:00:00Z');
    expect(iso(clock.set('2030-01-01T00:00:00Z'))).toBe('2030-01-01T00:00:00.000Z');
    expect(iso(clock.now())).toBe('2030-01-01T00:00:00.000Z');
    expect(iso(clock.set(new Date('2020-02-29T00:00:00Z')))).toBe('2020-02-29T00:00:00.000Z');
    expect(clock.set(0).getTime()).toBe(0);
    expect(clock.nowMs()).toBe(0);
    expect(() => clock.set('garbage')).toThrow(RangeError);
    expect(clock.nowMs()).toBe(0);
    // After a jump back, advancing still works from the new time.
    expect(iso(clock.advance({ days: 1 }))).toBe('1970-01-02T00:00:00.000Z');
  });

  it('returns fresh Date objects: mutating one does not move the clock', () => {
    const clock = testClock('2024-01-01T00:00:00Z');
    const d = clock.now();
    d.setUTCFullYear(1999);
    expect(iso(clock.now())).toBe('2024-01-01T00:00:00.000Z');
  });

  it('advancing by a non-negative duration never moves the clock back and matches addDuration', () => {
    fc.assert(
      fc.property(arbInstant, arbDuration, (start, d) => {
        const clock = testClock(start);
        const expected = addDuration(new Date(start), d).getTime();
        expect(clock.advance(d).getTime()).toBe(expected);
        expect(clock.nowMs()).toBe(expected);
        expect(expected).toBeGreaterThanOrEqual(start);
      }),
      fcOptions,
    );
  });

  it('advancing by n milliseconds in pieces ends where one step of n would', () => {
    fc.assert(
      fc.property(arbInstant, fc.array(fc.nat(10 * MS_PER_DAY), { maxLength: 20 }), (start, steps) => {
        const clock = testClock(start);
        for (const s of steps) clock.advance(s);
        expect(clock.nowMs()).toBe(start + steps.reduce((a, b) => a + b, 0));
      }),
      fcOptions,
    );
  });
});

describe('addDuration', () => {
  it('applies years and months first (clamped), then days: Jan 30 + 1 month 1 day = Mar 1 2024, not Feb 29', () => {
    // Jan 31 + 1 month = Feb 29 (clamped), + 1 day = Mar 1.
    // Jan 30 shows the order: months first gives Feb 29 + 1 day = Mar 1; days first would give
    // Jan 31 + 1 month = Feb 29.
    expect(iso(addDuration(new Date('2024-01-31T00:00:00Z'), { months: 1, days: 1 }))).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(addDuration(new Date('2024-01-30T00:00:00Z'), { months: 1, days: 1 }))).toBe('2024-03-01T00:00:00.000Z');
  });

  it('combines years and months into one clamped step', () => {
    // Jan 31 2023 + 1 year 1 month = Feb 2024 -> Feb 29 2024 (not Feb 28 from clamping in 2023 first).
    expect(iso(addDuration(new Date('2023-01-31T00:00:00Z'), { years: 1, months: 1 }))).toBe('2024-02-29T00:00:00.000Z');
  });

  it('is the identity for an empty duration', () => {
    const at = new Date('2024-02-29T13:45:10.123Z');
    expect(addDuration(at, {}).getTime()).toBe(at.getTime());
    expect(addDuration(at, { months: 0, days: 0 }).getTime()).toBe(at.getTime());
  });

  it('does not mutate its input', () => {
    const at = new Date('2024-01-31T00:00:00Z');
    addDuration(at, { months: 1, days: 3 });
    expect(iso(at)).toBe('2024-01-31T00:00:00.000Z');
  });

  it('equals addMonthsUtc for the calendar part plus fixed milliseconds for the rest', () => {
    fc.assert(
      fc.property(arbInstant, arbDuration, (at, d) => {
        const months = (d.years ?? 0) * 12 + (d.months ?? 0);
        const rest =
          ((d.weeks ?? 0) * 7 + (d.days ?? 0)) * MS_PER_DAY +
          (d.hours ?? 0) * 3_600_000 +
          (d.minutes ?? 0) * 60_000 +
          (d.seconds ?? 0) * 1_000 +
          (d.milliseconds ?? 0);
        expect(addDuration(new Date(at), d).getTime()).toBe(addMonthsUtc(at, months) + rest);
      }),
      fcOptions,
    );
  });
});

describe('systemClock', () => {
  it('reads the machine clock', () => {
    const before = Date.now();
    const ms = systemClock.nowMs();
    const date = systemClock.now();
    const after = Date.now();
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
    expect(date).toBeInstanceOf(Date);
    expect(date.getTime()).toBeGreaterThanOrEqual(ms);
    expect(date.getTime()).toBeLessThanOrEqual(after);
  });
});
