/**
 * The public types of a replica: its options, where it stands, its events and the replica object.
 */
import type {
  BooleanEntitlement,
  Clock,
  EnumEntitlement,
  MeteredEntitlement,
  NumericEntitlement,
  Consumption,
  ConsumeUsageParams,
  Customer,
  EngineErrorEvent,
  Entitlement,
  Fallback,
  GetEntitlementParams,
  Logger,
  RawEvent,
  ReportEventResult,
  ReportedUsage,
  ReportUsageParams,
  Subscription,
} from '@tessera/core';
import type { FetchLike, TesseraClient } from '@tessera/client';
import type { MethodName } from '../methods.js';
import type { FailedEntry } from './outbox.js';

/** Options of `createReplica`. */
export interface ReplicaOptions {
  /** The sidecar's base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** A full-access key (a read-only key syncs and answers checks, but cannot deliver usage or forward writes). */
  apiKey: string;
  /** The local SQLite replica file (created when missing). */
  replica: string;
  /**
   * The separate outbox file of earlier versions, imported into the replica file once and then
   * renamed to `<outbox>.imported`; `<replica>.outbox` by default. The outbox now lives in the
   * replica file itself.
   */
  outbox?: string;
  /**
   * Where failures no caller sees go (deliveries, sync), besides the `error` event; also given
   * to the local engine. Any object with debug/info/warn/error (pino and console fit).
   */
  logger?: Logger;
  /** Check answers by feature id while the replica has never synced (isFallback: true). */
  fallback?: Fallback;
  /** How long each change-feed request waits on the sidecar for a change (long poll), in ms; 25,000 by default. */
  pollIntervalMs?: number;
  /** Time source of the local engine; `systemClock` by default. */
  clock?: Clock;
  /** How long one request to the sidecar may take before it counts as OFFLINE, in ms; 5,000 by default. */
  timeoutMs?: number;
  /** Longest wait between retries (delivery, sync), in ms; doubles from 100 up to this; 5,000 by default. */
  maxBackoffMs?: number;
  /** Another HTTP stack (tests: hono's `app.request`). */
  fetch?: FetchLike;
}

/** Where a replica stands. */
export interface ReplicaSyncState {
  /** True once a snapshot has been taken (ever: it survives restarts). */
  synced: boolean;
  /** The sidecar's change seq the replica has applied. */
  lastSeq: number;
  /** When the replica last heard from the change feed (null: never in this process or before). */
  lastSyncAt: Date | null;
  /** Milliseconds since `lastSyncAt` (null when never). */
  lagMs: number | null;
  /** Usage reports and events acknowledged locally and not yet acknowledged by the sidecar. */
  outboxDepth: number;
  /** Entries the sidecar refused for good (see `failedDeliveries()`). */
  failedDeliveries: number;
  /** Whether the last request to the sidecar got an answer. */
  online: boolean;
}

/** A check answered before the first sync: from the fallback values, saying why. */
export type ReplicaFallbackEntitlement = Entitlement & { fallbackReason?: 'ReplicaNotSynced' };

export type CheckName = 'getEntitlement' | 'getBooleanEntitlement' | 'getNumericEntitlement' | 'getMeteredEntitlement' | 'getEnumEntitlement';
type LocalName = CheckName | 'getEntitlements' | 'getCustomer' | 'getActiveSubscriptions' | 'reportUsage' | 'reportEvent' | 'consumeUsage' | 'syncNow';
/** Methods the replica forwards to the sidecar as they are. */
export type ForwardedMethodName = Exclude<MethodName, LocalName>;

/** Events of a replica (`replica.on(name, handler)`). */
export interface ReplicaEventMap {
  /** The sidecar answered after having been unreachable (or for the first time). */
  online: [];
  /** A request to the sidecar failed for want of an answer. */
  offline: [{ code: string; message: string }];
  /** A snapshot or a page of the change feed was applied. */
  synced: [{ lastSeq: number }];
  /** Outbox entries were acknowledged by the sidecar. */
  delivered: [{ count: number; outboxDepth: number }];
  /** The sidecar refused an entry for good; it moved to `failedDeliveries()`. */
  deliveryFailed: [FailedEntry];
  /** A sync step failed with something else than OFFLINE (it is retried). */
  syncError: [unknown];
  /**
   * A failure no caller sees (source `replica`, method `deliver` or `sync`), as the engine's
   * `error` event: the first of a streak of failures, then at most once a minute while it lasts,
   * and each entry the sidecar refused for good (packages/core/docs/operating.md#errors).
   */
  error: [EngineErrorEvent];
}

/**
 * A replica: the engine's checks answered from the local file, usage writes applied locally and
 * queued for the sidecar, every other method forwarded to the sidecar (OFFLINE when it cannot
 * be reached).
 */
export type Replica = Pick<TesseraClient, ForwardedMethodName> & {
  getEntitlement(params: GetEntitlementParams): Promise<Entitlement>;
  getBooleanEntitlement(params: GetEntitlementParams): Promise<BooleanEntitlement>;
  getNumericEntitlement(params: GetEntitlementParams): Promise<NumericEntitlement>;
  getMeteredEntitlement(params: GetEntitlementParams): Promise<MeteredEntitlement>;
  getEnumEntitlement(params: GetEntitlementParams): Promise<EnumEntitlement>;
  getEntitlements(params: { customerId: string; resourceId?: string; entityId?: string } | string, resourceId?: string): Promise<Entitlement[]>;
  getCustomer(customerId: string): Promise<Customer>;
  getActiveSubscriptions(params: { customerId: string; resourceId?: string | string[] }): Promise<Subscription[]>;
  /** Applied locally, queued durably, delivered in order with its idempotency key (generated when absent). */
  reportUsage(params: ReportUsageParams): Promise<ReportedUsage>;
  /** Metered locally, queued durably, delivered in order. */
  reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult>;
  /** Decided against the local replica; the granted amount is delivered as a DELTA usage report. */
  consumeUsage(params: ConsumeUsageParams): Promise<Consumption>;
  /** Pulls the change feed now (no wait) until caught up. Throws OFFLINE when the sidecar cannot be reached. */
  syncNow(): Promise<void>;
  syncState(): ReplicaSyncState;
  /** Resolves once a snapshot has been taken; rejects after `timeoutMs`. */
  whenSynced(timeoutMs?: number): Promise<void>;
  /** Resolves once the outbox is empty; rejects after `timeoutMs`. */
  drained(timeoutMs?: number): Promise<void>;
  /** Entries the sidecar refused for good (INVALID_ARGUMENT, CUSTOMER_NOT_FOUND...), oldest first. */
  failedDeliveries(): FailedEntry[];
  on<K extends keyof ReplicaEventMap>(event: K, handler: (...args: ReplicaEventMap[K]) => void): Replica;
  off<K extends keyof ReplicaEventMap>(event: K, handler: (...args: ReplicaEventMap[K]) => void): Replica;
  /** Stops syncing and delivering (the outbox keeps what is left) and closes the files. */
  close(): Promise<void>;
};
