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

/** A closed window of a chain: its bounds, and the base limit and rollover in force at its last instant. */
interface PastWindow {
  start: number;
  end: number;
  limit: number;
  rollover: NonNullable<ResolvedEntitlement['rollover']>;
}

/**
 * The past windows of each chain a view has read, by resource, feature, reset period and current window. They
 * depend only on the view's records (subscriptions, grants, overrides, catalogs), which a view
 * never changes (a write to them makes a new view), so each is resolved once per view and window,
 * not on every write.
 */
const chains = new WeakMap<CustomerView, Map<string, readonly PastWindow[]>>();

/** The closed windows of the chain before `key`'s window, oldest first (see readCarried). */
function pastWindows(view: CustomerView, e: ResolvedEntitlement, key: UsageKey): readonly PastWindow[] {
  let memo = chains.get(view);
  if (memo === undefined) chains.set(view, (memo = new Map()));
  const id = `${key.resourceId}\u0000${key.featureId}\u0000${e.resetPeriod}\u0000${key.windowStart}`;
  const known = memo.get(id);
  if (known !== undefined) return known;
  const past: PastWindow[] = [];
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
  past.reverse();
  memo.set(id, past);
  return past;
}

/**
 * The chunks carried into the window of `key` (the customer's primary cell of `e`, whose window
 * contains `at`), or undefined when `e` does not roll over. Each past window counts with the
 * entitlement in force at its last instant (`view.entitlementsAt`); the chain goes back until a
 * window whose entitlement then does not roll over on the same windows (before the subscription,
 * after a plan without rollover: docs/rollovers.md#plan-changes) or ROLLOVER_LOOKBACK windows. One `getUsages` call reads the cells.
 * With `holdsAt`, quota still held at that instant by reservations of a past window counts as used
 * there (docs/rollovers.md#holds), and `heldUntil` is the first instant one of them lapses (the
 * carried balance may grow then); without it (as-of checks) holds are not counted, and `heldUntil` is Infinity.
 */
export async function readCarried(
  tx: StoreTx,
  view: CustomerView,
  e: ResolvedEntitlement,
  key: UsageKey,
  holdsAt?: number,
): Promise<{ carried: RolloverChunk[]; heldUntil: number } | undefined> {
  if (e.rollover === undefined || e.usageLimit === null) return undefined;
  const past = pastWindows(view, e, key);
  if (past.length === 0) return { carried: [], heldUntil: Infinity };
  const keys: UsageKey[] = past.map((w) => ({ ...key, entityId: '', windowStart: w.start, windowEnd: w.end }));
  const records = await tx.getUsages(keys);
  const windows: RolloverWindowInput[] = past.map((w, i) => ({ ...w, used: records[i]?.value ?? 0 }));
  let heldUntil = Infinity;
  if (holdsAt !== undefined) {
    // A hold made before a window ended and committed after it records its usage in that window: until then it is used quota there.
    const at = new Map(past.map((w, i) => [w.start, i]));
    for (const r of await tx.listHeldReservations({ customerId: key.customerId, resourceId: key.resourceId, featureId: key.featureId })) {
      const i = at.get(r.windowStart);
      if (i === undefined || past[i]!.end !== r.windowEnd || r.expiresAt <= holdsAt) continue;
      windows[i]!.used += r.amount;
      heldUntil = Math.min(heldUntil, r.expiresAt);
    }
  }
  const ledger = rolloverLedger(e.window, windows);
  return { carried: ledger[ledger.length - 1]!.carriedOut, heldUntil };
}
