// @tessera/client on its own: the errors it throws without loading the engine, and how they
// meet the engine's (same fields, one brand), against a real sidecar in process (hono's app.request).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, isTesseraError, METHOD_WIRE, TESSERA_ERROR_BRAND, TesseraError, type FetchLike } from '@tessera/client';
import { createEngine, memoryStore, testClock, TesseraError as EngineError, type Engine } from '@tessera/core';
import { createClient as createHttpClient, createSidecar, METHODS } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { entitiesCatalog } from '../engine/entities-catalog.js';

const KEY = 'client-test-key-0123456789abcdef';
let engine: Engine;
let fetchApp: FetchLike;

beforeAll(async () => {
  engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-31T09:00:00Z') });
  const app = createSidecar({ engine, fullAccessKeys: [KEY] });
  fetchApp = (input, init) => Promise.resolve(app.request(input, init));
});
afterAll(() => engine.close());

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('@tessera/client errors', () => {
  it("are the client's TesseraError with the server's code, message and details, recognised by the brand", async () => {
    const client = createClient({ url: 'http://sidecar', apiKey: KEY, fetch: fetchApp });
    const e = await thrown(client.getCustomer('nobody'));
    expect(e).toBeInstanceOf(TesseraError);
    expect(isTesseraError(e, 'CUSTOMER_NOT_FOUND')).toBe(true);
    expect(isTesseraError(e, 'OFFLINE')).toBe(false);
    expect((e as Record<symbol, unknown>)[Symbol.for('tessera.error')]).toBe(true);
    expect(TESSERA_ERROR_BRAND).toBe(Symbol.for('tessera.error'));
    const engineSide = await thrown(engine.getCustomer('nobody'));
    expect((e as TesseraError).toJSON()).toEqual((engineSide as EngineError).toJSON());
    // The brand is on the prototype: an error's own keys and JSON stay the engine's.
    expect(Object.getOwnPropertySymbols(e)).toEqual([]);
    expect(JSON.parse(JSON.stringify(e))).toEqual((engineSide as EngineError).toJSON());
  });

  it('are OFFLINE when the sidecar cannot be reached, and INVALID_ARGUMENT for bad options', async () => {
    const offline = await thrown(createClient({ url: 'http://127.0.0.1:1', apiKey: KEY, timeoutMs: 2_000 }).health());
    expect(isTesseraError(offline, 'OFFLINE')).toBe(true);
    expect(() => createClient({ url: 'ftp://x', apiKey: KEY })).toThrow(TesseraError);
    expect(isTesseraError(new Error('not ours'))).toBe(false);
    expect(isTesseraError({ code: 'OFFLINE' })).toBe(false);
  });

  it("@tessera/http's createClient throws the engine's TesseraError instead (instanceof works on a server)", async () => {
    const client = createHttpClient({ url: 'http://sidecar', apiKey: KEY, fetch: fetchApp });
    const e = await thrown(client.getCustomer('nobody'));
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('CUSTOMER_NOT_FOUND');
    const { customer } = await client.provisionCustomer({ customerId: 'c1' });
    expect((await client.getCustomer(customer.customerId)).createdAt).toBeInstanceOf(Date);
    expect(() => createHttpClient({ url: 'nope', apiKey: KEY })).toThrow(EngineError);
  });

  it("the wire table and the sidecar's method table name the same methods", () => {
    expect(Object.keys(METHOD_WIRE).sort()).toEqual(Object.keys(METHODS).sort());
  });
});

describe('@tessera/client and entities (docs/entities.md)', () => {
  it('creates, pages and deletes entities and consumes for one, with Dates revived and the entity and pooled figures the engine gives', async () => {
    // 2 seats; each seat 100 AI messages a month, 150 pooled.
    const own = await createEngine({ store: memoryStore(), catalog: entitiesCatalog({ seats: 2, pooled: 150, perSeat: 100 }), clock: testClock('2024-01-31T09:00:00Z') });
    const app = createSidecar({ engine: own, fullAccessKeys: [KEY] });
    const client = createClient({ url: 'http://sidecar', apiKey: KEY, fetch: (input, init) => Promise.resolve(app.request(input, init)) });
    try {
      await client.provisionCustomer({ customerId: 'acme' });
      const ann = await client.createEntity({ customerId: 'acme', entityId: 'ann', featureId: 'seats', name: 'Ann', metadata: { team: 'core' } });
      expect(ann).toMatchObject({ entityId: 'ann', featureId: 'seats', name: 'Ann', deletedAt: null });
      expect(ann.createdAt).toBeInstanceOf(Date);
      await client.createEntity({ customerId: 'acme', entityId: 'bob', featureId: 'seats' });
      const third = await thrown(client.createEntity({ customerId: 'acme', entityId: 'cy', featureId: 'seats' }));
      expect(isTesseraError(third, 'USAGE_LIMIT_EXCEEDED')).toBe(true);
      expect((third as TesseraError).details.reason).toBe('RequestedUsageExceedingLimit');

      const first = await client.getEntities({ customerId: 'acme', limit: 1 });
      expect(first.data.map((e) => e.entityId)).toEqual(['ann']);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const rest = await client.getEntities({ customerId: 'acme', cursor: first.pageInfo.endCursor! });
      expect(rest.data.map((e) => e.entityId)).toEqual(['bob']);

      const used = await client.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ann', amount: 90 });
      expect([used.entity, used.pooled]).toEqual([{ entityId: 'ann', currentUsage: 90, usageLimit: 100, remaining: 10 }, { currentUsage: 90, usageLimit: 150, remaining: 60 }]);
      // Bob's own limit is 100, the pool has 60 left: CAP grants what fits both.
      expect((await client.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'bob', amount: 80, overage: 'CAP' })).granted).toBe(60);
      expect(isTesseraError(await thrown(client.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ann', amount: 1 })), 'USAGE_LIMIT_EXCEEDED')).toBe(true);
      expect(isTesseraError(await thrown(client.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ghost', amount: 1 })), 'ENTITY_NOT_FOUND')).toBe(true);
      const check = await client.getMeteredEntitlement({ customerId: 'acme', featureId: 'ai-messages', entityId: 'bob', options: { requestedUsage: 1 } });
      expect([check.hasAccess, check.currentUsage, check.pooled]).toEqual([false, 60, { usageLimit: 150, currentUsage: 150, isUnlimited: false }]);
      expect(check.usagePeriodStart).toBeInstanceOf(Date);

      const deleted = await client.deleteEntity({ customerId: 'acme', entityId: 'ann' });
      expect(deleted.deletedAt).toBeInstanceOf(Date);
      // What the client revives equals what the engine returns, Dates included.
      expect(await client.getEntities({ customerId: 'acme', includeDeleted: true })).toEqual(await own.getEntities({ customerId: 'acme', includeDeleted: true }));
      expect(await client.getUsageHistory({ customerId: 'acme', featureId: 'ai-messages', groupByEntity: true, start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-03-01T00:00:00Z') })).toEqual(
        await own.getUsageHistory({ customerId: 'acme', featureId: 'ai-messages', groupByEntity: true, start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-03-01T00:00:00Z') }),
      );
    } finally {
      await own.close();
    }
  });
});
