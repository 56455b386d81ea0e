import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OwnSeqs } from '../../packages/core/src/engine/runtime/own-seqs.js';

// A follower told of a commit's highest seq skips the feed when its own seqs fill it from where it
// stands (packages/postgres/README.md#change-notifications): `fills` must say yes only then.

describe('OwnSeqs.fills', () => {
  it('is true when every seq after the cursor up to the notified one is ours, in any order of appending', () => {
    const own = new OwnSeqs(100);
    for (const seq of [13, 11, 12]) own.add(seq);
    expect(own.fills(10, 12)).toBe(true);
    expect(own.fills(10, 13)).toBe(true);
  });

  it("is false when another process's seq lies between (a gap in ours), or the cursor is behind our first", () => {
    const own = new OwnSeqs(100);
    for (const seq of [11, 12, 14]) own.add(seq);
    expect(own.fills(10, 14)).toBe(false); // 13 is someone else's
    expect(own.fills(9, 12)).toBe(false); // 10 is someone else's
    expect(own.fills(10, 10)).toBe(false); // nothing new to move past
  });

  it('agrees with checking each seq, for any set of own seqs and any cursor', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 45 }), (seqs, after, upTo) => {
        const own = new OwnSeqs(1000);
        for (const s of seqs) own.add(s);
        const mine = new Set(seqs);
        let expected = upTo > after;
        for (let s = after + 1; s <= upTo; s++) if (!mine.has(s)) expected = false;
        expect(own.fills(after, upTo)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
