import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, testClock, TesseraError, type CatalogDefinition, type Engine, type EngineErrorEvent, type TestClock } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createClient, generateWebhookSecret, httpWebhooks, signWebhook, verifyWebhook } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { FULL_KEY, READ_KEY, runCli, startSidecarProcess, tempDir, type SidecarProcess } from './harness.js';
import { existsSync } from 'node:fs';

// Alert webhooks over real HTTP to a receiver on 127.0.0.1 (docs/alerts.md#webhooks): Standard
// Webhooks signatures, retries after 5xx and timeouts, and a sidecar killed mid-delivery.

const SECRET = generateWebhookSecret();

/** The demo catalog with alerts at 80% and 100% of the free plan's 100 monthly API calls. */
function alertCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  const free = c.plans.find((p) => p.id === 'free')!;
  free.entitlements = free.entitlements!.map((e) => (e.featureId === 'api-calls' ? { ...e, alerts: { usagePercent: [80, 100] } } : e));
  return c;
}

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A webhook receiver on a free loopback port. `answer` decides each request's fate by its index:
 * a status to answer, 'hold' to never answer (the connection stays open until closed), or a delay.
 */
async function receiver(answer: (n: number) => number | 'hold' | { delayMs: number; status: number }) {
  const got: Received[] = [];
  const sockets = new Set<Socket>();
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const n = got.length;
      got.push({ headers: req.headers, body });
      const a = answer(n);
      if (a === 'hold') held.push(res);
      else if (typeof a === 'number') res.writeHead(a).end(a >= 300 ? `failure ${n}` : '');
      else setTimeout(() => !res.destroyed && res.writeHead(a.status).end(), a.delayMs);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    got,
    /** Drops every connection, as a receiver whose peer died would see it. */
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

type Receiver = Awaited<ReturnType<typeof receiver>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An engine whose webhooks go to `url` over HTTP; the signing timestamp comes from `clock`. */
async function engineWithWebhooks(url: string, opts: { clock?: TestClock; timeoutMs?: number } = {}) {
  const clock = opts.clock ?? testClock('2024-01-31T10:00:00Z');
  const engine = await createEngine({
    store: memoryStore(),
    catalog: alertCatalog(),
    clock,
    webhooks: { transport: httpWebhooks({ endpoints: [url], secret: SECRET, timeoutMs: opts.timeoutMs ?? 2_000, now: () => clock.nowMs() }), initialBackoffMs: 1_000, pollMs: 0 },
  });
  const errors: EngineErrorEvent[] = [];
  engine.on('error', (e) => errors.push(e));
  cleanups.push(() => engine.close());
  return { engine, clock, errors };
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Retries what is due until the delivery settles (each tick makes one attempt per due delivery). */
async function deliveryOf(engine: Engine) {
  return (await engine.getWebhookDeliveries()).data[0]!;
}

describe('signatures', () => {
  it('verifies a signature made with the secret and refuses a changed body, a wrong secret or an old timestamp', () => {
    const body = JSON.stringify({ type: 'usage.threshold_reached', data: { threshold: 80 } });
    const ts = 1_700_000_000;
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, 'evt_1', ts, body) };
    const now = ts * 1000;
    expect(verifyWebhook(SECRET, headers, body, { now })).toEqual(JSON.parse(body));
    expect(verifyWebhook(SECRET, new Headers(headers), Buffer.from(body), { now })).toEqual(JSON.parse(body));
    const code = (f: () => unknown) => {
      try {
        f();
        return 'accepted';
      } catch (e) {
        return (e as TesseraError).code;
      }
    };
    expect(code(() => verifyWebhook(SECRET, headers, body.replace('80', '81'), { now }))).toBe('UNAUTHORIZED');
    expect(code(() => verifyWebhook(generateWebhookSecret(), headers, body, { now }))).toBe('UNAUTHORIZED');
    expect(code(() => verifyWebhook(SECRET, headers, body, { now: now + 301_000 }))).toBe('UNAUTHORIZED');
    expect(code(() => verifyWebhook(SECRET, { ...headers, 'webhook-signature': undefined }, body, { now }))).toBe('UNAUTHORIZED');
    // A rotation sends several signatures: any v1 that matches will do.
    expect(code(() => verifyWebhook(SECRET, { ...headers, 'webhook-signature': `v1,bm9wZQ== ${headers['webhook-signature']}` }, body, { now }))).toBe('accepted');
    expect(code(() => verifyWebhook('not-a-secret', headers, body, { now }))).toBe('INVALID_ARGUMENT');
  });

  it('signs as the Standard Webhooks scheme says: base64 HMAC-SHA256 of "id.timestamp.body" with the decoded secret', async () => {
    const { createHmac } = await import('node:crypto');
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update('msg_1.1614265330.{"test": 2432232314}').digest('base64');
    expect(signWebhook(SECRET, 'msg_1', 1614265330, '{"test": 2432232314}')).toBe(`v1,${expected}`);
  });

  it('refuses endpoints that are not http(s) URLs and a missing secret', () => {
    expect(() => httpWebhooks({ endpoints: ['ftp://x.example/'], secret: SECRET })).toThrow(TesseraError);
    expect(() => httpWebhooks({ endpoints: ['http://127.0.0.1:1/a'] })).toThrow(/secret/);
    expect(() => httpWebhooks({ endpoints: ['http://127.0.0.1:1/a', 'http://127.0.0.1:1/a'], secret: SECRET })).toThrow(/twice/);
  });
});

describe('delivery to a receiver on 127.0.0.1', () => {
  it('posts the event with headers the receiver verifies with verifyWebhook', async () => {
    const r = await receiver(() => 204);
    cleanups.push(r.close);
    const { engine, clock } = await engineWithWebhooks(r.url);
    const events: string[] = [];
    engine.on('usageThresholdReached', (e) => events.push(e.id));
    await engine.provisionCustomer({ customerId: 'c1' });
    await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 85 });
    await waitFor(async () => (await deliveryOf(engine)).status === 'DELIVERED');
    expect(r.got).toHaveLength(1);
    const { headers, body } = r.got[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['webhook-id']).toBe(events[0]);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(clock.nowMs() / 1000)));
    const payload = verifyWebhook<{ type: string; data: Record<string, unknown> }>(SECRET, headers as Record<string, string>, body, { now: clock.nowMs() });
    expect(payload.type).toBe('usage.threshold_reached');
    expect(payload.data).toMatchObject({ id: events[0], customerId: 'c1', featureId: 'api-calls', threshold: 80, usageLimit: 100, currentUsage: 85, resourceId: null });
    expect(Date.parse(payload.data.windowStart as string)).toBeLessThanOrEqual(clock.nowMs());
    expect(Date.parse(payload.data.windowEnd as string)).toBeGreaterThan(clock.nowMs());
  });

  it('retries after 5xx answers with backoff, with the same webhook-id, until the receiver recovers', async () => {
    // Two failures, then 200.
    const r = await receiver((n) => (n < 2 ? 503 : 200));
    cleanups.push(r.close);
    const { engine, clock, errors } = await engineWithWebhooks(r.url);
    await engine.provisionCustomer({ customerId: 'c1' });
    await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 80 });
    await waitFor(async () => (await deliveryOf(engine)).lastError !== null);
    expect(await deliveryOf(engine)).toMatchObject({ status: 'PENDING', attempts: 1, lastError: `HTTP 503 from ${r.url}: failure 0` });
    // Not due before the backoff (at least 500 ms of the initial 1,000) ran out.
    await engine.tick();
    expect(r.got).toHaveLength(1);
    clock.advance(1_000);
    await engine.tick();
    expect(await deliveryOf(engine)).toMatchObject({ status: 'PENDING', attempts: 2 });
    clock.advance(2_000);
    await engine.tick();
    expect(await deliveryOf(engine)).toMatchObject({ status: 'DELIVERED', attempts: 3, lastError: null });
    expect(new Set(r.got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    expect(r.got.map((g) => g.body)).toEqual([r.got[0]!.body, r.got[0]!.body, r.got[0]!.body]);
    expect(errors.map((e) => e.source)).toEqual(['webhook', 'webhook']);
  });

  it('counts a receiver slower than the timeout as a failure and delivers on the retry', async () => {
    const r = await receiver((n) => (n === 0 ? { delayMs: 2_000, status: 200 } : 200));
    cleanups.push(r.close);
    const { engine, clock, errors } = await engineWithWebhooks(r.url, { timeoutMs: 200 });
    await engine.provisionCustomer({ customerId: 'c1' });
    await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 80 });
    await waitFor(async () => (await deliveryOf(engine)).lastError !== null);
    expect((await deliveryOf(engine)).lastError).toBe(`no answer from ${r.url} within 200 ms`);
    clock.advance(1_000);
    await engine.tick();
    expect(await deliveryOf(engine)).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    expect(r.got).toHaveLength(2);
    expect(errors).toHaveLength(1);
  });
});

describe('tessera serve --webhook-url', () => {
  it('refuses webhooks without a secret, with a malformed one or a URL that is not http(s), before opening the database', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const db = (n: number) => join(dir.dir, `never-${n}.db`);
    const keys = { TESSERA_FULL_ACCESS_KEYS: FULL_KEY };
    const [noSecret, badSecret, badUrl] = await Promise.all([
      runCli(['serve', '--db', db(1), '--webhook-url', 'http://127.0.0.1:9/hooks'], keys),
      runCli(['serve', '--db', db(2), '--webhook-url', 'http://127.0.0.1:9/hooks'], { ...keys, TESSERA_WEBHOOK_SECRET: 'hunter2' }),
      runCli(['serve', '--db', db(3)], { ...keys, TESSERA_WEBHOOK_SECRET: SECRET, TESSERA_WEBHOOK_URLS: 'http://127.0.0.1:9/a, ftp://x.example/b' }),
    ]);
    expect([noSecret.code, noSecret.stderr]).toEqual([2, expect.stringMatching(/^tessera: --webhook-url: webhooks need TESSERA_WEBHOOK_SECRET/)]);
    expect([badSecret.code, badSecret.stderr]).toEqual([2, expect.stringMatching(/--webhook-url: webhook secret: must be "whsec_"/)]);
    expect([badUrl.code, badUrl.stderr]).toEqual([2, expect.stringMatching(/TESSERA_WEBHOOK_URLS: httpWebhooks.endpoints\[1\]: must be an http/)]);
    for (const n of [1, 2, 3]) expect(existsSync(db(n))).toBe(false);
  }, 30_000);
});

describe('a sidecar killed mid-delivery', () => {
  let sidecar: SidecarProcess | undefined;
  afterEach(async () => {
    await sidecar?.stop('SIGKILL');
    sidecar = undefined;
  });

  it('delivers after a restart on the same SQLite file: nothing lost, the same webhook-id', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const catalogFile = join(dir.dir, 'catalog.json');
    writeFileSync(catalogFile, JSON.stringify(alertCatalog()));
    const db = join(dir.dir, 'state.db');
    // The first two requests (one per threshold) are held unanswered; the ones after them succeed.
    const r: Receiver = await receiver((n) => (n < 2 ? 'hold' : 200));
    cleanups.push(r.close);
    const env = { TESSERA_FULL_ACCESS_KEYS: FULL_KEY, TESSERA_READ_ONLY_KEYS: READ_KEY, TESSERA_WEBHOOK_SECRET: SECRET };
    const args = ['--db', db, '--catalog', catalogFile, '--webhook-url', r.url, '--webhook-timeout-ms', '3000', '--log-level', 'silent'];
    sidecar = await startSidecarProcess(args, env);
    let client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
    await client.provisionCustomer({ customerId: 'c1' });
    await client.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 100 });
    // Both thresholds' deliveries were committed with the usage; the receiver holds both.
    await waitFor(() => r.got.length === 2);
    const before = (await client.getWebhookDeliveries()).data;
    expect(before.map((d) => d.status)).toEqual(['PENDING', 'PENDING']);
    await sidecar.stop('SIGKILL');
    r.dropAll();
    // A new sidecar on the same file: the killed one's lease (timeout + 1 s) runs out, then it delivers.
    sidecar = await startSidecarProcess(args, env);
    client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
    await waitFor(async () => (await client.getWebhookDeliveries({ status: 'DELIVERED' })).data.length === 2, 20_000);
    const ids = before.map((d) => d.id).sort();
    const deliveredIds = r.got.slice(2).map((g) => g.headers['webhook-id'] as string);
    expect(deliveredIds.sort()).toEqual(ids);
    // The held requests had the same ids: what a receiver de-duplicates on.
    expect(r.got.slice(0, 2).map((g) => g.headers['webhook-id'] as string).sort()).toEqual(ids);
    for (const g of r.got) expect(() => verifyWebhook(SECRET, g.headers as Record<string, string>, g.body)).not.toThrow();
  }, 60_000);
});

describe('two engines on one SQLite file with webhooks', () => {
  it('deliver each threshold once', async () => {
    const r = await receiver(() => 200);
    cleanups.push(r.close);
    const dir = tempDir();
    cleanups.push(dir.remove);
    const filename = join(dir.dir, 'shared.db');
    const clock = testClock('2024-01-31T10:00:00Z');
    const open = () =>
      createEngine({ store: sqliteStore({ filename }), catalog: alertCatalog(), clock, webhooks: { transport: httpWebhooks({ endpoints: [r.url], secret: SECRET, now: () => clock.nowMs() }), pollMs: 20 } });
    const a = await open();
    const b = await open();
    cleanups.push(() => a.close(), () => b.close());
    await a.provisionCustomer({ customerId: 'c1' });
    await Promise.all([a, b].map((e) => Promise.all(Array.from({ length: 60 }, () => e.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 1, overage: 'CAP' })))));
    await waitFor(async () => (await a.getWebhookDeliveries({ status: 'DELIVERED' })).data.length === 2);
    const payloads = r.got.map((g) => verifyWebhook<{ data: { threshold: number } }>(SECRET, g.headers as Record<string, string>, g.body, { now: clock.nowMs() }));
    expect(payloads.map((p) => p.data.threshold).sort((x, y) => x - y)).toEqual([80, 100]);
  });
});
