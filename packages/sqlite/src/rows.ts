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
  CustomerRecord,
  EventRecord,
  IdempotencyRecord,
  NewChange,
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
] as const satisfies Columns<'customers'>;
type CustomerRow = [string, string | null, string | null, string | null, string | null, string, number | null, number, number];

export function customerToRow(r: CustomerRecord): CustomerRow {
  return [r.customerId, r.name, r.email, r.couponId, jsonOrNull(r.billingInfo), json(r.metadata), r.archivedAt, r.createdAt, r.updatedAt];
}

export function customerFromRow(row: unknown): CustomerRecord {
  const [customerId, name, email, couponId, billingInfo, metadata, archivedAt, createdAt, updatedAt] = row as CustomerRow;
  return {
    customerId,
    name,
    email,
    couponId,
    billingInfo: parseOrNull(billingInfo),
    metadata: parse(metadata),
    archivedAt,
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
] as const satisfies Columns<'subscriptions'>;
type SubscriptionRow = [
  string, string, string, string, number, number, string, string | null, string,
  number, number, number, number | null, number | null, number | null,
  string, string, string | null, string | null, string, string, number, number,
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
