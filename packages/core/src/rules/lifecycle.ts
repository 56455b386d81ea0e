import type { SubscriptionRecord, SubscriptionStatus } from '../store/records.js';

/**
 * The status of a subscription at `at`, derived from its dates so that reads are right without
 * a background job (docs/conventions.md#lifecycle):
 * PAYMENT_PENDING while awaiting payment; NOT_STARTED before its start; CANCELED or EXPIRED from
 * its end (EXPIRED when it ended by running out, i.e. a trial that was not converted, CANCELED
 * when cancelled); IN_TRIAL before the trial end; ACTIVE otherwise.
 */
export function statusAt(sub: SubscriptionRecord, at: number): SubscriptionStatus {
  if (sub.status === 'PAYMENT_PENDING') return 'PAYMENT_PENDING';
  // A subscription cancelled before it started has endDate <= startDate: ended, not pending.
  if (sub.endDate !== null && (at >= sub.endDate || sub.endDate <= sub.startDate)) {
    return sub.cancellationDate !== null ? 'CANCELED' : 'EXPIRED';
  }
  if (at < sub.startDate) return 'NOT_STARTED';
  if (sub.trialEndDate !== null && at < sub.trialEndDate) return 'IN_TRIAL';
  return 'ACTIVE';
}

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
