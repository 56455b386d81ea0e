/**
 * A worker process of entity-workers.test.ts: opens its own engine on a shared SQLite file (the
 * catalog, the customer and its entities are already stored there), waits for "go" on stdin so
 * that all workers start together, consumes for random entities until the pooled limit is
 * reached, and prints what it was granted per entity as one JSON line on stdout.
 *
 * Usage: node --import tsx test/engine/entity-worker.ts <filename> <customerId> <featureId> <entityIds,comma-separated> <pooledLimit> <REJECT|CAP> <seed>
 */
import { createInterface } from 'node:readline';
import { createEngine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { consumeForEntities } from '../support/entity-consume-loop.js';

const [filename, customerId, featureId, entities, pooledLimit, mode, seedArg] = process.argv.slice(2);
if (!filename || !customerId || !featureId || !entities || !pooledLimit || (mode !== 'REJECT' && mode !== 'CAP')) {
  process.stderr.write('usage: entity-worker.ts <filename> <customerId> <featureId> <entityIds> <pooledLimit> <REJECT|CAP> <seed>\n');
  process.exit(2);
}

const engine = await createEngine({ store: sqliteStore({ filename, busyTimeoutMs: 30_000 }) });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

const report = await consumeForEntities(engine, { customerId, featureId, entityIds: entities.split(','), pooledLimit: Number(pooledLimit), overage: mode, seed: Number(seedArg ?? 1) });
await engine.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
