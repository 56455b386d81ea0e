import type { IdempotencyRecord, ReservationRecord, UsageKey, UsageRecord } from '../../records.js';
import type { StoreTx } from '../../store/store.js';
import { usageKeyId } from '../../store/usage-keys.js';
import type { UsageCell } from '../checks/view.js';
import { isLimitCellEntity } from './limit-cells.js';

/** A fresh, empty usage record for a cell. */
export function emptyUsage(key: UsageKey, now: number): UsageRecord {
  return { ...key, value: 0, count: 0, sum: 0, min: null, max: null, latestAt: null, latestValue: null, updatedAt: now };
}

/**
 * The held reservations that count in a cell. An entity's cell counts its own; the customer's
 * pooled cell (entityId '') counts every hold of the feature, its own and each entity's, since a
 * hold for an entity also holds pooled quota (docs/entities.md#reservations): one listing either way.
 * A further limit's cell (stored under limitCellEntity) counts the customer's holds as the pooled one does.
 */
function holdsOf(tx: StoreTx, key: UsageKey): Promise<ReservationRecord[]> {
  const { customerId, resourceId, featureId, entityId } = key;
  const customers = entityId === '' || isLimitCellEntity(entityId);
  return tx.listHeldReservations(customers ? { customerId, resourceId, featureId } : { customerId, resourceId, featureId, entityId });
}

/**
 * Reads a usage cell with the quota held by live reservations in its window, and the stored
 * record it came from (undefined when none). Expired holds are ignored here (expiry needs no
 * job); `heldUntil` says when the next one lapses. `byCreation` is for the cell of a further limit
 * (docs/limits.md#reservations): a hold records the primary window only, so it counts in the
 * further limit's cell whose window contains the instant it was made.
 */
export async function readUsageState(tx: StoreTx, key: UsageKey, now: number, byCreation = false): Promise<{ cell: UsageCell; record: UsageRecord | undefined }> {
  const record = await tx.getUsage(key);
  const cell: UsageCell = { start: key.windowStart, end: key.windowEnd, value: record?.value ?? 0, held: 0, heldUntil: Infinity };
  const holds = await holdsOf(tx, key);
  for (const r of holds) {
    const inWindow = byCreation ? r.createdAt >= key.windowStart && r.createdAt < key.windowEnd : r.windowStart === key.windowStart && r.windowEnd === key.windowEnd;
    if (!inWindow || r.expiresAt <= now) continue;
    cell.held += r.amount;
    if (r.expiresAt < cell.heldUntil) cell.heldUntil = r.expiresAt;
  }
  return { cell, record };
}

/** The usage cell of `readUsageState`, for the check path that caches it. */
export async function readUsageCell(tx: StoreTx, key: UsageKey, now: number, byCreation = false): Promise<UsageCell> {
  return (await readUsageState(tx, key, now, byCreation)).cell;
}

const byId = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * The usage cells and idempotency records of one batch write, read once and written at the end
 * of the transaction in key order. On a store whose writers run side by side (PostgreSQL), every
 * batch then takes its row locks in the same order, so two batches touching the same cells in
 * different orders wait for each other instead of deadlocking (a deadlock costs a second before
 * the database notices, then a retry). docs/conventions.md#several-processes-on-one-store.
 */
export class BatchWrites {
  private readonly cells = new Map<string, UsageRecord>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();

  constructor(
    private readonly tx: StoreTx,
    private readonly now: number,
  ) {}

  /**
   * Reads every cell of `keys` this batch has not read yet, in one store call (one statement per
   * hundred cells on a store with round trips, rather than one per cell). `ids`, when given, are
   * the keys' usageKeyIds (a batch that has them spares building them again).
   */
  async load(keys: readonly UsageKey[], ids?: readonly string[]): Promise<void> {
    const missing = new Map<string, UsageKey>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const id = ids ? ids[i]! : usageKeyId(key);
      if (!this.cells.has(id) && !missing.has(id)) missing.set(id, key);
    }
    if (missing.size === 0) return;
    const wanted = [...missing.values()];
    const found = await this.tx.getUsages(wanted);
    let i = 0;
    for (const [id, key] of missing) this.cells.set(id, found[i++] ?? emptyUsage(key, this.now));
  }

  /** The record of a cell already read (`load`); throws when it was not, which is a bug. */
  loaded(key: UsageKey, id = usageKeyId(key)): UsageRecord {
    const rec = this.cells.get(id);
    if (!rec) throw new Error(`BatchWrites: cell ${id} used before it was loaded`);
    return rec;
  }

  /** Every cell read so far, in the order the batch first touched them. */
  touched(): IterableIterator<UsageRecord> {
    return this.cells.values();
  }

  /** Records a result to store under an idempotency key at the end. */
  remember(record: IdempotencyRecord): void {
    this.idempotency.set(`${record.scope}\u0000${record.key}`, record);
  }

  /** Writes every cell read (stamped `now`) in one call, then the idempotency records, each in key order. */
  async flush(): Promise<void> {
    const cells = [...this.cells].sort(byId).map(([, rec]) => rec);
    for (const rec of cells) rec.updatedAt = this.now;
    if (cells.length > 0) await this.tx.putUsages(cells);
    for (const [, rec] of [...this.idempotency].sort(byId)) await this.tx.putIdempotency(rec);
  }
}
