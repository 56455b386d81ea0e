import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@tessera/sqlite';
import { afterAll } from 'vitest';
import { runStoreConformance } from './cases.js';

// One directory for the run: each store gets its own file, and the -wal/-shm files go with it.
const dir = mkdtempSync(join(tmpdir(), 'tessera-conformance-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance('sqlite (file)', () => sqliteStore({ filename: join(dir, `store-${++n}.db`) }));
runStoreConformance('sqlite (:memory:)', () => sqliteStore({ filename: ':memory:' }));
runStoreConformance('sqlite (file, durability full)', () => sqliteStore({ filename: join(dir, `store-${++n}.db`), durability: 'full' }));
