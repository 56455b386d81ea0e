import { TesseraError, type ChangeRecord, type TesseraErrorCode, type TesseraErrorDetails } from '@tessera/core';
import type { FetchLike } from '@tessera/client';
import type { ReplicaCustomers, ReplicaSnapshot } from './records.js';

/**
 * The replica's reads of the sidecar: the snapshot routes and the long-poll change feed, with an
 * abort signal so that `close()` ends a wait at once. Records come back as stored (epoch ms), so
 * nothing is revived. Throws TesseraError: OFFLINE when the sidecar cannot be reached.
 */
export class ReplicaTransport {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    url: string,
    apiKey: string,
    private readonly timeoutMs: number,
    private readonly doFetch: FetchLike = (input, init) => fetch(input, init),
  ) {
    this.base = url.replace(/\/+$/, '');
    this.headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  }

  snapshot(signal: AbortSignal, withCustomerIds: boolean): Promise<ReplicaSnapshot> {
    return this.request('/v1/replicaSnapshot', { method: 'POST', body: JSON.stringify({ customerIds: withCustomerIds }) }, signal, 0) as Promise<ReplicaSnapshot>;
  }

  customers(customerIds: string[], signal: AbortSignal): Promise<ReplicaCustomers> {
    return this.request('/v1/replicaCustomers', { method: 'POST', body: JSON.stringify({ customerIds }) }, signal, 0) as Promise<ReplicaCustomers>;
  }

  changes(after: number, waitMs: number, signal: AbortSignal): Promise<{ changes: ChangeRecord[]; nextAfter: number }> {
    return this.request(`/v1/changes?after=${after}&limit=1000&wait=${waitMs}`, { method: 'GET' }, signal, waitMs) as Promise<{ changes: ChangeRecord[]; nextAfter: number }>;
  }

  private async request(path: string, init: RequestInit, stop: AbortSignal, waitMs: number): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs + waitMs);
    const signal = AbortSignal.any([stop, timeout]);
    let status: number;
    let text: string;
    try {
      const res = await this.doFetch(this.base + path, { ...init, headers: this.headers, signal });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = timeout.aborted ? 'no answer in time' : stop.aborted ? 'closed' : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new TesseraError('OFFLINE', `cannot reach the Tessera sidecar at ${this.base} (${why})`, { url: this.base, reason: why });
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300 && parsed !== undefined) return parsed;
    const e = (parsed as { error?: { code?: string; message?: string; details?: TesseraErrorDetails } } | undefined)?.error;
    if (e && typeof e.code === 'string') throw new TesseraError(e.code as TesseraErrorCode, e.message ?? '', e.details ?? {});
    throw new TesseraError(status === 503 ? 'STORE_UNAVAILABLE' : ('INTERNAL' as TesseraErrorCode), `the sidecar answered HTTP ${status}`, { status });
  }
}
