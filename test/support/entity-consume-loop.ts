/**
 * The consumption loop of the multi-process entity tests (SQLite's
 * test/engine/entity-workers.test.ts, PostgreSQL's test/postgres/entity-processes.test.ts): one
 * process consuming for entities of one customer, each with a per-entity limit under a pooled hard
 * limit (docs/entities.md). What it was granted per entity is what the tests compare with the
 * stored cells.
 */
import { isTesseraError, type Engine, type OverageMode } from '@tessera/core';
import { generator } from './consume-loop.js';

/** What one process was granted, per entity, and the most pooled usage any answer showed it. */
export interface EntityConsumeReport {
  granted: Record<string, number>;
  calls: number;
  refusals: number;
  /** The highest pooled `currentUsage` of any consumption answered to this process. */
  maxPooledSeen: number;
  /** The highest entity `currentUsage` of any consumption answered to this process. */
  maxEntitySeen: number;
}

/**
 * Consumes 1 to 3 units at a time for an entity drawn from `entityIds` (the least of three draws:
 * the first one is drawn 42% of the time with six, so it reaches its own limit while the pool
 * still has room) until the pooled
 * limit is reached, read with an entity check (entity checks read the store, never a cached view).
 */
export async function consumeForEntities(
  engine: Engine,
  job: { customerId: string; featureId: string; entityIds: readonly string[]; pooledLimit: number; overage: OverageMode; seed: number },
): Promise<EntityConsumeReport> {
  const next = generator(job.seed);
  const n = job.entityIds.length;
  // The generator's high bits: its low ones repeat with a short period.
  const draw = (k: number) => (next() >>> 16) % k;
  const pick = () => job.entityIds[Math.min(draw(n), draw(n), draw(n))]!;
  const out: EntityConsumeReport = { granted: {}, calls: 0, refusals: 0, maxPooledSeen: 0, maxEntitySeen: 0 };
  for (;;) {
    // A real caller does some work between two consumptions; without it one process can hold the
    // write lock for the whole run: correct, but no race to test.
    if (out.calls > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    out.calls++;
    const entityId = pick();
    const amount = 1 + draw(3);
    try {
      const r = await engine.consumeUsage({ customerId: job.customerId, featureId: job.featureId, entityId, amount, overage: job.overage });
      out.granted[entityId] = (out.granted[entityId] ?? 0) + r.granted;
      out.maxPooledSeen = Math.max(out.maxPooledSeen, r.pooled!.currentUsage);
      out.maxEntitySeen = Math.max(out.maxEntitySeen, r.entity!.currentUsage);
      if (r.granted > 0) continue;
    } catch (e) {
      if (!isTesseraError(e, 'USAGE_LIMIT_EXCEEDED')) throw e;
      out.refusals++;
    }
    const pooled = await engine.getMeteredEntitlement({ customerId: job.customerId, featureId: job.featureId, entityId, options: { requestedUsage: 1 } });
    if (pooled.pooled!.currentUsage >= job.pooledLimit) return out;
  }
}
