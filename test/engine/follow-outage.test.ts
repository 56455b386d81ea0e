import { createEngine, TesseraError, testClock, type Store } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoCatalog, tempDir } from './stores.js';

/** A store whose transactions fail with STORE_UNAVAILABLE while `down` is set; the change feed still reads. */
function flaky(inner: Store): Store & { down: boolean } {
  const store: Store & { down: boolean } = {
    down: false,
    kind: inner.kind,
    open: () => inner.open(),
    transaction: ((mode, fn) =>
      store.down ? Promise.reject(new TesseraError('STORE_UNAVAILABLE', 'the test took the store away')) : inner.transaction(mode, fn)) as Store['transaction'],
    getChanges: (after: number, limit: number) => inner.getChanges(after, limit),
    lastChangeSeq: () => inner.lastChangeSeq(),
    close: () => inner.close(),
  };
  return store;
}

describe('the change follower when the store fails mid-read', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('applies a change whose apply failed at the next poll instead of skipping it', async () => {
    const { dir, cleanup } = tempDir();
    const filename = join(dir, 'shared.db');
    const clock = testClock('2024-01-31T10:00:00Z');
    const a = await createEngine({ store: sqliteStore({ filename }), catalog: demoCatalog, clock, followIntervalMs: 0 });
    const store = flaky(sqliteStore({ filename }));
    const b = await createEngine({ store, clock, followIntervalMs: 0 });
    cleanups.push(cleanup, () => a.close(), () => b.close());
    const heard: number[] = [];
    b.on('catalogPublished', (e) => heard.push(e.version));

    const next = structuredClone(demoCatalog);
    next.features.push({ id: 'beta', type: 'BOOLEAN' });
    const { version } = await a.publishCatalog(next);
    // Applying a published catalog reads the stored versions: that read fails.
    store.down = true;
    await expect(b.syncNow()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(b.catalogVersion).not.toBe(version);
    store.down = false;
    await b.syncNow();
    expect(b.catalogVersion).toBe(version);
    expect(heard).toEqual([version]);
  });
});
