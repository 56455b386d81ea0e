/** Row mappings of metered usage: usage cells, events and reservations; see rows.ts for how records map to rows. */
import type {
  EventRecord,
  ReservationRecord,
  UsageKey,
  UsageRecord,
} from '@tessera/core';
import { type Columns, json, parse } from './rows-encoding.js';

/**
 * The columns of a usage cell's key, in the order every keyed usage statement binds them: the
 * order of `usageKeyId` in @tessera/core, which the batch paths match rows against.
 */
export const USAGE_KEY_COLUMNS = ['customer_id', 'resource_id', 'entity_id', 'feature_id', 'window_start', 'window_end'] as const satisfies Columns<'usage'>;

/** A usage key's values in the order of USAGE_KEY_COLUMNS, as every keyed usage statement binds them. */
export const usageKeyArgs = (k: UsageKey): unknown[] => [k.customerId, k.resourceId, k.entityId, k.featureId, k.windowStart, k.windowEnd];

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
type UsageRow = [string, string, string, string, number, number, number, number, number, number | null, number | null, number | null, number | null, number];

export function usageToRow(r: UsageRecord): UsageRow {
  return [
    r.customerId,
    r.resourceId,
    r.entityId,
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
  const [customerId, resourceId, entityId, featureId, windowStart, windowEnd, value, count, sum, min, max, latestAt, latestValue, updatedAt] =
    row as UsageRow;
  return { customerId, resourceId, entityId, featureId, windowStart, windowEnd, value, count, sum, min, max, latestAt, latestValue, updatedAt };
}

export const EVENT_COLUMNS = [
  'idempotency_key',
  'customer_id',
  'event_name',
  'resource_id',
  'entity_id',
  'dimensions',
  'timestamp',
  'received_at',
  'unmatched_reason',
] as const satisfies Columns<'events'>;
type EventRow = [string, string, string, string, string, string, number, number, string | null];

export function eventToRow(r: EventRecord): EventRow {
  return [r.idempotencyKey, r.customerId, r.eventName, r.resourceId, r.entityId, json(r.dimensions), r.timestamp, r.receivedAt, r.unmatchedReason];
}

export function eventFromRow(row: unknown): EventRecord {
  const [idempotencyKey, customerId, eventName, resourceId, entityId, dimensions, timestamp, receivedAt, unmatchedReason] = row as EventRow;
  return { idempotencyKey, customerId, eventName, resourceId, entityId, dimensions: parse(dimensions, 'events', idempotencyKey, 'dimensions'), timestamp, receivedAt, unmatchedReason };
}

export const RESERVATION_COLUMNS = [
  'id',
  'customer_id',
  'resource_id',
  'entity_id',
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
type ReservationRow = [string, string, string, string, string, number, number, number, number, string, number | null, number, number];

export function reservationToRow(r: ReservationRecord): ReservationRow {
  return [
    r.id,
    r.customerId,
    r.resourceId,
    r.entityId,
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
  const [id, customerId, resourceId, entityId, featureId, windowStart, windowEnd, amount, expiresAt, status, committedAmount, createdAt, updatedAt] =
    row as ReservationRow;
  return {
    id,
    customerId,
    resourceId,
    entityId,
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
