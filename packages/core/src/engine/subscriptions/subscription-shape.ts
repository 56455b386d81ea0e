import type { BillingPeriod, Metadata } from '../../catalog/types.js';
import { statusAt } from '../../rules/lifecycle.js';
import { billingPeriodAt } from '../../rules/windows.js';
import type {
  BillableFeatureQuantity,
  ScheduledUpdate,
  SubscriptionAddon,
  SubscriptionRecord,
  SubscriptionStatus,
} from '../../records.js';

/** A scheduled change as reads show it. */
export interface ScheduledUpdateView {
  kind: string;
  status: 'SCHEDULED' | 'PENDING_PAYMENT';
  scheduledAt: Date;
  planId?: string;
  billingPeriod?: BillingPeriod;
}

/**
 * A subscription as lists return it (`getActiveSubscriptions`, `getSubscriptions`, a customer's
 * `subscriptions`, and the results of writes): ids, dates and quantities, lean and cheap to list.
 * `getSubscription` returns `SubscriptionDetail`, which adds what a billing page shows (plan and
 * add-on names, price lines, payment collection). `status` is the effective status at the read.
 */
export interface Subscription {
  id: string;
  customerId: string;
  productId: string;
  planId: string;
  planVersion: number;
  resourceId: string | null;
  billingPeriod: BillingPeriod | null;
  status: SubscriptionStatus;
  startDate: Date;
  endDate: Date | null;
  trialEndDate: Date | null;
  cancellationDate: Date | null;
  /** The billing period (or trial) containing the read time; null when not billed. */
  currentBillingPeriodStart: Date | null;
  currentBillingPeriodEnd: Date | null;
  addons: SubscriptionAddon[];
  billableFeatures: BillableFeatureQuantity[];
  promotionCode: string | null;
  billingCountryCode: string | null;
  scheduledUpdates: ScheduledUpdateView[];
  metadata: Metadata;
  createdAt: Date;
  updatedAt: Date;
  /** The newest invoice of the subscription: set by getSubscription and provisionSubscription when there is one, absent from lists. */
  latestInvoice?: import('../billing/billing.js').Invoice;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/** The billing period containing `at` (the trial while in trial), clipped to the subscription's life. */
export function currentPeriod(sub: SubscriptionRecord, at: number): { start: number; end: number } | null {
  if (sub.trialEndDate !== null && at < sub.trialEndDate) return { start: sub.startDate, end: sub.trialEndDate };
  if (!sub.billingPeriod) return null;
  const t = Math.max(at, sub.billingAnchor);
  return billingPeriodAt(sub.billingAnchor, sub.billingPeriod, sub.endDate !== null ? Math.min(t, sub.endDate - 1) : t);
}

/** The plan version in force at `now`: a due scheduled migration's (reads need no tick). */
function planVersionAt(sub: SubscriptionRecord, now: number): number {
  let version = sub.planVersion;
  for (const u of sub.scheduledUpdates) if (u.kind === 'MIGRATION' && u.at <= now && u.planVersion !== undefined) version = u.planVersion;
  return version;
}

/** The public shape of a scheduled update. */
export function toScheduledUpdateView(u: ScheduledUpdate): ScheduledUpdateView {
  const v: ScheduledUpdateView = { kind: u.kind, status: u.status, scheduledAt: new Date(u.at) };
  if (u.planId) v.planId = u.planId;
  if (u.billingPeriod) v.billingPeriod = u.billingPeriod;
  return v;
}

/** The public shape of a subscription record at `now`. */
export function toSubscription(sub: SubscriptionRecord, now: number): Subscription {
  const period = currentPeriod(sub, now);
  return {
    id: sub.id,
    customerId: sub.customerId,
    productId: sub.productId,
    planId: sub.planId,
    planVersion: planVersionAt(sub, now),
    resourceId: sub.resourceId === '' ? null : sub.resourceId,
    billingPeriod: sub.billingPeriod,
    status: statusAt(sub, now),
    startDate: new Date(sub.startDate),
    endDate: date(sub.endDate),
    trialEndDate: date(sub.trialEndDate),
    cancellationDate: date(sub.cancellationDate),
    currentBillingPeriodStart: period ? new Date(period.start) : null,
    currentBillingPeriodEnd: period ? new Date(period.end) : null,
    addons: sub.addons.map((a) => ({ ...a })),
    billableFeatures: sub.billableFeatures.map((b) => ({ ...b })),
    promotionCode: sub.promotionCode,
    billingCountryCode: sub.billingCountryCode,
    // Updates already due took effect (reads need no tick), so only future ones are shown.
    scheduledUpdates: sub.scheduledUpdates.filter((u) => u.at > now).map(toScheduledUpdateView),
    metadata: { ...sub.metadata },
    createdAt: new Date(sub.createdAt),
    updatedAt: new Date(sub.updatedAt),
  };
}
