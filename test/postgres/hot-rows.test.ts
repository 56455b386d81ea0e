import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, isTesseraError, type Engine, type Store, type UsageKey, type UsageRecord } from '@tessera/core';
import { demoCatalog } from '../engine/stores.js';
import { freshPgStore, onPglite } from '../support/pg-stores.js';

// Hot rows and change notifications on PostgreSQL (packages/postgres/README.md#hot-rows and
// #change-notifications): writers naming one turnKey take turns instead of conflicting, a commit
// announces its highest seq after it commits, and an engine alone on a store does not read the
// feed for its own commits.

const key: UsageKey = { customerId: 'c1', resourceId: '', entityId: '', featureId: 'f', windowStart: 0, windowEnd: 1000 };
const empty = (): UsageRecord => ({ ...key, value: 0, count: 0, sum: 0, min: null, max: null, latestAt: null, latestValue: null, updatedAt: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds, up to 5 s (a notification crosses a connection). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !done(); i++) await sleep(20);
}

/** `store` with its getChanges calls counted. */
function counting(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const wrapped: Store = {
    kind: store.kind,
    concurrentWrites: store.concurrentWrites,
    open: () => store.open(),
    close: () => store.close(),
    transaction: (mode, fn, options) => store.transaction(mode, fn, options),
    getChanges: (after, limit) => {
      reads++;
      return store.getChanges(after, limit);
    },
    lastChangeSeq: () => store.lastChangeSeq(),
    watchChanges: (onChange, options) => store.watchChanges!(onChange, options),
  };
  return { store: wrapped, reads: () => reads };
}

describe('postgres: hot rows and change notifications', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });

  it(`a commit's notification carries the highest seq it appended`, async () => {
    const { store } = freshPgStore();
    open.push(store);
    await store.open();
    const heard: (number | undefined)[] = [];
    const stop = store.watchChanges!((seq) => heard.push(seq));
    await until(() => heard.length > 0); // the LISTEN connection is up (it says so once, with no seq)
    const last = await store.transaction('write', async (tx) => {
      await tx.appendChange({ kind: 'customer.updated', at: 0, customerId: 'c1', entityId: 'a', payload: null });
      return tx.appendChange({ kind: 'customer.updated', at: 0, customerId: 'c1', entityId: 'b', payload: null });
    });
    await until(() => heard.includes(last));
    stop();
    expect(heard).toContain(last);
    // A transaction that appended nothing announces nothing.
    const before = heard.length;
    await store.transaction('write', (tx) => tx.putUsage(empty()));
    await sleep(100);
    expect(heard.length).toBe(before);
  });

  it('write transactions with one turnKey take turns on a hot row: each runs once and none is lost', async () => {
    const { store } = freshPgStore();
    open.push(store);
    await store.open();
    await store.transaction('write', (tx) => tx.putUsage(empty()));
    let runs = 0;
    const WRITERS = 8;
    // Read, wait, write: side by side at SERIALIZABLE all but one would fail and run again.
    const increment = () =>
      store.transaction(
        'write',
        async (tx) => {
          runs++;
          const rec = (await tx.getUsage(key))!;
          await sleep(5);
          rec.value += 1;
          await tx.putUsage(rec);
        },
        { turnKey: 'c1/f' },
      );
    await Promise.all(Array.from({ length: WRITERS }, increment));
    const stored = await store.transaction('read', (tx) => tx.getUsage(key));
    expect(stored!.value).toBe(WRITERS);
    // PGlite runs one transaction at a time anyway; a server takes the turns.
    expect(runs).toBe(WRITERS);
  });

  it('strings of every kind reach the server intact when a statement travels with BEGIN', async () => {
    const { store } = freshPgStore();
    open.push(store);
    await store.open();
    const odd = ["it's", 'back\\slash', "\\'", 'E\'x\'', '$1 $2', 'ünïcødé ✓', '--', ';'];
    for (const [i, s] of odd.entries()) {
      const rec = { scope: s, key: `${s}/${i}`, result: { s }, createdAt: i };
      await store.transaction('write', (tx) => tx.putIdempotency(rec));
      // The read is the transaction's first statement: it goes in BEGIN's round trip.
      const back = await store.transaction('read', (tx) => tx.getIdempotency(s, `${s}/${i}`));
      expect(back).toEqual(rec);
    }
  });

  it.skipIf(onPglite())('an engine alone does not read the feed for its own commits, and still reads another engine\'s', async () => {
    const { store, reopen } = freshPgStore();
    const a = counting(store);
    // No polls in this test: only notifications make the follower read.
    const first: Engine = await createEngine({ store: a.store, catalog: demoCatalog, followIntervalMs: 60_000 });
    open.push(first);
    await first.provisionCustomer({ customerId: 'acme' });
    await sleep(300);
    const settled = a.reads();
    for (let i = 0; i < 10; i++) await first.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 1 });
    await sleep(300);
    expect(a.reads()).toBe(settled);

    const heard: number[] = [];
    first.on('usageUpdated', (e) => heard.push(e.currentUsage));
    const second: Engine = await createEngine({ store: reopen(), followIntervalMs: 60_000 });
    open.push(second);
    await second.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 5 });
    await until(() => heard.includes(15));
    expect(a.reads()).toBeGreaterThan(settled);
    expect(heard).toContain(15);
    expect((await first.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })).currentUsage).toBe(15);
  });

  it('consumptions in flight from two engines on one customer never overshoot the hard limit', async () => {
    const { store, reopen } = freshPgStore();
    const one: Engine = await createEngine({ store, catalog: demoCatalog });
    open.push(one);
    const two: Engine = await createEngine({ store: reopen() });
    open.push(two);
    await one.provisionCustomer({ customerId: 'acme' });
    // The free plan's hard limit is 100 a month: 30 asks of 7 can grant 14 of them (98).
    let granted = 0;
    let refused = 0;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? one : two).consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 7 }).then(
          (r) => (granted += r.granted),
          (e: unknown) => {
            if (!isTesseraError(e, 'USAGE_LIMIT_EXCEEDED')) throw e;
            refused++;
          },
        ),
      ),
    );
    expect(granted).toBe(98);
    expect(refused).toBe(16);
    expect((await one.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })).currentUsage).toBe(98);
  });
});
