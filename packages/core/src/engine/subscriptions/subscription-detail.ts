/**
 * `getSubscription`: one subscription with what a billing page shows (docs/pricing.md#subscription-detail).
 * Lists (`getActiveSubscriptions`, `getSubscriptions`, a customer's subscriptions) stay lean:
 * they return `Subscription`, ids only, and read no invoices or provider calls.
 */
import { TesseraError } from '../../errors.js';
import type { BillableFeatureQuantity, CustomerRecord, InvoiceRecord, ProviderCallRecord, ScheduledUpdate, SubscriptionAddon, SubscriptionRecord } from '../../records.js';
import { paymentCollection, type CollectionCall, type PaymentCollectionStatus } from '../../rules/payment-collection.js';
import { subscriptionPriceLines, type SubscriptionPriceLine } from '../../rules/price-lines.js';
import { inIssueOrder, periodPriceInput, toInvoice } from '../billing/billing.js';
import { checkoutKey, invoiceDeliveryKey } from '../billing/provider-calls.js';
import { effectiveCatalogVersion } from '../checks/view.js';
import type { EngineContext, PublishedCatalog } from '../runtime/context.js';
import { readIdArgument } from '../runtime/params.js';
import { toScheduledUpdateView, toSubscription, type ScheduledUpdateView, type Subscription } from './subscription-shape.js';

/** A plan as a billing page names it, from the catalog version the subscription resolves in. */
export interface PlanSummary {
  id: string;
  /** The catalog's `displayName`, or the id when it has none (as invoice lines name it). */
  displayName: string;
  description: string | null;
  /** The plan's version in that catalog version. */
  version: number;
}

/** An add-on of a subscription with its name. */
export interface SubscriptionAddonDetail extends SubscriptionAddon {
  /** The catalog's `displayName`, or the id when it has none. */
  displayName: string;
  description: string | null;
}

/** A scheduled update with the plan it moves to named, and the add-ons and quantities it brings. */
export interface ScheduledUpdateDetail extends ScheduledUpdateView {
  /** The plan in force after the update (PLAN_CHANGE, MIGRATION; CANCELLATION: the trial's plan that takes over). */
  plan?: PlanSummary;
  /** The add-ons after the update, when it sets them. */
  addons?: SubscriptionAddonDetail[];
  /** The quantities after the update, when it sets them. */
  billableFeatures?: BillableFeatureQuantity[];
  /** A downgrade scheduled by provisioning: the subscription that starts then (NOT_STARTED until). */
  subscriptionId?: string;
}

/**
 * What `getSubscription` returns: the lean `Subscription` plus what a billing page shows. Only
 * `getSubscription` returns it; JSON-safe apart from its Dates (ISO strings over the sidecar).
 */
export interface SubscriptionDetail extends Subscription {
  /** The plan in force now, named in the catalog version the subscription resolves in (a due migration's). */
  plan: PlanSummary;
  addons: SubscriptionAddonDetail[];
  /** The prices billed each period, in the subscription's billing country (rules/price-lines.ts); [] without a billing period. */
  priceLines: SubscriptionPriceLine[];
  /** Derived, never stored (rules/payment-collection.ts, docs/pricing.md#payment-collection). */
  paymentCollection: PaymentCollectionStatus;
  scheduledUpdates: ScheduledUpdateDetail[];
}

/** What one read transaction gathers for a subscription's detail. */
interface Gathered {
  sub: SubscriptionRecord;
  customer: CustomerRecord;
  latest: InvoiceRecord | undefined;
  checkout: ProviderCallRecord | undefined;
  delivery: ProviderCallRecord | undefined;
  /** The customer's subscriptions: downgrades scheduled by provisioning start as subscriptions of their own. */
  siblings: SubscriptionRecord[];
}

/** `getSubscription`: one subscription by id, with its detail. Throws SUBSCRIPTION_NOT_FOUND. */
export async function getSubscription(ctx: EngineContext, subscriptionId: unknown): Promise<SubscriptionDetail> {
  const id = readIdArgument(subscriptionId, 'subscriptionId');
  const now = ctx.clock.nowMs();
  const found = await ctx.store.transaction('read', async (tx): Promise<Gathered | undefined> => {
    const sub = await tx.getSubscription(id);
    if (!sub) return undefined;
    const customer = await tx.getCustomer(sub.customerId);
    if (!customer || customer.archivedAt !== null) return undefined;
    const invoices = inIssueOrder(await tx.listInvoices({ customerId: sub.customerId, subscriptionId: sub.id }));
    const latest = invoices[invoices.length - 1];
    return {
      sub,
      customer,
      latest,
      checkout: await tx.getProviderCall(checkoutKey(sub.id)),
      delivery: latest ? await tx.getProviderCall(invoiceDeliveryKey(latest.id)) : undefined,
      siblings: sub.scheduledUpdates.some((u) => u.kind === 'PLAN_CHANGE') ? await tx.listSubscriptionsByCustomer(sub.customerId) : [],
    };
  });
  if (!found) throw new TesseraError('SUBSCRIPTION_NOT_FOUND', `subscriptionId: no subscription "${id}"`, { field: 'subscriptionId', value: id });
  return toDetail(ctx, found, now);
}

/** A catalog version, or the latest while this engine has not learnt it yet (as billing does). */
function catalogOf(ctx: EngineContext, version: number): PublishedCatalog {
  return ctx.catalogs.get(version) ?? ctx.latest();
}

function planSummary(published: PublishedCatalog, planId: string, version?: number): PlanSummary {
  const plan = published.catalog.plans.get(planId);
  return {
    id: planId,
    displayName: plan?.displayName ?? planId,
    description: plan?.description ?? null,
    version: version ?? published.record.planVersions[planId] ?? 1,
  };
}

function addonDetails(published: PublishedCatalog, addons: readonly SubscriptionAddon[]): SubscriptionAddonDetail[] {
  return addons.map((a) => {
    const addon = published.catalog.addons.get(a.addonId);
    return { addonId: a.addonId, quantity: a.quantity, displayName: addon?.displayName ?? a.addonId, description: addon?.description ?? null };
  });
}

const asCall = (r: ProviderCallRecord | undefined): CollectionCall | null =>
  r ? { status: r.status, lastError: r.lastError, createdAt: r.createdAt } : null;

function toDetail(ctx: EngineContext, g: Gathered, now: number): SubscriptionDetail {
  const { sub, customer } = g;
  const base = toSubscription(sub, now);
  // Read as in force now: a due migration applies without a tick, as it does for checks and billing.
  const inForce: SubscriptionRecord = { ...sub, catalogVersion: effectiveCatalogVersion(sub, now) };
  const published = catalogOf(ctx, inForce.catalogVersion);
  const plan = published.catalog.plans.get(sub.planId);
  const input = periodPriceInput(ctx, inForce, customer);
  const detail: SubscriptionDetail = {
    ...base,
    plan: planSummary(published, sub.planId, base.planVersion),
    addons: addonDetails(published, sub.addons),
    priceLines: input ? subscriptionPriceLines(input) : [],
    paymentCollection: paymentCollection({
      pricingType: plan?.pricingType ?? 'FREE',
      billingPeriod: sub.billingPeriod,
      awaitingPayment: sub.status === 'PAYMENT_PENDING',
      endedBeforeStart: sub.endDate !== null && sub.endDate <= sub.startDate,
      checkout: asCall(g.checkout),
      latestInvoice: g.latest ? { status: g.latest.status, createdAt: g.latest.createdAt, delivery: asCall(g.delivery) } : null,
    }),
    scheduledUpdates: sub.scheduledUpdates
      .filter((u) => u.at > now)
      .map((u) => scheduledDetail(ctx, sub, u, g.siblings)),
  };
  if (g.latest) detail.latestInvoice = toInvoice(g.latest);
  return detail;
}

function scheduledDetail(
  ctx: EngineContext,
  sub: SubscriptionRecord,
  u: ScheduledUpdate,
  siblings: readonly SubscriptionRecord[],
): ScheduledUpdateDetail {
  const out: ScheduledUpdateDetail = toScheduledUpdateView(u);
  // A downgrade that provisioning scheduled starts as a subscription of its own, sold under the
  // catalog of its day: names, add-ons and quantities come from it.
  const next =
    u.kind === 'PLAN_CHANGE'
      ? siblings.find((s) => s.id !== sub.id && s.metadata.previousSubscriptionId === sub.id && s.planId === u.planId && s.startDate === u.at && (s.endDate === null || s.endDate > s.startDate))
      : undefined;
  if (next) {
    const published = catalogOf(ctx, next.catalogVersion);
    out.subscriptionId = next.id;
    out.plan = planSummary(published, next.planId, next.planVersion);
    out.addons = addonDetails(published, next.addons);
    out.billableFeatures = next.billableFeatures.map((b) => ({ ...b }));
    return out;
  }
  // A plan change or a trial's hold names a plan of a later provisioning: of the latest catalog.
  const published = u.catalogVersion !== undefined ? catalogOf(ctx, u.catalogVersion) : u.kind === 'PLAN_CHANGE' || u.kind === 'CANCELLATION' ? ctx.latest() : catalogOf(ctx, sub.catalogVersion);
  const planId = u.planId ?? (u.kind === 'MIGRATION' ? sub.planId : undefined);
  if (planId !== undefined) out.plan = planSummary(published, planId, u.planVersion);
  if (u.addons) out.addons = addonDetails(published, u.addons);
  if (u.billableFeatures) out.billableFeatures = u.billableFeatures.map((b) => ({ ...b }));
  return out;
}
