import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isLogger, safeLog, TesseraError, type Engine, type Logger, type Store, type TesseraErrorDetails } from '@tessera/core';
import { INTERNAL, publicError, type ErrorBody, type WireErrorCode } from '../errors.js';
import { METHODS, methodSpec } from '../methods.js';
import { openApiDocument } from '../openapi/document.js';
import { ChangeFeed } from './change-feed.js';
import { KeyRing, presentedKey, type KeyAccess } from './keys.js';
import { renderPrometheus, SidecarStats } from './metrics.js';
import { addReplicaRoutes } from './replica-routes.js';
import { addUiRoutes } from '../ui/routes.js';

/** Options of `createSidecar` and `serveSidecar`. */
export interface SidecarOptions {
  /** The engine every request runs against. The sidecar never closes it. */
  engine: Engine;
  /** Keys that may call every method. */
  fullAccessKeys?: readonly string[];
  /** Keys that may call read methods (get*, estimate*, checks, the change feed) only. */
  readOnlyKeys?: readonly string[];
  /**
   * Keys that open `GET /metrics` and nothing else: what a Prometheus scraper is given, so that
   * its credential reads no customer data. Full-access and read-only keys open /metrics too.
   */
  metricsKeys?: readonly string[];
  /**
   * Where the sidecar logs (pino's and console's shape): one `info` line per request (method,
   * path, status, durationMs) and, at `error`, every failure whose details the answer withholds.
   * Give the engine the same logger (`createEngine({ logger })`).
   */
  logger?: Logger;
  /** Largest request body accepted, in bytes; larger ones get 413. 1 MiB by default. */
  maxBodyBytes?: number;
  /** How often waiting change-feed readers look for writes by other processes, in ms; 100 by default. */
  changePollMs?: number;
  /**
   * Told about every failure whose details the answer withholds: errors that are no TesseraError
   * (500 INTERNAL), store failures (503) and errors a store translated from its driver's
   * (README.md#errors). Logs to `logger` by default, else to stderr.
   */
  onInternalError?: (error: unknown, context: { method: string }) => void;
  /**
   * The engine's store, read directly by the replica routes (`POST /v1/replicaSnapshot`,
   * `POST /v1/replicaCustomers`) that replicas (`createReplica`) sync from. Without it those
   * routes answer INVALID_ARGUMENT. `tessera serve` passes it.
   */
  store?: Store;
  /**
   * Serve the dashboard at `/ui` (README.md#dashboard); true by default. Only its login page is
   * served without a key; its data comes from the same keyed routes as the client's.
   */
  ui?: boolean;
}

/** Longest wait a long poll may ask for (`wait`), in ms. */
export const MAX_WAIT_MS = 30_000;
/** An event stream sends a comment this often when idle, so proxies keep it open. */
const HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** At most this many changes per long-poll answer or per event-stream read. */
const MAX_CHANGES = 10_000;

type Env = { Variables: { access: KeyAccess } };

const codeOf = (e: unknown): string => (e instanceof TesseraError ? e.code : INTERNAL);

/** A failure the sidecar answers itself, before or around the engine call. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: WireErrorCode,
    message: string,
    readonly details: TesseraErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Fresh headers for every response: @hono/node-server adds Content-Length to the plain object a
 * Response was built with, so a shared object would give every later answer the first one's length.
 */
const jsonHeaders = (extra?: Record<string, string>): Record<string, string> => ({ 'content-type': 'application/json; charset=utf-8', ...extra });

function errorResponse(status: number, code: WireErrorCode, message: string, details: TesseraErrorDetails = {}, headers: Record<string, string> = {}): Response {
  let body: string;
  try {
    body = JSON.stringify({ error: { code, message, details } } satisfies ErrorBody);
  } catch {
    body = JSON.stringify({ error: { code, message, details: {} } } satisfies ErrorBody);
  }
  return new Response(body, { status, headers: jsonHeaders(headers) });
}

function jsonResponse(value: unknown): Response {
  return new Response(JSON.stringify(value ?? null), { status: 200, headers: jsonHeaders() });
}

const tooLarge = (max: number) =>
  new HttpFailure(413, 'INVALID_ARGUMENT', `body: larger than ${max} bytes; send less per call (e.g. split a bulk report)`, { field: 'body', maxBytes: max });

/** Node's request under @hono/node-server (`c.env.incoming`); absent under `app.request()` and other runtimes. */
type NodeIncoming = IncomingMessage | undefined;
const incomingOf = (c: Context): NodeIncoming => (c.env as Partial<HttpBindings> | undefined)?.incoming;

/**
 * The body as text, refusing more than `max` bytes without reading it whole. Under node:http it
 * reads the IncomingMessage itself: asking the Request for its text would make @hono/node-server
 * build a full WHATWG Request and stream, which costs more than the rest of a check.
 */
async function readBodyText(c: Context, max: number): Promise<string> {
  const incoming = incomingOf(c);
  const declared = incoming ? incoming.headers['content-length'] : c.req.raw.headers.get('content-length');
  // HTTP framing holds a body to its declared length, so a declared length within the limit is enough.
  if (declared != null && Number(declared) > max) throw tooLarge(max);
  if (incoming) {
    if (incoming.readableEnded) return '';
    return new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const done = (err: unknown, text?: string) => {
        incoming.off('data', onData).off('end', onEnd).off('error', done);
        if (err) reject(err);
        else resolve(text!);
      };
      // What is left of a refused body is drained by @hono/node-server once the answer is sent.
      const onData = (chunk: Buffer) => {
        total += chunk.length;
        if (total > max) done(tooLarge(max));
        else chunks.push(chunk);
      };
      const onEnd = () => done(null, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, total).toString('utf8'));
      incoming.on('data', onData).on('end', onEnd).on('error', done);
    });
  }
  const req = c.req.raw;
  if (declared != null) return req.text();
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** The JSON body, `{}` when empty. */
async function readJsonBody(c: Context, max: number): Promise<unknown> {
  const text = await readBodyText(c, max);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpFailure(400, 'INVALID_ARGUMENT', `body: not valid JSON (${(e as Error).message}); send the method's params object as JSON`, { field: 'body' });
  }
}

/** The key a request presents, read from node's headers when there (cheaper than building a Headers). */
function keyOf(c: Context): string | null {
  const incoming = incomingOf(c);
  if (!incoming) return presentedKey(c.req.raw.headers);
  const { authorization, 'x-api-key': apiKey } = incoming.headers;
  return presentedKey({ get: (name: string) => (name === 'authorization' ? (authorization ?? null) : typeof apiKey === 'string' ? apiKey : null) });
}

/** A query or header value that must be a non-negative integer. */
function intParam(value: string | undefined, field: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,15}$/.test(value)) throw new HttpFailure(400, 'INVALID_ARGUMENT', `${field}: must be a non-negative integer`, { field, value });
  return Math.min(Number(value), max);
}

/** The sidecar as a hono app plus what `serveSidecar` needs to shut it down. */
export interface SidecarParts {
  app: Hono<Env>;
  feed: ChangeFeed;
}

/** @internal builds the app and its change feed; `createSidecar` and `serveSidecar` use it. */
export function buildSidecar(options: SidecarOptions): SidecarParts {
  const { engine } = options;
  if (!engine || typeof engine.getChanges !== 'function') {
    throw new TesseraError('INVALID_ARGUMENT', 'engine: must be an Engine from createEngine()', { field: 'engine' });
  }
  const keys = new KeyRing(options.fullAccessKeys ?? [], options.readOnlyKeys ?? [], options.metricsKeys ?? []);
  const logger = options.logger;
  if (logger !== undefined && !isLogger(logger)) {
    throw new TesseraError('INVALID_ARGUMENT', 'logger: must have debug, info, warn and error methods (pino and console fit)', { field: 'logger' });
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new TesseraError('INVALID_ARGUMENT', 'maxBodyBytes: must be a positive integer (bytes)', { field: 'maxBodyBytes', value: maxBodyBytes });
  }
  const onInternalError =
    options.onInternalError ??
    (logger
      ? (error: unknown, { method }: { method: string }) => safeLog(logger, 'error', { err: error, method, code: codeOf(error) }, `tessera sidecar: ${method} failed`)
      : (error: unknown, { method }: { method: string }) => console.error(`tessera sidecar: internal error in ${method}:`, error));
  const feed = new ChangeFeed(engine, options.changePollMs ?? 100, (error) => onInternalError(error, { method: 'changes' }));
  const stats = new SidecarStats();
  const app = new Hono<Env>();

  // Every request is timed and counted (/metrics) and, with a logger, logged once answered.
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    stats.request(c.res.status, seconds);
    if (logger) {
      safeLog(logger, 'info', { method: c.req.method, path: c.req.path, status: c.res.status, durationMs: Math.round(seconds * 1e6) / 1000 }, 'tessera sidecar: request');
    }
  });

  app.onError((err, c) => {
    if (err instanceof HttpFailure) return errorResponse(err.status, err.code, err.message, err.details, err.headers);
    const method = c.req.param('method') ?? c.req.path;
    if (err instanceof TesseraError) {
      const answer = publicError(err);
      if (answer.withheld) onInternalError(err, { method });
      return errorResponse(answer.status, answer.code, answer.message, answer.details);
    }
    onInternalError(err, { method });
    return errorResponse(500, INTERNAL, 'internal error in the sidecar; its log has the cause');
  });

  app.notFound((c) =>
    errorResponse(404, 'INVALID_ARGUMENT', `no such endpoint: ${c.req.method} ${c.req.path}; engine methods are POST /v1/<method>`, { field: 'path', value: c.req.path }),
  );

  // Ok or not ok, never why: the cause (a path, a driver message) goes to the log.
  app.get('/health', async () => {
    try {
      return jsonResponse({ ok: true, lastChangeSeq: await feed.lastSeq(), catalogVersion: engine.catalogVersion });
    } catch (e) {
      onInternalError(e, { method: 'health' });
      const code = e instanceof TesseraError ? publicError(e).code : INTERNAL;
      return new Response(JSON.stringify({ ok: false, error: { code, message: 'the sidecar cannot serve calls now; its log has the cause' } }), { status: 503, headers: jsonHeaders() });
    }
  });

  // The API's shape, no data: open without a key, like /health, so tools and generators can fetch
  // it (packages/http/README.md#openapi). A key sent with it is not checked.
  app.get('/openapi.json', () => jsonResponse(openApiDocument()));

  app.get('/metrics', (c) => {
    if (keys.check(keyOf(c)) === null) {
      throw new HttpFailure(401, 'UNAUTHORIZED', 'missing or unknown key: send `Authorization: Bearer <key>` with a metrics, read-only or full-access key', { field: 'authorization' }, { 'www-authenticate': 'Bearer' });
    }
    return new Response(renderPrometheus(engine.getMetrics(), stats), { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
  });

  // Every /v1 route needs a key; which methods it opens is decided per route.
  app.use('/v1/*', async (c, next) => {
    const access = keys.check(keyOf(c));
    if (access === null) {
      throw new HttpFailure(401, 'UNAUTHORIZED', 'missing or unknown API key: send `Authorization: Bearer <key>` (or `x-api-key: <key>`)', { field: 'authorization' }, { 'www-authenticate': 'Bearer' });
    }
    if (access === 'metrics') throw new HttpFailure(403, 'UNAUTHORIZED', 'this key opens GET /metrics only; use a read-only or full-access key', { field: 'authorization' });
    c.set('access', access);
    await next();
  });

  app.get('/v1/changes', async (c) => {
    const after = intParam(c.req.query('after'), 'after', 0);
    const limit = Math.max(1, intParam(c.req.query('limit'), 'limit', 1000, MAX_CHANGES));
    const wait = intParam(c.req.query('wait'), 'wait', 0, MAX_WAIT_MS);
    let changes = await engine.getChanges({ after, limit });
    if (changes.length === 0 && wait > 0 && (await feed.waitAfter(after, wait, c.req.raw.signal))) {
      changes = await engine.getChanges({ after, limit });
    }
    return jsonResponse({ changes, nextAfter: changes.at(-1)?.seq ?? after });
  });

  app.get('/v1/changes/stream', (c) => {
    // A reconnecting EventSource sends Last-Event-ID; it is newer than the URL's `after`.
    const lastEventId = c.req.header('last-event-id');
    let cursor = lastEventId !== undefined && lastEventId !== '' ? intParam(lastEventId, 'Last-Event-ID', 0) : intParam(c.req.query('after'), 'after', 0);
    // `customerId` keeps the changes naming that customer (the dashboard's live page).
    const customerId = c.req.query('customerId');
    if (customerId !== undefined && (customerId === '' || customerId.length > 255)) throw new HttpFailure(400, 'INVALID_ARGUMENT', 'customerId: must be a customer id (1 to 255 characters)', { field: 'customerId' });
    const stop = new AbortController();
    c.req.raw.signal?.addEventListener('abort', () => stop.abort(), { once: true });
    return streamSSE(
      c,
      async (stream) => {
        stream.onAbort(() => stop.abort());
        await stream.write('retry: 1000\n\n');
        while (!stop.signal.aborted && !feed.closed) {
          const batch = await engine.getChanges({ after: cursor, limit: 1000 });
          for (const change of batch) {
            if (customerId === undefined || change.customerId === customerId) await stream.writeSSE({ id: String(change.seq), data: JSON.stringify(change) });
            cursor = change.seq;
          }
          if (batch.length === 1000) continue;
          const found = await feed.waitAfter(cursor, HEARTBEAT_MS, stop.signal);
          if (!found && !stop.signal.aborted && !feed.closed) await stream.write(': keep-alive\n\n');
        }
      },
      async (err, stream) => {
        const answer = err instanceof TesseraError ? publicError(err) : undefined;
        if (!answer || answer.withheld) onInternalError(err, { method: 'changes/stream' });
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ code: answer?.code ?? INTERNAL, message: answer?.message ?? 'internal error in the sidecar' }) });
      },
    );
  });

  if (options.ui !== false) addUiRoutes(app, { engine, accessOf: (c) => keys.check(keyOf(c)) });

  addReplicaRoutes(app, options.store, jsonResponse, (c) => readJsonBody(c, maxBodyBytes));

  app.post('/v1/:method', async (c: Context<Env>) => {
    const name = c.req.param('method')!;
    const spec = methodSpec(name);
    if (!spec) {
      throw new HttpFailure(404, 'INVALID_ARGUMENT', `unknown method "${name}"; see the list in details.allowed`, { field: 'method', value: name, allowed: Object.keys(METHODS) });
    }
    if (spec.access === 'write' && c.get('access') !== 'full') {
      throw new HttpFailure(403, 'UNAUTHORIZED', `${name} writes and this API key is read-only; use a full-access key`, { field: 'authorization', method: name });
    }
    const body = await readJsonBody(c, maxBodyBytes);
    if (spec.bodyKeys) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new HttpFailure(400, 'INVALID_ARGUMENT', `body: must be a JSON object${spec.bodyKeys.length ? ` with ${spec.bodyKeys.join(', ')}` : ''}`, { field: 'body' });
      }
      const extra = Object.keys(body).filter((k) => !spec.bodyKeys!.includes(k));
      if (extra.length > 0) {
        throw new HttpFailure(400, 'INVALID_ARGUMENT', `${extra[0]}: unknown field for ${name}; allowed: ${spec.bodyKeys.join(', ') || 'none'}`, { field: extra[0], allowed: spec.bodyKeys });
      }
    }
    return jsonResponse(await spec.call(engine, body));
  });

  app.all('/v1/:method', (c) => {
    const name = c.req.param('method');
    if (methodSpec(name)) throw new HttpFailure(405, 'INVALID_ARGUMENT', `${name}: call it with POST and the params as a JSON body`, { field: 'method', value: c.req.method }, { allow: 'POST' });
    throw new HttpFailure(404, 'INVALID_ARGUMENT', `unknown method "${name}"`, { field: 'method', value: name });
  });

  return { app, feed };
}

/**
 * The sidecar as a hono app: every exposed engine method as `POST /v1/<method>` with its params
 * as a JSON body, the change feed as a long poll (`GET /v1/changes`) and as server-sent events
 * (`GET /v1/changes/stream`), `GET /health`, and its OpenAPI document at `GET /openapi.json` (no
 * key). Mount it in any hono server, or use `serveSidecar` to listen on a port. Throws INVALID_ARGUMENT without keys.
 */
export function createSidecar(options: SidecarOptions): Hono<Env> {
  return buildSidecar(options).app;
}
