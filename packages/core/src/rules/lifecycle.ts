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

/** True when `sub` is a trial at `at`: its trial has not ended (it may not have started yet). */
export function inTrialAt(sub: Pick<SubscriptionRecord, 'trialEndDate'>, at: number): boolean {
  return sub.trialEndDate !== null && sub.trialEndDate > at;
}

/** The newest provisioning of a product and resource, as `replacementBy` sees it. */
export interface NewestProvisioning {
  /** Its trial's end (epoch ms), or null when it is not a trial. */
  trialEndDate: number | null;
  /** True when its trial converts to paid at its end (`trial.onEnd: 'CONVERT_TO_PAID'`). */
  convertsToPaid: boolean;
  /**
   * When it replaces the non-trial subscription in force (epoch ms): now for an upgrade, its
   * start when it starts later, the end of the current billing period for a downgrade. Unused
   * for a trial.
   */
  replacesAt: number;
}

/**
 * What the newest provisioning of a product and resource does to one subscription already live
 * there (docs/conventions.md#one-subscription-in-force):
 * - `KEEP`: it goes on unchanged (a non-trial beside a trial that will not convert, or one that
 *   ends before the new trial converts);
 * - `END`: it ends at `at`: every trial at once (`trialCutShort`: the paid subscriptions it held
 *   come back), a non-trial when the new subscription replaces it, one not started yet at its
 *   start (it never starts);
 * - `HOLD`: a non-trial beside a new trial that converts: it ends at the conversion instant `at`
 *   and its updates scheduled from then on are dropped.
 */
export type Replacement =
  | { kind: 'KEEP' }
  | { kind: 'END'; at: number; trialCutShort: boolean }
  | { kind: 'HOLD'; at: number };

/**
 * Decides what the newest provisioning does to `sub`, a live subscription of the same product and
 * resource, at `now` (epoch ms). Pure: the engine writes what it returns. So that at no instant
 * two non-trial subscriptions of one product and resource are active.
 */
export function replacementBy(
  sub: Pick<SubscriptionRecord, 'startDate' | 'endDate' | 'trialEndDate'>,
  incoming: NewestProvisioning,
  now: number,
): Replacement {
  const end = sub.endDate ?? Infinity;
  if (inTrialAt(sub, now)) {
    // The customer chose again: a trial of another plan (or of this one, bought now) ends at once.
    const at = Math.min(Math.max(now, sub.startDate), end);
    return { kind: 'END', at, trialCutShort: at < sub.trialEndDate! };
  }
  if (incoming.trialEndDate !== null) {
    // A trial runs beside the paid subscription; only a conversion replaces it.
    if (!incoming.convertsToPaid) return { kind: 'KEEP' };
    const conversion = incoming.trialEndDate;
    if (sub.startDate >= conversion) return { kind: 'END', at: sub.startDate, trialCutShort: false };
    if (end <= conversion) return { kind: 'KEEP' };
    return { kind: 'HOLD', at: conversion };
  }
  // Something arranged to start later (a scheduled downgrade, the downgrade plan) never starts.
  if (sub.startDate > now) return { kind: 'END', at: sub.startDate, trialCutShort: false };
  return { kind: 'END', at: Math.max(Math.min(incoming.replacesAt, end), sub.startDate), trialCutShort: false };
}

/**
 * The first conversion after `at` among `subs` (subscriptions of one product and resource): the
 * instant a trial still running at `at` converts to paid and so replaces what runs beside it, and
 * its plan; `convertsToPaid` tells whether a plan's trial converts. Null when none will.
 */
export function conversionAfter(
  subs: readonly Pick<SubscriptionRecord, 'startDate' | 'endDate' | 'trialEndDate' | 'planId'>[],
  at: number,
  convertsToPaid: (planId: string) => boolean,
): { at: number; planId: string } | null {
  let found: { at: number; planId: string } | null = null;
  for (const s of subs) {
    if (!inTrialAt(s, at) || (s.endDate !== null && s.endDate <= s.trialEndDate!) || !convertsToPaid(s.planId)) continue;
    if (found === null || s.trialEndDate! < found.at) found = { at: s.trialEndDate!, planId: s.planId };
  }
  return found;
}
