import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OwnSeqs } from '../src/engine/runtime/own-seqs.js';

/** The follower's rule, written plainly: a Set of own seqs, the feed read in ascending order. */
class Model {
  readonly own = new Set<number>();
  constructor(private readonly max: number) {}
  add(seq: number): void {
    this.own.add(seq);
    if (this.own.size > this.max) this.own.delete(Math.min(...this.own));
  }
  take(seq: number): boolean {
    for (const s of this.own) if (s < seq) this.own.delete(s);
    return this.own.delete(seq);
  }
  passed(seq: number): void {
    for (const s of this.own) if (s <= seq) this.own.delete(s);
  }
}

describe('OwnSeqs', () => {
  it('answers as a Set pruned by the feed does, for seqs added mostly ascending and sometimes out of order', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), back: fc.nat({ max: 5 }), step: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('feed' as const), ahead: fc.integer({ min: -2, max: 6 }) }),
      fc.record({ kind: fc.constant('passed' as const), ahead: fc.integer({ min: -2, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 300 }), (max, ops) => {
        const real = new OwnSeqs(max);
        const model = new Model(max);
        let next = 1;
        let feed = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            // Mostly the next seq; sometimes one a little behind (another transaction of the engine got it first).
            const seq = Math.max(feed + 1, next - o.back);
            next = Math.max(next, seq + o.step);
            real.add(seq);
            model.add(seq);
          } else if (o.kind === 'feed') {
            const seq = Math.max(feed + 1, feed + o.ahead);
            feed = seq;
            expect(real.take(seq)).toBe(model.take(seq));
          } else {
            const seq = Math.max(feed, feed + o.ahead);
            feed = seq;
            real.passed(seq);
            model.passed(seq);
          }
          expect(real.size).toBe(model.own.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays O(1) amortised: a million seqs added and taken in order, memory bounded by max', () => {
    const own = new OwnSeqs(100);
    let taken = 0;
    for (let seq = 1; seq <= 1_000_000; seq++) {
      own.add(seq);
      if (seq % 3 === 0 && own.take(seq - 1)) taken++;
    }
    expect(own.size).toBeLessThanOrEqual(100);
    expect(taken).toBe(333_333);
  });
});
