import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, memoryStore, testClock, type CatalogDefinition, type Store, type TestClock } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { freshPgStore } from '../support/pg-stores.js';

/** A named store factory; engine tests run once per entry. */
export interface StoreFactory {
  name: string;
  /** A fresh, empty store. `reopen` gives a second store on the same data (null where there is none). */
  make(): { store: Store; reopen: (() => Store) | null; cleanup: () => void };
}

const factories: StoreFactory[] = [
  {
    name: 'memory',
    make: () => ({ store: memoryStore(), reopen: null, cleanup: () => {} }),
  },
  {
    name: 'sqlite',
    make: () => {
      const { dir, cleanup } = tempDir();
      const filename = join(dir, 'engine.db');
      return { store: sqliteStore({ filename }), reopen: () => sqliteStore({ filename }), cleanup };
    },
  },
  {
    // A schema of its own on the run's PostgreSQL server (test/setup/postgres.ts).
    name: 'postgres',
    make: () => {
      const { store, reopen } = freshPgStore();
      return { store, reopen, cleanup: () => {} };
    },
  },
];

export function storeFactories(): StoreFactory[] {
  return factories;
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An engine on a fresh store of the factory, with a test clock and deterministic ids. */
export async function engineOn(
  factory: StoreFactory,
  opts: { catalog?: CatalogDefinition; start?: string } = {},
): Promise<{ engine: Awaited<ReturnType<typeof createEngine>>; clock: TestClock; store: Store; reopen: (() => Store) | null; cleanup: () => Promise<void> }> {
  const made = factory.make();
  const clock = testClock(opts.start ?? '2024-01-31T10:00:00Z');
  let n = 0;
  const engine = await createEngine({
    store: made.store,
    catalog: opts.catalog ?? demoCatalog,
    clock,
    newId: (prefix) => `${prefix}_${++n}`,
  });
  return {
    engine,
    clock,
    store: made.store,
    reopen: made.reopen,
    cleanup: async () => {
      await engine.close();
      made.cleanup();
    },
  };
}

export { demoCatalog };
