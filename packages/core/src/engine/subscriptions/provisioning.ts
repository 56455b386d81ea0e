import type { PlanDefinition } from '../../catalog/types.js';
import { TesseraError } from '../../errors.js';
import { MS_PER_DAY } from '../../rules/calendar.js';
import { requirePromotionCode } from '../../rules/discounts.js';
import type { PricedDocument } from '../../rules/invoice.js';
import { conversionAfter, inTrialAt, statusAt } from '../../rules/lifecycle.js';
import type { Proration } from '../../rules/proration.js';
import { billingPeriodAt, nthBillingPeriod, type Window } from '../../rules/windows.js';
import type { CustomerRecord, InvoiceRecord, ProviderCallRecord, SubscriptionRecord } from '../../records.js';
import { changeDocument, issueInvoice, periodDocument, periodKey, priceDocument, subscriptionLinesCurrency } from '../billing/billing.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';
import { checkoutKey, enqueueProviderCall, type CheckoutInput } from '../billing/provider-calls.js';
import { issueCycleCredits } from '../billing/credit-cycles.js';
import type { SubscriptionInput } from './subscription-params.js';
import { currentPeriod } from './subscription-shape.js';
import { endTrials, heldUntilConversion, liveInSlot, replaceNonTrials } from './replacement.js';

export { endSubscription } from './replacement.js';

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
  let down = newRecord(ctx, { customerId: sub.customerId, plan, resourceId: sub.resourceId, start: at, now: fx.now, usageAnchor: sub.usageAnchor });
  down.metadata = { startedBy: 'downgrade', previousSubscriptionId: sub.id };
  // A trial still running then that converts replaces the downgrade plan too (docs/conventions.md#one-subscription-in-force).
  const conversion = conversionAfter(await liveInSlot(fx, sub, sub.id), at, (id) => catalog.plans.get(id)?.trial?.onEnd === 'CONVERT_TO_PAID');
  if (conversion) down = heldUntilConversion(down, conversion.at, conversion.planId, fx.now);
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

/** Validates a promotion code for a subscription (unknown, inactive, expired or exhausted: PROMOTION_CODE_INVALID). */
export async function checkPromotion(ctx: EngineContext, fx: WriteEffects, code: string, alreadyOn?: SubscriptionRecord): Promise<void> {
  const redemptions = (await fx.tx.countPromotionCodeRedemptions(code)) - (alreadyOn?.promotionCode === code ? 1 : 0);
  requirePromotionCode(code, ctx.latest().catalog, redemptions, fx.now);
}

/**
 * Provisions a subscription inside an open write, replacing what runs in its product and
 * resource by docs/conventions.md#one-subscription-in-force. Upgrades (a plan later in the
 * product's order) take effect now with proration when the billing period stays; downgrades from
 * a paid subscription are scheduled for the end of its billing period. Bills the first period (or the
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
  const slot = { customerId: input.customerId, productId: input.plan.productId, resourceId: input.resourceId };
  let existing = await liveInSlot(fx, slot);
  const inTrial = (s: SubscriptionRecord) => inTrialAt(s, now);
  // Rule 2: provisioning the plan of one's current trial buys it now instead of trying again.
  const trialOfPlan = existing.some((s) => s.planId === input.plan.id && inTrial(s));
  const trialDays = input.plan.trial && !input.skipTrial && !trialOfPlan ? input.plan.trial.days : 0;
  const isTrial = trialDays > 0;
  let current = existing.find((s) => statusAt(s, now) === 'ACTIVE' && !inTrial(s));
  const catalog = ctx.latest().catalog;
  // Usage windows continue from the subscription in force, so counted usage carries over.
  const usageAnchor = (current ?? existing.find((s) => statusAt(s, now) === 'IN_TRIAL'))?.usageAnchor ?? start;
  const paid = input.plan.pricingType === 'PAID' && input.billingPeriod !== null;
  // A paid plan waiting for its payment replaces nothing yet: confirmPayment does (confirmPaymentInTx).
  const awaitsPayment = paid && !isTrial && ctx.paymentProvider !== undefined && !opts.estimate && customer.billingInfo?.hasPaymentMethod !== true;

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
  if (isDowngrade || !awaitsPayment) {
    // The newest provisioning is the customer's choice: every trial of the product and resource
    // ends now, giving back what it held (docs/conventions.md#one-subscription-in-force).
    await endTrials(fx, slot);
    existing = await liveInSlot(fx, slot);
    if (current) current = existing.find((s) => s.id === current!.id);
  }
  if (isDowngrade && current) return scheduleDowngradeTo(ctx, fx, current, rec, customer);

  if (isTrial) {
    rec.trialEndDate = start + trialDays * MS_PER_DAY;
    rec.status = start > now ? 'NOT_STARTED' : 'IN_TRIAL';
    // Billing starts when the trial converts; a trial that downgrades simply expires.
    rec.billingAnchor = rec.trialEndDate;
    if (input.plan.trial?.onEnd === 'DOWNGRADE') {
      rec.endDate = rec.trialEndDate;
      // The journey's downgrade plan follows only when nothing else of the product goes on.
      const continues = existing.some((s) => s.endDate === null || s.endDate > rec.trialEndDate!);
      if (!continues) await scheduleDowngrade(ctx, fx, rec, rec.trialEndDate);
    }
  }

  const result: Provisioned = { record: rec, status: 'SUCCESS' };
  if (paid && !isTrial) {
    // An upgrade in the same billing period keeps the cycle and is prorated; anything else starts one.
    const keepCycle = current !== undefined && current.billingPeriod === rec.billingPeriod && start === now;
    if (keepCycle) rec.billingAnchor = current!.billingAnchor;
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
    if (awaitsPayment && ctx.paymentProvider) {
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
  await replaceNonTrials(fx, rec, { trialEndDate: isTrial ? rec.trialEndDate : null, convertsToPaid: input.plan.trial?.onEnd === 'CONVERT_TO_PAID', replacesAt: rec.startDate });
  await saveSubscription(fx, rec, { planId: rec.planId });
  // The first cycle's credits (docs/credits.md#credits-on-a-cycle); tick() issues the next ones.
  await issueCycleCredits(ctx, fx, rec.customerId);
  return result;
}

/**
 * Schedules `rec` (a new subscription to a lower plan, docs/pricing.md#upgrades-downgrades-and-changes)
 * to replace the paid `current` at the end of its billing period: `current` ends then carrying a
 * `PLAN_CHANGE` scheduled update and `rec` starts then, continuing the cycle. Nothing is billed
 * now; the document is what the new plan's first period will bill.
 */
export async function scheduleDowngradeTo(
  ctx: EngineContext,
  fx: WriteEffects,
  current: SubscriptionRecord,
  rec: SubscriptionRecord,
  customer: CustomerRecord,
): Promise<Provisioned> {
  // A paid subscription keeps what was paid for until its period ends.
  const now = fx.now;
  const at = currentPeriod(current, now)!.end;
  await replaceNonTrials(fx, rec, { trialEndDate: null, convertsToPaid: false, replacesAt: at }, [current.id]);
  const scheduled: SubscriptionRecord = {
    ...current,
    endDate: at,
    cancellationDate: now,
    scheduledUpdates: [
      ...current.scheduledUpdates.filter((u) => u.kind !== 'PLAN_CHANGE'),
      { kind: 'PLAN_CHANGE', status: 'SCHEDULED', at, planId: rec.planId, ...(rec.billingPeriod ? { billingPeriod: rec.billingPeriod } : {}) },
    ],
    updatedAt: now,
  };
  rec.startDate = at;
  rec.billingAnchor = at;
  rec.status = 'NOT_STARTED';
  rec.metadata = { ...rec.metadata, startedBy: 'scheduledDowngrade', previousSubscriptionId: current.id };
  if (rec.promotionCode) rec.promotionCodeAppliedAt = at;
  await saveSubscription(fx, rec, { planId: rec.planId, scheduled: true });
  await saveSubscription(fx, scheduled, { scheduledPlanId: rec.planId, endDate: at });
  // Nothing is billed now; an estimate shows the first period of the plan it moves to.
  const first = rec.billingPeriod ? nthBillingPeriod(rec.billingAnchor, rec.billingPeriod, 0) : { start: at, end: at };
  const currency = subscriptionLinesCurrency(ctx, current, customer);
  const document = rec.billingPeriod
    ? periodDocument(ctx, rec, customer, first)
    : priceDocument(ctx, rec, customer, [], at, currency);
  return { record: scheduled, status: 'SUCCESS', document, billingPeriodRange: first };
}

/**
 * Completes a PAYMENT_PENDING subscription once the provider confirmed payment: it becomes
 * active (and replaces what it was to replace). Throws CONFLICT when it is not pending.
 */
export async function confirmPaymentInTx(fx: WriteEffects, sub: SubscriptionRecord): Promise<SubscriptionRecord> {
  if (sub.status !== 'PAYMENT_PENDING') {
    throw new TesseraError('CONFLICT', `confirmPayment.subscriptionId: subscription "${sub.id}" is not awaiting payment`, { field: 'subscriptionId', status: sub.status });
  }
  const active: SubscriptionRecord = { ...sub, status: 'ACTIVE', updatedAt: fx.now };
  await endTrials(fx, sub, sub.id);
  await replaceNonTrials(fx, active, { trialEndDate: null, convertsToPaid: false, replacesAt: active.startDate });
  await saveSubscription(fx, active, { paymentConfirmed: true });
  return active;
}
