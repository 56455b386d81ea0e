/**
 * Rollover through the sidecar and the client (docs/rollovers.md): the result's `rollover` part
 * crosses HTTP as the engine returns it (expiry instants revived as Dates) and matches the OpenAPI
 * document.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, testClock, type CatalogDefinition, type MeteredEntitlement } from '@tessera/core';
import { createClient, createReplica, createSidecar, serveSidecar, type FetchLike, type Replica } from '@tessera/http';
import { FULL_KEY, tempDir } from './harness.js';
import { expectComponent } from './openapi-support.js';

const catalog: CatalogDefinition = {
  features: [{ id: 'api-calls', type: 'METERED' }],
  products: [{ id: 'app', defaultPlanId: 'basic', startWith: 'FREE_PLAN' }],
  plans: [{ id: 'basic', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 50, expiresAfter: 2 } }] }],
};

const tmp = tempDir();
afterAll(() => tmp.remove());
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('rollover through the sidecar', () => {
  let engine: Awaited<ReturnType<typeof createEngine>>;
  const clock = testClock('2024-01-01T00:00:00Z');
  beforeEach(async () => {
    clock.set('2024-01-01T00:00:00Z');
    engine = await createEngine({ store: memoryStore(), catalog, clock });
  });
  afterEach(async () => {
    await engine.close();
  });

  it('the client gets the rollover part of checks and consumptions, as the engine answers', async () => {
    const app = createSidecar({ engine, fullAccessKeys: [FULL_KEY] });
    const fetch: FetchLike = (input, init) => Promise.resolve(app.request(input, init));
    const client = createClient({ url: 'http://sidecar.test', apiKey: FULL_KEY, fetch });
    await client.provisionCustomer({ customerId: 'acme' });
    await client.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 70 }); // 30 carried
    clock.set('2024-02-10T00:00:00Z');
    const consumed = await client.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 10 });
    expect(consumed.rollover).toEqual({ balance: 30, used: 10, remaining: 20, expiries: [{ amount: 20, expiresAt: new Date('2024-04-01T00:00:00Z') }] });
    expectComponent('Consumption', JSON.parse(JSON.stringify(consumed)));
    const viaClient = (await client.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })) as MeteredEntitlement;
    expect(viaClient).toEqual(await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' }));
    expect(viaClient.usageLimit).toBe(130);
    expect(viaClient.rollover!.expiries[0]!.expiresAt).toBeInstanceOf(Date);
    expectComponent('MeteredEntitlement', JSON.parse(JSON.stringify(viaClient)));
  });

  it('a replica answers the rollover from its synced cells, as the sidecar does, and consumes against base + rollover', async () => {
    const store = memoryStore();
    const side = await createEngine({ store, catalog, clock });
    const sidecar = await serveSidecar({ engine: side, store, fullAccessKeys: [FULL_KEY], port: 0, changePollMs: 20 });
    const client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
    let replica: Replica | undefined;
    try {
      await client.provisionCustomer({ customerId: 'acme' });
      await client.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 90 }); // 10 carried
      clock.set('2024-02-03T00:00:00Z');
      replica = await createReplica({ url: sidecar.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'rollover.replica.db'), pollIntervalMs: 500, maxBackoffMs: 50, clock, logger: silent });
      await replica.whenSynced(10_000);
      const local = (await replica.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })) as MeteredEntitlement;
      expect(local).toEqual(await client.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' }));
      expect([local.usageLimit, local.rollover?.balance]).toEqual([110, 10]);
      expect((await replica.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 200, overage: 'CAP' })).granted).toBe(110);
      await replica.drained(10_000);
      expect((await client.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })).currentUsage).toBe(110);
    } finally {
      await replica?.close();
      await sidecar.close();
      await side.close();
    }
  });
});
