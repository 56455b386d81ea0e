// The carried balance of a feature that rolls over unused allowance (docs/rollovers.md), read from
// the store: the usage cells of the past windows of the chain, then the ledger (rules/rollover.ts).
import type { ResolvedEntitlement } from '../../rules/entitlements.js';
import { rolloverLedger, type RolloverChunk, type RolloverWindowInput } from '../../rules/rollover.js';
import { usageWindow } from '../../rules/windows.js';
import type { UsageKey } from '../../records.js';
import type { StoreTx } from '../../store/store.js';
import type { CustomerView } from '../checks/view.js';

/**
 * The most past windows the ledger reads (docs/rollovers.md#look-back, the approximation past it): the chain is exact from the
 * entitlement's first rolling window when that is at most this many windows back (ten years of
 * months, about four months of days, five days of hours); an older chain starts here with nothing
 * carried.
 */
export const ROLLOVER_LOOKBACK = 120;

/**
 * The chunks carried into the window of `key` (the customer's primary cell of `e`, whose window
 * contains `at`), or undefined when `e` does not roll over. Each past window counts with the
 * entitlement in force at its last instant (`view.entitlementsAt`); the chain goes back until a
 * window whose entitlement then does not roll over on the same windows (before the subscription,
 * after a plan without rollover: docs/rollovers.md#plan-changes) or ROLLOVER_LOOKBACK windows. One `getUsages` call reads the cells.
 */
export async function readCarried(tx: StoreTx, view: CustomerView, e: ResolvedEntitlement, key: UsageKey): Promise<RolloverChunk[] | undefined> {
  if (e.rollover === undefined || e.usageLimit === null) return undefined;
  const past: { start: number; end: number; limit: number; rollover: NonNullable<ResolvedEntitlement['rollover']> }[] = [];
  let end = key.windowStart;
  for (let i = 0; i < ROLLOVER_LOOKBACK; i++) {
    const then = view.entitlementsAt(key.resourceId, end - 1).get(key.featureId);
    if (then === undefined || then.rollover === undefined || then.usageLimit === null || then.resetPeriod !== e.resetPeriod) break;
    const w = usageWindow(then.window, end - 1);
    // Another anchor gives other windows: the chain does not cross it.
    if (w.end !== end || w.start >= end) break;
    past.push({ start: w.start, end: w.end, limit: then.usageLimit, rollover: then.rollover });
    end = w.start;
  }
  if (past.length === 0) return [];
  past.reverse();
  const keys: UsageKey[] = past.map((w) => ({ ...key, entityId: '', windowStart: w.start, windowEnd: w.end }));
  const records = await tx.getUsages(keys);
  const windows: RolloverWindowInput[] = past.map((w, i) => ({ ...w, used: records[i]?.value ?? 0 }));
  const ledger = rolloverLedger(e.window, windows);
  return ledger[ledger.length - 1]!.carriedOut;
}
