import type { PlanDefinition } from '../catalog/types.js';
import { TesseraError } from '../errors.js';
import { MS_PER_DAY } from '../rules/calendar.js';
import { isLiveAt, statusAt } from '../rules/lifecycle.js';
import type { CustomerRecord, SubscriptionRecord } from '../store/records.js';
import { write, type EngineContext, type WriteEffects } from './context.js';
import { Params, readIdArgument } from './params.js';
import { readSubscriptionInput, type SubscriptionInput } from './subscription-params.js';
import { currentPeriod, toSubscription, type Subscription } from './subscription-shape.js';

/** The result of provisioning: PAYMENT_REQUIRED when a payment provider must collect first. */
export interface ProvisionSubscriptionResult {
  id: string;
  status: 'SUCCESS' | 'PAYMENT_REQUIRED';
  subscription: Subscription;
  checkoutUrl?: string;
}

async function requireCustomer(fx: WriteEffects, customerId: string, field: string): Promise<CustomerRecord> {
  const c = await fx.tx.getCustomer(customerId);
  if (!c || c.archivedAt !== null) {
    throw new TesseraError('CUSTOMER_NOT_FOUND', `${field}: no customer "${customerId}"; provision it first`, { field, value: customerId });
  }
  return c;
}

/** Ends a subscription at `end` (cancelled now), keeping what it already was. */
function endSubscription(sub: SubscriptionRecord, end: number, now: number): SubscriptionRecord {
  return { ...sub, endDate: end, cancellationDate: now, status: 'CANCELED', updatedAt: now };
}

/** A fresh subscription record for a plan of the latest catalog. */
function newRecord(ctx: EngineContext, input: {
  customerId: string;
  plan: PlanDefinition;
  resourceId: string;
  start: number;
  now: number;
  usageAnchor: number;
}): SubscriptionRecord {
  const latest = ctx.latest();
  return {
    id: ctx.newId('sub'),
    customerId: input.customerId,
    productId: input.plan.productId,
    planId: input.plan.id,
    planVersion: latest.record.planVersions[input.plan.id] ?? 1,
    catalogVersion: latest.record.version,
    resourceId: input.resourceId,
    billingPeriod: null,
    status: input.start > input.now ? 'NOT_STARTED' : 'ACTIVE',
    startDate: input.start,
    billingAnchor: input.start,
    usageAnchor: input.usageAnchor,
    trialEndDate: null,
    endDate: null,
    cancellationDate: null,
    addons: [],
    billableFeatures: [],
    promotionCode: null,
    billingCountryCode: null,
    scheduledUpdates: [],
    metadata: {},
    createdAt: input.now,
    updatedAt: input.now,
  };
}

/**
 * Provisions a subscription inside an open write (docs/conventions.md#provisioning):
 * a trial ends other trials of the product; a non-trial ends the other non-trial subscriptions
 * and a trial of the same plan; trials of other plans stay. Usage windows keep the anchor of the
 * subscription replaced, so usage already counted carries over to the new limit.
 */
export async function provisionInTx(ctx: EngineContext, fx: WriteEffects, input: SubscriptionInput): Promise<SubscriptionRecord> {
  const now = fx.now;
  const start = input.startDate ?? now;
  const existing = (await fx.tx.listSubscriptionsByCustomer(input.customerId)).filter(
    (s) => s.productId === input.plan.productId && s.resourceId === input.resourceId && isLiveAt(s, now),
  );
  const inTrial = (s: SubscriptionRecord) => s.trialEndDate !== null && s.trialEndDate > now;
  // Rule 2: provisioning the plan of one's current trial buys it now instead of trying again.
  const trialOfPlan = existing.some((s) => s.planId === input.plan.id && inTrial(s));
  const trialDays = input.plan.trial && !input.skipTrial && !trialOfPlan ? input.plan.trial.days : 0;
  const isTrial = trialDays > 0;
  const trialEnd = start + trialDays * MS_PER_DAY;
  // Usage windows continue from the subscription in force, so counted usage carries over.
  const current = existing.find((s) => statusAt(s, now) === 'ACTIVE') ?? existing.find((s) => statusAt(s, now) === 'IN_TRIAL');
  const usageAnchor = current?.usageAnchor ?? start;
  for (const s of existing) {
    const sTrial = inTrial(s);
    const replaced = isTrial ? sTrial : !sTrial || s.planId === input.plan.id;
    if (!replaced) {
      // Rule 1: a trial of another plan runs beside the paid subscription, which ends when the
      // trial converts (and is given back if the trial is cancelled first).
      if (isTrial && !sTrial && input.plan.trial?.onEnd === 'CONVERT_TO_PAID' && (s.endDate === null || s.endDate > trialEnd)) {
        const held: SubscriptionRecord = {
          ...s,
          endDate: trialEnd,
          scheduledUpdates: [...s.scheduledUpdates, { kind: 'CANCELLATION', status: 'SCHEDULED', at: trialEnd, planId: input.plan.id }],
          updatedAt: now,
        };
        await fx.tx.putSubscription(held);
        await fx.change('subscription.updated', s.customerId, s.id, { status: statusAt(held, now), endDate: trialEnd });
      }
      continue;
    }
    const ended = endSubscription(s, Math.max(Math.min(start, s.endDate ?? Infinity), s.startDate), now);
    await fx.tx.putSubscription(ended);
    await fx.change('subscription.updated', s.customerId, s.id, { status: 'CANCELED', endDate: ended.endDate });
    fx.emit('subscriptionUpdated', { customerId: s.customerId, subscriptionId: s.id, status: 'CANCELED', at: new Date(now) });
  }
  const rec = newRecord(ctx, { customerId: input.customerId, plan: input.plan, resourceId: input.resourceId, start, now, usageAnchor });
  rec.billingPeriod = input.billingPeriod;
  rec.addons = input.addons;
  rec.billableFeatures = input.billableFeatures;
  rec.promotionCode = input.promotionCode;
  rec.billingCountryCode = input.billingCountryCode;
  rec.metadata = input.metadata;
  if (isTrial) {
    rec.trialEndDate = trialEnd;
    rec.status = start > now ? 'NOT_STARTED' : 'IN_TRIAL';
    // Billing starts when the trial converts; a trial that downgrades simply expires.
    rec.billingAnchor = rec.trialEndDate;
    if (input.plan.trial?.onEnd === 'DOWNGRADE') {
      rec.endDate = rec.trialEndDate;
      await scheduleDowngrade(ctx, fx, rec, rec.trialEndDate);
    }
  }
  await fx.tx.putSubscription(rec);
  await fx.change('subscription.updated', rec.customerId, rec.id, { status: rec.status, planId: rec.planId });
  fx.invalidate(rec.customerId);
  fx.emit('subscriptionUpdated', { customerId: rec.customerId, subscriptionId: rec.id, status: statusAt(rec, now), at: new Date(now) });
  fx.emit('entitlementsUpdated', {
    customerId: rec.customerId,
    resourceId: rec.resourceId || null,
    reason: 'subscription.updated',
    at: new Date(now),
  });
  return rec;
}

/** Starts the product's downgrade plan when `sub` ends at `at`, unless it is the plan itself. */
async function scheduleDowngrade(ctx: EngineContext, fx: WriteEffects, sub: SubscriptionRecord, at: number): Promise<void> {
  const catalog = ctx.latest().catalog;
  const product = catalog.products.get(sub.productId);
  const planId = product?.downgradePlanId;
  if (!planId || planId === sub.planId) return;
  const plan = catalog.plans.get(planId);
  if (!plan) return;
  const down = newRecord(ctx, { customerId: sub.customerId, plan, resourceId: sub.resourceId, start: at, now: fx.now, usageAnchor: sub.usageAnchor });
  down.metadata = { startedBy: 'downgrade', previousSubscriptionId: sub.id };
  await fx.tx.putSubscription(down);
  await fx.change('subscription.updated', down.customerId, down.id, { status: down.status, planId: down.planId });
}

/** A trial that will not convert gives back the paid subscriptions it was to replace. */
async function restoreHeldForTrial(fx: WriteEffects, trial: SubscriptionRecord): Promise<void> {
  const isHold = (u: SubscriptionRecord['scheduledUpdates'][number]) =>
    u.kind === 'CANCELLATION' && u.at === trial.trialEndDate && u.planId === trial.planId;
  for (const s of await fx.tx.listSubscriptionsByCustomer(trial.customerId)) {
    if (s.id === trial.id || s.productId !== trial.productId || s.resourceId !== trial.resourceId) continue;
    if (!s.scheduledUpdates.some(isHold) || s.endDate !== trial.trialEndDate) continue;
    const back: SubscriptionRecord = { ...s, endDate: null, scheduledUpdates: s.scheduledUpdates.filter((u) => !isHold(u)), updatedAt: fx.now };
    await fx.tx.putSubscription(back);
    await fx.change('subscription.updated', s.customerId, s.id, { status: statusAt(back, fx.now), endDate: null });
  }
}

/** `provisionSubscription`: see API.md. */
export async function provisionSubscription(ctx: EngineContext, params: unknown): Promise<ProvisionSubscriptionResult> {
  const input = readSubscriptionInput(params, 'provisionSubscription', ctx.latest().catalog);
  return write(ctx, async (fx) => {
    await requireCustomer(fx, input.customerId, 'provisionSubscription.customerId');
    const rec = await provisionInTx(ctx, fx, input);
    return { id: rec.id, status: 'SUCCESS', subscription: toSubscription(rec, fx.now) };
  });
}

/** `getSubscription`: one subscription by id. Throws SUBSCRIPTION_NOT_FOUND. */
export async function getSubscription(ctx: EngineContext, subscriptionId: unknown): Promise<Subscription> {
  const id = readIdArgument(subscriptionId, 'subscriptionId');
  const now = ctx.clock.nowMs();
  const sub = await ctx.store.transaction('read', async (tx) => {
    const s = await tx.getSubscription(id);
    if (!s) return undefined;
    const c = await tx.getCustomer(s.customerId);
    return c && c.archivedAt === null ? s : undefined;
  });
  if (!sub) throw new TesseraError('SUBSCRIPTION_NOT_FOUND', `subscriptionId: no subscription "${id}"`, { field: 'subscriptionId', value: id });
  return toSubscription(sub, now);
}

/** `getActiveSubscriptions`: subscriptions granting entitlements now (ACTIVE, IN_TRIAL), optionally for resources. */
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
    const c = await tx.getCustomer(customerId);
    if (!c || c.archivedAt !== null) {
      throw new TesseraError('CUSTOMER_NOT_FOUND', `customerId: no customer "${customerId}"`, { field: 'customerId', value: customerId });
    }
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
    const sub = await fx.tx.getSubscription(id);
    const customer = sub && (await fx.tx.getCustomer(sub.customerId));
    if (!sub || !customer || customer.archivedAt !== null) {
      throw new TesseraError('SUBSCRIPTION_NOT_FOUND', `cancelSubscription.subscriptionId: no subscription "${id}"`, { field: 'subscriptionId', value: id });
    }
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
    if (sub.trialEndDate !== null && end < sub.trialEndDate) await restoreHeldForTrial(fx, sub);
    // Whatever was scheduled to start after it (an earlier downgrade) is replaced by this journey.
    const all = await fx.tx.listSubscriptionsByCustomer(sub.customerId);
    for (const s of all) {
      if (s.id !== sub.id && s.productId === sub.productId && s.resourceId === sub.resourceId && statusAt(s, now) === 'NOT_STARTED') {
        await fx.tx.putSubscription(endSubscription(s, s.startDate, now));
        await fx.change('subscription.updated', s.customerId, s.id, { status: 'CANCELED' });
      }
    }
    const othersLive = all.some(
      (s) => s.id !== sub.id && s.productId === sub.productId && s.resourceId === sub.resourceId && s.trialEndDate === null && isLiveAt(s, end) && statusAt(s, now) !== 'NOT_STARTED',
    );
    if (!othersLive && status !== 'NOT_STARTED') await scheduleDowngrade(ctx, fx, ended, end);
    fx.invalidate(sub.customerId);
    fx.emit('subscriptionUpdated', { customerId: sub.customerId, subscriptionId: sub.id, status: statusAt(ended, now), at: new Date(now) });
    fx.emit('entitlementsUpdated', { customerId: sub.customerId, resourceId: sub.resourceId || null, reason: 'subscription.updated', at: new Date(now) });
    return toSubscription(ended, now);
  });
}
