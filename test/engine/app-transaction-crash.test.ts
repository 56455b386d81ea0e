import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeteredEntitlement } from '@tessera/core';
import { tempDir } from './stores.js';
import { openApp, projectRows } from './app-tx-fixture.js';

// Processes that SIGKILL themselves inside and right after engine.transaction callbacks, four at
// a time on one file: whatever point they die at, the `projects` usage equals the committed
// project rows (docs/transactions.md). A worker runs test/engine/app-tx-worker.ts.

const root = fileURLToPath(new URL('../..', import.meta.url));
const WORKERS = 4;
const ROUNDS = 1;

/** Runs a worker to its end; resolves with the signal that ended it and its stderr. */
function runWorker(args: string[]): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'engine', 'app-tx-worker.ts'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('engine.transaction: SIGKILL at any point keeps usage equal to committed rows', () => {
  let dir: ReturnType<typeof tempDir>;
  let filename: string;

  beforeAll(async () => {
    dir = tempDir();
    filename = join(dir.dir, 'crash.db');
    const app = await openApp(filename);
    await app.engine.provisionCustomer({ customerId: 'acme' });
    await app.close();
  });
  afterAll(() => dir.cleanup());

  it(`${WORKERS} processes, ${ROUNDS} round(s)`, async () => {
    const base = Date.now() % 1_000_000;
    for (let round = 0; round < ROUNDS; round++) {
      const seeds = Array.from({ length: WORKERS }, (_, w) => base + round * WORKERS + w + 1);
      const ends = await Promise.all(seeds.map((seed, w) => runWorker([filename, 'acme', `r${round}w${w}`, String(seed)])));
      for (const [w, end] of ends.entries()) expect(end.signal, `worker seed ${seeds[w]} ended without SIGKILL: ${end.stderr}`).toBe('SIGKILL');
      const app = await openApp(filename, false);
      try {
        const rows = projectRows(app.db, 'acme');
        const m = (await app.engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'projects' })) as MeteredEntitlement;
        expect(m.currentUsage, `seeds ${seeds.join(',')}`).toBe(rows);
        expect(rows).toBeGreaterThan(0);
      } finally {
        await app.close();
      }
    }
  }, 60_000);
});
