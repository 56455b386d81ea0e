import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossedBalances, crossedPercents, nextWebhookAttempt } from '../src/index.js';

// The pure half of alerts (docs/alerts.md): which thresholds a change crossed, and retry timing.

const arbPercents = fc.uniqueArray(fc.integer({ min: 1, max: 150 }), { minLength: 1, maxLength: 6 });
const arbIncrements = fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 });

describe('crossedPercents', () => {
  it('reaches a threshold at the usage equal to it: 80% of 10 at 8', () => {
    expect(crossedPercents([80, 100], 10, 7, 8)).toEqual([80]);
    expect(crossedPercents([80, 100], 10, 8, 9)).toEqual([]);
    expect(crossedPercents([100, 80], 10, 0, 12)).toEqual([80, 100]);
    expect(crossedPercents([80], 0, 0, 5)).toEqual([]);
    expect(crossedPercents([80], 10, 9, 2)).toEqual([]);
  });

  it('over any rising usage, crosses each threshold at most once, and exactly those reached at the end', () => {
    fc.assert(
      fc.property(arbPercents, fc.integer({ min: 1, max: 200 }), arbIncrements, (percents, limit, steps) => {
        let usage = 0;
        const crossed: number[] = [];
        for (const step of steps) {
          crossed.push(...crossedPercents(percents, limit, usage, usage + step));
          usage += step;
        }
        expect(new Set(crossed).size).toBe(crossed.length);
        expect(crossed.sort((a, b) => a - b)).toEqual(percents.filter((p) => (limit * p) / 100 <= usage).sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });
});

describe('crossedBalances', () => {
  it('falls below a threshold only from at or above it, highest first', () => {
    expect(crossedBalances(['10', '100'], '150', '5')).toEqual(['100', '10']);
    expect(crossedBalances(['10'], '10', '9.99')).toEqual(['10']);
    expect(crossedBalances(['10'], '9.99', '1')).toEqual([]);
    expect(crossedBalances(['10'], '5', '50')).toEqual([]);
  });
});

describe('nextWebhookAttempt', () => {
  const s = { initialBackoffMs: 1_000, maxBackoffMs: 60_000, maxAttempts: 8 };

  it('waits between half and all of a doubling wait, capped, and gives up after maxAttempts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempts, random) => {
        const wait = Math.min(60_000, 1_000 * 2 ** (attempts - 1));
        const next = nextWebhookAttempt(s, attempts, 0, random)!;
        expect(next).toBeGreaterThanOrEqual(wait / 2);
        expect(next).toBeLessThanOrEqual(wait);
      }),
      { numRuns: 200 },
    );
    expect(nextWebhookAttempt(s, 8, 0, 0.5)).toBeNull();
    // The 7th failure would wait 64 s: capped at 60 s.
    expect(nextWebhookAttempt(s, 7, 0, 0.999999)).toBeLessThanOrEqual(60_000);
  });
});
