/**
 * How each record maps to a table row. Every table has a column list and a row tuple in that
 * order: statements select and insert exactly those columns, and hot reads fetch rows as arrays
 * (better-sqlite3 raw mode, about a third cheaper than row objects), so the mappers below go by
 * position. Keep each list, tuple and pair of mappers in step; the conformance round trips catch
 * a slip.
 */
import type {
  CatalogVersionRecord,
  ChangeRecord,
  CreditGrantRecord,
  CreditLedgerRecord,
  CustomerRecord,
  EventRecord,
  IdempotencyRecord,
  InvoiceRecord,
  NewChange,
  NewCreditLedgerRecord,
  PromotionalGrantRecord,
  RechargeConfigRecord,
  ReservationRecord,
  SubscriptionRecord,
  UsageRecord,
} from '@tessera/core';
import type { Database } from './schema.js';

type Columns<T extends keyof Database> = readonly (keyof Database[T] & string)[];

const json = (v: unknown): string => JSON.stringify(v);
const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = <T>(text: string): T => JSON.parse(text) as T;
const parseOrNull = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export const CATALOG_VERSION_COLUMNS = ['version', 'published_at', 'definition', 'plan_versions', 'addon_versions'] as const satisfies Columns<'catalog_versions'>;
type CatalogVersionRow = [number, number, string, string, string];

export function catalogVersionToRow(r: CatalogVersionRecord): CatalogVersionRow {
  return [r.version, r.publishedAt, json(r.definition), json(r.planVersions), json(r.addonVersions)];
}

export function catalogVersionFromRow(row: unknown): CatalogVersionRecord {
  const [version, publishedAt, definition, planVersions, addonVersions] = row as CatalogVersionRow;
  return { version, publishedAt, definition: parse(definition), planVersions: parse(planVersions), addonVersions: parse(addonVersions) };
}

export const CUSTOMER_COLUMNS = [
  'customer_id',
  'name',
  'email',
  'coupon_id',
  'billing_info',
  'metadata',
  'archived_at',
  'created_at',
  'updated_at',
  'coupon_applied_at',
] as const satisfies Columns<'customers'>;
type CustomerRow = [string, string | null, string | null, string | null, string | null, string, number | null, number, number, number | null];

export function customerToRow(r: CustomerRecord): CustomerRow {
  return [
    r.customerId,
    r.name,
    r.email,
    r.couponId,
    jsonOrNull(r.billingInfo),
    json(r.metadata),
    r.archivedAt,
    r.createdAt,
    r.updatedAt,
    r.couponAppliedAt ?? null,
  ];
}

export function customerFromRow(row: unknown): CustomerRecord {
  const [customerId, name, email, couponId, billingInfo, metadata, archivedAt, createdAt, updatedAt, couponAppliedAt] = row as CustomerRow;
  return {
    customerId,
    name,
    email,
    couponId,
    billingInfo: parseOrNull(billingInfo),
    metadata: parse(metadata),
    archivedAt,
    couponAppliedAt,
    createdAt,
    updatedAt,
  };
}

export const SUBSCRIPTION_COLUMNS = [
  'id',
  'customer_id',
  'product_id',
  'plan_id',
  'plan_version',
  'catalog_version',
  'resource_id',
  'billing_period',
  'status',
  'start_date',
  'billing_anchor',
  'usage_anchor',
  'trial_end_date',
  'end_date',
  'cancellation_date',
  'addons',
  'billable_features',
  'promotion_code',
  'billing_country_code',
  'scheduled_updates',
  'metadata',
  'created_at',
  'updated_at',
  'promotion_applied_at',
] as const satisfies Columns<'subscriptions'>;
type SubscriptionRow = [
  string, string, string, string, number, number, string, string | null, string,
  number, number, number, number | null, number | null, number | null,
  string, string, string | null, string | null, string, string, number, number,
  number | null,
];

export function subscriptionToRow(r: SubscriptionRecord): SubscriptionRow {
  return [
    r.id,
    r.customerId,
    r.productId,
    r.planId,
    r.planVersion,
    r.catalogVersion,
    r.resourceId,
    r.billingPeriod,
    r.status,
    r.startDate,
    r.billingAnchor,
    r.usageAnchor,
    r.trialEndDate,
    r.endDate,
    r.cancellationDate,
    json(r.addons),
    json(r.billableFeatures),
    r.promotionCode,
    r.billingCountryCode,
    json(r.scheduledUpdates),
    json(r.metadata),
    r.createdAt,
    r.updatedAt,
    r.promotionCodeAppliedAt ?? null,
  ];
}

export function subscriptionFromRow(row: unknown): SubscriptionRecord {
  const r = row as SubscriptionRow;
  return {
    id: r[0],
    customerId: r[1],
    productId: r[2],
    planId: r[3],
    planVersion: r[4],
    catalogVersion: r[5],
    resourceId: r[6],
    billingPeriod: r[7] as SubscriptionRecord['billingPeriod'],
    status: r[8] as SubscriptionRecord['status'],
    startDate: r[9],
    billingAnchor: r[10],
    usageAnchor: r[11],
    trialEndDate: r[12],
    endDate: r[13],
    cancellationDate: r[14],
    addons: parse(r[15]),
    billableFeatures: parse(r[16]),
    promotionCode: r[17],
    promotionCodeAppliedAt: r[23],
    billingCountryCode: r[18],
    scheduledUpdates: parse(r[19]),
    metadata: parse(r[20]),
    createdAt: r[21],
    updatedAt: r[22],
  };
}

/** The columns of a usage cell's key, in the order every keyed usage statement binds them. */
export const USAGE_KEY_COLUMNS = ['customer_id', 'resource_id', 'feature_id', 'window_start', 'window_end'] as const satisfies Columns<'usage'>;

export const USAGE_COLUMNS = [
  ...USAGE_KEY_COLUMNS,
  'value',
  'count',
  'sum',
  'min',
  'max',
  'latest_at',
  'latest_value',
  'updated_at',
] as const satisfies Columns<'usage'>;
type UsageRow = [string, string, string, number, number, number, number, number, number | null, number | null, number | null, number | null, number];

export function usageToRow(r: UsageRecord): UsageRow {
  return [
    r.customerId,
    r.resourceId,
    r.featureId,
    r.windowStart,
    r.windowEnd,
    r.value,
    r.count,
    r.sum,
    r.min,
    r.max,
    r.latestAt,
    r.latestValue,
    r.updatedAt,
  ];
}

export function usageFromRow(row: unknown): UsageRecord {
  const [customerId, resourceId, featureId, windowStart, windowEnd, value, count, sum, min, max, latestAt, latestValue, updatedAt] =
    row as UsageRow;
  return { customerId, resourceId, featureId, windowStart, windowEnd, value, count, sum, min, max, latestAt, latestValue, updatedAt };
}

export const EVENT_COLUMNS = [
  'idempotency_key',
  'customer_id',
  'event_name',
  'resource_id',
  'dimensions',
  'timestamp',
  'received_at',
  'unmatched_reason',
] as const satisfies Columns<'events'>;
type EventRow = [string, string, string, string, string, number, number, string | null];

export function eventToRow(r: EventRecord): EventRow {
  return [r.idempotencyKey, r.customerId, r.eventName, r.resourceId, json(r.dimensions), r.timestamp, r.receivedAt, r.unmatchedReason];
}

export function eventFromRow(row: unknown): EventRecord {
  const [idempotencyKey, customerId, eventName, resourceId, dimensions, timestamp, receivedAt, unmatchedReason] = row as EventRow;
  return { idempotencyKey, customerId, eventName, resourceId, dimensions: parse(dimensions), timestamp, receivedAt, unmatchedReason };
}

export const RESERVATION_COLUMNS = [
  'id',
  'customer_id',
  'resource_id',
  'feature_id',
  'window_start',
  'window_end',
  'amount',
  'expires_at',
  'status',
  'committed_amount',
  'created_at',
  'updated_at',
] as const satisfies Columns<'reservations'>;
type ReservationRow = [string, string, string, string, number, number, number, number, string, number | null, number, number];

export function reservationToRow(r: ReservationRecord): ReservationRow {
  return [
    r.id,
    r.customerId,
    r.resourceId,
    r.featureId,
    r.windowStart,
    r.windowEnd,
    r.amount,
    r.expiresAt,
    r.status,
    r.committedAmount,
    r.createdAt,
    r.updatedAt,
  ];
}

export function reservationFromRow(row: unknown): ReservationRecord {
  const [id, customerId, resourceId, featureId, windowStart, windowEnd, amount, expiresAt, status, committedAmount, createdAt, updatedAt] =
    row as ReservationRow;
  return {
    id,
    customerId,
    resourceId,
    featureId,
    windowStart,
    windowEnd,
    amount,
    expiresAt,
    status: status as ReservationRecord['status'],
    committedAmount,
    createdAt,
    updatedAt,
  };
}

export const IDEMPOTENCY_COLUMNS = ['scope', 'key', 'result', 'created_at'] as const satisfies Columns<'idempotency'>;
type IdempotencyRow = [string, string, string | null, number];

export function idempotencyToRow(r: IdempotencyRecord): IdempotencyRow {
  // SQL NULL stands for `undefined`, so a stored JSON `null` still reads back as null.
  return [r.scope, r.key, r.result === undefined ? null : json(r.result), r.createdAt];
}

export function idempotencyFromRow(row: unknown): IdempotencyRecord {
  const [scope, key, result, createdAt] = row as IdempotencyRow;
  return { scope, key, result: result === null ? undefined : parse(result), createdAt };
}

export const INVOICE_COLUMNS = [
  'id',
  'customer_id',
  'subscription_id',
  'kind',
  'dedupe_key',
  'status',
  'currency',
  'period_start',
  'period_end',
  'lines',
  'sub_total',
  'discount',
  'tax',
  'total',
  'excess_credit',
  'created_at',
] as const satisfies Columns<'invoices'>;
type InvoiceRow = [
  string, string, string | null, string, string, string, string, number | null, number | null,
  string, string, string | null, string, string, string, number,
];

export function invoiceToRow(r: InvoiceRecord): InvoiceRow {
  return [
    r.id,
    r.customerId,
    r.subscriptionId,
    r.kind,
    r.dedupeKey,
    r.status,
    r.currency,
    r.periodStart,
    r.periodEnd,
    json(r.lines),
    r.subTotal,
    jsonOrNull(r.discount),
    r.tax,
    r.total,
    r.excessCredit,
    r.createdAt,
  ];
}

export function invoiceFromRow(row: unknown): InvoiceRecord {
  const r = row as InvoiceRow;
  return {
    id: r[0],
    customerId: r[1],
    subscriptionId: r[2],
    kind: r[3] as InvoiceRecord['kind'],
    dedupeKey: r[4],
    status: r[5] as InvoiceRecord['status'],
    currency: r[6],
    periodStart: r[7],
    periodEnd: r[8],
    lines: parse(r[9]),
    subTotal: r[10],
    discount: parseOrNull(r[11]),
    tax: r[12],
    total: r[13],
    excessCredit: r[14],
    createdAt: r[15],
  };
}

/** Inserted columns of a change; `seq` is assigned by SQLite. */
export const NEW_CHANGE_COLUMNS = ['at', 'kind', 'customer_id', 'entity_id', 'payload'] as const satisfies Columns<'changes'>;
type NewChangeRow = [number, string, string | null, string | null, string | null];

export function newChangeToRow(c: NewChange): NewChangeRow {
  return [c.at, c.kind, c.customerId, c.entityId, c.payload === undefined ? null : json(c.payload)];
}

export const CHANGE_COLUMNS = ['seq', ...NEW_CHANGE_COLUMNS] as const satisfies Columns<'changes'>;
type ChangeRow = [number, number, string, string | null, string | null, string | null];

export function changeFromRow(row: unknown): ChangeRecord {
  const [seq, at, kind, customerId, entityId, payload] = row as ChangeRow;
  return { seq, at, kind: kind as ChangeRecord['kind'], customerId, entityId, payload: payload === null ? undefined : parse(payload) };
}

export const PROMOTIONAL_GRANT_COLUMNS = [
  'id',
  'customer_id',
  'resource_id',
  'feature_id',
  'entitlement',
  'start_date',
  'end_date',
  'revoked_at',
  'created_at',
] as const satisfies Columns<'promotional_grants'>;
type PromotionalGrantRow = [string, string, string, string, string, number, number | null, number | null, number];

export function promotionalGrantToRow(r: PromotionalGrantRecord): PromotionalGrantRow {
  return [r.id, r.customerId, r.resourceId, r.featureId, json(r.entitlement), r.startDate, r.endDate, r.revokedAt, r.createdAt];
}

export function promotionalGrantFromRow(row: unknown): PromotionalGrantRecord {
  const [id, customerId, resourceId, featureId, entitlement, startDate, endDate, revokedAt, createdAt] = row as PromotionalGrantRow;
  return { id, customerId, resourceId, featureId, entitlement: parse(entitlement), startDate, endDate, revokedAt, createdAt };
}

export const CREDIT_GRANT_COLUMNS = [
  'id',
  'customer_id',
  'currency_id',
  'category',
  'amount',
  'remaining',
  'priority',
  'expires_at',
  'created_at',
  'voided_at',
] as const satisfies Columns<'credit_grants'>;
type CreditGrantRow = [string, string, string, string, string, string, number, number | null, number, number | null];

export function creditGrantToRow(r: CreditGrantRecord): CreditGrantRow {
  return [r.id, r.customerId, r.currencyId, r.category, r.amount, r.remaining, r.priority, r.expiresAt, r.createdAt, r.voidedAt];
}

export function creditGrantFromRow(row: unknown): CreditGrantRecord {
  const [id, customerId, currencyId, category, amount, remaining, priority, expiresAt, createdAt, voidedAt] = row as CreditGrantRow;
  return {
    id,
    customerId,
    currencyId,
    category: category as CreditGrantRecord['category'],
    amount,
    remaining,
    priority,
    expiresAt,
    createdAt,
    voidedAt,
  };
}

/** Inserted columns of a ledger entry; `seq` is assigned by SQLite. */
export const NEW_CREDIT_LEDGER_COLUMNS = [
  'grant_id',
  'customer_id',
  'currency_id',
  'kind',
  'amount',
  'at',
  'reference',
] as const satisfies Columns<'credit_ledger'>;
type NewCreditLedgerRow = [string, string, string, string, string, number, string | null];

export function newCreditLedgerToRow(e: NewCreditLedgerRecord): NewCreditLedgerRow {
  return [e.grantId, e.customerId, e.currencyId, e.kind, e.amount, e.at, e.reference];
}

export const CREDIT_LEDGER_COLUMNS = ['seq', ...NEW_CREDIT_LEDGER_COLUMNS] as const satisfies Columns<'credit_ledger'>;
type CreditLedgerRow = [number, ...NewCreditLedgerRow];

export function creditLedgerFromRow(row: unknown): CreditLedgerRecord {
  const [seq, grantId, customerId, currencyId, kind, amount, at, reference] = row as CreditLedgerRow;
  return { seq, grantId, customerId, currencyId, kind: kind as CreditLedgerRecord['kind'], amount, at, reference };
}

/** The columns of a recharge config's key, in the order `getRechargeConfig` binds them. */
export const RECHARGE_CONFIG_KEY_COLUMNS = ['customer_id', 'currency_id'] as const satisfies Columns<'recharge_configs'>;

export const RECHARGE_CONFIG_COLUMNS = [
  ...RECHARGE_CONFIG_KEY_COLUMNS,
  'is_enabled',
  'threshold_type',
  'threshold_value',
  'target_balance',
  'max_spend_limit',
  'grant_expiration_period',
  'updated_at',
] as const satisfies Columns<'recharge_configs'>;
type RechargeConfigRow = [string, string, number, string, string, string, string | null, string | null, number];

export function rechargeConfigToRow(r: RechargeConfigRecord): RechargeConfigRow {
  return [
    r.customerId,
    r.currencyId,
    r.isEnabled ? 1 : 0,
    r.thresholdType,
    r.thresholdValue,
    r.targetBalance,
    r.maxSpendLimit,
    r.grantExpirationPeriod,
    r.updatedAt,
  ];
}

export function rechargeConfigFromRow(row: unknown): RechargeConfigRecord {
  const [customerId, currencyId, isEnabled, thresholdType, thresholdValue, targetBalance, maxSpendLimit, grantExpirationPeriod, updatedAt] =
    row as RechargeConfigRow;
  return {
    customerId,
    currencyId,
    isEnabled: isEnabled === 1,
    thresholdType: thresholdType as RechargeConfigRecord['thresholdType'],
    thresholdValue,
    targetBalance,
    maxSpendLimit,
    grantExpirationPeriod: grantExpirationPeriod as RechargeConfigRecord['grantExpirationPeriod'],
    updatedAt,
  };
}
