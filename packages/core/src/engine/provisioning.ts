import type { PlanDefinition } from '../catalog/types.js';
import { TesseraError } from '../errors.js';
import { MS_PER_DAY } from '../rules/calendar.js';
import { requirePromotionCode } from '../rules/discounts.js';
import type { PricedDocument } from '../rules/invoice.js';
import { isLiveAt, statusAt } from '../rules/lifecycle.js';
import type { Proration } from '../rules/proration.js';
import { billingPeriodAt, nthBillingPeriod, type Window } from '../rules/windows.js';
import type { CustomerRecord, InvoiceRecord, ProviderCallRecord, SubscriptionRecord } from '../records.js';
import { changeDocument, issueInvoice, periodDocument, periodKey, priceDocument, subscriptionLinesCurrency } from './billing.js';
import type { EngineContext, WriteEffects } from './context.js';
import { checkoutKey, enqueueProviderCall, type CheckoutInput } from './provider-calls.js';
import type { SubscriptionInput } from './subscription-params.js';
import { currentPeriod } from './subscription-shape.js';

/** What provisioning did: the subscription shown to the caller, and what was billed. */
export interface Provisioned {
  /** The new subscription, or for a scheduled downgrade the current one carrying the scheduled update. */
  record: SubscriptionRecord;
  status: 'SUCCESS' | 'PAYMENT_REQUIRED';
  /** The checkout committed PENDING, for the caller to make once the transaction committed (docs/providers.md). */
  checkout?: ProviderCallRecord;
  invoice?: InvoiceRecord;
  /** The document billed now (or that will be billed when the first period starts). */
  document?: PricedDocument;
  proration?: Proration;
  billingPeriodRange?: Window;
}

/** Ends a subscription at `end` (cancelled now), keeping what it already was. */
export function endSubscription(sub: SubscriptionRecord, end: number, now: number): SubscriptionRecord {
  return { ...sub, endDate: end, cancellationDate: now, status: 'CANCELED', updatedAt: now };
}

/** A fresh subscription record for a plan of the latest catalog. */
export function newRecord(
  ctx: EngineContext,
  input: { customerId: string; plan: PlanDefinition; resourceId: string; start: number; now: number; usageAnchor: number },
): SubscriptionRecord {
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
    promotionCodeAppliedAt: null,
    billingCountryCode: null,
    scheduledUpdates: [],
    metadata: {},
    createdAt: input.now,
    updatedAt: input.now,
  };
}

/** Starts the product's downgrade plan when `sub` ends at `at`, unless it is the plan itself. */
export async function scheduleDowngrade(ctx: EngineContext, fx: WriteEffects, sub: SubscriptionRecord, at: number): Promise<void> {
  const catalog = ctx.latest().catalog;
  const planId = catalog.products.get(sub.productId)?.downgradePlanId;
  if (!planId || planId === sub.planId) return;
  const plan = catalog.plans.get(planId);
  if (!plan) return;
  const down = newRecord(ctx, { customerId: sub.customerId, plan, resourceId: sub.resourceId, start: at, now: fx.now, usageAnchor: sub.usageAnchor });
  down.metadata = { startedBy: 'downgrade', previousSubscriptionId: sub.id };
  await fx.tx.putSubscription(down);
  await fx.change('subscription.updated', down.customerId, down.id, { status: down.status, planId: down.planId });
}

/** Writes a subscription, records the change, drops the customer's view and tells listeners after commit. */
export async function saveSubscription(fx: WriteEffects, rec: SubscriptionRecord, payload: Record<string, unknown>): Promise<void> {
  await fx.tx.putSubscription(rec);
  await fx.change('subscription.updated', rec.customerId, rec.id, { status: statusAt(rec, fx.now), ...payload });
  fx.invalidate(rec.customerId);
  fx.emit('subscriptionUpdated', { customerId: rec.customerId, subscriptionId: rec.id, status: statusAt(rec, fx.now), at: new Date(fx.now) });
  fx.emit('entitlementsUpdated', { customerId: rec.customerId, resourceId: rec.resourceId || null, reason: 'subscription.updated', at: new Date(fx.now) });
}

/**
 * Ends what a new subscription replaces (docs/conventions.md#provisioning): a trial ends other
 * trials of the product; a non-trial ends the other non-trial subscriptions and a trial of the
 * same plan; trials of other plans stay, and a converting trial holds the paid one until it ends.
 */
export async function replaceExisting(fx: WriteEffects, rec: SubscriptionRecord, existing: SubscriptionRecord[], trialPlanOnEnd?: string): Promise<void> {
  const now = fx.now;
  const isTrial = rec.trialEndDate !== null && rec.trialEndDate > now;
  const inTrial = (s: SubscriptionRecord) => s.trialEndDate !== null && s.trialEndDate > now;
  for (const s of existing) {
    if (s.id === rec.id) continue;
    const sTrial = inTrial(s);
    const replaced = isTrial ? sTrial : !sTrial || s.planId === rec.planId;
    if (!replaced) {
      if (isTrial && !sTrial && trialPlanOnEnd === 'CONVERT_TO_PAID' && (s.endDate === null || s.endDate > rec.trialEndDate!)) {
        const at = rec.trialEndDate!;
        const held: SubscriptionRecord = {
          ...s,
          endDate: at,
          cancellationDate: now,
          scheduledUpdates: [...s.scheduledUpdates, { kind: 'CANCELLATION', status: 'SCHEDULED', at, planId: rec.planId }],
          updatedAt: now,
        };
        await fx.tx.putSubscription(held);
        await fx.change('subscription.updated', s.customerId, s.id, { status: statusAt(held, now), endDate: at });
      }
      continue;
    }
    const ended = endSubscription(s, Math.max(Math.min(rec.startDate, s.endDate ?? Infinity), s.startDate), now);
    await fx.tx.putSubscription(ended);
    await fx.change('subscription.updated', s.customerId, s.id, { status: 'CANCELED', endDate: ended.endDate });
    fx.emit('subscriptionUpdated', { customerId: s.customerId, subscriptionId: s.id, status: 'CANCELED', at: new Date(now) });
  }
}

/** Validates a promotion code for a subscription (unknown, inactive, expired or exhausted: PROMOTION_CODE_INVALID). */
export async function checkPromotion(ctx: EngineContext, fx: WriteEffects, code: string, alreadyOn?: SubscriptionRecord): Promise<void> {
  const redemptions = (await fx.tx.countPromotionCodeRedemptions(code)) - (alreadyOn?.promotionCode === code ? 1 : 0);
  requirePromotionCode(code, ctx.latest().catalog, redemptions, fx.now);
}

/**
 * Provisions a subscription inside an open write. Upgrades (a plan later in the product's order)
 * take effect now with proration when the billing period stays; downgrades from a paid
 * subscription are scheduled for the end of its billing period. Bills the first period (or the
 * proration) with an invoice; with a payment provider and no payment method, the subscription
 * waits in PAYMENT_PENDING and `checkout` is the provider call for the caller to make after the commit.
 */
export async function provisionInTx(
  ctx: EngineContext,
  fx: WriteEffects,
  input: SubscriptionInput,
  customer: CustomerRecord,
  opts: { checkoutOptions?: Record<string, unknown>; estimate?: boolean } = {},
): Promise<Provisioned> {
  const now = fx.now;
  const start = input.startDate ?? now;
  if (input.promotionCode) await checkPromotion(ctx, fx, input.promotionCode);
  const existing = (await fx.tx.listSubscriptionsByCustomer(input.customerId)).filter(
    (s) => s.productId === input.plan.productId && s.resourceId === input.resourceId && isLiveAt(s, now),
  );
  const inTrial = (s: SubscriptionRecord) => s.trialEndDate !== null && s.trialEndDate > now;
  // Rule 2: provisioning the plan of one's current trial buys it now instead of trying again.
  const trialOfPlan = existing.some((s) => s.planId === input.plan.id && inTrial(s));
  const trialDays = input.plan.trial && !input.skipTrial && !trialOfPlan ? input.plan.trial.days : 0;
  const isTrial = trialDays > 0;
  const current = existing.find((s) => statusAt(s, now) === 'ACTIVE' && !inTrial(s));
  const catalog = ctx.latest().catalog;
  // Usage windows continue from the subscription in force, so counted usage carries over.
  const usageAnchor = (current ?? existing.find((s) => statusAt(s, now) === 'IN_TRIAL'))?.usageAnchor ?? start;

  const rec = newRecord(ctx, { customerId: input.customerId, plan: input.plan, resourceId: input.resourceId, start, now, usageAnchor });
  rec.billingPeriod = input.billingPeriod;
  rec.addons = input.addons;
  rec.billableFeatures = input.billableFeatures;
  rec.promotionCode = input.promotionCode;
  rec.promotionCodeAppliedAt = input.promotionCode ? start : null;
  rec.billingCountryCode = input.billingCountryCode;
  rec.metadata = input.metadata;

  const isDowngrade =
    !isTrial &&
    input.startDate === undefined &&
    current !== undefined &&
    current.billingPeriod !== null &&
    current.planId !== input.plan.id &&
    catalog.planRank(input.plan.id) < catalog.planRank(current.planId);
  if (isDowngrade) {
    // A paid subscription keeps what was paid for until its period ends.
    const at = currentPeriod(current, now)!.end;
    for (const s of existing) {
      if (statusAt(s, now) === 'NOT_STARTED') await fx.tx.putSubscription(endSubscription(s, s.startDate, now));
    }
    const scheduled: SubscriptionRecord = {
      ...current,
      endDate: at,
      cancellationDate: now,
      scheduledUpdates: [
        ...current.scheduledUpdates.filter((u) => u.kind !== 'PLAN_CHANGE'),
        { kind: 'PLAN_CHANGE', status: 'SCHEDULED', at, planId: input.plan.id, ...(input.billingPeriod ? { billingPeriod: input.billingPeriod } : {}) },
      ],
      updatedAt: now,
    };
    rec.startDate = at;
    rec.billingAnchor = at;
    rec.status = 'NOT_STARTED';
    rec.metadata = { ...rec.metadata, startedBy: 'scheduledDowngrade', previousSubscriptionId: current.id };
    if (rec.promotionCode) rec.promotionCodeAppliedAt = at;
    await saveSubscription(fx, rec, { planId: rec.planId, scheduled: true });
    await saveSubscription(fx, scheduled, { scheduledPlanId: input.plan.id, endDate: at });
    // Nothing is billed now; an estimate shows the first period of the plan it moves to.
    const first = rec.billingPeriod ? nthBillingPeriod(rec.billingAnchor, rec.billingPeriod, 0) : { start: at, end: at };
    const currency = subscriptionLinesCurrency(ctx, current, customer);
    const document = rec.billingPeriod
      ? periodDocument(ctx, rec, customer, first)
      : priceDocument(ctx, rec, customer, [], at, currency);
    return { record: scheduled, status: 'SUCCESS', document, billingPeriodRange: first };
  }

  if (isTrial) {
    rec.trialEndDate = start + trialDays * MS_PER_DAY;
    rec.status = start > now ? 'NOT_STARTED' : 'IN_TRIAL';
    // Billing starts when the trial converts; a trial that downgrades simply expires.
    rec.billingAnchor = rec.trialEndDate;
    if (input.plan.trial?.onEnd === 'DOWNGRADE') {
      rec.endDate = rec.trialEndDate;
      // The journey's downgrade plan follows only when nothing else of the product goes on.
      const continues = existing.some((s) => !inTrial(s) && (s.endDate === null || s.endDate > rec.trialEndDate!));
      if (!continues) await scheduleDowngrade(ctx, fx, rec, rec.trialEndDate);
    }
  }

  const result: Provisioned = { record: rec, status: 'SUCCESS' };
  const paid = input.plan.pricingType === 'PAID' && rec.billingPeriod !== null;
  if (paid && !isTrial) {
    // An upgrade in the same billing period keeps the cycle and is prorated; anything else starts one.
    const keepCycle = current !== undefined && current.billingPeriod === rec.billingPeriod && start === now;
    if (keepCycle) rec.billingAnchor = current.billingAnchor;
    const period = billingPeriodAt(rec.billingAnchor, rec.billingPeriod!, Math.max(now, rec.billingAnchor));
    result.billingPeriodRange = period;
    if (current?.billingPeriod && start === now) {
      const { document, proration } = changeDocument(ctx, customer, { sub: current, period: currentPeriod(current, now)! }, { sub: rec, period }, now);
      result.document = document;
      result.proration = proration;
    } else {
      result.document = periodDocument(ctx, rec, customer, period);
    }
    if (start <= now) {
      const invoice = await issueInvoice(ctx, fx, { sub: rec, kind: keepCycle ? 'UPDATE' : 'PROVISIONING', dedupeKey: periodKey(rec, period), period, document: result.document });
      if (invoice) result.invoice = invoice;
    }
    if (ctx.paymentProvider && !opts.estimate && customer.billingInfo?.hasPaymentMethod !== true) {
      // The provider is called after the commit, never here (docs/providers.md): this commits the pending call.
      rec.status = 'PAYMENT_PENDING';
      const input: CheckoutInput = {
        customerId: rec.customerId,
        subscriptionId: rec.id,
        planId: rec.planId,
        amount: result.document.total,
        currency: result.document.currency,
        ...(opts.checkoutOptions ? { options: opts.checkoutOptions } : {}),
      };
      result.status = 'PAYMENT_REQUIRED';
      result.checkout = await enqueueProviderCall(fx, { key: checkoutKey(rec.id), kind: 'createCheckout', customerId: rec.customerId, entityId: rec.id, input });
      await saveSubscription(fx, rec, { planId: rec.planId });
      return result;
    }
  } else if (paid && isTrial) {
    // What the trial will bill when it converts (an estimate shows it).
    const period = nthBillingPeriod(rec.billingAnchor, rec.billingPeriod!, 0);
    result.billingPeriodRange = period;
    result.document = periodDocument(ctx, rec, customer, period);
  }
  await replaceExisting(fx, rec, existing, input.plan.trial?.onEnd);
  if (!isTrial) {
    // Bought beside a trial of another plan that will convert: it gives way when the trial converts.
    const converting = existing.find(
      (s) => inTrial(s) && s.planId !== rec.planId && s.endDate === null && catalog.plans.get(s.planId)?.trial?.onEnd === 'CONVERT_TO_PAID',
    );
    if (converting && (rec.endDate === null || rec.endDate > converting.trialEndDate!)) {
      rec.endDate = converting.trialEndDate;
      rec.cancellationDate = now;
      rec.scheduledUpdates = [...rec.scheduledUpdates, { kind: 'CANCELLATION', status: 'SCHEDULED', at: converting.trialEndDate!, planId: converting.planId }];
    }
  }
  await saveSubscription(fx, rec, { planId: rec.planId });
  return result;
}

/**
 * Completes a PAYMENT_PENDING subscription once the provider confirmed payment: it becomes
 * active (and replaces what it was to replace). Throws CONFLICT when it is not pending.
 */
export async function confirmPaymentInTx(fx: WriteEffects, sub: SubscriptionRecord): Promise<SubscriptionRecord> {
  if (sub.status !== 'PAYMENT_PENDING') {
    throw new TesseraError('CONFLICT', `confirmPayment.subscriptionId: subscription "${sub.id}" is not awaiting payment`, { field: 'subscriptionId', status: sub.status });
  }
  const existing = (await fx.tx.listSubscriptionsByCustomer(sub.customerId)).filter(
    (s) => s.productId === sub.productId && s.resourceId === sub.resourceId && isLiveAt(s, fx.now),
  );
  const active: SubscriptionRecord = { ...sub, status: 'ACTIVE', updatedAt: fx.now };
  await replaceExisting(fx, active, existing);
  await saveSubscription(fx, active, { paymentConfirmed: true });
  return active;
}
