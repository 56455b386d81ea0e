/**
 * The sidecar in process, through hono's `app.request()` (no sockets): routing, keys, the error
 * mapping, body limits, the change feed, and the client on top of it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  defineCatalog,
  Engine,
  memoryStore,
  testClock,
  TesseraError,
  type MeteredEntitlement,
  type TesseraErrorCode,
} from '@tessera/core';
import { createClient, createSidecar, HTTP_STATUS, METHODS, NOT_EXPOSED, reviveDates, type FetchLike, type TesseraClient } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { FULL_KEY, READ_KEY, SseReader } from './harness.js';
import { methodsOf } from '../../packages/core/src/engine/method-names.js';

type App = ReturnType<typeof createSidecar>;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const post = (app: App, method: string, body: unknown, headers: Record<string, string> = bearer(FULL_KEY)) =>
  app.request(`/v1/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
const viaApp = (app: App): FetchLike => (input, init) => Promise.resolve(app.request(input, init));

async function expectCode(promise: Promise<unknown>, code: string): Promise<TesseraError> {
  const e = await promise.then(
    () => {
      throw new Error(`expected ${code}, got a result`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TesseraError);
  expect((e as TesseraError).code).toBe(code);
  return e as TesseraError;
}

describe('the method table', () => {
  it('exposes every public engine method except listeners and close', () => {
    const publicMethods = [...methodsOf(Engine.prototype).keys()];
    const unclassified = publicMethods.filter((m) => !(m in METHODS) && !(NOT_EXPOSED as readonly string[]).includes(m));
    expect(unclassified, 'add these engine methods to packages/http/src/methods.ts').toEqual([]);
    for (const name of Object.keys(METHODS)) expect(publicMethods).toContain(name);
  });

  it('opens get*, estimate* and the checks to read-only keys and nothing that writes', () => {
    for (const [name, spec] of Object.entries(METHODS)) {
      const reads = /^(get|estimate)/.test(name) || name === 'syncNow' || name === 'lastChangeSeq';
      expect([name, spec.access]).toEqual([name, reads ? 'read' : 'write']);
    }
  });
});

describe('the sidecar in process', () => {
  let engine: Engine;
  let app: App;
  let internalErrors: unknown[];

  beforeEach(async () => {
    engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-31T09:00:00Z') });
    internalErrors = [];
    app = createSidecar({ engine, fullAccessKeys: [FULL_KEY], readOnlyKeys: [READ_KEY], changePollMs: 20, onInternalError: (e) => internalErrors.push(e) });
  });
  afterEach(async () => {
    await engine.close();
  });

  describe('keys', () => {
    it('answers 401 UNAUTHORIZED without a key or with an unknown one', async () => {
      for (const headers of [{}, bearer('not-a-key-but-long-enough'), bearer(FULL_KEY.slice(0, -1)), bearer(`${FULL_KEY}x`), { authorization: FULL_KEY }]) {
        const res = await post(app, 'getProducts', {}, headers);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect((await errorOf(res)).code).toBe('UNAUTHORIZED');
      }
    });

    it('takes the key as a bearer token or in x-api-key', async () => {
      expect((await post(app, 'getProducts', {}, { authorization: `bearer ${READ_KEY}` })).status).toBe(200);
      expect((await post(app, 'getProducts', {}, { 'x-api-key': READ_KEY })).status).toBe(200);
    });

    it('lets a read-only key read and answers 403 UNAUTHORIZED when it writes', async () => {
      await post(app, 'provisionCustomer', { customerId: 'acme' });
      expect((await post(app, 'getCustomer', { customerId: 'acme' }, bearer(READ_KEY))).status).toBe(200);
      expect((await post(app, 'getEntitlement', { customerId: 'acme', featureId: 'sso' }, bearer(READ_KEY))).status).toBe(200);
      const res = await post(app, 'reportUsage', { customerId: 'acme', featureId: 'api-calls', value: 1 }, bearer(READ_KEY));
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toMatchObject({ code: 'UNAUTHORIZED', details: { method: 'reportUsage' } });
      const check = (await (await post(app, 'getMeteredEntitlement', { customerId: 'acme', featureId: 'api-calls' })).json()) as MeteredEntitlement;
      expect(check.currentUsage).toBe(0); // the refused write wrote nothing
    });

    it('refuses to run without keys, with short keys or with a key in both lists', () => {
      expect(() => createSidecar({ engine })).toThrow(/at least one API key/);
      expect(() => createSidecar({ engine, fullAccessKeys: ['short'] })).toThrow(TesseraError);
      expect(() => createSidecar({ engine, fullAccessKeys: [FULL_KEY], readOnlyKeys: [FULL_KEY] })).toThrow(/twice/);
    });

    it('answers /health without a key', async () => {
      await post(app, 'provisionCustomer', { customerId: 'acme' });
      const res = await app.request('/health');
      expect(res.status).toBe(200);
      const seq = (await engine.getChanges({ limit: 10_000 })).at(-1)!.seq;
      expect(await res.json()).toEqual({ ok: true, lastChangeSeq: seq, catalogVersion: 1 });
    });
  });

  describe('errors', () => {
    it('answers a failed checkout 502 PAYMENT_PROVIDER_FAILED without the provider\'s message, and retryCheckout completes it', async () => {
      let fail = true;
      const paid = await createEngine({
        store: memoryStore(),
        catalog: demoCatalog,
        clock: testClock('2024-01-31T09:00:00Z'),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        paymentProvider: {
          createCheckout: ({ subscriptionId }) => {
            if (fail) throw new Error('card service at /srv/secret/path failed');
            return { checkoutUrl: `https://pay.test/${subscriptionId}` };
          },
        },
      });
      try {
        const paidApp = createSidecar({ engine: paid, fullAccessKeys: [FULL_KEY] });
        await post(paidApp, 'provisionCustomer', { customerId: 'c1' });
        const res = await post(paidApp, 'provisionSubscription', { customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
        expect(res.status).toBe(502);
        const text = await res.text();
        expect(text).not.toContain('/srv/secret');
        const body = JSON.parse(text) as { error: { code: string; details: { subscriptionId: string; retryable: boolean } } };
        expect(body.error).toMatchObject({ code: 'PAYMENT_PROVIDER_FAILED', details: { retryable: true } });
        fail = false;
        const client = createClient({ url: 'http://sidecar.test', apiKey: FULL_KEY, fetch: viaApp(paidApp) });
        const subscriptionId = body.error.details.subscriptionId;
        expect(await client.retryCheckout({ subscriptionId })).toEqual({ subscriptionId, checkoutUrl: `https://pay.test/${subscriptionId}` });
      } finally {
        await paid.close();
      }
    });

    it('maps each error code to its status with { error: { code, message, details } }', async () => {
      let next: TesseraError = new TesseraError('INVALID_ARGUMENT', 'x');
      const stub = {
        getChanges: async () => [],
        on: () => stub,
        off: () => stub,
        catalogVersion: 1,
        getCustomer: async () => {
          throw next;
        },
      } as unknown as Engine;
      const stubApp = createSidecar({ engine: stub, fullAccessKeys: [FULL_KEY] });
      const expected: Partial<Record<TesseraErrorCode, number>> = {
        INVALID_ARGUMENT: 400,
        BILLING_PERIOD_REQUIRED: 400,
        ADDON_NOT_COMPATIBLE: 400,
        ADDON_QUANTITY_EXCEEDED: 400,
        PROMOTION_CODE_INVALID: 400,
        CUSTOMER_NOT_FOUND: 404,
        PLAN_NOT_FOUND: 404,
        ADDON_NOT_FOUND: 404,
        SUBSCRIPTION_NOT_FOUND: 404,
        RESERVATION_NOT_FOUND: 404,
        ENTITY_NOT_FOUND: 404,
        CONFLICT: 409,
        CUSTOMER_ID_ARCHIVED: 409,
        USAGE_LIMIT_EXCEEDED: 422,
        STORE_UNAVAILABLE: 503,
        PAYMENT_PROVIDER_FAILED: 502,
        STORE_CORRUPT: 500,
        UNAUTHORIZED: 401,
      };
      for (const [code, status] of Object.entries(HTTP_STATUS)) {
        if (expected[code as TesseraErrorCode] !== undefined) expect([code, status]).toEqual([code, expected[code as TesseraErrorCode]]);
        next = new TesseraError(code as TesseraErrorCode, `${code} happened`, { field: 'customerId', value: 'c1' });
        const res = await post(stubApp, 'getCustomer', { customerId: 'c1' });
        expect([code, res.status]).toEqual([code, status]);
        const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
        // PAYMENT_PROVIDER_FAILED's message and details are the engine's own (the provider's error is its cause only).
        if (status < 500 || code === 'PAYMENT_PROVIDER_FAILED') expect(body).toEqual({ error: { code, message: `${code} happened`, details: { field: 'customerId', value: 'c1' } } });
        // A 5xx may come from a broken store: its message and details stay in the log (observability.test.ts).
        else expect([body.error.code, body.error.message.includes('happened'), body.error.details]).toEqual([code, false, {}]);
      }
    });

    it('carries the engine errors: CUSTOMER_NOT_FOUND 404, BILLING_PERIOD_REQUIRED 400, USAGE_LIMIT_EXCEEDED 422, CUSTOMER_ID_ARCHIVED 409', async () => {
      let res = await post(app, 'getCustomer', { customerId: 'ghost' });
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: 'CUSTOMER_NOT_FOUND', details: { field: 'customerId' } });
      await post(app, 'provisionCustomer', { customerId: 'acme' });
      res = await post(app, 'provisionSubscription', { customerId: 'acme', planId: 'basic' });
      expect([res.status, (await errorOf(res)).code]).toEqual([400, 'BILLING_PERIOD_REQUIRED']);
      res = await post(app, 'consumeUsage', { customerId: 'acme', featureId: 'api-calls', amount: 101, overage: 'REJECT' });
      expect([res.status, (await errorOf(res)).code]).toEqual([422, 'USAGE_LIMIT_EXCEEDED']);
      expect((await post(app, 'archiveCustomer', { customerId: 'acme' })).status).toBe(200);
      res = await post(app, 'provisionCustomer', { customerId: 'acme' });
      expect([res.status, (await errorOf(res)).code]).toEqual([409, 'CUSTOMER_ID_ARCHIVED']);
    });

    it('answers 500 INTERNAL without a stack for anything that is no TesseraError', async () => {
      const stub = { getChanges: async () => [], on() {}, off() {}, getProducts: async () => { throw new Error('boom at /secret/path.ts:12'); } } as unknown as Engine;
      const stubApp = createSidecar({ engine: stub, fullAccessKeys: [FULL_KEY], onInternalError: (e) => internalErrors.push(e) });
      const res = await post(stubApp, 'getProducts', {});
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe('INTERNAL');
      expect(text).not.toMatch(/boom|secret|\bat\b.*\.ts/);
      expect(internalErrors).toHaveLength(1);
    });

    it('answers 400 INVALID_ARGUMENT to malformed JSON and wrong body shapes', async () => {
      let res = await post(app, 'getCustomer', '{"customerId": ');
      expect([res.status, (await errorOf(res)).code]).toEqual([400, 'INVALID_ARGUMENT']);
      res = await post(app, 'getCustomer', { customerId: 'acme', extra: 1 });
      expect(await errorOf(res)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'extra' } });
      res = await post(app, 'getCustomer', ['acme']);
      expect(res.status).toBe(400);
      res = await post(app, 'getEntitlement', { featureId: 'sso' });
      expect(await errorOf(res)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: expect.stringMatching(/customerId$/) } });
    });

    it('answers 413 to a body over maxBodyBytes (1 MiB by default), declared or streamed', async () => {
      const big = JSON.stringify({ customerId: 'acme', metadata: { blob: 'x'.repeat(1024 * 1024) } });
      let res = await post(app, 'provisionCustomer', big);
      expect(res.status).toBe(413);
      expect(await errorOf(res)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'body', maxBytes: 1024 * 1024 } });
      const small = createSidecar({ engine, fullAccessKeys: [FULL_KEY], maxBodyBytes: 100 });
      const chunks = [new TextEncoder().encode('{"customerId":"'), new TextEncoder().encode('a'.repeat(200)), new TextEncoder().encode('"}')];
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const c = chunks.shift();
          if (c) controller.enqueue(c);
          else controller.close();
        },
      });
      res = await small.request('/v1/getCustomer', { method: 'POST', headers: bearer(FULL_KEY), body: stream, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
      expect((await post(small, 'getCustomer', { customerId: 'ghost' })).status).toBe(404); // under the limit
    });

    it('answers 404 to unknown methods and paths and 405 to a method called with GET', async () => {
      for (const m of ['noSuchMethod', 'close', 'addListener', 'constructor', '__proto__', 'toString', 'catalogVersion']) {
        const res = await post(app, m, {});
        expect([m, res.status]).toEqual([m, 404]);
        expect((await errorOf(res)).code).toBe('INVALID_ARGUMENT');
      }
      expect((await app.request('/elsewhere')).status).toBe(404);
      const res = await app.request('/v1/getProducts', { headers: bearer(FULL_KEY) });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    });
  });

  describe('methods', () => {
    it('answers 200 with the engine result as JSON, instants as ISO strings', async () => {
      const res = await post(app, 'provisionCustomer', { customerId: 'acme', name: 'Acme' });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { customer: { createdAt: string }; subscription: { planId: string } };
      expect(body.customer.createdAt).toBe('2024-01-31T09:00:00.000Z');
      expect(body.subscription.planId).toBe('free');
      expect(await (await post(app, 'getProducts', {})).json()).toEqual(JSON.parse(JSON.stringify(await engine.getProducts())));
      expect(await (await post(app, 'getProducts', '')).json()).toHaveLength(1); // no body is {}
      expect(await (await post(app, 'archiveCustomer', { customerId: 'acme' })).json()).toBeNull();
    });

    it('takes reportEvent as one event or an array, as the engine does', async () => {
      await post(app, 'provisionCustomer', { customerId: 'acme' });
      const event = { customerId: 'acme', eventName: 'unmetered', idempotencyKey: 'e1' };
      expect((await post(app, 'reportEvent', event)).status).toBe(200);
      expect((await post(app, 'reportEvent', [{ ...event, idempotencyKey: 'e2' }])).status).toBe(200);
    });
  });

  describe('the client', () => {
    let full: TesseraClient;
    let read: TesseraClient;
    beforeEach(() => {
      full = createClient({ url: 'http://sidecar.test', apiKey: FULL_KEY, fetch: viaApp(app) });
      read = createClient({ url: 'http://sidecar.test/', apiKey: READ_KEY, fetch: viaApp(app) });
    });

    it('has the engine method names and returns what the engine returns, Dates included', async () => {
      const { customer, subscription } = await full.provisionCustomer({ customerId: 'acme', name: 'Acme', metadata: { createdAt: '2020-01-01T00:00:00.000Z' } });
      expect(customer.createdAt).toEqual(new Date('2024-01-31T09:00:00Z'));
      expect(customer.metadata.createdAt).toBe('2020-01-01T00:00:00.000Z'); // metadata is the caller's: never revived
      expect(subscription!.startDate).toBeInstanceOf(Date);
      await full.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 7, idempotencyKey: 'r1' });
      for (const featureId of ['api-calls', 'seats', 'sso', 'projects', 'export', 'nope']) {
        expect(await read.getEntitlement({ customerId: 'acme', featureId })).toEqual(await engine.getEntitlement({ customerId: 'acme', featureId }));
      }
      const metered = (await read.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })) as MeteredEntitlement;
      expect(metered.usagePeriodStart).toEqual(new Date('2024-01-31T09:00:00Z'));
      expect(await read.getCustomer('acme')).toEqual(await engine.getCustomer('acme'));
      expect(await read.getEntitlements('acme')).toEqual(await engine.getEntitlements('acme'));
      expect(await read.getActiveSubscriptions({ customerId: 'acme' })).toEqual(await engine.getActiveSubscriptions({ customerId: 'acme' }));
      expect(await full.archiveCustomer('acme')).toBeUndefined();
      await expectCode(read.getCustomer('acme'), 'CUSTOMER_NOT_FOUND');
    });

    it('passes `at` (a Date) for a check as of a past instant, answered as the engine answers it', async () => {
      await full.provisionCustomer({ customerId: 'acme' });
      await full.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 7 });
      const asOf = { customerId: 'acme', featureId: 'api-calls', at: new Date('2024-01-31T09:00:00Z') };
      const then = await read.getMeteredEntitlement(asOf);
      expect(then).toEqual(await engine.getMeteredEntitlement(asOf));
      expect(then.currentUsage).toBe(7);
      expect(await read.getEntitlements({ customerId: 'acme', at: asOf.at })).toEqual(await engine.getEntitlements({ customerId: 'acme', at: asOf.at }));
      await expectCode(read.getEntitlement({ ...asOf, at: new Date('2099-01-01T00:00:00Z') }), 'INVALID_ARGUMENT');
    });

    it('publishes a defineCatalog() result', async () => {
      const next = defineCatalog({ ...demoCatalog, features: [...demoCatalog.features, { id: 'audit', displayName: 'Audit log', type: 'BOOLEAN' }] });
      expect(await full.publishCatalog(next)).toEqual({ version: 2, changed: true });
      expect(engine.catalogVersion).toBe(2);
    });

    it("throws TesseraError with the server's code, message and details", async () => {
      const e = await expectCode(read.getCustomer('ghost'), 'CUSTOMER_NOT_FOUND');
      expect(e.details).toMatchObject({ field: 'customerId' });
      await expectCode(read.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 }), 'UNAUTHORIZED');
      await expectCode(createClient({ url: 'http://sidecar.test', apiKey: 'wrong-key-wrong-key-wrong', fetch: viaApp(app) }).getProducts(), 'UNAUTHORIZED');
    });

    it('throws OFFLINE when the sidecar cannot be reached or does not answer in time, STORE_UNAVAILABLE on 503', async () => {
      const refused: FetchLike = () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
      const e = await expectCode(createClient({ url: 'http://127.0.0.1:9', apiKey: FULL_KEY, fetch: refused }).getProducts(), 'OFFLINE');
      expect(e.message).toMatch(/ECONNREFUSED/);
      const hangs: FetchLike = (_input, init) => new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
      const slow = createClient({ url: 'http://sidecar.test', apiKey: FULL_KEY, fetch: hangs, timeoutMs: 30 });
      expect((await expectCode(slow.getProducts(), 'OFFLINE')).message).toMatch(/no answer within 30 ms/);
      const proxy: FetchLike = async () => new Response('<html>Service Unavailable</html>', { status: 503 });
      await expectCode(createClient({ url: 'http://sidecar.test', apiKey: FULL_KEY, fetch: proxy }).getProducts(), 'STORE_UNAVAILABLE');
    });

    it('reads the change feed and the health', async () => {
      const h = await read.health();
      await full.provisionCustomer({ customerId: 'acme' });
      const page = await read.changes({ after: h.lastChangeSeq });
      expect(page.changes.length).toBeGreaterThan(0);
      expect(page.nextAfter).toBe(page.changes.at(-1)!.seq);
      expect((await read.health()).lastChangeSeq).toBe(page.nextAfter);
      expect(await read.changes({ after: page.nextAfter })).toEqual({ changes: [], nextAfter: page.nextAfter });
    });
  });

  describe('the change feed', () => {
    it('long-polls: answers as soon as a change after `after` commits', async () => {
      const head = (await (await app.request('/health')).json()) as { lastChangeSeq: number };
      const started = Date.now();
      const polled = app.request(`/v1/changes?after=${head.lastChangeSeq}&wait=10000`, { headers: bearer(READ_KEY) });
      setTimeout(() => void engine.provisionCustomer({ customerId: 'acme' }), 50);
      const res = await polled;
      const body = (await res.json()) as { changes: { seq: number; customerId: string | null }[]; nextAfter: number };
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(body.changes.length).toBeGreaterThan(0);
      expect(body.changes.every((c) => c.seq > head.lastChangeSeq)).toBe(true);
      expect(body.changes.some((c) => c.customerId === 'acme')).toBe(true);
    });

    it('wakes a long poll on an entity created or deleted, which changes no usage, without waiting for the poll of other processes', async () => {
      // A poll interval far past the wait: only the engine's own events can answer in time.
      const slow = createSidecar({ engine, fullAccessKeys: [FULL_KEY], readOnlyKeys: [READ_KEY], changePollMs: 60_000 });
      await engine.provisionCustomer({ customerId: 'acme' });
      for (const write of [
        () => engine.createEntity({ customerId: 'acme', entityId: 'bot' }),
        () => engine.deleteEntity({ customerId: 'acme', entityId: 'bot' }),
      ]) {
        const head = (await (await slow.request('/health')).json()) as { lastChangeSeq: number };
        const polled = slow.request(`/v1/changes?after=${head.lastChangeSeq}&wait=20000`, { headers: bearer(READ_KEY) });
        setTimeout(() => void write(), 50);
        const body = (await (await polled).json()) as { changes: { kind: string; entityId: string | null }[] };
        expect(body.changes.map((c) => [c.kind, c.entityId])).toEqual([['entity.updated', 'bot']]);
      }
    });

    it('answers an empty page after `wait` ms and refuses bad numbers', async () => {
      const started = Date.now();
      const res = await app.request('/v1/changes?after=999&wait=150', { headers: bearer(READ_KEY) });
      expect(await res.json()).toEqual({ changes: [], nextAfter: 999 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      for (const q of ['after=-1', 'after=abc', 'wait=1.5', 'limit=x']) {
        const bad = await app.request(`/v1/changes?${q}`, { headers: bearer(READ_KEY) });
        expect([q, bad.status]).toEqual([q, 400]);
      }
      expect((await app.request('/v1/changes')).status).toBe(401);
    });

    it('streams changes as server-sent events and resumes from Last-Event-ID', async () => {
      await engine.provisionCustomer({ customerId: 'a' });
      const all = await engine.getChanges({ limit: 10_000 });
      const res = await app.request('/v1/changes/stream?after=0', { headers: bearer(READ_KEY) });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const sse = new SseReader(res.body!);
      for (const change of all) {
        const ev = await sse.next();
        expect(ev.id).toBe(String(change.seq));
        expect(JSON.parse(ev.data)).toEqual(change);
      }
      await engine.provisionCustomer({ customerId: 'b' });
      const live = await sse.next();
      expect(Number(live.id)).toBeGreaterThan(all.at(-1)!.seq);
      expect(JSON.parse(live.data).customerId).toBe('b');
      await sse.close();

      // A reconnecting EventSource sends the URL it first used (after=0) and the last id it saw.
      const resumed = await app.request('/v1/changes/stream?after=0', { headers: { ...bearer(READ_KEY), 'last-event-id': live.id! } });
      const again = new SseReader(resumed.body!);
      for (const change of await engine.getChanges({ after: Number(live.id) })) expect((await again.next()).id).toBe(String(change.seq));
      await engine.provisionCustomer({ customerId: 'c' });
      const next = await again.next();
      expect(Number(next.id)).toBeGreaterThan(Number(live.id));
      expect(JSON.parse(next.data).customerId).toBe('c');
      await again.close();
    });
  });
});

describe('reviveDates', () => {
  it('revives ISO instants under known date fields only', () => {
    const v = reviveDates({
      startDate: '2024-01-31T00:00:00.000Z',
      at: 1706659200000,
      name: '2024-01-31T00:00:00.000Z',
      endDate: null,
      lines: [{ periodStart: '2024-02-01T00:00:00.000Z' }],
      metadata: { startDate: '2024-01-31T00:00:00.000Z' },
      payload: { at: '2024-01-31T00:00:00.000Z' },
    });
    expect(v).toEqual({
      startDate: new Date('2024-01-31T00:00:00Z'),
      at: 1706659200000,
      name: '2024-01-31T00:00:00.000Z',
      endDate: null,
      lines: [{ periodStart: new Date('2024-02-01T00:00:00Z') }],
      metadata: { startDate: '2024-01-31T00:00:00.000Z' },
      payload: { at: '2024-01-31T00:00:00.000Z' },
    });
  });
});
