import { createEngine, testClock, type UsageUpdatedEvent } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoCatalog, tempDir } from './stores.js';

describe('two engines on one SQLite file', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function pair() {
    const { dir, cleanup } = tempDir();
    const filename = join(dir, 'shared.db');
    const clock = testClock('2024-01-31T10:00:00Z');
    const a = await createEngine({ store: sqliteStore({ filename }), catalog: demoCatalog, clock, followIntervalMs: 0 });
    const b = await createEngine({ store: sqliteStore({ filename }), clock, followIntervalMs: 0 });
    cleanups.push(cleanup, () => a.close(), () => b.close());
    return { a, b };
  }

  it("a write in one reaches the other's checks and listeners once it follows the feed", async () => {
    const { a, b } = await pair();
    await a.provisionCustomer({ customerId: 'c1' });
    await b.syncNow();
    const seen: UsageUpdatedEvent[] = [];
    b.on('usageUpdated', (e) => seen.push(e));
    // b warms its view: 0 of 100.
    expect(await b.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' })).toMatchObject({ currentUsage: 0 });
    await a.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 100 });
    // Until b follows the change feed its cached view may still say 0 (the documented bound).
    await b.syncNow();
    expect(await b.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', options: { requestedUsage: 1 } })).toMatchObject({
      currentUsage: 100,
      hasAccess: false,
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ customerId: 'c1', featureId: 'api-calls', currentUsage: 100 });
  });

  it('an engine does not hear its own writes twice through the feed', async () => {
    const { a } = await pair();
    const seen: string[] = [];
    a.on('subscriptionUpdated', (e) => seen.push(e.subscriptionId));
    await a.provisionCustomer({ customerId: 'c1' });
    const before = seen.length;
    await a.syncNow();
    expect(seen.length).toBe(before);
  });

  it('a subscription change in one process changes entitlements in the other', async () => {
    const { a, b } = await pair();
    await a.provisionCustomer({ customerId: 'c1' });
    await b.syncNow();
    expect(await b.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).toMatchObject({ hasAccess: false });
    await a.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true });
    await b.syncNow();
    expect(await b.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).toMatchObject({ hasAccess: true });
  });

  it("an override set in one process replaces the plan in the other's cached checks once it follows", async () => {
    const { a, b } = await pair();
    await a.provisionCustomer({ customerId: 'c1' });
    await b.syncNow();
    const reasons: string[] = [];
    b.on('entitlementsUpdated', (e) => reasons.push(e.reason));
    expect(await b.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' })).toMatchObject({ value: 3 });
    const o = await a.setEntitlementOverride({ customerId: 'c1', featureId: 'projects', entitlement: { value: 1 } });
    await b.syncNow();
    expect(await b.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' })).toMatchObject({ value: 1, overrideId: o.id });
    expect(reasons).toEqual(['override.updated']);
  });

  it('a catalog published by one process reaches the other', async () => {
    const { a, b } = await pair();
    const next = structuredClone(demoCatalog);
    next.features.push({ id: 'beta', type: 'BOOLEAN' });
    const { version } = await a.publishCatalog(next);
    await b.syncNow();
    expect(b.catalogVersion).toBe(version);
  });
});
