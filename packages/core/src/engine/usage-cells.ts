import type { UsageKey, UsageRecord } from '../records.js';
import type { StoreTx } from '../store/store.js';
import type { UsageCell } from './view.js';

/** A fresh, empty usage record for a cell. */
export function emptyUsage(key: UsageKey, now: number): UsageRecord {
  return { ...key, value: 0, count: 0, sum: 0, min: null, max: null, latestAt: null, latestValue: null, updatedAt: now };
}

/**
 * Reads a usage cell with the quota held by live reservations in its window, and the stored
 * record it came from (undefined when none). Expired holds are ignored here (expiry needs no
 * job); `heldUntil` says when the next one lapses.
 */
export async function readUsageState(tx: StoreTx, key: UsageKey, now: number): Promise<{ cell: UsageCell; record: UsageRecord | undefined }> {
  const record = await tx.getUsage(key);
  const cell: UsageCell = { start: key.windowStart, end: key.windowEnd, value: record?.value ?? 0, held: 0, heldUntil: Infinity };
  const holds = await tx.listHeldReservations(key);
  for (const r of holds) {
    if (r.windowStart !== key.windowStart || r.windowEnd !== key.windowEnd || r.expiresAt <= now) continue;
    cell.held += r.amount;
    if (r.expiresAt < cell.heldUntil) cell.heldUntil = r.expiresAt;
  }
  return { cell, record };
}

/** The usage cell of `readUsageState`, for the check path that caches it. */
export async function readUsageCell(tx: StoreTx, key: UsageKey, now: number): Promise<UsageCell> {
  return (await readUsageState(tx, key, now)).cell;
}
