/**
 * The store conformance suite: every adapter runs these cases against a fresh store per test,
 * so an engine behaves the same on memory, SQLite and whatever comes next.
 *
 *   runStoreConformance('sqlite', () => sqliteStore({ filename: tmp() }));
 */
import { NO_WINDOW_END, type Store, type StoreTx } from '@tessera/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  T0,
  bareUsage,
  catalogVersion,
  change,
  customer,
  event,
  expectCode,
  idempotency,
  reservation,
  subscription,
  usage,
  usageKey,
} from './fixtures.js';
import { batchCases } from './batch-cases.js';
import { creditCases } from './credit-cases.js';
import { customerQueryCases } from './customer-query-cases.js';
import { entityCases } from './entity-cases.js';
import { overrideCases } from './overrides-cases.js';
import { queryCases } from './query-cases.js';
import { recordCases } from './record-cases.js';
import { providerCallCases } from './provider-call-cases.js';

/** What the case groups need from the suite: the transaction shorthands and the case registrar. */
export interface Harness {
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** `it`, or `it.fails` for a case listed in `knownFailures`. */
  test(title: string, body: () => Promise<void>): void;
}

/** Options of {@link runStoreConformance}. */
export interface ConformanceOptions {
  /**
   * Cases an adapter is known to fail, by title, with the reason. They run as `it.fails`, so the
   * suite stays green while the bug is open and turns red once it is fixed (remove the entry then).
   */
  knownFailures?: Record<string, string>;
}

/** Registers the conformance cases for one adapter. `factory` returns a new, empty, unopened store. */
export function runStoreConformance(name: string, factory: () => Promise<Store> | Store, options: ConformanceOptions = {}): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory();
      await store.open();
    });
    afterEach(async () => {
      await store.close();
    });

    const write: Harness['write'] = (fn) => store.transaction('write', fn);
    const read: Harness['read'] = (fn) => store.transaction('read', fn);
    const test: Harness['test'] = (title, body) => {
      const known = options.knownFailures?.[title];
      if (known) it.fails(`${title} [known failure: ${known}]`, body);
      else it(title, body);
    };

    test('names its kind and opens idempotently', async () => {
      expect(typeof store.kind).toBe('string');
      expect(store.kind.length).toBeGreaterThan(0);
      await write((tx) => tx.putCustomer(customer('c1')));
      await store.open();
      expect(await read((tx) => tx.getCustomer('c1'))).toEqual(customer('c1'));
    });

    recordCases({ read, write, test });
    queryCases({ read, write, test });
    creditCases({ read, write, test });
    overrideCases({ read, write, test });
    batchCases({ read, write, test }, () => store);
    providerCallCases({ read, write, test });
    entityCases({ read, write, test });
    customerQueryCases({ read, write, test });

    describe('change log', () => {
      test('appendChange numbers changes 1, 2, 3... across transactions; getChanges pages them in order', async () => {
        expect(await store.lastChangeSeq()).toBe(0);
        expect(await store.getChanges(0, 10)).toEqual([]);
        const first = await write(async (tx) => [
          await tx.appendChange(change()),
          await tx.appendChange(change({ kind: 'customer.updated', entityId: null, payload: null })),
          await tx.appendChange(change({ kind: 'catalog.published', customerId: null, entityId: null, payload: { version: 2 } })),
        ]);
        expect(first).toEqual([1, 2, 3]);
        expect(await write((tx) => tx.appendChange(change({ at: T0 + 1 })))).toBe(4);
        expect(await store.lastChangeSeq()).toBe(4);

        const all = await store.getChanges(0, 100);
        expect(all.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
        expect(all[0]).toEqual({ seq: 1, ...change() });
        expect(all[1]).toEqual({ seq: 2, ...change({ kind: 'customer.updated', entityId: null, payload: null }) });
        expect(all[2]).toEqual({ seq: 3, ...change({ kind: 'catalog.published', customerId: null, entityId: null, payload: { version: 2 } }) });
        expect((await store.getChanges(2, 1)).map((c) => c.seq)).toEqual([3]);
        expect((await store.getChanges(1, 2)).map((c) => c.seq)).toEqual([2, 3]);
        expect(await store.getChanges(4, 10)).toEqual([]);
      });

      test('getChanges and lastChangeSeq show only committed changes', async () => {
        let appended!: () => void;
        let finish!: () => void;
        const wasAppended = new Promise<void>((r) => (appended = r));
        const mayFinish = new Promise<void>((r) => (finish = r));
        const boom = new Error('abort after append');
        const tx = write(async (t) => {
          await t.appendChange(change());
          appended();
          await mayFinish;
          throw boom;
        });
        await wasAppended;
        const seq = store.lastChangeSeq();
        const changes = store.getChanges(0, 10);
        finish();
        await expect(tx).rejects.toBe(boom);
        expect(await seq).toBe(0);
        expect(await changes).toEqual([]);
      });
    });

    describe('transactions', () => {
      test('a transaction resolves with its callback’s value and its writes are visible afterwards', async () => {
        const result = await write(async (tx) => {
          await tx.putCustomer(customer('c1'));
          return 'done';
        });
        expect(result).toBe('done');
        expect(await read((tx) => tx.getCustomer('c1'))).toEqual(customer('c1'));
      });

      test('a transaction that throws rolls back every kind of write and rethrows the same error', async () => {
        // The state before: one of everything.
        await write(async (tx) => {
          await tx.insertCatalogVersion(catalogVersion(1));
          await tx.putCustomer(customer('c1'));
          await tx.putSubscription(subscription('s1', 'c1'));
          await tx.putUsage(usage());
          await tx.addDistinctValue(usageKey(), 'a');
          await tx.insertEvents([event('e1')]);
          await tx.putReservation(reservation('r1'));
          await tx.putIdempotency(idempotency('scope', 'i1', 'first'));
          await tx.appendChange(change());
        });
        const boom = new Error('boom');
        const failed = write(async (tx) => {
          await tx.insertCatalogVersion(catalogVersion(2));
          await tx.putCustomer(customer('c1', { name: 'changed', metadata: {} }));
          await tx.putCustomer(customer('c2'));
          await tx.putSubscription(subscription('s1', 'c1', { status: 'CANCELED' }));
          await tx.putSubscription(subscription('s2', 'c1'));
          await tx.putUsage(usage({ value: 99 }));
          await tx.putUsage(usage({ featureId: 'other' }));
          expect(await tx.addDistinctValue(usageKey(), 'b')).toBe(true);
          expect(await tx.insertEvents([event('e2'), event('e1')])).toEqual([true, false]);
          await tx.putReservation(reservation('r1', { status: 'COMMITTED', committedAmount: 5 }));
          await tx.putReservation(reservation('r2'));
          await tx.putIdempotency(idempotency('scope', 'i1', 'second'));
          await tx.putIdempotency(idempotency('scope', 'i2', 'new'));
          expect(await tx.appendChange(change())).toBeGreaterThan(1);
          await tx.appendChange(change());
          // The transaction sees its own writes before it fails.
          expect((await tx.getCustomer('c1'))?.name).toBe('changed');
          throw boom;
        });
        await expect(failed).rejects.toBe(boom);

        await read(async (tx) => {
          expect(await tx.listCatalogVersions()).toEqual([catalogVersion(1)]);
          expect(await tx.getCustomer('c1')).toEqual(customer('c1'));
          expect(await tx.getCustomer('c2')).toBeUndefined();
          expect(await tx.countCustomers()).toBe(1);
          expect(await tx.listSubscriptionsByCustomer('c1')).toEqual([subscription('s1', 'c1')]);
          expect(await tx.getUsage(usageKey())).toEqual(usage());
          expect(await tx.getUsage(usageKey({ featureId: 'other' }))).toBeUndefined();
          expect(await tx.getEvent('e2')).toBeUndefined();
          expect(await tx.getReservation('r1')).toEqual(reservation('r1'));
          expect(await tx.getReservation('r2')).toBeUndefined();
          expect(await tx.getIdempotency('scope', 'i1')).toEqual(idempotency('scope', 'i1', 'first'));
          expect(await tx.getIdempotency('scope', 'i2')).toBeUndefined();
        });
        expect(await store.lastChangeSeq()).toBe(1);
        expect(await store.getChanges(0, 10)).toEqual([{ seq: 1, ...change() }]);
        await write(async (tx) => {
          expect(await tx.addDistinctValue(usageKey(), 'b')).toBe(true);
          expect(await tx.addDistinctValue(usageKey(), 'a')).toBe(false);
          expect(await tx.insertEvents([event('e2')])).toEqual([true]);
          expect(await tx.appendChange(change())).toBeGreaterThan(1);
        });
        expect((await store.getChanges(0, 10)).map((c) => c.seq)).toHaveLength(2);
      });

      test('a read transaction rejects every write with CONFLICT and writes nothing', async () => {
        const attempts: [string, (tx: StoreTx) => Promise<unknown>][] = [
          ['insertCatalogVersion', (tx) => tx.insertCatalogVersion(catalogVersion(1))],
          ['putCustomer', (tx) => tx.putCustomer(customer('c1'))],
          ['putSubscription', (tx) => tx.putSubscription(subscription('s1', 'c1'))],
          ['putUsage', (tx) => tx.putUsage(usage())],
          ['putUsages', (tx) => tx.putUsages([usage()])],
          ['putUsages (empty)', (tx) => tx.putUsages([])],
          ['addDistinctValue', (tx) => tx.addDistinctValue(usageKey(), 'a')],
          ['insertEvents', (tx) => tx.insertEvents([event('e1')])],
          ['putReservation', (tx) => tx.putReservation(reservation('r1'))],
          ['putIdempotency', (tx) => tx.putIdempotency(idempotency('scope', 'k', 1))],
          ['appendChange', (tx) => tx.appendChange(change())],
          ['appendChanges', (tx) => tx.appendChanges([change(), change()])],
          ['appendChanges (empty)', (tx) => tx.appendChanges([])],
        ];
        await read(async (tx) => {
          for (const [, attempt] of attempts) await expectCode('CONFLICT', () => attempt(tx));
        });
        await read(async (tx) => {
          expect(await tx.listCatalogVersions()).toEqual([]);
          expect(await tx.countCustomers()).toBe(0);
          expect(await tx.getSubscription('s1')).toBeUndefined();
          expect(await tx.getUsage(usageKey())).toBeUndefined();
          expect(await tx.getEvent('e1')).toBeUndefined();
          expect(await tx.getReservation('r1')).toBeUndefined();
          expect(await tx.getIdempotency('scope', 'k')).toBeUndefined();
        });
        expect(await store.lastChangeSeq()).toBe(0);
        expect(await write((tx) => tx.addDistinctValue(usageKey(), 'a'))).toBe(true);
      });

      test('concurrent read-modify-write transactions serialise: 2 x 50 increments give exactly 100', async () => {
        await write((tx) => tx.putUsage(bareUsage()));
        const key = { ...usageKey(), windowStart: 0, windowEnd: NO_WINDOW_END };
        let inside = 0;
        let mostInside = 0;
        const increment = () =>
          write(async (tx) => {
            mostInside = Math.max(mostInside, ++inside);
            try {
              const cell = (await tx.getUsage(key))!;
              // Yield to the event loop between the read and the write, so that anything not
              // serialised would interleave here and lose increments.
              await new Promise((r) => setImmediate(r));
              await tx.putUsage({ ...cell, value: cell.value + 1, count: cell.count + 1 });
            } finally {
              inside--;
            }
          });
        const worker = async () => {
          const runs: Promise<void>[] = [];
          for (let i = 0; i < 50; i++) runs.push(increment());
          await Promise.all(runs);
        };
        const snapshots = Array.from({ length: 20 }, () => read((tx) => tx.getUsage(key)));
        await Promise.all([worker(), worker()]);
        expect((await read((tx) => tx.getUsage(key)))?.value).toBe(100);
        // Writers exclude each other, unless the store runs them side by side and makes them
        // serializable by retries (concurrentWrites): then the total above is what shows it.
        if (!store.concurrentWrites) expect(mostInside).toBe(1);
        // Reads started alongside see whole increments only, never a half-written cell.
        for (const s of await Promise.all(snapshots)) expect(s?.value).toBe(s?.count);
      });

      test('writes naming one turnKey take turns: 2 x 20 increments give exactly 40, each callback ran once', async () => {
        await write((tx) => tx.putUsage(bareUsage()));
        const key = { ...usageKey(), windowStart: 0, windowEnd: NO_WINDOW_END };
        let runs = 0;
        let inside = 0;
        let mostInside = 0;
        const increment = (turnKey: string) =>
          store.transaction(
            'write',
            async (tx) => {
              runs++;
              mostInside = Math.max(mostInside, ++inside);
              try {
                const cell = (await tx.getUsage(key))!;
                await new Promise((r) => setImmediate(r));
                await tx.putUsage({ ...cell, value: cell.value + 1, count: cell.count + 1 });
              } finally {
                inside--;
              }
            },
            { turnKey },
          );
        await Promise.all(Array.from({ length: 40 }, () => increment('hot')));
        expect((await read((tx) => tx.getUsage(key)))?.value).toBe(40);
        // Taking turns, none had to run again. A store whose writers run side by side starts
        // callbacks together; their first statement waits for the turn.
        expect(runs).toBe(40);
        if (!store.concurrentWrites) expect(mostInside).toBe(1);
        // A write with a turnKey of its own runs as any other.
        await store.transaction('write', (tx) => tx.putCustomer(customer('c1')), { turnKey: 'cold' });
        expect(await read((tx) => tx.getCustomer('c1'))).toEqual(customer('c1'));
      });

      test('a transaction after a failed one still runs (the failure released the store)', async () => {
        await expect(write(async () => Promise.reject(new Error('first fails')))).rejects.toThrow('first fails');
        await write((tx) => tx.putCustomer(customer('c1')));
        expect(await read((tx) => tx.getCustomer('c1'))).toEqual(customer('c1'));
      });

      test('using tx after its callback ended throws CONFLICT, after commit and after rollback', async () => {
        let committed!: StoreTx;
        await write(async (tx) => {
          committed = tx;
        });
        await expectCode('CONFLICT', () => committed.getCustomer('c1'));
        await expectCode('CONFLICT', () => committed.putCustomer(customer('c1')));
        await expectCode('CONFLICT', () => committed.appendChange(change()));
        await expectCode('CONFLICT', () => committed.getCustomers(['c1']));
        await expectCode('CONFLICT', () => committed.getUsages([]));
        await expectCode('CONFLICT', () => committed.getIdempotencies([{ scope: 's', key: 'k' }]));
        await expectCode('CONFLICT', () => committed.putUsages([]));
        await expectCode('CONFLICT', () => committed.appendChanges([]));

        let rolledBack!: StoreTx;
        await expect(
          read(async (tx) => {
            rolledBack = tx;
            throw new Error('x');
          }),
        ).rejects.toThrow('x');
        await expectCode('CONFLICT', () => rolledBack.listUsage({ customerId: 'c1' }));
        await expectCode('CONFLICT', () => rolledBack.getCustomers([]));
        await expectCode('CONFLICT', () => rolledBack.getUsages([usageKey()]));
        await expectCode('CONFLICT', () => rolledBack.getIdempotencies([]));
        expect(await read((tx) => tx.getCustomer('c1'))).toBeUndefined();
      });

      test('a closed store rejects transactions with STORE_UNAVAILABLE; close is idempotent', async () => {
        await write((tx) => tx.putCustomer(customer('c1')));
        await store.close();
        await expectCode('STORE_UNAVAILABLE', () => read((tx) => tx.getCustomer('c1')));
        await expectCode('STORE_UNAVAILABLE', () => write((tx) => tx.putCustomer(customer('c2'))));
        await store.close();
      });
    });
  });
}
