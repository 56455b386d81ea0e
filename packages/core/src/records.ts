/**
 * The records a store keeps. Instants are UTC epoch milliseconds; amounts inside records are
 * decimal strings; JSON-shaped fields are stored as the adapter sees fit (SQLite: TEXT).
 */
import type { BillingPeriod, CatalogDefinition, DimensionValue, Metadata } from './catalog/types.js';

/** One published catalog. `planVersions`/`addonVersions` give each plan's and add-on's version in it. */
export interface CatalogVersionRecord {
  version: number;
  publishedAt: number;
  definition: CatalogDefinition;
  planVersions: Record<string, number>;
  addonVersions: Record<string, number>;
}

/** Billing details of a customer; replaced whole on update. */
export interface BillingInfo {
  billingCountryCode?: string;
  taxExempt?: boolean;
  currency?: string;
  hasPaymentMethod?: boolean;
  [key: string]: unknown;
}

export interface CustomerRecord {
  customerId: string;
  name: string | null;
  email: string | null;
  couponId: string | null;
  billingInfo: BillingInfo | null;
  metadata: Metadata;
  /** Set when archived; the id stays reserved. */
  archivedAt: number | null;
  /** When `couponId` was set (coupon durations count from here); null without a coupon. */
  couponAppliedAt?: number | null;
  createdAt: number;
  updatedAt: number;
}

export type SubscriptionStatus = 'ACTIVE' | 'IN_TRIAL' | 'PAYMENT_PENDING' | 'CANCELED' | 'EXPIRED' | 'NOT_STARTED';

/**
 * The status of a subscription at `at`, derived from its dates: the one definition that the
 * rules (rules/lifecycle.ts statusAt), the memory store and the SQL stores' status column follow
 * (docs/conventions.md#lifecycle). PAYMENT_PENDING while awaiting payment; ended (CANCELED when
 * cancelled, EXPIRED when it ran out) from its end, or at once when it ended before it started;
 * NOT_STARTED before its start; IN_TRIAL before the trial end; ACTIVE otherwise.
 */
export function subscriptionStatusAt(
  sub: Pick<SubscriptionRecord, 'status' | 'startDate' | 'endDate' | 'cancellationDate' | 'trialEndDate'>,
  at: number,
): SubscriptionStatus {
  if (sub.status === 'PAYMENT_PENDING') return 'PAYMENT_PENDING';
  if (sub.endDate !== null && (at >= sub.endDate || sub.endDate <= sub.startDate)) {
    return sub.cancellationDate !== null ? 'CANCELED' : 'EXPIRED';
  }
  if (at < sub.startDate) return 'NOT_STARTED';
  if (sub.trialEndDate !== null && at < sub.trialEndDate) return 'IN_TRIAL';
  return 'ACTIVE';
}

export interface SubscriptionAddon {
  addonId: string;
  quantity: number;
}

export interface BillableFeatureQuantity {
  featureId: string;
  quantity: number;
}

/** A change to apply to a subscription at `at` (a downgrade at period end, a migration...). */
export interface ScheduledUpdate {
  kind: 'PLAN_CHANGE' | 'BILLING_PERIOD_CHANGE' | 'ADDONS_CHANGE' | 'MIGRATION' | 'CANCELLATION';
  status: 'SCHEDULED' | 'PENDING_PAYMENT';
  at: number;
  planId?: string;
  billingPeriod?: BillingPeriod;
  addons?: SubscriptionAddon[];
  billableFeatures?: BillableFeatureQuantity[];
  /** MIGRATION: the catalog version the subscription moves to, and its plan's version there. */
  catalogVersion?: number;
  planVersion?: number;
}

/**
 * A subscription. `status` is the status as last written; the effective status at an instant
 * is derived from the dates (rules/lifecycle), so reads need no background job.
 */
export interface SubscriptionRecord {
  id: string;
  customerId: string;
  productId: string;
  planId: string;
  planVersion: number;
  /** The catalog version the subscription was sold under; its plan and add-ons resolve there. */
  catalogVersion: number;
  /** '' when the product does not split subscriptions by resource. */
  resourceId: string;
  billingPeriod: BillingPeriod | null;
  status: SubscriptionStatus;
  startDate: number;
  /** Billing periods count from here (month ends clamp). */
  billingAnchor: number;
  /** Usage reset windows anchored on the subscription count from here; kept across plan changes. */
  usageAnchor: number;
  trialEndDate: number | null;
  /** When the subscription ends (or ended); null while open-ended. */
  endDate: number | null;
  cancellationDate: number | null;
  addons: SubscriptionAddon[];
  billableFeatures: BillableFeatureQuantity[];
  promotionCode: string | null;
  /** When `promotionCode` was applied (its coupon's duration counts from here). */
  promotionCodeAppliedAt?: number | null;
  billingCountryCode: string | null;
  scheduledUpdates: ScheduledUpdate[];
  metadata: Metadata;
  createdAt: number;
  updatedAt: number;
}

/**
 * Usage of one feature by one customer (and resource) in one reset window [windowStart, windowEnd).
 * Cumulative features (no reset) use windowStart 0 and windowEnd `NO_WINDOW_END`.
 * `value` is what checks compare to the limit; the other fields keep the running state a meter's
 * aggregation needs to update `value` from one more event without rescanning (count, sum, min,
 * max, latest).
 */
export interface UsageRecord {
  customerId: string;
  resourceId: string;
  /** The member of the customer the usage is counted for (docs/entities.md); '' for the customer's own (pooled) cell. */
  entityId: string;
  featureId: string;
  windowStart: number;
  windowEnd: number;
  value: number;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  latestAt: number | null;
  latestValue: number | null;
  updatedAt: number;
}

/** The end of the single window of a feature that never resets (year 275760). */
export const NO_WINDOW_END = 8_640_000_000_000_000;

/** Identifies a usage cell. */
export interface UsageKey {
  customerId: string;
  resourceId: string;
  /** '' for the customer's own (pooled) cell; an entity id for that entity's cell (docs/entities.md). */
  entityId: string;
  featureId: string;
  windowStart: number;
  windowEnd: number;
}

/** A raw event as stored, once per idempotency key. */
export interface EventRecord {
  idempotencyKey: string;
  customerId: string;
  eventName: string;
  resourceId: string;
  /** The entity the event was reported for; '' when none. */
  entityId: string;
  dimensions: Record<string, DimensionValue>;
  timestamp: number;
  receivedAt: number;
  /** Why no usage came of it (unknown customer, no meter...); null when some meter counted it. */
  unmatchedReason: string | null;
}

export type ReservationStatus = 'HELD' | 'COMMITTED' | 'RELEASED';

/** Quota held for a customer until it is committed, released or expires. */
export interface ReservationRecord {
  id: string;
  customerId: string;
  resourceId: string;
  /** The entity the quota is held for; '' when none. */
  entityId: string;
  featureId: string;
  windowStart: number;
  windowEnd: number;
  amount: number;
  expiresAt: number;
  status: ReservationStatus;
  committedAmount: number | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * A member of a customer (a user, a workspace, an API key, a seat) with balances of its own
 * (docs/entities.md). Deleting one sets `deletedAt` and keeps the record: its past usage stays
 * for history and billing; creating it again clears `deletedAt`.
 */
export interface EntityRecord {
  customerId: string;
  entityId: string;
  /** The feature whose usage counts this customer's live entities (a seat); null when it occupies none. */
  featureId: string | null;
  name: string | null;
  metadata: Metadata;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms of the deletion; null while live. */
  deletedAt: number | null;
}

/** The first result of an idempotent call, returned again on a retry with the same key. */
export interface IdempotencyRecord {
  scope: string;
  key: string;
  result: unknown;
  createdAt: number;
}

/**
 * What an outbound call does: start a checkout, deliver an invoice to the billing provider, or
 * deliver an alert event to a webhook endpoint (docs/alerts.md#webhooks).
 */
export type ProviderCallKind = 'createCheckout' | 'onInvoiceCreated' | 'webhook';

/**
 * An outbound call to a payment or billing provider, committed before the call is made and
 * updated when it settled (docs/providers.md): the engine's outbox for the calls it must never
 * make inside a store transaction. A call found PENDING after a crash is made again with the
 * same `key`, which the provider receives as its idempotency key.
 */
export interface ProviderCallRecord {
  /** Unique; also the idempotency key the provider sees ('checkout:<subscriptionId>', 'invoice:<invoiceId>'). */
  key: string;
  kind: ProviderCallKind;
  customerId: string;
  /** The subscription (createCheckout), invoice (onInvoiceCreated) or event (webhook) the call is about. */
  entityId: string;
  /** What the call is made with (JSON). */
  input: unknown;
  /**
   * PENDING until the provider answered; DONE once it did; DROPPED when no longer needed (the
   * subscription stopped waiting for payment) or given up (a webhook out of attempts).
   */
  status: 'PENDING' | 'DONE' | 'DROPPED';
  /** The provider's answer once DONE (JSON: `{ checkoutUrl }` for a checkout), else null. */
  result: unknown;
  /** Attempts started so far. */
  attempts: number;
  /**
   * Epoch ms before which nobody else attempts the call: an attempt in flight holds it for a
   * lease, so another process's `tick()` does not call the provider beside it.
   */
  notBefore: number;
  /** The message of the last failed attempt, null when none failed. */
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A promotional entitlement granted to a customer (or one of its resources) for a time. */
export interface PromotionalGrantRecord {
  id: string;
  customerId: string;
  /** '' for the customer level. */
  resourceId: string;
  featureId: string;
  entitlement: import('./catalog/types.js').EntitlementDefinition;
  startDate: number;
  /** Exclusive; null: lifetime. */
  endDate: number | null;
  revokedAt: number | null;
  createdAt: number;
}

/**
 * A per-customer entitlement override (docs/overrides.md): while in force (startDate <= at <
 * endDate, not removed by then) it replaces what the customer's subscriptions grant for the
 * feature. Removing or replacing one sets `removedAt`; the row stays, for the record.
 */
export interface EntitlementOverrideRecord {
  id: string;
  customerId: string;
  /** '' for the customer level. */
  resourceId: string;
  featureId: string;
  entitlement: import('./catalog/types.js').EntitlementDefinition;
  startDate: number;
  /** Exclusive; null: until removed. */
  endDate: number | null;
  /** Why it was granted (a deal, a ticket), as the caller wrote it; null when not given. */
  reason: string | null;
  /** When it was removed or replaced; null while not. */
  removedAt: number | null;
  createdAt: number;
}

/**
 * One grant of credits of one credit currency to a customer, as stored and as the credit rules
 * take it (rules/credits-grants.ts: `CreditGrant`). Amounts are decimal strings of credits.
 * `remaining` only goes down (burns, expiry, void); a grant is usable at `at` when created by
 * then, not voided, not expired (`at < expiresAt`) and with credits remaining.
 */
export interface CreditGrantRecord {
  id: string;
  customerId: string;
  currencyId: string;
  /** PAID credits were bought; PROMOTIONAL ones were given away. */
  category: 'PAID' | 'PROMOTIONAL';
  /** Credits granted, > 0. */
  amount: string;
  /** Credits not yet burnt, expired or voided; 0 <= remaining <= amount. */
  remaining: string;
  /** 1 burns first. */
  priority: number;
  /** Epoch ms (UTC) from which the grant no longer counts; null: never expires. */
  expiresAt: number | null;
  createdAt: number;
  /** Epoch ms of the void; null while not voided. */
  voidedAt: number | null;
}

/** One movement of credits on a grant: + for GRANT/RECHARGE, - for BURN/EXPIRE/VOID. */
export interface CreditLedgerRecord {
  /** Assigned by the store, increasing. */
  seq: number;
  grantId: string;
  customerId: string;
  currencyId: string;
  kind: 'GRANT' | 'RECHARGE' | 'BURN' | 'EXPIRE' | 'VOID';
  amount: string;
  at: number;
  reference: string | null;
}

export type NewCreditLedgerRecord = Omit<CreditLedgerRecord, 'seq'>;

/** A customer's automatic recharge settings for one credit currency. */
export interface RechargeConfigRecord {
  customerId: string;
  currencyId: string;
  isEnabled: boolean;
  thresholdType: 'CREDIT_AMOUNT' | 'DOLLAR_AMOUNT';
  thresholdValue: string;
  targetBalance: string;
  maxSpendLimit: string | null;
  grantExpirationPeriod: 'ONE_MONTH' | 'ONE_YEAR' | null;
  updatedAt: number;
}

/** Why an invoice was issued. */
export type InvoiceKind = 'PROVISIONING' | 'RENEWAL' | 'UPDATE' | 'TRIAL_CONVERSION' | 'USAGE' | 'MIGRATION' | 'RECHARGE';

/** One line of an invoice; amounts are decimal strings rounded to the currency's minor unit. */
export interface InvoiceLineRecord {
  kind: string;
  description: string;
  quantity?: number;
  unitAmount?: string;
  amount: string;
  currency: string;
  periodStart?: number;
  periodEnd?: number;
}

/**
 * An invoice the engine issued: it is its own ledger (docs/pricing.md#invoices). `dedupeKey` is
 * unique per customer, so a due renewal or usage charge is billed once however often `tick()` runs.
 */
export interface InvoiceRecord {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  kind: InvoiceKind;
  dedupeKey: string;
  status: 'OPEN' | 'PAID' | 'VOID';
  currency: string;
  periodStart: number | null;
  periodEnd: number | null;
  lines: InvoiceLineRecord[];
  subTotal: string;
  discount: { couponId: string; type: string; value: string; durationInMonths: number | null; amount: string } | null;
  tax: string;
  total: string;
  /** What the customer is owed when credits exceed charges ('0.00' normally). */
  excessCredit: string;
  createdAt: number;
}

export type ChangeKind =
  | 'catalog.published'
  | 'customer.updated'
  | 'customer.archived'
  | 'subscription.updated'
  | 'usage.updated'
  | 'reservation.updated'
  | 'event.recorded'
  | 'invoice.created'
  | 'promotion.updated'
  | 'credits.updated'
  | 'entity.updated'
  | 'override.updated';

/** One committed write, in commit order. */
export interface ChangeRecord {
  seq: number;
  at: number;
  kind: ChangeKind;
  customerId: string | null;
  /** The id of what changed (subscription id, feature id...), when there is one. */
  entityId: string | null;
  payload: unknown;
}

export type NewChange = Omit<ChangeRecord, 'seq'>;
