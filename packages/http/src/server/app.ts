import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isLogger, safeLog, TesseraError, type Engine, type Logger, type Store, type TesseraErrorDetails } from '@tessera/core';
import { INTERNAL, publicError, type ErrorBody, type WireErrorCode } from '../errors.js';
import { METHODS, methodSpec, type MethodSpec } from '../methods.js';
import { openApiDocument } from '../openapi/document.js';
import { ChangeFeed } from './change-feed.js';
import { KeyRing, type KeyAccess } from './keys.js';
import { HttpFailure, keyOf, keyOfIncoming, parseJsonBody, readBodyText, readIncoming, readJsonBody } from './request.js';
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

/**
 * Fresh headers for every response: @hono/node-server adds Content-Length to the plain object a
 * Response was built with, so a shared object would give every later answer the first one's length.
 */
const JSON_TYPE = 'application/json; charset=utf-8';
const jsonHeaders = (extra?: Record<string, string>): Record<string, string> => ({ 'content-type': JSON_TYPE, ...extra });

/** An answer as the direct handler writes it: status, JSON text, headers beside content-type. */
interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

function errorAnswer(status: number, code: WireErrorCode, message: string, details: TesseraErrorDetails = {}, headers: Record<string, string> = {}): Answer {
  let body: string;
  try {
    body = JSON.stringify({ error: { code, message, details } } satisfies ErrorBody);
  } catch {
    body = JSON.stringify({ error: { code, message, details: {} } } satisfies ErrorBody);
  }
  return { status, body, headers };
}

const toResponse = ({ status, body, headers }: Answer): Response => new Response(body, { status, headers: jsonHeaders(headers) });

function errorResponse(status: number, code: WireErrorCode, message: string, details: TesseraErrorDetails = {}, headers: Record<string, string> = {}): Response {
  return toResponse(errorAnswer(status, code, message, details, headers));
}

/**
 * Writes an answer as @hono/node-server writes a Response built with `jsonHeaders` (the same
 * header names, order and case, one writeHead and one end), without the Response.
 */
function writeAnswer(outgoing: ServerResponse, status: number, body: string, headers: Record<string, string> | undefined): void {
  const length = Buffer.byteLength(body);
  outgoing.writeHead(status, headers === undefined ? { 'content-type': JSON_TYPE, 'Content-Length': length } : { 'content-type': JSON_TYPE, ...headers, 'Content-Length': length });
  outgoing.end(body);
}

function jsonResponse(value: unknown): Response {
  return new Response(JSON.stringify(value ?? null), { status: 200, headers: jsonHeaders() });
}

/** A query or header value that must be a non-negative integer. */
function intParam(value: string | undefined, field: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,15}$/.test(value)) throw new HttpFailure(400, 'INVALID_ARGUMENT', `${field}: must be a non-negative integer`, { field, value });
  return Math.min(Number(value), max);
}

/** The sidecar as a hono app plus what `serveSidecar` needs to serve it and shut it down. */
export interface SidecarParts {
  app: Hono<Env>;
  feed: ChangeFeed;
  /**
   * A shortcut for the engine methods (`POST /v1/<method>`) under node:http: when it returns true
   * it has taken the request and writes the answer itself, with the same checks, answers, metrics
   * and log line as the routes, without hono's request, Response, routing and middleware chain
   * (bench/README.md#sidecar). It takes only a request whose key opens the method and whose body
   * has a declared length within the limit; any other (refused, unframed) goes to `app.fetch`,
   * whose server drains what a refusal leaves unread.
   */
  direct: (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;
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

  /** Every request is timed and counted (/metrics) and, with a logger, logged once answered. */
  const record = (method: string, path: string, status: number, started: number): void => {
    const seconds = (performance.now() - started) / 1000;
    stats.request(status, seconds);
    if (logger) safeLog(logger, 'info', { method, path, status, durationMs: Math.round(seconds * 1e6) / 1000 }, 'tessera sidecar: request');
  };
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    record(c.req.method, c.req.path, c.res.status, started);
  });

  /** What a key opens under /v1; throws 401/403 for none, an unknown one, or a metrics key. */
  const v1Access = (key: string | null): 'full' | 'read' => {
    const access = keys.check(key);
    if (access === null) {
      throw new HttpFailure(401, 'UNAUTHORIZED', 'missing or unknown API key: send `Authorization: Bearer <key>` (or `x-api-key: <key>`)', { field: 'authorization' }, { 'www-authenticate': 'Bearer' });
    }
    if (access === 'metrics') throw new HttpFailure(403, 'UNAUTHORIZED', 'this key opens GET /metrics only; use a read-only or full-access key', { field: 'authorization' });
    return access;
  };

  /** An engine method's call: access, body shape, the engine's answer as JSON text. */
  const callMethod = async (name: string, spec: MethodSpec, access: 'full' | 'read', readText: () => Promise<string>): Promise<string> => {
    if (spec.access === 'write' && access !== 'full') {
      throw new HttpFailure(403, 'UNAUTHORIZED', `${name} writes and this API key is read-only; use a full-access key`, { field: 'authorization', method: name });
    }
    const body = parseJsonBody(await readText());
    if (spec.bodyKeys) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new HttpFailure(400, 'INVALID_ARGUMENT', `body: must be a JSON object${spec.bodyKeys.length ? ` with ${spec.bodyKeys.join(', ')}` : ''}`, { field: 'body' });
      }
      const extra = Object.keys(body).filter((k) => !spec.bodyKeys!.includes(k));
      if (extra.length > 0) {
        throw new HttpFailure(400, 'INVALID_ARGUMENT', `${extra[0]}: unknown field for ${name}; allowed: ${spec.bodyKeys.join(', ') || 'none'}`, { field: extra[0], allowed: spec.bodyKeys });
      }
    }
    return JSON.stringify((await spec.call(engine, body)) ?? null);
  };

  /** The answer to a failure; `method` names it to onInternalError when its details are withheld. */
  const failureAnswer = (err: unknown, method: string): Answer => {
    if (err instanceof HttpFailure) return errorAnswer(err.status, err.code, err.message, err.details, err.headers);
    if (err instanceof TesseraError) {
      const answer = publicError(err);
      if (answer.withheld) onInternalError(err, { method });
      return errorAnswer(answer.status, answer.code, answer.message, answer.details);
    }
    onInternalError(err, { method });
    return errorAnswer(500, INTERNAL, 'internal error in the sidecar; its log has the cause');
  };
  app.onError((err, c) => toResponse(failureAnswer(err, c.req.param('method') ?? c.req.path)));

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
    c.set('access', v1Access(keyOf(c)));
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
    return new Response(await callMethod(name, spec, c.get('access') as 'full' | 'read', () => readBodyText(c, maxBodyBytes)), { status: 200, headers: jsonHeaders() });
  });

  app.all('/v1/:method', (c) => {
    const name = c.req.param('method');
    if (methodSpec(name)) throw new HttpFailure(405, 'INVALID_ARGUMENT', `${name}: call it with POST and the params as a JSON body`, { field: 'method', value: c.req.method }, { allow: 'POST' });
    throw new HttpFailure(404, 'INVALID_ARGUMENT', `unknown method "${name}"`, { field: 'method', value: name });
  });

  /**
   * `SidecarParts.direct`: the checks before the body (key, method, access, declared length) decide
   * whether it takes the request; after that, the same order as the routes above: body, shape, call.
   */
  const direct = (incoming: IncomingMessage, outgoing: ServerResponse): boolean => {
    const url = incoming.url;
    if (incoming.method !== 'POST' || url === undefined || !url.startsWith('/v1/')) return false;
    const q = url.indexOf('?');
    const name = q < 0 ? url.slice(4) : url.slice(4, q);
    const spec = methodSpec(name);
    if (!spec) return false;
    const declared = incoming.headers['content-length'];
    if (declared === undefined || !(Number(declared) <= maxBodyBytes)) return false;
    const access = keys.check(keyOfIncoming(incoming));
    if (access !== 'full' && (access !== 'read' || spec.access === 'write')) return false;
    const started = performance.now();
    callMethod(name, spec, access, () => readIncoming(incoming, maxBodyBytes)).then(
      (text) => {
        record('POST', `/v1/${name}`, 200, started);
        writeAnswer(outgoing, 200, text, undefined);
      },
      (err: unknown) => {
        const answer = failureAnswer(err, name);
        record('POST', `/v1/${name}`, answer.status, started);
        writeAnswer(outgoing, answer.status, answer.body, answer.headers);
      },
    ).catch((err: unknown) => {
      onInternalError(err, { method: name });
      outgoing.destroy();
    });
    return true;
  };

  return { app, feed, direct };
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
