/**
 * The sidecar as an operator sees it: error bodies that hold no server path, driver message or
 * stack (the full error goes to the log), /health without internals, one log line per request,
 * and /metrics in Prometheus' text format behind a key.
 */
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, TesseraError, testClock, type Engine, type Logger, type Store } from '@tessera/core';
import { createSidecar, publicError } from '@tessera/http';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { FULL_KEY, READ_KEY, tempDir } from './harness.js';

const METRICS_KEY = 'metrics-scrape-key-0123456789abcdef';
type App = ReturnType<typeof createSidecar>;
type Line = { level: string; context: Record<string, unknown>; message: string | undefined };

function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (context: Record<string, unknown>, message?: string) => void lines.push({ level, context, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const post = (app: App, method: string, body: unknown, key = FULL_KEY) =>
  app.request(`/v1/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });

/** A store whose calls throw a raw Error quoting a server path once `broken` is set: a bug or a driver failure the store did not translate. */
function breakableStore(inner: Store): Store & { broken: boolean } {
  const state = { broken: false };
  const fail = () => {
    throw new Error('ENOENT: /srv/secret/tessera/data.db could not be read\n    at Driver.read (/srv/app/node_modules/driver/index.js:1:1)');
  };
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'broken') return state.broken;
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (state.broken && (key === 'transaction' || key === 'lastChangeSeq')) fail();
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(_target, key, value) {
      if (key !== 'broken') return false;
      state.broken = value as boolean;
      return true;
    },
  }) as Store & { broken: boolean };
}

describe('what error answers say', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  it('answers a busy SQLite store 503 without its path, and logs the error in full', async () => {
    const filename = join(tmp.dir, 'busy.db');
    const engine = await createEngine({ store: sqliteStore({ filename, busyTimeoutMs: 50 }), catalog: demoCatalog });
    await engine.provisionCustomer({ customerId: 'c1' });
    const logger = recordingLogger();
    const app = createSidecar({ engine, fullAccessKeys: [FULL_KEY], logger });
    // Another connection holds the write lock past the busy timeout.
    const other = new BetterSqlite3(filename);
    other.exec('BEGIN IMMEDIATE');
    try {
      const res = await post(app, 'reportUsage', { customerId: 'c1', featureId: 'api-calls', value: 1 });
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(text).not.toContain(tmp.dir);
      expect(text).not.toContain('busy.db');
      expect(text).not.toMatch(/SQLITE|sqlite|\n\s+at /);
      const body = JSON.parse(text) as { error: { code: string; message: string; details: Record<string, unknown> } };
      expect(body.error.code).toBe('STORE_UNAVAILABLE');
      expect(body.error.details).toEqual({});
      // The operator still learns which file and why, from the log.
      const logged = logger.lines.find((l) => l.level === 'error')!;
      expect(logged.context).toMatchObject({ method: 'reportUsage', code: 'STORE_UNAVAILABLE' });
      expect((logged.context.err as TesseraError).message).toContain(filename);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await engine.close();
    }
  });

  it('answers an unexpected error 500 with a generic message, and logs it', async () => {
    const store = breakableStore(memoryStore());
    const engine = await createEngine({ store, catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z') });
    const logger = recordingLogger();
    const app = createSidecar({ engine, fullAccessKeys: [FULL_KEY], logger });
    store.broken = true;
    const res = await post(app, 'provisionCustomer', { customerId: 'c1' });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('/srv/');
    expect(text).not.toContain('ENOENT');
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error in the sidecar; its log has the cause', details: {} } });
    const logged = logger.lines.find((l) => l.level === 'error')!;
    expect(logged.context).toMatchObject({ method: 'provisionCustomer', code: 'INTERNAL' });
    expect(String((logged.context.err as Error).message)).toContain('/srv/secret');
    store.broken = false;
    await engine.close();
  });

  it('keeps the message of an error that says what to fix', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog });
    const app = createSidecar({ engine, fullAccessKeys: [FULL_KEY] });
    const res = await post(app, 'getCustomer', { customerId: 'nobody' });
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('CUSTOMER_NOT_FOUND');
    expect(error.message).toContain('nobody');
    await engine.close();
  });

  it('withholds the message of an error a store translated from its driver, whatever its status', () => {
    const conflict = new TesseraError('CONFLICT', 'insert: a record with this key already exists (UNIQUE constraint failed: events.key)', { sqliteCode: 'SQLITE_CONSTRAINT_UNIQUE', filename: '/srv/x.db' });
    Object.defineProperty(conflict, 'cause', { value: new Error('UNIQUE constraint failed: events.key') });
    expect(publicError(conflict)).toEqual({ status: 409, code: 'CONFLICT', message: 'the call conflicts with stored state; read the current state and retry', details: {}, withheld: true });
    const own = new TesseraError('CONFLICT', 'the reservation was released', { field: 'reservationId' });
    expect(publicError(own)).toMatchObject({ status: 409, message: 'the reservation was released', details: { field: 'reservationId' }, withheld: false });
  });
});

describe('/health', () => {
  it('says ok, and not ok without saying why', async () => {
    const store = breakableStore(memoryStore());
    const engine = await createEngine({ store, catalog: demoCatalog });
    const logger = recordingLogger();
    const app = createSidecar({ engine, fullAccessKeys: [FULL_KEY], logger });
    const ok = await app.request('/health');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true });
    store.broken = true;
    const down = await app.request('/health');
    expect(down.status).toBe(503);
    const text = await down.text();
    expect(text).not.toContain('/srv/');
    expect(text).not.toContain('ENOENT');
    expect(JSON.parse(text)).toMatchObject({ ok: false });
    expect(logger.lines.some((l) => l.level === 'error' && l.context.method === 'health')).toBe(true);
    store.broken = false;
    await engine.close();
  });
});

describe('request logs', () => {
  it('logs each request with its method, path, status and latency', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog });
    const logger = recordingLogger();
    const app = createSidecar({ engine, fullAccessKeys: [FULL_KEY], logger });
    await post(app, 'provisionCustomer', { customerId: 'c1' });
    await post(app, 'getCustomer', { customerId: 'nobody' });
    await app.request('/v1/getCustomer', { method: 'POST' }); // no key
    const requests = logger.lines.filter((l) => l.message === 'tessera sidecar: request');
    expect(requests.map((l) => [l.level, l.context.method, l.context.path, l.context.status])).toEqual([
      ['info', 'POST', '/v1/provisionCustomer', 200],
      ['info', 'POST', '/v1/getCustomer', 404],
      ['info', 'POST', '/v1/getCustomer', 401],
    ]);
    for (const l of requests) expect(l.context.durationMs).toBeGreaterThanOrEqual(0);
    await engine.close();
  });
});

describe('/metrics', () => {
  let engine: Engine;
  let app: App;
  beforeEach(async () => {
    engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z') });
    app = createSidecar({ engine, fullAccessKeys: [FULL_KEY], readOnlyKeys: [READ_KEY], metricsKeys: [METRICS_KEY] });
  });
  afterEach(() => engine.close());

  const scrape = (key?: string) => app.request('/metrics', { headers: key ? { authorization: `Bearer ${key}` } : {} });

  /** The value of one sample line, `name{labels} value`. */
  const sample = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    if (!line) throw new Error(`no sample ${series} in\n${text}`);
    return Number(line.slice(series.length + 1));
  };

  it('needs a key; a metrics key opens /metrics and nothing else', async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape('not-a-key-0123456789abcdef')).status).toBe(401);
    expect((await scrape(METRICS_KEY)).status).toBe(200);
    expect((await scrape(READ_KEY)).status).toBe(200);
    const refused = await post(app, 'getCustomer', { customerId: 'c1' }, METRICS_KEY);
    expect(refused.status).toBe(403);
  });

  it("serves the engine's checks, writes and view, and the sidecar's requests, in Prometheus text", async () => {
    await post(app, 'provisionCustomer', { customerId: 'c1' });
    for (let i = 0; i < 4; i++) await post(app, 'getEntitlement', { customerId: 'c1', featureId: 'projects' });
    await post(app, 'getEntitlement', { customerId: 'c1', featureId: 'sso' }); // not in the free plan
    await post(app, 'getCustomer', { customerId: 'nobody' });
    const res = await scrape(METRICS_KEY);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    // Every sample line is `name{labels} number`; every metric has its HELP and TYPE.
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? (-?[0-9.e+-]+|\+Inf|NaN))$/);
    const m = engine.getMetrics();
    expect(sample(text, 'tessera_checks_total{store="memory",source="view",outcome="allowed"}')).toBe(m.checks.view.allowed);
    expect(sample(text, 'tessera_checks_total{store="memory",source="store",outcome="allowed"}')).toBe(m.checks.store.allowed);
    expect(m.checks.view.allowed + m.checks.store.allowed).toBe(4);
    expect(m.checks.view.denied + m.checks.store.denied).toBe(1);
    // The first check loaded the view from the store and was timed.
    expect(sample(text, 'tessera_check_duration_seconds_count{store="memory"}')).toBe(m.checks.duration.count);
    expect(m.checks.duration.count).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tessera_check_duration_seconds_bucket{store="memory",le="+Inf"}')).toBe(m.checks.duration.count);
    // Writes: the catalog's publication, the provisioning.
    expect(sample(text, 'tessera_write_duration_seconds_count{store="memory"}')).toBe(2);
    expect(sample(text, 'tessera_write_duration_seconds_sum{store="memory"}')).toBeLessThan(2);
    expect(sample(text, 'tessera_view_size{store="memory"}')).toBe(1);
    expect(sample(text, 'tessera_view_misses_total{store="memory"}')).toBe(m.view.misses);
    // The sidecar's own: 6 answered 200 or 404 before this scrape.
    expect(sample(text, 'tessera_sidecar_requests_total{status="200"}')).toBe(6);
    expect(sample(text, 'tessera_sidecar_requests_total{status="404"}')).toBe(1);
    expect(sample(text, 'tessera_sidecar_request_duration_seconds_count')).toBe(7);
    // Buckets are cumulative.
    const buckets = text.split('\n').filter((l) => l.startsWith('tessera_sidecar_request_duration_seconds_bucket')).map((l) => Number(l.split(' ')[1]));
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
  });
});
