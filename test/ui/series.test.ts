/** The usage chart's bucketing (packages/http/dashboard/series.ts): pure, so tested without a browser. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketStart, toSeries, type Period } from '../../packages/http/dashboard/series.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);

const periodsArb = fc.array(
  fc.record({ offsetHours: fc.integer({ min: 0, max: 24 * 120 }), value: fc.integer({ min: 0, max: 10_000 }), a: fc.integer({ min: 0, max: 100 }) }),
  { maxLength: 40 },
);

describe('usage chart series', () => {
  it('cuts instants to the start of their UTC hour, day and month', () => {
    const at = Date.UTC(2026, 1, 28, 23, 59, 59, 999);
    expect(new Date(bucketStart(at, 'hour')).toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(new Date(bucketStart(at, 'day')).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(new Date(bucketStart(at, 'month')).toISOString()).toBe('2026-02-01T00:00:00.000Z');
  });

  it('keeps every unit of usage whatever the bucket, in ascending buckets, coarser buckets never more', () => {
    fc.assert(
      fc.property(periodsArb, (rows) => {
        const periods: Period[] = rows.map((r) => ({ start: new Date(START + r.offsetHours * HOUR).toISOString(), end: null, value: r.value }));
        const total = rows.reduce((s, r) => s + r.value, 0);
        const counts = (['hour', 'day', 'month'] as const).map((bucket) => {
          const { xs, series } = toSeries(periods, bucket, 'none');
          expect([...xs].sort((a, b) => a - b)).toEqual(xs);
          expect(new Set(xs).size).toBe(xs.length);
          expect(series.flatMap((s) => s.values).reduce((a, b) => a + b, 0)).toBe(total);
          return xs.length;
        });
        expect(counts[0]).toBeGreaterThanOrEqual(counts[1]!);
        expect(counts[1]).toBeGreaterThanOrEqual(counts[2]!);
      }),
      { numRuns: 100 },
    );
  });

  it('splits by dimension value or by entity, with 0 where a series had no usage, and skips windows without a start', () => {
    const periods: Period[] = [
      { start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z', value: 5, groups: [{ value: 'eu', usage: 3 }, { value: null, usage: 2 }], entities: [{ entityId: 'p1', usage: 5 }] },
      { start: '2026-01-02T00:00:00.000Z', end: '2026-01-03T00:00:00.000Z', value: 4, groups: [{ value: 'us', usage: 4 }], entities: [{ entityId: 'p2', usage: 4 }] },
      { start: null, end: null, value: 99 },
    ];
    const byDimension = toSeries(periods, 'day', 'dimension');
    expect(byDimension.xs).toEqual([Date.UTC(2026, 0, 1) / 1000, Date.UTC(2026, 0, 2) / 1000]);
    expect(byDimension.series).toEqual([
      { label: 'eu', values: [3, 0] },
      { label: 'null', values: [2, 0] },
      { label: 'us', values: [0, 4] },
    ]);
    expect(toSeries(periods, 'month', 'entity').series).toEqual([
      { label: 'p1', values: [5] },
      { label: 'p2', values: [4] },
    ]);
    expect(toSeries(periods, 'month', 'none').series).toEqual([{ label: 'usage', values: [9] }]);
  });
});
