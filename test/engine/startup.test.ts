import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, type Engine, type Store } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog, tempDir } from './stores.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

/**
 * Engines starting side by side on a fresh store: one publishes the catalog, the others find it
 * unchanged when they write. Each must still know that version (it once answered "catalog: none
 * published yet" from the engines that lost the race).
 */
describe('engines starting together on a fresh store', () => {
  const cases: { name: string; stores: () => Store[] }[] = [
    { name: 'memory (one store, four engines)', stores: () => { const s = memoryStore(); return [s, s, s, s]; } },
    { name: 'sqlite (one file, four stores)', stores: () => { const f = join(dir.dir, 'together.db'); return [0, 1, 2, 3].map(() => sqliteStore({ filename: f })); } },
  ];
  for (const c of cases) {
    it(`all start, on catalog version 1, and answer checks: ${c.name}`, async () => {
      const engines: Engine[] = await Promise.all(c.stores().map((store) => createEngine({ store, catalog: demoCatalog, followIntervalMs: 0 })));
      try {
        expect(engines.map((e) => e.catalogVersion)).toEqual([1, 1, 1, 1]);
        await engines[0]!.provisionCustomer({ customerId: 'c1' });
        for (const e of engines) expect((await e.getEntitlement({ customerId: 'c1', featureId: 'api-calls' })).hasAccess).toBe(true);
        expect((await engines[3]!.getProducts()).map((p) => p.id)).toEqual(['app']);
      } finally {
        for (const e of engines) await e.close();
      }
    });
  }
});
