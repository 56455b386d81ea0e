import { createEngine, isTesseraError, memoryStore, TesseraError, testClock, type Store } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from './stores.js';

describe('offline mode', () => {
  const fallback = {
    sso: { hasAccess: true },
    'api-calls': { hasAccess: true, usageLimit: 100 },
    projects: { hasAccess: true, value: 5 },
  };

  it('answers checks from fallback values with isFallback, with no store', async () => {
    const engine = await createEngine({ offline: true, fallback, catalog: demoCatalog });
    const sso = await engine.getBooleanEntitlement({ customerId: 'anyone', featureId: 'sso' });
    expect(sso).toMatchObject({ type: 'BOOLEAN', hasAccess: true, isFallback: true });
    const calls = await engine.getMeteredEntitlement({ customerId: 'anyone', featureId: 'api-calls', options: { requestedUsage: 101 } });
    expect(calls).toMatchObject({ type: 'METERED', hasAccess: false, usageLimit: 100, accessDeniedReason: 'RequestedUsageExceedingLimit', isFallback: true });
    const projects = await engine.getNumericEntitlement({ customerId: 'anyone', featureId: 'projects' });
    expect(projects).toMatchObject({ type: 'NUMERIC', value: 5, isFallback: true });
    const unknown = await engine.getEntitlement({ customerId: 'anyone', featureId: 'seats' });
    expect(unknown).toMatchObject({ hasAccess: false, accessDeniedReason: 'Unknown', isFallback: true });
    // A typed check without a fallback value still answers its own shape.
    const seats = await engine.getMeteredEntitlement({ customerId: 'anyone', featureId: 'seats' });
    expect(seats).toMatchObject({ type: 'METERED', hasAccess: false, accessDeniedReason: 'Unknown', usageLimit: null, currentUsage: 0, isFallback: true });
    const plain = await createEngine({ offline: true, fallback });
    expect(await plain.getEnumEntitlement({ customerId: 'anyone', featureId: 'seats' })).toMatchObject({ type: 'ENUM', hasAccess: false, enumValues: [] });
  });

  it('rejects every write and read of state with OFFLINE', async () => {
    const engine = await createEngine({ offline: true, fallback });
    await expect(engine.provisionCustomer({ customerId: 'c1' })).rejects.toSatisfy((e) => isTesseraError(e, 'OFFLINE'));
    await expect(engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1 })).rejects.toSatisfy((e) => isTesseraError(e, 'OFFLINE'));
    await expect(engine.getCustomer('c1')).rejects.toSatisfy((e) => isTesseraError(e, 'OFFLINE'));
  });

  it('refuses a store together with offline: true', async () => {
    await expect(createEngine({ offline: true, store: memoryStore() })).rejects.toSatisfy((e) => isTesseraError(e, 'INVALID_ARGUMENT'));
  });

  it('answers from the fallback when the store becomes unavailable, and says so', async () => {
    const inner = memoryStore();
    let down = false;
    // A store failing with STORE_UNAVAILABLE, as adapters report a dead database.
    const flaky: Store = {
      ...inner,
      kind: 'flaky',
      transaction: (mode, fn) => (down ? Promise.reject(new TesseraError('STORE_UNAVAILABLE', 'down')) : inner.transaction(mode, fn)),
    };
    const engine = await createEngine({ store: flaky, catalog: demoCatalog, clock: testClock(), fallback, followIntervalMs: 0 });
    await engine.provisionCustomer({ customerId: 'c1' });
    const live = await engine.getBooleanEntitlement({ customerId: 'c2', featureId: 'sso' });
    expect(live).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerNotFound', isFallback: false });
    down = true;
    const fromFallback = await engine.getBooleanEntitlement({ customerId: 'c3', featureId: 'sso' });
    expect(fromFallback).toMatchObject({ hasAccess: true, isFallback: true });
  });
});
