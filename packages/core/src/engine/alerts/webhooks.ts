/**
 * Alert events as webhooks (docs/alerts.md#webhooks), on the outbox of provider calls
 * (provider-calls.ts) with the kind 'webhook': one call per event and endpoint is committed in the
 * transaction that decided the event, sent after the commit, and retried with exponential backoff
 * and jitter by a poll of due calls (and by tick()) until the endpoint accepts it or the attempts
 * run out. A crash loses nothing: the call stays PENDING, and its lease hands it to a later poll.
 */
import { TesseraError } from '../../errors.js';
import type { ProviderCallRecord } from '../../records.js';
import { Params } from '../runtime/params.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';
import { attempt, enqueueProviderCall, retryDueProviderCalls } from '../billing/provider-calls.js';
import type { WebhookDelivery, WebhookDeliveryInfo, WebhookDeliveryStatus, WebhookEventType, WebhookOptions, WebhookTransport } from './webhook-types.js';
import type { WebhookInput, WebhookSettings } from './webhook-send.js';

export { nextWebhookAttempt, type WebhookSettings } from './webhook-send.js';

/** Reads `createEngine({ webhooks })`; throws INVALID_ARGUMENT naming the field. */
export function readWebhookOptions(raw: unknown): WebhookSettings | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TesseraError('INVALID_ARGUMENT', 'createEngine.webhooks: must be an object { transport, ... }', { field: 'createEngine.webhooks' });
  }
  const o = raw as WebhookOptions;
  const t = o.transport as Partial<WebhookTransport> | undefined;
  const endpoints = t?.endpoints;
  if (!t || typeof t.send !== 'function' || !Array.isArray(endpoints) || endpoints.some((e) => typeof e !== 'string' || e === '' || e.length > 2000)) {
    throw new TesseraError('INVALID_ARGUMENT', 'createEngine.webhooks.transport: must be { endpoints: string[], send(delivery) } (httpWebhooks from @tessera/http fits)', {
      field: 'createEngine.webhooks.transport',
    });
  }
  if (new Set(endpoints).size !== endpoints.length) {
    throw new TesseraError('INVALID_ARGUMENT', 'createEngine.webhooks.transport.endpoints: an endpoint is listed twice', { field: 'createEngine.webhooks.transport.endpoints' });
  }
  // The transport holds functions and state: only the numbers go through the JSON-safe reader.
  const { transport: _t, ...numbers } = o;
  const p = new Params(numbers, 'createEngine.webhooks', ['initialBackoffMs', 'maxBackoffMs', 'maxAttempts', 'leaseMs', 'pollMs']);
  const initialBackoffMs = p.optNumber('initialBackoffMs', { min: 1, integer: true }) ?? 5_000;
  const maxBackoffMs = p.optNumber('maxBackoffMs', { min: 1, integer: true }) ?? 3_600_000;
  if (maxBackoffMs < initialBackoffMs) p.fail('maxBackoffMs', `must be at least initialBackoffMs (${initialBackoffMs})`);
  return {
    transport: t as WebhookTransport,
    initialBackoffMs,
    maxBackoffMs,
    maxAttempts: p.optNumber('maxAttempts', { min: 1, max: 1000, integer: true }) ?? 15,
    leaseMs: p.optNumber('leaseMs', { min: 1, integer: true }) ?? 60_000,
    pollMs: p.optNumber('pollMs', { min: 0, integer: true }) ?? 1_000,
  };
}

/** The key of an event's delivery to one endpoint (the outbox key). */
const deliveryKey = (eventId: string, endpoint: string): string => `webhook:${eventId}:${endpoint}`;

/**
 * Commits one delivery of the event per configured endpoint, inside the write that decided the
 * event, and sends each after the commit. No-op without a webhooks transport.
 */
export async function enqueueWebhook(ctx: EngineContext, fx: WriteEffects, event: { id: string; customerId: string; type: WebhookEventType; data: Record<string, unknown> }): Promise<void> {
  const settings = ctx.webhooks;
  if (!settings) return;
  const payload: WebhookDelivery['payload'] = { type: event.type, timestamp: new Date(fx.now).toISOString(), data: event.data };
  for (const endpoint of settings.transport.endpoints) {
    const input: WebhookInput = { endpoint, type: event.type, payload };
    const call = await enqueueProviderCall(fx, { key: deliveryKey(event.id, endpoint), kind: 'webhook', customerId: event.customerId, entityId: event.id, input });
    fx.after(() => void attempt(ctx, call));
  }
}

/** Sends every webhook delivery that is due now (failed ones whose backoff ran out, and those a crash left). */
export function deliverDueWebhooks(ctx: EngineContext): Promise<{ made: number; failed: number }> {
  return retryDueProviderCalls(ctx, 'webhook');
}

const STATUS: Record<ProviderCallRecord['status'], WebhookDeliveryStatus> = { PENDING: 'PENDING', DONE: 'DELIVERED', DROPPED: 'FAILED' };

/** Params of `getWebhookDeliveries`. */
export interface GetWebhookDeliveriesParams {
  /** Only deliveries in this status. */
  status?: WebhookDeliveryStatus;
  /** At most this many (1 to 1,000, default 100). */
  first?: number;
  /** The `pageInfo.endCursor` of the previous page. */
  after?: string;
}

/** One page of deliveries, oldest first (the house page shape, as getCreditLedger). */
export interface WebhookDeliveryPage {
  data: WebhookDeliveryInfo[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

function toInfo(c: ProviderCallRecord): WebhookDeliveryInfo {
  const input = c.input as WebhookInput;
  return {
    id: c.entityId,
    endpoint: input.endpoint,
    type: input.type,
    customerId: c.customerId,
    status: STATUS[c.status],
    attempts: c.attempts,
    lastError: c.status === 'DONE' ? null : c.lastError,
    nextAttemptAt: c.status === 'PENDING' ? new Date(c.notBefore) : null,
    payload: input.payload,
    createdAt: new Date(c.createdAt),
    updatedAt: new Date(c.updatedAt),
  };
}

const cursorOf = (c: { createdAt: number; key: string }): string => `${c.createdAt}:${c.key}`;

function readCursor(p: Params, raw: string | undefined): { createdAt: number; key: string } | undefined {
  if (raw === undefined) return undefined;
  const at = raw.indexOf(':');
  const createdAt = Number(raw.slice(0, at));
  if (at <= 0 || !/^\d{1,15}$/.test(raw.slice(0, at)) || !Number.isSafeInteger(createdAt)) p.fail('after', 'must be an endCursor from an earlier page');
  return { createdAt, key: raw.slice(at + 1) };
}

/**
 * Webhook deliveries with their status, attempts and last error, oldest first (docs/alerts.md).
 * Filtering by status pages through all deliveries in the store: meant for operators, not a hot path.
 */
export async function getWebhookDeliveries(ctx: EngineContext, params: unknown): Promise<WebhookDeliveryPage> {
  const p = new Params(params ?? {}, 'getWebhookDeliveries', ['status', 'first', 'after']);
  const status = p.optEnum('status', ['PENDING', 'DELIVERED', 'FAILED'] as const);
  const first = p.optNumber('first', { min: 1, max: 1000, integer: true }) ?? 100;
  let after = readCursor(p, p.optString('after', 4000) ?? undefined);
  const out: WebhookDeliveryInfo[] = [];
  let last: { createdAt: number; key: string } | undefined;
  for (;;) {
    const page = await ctx.store.transaction('read', (tx) => tx.listProviderCalls({ kind: 'webhook', limit: first + 1, ...(after ? { after } : {}) }));
    for (const c of page) {
      if (status !== undefined && STATUS[c.status] !== status) {
        after = { createdAt: c.createdAt, key: c.key };
        continue;
      }
      // One more than asked: it tells whether there is a next page.
      if (out.length === first) return { data: out, pageInfo: { hasNextPage: true, endCursor: cursorOf(last!) } };
      out.push(toInfo(c));
      last = after = { createdAt: c.createdAt, key: c.key };
    }
    if (page.length < first + 1) return { data: out, pageInfo: { hasNextPage: false, endCursor: last ? cursorOf(last) : null } };
  }
}

const pollers = new WeakMap<EngineContext, WebhookPoller>();

/** Starts polling due deliveries for an engine with webhooks (createEngine). */
export function startWebhookPoller(ctx: EngineContext): void {
  if (!ctx.webhooks || pollers.has(ctx)) return;
  const poller = new WebhookPoller(ctx);
  pollers.set(ctx, poller);
  poller.start();
}

/** Stops an engine's poller and waits for its pass in flight (close()). */
export async function stopWebhookPoller(ctx: EngineContext): Promise<void> {
  await pollers.get(ctx)?.stop();
}

/**
 * Polls due deliveries every `pollMs` (real time, unref'd) while the engine is open; one poll at
 * a time. Failures of the poll itself go to the error event (source store).
 */
export class WebhookPoller {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly ctx: EngineContext) {}

  start(): void {
    const ms = this.ctx.webhooks?.pollMs ?? 0;
    if (ms <= 0) return;
    this.timer = setInterval(() => void this.poll(), ms);
    this.timer.unref?.();
  }

  /** One pass over the due deliveries (joins the one running). */
  poll(): Promise<unknown> {
    this.running ??= deliverDueWebhooks(this.ctx)
      .catch((e) => this.ctx.reportError(e, { source: 'store', method: 'webhook delivery poll' }))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops polling; waits for a poll in flight (its attempts are drained by close()). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
