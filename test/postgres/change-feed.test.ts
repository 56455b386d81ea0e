import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewChange, Store } from '@tessera/core';
import { freshPgStore, onPglite } from '../support/pg-stores.js';

// The change feed on PostgreSQL (docs/stores.md#the-change-feed-on-postgresql): seqs are handed
// out at insert, transactions commit in their own order, and a reader must never go past a seq
// that a transaction still in flight will commit later.

const change = (entityId: string): NewChange => ({ kind: 'customer.updated', at: 0, customerId: 'c1', entityId, payload: null });

/** A write transaction that appends one change, then waits for `release` before committing (or failing). */
function heldWrite(store: Store, entityId: string) {
  let release!: (commit: boolean) => void;
  const gate = new Promise<boolean>((resolve) => (release = resolve));
  let appended!: (seq: number) => void;
  const seq = new Promise<number>((resolve) => (appended = resolve));
  const done = store.transaction('write', async (tx) => {
    appended(await tx.appendChange(change(entityId)));
    if (!(await gate)) throw new Error('rolled back on purpose');
  });
  return { seq, release, done };
}

// PGlite has one connection: its transactions take turns, so no seq is ever in flight while a
// later one commits. There the file checks the turns instead of the gaps.
if (onPglite()) describe('postgres change feed on PGlite', () => {
  it('a second write transaction waits for the first, so the feed never has a seq in flight', async () => {
    const { store } = freshPgStore();
    await store.open();
    try {
      const first = heldWrite(store, 'first');
      const firstSeq = await first.seq;
      let secondDone = false;
      const second = store.transaction('write', (tx) => tx.appendChange(change('second'))).then((seq) => ((secondDone = true), seq));
      await new Promise((r) => setTimeout(r, 50));
      expect(secondDone).toBe(false);
      first.release(true);
      await first.done;
      expect(await second).toBe(firstSeq + 1);
      expect((await store.getChanges(0, 100)).map((c) => c.entityId)).toEqual(['first', 'second']);
    } finally {
      await store.close();
    }
  });
});
else describe('postgres change feed', () => {
  let store: Store;
  beforeEach(async () => {
    store = freshPgStore().store;
    await store.open();
  });
  afterEach(() => store.close());

  it('stops at a seq still in flight and delivers both, in seq order, once it commits', async () => {
    const first = heldWrite(store, 'first');
    const firstSeq = await first.seq;
    // A later transaction takes the next seq and commits while the first is still open.
    await store.transaction('write', (tx) => tx.appendChange(change('second')));
    // Read again and again while it is open: the gap stays, whatever the reads in between.
    for (let i = 0; i < 3; i++) expect(await store.getChanges(firstSeq - 1, 100)).toEqual([]);
    first.release(true);
    await first.done;
    const seen = await store.getChanges(firstSeq - 1, 100);
    expect(seen.map((c) => [c.seq, c.entityId])).toEqual([
      [firstSeq, 'first'],
      [firstSeq + 1, 'second'],
    ]);
  });

  it('goes past the seq of a transaction that rolled back, once it has ended', async () => {
    const first = heldWrite(store, 'first');
    const firstSeq = await first.seq;
    await store.transaction('write', (tx) => tx.appendChange(change('second')));
    expect(await store.getChanges(firstSeq - 1, 100)).toEqual([]);
    first.release(false);
    await expect(first.done).rejects.toThrow('rolled back on purpose');
    const seen = await store.getChanges(firstSeq - 1, 100);
    expect(seen.map((c) => [c.seq, c.entityId])).toEqual([[firstSeq + 1, 'second']]);
  });

  it('delivers what comes before a gap in flight', async () => {
    const before = await store.transaction('write', (tx) => tx.appendChange(change('before')));
    const held = heldWrite(store, 'held');
    await held.seq;
    await store.transaction('write', (tx) => tx.appendChange(change('after')));
    expect((await store.getChanges(0, 100)).map((c) => c.entityId)).toEqual(['before']);
    expect((await store.getChanges(before, 100)).map((c) => c.entityId)).toEqual([]);
    held.release(true);
    await held.done;
    expect((await store.getChanges(before, 100)).map((c) => c.entityId)).toEqual(['held', 'after']);
  });

  it('lastChangeSeq answers once the transactions in flight have ended, so a follower starting there misses nothing', async () => {
    const held = heldWrite(store, 'held');
    const heldSeq = await held.seq;
    await store.transaction('write', (tx) => tx.appendChange(change('after')));
    let answered = false;
    const last = store.lastChangeSeq().then((n) => ((answered = true), n));
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    held.release(true);
    await held.done;
    // Everything at or below the answer has committed: nothing can appear there later.
    expect(await last).toBe(heldSeq + 1);
    expect((await store.getChanges(0, 100)).map((c) => c.seq)).toEqual([heldSeq, heldSeq + 1]);
  });

  it('many concurrent writers: a reader polling throughout sees every committed change exactly once, in seq order', async () => {
    const seen: number[] = [];
    let after = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        for (const c of await store.getChanges(after, 1000)) {
          seen.push(c.seq);
          after = c.seq;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const committed: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 25; i++) {
          // Every third transaction fails after taking its seq: the feed must step over its gap.
          const fail = (w + i) % 3 === 0;
          const seq = await store
            .transaction('write', async (tx) => {
              const s = await tx.appendChange(change(`w${w}-${i}`));
              await new Promise((r) => setTimeout(r, Math.random() * 3));
              if (fail) throw new Error('fails');
              return s;
            })
            .catch(() => undefined);
          if (seq !== undefined) committed.push(seq);
        }
      }),
    );
    writing = false;
    await reader;
    // Read on as a follower does until the last committed change is in: a gap may still wait for
    // transactions of other tests on the same server to end. A skipped change would be missing
    // from the middle of `seen`, whatever the wait.
    const last = Math.max(...committed);
    for (const deadline = Date.now() + 10_000; after < last && Date.now() < deadline; ) {
      for (const c of await store.getChanges(after, 1000)) {
        seen.push(c.seq);
        after = c.seq;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen).toEqual([...committed].sort((a, b) => a - b));
  });
});
