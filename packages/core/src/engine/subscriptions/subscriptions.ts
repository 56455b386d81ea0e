import { requireLiveCustomer } from '../runtime/lookups.js';
import { TesseraError } from '../../errors.js';
import { isLiveAt, statusAt } from '../../rules/lifecycle.js';
import type { ProviderCallRecord, SubscriptionRecord } from '../../records.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { Params } from '../runtime/params.js';
import { readSubscriptionInput } from './subscription-params.js';
import { endSubscription, provisionInTx, scheduleDowngrade } from './provisioning.js';
import { restoreHeldForTrial } from './replacement.js';
import { inIssueOrder, requireSubscription, toInvoice, type Invoice } from '../billing/billing.js';
import { currentPeriod, toSubscription, type Subscription } from './subscription-shape.js';
import { startCheckout } from '../billing/payments.js';

export { getSubscription } from './subscription-detail.js';

/**
 * The result of provisioning: PAYMENT_REQUIRED when a payment provider must collect first, with
 * the provider's `checkoutUrl`. When the provider fails, provisionSubscription throws
 * PAYMENT_PROVIDER_FAILED instead (the subscription is committed; docs/providers.md).
 */
export interface ProvisionSubscriptionResult {
  id: string;
  status: 'SUCCESS' | 'PAYMENT_REQUIRED';
  subscription: Subscription;
  checkoutUrl?: string;
}

/** `provisionSubscription`: see API.md. */
export async function provisionSubscription(ctx: EngineContext, params: unknown): Promise<ProvisionSubscriptionResult> {
  const { result, checkout } = await provisionWrite(ctx, params);
  // After the commit, outside any transaction; a failure throws PAYMENT_PROVIDER_FAILED (docs/providers.md).
  if (checkout) result.checkoutUrl = await startCheckout(ctx, checkout);
  return result;
}

/** The write of a provisioning; the checkout it leaves pending is the caller's to make after the commit. */
async function provisionWrite(ctx: EngineContext, params: unknown): Promise<{ result: ProvisionSubscriptionResult; checkout: ProviderCallRecord | undefined }> {
  const input = readSubscriptionInput(params, 'provisionSubscription', ctx.latest().catalog);
  const p = params as { checkoutOptions?: Record<string, unknown> };
  return write(ctx, async (fx) => {
    const customer = await requireLiveCustomer(fx.tx, input.customerId, 'provisionSubscription.customerId', 'provisionSubscription.customerId');
    const done = await provisionInTx(ctx, fx, input, customer, p.checkoutOptions ? { checkoutOptions: p.checkoutOptions } : {});
    const result: ProvisionSubscriptionResult = { id: done.record.id, status: done.status, subscription: toSubscription(done.record, fx.now) };
    if (done.invoice) result.subscription.latestInvoice = toInvoice(done.invoice);
    return { result, checkout: done.checkout };
  });
}

/**
 * A checkout that `engine.transaction` makes after its commit (docs/transactions.md#subscriptions):
 * the payment provider is never called inside the transaction.
 */
export interface PendingCheckout {
  readonly subscriptionId: string;
  /**
   * The checkout URL, once the transaction committed and the provider answered. Rejects with
   * CONFLICT when awaited before `engine.transaction` resolved (or after it rolled back: there is
   * no checkout then), PAYMENT_PROVIDER_FAILED when the provider failed (the subscription waits
   * in PAYMENT_PENDING; `retryCheckout` or `tick()` try again).
   */
  url(): Promise<string>;
}

/** What `tx.provisionSubscription` resolves to: the result of provisionSubscription, its checkout pending. */
export interface TransactionProvisionResult extends Omit<ProvisionSubscriptionResult, 'checkoutUrl'> {
  /** Set when status is PAYMENT_REQUIRED: the checkout made after the commit. */
  checkout?: PendingCheckout;
}

/**
 * The checkout of a provisioning made in the application's own transaction, whose commit Tessera
 * never hears of: made when asked, once the provider call can be read as committed (before the
 * commit, or after a rollback, it cannot: CONFLICT, and the provider is not called).
 */
async function checkoutOnceCommitted(root: EngineContext, call: ProviderCallRecord): Promise<string> {
  const stored = await root.store.transaction('read', (tx) => tx.getProviderCall(call.key));
  if (!stored) {
    throw new TesseraError(
      'CONFLICT',
      `checkout.url(): subscription "${call.entityId}" is not committed: call it after your transaction committed (after a rollback there is no checkout)`,
      { subscriptionId: call.entityId },
    );
  }
  if (stored.status === 'DONE') return (stored.result as { checkoutUrl: string }).checkoutUrl;
  if (stored.status === 'DROPPED') {
    throw new TesseraError('CONFLICT', `checkout.url(): subscription "${call.entityId}" no longer waits for a checkout`, { subscriptionId: call.entityId });
  }
  // Held by this process since the provisioning (enqueueProviderCall); attempt() joins a call in flight.
  return startCheckout(root, stored);
}

/**
 * `tx.provisionSubscription` inside `engine.transaction`: the provisioning joins the transaction
 * and its checkout is queued for after the commit, where `engine.transaction` starts it (whether
 * or not anyone asks for the URL; attempt() reports a failure).
 */
export async function provisionSubscriptionInTransaction(ctx: EngineContext, params: unknown): Promise<TransactionProvisionResult> {
  const joined = ctx.joined;
  if (!joined) throw new TesseraError('CONFLICT', 'tx.provisionSubscription: call it inside engine.transaction');
  const { result, checkout } = await provisionWrite(ctx, params);
  const { checkoutUrl: _none, ...rest } = result;
  if (!checkout) return rest;
  const subscriptionId = checkout.entityId;
  if (joined.external) return { ...rest, checkout: Object.freeze({ subscriptionId, url: () => checkoutOnceCommitted(ctx.root ?? ctx, checkout) }) };
  let made: Promise<string> | undefined;
  joined.afterCommit.push(() => {
    // After the commit the context is the engine's own again (runtime/transaction.ts).
    made = startCheckout(ctx, checkout);
    made.catch(() => undefined); // reported by attempt(); the caller sees it through url()
  });
  return {
    ...rest,
    checkout: Object.freeze({
      subscriptionId,
      url: () =>
        made ??
        Promise.reject(
          new TesseraError(
            'CONFLICT',
            `checkout.url(): the transaction that provisioned subscription "${subscriptionId}" has not committed (await it after engine.transaction resolved; after a rollback there is no checkout)`,
            { subscriptionId },
          ),
        ),
    }),
  };
}

/** `getInvoices`: a customer's invoices (optionally of one subscription), oldest first. Throws CUSTOMER_NOT_FOUND. */
export async function getInvoices(ctx: EngineContext, params: unknown): Promise<Invoice[]> {
  const p = new Params(params, 'getInvoices', ['customerId', 'subscriptionId']);
  const customerId = p.id('customerId');
  const subscriptionId = p.optId('subscriptionId');
  const rows = await ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, 'getInvoices.customerId');
    return tx.listInvoices(subscriptionId === undefined ? { customerId } : { customerId, subscriptionId });
  });
  return inIssueOrder(rows).map(toInvoice);
}

/** `getActiveSubscriptions`: subscriptions granting entitlements now (ACTIVE, IN_TRIAL), optionally for resources; the lean `Subscription`. */
export async function getActiveSubscriptions(ctx: EngineContext, params: unknown): Promise<Subscription[]> {
  const p = new Params(params, 'getActiveSubscriptions', ['customerId', 'resourceId']);
  const customerId = p.id('customerId');
  let resources: string[] | undefined;
  if (Array.isArray(p.raw.resourceId)) {
    resources = p.optArray('resourceId', (v, path) => new Params({ r: v }, path).id('r'));
  } else {
    const r = p.optId('resourceId');
    if (r !== undefined) resources = [r];
  }
  const now = ctx.clock.nowMs();
  const subs = await ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, 'getActiveSubscriptions.customerId');
    return tx.listSubscriptionsByCustomer(customerId);
  });
  return subs
    .filter((s) => {
      const st = statusAt(s, now);
      return (st === 'ACTIVE' || st === 'IN_TRIAL') && (!resources || resources.includes(s.resourceId));
    })
    .map((s) => toSubscription(s, now));
}

/** Parameters of `cancelSubscription`. */
export interface CancelSubscriptionParams {
  subscriptionId: string;
  cancellationTime?: 'IMMEDIATE' | 'END_OF_BILLING_PERIOD';
  endDate?: Date | string;
}

/**
 * `cancelSubscription`: ends now or at the end of the current billing period (the trial's end
 * while in trial); the product decides unless the call does. The journey's downgrade plan starts
 * when it ends. Throws SUBSCRIPTION_NOT_FOUND, CONFLICT when it has already ended.
 */
export async function cancelSubscription(ctx: EngineContext, params: unknown): Promise<Subscription> {
  const p = new Params(params, 'cancelSubscription', ['subscriptionId', 'cancellationTime', 'endDate']);
  const id = p.id('subscriptionId');
  const timing = p.optEnum('cancellationTime', ['IMMEDIATE', 'END_OF_BILLING_PERIOD'] as const);
  const endDate = p.optInstant('endDate');
  if (timing !== undefined && endDate !== undefined) p.fail('endDate', 'give either cancellationTime or endDate, not both');
  return write(ctx, async (fx) => {
    const now = fx.now;
    const { sub } = await requireSubscription(fx, id, 'cancelSubscription');
    const status = statusAt(sub, now);
    if (status === 'CANCELED' || status === 'EXPIRED') {
      throw new TesseraError('CONFLICT', `cancelSubscription.subscriptionId: subscription "${id}" has already ended`, { field: 'subscriptionId', value: id, status });
    }
    if (endDate !== undefined && endDate < now) p.fail('endDate', 'must not be in the past');
    const product = ctx.catalogs.get(sub.catalogVersion)?.catalog.products.get(sub.productId);
    const when = timing ?? product?.cancellationTime ?? 'END_OF_BILLING_PERIOD';
    let end = now;
    if (status === 'NOT_STARTED' || status === 'PAYMENT_PENDING') end = sub.startDate;
    else if (endDate !== undefined) end = endDate;
    else if (when === 'END_OF_BILLING_PERIOD') end = currentPeriod(sub, now)?.end ?? now;
    if (sub.endDate !== null) end = Math.min(end, sub.endDate);
    const ended = endSubscription(sub, end, now);
    await fx.tx.putSubscription(ended);
    await fx.change('subscription.updated', sub.customerId, sub.id, { status: 'CANCELED', endDate: end });
    // Ended at or before its trial's end, the trial never converts: what it held comes back
    // (docs/conventions.md#one-subscription-in-force), and what runs beside it is not its to end.
    const trialCut = sub.trialEndDate !== null && sub.trialEndDate > now && end <= sub.trialEndDate;
    if (trialCut) await restoreHeldForTrial(fx, sub);
    // Whatever was scheduled to start after it (an earlier downgrade) is replaced by this journey.
    const all = await fx.tx.listSubscriptionsByCustomer(sub.customerId);
    for (const s of all) {
      if (trialCut && s.metadata.previousSubscriptionId !== sub.id) continue;
      if (s.id !== sub.id && s.productId === sub.productId && s.resourceId === sub.resourceId && statusAt(s, now) === 'NOT_STARTED') {
        await fx.tx.putSubscription(endSubscription(s, s.startDate, now));
        await fx.change('subscription.updated', s.customerId, s.id, { status: 'CANCELED' });
      }
    }
    // Another subscription of the product still paid for at `end` (or arranged to start after it)
    // keeps the customer off the downgrade plan; one still in trial then does not (its own end
    // decides). A trial that already converted to paid counts as paid.
    const othersLive = (await fx.tx.listSubscriptionsByCustomer(sub.customerId)).some(
      (s) =>
        s.id !== sub.id &&
        s.productId === sub.productId &&
        s.resourceId === sub.resourceId &&
        (s.trialEndDate === null || s.trialEndDate <= end) &&
        isLiveAt(s, end),
    );
    if (!othersLive && status !== 'NOT_STARTED') await scheduleDowngrade(ctx, fx, ended, end);
    fx.invalidate(sub.customerId);
    fx.emit('subscriptionUpdated', { customerId: sub.customerId, subscriptionId: sub.id, status: statusAt(ended, now), at: new Date(now) });
    fx.emit('entitlementsUpdated', { customerId: sub.customerId, resourceId: sub.resourceId || null, reason: 'subscription.updated', at: new Date(now) });
    return toSubscription(ended, now);
  });
}
