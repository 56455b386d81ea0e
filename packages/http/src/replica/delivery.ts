/**
 * The delivery of the outbox: usage reports and events queued locally, sent to the sidecar in
 * order, retried while it cannot take them, set aside when it refuses them for good. Failures
 * are reported (the replica's `error` event and logger), a streak of them throttled.
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
    let peeked: OutboxEntry[];
    try {
      peeked = await outbox.peek(DELIVERY_BATCH);
    } catch (e) {
      // The replica file (busy, gone): nothing to deliver can be read; retried like a delivery.
      if (state.closed) return;
      state.deliveryStreak.failed(e);
      await sleep(backoff, state.stop.signal);
      backoff = Math.min(backoff * 2, state.maxBackoffMs);
      continue;
    }
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
    let sent = false;
    try {
      await send(state.client, batch);
      sent = true;
      await outbox.remove(batch.map((e) => e.seq));
      state.acks++;
      const customers = new Set(batch.map((e) => e.customerId));
      for (const id of customers) state.ackedAt.set(id, state.acks);
      setOnline(state, true);
      state.deliveryStreak.succeeded();
      backoff = MIN_BACKOFF_MS;
      emitter.emit('delivered', { count: batch.length, outboxDepth: outbox.depth() });
      refresh(state, await outbox.settled([...customers]));
    } catch (e) {
      if (state.closed) return;
      const code = isTesseraError(e) ? e.code : 'INTERNAL';
      // Sent but not removed (the replica file failed): sent again later with the same keys, counted once.
      if (sent || TRANSIENT.has(code)) {
        if (!sent && code === 'OFFLINE') setOnline(state, false, e);
        state.deliveryStreak.failed(e);
        await sleep(backoff, state.stop.signal);
        backoff = Math.min(backoff * 2, state.maxBackoffMs);
      } else if (batch.length > 1) {
        singleUpTo = batch.at(-1)!.seq;
      } else {
        try {
          const failed = await outbox.fail(first, code, (e as Error).message, state.clock.nowMs());
          state.reporter.report(e, 'deliver', 'error', { customerId: first.customerId });
          emitter.emit('deliveryFailed', failed);
        } catch (err) {
          state.deliveryStreak.failed(err);
          await sleep(backoff, state.stop.signal);
        }
      }
    }
  }
}
