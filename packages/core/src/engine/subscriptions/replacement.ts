import { inTrialAt, isLiveAt, replacementBy, statusAt, type NewestProvisioning } from '../../rules/lifecycle.js';
import type { ScheduledUpdate, SubscriptionRecord } from '../../records.js';
import type { WriteEffects } from '../runtime/context.js';

// Writes what rules/lifecycle.ts#replacementBy decides: the newest provisioning of a product and
// resource ends every trial there at once and replaces the paid subscription; a converting trial
// replaces it at the conversion instant (docs/conventions.md#one-subscription-in-force).

/** The product and resource a subscription occupies. */
type Slot = Pick<SubscriptionRecord, 'customerId' | 'productId' | 'resourceId'>;

/** Ends a subscription at `end` (cancelled now), keeping what it already was. */
export function endSubscription(sub: SubscriptionRecord, end: number, now: number): SubscriptionRecord {
  return { ...sub, endDate: end, cancellationDate: now, status: 'CANCELED', updatedAt: now };
}

/** The live subscriptions of a slot at `now` (ACTIVE, IN_TRIAL, NOT_STARTED, PAYMENT_PENDING), oldest first. */
export async function liveInSlot(fx: WriteEffects, slot: Slot, except?: string): Promise<SubscriptionRecord[]> {
  return (await fx.tx.listSubscriptionsByCustomer(slot.customerId)).filter(
    (s) => s.id !== except && s.productId === slot.productId && s.resourceId === slot.resourceId && isLiveAt(s, fx.now),
  );
}

/** The update that marks a subscription held until a trial of `planId` converts at `at`. */
const isHoldFor = (planId: string, at: number) => (u: ScheduledUpdate) => u.kind === 'CANCELLATION' && u.at === at && u.planId === planId;

/**
 * `sub` held by a trial of `planId` that converts at `at`: it ends then, and what it had scheduled
 * from then on is dropped (it will not be there to apply it).
 */
export function heldUntilConversion(sub: SubscriptionRecord, at: number, planId: string, now: number): SubscriptionRecord {
  return {
    ...sub,
    endDate: at,
    cancellationDate: now,
    scheduledUpdates: [...sub.scheduledUpdates.filter((u) => u.at < at), { kind: 'CANCELLATION', status: 'SCHEDULED', at, planId }],
    updatedAt: now,
  };
}

/** A trial that will not convert (cancelled, or ended by a newer provisioning) gives back the subscriptions it held. */
export async function restoreHeldForTrial(fx: WriteEffects, trial: SubscriptionRecord): Promise<void> {
  if (trial.trialEndDate === null) return;
  const isHold = isHoldFor(trial.planId, trial.trialEndDate);
  for (const s of await fx.tx.listSubscriptionsByCustomer(trial.customerId)) {
    if (s.id === trial.id || s.productId !== trial.productId || s.resourceId !== trial.resourceId) continue;
    if (!s.scheduledUpdates.some(isHold) || s.endDate !== trial.trialEndDate) continue;
    const back: SubscriptionRecord = {
      ...s,
      endDate: null,
      cancellationDate: null,
      status: s.startDate > fx.now ? 'NOT_STARTED' : 'ACTIVE',
      scheduledUpdates: s.scheduledUpdates.filter((u) => !isHold(u)),
      updatedAt: fx.now,
    };
    await fx.tx.putSubscription(back);
    await fx.change('subscription.updated', s.customerId, s.id, { status: statusAt(back, fx.now), endDate: null });
  }
}

/** Writes one `END` decision; a trial cut short gives back what it held and drops what was to follow it. */
async function endOne(fx: WriteEffects, s: SubscriptionRecord, at: number, trialCutShort: boolean): Promise<void> {
  const ended = endSubscription(s, at, fx.now);
  await fx.tx.putSubscription(ended);
  await fx.change('subscription.updated', s.customerId, s.id, { status: statusAt(ended, fx.now), endDate: at });
  fx.emit('subscriptionUpdated', { customerId: s.customerId, subscriptionId: s.id, status: statusAt(ended, fx.now), at: new Date(fx.now) });
  if (!trialCutShort) return;
  await restoreHeldForTrial(fx, s);
  // The downgrade plan its end was to start (a trial that downgrades) never starts.
  for (const next of await liveInSlot(fx, s, s.id)) {
    if (next.metadata.previousSubscriptionId === s.id && next.startDate > fx.now) await endOne(fx, next, next.startDate, false);
  }
}

/**
 * First half of the replacement: the newest provisioning in `slot` ends every trial there at once
 * (the paid subscriptions they held come back). Run before the non-trial subscriptions are
 * looked at, so that those are seen as they are without the trials.
 */
export async function endTrials(fx: WriteEffects, slot: Slot, except?: string): Promise<void> {
  for (const s of await liveInSlot(fx, slot, except)) {
    if (!inTrialAt(s, fx.now)) continue;
    const d = replacementBy(s, { trialEndDate: null, convertsToPaid: false, replacesAt: fx.now }, fx.now);
    if (d.kind === 'END') await endOne(fx, s, d.at, d.trialCutShort);
  }
}

/**
 * Second half: what `incoming` (the newest provisioning, `rec`, not yet written) does to the
 * non-trial subscriptions of its slot (`except` those the caller handles itself): replaced at
 * `incoming.replacesAt`, held until a converting trial converts, or kept.
 */
export async function replaceNonTrials(fx: WriteEffects, rec: SubscriptionRecord, incoming: NewestProvisioning, except: readonly string[] = []): Promise<void> {
  for (const s of await liveInSlot(fx, rec, rec.id)) {
    if (except.includes(s.id) || inTrialAt(s, fx.now)) continue;
    const d = replacementBy(s, incoming, fx.now);
    if (d.kind === 'END') await endOne(fx, s, d.at, false);
    else if (d.kind === 'HOLD') {
      const held = heldUntilConversion(s, d.at, rec.planId, fx.now);
      await fx.tx.putSubscription(held);
      await fx.change('subscription.updated', s.customerId, s.id, { status: statusAt(held, fx.now), endDate: d.at });
    }
  }
}
