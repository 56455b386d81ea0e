// The replica's metric hook: its outbox as OpenTelemetry gauges (packages/core/docs/operating.md#metrics).
import { observeReplica, type Clock } from '@tessera/core';
import type { Outbox } from './outbox.js';

/**
 * Starts reporting `tessera.replica.outbox.depth` and `tessera.replica.delivery.lag` for a
 * replica's outbox; resolves to the function that stops it (call it on close). The lag is the age
 * of the oldest queued entry by its timestamp (for raw events, the event's own).
 */
export function observeOutbox(outbox: Outbox, clock: Clock): Promise<() => void> {
  // The outbox lives in the replica's file and is read asynchronously, while a gauge is read
  // synchronously: each collection reports the oldest entry the previous one looked up, so the
  // lag is at most one collection interval old.
  let oldestAt = Number.NaN;
  return observeReplica(() => {
    const depth = outbox.depth();
    if (depth === 0) oldestAt = Number.NaN;
    else
      void outbox.peek(1).then(
        ([oldest]) => {
          const at = typeof oldest?.body.timestamp === 'string' ? Date.parse(oldest.body.timestamp) : Number.NaN;
          oldestAt = at;
        },
        () => undefined, // the replica's delivery loop reports a failing outbox read itself
      );
    return { outboxDepth: depth, deliveryLagSeconds: Number.isFinite(oldestAt) ? Math.max(0, clock.nowMs() - oldestAt) / 1000 : 0 };
  });
}
