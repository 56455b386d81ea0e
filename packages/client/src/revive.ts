/**
 * Field names whose values the engine returns as `Date` (customers, subscriptions, entitlements,
 * usage, reservations, invoices, estimates, credits, promotions, overrides, entities, events). JSON carries them as
 * ISO-8601 strings; `reviveDates` turns them back.
 */
export const DATE_FIELDS: ReadonlySet<string> = new Set([
  'archivedAt',
  'at',
  'cancellationDate',
  'createdAt',
  'currentBillingPeriodEnd',
  'currentBillingPeriodStart',
  'customEndDate',
  'deletedAt',
  'end',
  'endDate',
  'expiresAt',
  'nextAttemptAt',
  'periodEnd',
  'periodStart',
  'prorationDate',
  'receivedAt',
  'removedAt',
  'revokedAt',
  'scheduledAt',
  'start',
  'startDate',
  'timestamp',
  'trialEndDate',
  'updatedAt',
  'usagePeriodEnd',
  'usagePeriodStart',
  'voidedAt',
]);

/** Values the caller or the store owns as given: never rewritten, whatever their keys. */
const OPAQUE_FIELDS: ReadonlySet<string> = new Set(['metadata', 'dimensions', 'details', 'billingInfo', 'payload']);

/** What `Date.prototype.toJSON` writes: UTC, milliseconds, `Z`. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Turns ISO instants under the known date field names back into `Date`s, in place, and returns
 * the value. Numbers (change records' `at` is epoch ms) and other strings are left alone, and
 * so is everything under metadata, dimensions, details, billing info and change payloads.
 */
export function reviveDates<T>(value: T): T {
  walk(value);
  return value;
}

function walk(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) walk(item);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v === 'string') {
      if (DATE_FIELDS.has(key) && ISO_INSTANT.test(v)) obj[key] = new Date(v);
    } else if (typeof v === 'object' && v !== null && !OPAQUE_FIELDS.has(key)) {
      walk(v);
    }
  }
}
