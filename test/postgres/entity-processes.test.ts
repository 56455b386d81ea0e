/**
 * A pooled hard limit with per-entity limits under several processes on one PostgreSQL schema
 * (docs/entities.md#usage-consumption-and-reservations): four test/postgres/pg-worker.ts
 * processes consume for random entities of one customer (SERIALIZABLE writes, retried) and neither
 * limit is ever overshot; the pooled cell equals the sum of the entity cells and what the
 * processes were granted. The SQLite counterpart is test/engine/entity-workers.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { entitiesCatalog } from '../engine/entities-catalog.js';
import type { EntityConsumeReport } from '../support/entity-consume-loop.js';
import { consumeForEntities } from '../support/entity-consume-loop.js';
import { freshSchema, onPglite, pglitePoolFor, pgUrl } from '../support/pg-stores.js';
import { runTogether, startWorker, taggedUrl, type WorkerProcess } from './workers.js';

const WORKERS = 4;
const CUSTOMER = 'acme';
const ENTITIES = Array.from({ length: 6 }, (_, i) => `seat-${i}`);
/** 6 x 100 = 600 > 400: both limits bind. */
const PER_ENTITY = 100;
const POOLED = 400;

// Several processes need a server: PGlite lives inside one process. There the file checks what
// PGlite can show of the same: two engines of one process on one schema, consuming at once.
if (onPglite()) describe('postgres on PGlite: two engines of one process', () => {
  it('never overshoot the per-entity or the pooled limit', async () => {
    const schema = freshSchema('entpgl');
    const open = () => createEngine({ store: postgresStore({ pool: pglitePoolFor(schema) }), catalog: entitiesCatalog({ seats: ENTITIES.length, pooled: POOLED, perSeat: PER_ENTITY }) });
    const a = await open();
    const b = await open();
    try {
      await a.provisionCustomer({ customerId: CUSTOMER });
      for (const entityId of ENTITIES) await a.createEntity({ customerId: CUSTOMER, entityId, featureId: 'seats' });
      const job = { customerId: CUSTOMER, featureId: 'ai-messages', entityIds: ENTITIES, pooledLimit: POOLED } as const;
      const reports = await Promise.all([consumeForEntities(a, { ...job, overage: 'REJECT', seed: 1 }), consumeForEntities(b, { ...job, overage: 'CAP', seed: 2 })]);
      const grantedTo = (entityId: string) => reports.reduce((n, r) => n + (r.granted[entityId] ?? 0), 0);
      expect(ENTITIES.reduce((n, id) => n + grantedTo(id), 0)).toBe(POOLED);
      for (const entityId of ENTITIES) {
        const e = await a.getMeteredEntitlement({ customerId: CUSTOMER, featureId: 'ai-messages', entityId });
        expect(e.entity).toEqual({ entityId, usageLimit: PER_ENTITY, currentUsage: grantedTo(entityId) });
      }
    } finally {
      await a.close();
      await b.close();
    }
  }, 90_000);
});
else describe('postgres: a pooled hard limit with per-entity limits, four processes consuming for random entities', () => {
  let url: string;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    url = pgUrl();
    workers = Array.from({ length: WORKERS }, (_, i) => startWorker(`e${i}`));
    await Promise.all(workers.map((w) => w.up));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });

  it(`grants exactly the pooled ${POOLED}, no entity over its ${PER_ENTITY}, the pool equal to the sum of the entities and to what the processes were granted`, async () => {
    const schema = freshSchema('ent');
    const open = () => createEngine({ store: postgresStore({ connectionString: url, schema, poolSize: 2 }), catalog: entitiesCatalog({ seats: ENTITIES.length, pooled: POOLED, perSeat: PER_ENTITY }) });
    const setup = await open();
    try {
      await setup.provisionCustomer({ customerId: CUSTOMER });
      for (const entityId of ENTITIES) await setup.createEntity({ customerId: CUSTOMER, entityId, featureId: 'seats' });
    } finally {
      await setup.close();
    }

    const reports = await runTogether(
      workers.map((w, i) =>
        w.run<EntityConsumeReport>({
          mode: 'entities',
          url: taggedUrl(url, `tessera-entities-${i}`),
          schema,
          customerId: CUSTOMER,
          featureId: 'ai-messages',
          entityIds: ENTITIES,
          pooledLimit: POOLED,
          overage: i % 2 === 0 ? 'REJECT' : 'CAP',
          seed: i + 1,
        }),
      ),
    );

    const grantedTo = (entityId: string) => reports.reduce((a, r) => a + (r.granted[entityId] ?? 0), 0);
    for (const r of reports) {
      expect(r.maxPooledSeen).toBeLessThanOrEqual(POOLED);
      expect(r.maxEntitySeen).toBeLessThanOrEqual(PER_ENTITY);
    }
    expect(ENTITIES.reduce((a, id) => a + grantedTo(id), 0)).toBe(POOLED);
    expect(reports.filter((r) => Object.values(r.granted).some((g) => g > 0)).length).toBeGreaterThan(1);
    expect(ENTITIES.filter((id) => grantedTo(id) === PER_ENTITY).length).toBeGreaterThan(0);

    const engine = await open();
    try {
      const history = await engine.getUsageHistory({ customerId: CUSTOMER, featureId: 'ai-messages', groupByEntity: true, start: new Date(0), end: new Date(Date.now() + 40 * 86_400_000) });
      const cells = history.periods.filter((p) => p.value > 0);
      expect(cells).toHaveLength(1);
      const [period] = cells;
      expect(period!.value).toBe(POOLED);
      expect(period!.entities!.reduce((a, e) => a + e.usage, 0)).toBe(period!.value);
      expect(Object.fromEntries(period!.entities!.map((e) => [e.entityId, e.usage]))).toEqual(Object.fromEntries(ENTITIES.filter((id) => grantedTo(id) > 0).map((id) => [id, grantedTo(id)])));
      for (const entityId of ENTITIES) {
        const e = await engine.getMeteredEntitlement({ customerId: CUSTOMER, featureId: 'ai-messages', entityId });
        expect(e.entity).toEqual({ entityId, usageLimit: PER_ENTITY, currentUsage: grantedTo(entityId) });
        expect(e.pooled).toMatchObject({ currentUsage: POOLED, usageLimit: POOLED });
      }
    } finally {
      await engine.close();
    }
  }, 90_000);
});
