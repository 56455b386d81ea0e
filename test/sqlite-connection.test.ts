/**
 * `sqliteConnection(tx)`: statements on a caller's own tables run inside the store's transaction,
 * so they commit and roll back with its writes, also when concurrent calls share one transaction
 * (group commit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryStore, type Store, type StoreTx } from '@tessera/core';
import { sqliteConnection, sqliteStore } from '@tessera/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { customer } from './conformance/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(name: string): Promise<Store> {
  const store = sqliteStore({ filename: join(dir, name) });
  await store.open();
  await store.transaction('write', async (tx) => void sqliteConnection(tx).exec('CREATE TABLE mine (id TEXT PRIMARY KEY)'));
  return store;
}

const mine = (store: Store) => store.transaction('read', async (tx) => (sqliteConnection(tx).prepare('SELECT id FROM mine ORDER BY id').all() as { id: string }[]).map((r) => r.id));

describe('sqliteConnection', () => {
  it("commits and rolls back the caller's rows with the store's writes, call by call in a shared transaction", async () => {
    const store = await open('shared.db');
    try {
      const write = (id: string, fail: boolean) =>
        store.transaction('write', async (tx) => {
          await tx.putCustomer(customer(id));
          sqliteConnection(tx).prepare('INSERT INTO mine (id) VALUES (?)').run(id);
          if (fail) throw new Error(`${id} fails after writing`);
        });
      // Started together: one SQLite transaction, each call in its own savepoint.
      const results = await Promise.allSettled([write('a', false), write('b', true), write('c', false)]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await mine(store)).toEqual(['a', 'c']);
      await store.transaction('read', async (tx) => {
        expect(await tx.getCustomer('b')).toBeUndefined();
        expect(await tx.getCustomer('c')).toEqual(customer('c'));
      });
    } finally {
      await store.close();
    }
  });

  it('refuses a transaction of another store, and one whose callback has settled', async () => {
    const store = await open('refuse.db');
    const memory = memoryStore();
    await memory.open();
    try {
      await memory.transaction('read', async (tx) => {
        expect(() => sqliteConnection(tx)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      });
      let kept: StoreTx | undefined;
      await store.transaction('read', async (tx) => {
        kept = tx;
      });
      expect(() => sqliteConnection(kept!)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    } finally {
      await store.close();
      await memory.close();
    }
  });
});
