// The usage cells of an entitlement's further limits (docs/limits.md): the same feature counted in
// the customer's cell of each limit's own window, beside the primary window's cell.
import type { ResolvedEntitlement } from '../../rules/entitlements.js';
import type { ResolvedLimit } from '../../rules/limits.js';
import { usageWindow, type Window } from '../../rules/windows.js';
import type { UsageKey } from '../../records.js';

const lastWindows = new WeakMap<ResolvedLimit, Window>();

/** The window of a further limit that contains `at`, remembered per limit as windowFor does. */
export function limitWindow(l: ResolvedLimit, at: number): Window {
  const last = lastWindows.get(l);
  if (last && at >= last.start && at < last.end) return last;
  const w = usageWindow(l.window, at);
  lastWindows.set(l, w);
  return w;
}

/**
 * The customer-level cells of `e`'s further limits that usage at `at` counts in, beside `key` (the
 * cell the usage goes to, an entity's or the customer's); undefined when `e` has none, which is
 * nearly always. Further limits bound the customer as a whole: an entity's usage moves the
 * customer's cells of every limit, and its per-entity limit stays on the primary window.
 */
/**
 * The entity id a further limit's cell is stored under: a control character no entity id can hold
 * (ids refuse them) and the reset period. Those cells are the customer's, but readers that sum a
 * customer's usage (invoices, spend caps, history) ask for entityId '' and must not count the same
 * usage once more per limit (docs/limits.md#cells).
 */
export function limitCellEntity(resetPeriod: string): string {
  return `\u0001${resetPeriod}`;
}

/** Whether a cell's entity id is a further limit's (limitCellEntity) rather than an entity's. */
export function isLimitCellEntity(entityId: string): boolean {
  return entityId.charCodeAt(0) === 1;
}

export function limitKeys(e: ResolvedEntitlement | undefined, key: UsageKey, at: number): UsageKey[] | undefined {
  const limits = e?.limits;
  if (limits === undefined) return undefined;
  return limits.map((l) => {
    const w = limitWindow(l, at);
    return { customerId: key.customerId, resourceId: key.resourceId, entityId: limitCellEntity(l.resetPeriod), featureId: key.featureId, windowStart: w.start, windowEnd: w.end };
  });
}
