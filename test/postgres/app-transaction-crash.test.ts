import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';
import { openPgApp, projectRows, projectUsage } from './app-tx-pg-fixture.js';

// Four processes on one PostgreSQL schema create projects in engine.transaction (a row through
// tx.db and one unit of the `projects` quota), some rolled back, racing for a quota they overrun,
// and SIGKILL themselves inside or right after a transaction: whatever point they die at, the
// usage equals the committed project rows and never passes the quota (docs/transactions.md#postgresql).
// A worker runs test/postgres/app-tx-pg-worker.ts.

const root = fileURLToPath(new URL('../..', import.meta.url));
const WORKERS = 4;
/** Below what the workers commit together (about 4 x 0.7 x 11), so that the quota refuses some. */
const LIMIT = 15;

/** Runs a worker to its end; resolves with the signal that ended it and its stderr. */
function runWorker(args: string[]): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'postgres', 'app-tx-pg-worker.ts'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

if (!onPglite()) describe('engine.transaction on PostgreSQL: SIGKILL at any point keeps usage equal to committed rows', () => {
  it(`${WORKERS} processes racing for a quota of ${LIMIT}`, async () => {
    const schema = freshSchema('crash');
    const setup = await openPgApp(pgUrl(), schema, LIMIT);
    await setup.engine.provisionCustomer({ customerId: 'acme' });
    await setup.close();
    const base = Date.now() % 1_000_000;
    const seeds = Array.from({ length: WORKERS }, (_, w) => base + w + 1);
    const ends = await Promise.all(seeds.map((seed, w) => runWorker([pgUrl(), schema, 'acme', `w${w}`, String(seed)])));
    for (const [w, end] of ends.entries()) expect(end.signal, `worker seed ${seeds[w]} ended without SIGKILL: ${end.stderr}`).toBe('SIGKILL');
    const app = await openPgApp(pgUrl(), schema, undefined);
    try {
      const rows = await projectRows(app, 'acme');
      expect(await projectUsage(app.engine, 'acme'), `seeds ${seeds.join(',')}`).toBe(rows);
      expect(rows).toBeGreaterThan(0);
      expect(rows).toBeLessThanOrEqual(LIMIT);
      // The killed processes' connections are gone, and no transaction of theirs stayed open.
      const open = await app.pool.query(`select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and application_name = 'tessera'`);
      expect(open.rows[0].n).toBe(0);
    } finally {
      await app.close();
    }
  }, 60_000);
});
