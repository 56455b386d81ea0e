// The METERED answer of a feature with further limits (docs/limits.md): every limit is judged, the
// binding one (least left) is shown at top level, all of them in `limits`.
import { decideMetered } from '../../rules/entitlements.js';
import type { ResetPeriod } from '../../catalog/types.js';
import { FixedDate } from './fixed-date.js';
import type { AccessDeniedReason, LimitStanding, MeteredEntitlement } from './entitlement-types.js';
import type { CheckSlot, UsageCell } from './view.js';
import { rolloverBalance } from '../../rules/rollover.js';
import { rolloverShown } from './rollover-check.js';

/** How the limits of a check stand, which binds, and whether it denies. */
export interface LimitsVerdict {
  limits: LimitStanding[];
  binding: LimitStanding;
  /** A limit denies `requestedUsage`: the binding one, which has the least left. */
  denied: boolean;
}

function standing(usageLimit: number | null, resetPeriod: ResetPeriod | null, cell: UsageCell, start: Date, end: Date): LimitStanding {
  const currentUsage = cell.value + cell.held;
  return {
    usageLimit,
    currentUsage,
    remaining: usageLimit === null ? null : Math.max(0, usageLimit - currentUsage),
    resetPeriod,
    usagePeriodStart: start,
    usagePeriodEnd: end,
  };
}

/**
 * Judges a check against the primary cell `cell` and the further limits' cells `limitCells` (the
 * slot's own cached cells when undefined). The binding limit is the one with the least left
 * (ties: the shorter period, the primary first); since a request fits a limit iff it fits what is
 * left, a request any limit denies is denied by the binding one.
 */
export function judgeLimits(slot: CheckSlot, cell: UsageCell, limitCells: readonly UsageCell[] | undefined, requestedUsage: number): LimitsVerdict {
  const dates = (c: UsageCell, s: UsageCell & { startDate: Date; endDate: Date }): [Date, Date] => (c === s ? [s.startDate, s.endDate] : [new FixedDate(c.start), new FixedDate(c.end)]);
  const [ps, pe] = dates(cell, slot);
  // A rollover adds its carried balance to the primary limit (docs/rollovers.md).
  const primary = slot.usageLimit === null ? null : slot.usageLimit + rolloverBalance(cell.carried);
  const limits: LimitStanding[] = [standing(primary, slot.resetPeriod, cell, ps, pe)];
  slot.limits!.forEach((l, i) => {
    const c = limitCells?.[i] ?? l;
    const [s, e] = dates(c, l);
    limits.push(standing(l.usageLimit, l.resetPeriod, c, s, e));
  });
  let binding = limits[0]!;
  for (const l of limits) if (l.remaining !== null && (binding.remaining === null || l.remaining < binding.remaining)) binding = l;
  const denied = decideMetered({ isUnlimited: slot.isUnlimited, hasSoftLimit: slot.hasSoftLimit, usageLimit: binding.usageLimit }, binding.currentUsage, requestedUsage) !== undefined;
  return { limits, binding, denied };
}

/** The METERED answer of a feature with further limits (docs/limits.md): the binding limit at top level, all in `limits`. */
export function answerLimits(
  slot: CheckSlot,
  input: { customerId: string; featureId: string; resourceId: string; requestedUsage: number },
  cell: UsageCell,
  givenLimits: readonly UsageCell[] | undefined,
  /** Whether the feature's credit cost is not covered (InsufficientCredits), asked only when no limit denies. */
  creditsShort: () => boolean,
): MeteredEntitlement {
  const v = judgeLimits(slot, cell, givenLimits, input.requestedUsage);
  let denied: AccessDeniedReason | undefined = v.denied ? 'RequestedUsageExceedingLimit' : undefined;
  if (!denied && creditsShort()) denied = 'InsufficientCredits';
  const b = v.binding;
  return {
    customerId: input.customerId,
    resourceId: input.resourceId === '' ? null : input.resourceId,
    featureId: input.featureId,
    hasAccess: denied === undefined,
    accessDeniedReason: denied,
    feature: slot.info,
    isFallback: false,
    type: 'METERED',
    usageLimit: b.usageLimit,
    currentUsage: b.currentUsage,
    requestedUsage: input.requestedUsage,
    hasSoftLimit: slot.hasSoftLimit,
    isUnlimited: slot.isUnlimited,
    resetPeriod: b.resetPeriod,
    usagePeriodStart: b.usagePeriodStart,
    usagePeriodEnd: b.usagePeriodEnd,
    overrideId: slot.overrideId,
    limits: v.limits,
    deniedBy: v.denied ? { resetPeriod: b.resetPeriod, usageLimit: b.usageLimit } : undefined,
    ...(cell.carried !== undefined ? { rollover: rolloverShown(cell.carried, cell.value + cell.held) } : {}),
  };
}
