/**
 * The outbox of provider calls (docs/providers.md): a call to a payment or billing provider is
 * committed as a PENDING record in the transaction that needs it, made after the commit with its
 * record's key as the idempotency key, and settled in a short transaction of its own. A call that
 * failed, or that a crash interrupted, is made again by `tick()` with the same key. No provider is
 * ever called inside a store transaction: a slow one holds no lock, and a transaction that runs
 * again (PostgreSQL serialization retries) cannot call it twice. Webhook deliveries of alert events
 * (kind 'webhook', alerts/webhooks.ts) ride the same outbox, with backoff and a lease of their own.
 */
import { TesseraError } from '../../errors.js';
import type { EngineErrorSource } from '../../events.js';
import type { InvoiceRecord, ProviderCallKind, ProviderCallRecord } from '../../records.js';
import type { StoreTx } from '../../store/store.js';
import { toInvoice } from './billing.js';
import { nextWebhookAttempt, sendWebhook } from '../alerts/webhook-send.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';

/**
 * How long an attempt holds its call (ms, engine clock): another process's `tick()` leaves the call
 * alone meanwhile. A process that dies mid-call leaves it to the first tick after the lease.
 */
export const PROVIDER_CALL_LEASE_MS = 60_000;

/** The key (and idempotency key) of a subscription's checkout. */
export const checkoutKey = (subscriptionId: string): string => `checkout:${subscriptionId}`;
/** The key of an invoice's delivery to the billing provider (the provider sees `invoice.id`). */
export const invoiceDeliveryKey = (invoiceId: string): string => `invoice:${invoiceId}`;

/** What a checkout call is made with (stored as the call's input). */
export interface CheckoutInput {
  customerId: string;
  subscriptionId: string;
  planId: string;
  /** Decimal string in `currency`. */
  amount: string;
  currency: string;
  options?: Record<string, unknown>;
}

/** How an attempt ended. */
export type CallOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** What `claim` found. */
export type Claim =
  | { state: 'claimed'; call: ProviderCallRecord }
  | { state: 'done'; call: ProviderCallRecord }
  | { state: 'busy'; call: ProviderCallRecord }
  | { state: 'dropped' | 'missing' };

/** Attempts in flight in this process, per engine: a second caller joins the first instead of calling again. */
const inFlight = new WeakMap<EngineContext, Map<string, Promise<CallOutcome>>>();

function flights(ctx: EngineContext): Map<string, Promise<CallOutcome>> {
  // Under the engine's own context, also for a call queued inside engine.transaction: close() waits for it.
  const owner = ctx.root ?? ctx;
  let m = inFlight.get(owner);
  if (!m) inFlight.set(owner, (m = new Map()));
  return m;
}

function sourceOf(kind: ProviderCallKind): EngineErrorSource {
  return kind === 'createCheckout' ? 'paymentProvider' : kind === 'webhook' ? 'webhook' : 'billingProvider';
}

/** How long an attempt of this kind holds its call (webhooks have a lease of their own, docs/alerts.md). */
function leaseOf(ctx: EngineContext, kind: ProviderCallKind): number {
  return kind === 'webhook' ? (ctx.webhooks?.leaseMs ?? PROVIDER_CALL_LEASE_MS) : PROVIDER_CALL_LEASE_MS;
}

/** Whether calls of this kind can be made by this engine (a call of an unconfigured one stays pending). */
function configured(ctx: EngineContext, kind: ProviderCallKind): boolean {
  return kind === 'createCheckout' ? ctx.paymentProvider !== undefined : kind === 'webhook' ? ctx.webhooks !== undefined : ctx.billingProvider !== undefined;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Commits a call inside the caller's transaction. The caller holds it for a lease and makes it
 * once the transaction committed (`attempt`).
 */
export async function enqueueProviderCall(
  fx: WriteEffects,
  call: { key: string; kind: ProviderCallKind; customerId: string; entityId: string; input: unknown },
): Promise<ProviderCallRecord> {
  const rec: ProviderCallRecord = {
    ...call,
    status: 'PENDING',
    result: null,
    attempts: 1,
    notBefore: fx.now + leaseOf(fx.ctx, call.kind),
    lastError: null,
    createdAt: fx.now,
    updatedAt: fx.now,
  };
  await fx.tx.putProviderCall(rec);
  return rec;
}

/** A checkout that no longer has a subscription waiting for payment is not made. */
async function stillNeeded(tx: StoreTx, call: ProviderCallRecord): Promise<boolean> {
  if (call.kind !== 'createCheckout') return true;
  const sub = await tx.getSubscription(call.entityId);
  return sub !== undefined && sub.status === 'PAYMENT_PENDING';
}

/** Takes a PENDING call whose lease ran out, for one attempt, in a short transaction. */
export async function claim(ctx: EngineContext, key: string): Promise<Claim> {
  return ctx.store.transaction('write', async (tx): Promise<Claim> => {
    const now = ctx.clock.nowMs();
    const call = await tx.getProviderCall(key);
    if (!call) return { state: 'missing' };
    if (call.status === 'DONE') return { state: 'done', call };
    if (call.status === 'DROPPED') return { state: 'dropped' };
    if (!(await stillNeeded(tx, call))) {
      await tx.putProviderCall({ ...call, status: 'DROPPED', updatedAt: now });
      return { state: 'dropped' };
    }
    if (call.notBefore > now) return { state: 'busy', call };
    const claimed: ProviderCallRecord = { ...call, attempts: call.attempts + 1, notBefore: now + leaseOf(ctx, call.kind), updatedAt: now };
    await tx.putProviderCall(claimed);
    return { state: 'claimed', call: claimed };
  });
}

/** Calls the provider (outside any transaction); returns what to store as the result. */
async function invoke(ctx: EngineContext, call: ProviderCallRecord, invoice?: InvoiceRecord): Promise<unknown> {
  if (call.kind === 'webhook') {
    if (!ctx.webhooks) throw new TesseraError('CONFLICT', 'no webhooks transport is configured to deliver the event', { webhookId: call.entityId });
    await sendWebhook(ctx.webhooks, call);
    return null;
  }
  if (call.kind === 'createCheckout') {
    const provider = ctx.paymentProvider;
    if (!provider) throw new TesseraError('PAYMENT_PROVIDER_FAILED', 'no paymentProvider is configured to create the checkout', { subscriptionId: call.entityId });
    const answer: unknown = await provider.createCheckout({ ...(call.input as CheckoutInput), idempotencyKey: call.key });
    const url = (answer as { checkoutUrl?: unknown } | null | undefined)?.checkoutUrl;
    if (typeof url !== 'string' || url === '') {
      throw new TesseraError('PAYMENT_PROVIDER_FAILED', 'paymentProvider.createCheckout must answer { checkoutUrl: string }', { subscriptionId: call.entityId });
    }
    return { checkoutUrl: url };
  }
  const provider = ctx.billingProvider;
  if (!provider) throw new TesseraError('CONFLICT', 'no billingProvider is configured to deliver the invoice to', { invoiceId: call.entityId });
  const rec = invoice ?? (await loadInvoice(ctx, call));
  await provider.onInvoiceCreated(toInvoice(rec));
  return null;
}

async function loadInvoice(ctx: EngineContext, call: ProviderCallRecord): Promise<InvoiceRecord> {
  const found = await ctx.store.transaction('read', async (tx) => (await tx.listInvoices({ customerId: call.customerId })).find((i) => i.id === call.entityId));
  if (!found) throw new TesseraError('CONFLICT', `invoice "${call.entityId}" of customer "${call.customerId}" is not in the store`, { invoiceId: call.entityId });
  return found;
}

/** Commits how an attempt ended: DONE with its result, or PENDING again at once for the next tick. */
async function settle(ctx: EngineContext, key: string, outcome: CallOutcome): Promise<void> {
  await ctx.store.transaction('write', async (tx) => {
    const now = ctx.clock.nowMs();
    const call = await tx.getProviderCall(key);
    if (!call || call.status !== 'PENDING') return;
    if (outcome.ok) {
      await tx.putProviderCall({ ...call, status: 'DONE', result: outcome.result ?? null, lastError: null, updatedAt: now });
      return;
    }
    const lastError = describe(outcome.error).slice(0, 1000);
    if (call.kind === 'webhook' && ctx.webhooks) {
      // Webhooks wait with backoff and jitter, and are given up after their attempts (docs/alerts.md#retries).
      const next = nextWebhookAttempt(ctx.webhooks, call.attempts, now, Math.random());
      await tx.putProviderCall({ ...call, ...(next === null ? { status: 'DROPPED' as const } : { notBefore: next }), lastError, updatedAt: now });
      return;
    }
    await tx.putProviderCall({ ...call, notBefore: now, lastError, updatedAt: now });
  });
}

/**
 * Makes one attempt of a call this process holds and commits its outcome. Never throws: a
 * provider's failure is reported (source paymentProvider / billingProvider) and returned; a
 * failure to commit the outcome is reported too, and the lease then hands the call to a later tick.
 * A second attempt of the same key in this process joins the one in flight.
 */
export function attempt(ctx: EngineContext, call: ProviderCallRecord, invoice?: InvoiceRecord): Promise<CallOutcome> {
  const running = flights(ctx);
  const joined = running.get(call.key);
  if (joined) return joined;
  const run = (async (): Promise<CallOutcome> => {
    let outcome: CallOutcome;
    try {
      outcome = { ok: true, result: await invoke(ctx, call, invoice) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    try {
      await settle(ctx, call.key, outcome);
    } catch (e) {
      ctx.reportError(e, { source: 'store', method: `${call.kind} outcome`, customerId: call.customerId });
    }
    // Reported once the outcome is committed, so that a listener that retries finds the call free.
    if (!outcome.ok) ctx.reportError(outcome.error, { source: sourceOf(call.kind), method: call.kind, customerId: call.customerId });
    return outcome;
  })().finally(() => running.delete(call.key));
  running.set(call.key, run);
  return run;
}

/** The attempt in flight in this process for `key`, if any. */
export function inFlightAttempt(ctx: EngineContext, key: string): Promise<CallOutcome> | undefined {
  return inFlight.get(ctx.root ?? ctx)?.get(key);
}

/**
 * Makes again every PENDING call whose lease ran out (failed ones, and those a crash left), once
 * each, oldest first; calls of a provider that is not configured stay pending. For `tick()`.
 */
export async function retryDueProviderCalls(ctx: EngineContext, only?: ProviderCallKind): Promise<{ made: number; failed: number }> {
  const out = { made: 0, failed: 0 };
  let after: { createdAt: number; key: string } | undefined;
  for (;;) {
    const now = ctx.clock.nowMs();
    const page = await ctx.store.transaction('read', (tx) => tx.listDueProviderCalls({ dueAt: now, limit: 100, ...(after ? { after } : {}) }));
    for (const call of page) {
      if ((only !== undefined && call.kind !== only) || !configured(ctx, call.kind) || inFlightAttempt(ctx, call.key)) continue;
      const taken = await claim(ctx, call.key);
      if (taken.state !== 'claimed') continue;
      out.made++;
      if (!(await attempt(ctx, taken.call)).ok) out.failed++;
    }
    if (page.length < 100) return out;
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, key: last.key };
  }
}

/**
 * Waits for this engine's attempts in flight, at most `timeoutMs` (for `close()`): an attempt cut
 * short is not lost, its call stays PENDING for a later tick.
 */
export async function drainProviderCalls(ctx: EngineContext, timeoutMs = 10_000): Promise<void> {
  const running = [...(inFlight.get(ctx.root ?? ctx)?.values() ?? [])];
  if (running.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref?.();
  });
  await Promise.race([Promise.allSettled(running), limit]);
  clearTimeout(timer);
}
