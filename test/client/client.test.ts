// @tessera/client on its own: the errors it throws without loading the engine, and how they
// meet the engine's (same fields, one brand), against a real sidecar in process (hono's app.request).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, isTesseraError, METHOD_WIRE, TESSERA_ERROR_BRAND, TesseraError, type FetchLike } from '@tessera/client';
import { createEngine, memoryStore, testClock, TesseraError as EngineError, type Engine } from '@tessera/core';
import { createClient as createHttpClient, createSidecar, METHODS } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

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
