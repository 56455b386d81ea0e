/**
 * An engine where `@opentelemetry/api` cannot be loaded (not installed: the optional peer left
 * out) runs as the plain class: no spans, no crash, its counters still kept.
 */
import { describe, expect, it, vi } from 'vitest';
import { createEngine, Engine, memoryStore, observeReplica, testClock } from '@tessera/core';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

vi.mock('@opentelemetry/api', () => {
  throw Object.assign(new Error("Cannot find package '@opentelemetry/api'"), { code: 'ERR_MODULE_NOT_FOUND' });
});

describe('without @opentelemetry/api', () => {
  it('creates the plain engine, answers, and counts', async () => {
    const warnings: unknown[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (c: unknown) => void warnings.push(c), error: () => {} };
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z'), logger });
    expect(Object.getPrototypeOf(engine)).toBe(Engine.prototype);
    await engine.provisionCustomer({ customerId: 'c1' });
    expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'projects' })).hasAccess).toBe(true);
    expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'projects' })).hasAccess).toBe(true);
    const m = engine.getMetrics();
    expect(m.checks.view.allowed + m.checks.store.allowed).toBe(2);
    expect(m.writes.duration.count).toBe(2);
    // The replica's hook is a no-op.
    const stop = await observeReplica(() => ({ outboxDepth: 1, deliveryLagSeconds: 1 }));
    stop();
    await engine.close();
  });
});
