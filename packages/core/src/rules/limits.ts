// Further limits of a METERED entitlement, each on a reset period of its own (docs/limits.md).
import type { ResetPeriod } from '../catalog/types.js';
import { RESET_PERIODS } from '../catalog/types.js';
import type { EntitlementSource } from './entitlements.js';
import type { WindowSpec } from './windows.js';

/** One further limit after combining sources: `usageLimit` units per window of `window`. */
export interface ResolvedLimit {
  usageLimit: number;
  resetPeriod: ResetPeriod;
  window: WindowSpec;
}

/**
 * Combines the further limits of a feature's sources (sorted as combineEntitlement sorts them),
 * beside the combined primary limit on `primaryPeriod` (docs/conventions.md#combining-sources):
 * the limit on a period P is the sum, over the sources that limit P, of their limit on P (an entry
 * of `limits`, or their `usageLimit` when their own resetPeriod is P), times quantity. A source
 * that does not limit P leaves P alone. Limits on the primary's period add to the primary (the
 * returned `primaryExtra`), since two limits on one window would share one usage cell. Returns
 * undefined when no source carries further limits (the common case, allocation-free).
 * Example: plan 100/HOUR with limits [2000/MONTH], add-on 500/MONTH -> MONTH limit 2,500 (and the
 * primary, by its own rule, 600/HOUR).
 */
export function combineLimits(sorted: readonly EntitlementSource[], primaryPeriod: ResetPeriod | null): { limits: ResolvedLimit[]; primaryExtra: number } | undefined {
  if (!sorted.some((s) => s.entitlement.limits !== undefined && s.entitlement.limits.length > 0)) return undefined;
  const byPeriod = new Map<ResetPeriod, { sum: number; anchor: number; extra: boolean }>();
  const add = (period: ResetPeriod, amount: number, anchor: number, extra: boolean) => {
    const at = byPeriod.get(period);
    if (at) {
      at.sum += amount;
      at.extra ||= extra;
    } else byPeriod.set(period, { sum: amount, anchor, extra });
  };
  for (const s of sorted) {
    const e = s.entitlement;
    if (typeof e.usageLimit === 'number' && e.resetPeriod) add(e.resetPeriod, e.usageLimit * s.quantity, s.anchor, false);
    for (const l of e.limits ?? []) add(l.resetPeriod, l.usageLimit * s.quantity, s.anchor, true);
  }
  let primaryExtra = 0;
  const limits: ResolvedLimit[] = [];
  for (const period of RESET_PERIODS) {
    const g = byPeriod.get(period);
    // A period only primaries name is already in the primary sum (combineEntitlement adds them all).
    if (!g || !g.extra) continue;
    if (period === primaryPeriod) {
      primaryExtra += extraOnly(sorted, period);
      continue;
    }
    limits.push({ usageLimit: g.sum, resetPeriod: period, window: { resetPeriod: period, anchor: g.anchor } });
  }
  return { limits, primaryExtra };
}

/** The further limits on `period` alone (the primaries on it are already in the primary sum). */
function extraOnly(sorted: readonly EntitlementSource[], period: ResetPeriod): number {
  let sum = 0;
  for (const s of sorted) for (const l of s.entitlement.limits ?? []) if (l.resetPeriod === period) sum += l.usageLimit * s.quantity;
  return sum;
}
