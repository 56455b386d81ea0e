import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryStore, type Store } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';

/** A store factory for the model check and engine properties: a fresh, empty store per call. */
export interface StoreKind {
  name: string;
  /** A fresh store (an SQLite file of its own in a temp directory). */
  make: () => Store;
  /** Removes what `make` left behind. */
  cleanup: () => void;
}

export function memoryKind(): StoreKind {
  return { name: 'memory', make: () => memoryStore(), cleanup: () => {} };
}

export function sqliteKind(): StoreKind {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-testing-'));
  let n = 0;
  return {
    name: 'sqlite',
    make: () => sqliteStore({ filename: join(dir, `run-${++n}.db`) }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
