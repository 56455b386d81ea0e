import { subscriptionStatusAt as statusAt } from '../records.js';
import type { SubscriptionRecord } from './records.js';
import type { SubscriptionFilter, SubscriptionQuery, SubscriptionSortField } from './store.js';

/**
 * The reference semantics of `SubscriptionQuery` over records in memory: the memory store runs
 * it, SQL adapters must agree with it (the conformance suite compares them).
 */
export function fieldValue(sub: SubscriptionRecord, field: string, now: number): string | number | null {
  switch (field) {
    case 'status':
      return statusAt(sub, now);
    case 'customerId':
      return sub.customerId;
    case 'productId':
      return sub.productId;
    case 'planId':
      return sub.planId;
    case 'resourceId':
      return sub.resourceId;
    case 'billingPeriod':
      return sub.billingPeriod;
    case 'createdAt':
      return sub.createdAt;
    case 'startDate':
      return sub.startDate;
    case 'endDate':
      return sub.endDate;
    case 'trialEndDate':
      return sub.trialEndDate;
    default:
      return null;
  }
}

/** Whether a subscription passes a filter at `now`. */
export function matchesFilter(sub: SubscriptionRecord, f: SubscriptionFilter, now: number): boolean {
  if ('and' in f) return f.and.every((x) => matchesFilter(sub, x, now));
  if ('or' in f) return f.or.some((x) => matchesFilter(sub, x, now));
  const v = fieldValue(sub, f.field, now);
  switch (f.op) {
    case 'in':
      return v !== null && (f.value as (string | number)[]).includes(v);
    case 'notIn':
      return v === null || !(f.value as (string | number)[]).includes(v);
    case 'ne':
      return v === null ? typeof f.value === 'string' : v !== f.value;
    case 'eq':
      return v !== null && v === f.value;
    default: {
      if (v === null) return false;
      const a = v as number;
      const b = f.value as number;
      return f.op === 'lt' ? a < b : f.op === 'lte' ? a <= b : f.op === 'gt' ? a > b : a >= b;
    }
  }
}

function cmp(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Runs a query over records: filter, sort (then id ascending), cursor, limit. */
export function runSubscriptionQuery(subs: readonly SubscriptionRecord[], q: SubscriptionQuery): SubscriptionRecord[] {
  const field: SubscriptionSortField = q.sort.field;
  const dir = q.sort.direction === 'DESC' ? -1 : 1;
  const key = (s: SubscriptionRecord) => fieldValue(s, field, q.now) ?? '';
  const order = (a: SubscriptionRecord, b: SubscriptionRecord) => dir * cmp(key(a), key(b)) || cmp(a.id, b.id);
  const after = q.after;
  return subs
    .filter((s) => !q.filter || matchesFilter(s, q.filter, q.now))
    .filter((s) => {
      if (!after) return true;
      const c = dir * cmp(key(s), after.value);
      return c > 0 || (c === 0 && s.id > after.id);
    })
    .sort(order)
    .slice(0, q.limit);
}
