import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type CatalogDefinition, type MeteredEntitlement } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog, tempDir } from './stores.js';
import { startWorker as startProcess } from '../support/workers.js';

// consumeUsage across real processes on one SQLite file (docs/conventions.md#consumption-and-reservations):
// the check and the write happen in one BEGIN IMMEDIATE transaction, so the sum granted to all
// processes equals the hard limit exactly. Only a file-backed store has several processes, so
// this file runs on SQLite alone.

const LIMIT = 300;
const WORKERS = 4;
const workerScript = join('test', 'engine', 'consume-worker.ts');

/** The demo catalog plus a hard monthly quota (LIMIT) on the free plan. */
function quotaCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push({ id: 'render-credits', displayName: 'Render credits', type: 'METERED' }, { id: 'render-capped', displayName: 'Render credits (capped)', type: 'METERED' });
  c.plans
    .find((p) => p.id === 'free')!
    .entitlements!.push({ featureId: 'render-credits', usageLimit: LIMIT, resetPeriod: 'MONTH' }, { featureId: 'render-capped', usageLimit: LIMIT, resetPeriod: 'MONTH' });
  return c;
}

interface WorkerReport {
  granted: number;
  calls: number;
  refusals: number;
}

const startWorker = (args: string[]) => startProcess<WorkerReport>(workerScript, args);

describe('sqlite: consumeUsage from several processes on one file', () => {
  let dir: ReturnType<typeof tempDir>;
  let filename: string;

  beforeAll(async () => {
    dir = tempDir();
    filename = join(dir.dir, 'shared.db');
    const engine = await createEngine({ store: sqliteStore({ filename }), catalog: quotaCatalog() });
    await engine.provisionCustomer({ customerId: 'acme' });
    await engine.close();
  });
  afterAll(() => dir.cleanup());

  const usageAfter = async (featureId: string): Promise<MeteredEntitlement> => {
    // A new engine: its view reads the file as the workers left it.
    const engine = await createEngine({ store: sqliteStore({ filename }) });
    try {
      return (await engine.getMeteredEntitlement({ customerId: 'acme', featureId })) as MeteredEntitlement;
    } finally {
      await engine.close();
    }
  };

  it.each([
    ['REJECT', 'render-credits'],
    ['CAP', 'render-capped'],
  ])(`%s: ${WORKERS} processes consuming 1 to 3 at a time are granted exactly the limit of ${LIMIT} in total`, async (mode, featureId) => {
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker([filename, 'acme', featureId, mode, String(i + 1)]));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    const reports = await Promise.all(workers.map((w) => w.done));

    const total = reports.reduce((a, r) => a + r.granted, 0);
    expect(total).toBe(LIMIT);
    // They really raced: several processes were granted some of it, and each stopped only after
    // being refused (REJECT) or granted 0 (CAP) three times.
    expect(reports.filter((r) => r.granted > 0).length).toBeGreaterThan(1);
    for (const r of reports) expect(mode === 'REJECT' ? r.refusals : r.calls).toBeGreaterThanOrEqual(3);
    const e = await usageAfter(featureId);
    expect(e).toMatchObject({ currentUsage: LIMIT, usageLimit: LIMIT });
    expect(e.currentUsage).toBe(total);
  }, 60_000);
});
