/**
 * A worker process of consume-workers.test.ts: opens its own engine on a shared SQLite file (the
 * catalog is already stored there), waits for "go" on stdin so that all workers start together,
 * then consumes 1..3 units at a time as fast as it can until the quota is gone, and prints what
 * it was granted as one JSON line on stdout.
 *
 * Usage: node --import tsx test/engine/consume-worker.ts <filename> <customerId> <featureId> <REJECT|CAP> <seed>
 */
import { createInterface } from 'node:readline';
import { createEngine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { consumeUntilEmpty } from '../support/consume-loop.js';

const [filename, customerId, featureId, mode, seedArg] = process.argv.slice(2);
if (!filename || !customerId || !featureId || (mode !== 'REJECT' && mode !== 'CAP')) {
  process.stderr.write('usage: consume-worker.ts <filename> <customerId> <featureId> <REJECT|CAP> <seed>\n');
  process.exit(2);
}

const engine = await createEngine({ store: sqliteStore({ filename, busyTimeoutMs: 30_000 }) });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

const report = await consumeUntilEmpty(engine, { customerId, featureId, overage: mode, seed: Number(seedArg ?? 1) });
await engine.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
