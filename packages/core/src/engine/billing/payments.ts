import { TesseraError } from '../../errors.js';
import type { ProviderCallRecord } from '../../records.js';
import type { EngineContext } from '../runtime/context.js';
import { Params } from '../runtime/params.js';
import { attempt, checkoutKey, claim, inFlightAttempt, type CallOutcome, type CheckoutInput } from './provider-calls.js';

/**
 * Where payment is collected (none by default). With a provider configured, a paid subscription
 * for a customer without a payment method starts PAYMENT_PENDING, grants nothing, and the result
 * carries the provider's checkout URL until `engine.confirmPayment` is called (typically from the
 * provider's webhook). The engine calls `createCheckout` after its transaction committed, never
 * inside it, and may call it again for the same subscription (a failed attempt retried by
 * `tick()` or `retryCheckout`, a process that died mid-call): pass `idempotencyKey` on to the
 * provider (Stripe: the `Idempotency-Key` header) so that a repeat answers the same checkout.
 * docs/providers.md
 */
export interface PaymentProvider {
  /** Starts a checkout for a subscription; returns where to send the customer. Throw (or reject) when it failed. */
  createCheckout(input: CheckoutInput & {
    /** Stable for the subscription across every attempt ('checkout:<subscriptionId>'). */
    idempotencyKey: string;
  }): Promise<{ checkoutUrl: string }> | { checkoutUrl: string };
}

/** A provider for tests and demos: records each checkout and answers a deterministic URL. */
export function testPaymentProvider(baseUrl = 'https://checkout.example.test'): PaymentProvider & {
  checkouts: { customerId: string; subscriptionId: string; amount: string; currency: string; idempotencyKey: string }[];
} {
  const checkouts: { customerId: string; subscriptionId: string; amount: string; currency: string; idempotencyKey: string }[] = [];
  return {
    checkouts,
    createCheckout(input) {
      checkouts.push({ customerId: input.customerId, subscriptionId: input.subscriptionId, amount: input.amount, currency: input.currency, idempotencyKey: input.idempotencyKey });
      return { checkoutUrl: `${baseUrl}/${encodeURIComponent(input.subscriptionId)}` };
    },
  };
}

/** What `retryCheckout` answers. */
export interface CheckoutResult {
  subscriptionId: string;
  checkoutUrl: string;
}

/**
 * The error of a checkout the provider did not start. The subscription stays PAYMENT_PENDING
 * without a URL; `retryCheckout` or `tick()` tries again with the same idempotency key. The
 * provider's own error is the `cause` (and reported to the logger), never in the message: it may
 * carry what a client must not see.
 */
export function checkoutFailed(subscriptionId: string, cause: unknown): TesseraError {
  const e = new TesseraError(
    'PAYMENT_PROVIDER_FAILED',
    `paymentProvider.createCheckout failed for subscription "${subscriptionId}", which waits in PAYMENT_PENDING without a checkout URL; ` +
      `call retryCheckout({ subscriptionId: "${subscriptionId}" }) or let tick() retry (same idempotency key)`,
    { subscriptionId, idempotencyKey: checkoutKey(subscriptionId), retryable: true },
  );
  e.cause = cause;
  return e;
}

function urlOf(outcome: CallOutcome, subscriptionId: string): string {
  if (!outcome.ok) throw checkoutFailed(subscriptionId, outcome.error);
  return (outcome.result as { checkoutUrl: string }).checkoutUrl;
}

/** Makes the checkout a committed provisioning left pending; throws PAYMENT_PROVIDER_FAILED when the provider failed. */
export async function startCheckout(ctx: EngineContext, call: ProviderCallRecord): Promise<string> {
  return urlOf(await attempt(ctx, call), call.entityId);
}

/**
 * `retryCheckout`: the checkout URL of a PAYMENT_PENDING subscription, calling the provider again
 * (same idempotency key) when no attempt succeeded yet, or answering the URL already obtained.
 * Throws SUBSCRIPTION_NOT_FOUND; CONFLICT when the subscription waits for no checkout (paid,
 * cancelled, or no provider call) or another process is making the call now (retry after a
 * minute); PAYMENT_PROVIDER_FAILED when the provider failed again.
 */
export async function retryCheckout(ctx: EngineContext, params: unknown): Promise<CheckoutResult> {
  const p = new Params(params, 'retryCheckout', ['subscriptionId']);
  const subscriptionId = p.id('subscriptionId');
  const sub = await ctx.store.transaction('read', async (tx) => {
    const s = await tx.getSubscription(subscriptionId);
    const c = s ? await tx.getCustomer(s.customerId) : undefined;
    return s && c && c.archivedAt === null ? s : undefined;
  });
  if (!sub) throw new TesseraError('SUBSCRIPTION_NOT_FOUND', `retryCheckout.subscriptionId: no subscription "${subscriptionId}"`, { field: 'subscriptionId', value: subscriptionId });
  if (sub.status !== 'PAYMENT_PENDING') {
    throw new TesseraError('CONFLICT', `retryCheckout.subscriptionId: subscription "${subscriptionId}" is not awaiting payment (status ${sub.status})`, {
      field: 'subscriptionId',
      value: subscriptionId,
      status: sub.status,
    });
  }
  const key = checkoutKey(subscriptionId);
  const running = inFlightAttempt(ctx, key);
  if (running) return { subscriptionId, checkoutUrl: urlOf(await running, subscriptionId) };
  if (!ctx.paymentProvider) throw new TesseraError('CONFLICT', 'retryCheckout: no paymentProvider is configured', { field: 'subscriptionId', value: subscriptionId });
  const taken = await claim(ctx, key);
  switch (taken.state) {
    case 'done':
      return { subscriptionId, checkoutUrl: (taken.call.result as { checkoutUrl: string }).checkoutUrl };
    case 'claimed':
      return { subscriptionId, checkoutUrl: urlOf(await attempt(ctx, taken.call), subscriptionId) };
    case 'busy':
      throw new TesseraError('CONFLICT', `retryCheckout.subscriptionId: the checkout of "${subscriptionId}" is being created by another process; retry after a minute`, {
        field: 'subscriptionId',
        value: subscriptionId,
        retryable: true,
        retryAt: new Date(taken.call.notBefore).toISOString(),
      });
    default:
      throw new TesseraError('CONFLICT', `retryCheckout.subscriptionId: subscription "${subscriptionId}" is not waiting for a checkout (status ${sub.status})`, {
        field: 'subscriptionId',
        value: subscriptionId,
        status: sub.status,
      });
  }
}
