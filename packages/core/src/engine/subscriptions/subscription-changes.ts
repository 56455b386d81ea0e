import type { CatalogIds } from '../../catalog/ids.js';
import { BILLING_PERIODS, type BillingPeriod } from '../../catalog/types.js';
import { TesseraError } from '../../errors.js';
import { conversionAfter, statusAt } from '../../rules/lifecycle.js';
import { changeTiming, prorationPoint, type DowngradeTiming, type Proration, type ProrationBehavior } from '../../rules/proration.js';
import type { PricedDocument } from '../../rules/invoice.js';
import { billingPeriodAt, type Window } from '../../rules/windows.js';
import type { InvoiceRecord, ScheduledUpdate, SubscriptionRecord } from '../../records.js';
import { changeDocument, issueInvoice, periodKey, priceDocument, requireSubscription, toInvoice } from '../billing/billing.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { Params } from '../runtime/params.js';
import { checkPromotion, confirmPaymentInTx, endSubscription, saveSubscription as save } from './provisioning.js';
import { issueCycleCredits } from '../billing/credit-cycles.js';
import { heldUntilConversion, liveInSlot } from './replacement.js';
import { readAddons, readBillableFeatures, requireQuantities } from './subscription-params.js';
import { currentPeriod, toSubscription, type Subscription } from './subscription-shape.js';
import {
  checkChangeOptions,
  PLAN_CHANGE_FIELDS,
  quantitiesForPlan,
  readChangeOptions,
  readPlanChange,
  requireCompatibleAddons,
  requireSameBilling,
  scheduleUpdatedPlan,
} from './plan-change.js';

/** Parameters of `updateSubscription` (API.md): add-ons replace the whole list; quantities replace those named. */
export interface UpdateSubscriptionParams<Ids extends CatalogIds = CatalogIds> {
  subscriptionId: string;
  /**
   * Another plan of the same product, keeping the start date and the billing cycle: an upgrade
   * applies now, a downgrade per `downgradeTiming` (docs/pricing.md#proration-options).
   */
  planId?: Ids['plan'];
  /** PRORATE (default), NONE or INVOICE_NOW (rules/proration.ts ProrationBehavior). */
  prorationBehavior?: ProrationBehavior;
  /** When a downgrade applies: END_OF_BILLING_PERIOD (default) or IMMEDIATE with a prorated credit. */
  downgradeTiming?: DowngradeTiming;
  /** The instant the change is prorated at, within the current billing period (default: now). Epoch ms, ISO-8601 or a Date. */
  prorationDate?: Date | string | number;
  billableFeatures?: { featureId: Ids['feature']; quantity: number }[];
  addons?: { addonId: Ids['addon']; quantity?: number }[];
  promotionCode?: string;
  billingPeriod?: BillingPeriod;
  metadata?: Record<string, string>;
}

/** What an update did or would do. */
export interface UpdateOutcome {
  record: SubscriptionRecord;
  document?: PricedDocument;
  proration?: Proration;
  period?: Window;
  invoice?: InvoiceRecord;
}

/**
 * Applies an update inside an open write: keeps the start date and the billing anchor; a price
 * change in a paid, non-trial period is prorated (docs/pricing.md#proration) and invoiced.
 */
export async function updateInTx(ctx: EngineContext, fx: WriteEffects, params: unknown, method: string): Promise<UpdateOutcome> {
  const p = new Params(params, method, ['subscriptionId', 'billableFeatures', 'addons', 'promotionCode', 'billingPeriod', 'metadata', ...PLAN_CHANGE_FIELDS]);
  const id = p.id('subscriptionId');
  const { sub, customer } = await requireSubscription(fx, id, method);
  // Credits the subscription was owed before the change, in the plan it had (docs/credits.md#credits-on-a-cycle).
  await issueCycleCredits(ctx, fx, sub.customerId);
  const now = fx.now;
  const status = statusAt(sub, now);
  if (!['ACTIVE', 'IN_TRIAL', 'NOT_STARTED', 'PAYMENT_PENDING'].includes(status)) {
    throw new TesseraError('CONFLICT', `${method}.subscriptionId: subscription "${id}" has ended (${status})`, { field: 'subscriptionId', status });
  }
  // A new plan is read from the latest catalog; from here on `plan` is the plan after the update.
  const change = readPlanChange(ctx, p, sub);
  const catalog = change?.catalog ?? ctx.catalogs.get(sub.catalogVersion)?.catalog ?? ctx.latest().catalog;
  const plan = change?.plan ?? catalog.plans.get(sub.planId);
  if (!plan) throw new TesseraError('PLAN_NOT_FOUND', `${method}: plan "${sub.planId}" is gone from the catalog`, { field: 'subscriptionId' });
  const next: SubscriptionRecord = { ...sub, updatedAt: now };
  if (change) Object.assign(next, { planId: plan.id, planVersion: change.planVersion, catalogVersion: change.catalogVersion });
  const bp = p.optEnum('billingPeriod', BILLING_PERIODS);
  if (bp !== undefined && bp !== sub.billingPeriod) {
    if (plan.pricingType !== 'PAID') p.fail('billingPeriod', `plan "${plan.id}" is not paid; it has no billing period`);
    if (!(plan.prices ?? []).some((x) => x.billingPeriod === bp)) {
      throw new TesseraError('PRICE_NOT_FOUND', `${p.at('billingPeriod')}: plan "${plan.id}" has no ${bp} price`, { field: p.at('billingPeriod'), value: bp });
    }
    next.billingPeriod = bp;
  }
  if (change) requireSameBilling(p, plan, next.billingPeriod);
  if (p.has('addons')) next.addons = readAddons(p, catalog, plan);
  else if (change) requireCompatibleAddons(p, plan, next.addons);
  if (p.has('billableFeatures')) {
    const named = readBillableFeatures(p, plan, next.billingPeriod);
    const merged = new Map(sub.billableFeatures.map((b) => [b.featureId, b.quantity]));
    for (const b of named) merged.set(b.featureId, b.quantity);
    next.billableFeatures = [...merged].map(([featureId, quantity]) => ({ featureId, quantity }));
  }
  // A new quantity grants at once, both ways, like add-ons (docs/pricing.md#per-unit-quantities).
  requireQuantities(plan, next.billingPeriod, next.billableFeatures, p.at('billableFeatures'));
  const code = p.optId('promotionCode');
  if (code !== undefined && code !== sub.promotionCode) {
    await checkPromotion(ctx, fx, code, sub);
    next.promotionCode = code;
    next.promotionCodeAppliedAt = now;
  }
  if (change) next.billableFeatures = quantitiesForPlan(p, plan, next.billingPeriod, next.billableFeatures);
  const metadata = p.optMetadata('metadata');
  if (metadata) next.metadata = metadata;

  const options = readChangeOptions(p);
  const billed = sub.billingPeriod !== null && next.billingPeriod !== null && status === 'ACTIVE' && sub.startDate <= now;
  const downgrade = change !== undefined && change.catalog.planRank(plan.id) < change.catalog.planRank(sub.planId);
  const timing = changeTiming({ downgrade, billedPeriod: billed, behavior: options.behavior, field: p.at('downgradeTiming'), ...(options.timing ? { timing: options.timing } : {}) });
  if (timing === 'END_OF_BILLING_PERIOD') {
    if (options.prorationDate !== undefined) p.fail('prorationDate', 'a downgrade at the end of the billing period is not prorated; leave prorationDate out or give downgradeTiming IMMEDIATE');
    const done = await scheduleUpdatedPlan(ctx, fx, sub, next, plan, customer);
    const out: UpdateOutcome = { record: done.record };
    if (done.document) out.document = done.document;
    if (done.billingPeriodRange) out.period = done.billingPeriodRange;
    return out;
  }
  checkChangeOptions(p, options, { billed, billingPeriodChanged: next.billingPeriod !== sub.billingPeriod, what: `subscription "${sub.id}" (${status})` });

  const out: UpdateOutcome = { record: next };
  if (billed && options.behavior === 'NONE') {
    // No proration: the next renewal bills the new price; an estimate shows a zero document.
    out.period = currentPeriod(sub, now)!;
    out.document = priceDocument(ctx, next, customer, [], now);
  } else if (billed && sub.billingPeriod && next.billingPeriod) {
    const oldPeriod = currentPeriod(sub, now)!;
    const at = prorationPoint(oldPeriod, now, options.prorationDate, p.at('prorationDate'));
    const period = billingPeriodAt(next.billingAnchor, next.billingPeriod, now);
    const { document, proration } = changeDocument(ctx, customer, { sub, period: oldPeriod }, { sub: next, period }, at);
    out.document = document;
    out.proration = proration;
    out.period = period;
    // A new billing period is billed by this document; a change within one gets a key of its own.
    const dedupeKey = next.billingPeriod !== sub.billingPeriod ? periodKey(next, period) : `${sub.id}:update:${ctx.newId('chg')}`;
    const invoice = await issueInvoice(ctx, fx, { sub: next, kind: 'UPDATE', dedupeKey, period, document });
    if (invoice) out.invoice = invoice;
  }
  await save(fx, next, change ? { updated: true, planId: next.planId } : { updated: true });
  return out;
}

/** `updateSubscription`: see UpdateSubscriptionParams. Throws SUBSCRIPTION_NOT_FOUND, ADDON_* codes, PROMOTION_CODE_INVALID, CONFLICT. */
export async function updateSubscription(ctx: EngineContext, params: unknown): Promise<Subscription> {
  return write(ctx, async (fx) => {
    const out = await updateInTx(ctx, fx, params, 'updateSubscription');
    const s = toSubscription(out.record, fx.now);
    if (out.invoice) s.latestInvoice = toInvoice(out.invoice);
    return s;
  });
}

const DROPPABLE: ScheduledUpdate['kind'][] = ['PLAN_CHANGE', 'BILLING_PERIOD_CHANGE', 'ADDONS_CHANGE', 'MIGRATION'];

/**
 * `cancelSubscriptionScheduledUpdates`: drops scheduled changes (only those in `status` when
 * given). A dropped downgrade leaves the subscription running and the successor never starts.
 */
export async function cancelSubscriptionScheduledUpdates(ctx: EngineContext, params: unknown): Promise<Subscription> {
  const p = new Params(params, 'cancelSubscriptionScheduledUpdates', ['subscriptionId', 'status']);
  const id = p.id('subscriptionId');
  const only = p.optEnum('status', ['SCHEDULED', 'PENDING_PAYMENT'] as const);
  return write(ctx, async (fx) => {
    const { sub } = await requireSubscription(fx, id, 'cancelSubscriptionScheduledUpdates');
    const drop = (u: ScheduledUpdate) => DROPPABLE.includes(u.kind) && u.at > fx.now && (only === undefined || u.status === only);
    const dropped = sub.scheduledUpdates.filter(drop);
    if (dropped.length === 0) return toSubscription(sub, fx.now);
    let next: SubscriptionRecord = { ...sub, scheduledUpdates: sub.scheduledUpdates.filter((u) => !drop(u)), updatedAt: fx.now };
    for (const u of dropped) {
      if (u.kind !== 'PLAN_CHANGE') continue;
      // The end the downgrade scheduled goes with it (a cancellation of its own would not be a
      // PLAN_CHANGE); a trial running beside it that converts still replaces it then
      // (docs/conventions.md#one-subscription-in-force).
      if (next.endDate === u.at) {
        next.endDate = null;
        next.cancellationDate = null;
        next.status = 'ACTIVE';
        const catalog = ctx.latest().catalog;
        const conversion = conversionAfter(await liveInSlot(fx, sub, sub.id), fx.now, (planId) => catalog.plans.get(planId)?.trial?.onEnd === 'CONVERT_TO_PAID');
        if (conversion) next = heldUntilConversion(next, conversion.at, conversion.planId, fx.now);
      }
      for (const s of await fx.tx.listSubscriptionsByCustomer(sub.customerId)) {
        if (s.metadata.previousSubscriptionId === sub.id && s.startDate === u.at && statusAt(s, fx.now) === 'NOT_STARTED') {
          await fx.tx.putSubscription(endSubscription(s, s.startDate, fx.now));
          await fx.change('subscription.updated', s.customerId, s.id, { status: 'CANCELED' });
        }
      }
    }
    await save(fx, next, { droppedUpdates: dropped.length });
    return toSubscription(next, fx.now);
  });
}

/**
 * `migrateSubscriptionToLatest`: moves a subscription to the latest plan and add-on versions,
 * now (the price difference prorated and invoiced) or at the end of its billing period.
 */
export async function migrateSubscriptionToLatest(ctx: EngineContext, params: unknown): Promise<Subscription> {
  const p = new Params(params, 'migrateSubscriptionToLatest', ['subscriptionId', 'subscriptionMigrationTime']);
  const id = p.id('subscriptionId');
  const when = p.optEnum('subscriptionMigrationTime', ['IMMEDIATE', 'END_OF_BILLING_PERIOD'] as const) ?? 'IMMEDIATE';
  return write(ctx, async (fx) => {
    const { sub, customer } = await requireSubscription(fx, id, 'migrateSubscriptionToLatest');
    const latest = ctx.latest();
    if (sub.catalogVersion === latest.record.version) return toSubscription(sub, fx.now);
    if (!latest.catalog.plans.has(sub.planId)) {
      throw new TesseraError('PLAN_NOT_FOUND', `migrateSubscriptionToLatest: plan "${sub.planId}" is not in the latest catalog`, { field: 'subscriptionId' });
    }
    const status = statusAt(sub, fx.now);
    const period = currentPeriod(sub, fx.now);
    if (when === 'END_OF_BILLING_PERIOD' && period && status === 'ACTIVE') {
      const next: SubscriptionRecord = {
        ...sub,
        scheduledUpdates: [
          ...sub.scheduledUpdates.filter((u) => u.kind !== 'MIGRATION'),
          {
            kind: 'MIGRATION',
            status: 'SCHEDULED',
            at: period.end,
            catalogVersion: latest.record.version,
            planVersion: latest.record.planVersions[sub.planId] ?? sub.planVersion,
          },
        ],
        updatedAt: fx.now,
      };
      await save(fx, next, { migrationAt: period.end });
      return toSubscription(next, fx.now);
    }
    const next: SubscriptionRecord = {
      ...sub,
      catalogVersion: latest.record.version,
      planVersion: latest.record.planVersions[sub.planId] ?? sub.planVersion,
      scheduledUpdates: sub.scheduledUpdates.filter((u) => u.kind !== 'MIGRATION'),
      updatedAt: fx.now,
    };
    const out = toSubscription(next, fx.now);
    if (sub.billingPeriod && period && status === 'ACTIVE') {
      const { document } = changeDocument(ctx, customer, { sub, period }, { sub: next, period }, fx.now);
      const invoice = await issueInvoice(ctx, fx, { sub: next, kind: 'MIGRATION', dedupeKey: `${sub.id}:migration:${latest.record.version}`, period, document });
      if (invoice) out.latestInvoice = toInvoice(invoice);
    }
    await save(fx, next, { migratedTo: latest.record.version });
    return out;
  });
}

/** `confirmPayment`: the payment provider confirmed a PAYMENT_PENDING subscription; it starts granting. */
export async function confirmPayment(ctx: EngineContext, params: unknown): Promise<Subscription> {
  const p = new Params(params, 'confirmPayment', ['subscriptionId']);
  const id = p.id('subscriptionId');
  return write(ctx, async (fx) => {
    const { sub } = await requireSubscription(fx, id, 'confirmPayment');
    return toSubscription(await confirmPaymentInTx(fx, sub), fx.now);
  });
}
