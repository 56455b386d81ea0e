// The replica's metric hook: its outbox as OpenTelemetry gauges (packages/core/docs/operating.md#metrics).
import { observeReplica, type Clock } from '@tessera/core';
import type { Outbox } from './outbox.js';

/**
 * Starts reporting `tessera.replica.outbox.depth` and `tessera.replica.delivery.lag` for a
 * replica's outbox; resolves to the function that stops it (call it on close). The lag is the age
 * of the oldest queued entry by its timestamp (for raw events, the event's own).
 */
export function observeOutbox(outbox: Outbox, clock: Clock): Promise<() => void> {
  return observeReplica(() => {
    const depth = outbox.depth();
    const oldest = depth === 0 ? undefined : outbox.peek(1)[0];
    const at = typeof oldest?.body.timestamp === 'string' ? Date.parse(oldest.body.timestamp) : Number.NaN;
    return { outboxDepth: depth, deliveryLagSeconds: Number.isFinite(at) ? Math.max(0, clock.nowMs() - at) / 1000 : 0 };
  });
}
