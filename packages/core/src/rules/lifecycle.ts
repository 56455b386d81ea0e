import { subscriptionStatusAt, type SubscriptionRecord, type SubscriptionStatus } from '../records.js';

/**
 * The status of a subscription at `at`, derived from its dates so that reads are right without
 * a background job (docs/conventions.md#lifecycle); defined once, in records.ts, because the
 * stores' status filters follow the same definition.
 */
export const statusAt: (sub: SubscriptionRecord, at: number) => SubscriptionStatus = subscriptionStatusAt;

/** True when the subscription grants its entitlements at `at` (ACTIVE or IN_TRIAL). */
export function grantsAt(sub: SubscriptionRecord, at: number): boolean {
  const s = statusAt(sub, at);
  return s === 'ACTIVE' || s === 'IN_TRIAL';
}

/** True when the subscription is in force now or will be (not ended, not cancelled for good). */
export function isLiveAt(sub: SubscriptionRecord, at: number): boolean {
  const s = statusAt(sub, at);
  return s === 'ACTIVE' || s === 'IN_TRIAL' || s === 'NOT_STARTED' || s === 'PAYMENT_PENDING';
}

/**
 * The first instant after `at` at which the status of any of `subs` changes (start, trial end,
 * end), or Infinity. Views computed at `at` stay right until then.
 */
export function nextTransition(subs: readonly SubscriptionRecord[], at: number): number {
  let next = Infinity;
  for (const s of subs) {
    for (const t of [s.startDate, s.trialEndDate, s.endDate]) if (t !== null && t > at && t < next) next = t;
    for (const u of s.scheduledUpdates) if (u.at > at && u.at < next) next = u.at;
  }
  return next;
}
