/**
 * The sync-down of a replica: snapshots and change-feed pages from the sidecar, written into the
 * local store, and the loop that follows the change feed.
 */
import { isTesseraError, type CatalogVersionRecord } from '@tessera/core';
import { MIN_BACKOFF_MS, sleep } from './backoff.js';
import { fromPeer, MAX_REPLICA_CUSTOMERS, type CustomerExport } from './records.js';
import { setOnline, type ReplicaState } from './state.js';

// ---- writing what the sidecar sent into the local store ----

async function writeCatalogs(state: ReplicaState, versions: CatalogVersionRecord[]): Promise<boolean> {
  return state.store.transaction('write', async (tx) => {
    const have = new Set((await tx.listCatalogVersions()).map((v) => v.version));
    let added = false;
    for (const v of versions.sort((a, b) => a.version - b.version)) {
      if (have.has(v.version)) continue;
      await tx.insertCatalogVersion(v);
      // The local engine learns of it through its own change log (engine.syncNow()).
      await tx.appendChange({ at: state.clock.nowMs(), kind: 'catalog.published', customerId: null, entityId: String(v.version), payload: { version: v.version, source: 'replica' } });
      added = true;
    }
    return added;
  });
}

/**
 * Writes customers' records as the sidecar has them. Usage cells of a customer with writes not
 * yet acknowledged by the sidecar (queued, or acknowledged after `ackMark`, the acknowledgement
 * count when the fetch started) stay as they are locally: the sidecar's cells lack those writes,
 * and the change their delivery causes brings the cells again. A local write commits with its
 * outbox entry, so this transaction sees either both or neither.
 */
async function writeCustomers(state: ReplicaState, exports: CustomerExport[], ackMark: number): Promise<void> {
  if (exports.length === 0) return;
  await state.store.transaction('write', async (tx) => {
    for (const sent of exports) {
      const ex = fromPeer(sent);
      const id = ex.customerId;
      if (ex.customer) await tx.putCustomer(ex.customer);
      for (const s of ex.subscriptions) await tx.putSubscription(s);
      const keepLocalUsage = state.outbox.hasPendingIn(tx, id) || (state.ackedAt.get(id) ?? 0) > ackMark;
      if (!keepLocalUsage) for (const u of ex.usage) await tx.putUsage(u);
      for (const g of ex.promotionalGrants) await tx.putPromotionalGrant(g);
      for (const o of ex.entitlementOverrides ?? []) await tx.putEntitlementOverride(o);
      for (const g of ex.creditGrants) await tx.putCreditGrant(g);
      for (const r of ex.reservations) await tx.putReservation(r);
      for (const e of ex.entities) await tx.putEntity(e);
      await tx.appendChange({ at: state.clock.nowMs(), kind: 'customer.updated', customerId: id, entityId: null, payload: { source: 'replica' } });
    }
  });
}

async function fetchCustomers(state: ReplicaState, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_REPLICA_CUSTOMERS) {
    const mark = state.acks;
    const { customers } = await state.transport.customers(ids.slice(i, i + MAX_REPLICA_CUSTOMERS), state.stop.signal);
    await writeCustomers(state, customers, mark);
  }
}

/** Records how far the replica has applied the feed, after the records it covers (a crash in between reads them again). */
async function noteSynced(state: ReplicaState, seq: number, more: Record<string, string> = {}): Promise<void> {
  const at = state.clock.nowMs();
  await state.outbox.setMeta({ ...more, lastSeq: String(seq), lastSyncAt: String(at) });
  state.lastSeq = seq;
  state.lastSyncAt = at;
  state.emitter.emit('synced', { lastSeq: seq });
}

export async function snapshot(state: ReplicaState): Promise<void> {
  await state.mutex.run(async () => {
    if (state.synced) return;
    const snap = await state.transport.snapshot(state.stop.signal, true);
    await writeCatalogs(state, snap.catalogVersions);
    await fetchCustomers(state, snap.customerIds ?? []);
    state.engine ??= await state.openEngine();
    await state.engine.syncNow();
    await noteSynced(state, snap.lastChangeSeq, { synced: '1' });
    state.synced = true;
  });
}

/** One page of the change feed after `lastSeq`; applied unless another pull applied one meanwhile. Returns whether it held changes. */
export async function pull(state: ReplicaState, waitMs: number): Promise<boolean> {
  const after = state.lastSeq;
  const page = await state.transport.changes(after, waitMs, state.stop.signal);
  return state.mutex.run(async () => {
    if (state.lastSeq !== after) return true;
    const ids = new Set<string>();
    let catalog = false;
    for (const c of page.changes) {
      if (c.kind === 'catalog.published') catalog = true;
      else if (c.customerId !== null) ids.add(c.customerId);
    }
    if (catalog) await writeCatalogs(state, (await state.transport.snapshot(state.stop.signal, false)).catalogVersions);
    await fetchCustomers(state, [...ids]);
    await state.engine!.syncNow();
    await noteSynced(state, page.nextAfter);
    return page.changes.length > 0;
  });
}

/** Re-reads customers now (after their outbox entries were acknowledged); a failure is reported, and the change feed brings them later. */
export function refresh(state: ReplicaState, ids: string[]): void {
  if (ids.length === 0 || !state.engine) return;
  void state.mutex
    .run(async () => {
      await fetchCustomers(state, ids);
      await state.engine!.syncNow();
    })
    .catch((e: unknown) => {
      if (!state.closed) state.syncStreak.failed(e);
    });
}

/** Applies the change feed up to the sidecar's newest change now. */
export async function catchUp(state: ReplicaState): Promise<void> {
  while (await pull(state, 0));
}

// ---- the background loop ----

export async function followLoop(state: ReplicaState): Promise<void> {
  let backoff = MIN_BACKOFF_MS;
  while (!state.closed) {
    try {
      if (!state.synced) await snapshot(state);
      // Right after (re)connecting, a quick read: `online` should not wait for a long poll.
      await pull(state, state.online ? state.pollMs : 0);
      setOnline(state, true);
      state.syncStreak.succeeded();
      backoff = MIN_BACKOFF_MS;
    } catch (e) {
      if (state.closed) return;
      if (isTesseraError(e) && e.code === 'OFFLINE') setOnline(state, false, e);
      else state.emitter.emit('syncError', e);
      state.syncStreak.failed(e);
      await sleep(backoff, state.stop.signal);
      backoff = Math.min(backoff * 2, state.maxBackoffMs);
    }
  }
}
