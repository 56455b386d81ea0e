/**
 * What the parts of one replica share: its connections and files, and where syncing and
 * delivery stand.
 */
import type { EventEmitter } from 'node:events';
import { isTesseraError, type Clock, type Engine, type Mutex, type Store } from '@tessera/core';
import type { TesseraClient } from '@tessera/client';
import type { Outbox } from './outbox.js';
import type { ReplicaReporter, Streak } from './report.js';
import type { ReplicaTransport } from './transport.js';

/** The state of one replica, shared by its sync-down, its delivery and its public object. */
export interface ReplicaState {
  readonly clock: Clock;
  readonly pollMs: number;
  readonly maxBackoffMs: number;
  readonly client: TesseraClient;
  readonly transport: ReplicaTransport;
  readonly outbox: Outbox;
  /** The replica file's store, as sync-down writes it (the local engine's writes also queue outbox entries). */
  readonly store: Store;
  readonly reporter: ReplicaReporter;
  /** Failures of delivery, and of reading from the sidecar (snapshot, change feed, customers), in a row. */
  readonly deliveryStreak: Streak;
  readonly syncStreak: Streak;
  readonly emitter: EventEmitter;
  readonly stop: AbortController;
  readonly mutex: Mutex;
  engine: Engine | undefined;
  /** Creates the local engine on the replica file, whose usage writes queue their outbox entries. */
  readonly openEngine: () => Promise<Engine>;
  synced: boolean;
  lastSeq: number;
  lastSyncAt: number | null;
  /** Null until the first request to the sidecar answered or failed. */
  online: boolean | null;
  closed: boolean;
  /** Acknowledged deliveries, counted, and the count at each customer's latest one. */
  acks: number;
  readonly ackedAt: Map<string, number>;
  wakeDelivery: () => void;
}

export const setOnline = (state: ReplicaState, value: boolean, error?: unknown) => {
  if (state.online === value) return;
  state.online = value;
  if (value) state.emitter.emit('online');
  else state.emitter.emit('offline', { code: isTesseraError(error) ? error.code : 'OFFLINE', message: error instanceof Error ? error.message : String(error) });
};
