import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import type { EntityConsumeReport } from '../support/entity-consume-loop.js';
import { entitiesCatalog } from './entities-catalog.js';
import { tempDir } from './stores.js';
import { startWorker as startProcess } from '../support/workers.js';

// A pooled hard limit with per-entity limits under eight processes on one SQLite file
// (docs/entities.md#usage-consumption-and-reservations): consumeUsage reads the entity's cell and
// the pooled cell and writes both in one BEGIN IMMEDIATE transaction, so neither limit is ever
// overshot and the pool always equals the sum of its entities. Only a file-backed store has
// several processes, so this file runs on SQLite alone (PostgreSQL: test/postgres/entity-processes.test.ts).

const WORKERS = 8;
const ENTITIES = Array.from({ length: 6 }, (_, i) => `seat-${i}`);
/** Each seat's own monthly limit, and the customer's pooled one: 6 x 150 = 900 > 600, so both bind. */
const PER_ENTITY = 150;
const POOLED = 600;
const workerScript = join('test', 'engine', 'entity-worker.ts');

const startWorker = (args: string[]) => startProcess<EntityConsumeReport>(workerScript, args);

describe('sqlite: a pooled hard limit with per-entity limits, eight processes consuming for random entities', () => {
  let dir: ReturnType<typeof tempDir>;
  let filename: string;

  beforeAll(async () => {
    dir = tempDir();
    filename = join(dir.dir, 'entities.db');
    const engine = await createEngine({ store: sqliteStore({ filename }), catalog: entitiesCatalog({ seats: ENTITIES.length, pooled: POOLED, perSeat: PER_ENTITY }) });
    await engine.provisionCustomer({ customerId: 'acme' });
    for (const entityId of ENTITIES) await engine.createEntity({ customerId: 'acme', entityId, featureId: 'seats' });
    await engine.close();
  });
  afterAll(() => dir.cleanup());

  it(`grants exactly the pooled ${POOLED}, no entity over its ${PER_ENTITY}, the pool equal to the sum of the entities and to what the processes were granted`, async () => {
    // Half the processes REJECT (all or nothing), half CAP (what fits both limits).
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker([filename, 'acme', 'ai-messages', ENTITIES.join(','), String(POOLED), i % 2 === 0 ? 'REJECT' : 'CAP', String(i + 1)]));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    const reports = await Promise.all(workers.map((w) => w.done));

    const grantedTo = (entityId: string) => reports.reduce((a, r) => a + (r.granted[entityId] ?? 0), 0);
    const total = ENTITIES.reduce((a, id) => a + grantedTo(id), 0);
    // No answer any process got ever showed either limit overshot.
    for (const r of reports) {
      expect(r.maxPooledSeen).toBeLessThanOrEqual(POOLED);
      expect(r.maxEntitySeen).toBeLessThanOrEqual(PER_ENTITY);
    }
    expect(total).toBe(POOLED);
    // They raced: several processes were granted some of it, and the skewed draw filled at least
    // one seat to its own limit while the pool still had room (so the per-entity limit was tested).
    expect(reports.filter((r) => Object.values(r.granted).some((g) => g > 0)).length).toBeGreaterThan(1);
    expect(ENTITIES.filter((id) => grantedTo(id) === PER_ENTITY).length).toBeGreaterThan(0);

    // A new engine reads the file as the workers left it.
    const engine = await createEngine({ store: sqliteStore({ filename }) });
    try {
      const history = await engine.getUsageHistory({ customerId: 'acme', featureId: 'ai-messages', groupByEntity: true, start: new Date(0), end: new Date(Date.now() + 40 * 86_400_000) });
      const cells = history.periods.filter((p) => p.value > 0);
      expect(cells).toHaveLength(1);
      const [period] = cells;
      // The pooled cell equals the sum of the entity cells, and each cell what the processes were granted for it.
      expect(period!.value).toBe(POOLED);
      expect(period!.entities!.reduce((a, e) => a + e.usage, 0)).toBe(period!.value);
      expect(Object.fromEntries(period!.entities!.map((e) => [e.entityId, e.usage]))).toEqual(Object.fromEntries(ENTITIES.filter((id) => grantedTo(id) > 0).map((id) => [id, grantedTo(id)])));
      for (const entityId of ENTITIES) {
        const e = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'ai-messages', entityId, options: { requestedUsage: 1 } });
        expect(e.entity).toEqual({ entityId, usageLimit: PER_ENTITY, currentUsage: grantedTo(entityId) });
        expect(e.pooled).toMatchObject({ currentUsage: POOLED, usageLimit: POOLED });
        expect(e.hasAccess).toBe(false);
      }
    } finally {
      await engine.close();
    }
  }, 90_000);
});
