/**
 * Group commit in the SQLite store: concurrent write calls share one SQLite transaction, and each
 * stays atomic (a failing call loses only its own writes; the others commit and resolve).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TesseraError, type Store } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { catalogVersion, change, customer } from './conformance/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-group-commit-'));
let files = 0;
const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(): Promise<Store> {
  const store = sqliteStore({ filename: join(dir, `g-${++files}.db`) });
  opened.push(store);
  await store.open();
  return store;
}

describe('sqlite store: group commit', () => {
  it('keeps the writes of the calls that succeed and drops only those of the one that throws', async () => {
    const store = await open();
    const results = await Promise.allSettled([
      store.transaction('write', async (tx) => {
        await tx.putCustomer(customer('a'));
        return tx.appendChange(change({ customerId: 'a' }));
      }),
      store.transaction('write', async (tx) => {
        await tx.putCustomer(customer('b'));
        await tx.appendChange(change({ customerId: 'b' }));
        throw new Error('b fails after writing');
      }),
      store.transaction('write', async (tx) => {
        await tx.putCustomer(customer('c'));
        return tx.appendChange(change({ customerId: 'c' }));
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('b fails after writing');
    await store.transaction('read', async (tx) => {
      expect(await tx.getCustomer('a')).toEqual(customer('a'));
      expect(await tx.getCustomer('b')).toBeUndefined();
      expect(await tx.getCustomer('c')).toEqual(customer('c'));
    });
    const changes = await store.getChanges(0, 10);
    expect(changes.map((c) => c.customerId)).toEqual(['a', 'c']);
    // Each call saw the seq it was given, in call order.
    expect(changes.map((c) => c.seq)).toEqual([(results[0] as PromiseFulfilledResult<number>).value, (results[2] as PromiseFulfilledResult<number>).value]);
  });

  it('rolls back a call whose statement fails with CONFLICT and commits the others', async () => {
    const store = await open();
    await store.transaction('write', (tx) => tx.insertCatalogVersion(catalogVersion(1)));
    const results = await Promise.allSettled([
      store.transaction('write', (tx) => tx.putCustomer(customer('a'))),
      store.transaction('write', async (tx) => {
        await tx.putCustomer(customer('b'));
        await tx.insertCatalogVersion(catalogVersion(1));
      }),
      store.transaction('write', (tx) => tx.putCustomer(customer('c'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as TesseraError).code).toBe('CONFLICT');
    expect(await store.transaction('read', (tx) => tx.countCustomers())).toBe(2);
    expect(await store.transaction('read', (tx) => tx.getCustomer('b'))).toBeUndefined();
  });

  it('keeps call order around reads: a read made between two writes sees the first and not the second', async () => {
    const store = await open();
    const first = store.transaction('write', (tx) => tx.putCustomer(customer('a')));
    const between = store.transaction('read', async (tx) => [await tx.getCustomer('a'), await tx.getCustomer('b')]);
    const second = store.transaction('write', (tx) => tx.putCustomer(customer('b')));
    await Promise.all([first, second]);
    const [a, b] = await between;
    expect(a).toEqual(customer('a'));
    expect(b).toBeUndefined();
  });

  it('commits hundreds of concurrent calls, each exactly once', async () => {
    const store = await open();
    const seqs = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        store.transaction('write', async (tx) => {
          await tx.putCustomer(customer(`c${i}`));
          if (i % 7 === 3) throw new Error(`call ${i} fails`);
          return tx.appendChange(change({ customerId: `c${i}` }));
        }).catch((e: Error) => e.message),
      ),
    );
    const failed = seqs.filter((s) => typeof s === 'string');
    expect(failed).toHaveLength(Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 7 === 3).length);
    expect(await store.transaction('read', (tx) => tx.countCustomers())).toBe(300 - failed.length);
    const changes = await store.getChanges(0, 1000);
    expect(changes.map((c) => c.seq)).toEqual(seqs.filter((s) => typeof s === 'number'));
  });

  it('ends each call’s tx with its callback, also inside a shared transaction', async () => {
    const store = await open();
    let kept!: Parameters<Parameters<Store['transaction']>[1]>[0];
    await Promise.all([
      store.transaction('write', async (tx) => {
        kept = tx;
      }),
      store.transaction('write', async () => {
        await expect(kept.putCustomer(customer('late'))).rejects.toMatchObject({ code: 'CONFLICT' });
      }),
    ]);
    expect(await store.transaction('read', (tx) => tx.getCustomer('late'))).toBeUndefined();
  });
});
