import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type CatalogDefinition } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog, tempDir } from './stores.js';
import { startWorker as startProcess } from '../support/workers.js';

// Usage thresholds with eight processes writing one SQLite file (docs/alerts.md#once): each
// threshold is announced by exactly one of them, because the decision is a record inserted in the
// usage write's transaction, and its webhook delivery is committed with it.

const WORKERS = 8;
const EACH = 30;
const LIMIT = 200;
const PERCENTS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
const workerScript = join('test', 'engine', 'alert-worker.ts');

function alertCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push({ id: 'renders', displayName: 'Renders', type: 'METERED' });
  c.plans.find((p) => p.id === 'free')!.entitlements!.push({ featureId: 'renders', usageLimit: LIMIT, resetPeriod: 'MONTH', alerts: { usagePercent: PERCENTS } });
  return c;
}

interface WorkerReport {
  events: { id: string; threshold: number; currentUsage: number; windowStart: string }[];
  otherErrors: string[];
}

const startWorker = (args: string[]) => startProcess<WorkerReport>(workerScript, args);

describe('sqlite: usage thresholds with eight processes writing', () => {
  let dir: ReturnType<typeof tempDir>;
  let filename: string;

  beforeAll(async () => {
    dir = tempDir();
    filename = join(dir.dir, 'shared.db');
    const engine = await createEngine({ store: sqliteStore({ filename }), catalog: alertCatalog() });
    await engine.provisionCustomer({ customerId: 'acme' });
    await engine.close();
  });
  afterAll(() => dir.cleanup());

  it(`announces each of ${PERCENTS.length} thresholds exactly once across ${WORKERS} processes, with one webhook delivery each`, async () => {
    const workers = Array.from({ length: WORKERS }, () => startWorker([filename, 'acme', 'renders', String(EACH)]));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    const reports = await Promise.all(workers.map((w) => w.done));

    for (const r of reports) expect(r.otherErrors).toEqual([]);
    const events = reports.flatMap((r) => r.events);
    // 8 x 30 = 240 units against a limit of 200: every threshold up to 100% is crossed, each once.
    expect(events.map((e) => e.threshold).sort((a, b) => a - b)).toEqual(PERCENTS);
    // Each was announced by the write that reached it: 10% of 200 at exactly 20, and so on.
    for (const e of events) expect(e.currentUsage).toBe((LIMIT * e.threshold) / 100);
    expect(new Set(events.map((e) => e.windowStart)).size).toBe(1);
    // They raced: more than one process announced something.
    expect(reports.filter((r) => r.events.length > 0).length).toBeGreaterThan(1);

    const engine = await createEngine({ store: sqliteStore({ filename }) });
    try {
      const deliveries = (await engine.getWebhookDeliveries({ first: 100 })).data;
      expect(deliveries.map((d) => d.id).sort()).toEqual(events.map((e) => e.id).sort());
      expect(deliveries.every((d) => d.status === 'PENDING' && d.lastError === 'unreachable in this test')).toBe(true);
      expect((await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'renders' }))).toMatchObject({ currentUsage: WORKERS * EACH });
    } finally {
      await engine.close();
    }
  }, 90_000);
});
