// The METERED answer of a feature that rolls over unused allowance (docs/rollovers.md): the limit is
// the base limit plus the carried balance, and the rollover is shown as its own part.
import { decideMetered } from '../../rules/entitlements.js';
import { rolloverStanding, type RolloverChunk } from '../../rules/rollover.js';
import { FixedDate } from './fixed-date.js';
import type { AccessDeniedReason, MeteredEntitlement, RolloverShown } from './entitlement-types.js';
import type { CheckSlot, UsageCell } from './view.js';

/** The rollover part of a result: the carried balance, what usage `used` (recorded + held) burnt of it, what is left by expiry. */
export function rolloverShown(carried: readonly RolloverChunk[], used: number): RolloverShown {
  const s = rolloverStanding(carried, used);
  return { balance: s.balance, used: s.used, remaining: s.remaining, expiries: s.expiries.map((c) => ({ amount: c.amount, expiresAt: new Date(c.expiresAt) })) };
}

/** The answer for a slot whose cell carries `carried` (one limit; further limits answer in limits-check.ts). */
export function answerRollover(
  slot: CheckSlot,
  input: { customerId: string; featureId: string; resourceId: string; requestedUsage: number },
  cell: UsageCell,
  carried: readonly RolloverChunk[],
  /** Whether the feature's credit cost is not covered (InsufficientCredits), asked only when the limit allows. */
  creditsShort: () => boolean,
): MeteredEntitlement {
  const currentUsage = cell.value + cell.held;
  const rollover = rolloverShown(carried, currentUsage);
  const usageLimit = slot.usageLimit === null ? null : slot.usageLimit + rollover.balance;
  let denied: AccessDeniedReason | undefined = decideMetered({ isUnlimited: slot.isUnlimited, hasSoftLimit: slot.hasSoftLimit, usageLimit }, currentUsage, input.requestedUsage);
  if (!denied && creditsShort()) denied = 'InsufficientCredits';
  return {
    customerId: input.customerId,
    resourceId: input.resourceId === '' ? null : input.resourceId,
    featureId: input.featureId,
    hasAccess: denied === undefined,
    accessDeniedReason: denied,
    feature: slot.info,
    isFallback: false,
    type: 'METERED',
    usageLimit,
    currentUsage,
    requestedUsage: input.requestedUsage,
    hasSoftLimit: slot.hasSoftLimit,
    isUnlimited: slot.isUnlimited,
    resetPeriod: slot.resetPeriod,
    usagePeriodStart: cell === slot ? slot.startDate : new FixedDate(cell.start),
    usagePeriodEnd: cell === slot ? slot.endDate : new FixedDate(cell.end),
    overrideId: slot.overrideId,
    rollover,
  };
}
