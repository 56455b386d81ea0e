// Types only from the engine: at run time the client needs fetch and nothing else (no Node
// built-in, no engine), so it bundles for browsers and edge runtimes.
import type { CatalogIds, ChangeRecord, Engine, TesseraErrorCode, TesseraErrorDetails } from '@tessera/core';
import { INTERNAL, TesseraError } from './errors.js';
import { METHOD_WIRE, type MethodName } from './methods.js';
import { reviveDates } from './revive.js';

/** The fetch the client uses; the global `fetch` by default. Tests may pass hono's `app.request`. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of `createClient`. */
export interface ClientOptions {
  /** The sidecar's base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** A full-access or read-only key of the sidecar. */
  apiKey: string;
  fetch?: FetchLike;
  /** How long one call may take before it fails with OFFLINE, in ms; 10,000 by default. */
  timeoutMs?: number;
}

/** An answer of the long-poll change feed. */
export interface ChangesPage {
  /** Changes after `after`, in order. */
  changes: ChangeRecord[];
  /** Pass as `after` next time: the last change's seq, or `after` when there was none. */
  nextAfter: number;
}

/** What `GET /health` answers. */
export interface SidecarHealth {
  ok: boolean;
  lastChangeSeq: number;
  catalogVersion: number;
}

/**
 * The engine's methods over HTTP, with the engine's own signatures: every call is async, returns
 * what the engine returns (instants as `Date`s) and throws TesseraError (this package's; test it
 * with `isTesseraError`) with the server's code,
 * message and details; also OFFLINE when the sidecar cannot be reached or does not answer in
 * time, and INTERNAL (not one of the engine's codes) for a failure inside the sidecar.
 * `Ids`: the catalog's ids, as for `Engine` (`createClient<CatalogIdsOf<typeof catalog>>`).
 */
export type TesseraClient<Ids extends CatalogIds = CatalogIds> = Pick<Engine<Ids>, MethodName> & {
  /** Changes after `after`; with `wait` (ms, at most 30,000) waits for the first one. */
  changes(params?: { after?: number; limit?: number; wait?: number }): Promise<ChangesPage>;
  /** The sidecar's health (no key needed). */
  health(): Promise<SidecarHealth>;
};

const STATUS_CODES: Record<number, TesseraErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHORIZED',
  403: 'UNAUTHORIZED',
  404: 'INVALID_ARGUMENT',
  405: 'INVALID_ARGUMENT',
  413: 'INVALID_ARGUMENT',
  503: 'STORE_UNAVAILABLE',
};

/** The TesseraError that an error answer carries, or one made from its status when the body is not ours (a proxy's page). */
function errorFromAnswer(status: number, text: string): TesseraError {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      const details = typeof e.details === 'object' && e.details !== null ? (e.details as TesseraErrorDetails) : {};
      return new TesseraError(e.code as TesseraErrorCode, e.message, details);
    }
  } catch {
    // Not JSON: fall through to the status.
  }
  const code = STATUS_CODES[status] ?? (INTERNAL as TesseraErrorCode);
  return new TesseraError(code, `the sidecar answered HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, { status });
}

/**
 * A typed client of a Tessera sidecar (`tessera serve`), with the engine's method names. Pass the
 * catalog's ids as the type argument to have unknown ids fail to compile.
 */
export function createClient<Ids extends CatalogIds = CatalogIds>(options: ClientOptions): TesseraClient<Ids> {
  if (!options || typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
    throw new TesseraError('INVALID_ARGUMENT', 'url: must be the sidecar base URL, e.g. http://127.0.0.1:8787', { field: 'url' });
  }
  if (typeof options.apiKey !== 'string' || options.apiKey === '') {
    throw new TesseraError('INVALID_ARGUMENT', 'apiKey: must be one of the sidecar keys', { field: 'apiKey' });
  }
  const base = options.url.replace(/\/+$/, '');
  const doFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };

  async function request(path: string, init: RequestInit, waitMs = 0): Promise<unknown> {
    const limit = timeoutMs + waitMs;
    const signal = AbortSignal.timeout(limit);
    let status: number;
    let text: string;
    try {
      const res = await doFetch(base + path, { ...init, headers, signal });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const timedOut = signal.aborted;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = timedOut ? `no answer within ${limit} ms` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new TesseraError('OFFLINE', `cannot reach the Tessera sidecar at ${base} (${why}); check that it runs and the url`, { url: base, reason: why });
    }
    if (status < 200 || status >= 300) throw errorFromAnswer(status, text);
    try {
      return reviveDates(text === '' ? null : JSON.parse(text));
    } catch {
      throw new TesseraError(INTERNAL as TesseraErrorCode, `the sidecar answered HTTP ${status} with a body that is not JSON`, { status });
    }
  }

  const client: Record<string, unknown> = {
    changes(params: { after?: number; limit?: number; wait?: number } = {}) {
      const q = new URLSearchParams();
      for (const key of ['after', 'limit', 'wait'] as const) if (params[key] !== undefined) q.set(key, String(params[key]));
      return request(`/v1/changes?${q}`, { method: 'GET' }, Math.min(params.wait ?? 0, 30_000));
    },
    health() {
      return request('/health', { method: 'GET' });
    },
  };
  for (const [name, spec] of Object.entries(METHOD_WIRE)) {
    const path = `/v1/${name}`;
    client[name] = async (...args: unknown[]) => {
      const out = await request(path, { method: 'POST', body: JSON.stringify(spec.toBody(args)) });
      return spec.returnsVoid ? undefined : out;
    };
  }
  return client as TesseraClient<Ids>;
}
