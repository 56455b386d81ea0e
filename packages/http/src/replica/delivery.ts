/**
 * The delivery of the outbox: usage reports and events queued locally, sent to the sidecar in
 * order, retried while it cannot take them, set aside when it refuses them for good.
 */
import { isTesseraError, type RawEvent, type ReportUsageParams } from '@tessera/core';
import type { TesseraClient } from '@tessera/client';
import { MIN_BACKOFF_MS, sleep } from './backoff.js';
import type { OutboxEntry } from './outbox.js';
import { setOnline, type ReplicaState } from './state.js';
import { refresh } from './sync-down.js';

const DELIVERY_BATCH = 200;
/** Errors after which a delivery is retried; any other code means the sidecar refused the entry. */
const TRANSIENT = new Set(['OFFLINE', 'STORE_UNAVAILABLE', 'INTERNAL', 'UNAUTHORIZED']);

async function send(client: TesseraClient, batch: OutboxEntry[]): Promise<void> {
  if (batch[0]!.kind === 'usage') {
    if (batch.length === 1) await client.reportUsage(batch[0]!.body as unknown as ReportUsageParams);
    else await client.reportUsageBulk({ usages: batch.map((e) => e.body as unknown as ReportUsageParams) });
  } else {
    await client.reportEvent(batch.map((e) => e.body as unknown as RawEvent));
  }
}

export async function deliveryLoop(state: ReplicaState): Promise<void> {
  const { outbox, emitter } = state;
  let backoff = MIN_BACKOFF_MS;
  /** After a batch was refused, entries up to this seq go one at a time, to find the one refused. */
  let singleUpTo = 0;
  while (!state.closed) {
    const peeked = outbox.peek(DELIVERY_BATCH);
    if (peeked.length === 0) {
      await new Promise<void>((resolve) => {
        state.wakeDelivery = resolve;
        setTimeout(resolve, 1_000).unref?.();
      });
      continue;
    }
    const first = peeked[0]!;
    // In order: the longest run of one kind from the head goes in one request.
    const otherKind = peeked.findIndex((e) => e.kind !== first.kind);
    const batch = first.seq <= singleUpTo ? [first] : otherKind < 0 ? peeked : peeked.slice(0, otherKind);
    try {
      await send(state.client, batch);
      outbox.remove(batch.map((e) => e.seq));
      state.acks++;
      const customers = new Set(batch.map((e) => e.customerId));
      for (const id of customers) state.ackedAt.set(id, state.acks);
      setOnline(state, true);
      backoff = MIN_BACKOFF_MS;
      emitter.emit('delivered', { count: batch.length, outboxDepth: outbox.depth() });
      refresh(state, [...customers].filter((id) => !outbox.hasPending(id)));
    } catch (e) {
      if (state.closed) return;
      const code = isTesseraError(e) ? e.code : 'INTERNAL';
      if (TRANSIENT.has(code)) {
        if (code === 'OFFLINE') setOnline(state, false, e);
        await sleep(backoff, state.stop.signal);
        backoff = Math.min(backoff * 2, state.maxBackoffMs);
      } else if (batch.length > 1) {
        singleUpTo = batch.at(-1)!.seq;
      } else {
        outbox.fail(first, code, (e as Error).message, state.clock.nowMs());
        const failed = outbox.failed().find((f) => f.seq === first.seq);
        if (failed) emitter.emit('deliveryFailed', failed);
      }
    }
  }
}
