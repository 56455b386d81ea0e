/**
 * The storage interface every adapter implements (memory, SQLite, later HTTP-sync and PostgreSQL).
 * Records in, records out, one `transaction(fn)` that commits or rolls back. A store decides
 * nothing: validation and business rules live in the engine and rules.
 */
import type {
  CatalogVersionRecord,
  ChangeRecord,
  CustomerRecord,
  EntityRecord,
  EventRecord,
  IdempotencyRecord,
  InvoiceRecord,
  CreditGrantRecord,
  CreditLedgerRecord,
  NewCreditLedgerRecord,
  PromotionalGrantRecord,
  ProviderCallKind,
  EntitlementOverrideRecord,
  ProviderCallRecord,
  RechargeConfigRecord,
  NewChange,
  ReservationRecord,
  SubscriptionRecord,
  UsageKey,
  UsageRecord,
} from './records.js';

export type TransactionMode = 'read' | 'write';

/** Filters for `listUsage`; windows overlapping [from, to) when given. */
export interface UsageQuery {
  customerId: string;
  featureId?: string;
  resourceId?: string;
  /** '' for the customer's own cells only, an id for that entity's; absent: every cell. */
  entityId?: string;
  from?: number;
  to?: number;
}

/** String fields of a subscription that filters compare with eq, ne, in, notIn. */
export type SubscriptionStringField = 'customerId' | 'productId' | 'planId' | 'resourceId' | 'status' | 'billingPeriod';
/** Instant fields of a subscription that filters compare with lt, lte, gt, gte (eq, ne too). */
export type SubscriptionDateField = 'createdAt' | 'startDate' | 'endDate' | 'trialEndDate';

/**
 * A filter over subscriptions. `status` is the effective status at the query's `now` (as
 * rules/lifecycle.ts statusAt derives it), not the stored one. A null instant (no end date) fails
 * every comparison; a null billing period fails every string comparison except `ne`/`notIn`.
 */
export type SubscriptionFilter =
  | { and: SubscriptionFilter[] }
  | { or: SubscriptionFilter[] }
  | { field: SubscriptionStringField; op: 'eq' | 'ne'; value: string }
  | { field: SubscriptionStringField; op: 'in' | 'notIn'; value: string[] }
  | { field: SubscriptionDateField; op: 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte'; value: number };

export type SubscriptionSortField = 'createdAt' | 'customerId' | 'productId' | 'resourceId' | 'status';

/**
 * One page of subscriptions: matching `filter`, ordered by `sort` then id (ascending ids break ties
 * in both directions), strictly after the cursor `after` (the sort value and id of the last row seen).
 */
export interface SubscriptionQuery {
  filter?: SubscriptionFilter;
  sort: { field: SubscriptionSortField; direction: 'ASC' | 'DESC' };
  after?: { value: string | number; id: string };
  limit: number;
  /** The instant effective statuses are computed at (epoch ms). */
  now: number;
}

/**
 * One page of customers (`getCustomers`, docs in packages/core/README.md#listing-customers): the
 * archived ones or the others, whose id, name or email contains `search` with ASCII letters
 * compared case-insensitively (A-Z only: what SQLite's lower() and PostgreSQL's lower() on a
 * "C"-collated column agree on) and every other character as written (`%` and `_` too), ordered by
 * createdAt then customerId, strictly after the cursor `after`, at most `limit`.
 */
export interface CustomerQuery {
  archived: boolean;
  /** Absent or '': every customer. */
  search?: string;
  after?: { createdAt: number; customerId: string };
  limit: number;
}

/** Filters for `listEvents`. */
export interface EventQuery {
  customerId: string;
  resourceId: string;
  eventName: string;
  from: number;
  to: number;
}

/** Which holds `listHeldReservations` lists; `entityId` absent: every entity's and the customer's own. */
export interface HeldReservationsKey {
  customerId: string;
  resourceId: string;
  featureId: string;
  entityId?: string;
}

/** Filters for `listEntities`. */
export interface EntityQuery {
  customerId: string;
  featureId?: string;
  includeDeleted?: boolean;
  after?: string;
  limit: number;
}

/** What one transaction can do. Every method runs inside the transaction it was handed to. */
export interface StoreTx {
  listCatalogVersions(): Promise<CatalogVersionRecord[]>;
  insertCatalogVersion(record: CatalogVersionRecord): Promise<void>;

  getCustomer(customerId: string): Promise<CustomerRecord | undefined>;
  /**
   * Customers by id, answer i for ids[i] (undefined where none; a repeated id answers twice).
   * One call for a batch: a store with round trips reads them in a few statements.
   */
  getCustomers(customerIds: readonly string[]): Promise<(CustomerRecord | undefined)[]>;
  /** Inserts or replaces by `customerId`. */
  putCustomer(record: CustomerRecord): Promise<void>;
  /** Counts every customer, archived included. */
  countCustomers(): Promise<number>;
  /** A page of customers (see CustomerQuery), executed in the store (SQL where there is SQL). */
  queryCustomers(query: CustomerQuery): Promise<CustomerRecord[]>;

  getSubscription(id: string): Promise<SubscriptionRecord | undefined>;
  /** Every subscription of a customer, any status, oldest first (by createdAt, then id). */
  listSubscriptionsByCustomer(customerId: string): Promise<SubscriptionRecord[]>;
  /** Inserts or replaces by `id`. */
  putSubscription(record: SubscriptionRecord): Promise<void>;

  getUsage(key: UsageKey): Promise<UsageRecord | undefined>;
  /** Usage cells by key, answer i for keys[i] (undefined where none; a repeated key answers twice). */
  getUsages(keys: readonly UsageKey[]): Promise<(UsageRecord | undefined)[]>;
  /** Inserts or replaces by its key. */
  putUsage(record: UsageRecord): Promise<void>;
  /**
   * Inserts or replaces each record by its key, in the order given; the keys must be distinct
   * (INVALID_ARGUMENT otherwise, nothing written).
   */
  putUsages(records: readonly UsageRecord[]): Promise<void>;
  /** Usage cells of a customer, ordered by windowStart, featureId, resourceId, then entityId. */
  listUsage(query: UsageQuery): Promise<UsageRecord[]>;
  /**
   * Records `value` as seen in the cell's window for an exact distinct count.
   * Returns true when it was new in that window.
   */
  addDistinctValue(key: UsageKey, value: string): Promise<boolean>;

  /**
   * Stores events whose idempotency key is new. Returns, per input, true when stored and false
   * when the key was already there (a duplicate: the stored event is left untouched).
   */
  insertEvents(records: EventRecord[]): Promise<boolean[]>;
  getEvent(idempotencyKey: string): Promise<EventRecord | undefined>;
  /** Events of a customer (and resource) named `eventName` with timestamp in [from, to), by timestamp then key. */
  listEvents(query: EventQuery): Promise<EventRecord[]>;
  /** Events stored with an `unmatchedReason`, oldest first, after `afterKey` when paging. */
  listUnmatchedEvents(limit: number, after?: { receivedAt: number; idempotencyKey: string }): Promise<EventRecord[]>;

  getReservation(id: string): Promise<ReservationRecord | undefined>;
  putReservation(record: ReservationRecord): Promise<void>;
  /**
   * Reservations with status HELD of one feature (expired ones included: the engine judges
   * expiry), oldest first: of one entity when `entityId` is given ('' for the customer's own),
   * else of the customer and every entity (what the pooled cell counts).
   */
  listHeldReservations(key: HeldReservationsKey): Promise<ReservationRecord[]>;

  /** Subscriptions matching a query, executed in the store (SQL where there is SQL). */
  querySubscriptions(query: SubscriptionQuery): Promise<SubscriptionRecord[]>;
  /** How many subscriptions carry a promotion code (its redemptions). */
  countPromotionCodeRedemptions(code: string): Promise<number>;

  /** Stores an invoice unless one with the same customer and dedupeKey exists; returns whether it was stored. */
  insertInvoice(record: InvoiceRecord): Promise<boolean>;
  /** Invoices of a customer (optionally one subscription), oldest first (createdAt, then id). */
  listInvoices(query: { customerId: string; subscriptionId?: string }): Promise<InvoiceRecord[]>;

  /** Every promotional grant of a customer (revoked and ended included), oldest first (createdAt, id). */
  listPromotionalGrants(customerId: string): Promise<PromotionalGrantRecord[]>;
  /** Inserts or replaces by id. */
  putPromotionalGrant(record: PromotionalGrantRecord): Promise<void>;

  /** Every entitlement override of a customer (removed and ended included), oldest first (createdAt, id). */
  listEntitlementOverrides(customerId: string): Promise<EntitlementOverrideRecord[]>;
  /** Inserts or replaces by id. */
  putEntitlementOverride(record: EntitlementOverrideRecord): Promise<void>;

  /** Credit grants of a customer (in one currency when given), oldest first (createdAt, id). */
  listCreditGrants(customerId: string, currencyId?: string): Promise<CreditGrantRecord[]>;
  /** Inserts or replaces by id. */
  putCreditGrant(record: CreditGrantRecord): Promise<void>;
  /** Appends ledger entries in order; the store assigns increasing seq numbers. */
  appendCreditLedger(entries: NewCreditLedgerRecord[]): Promise<void>;
  /** Ledger entries of a customer and currency with seq > `after`, in seq order, at most `limit`. */
  listCreditLedger(query: { customerId: string; currencyId: string; after?: number; limit: number }): Promise<CreditLedgerRecord[]>;
  getRechargeConfig(customerId: string, currencyId: string): Promise<RechargeConfigRecord | undefined>;
  /** Inserts or replaces by (customerId, currencyId). */
  putRechargeConfig(record: RechargeConfigRecord): Promise<void>;

  getIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Idempotency records by scope and key, answer i for keys[i] (undefined where none; a repeated pair answers twice). */
  getIdempotencies(keys: readonly { scope: string; key: string }[]): Promise<(IdempotencyRecord | undefined)[]>;
  putIdempotency(record: IdempotencyRecord): Promise<void>;

  getProviderCall(key: string): Promise<ProviderCallRecord | undefined>;
  /** Inserts or replaces by key. */
  putProviderCall(record: ProviderCallRecord): Promise<void>;
  /**
   * PENDING provider calls with notBefore <= `dueAt`, ordered by (createdAt, key), strictly after
   * the cursor `after` when paging, at most `limit`.
   */
  listDueProviderCalls(query: { dueAt: number; limit: number; after?: { createdAt: number; key: string } }): Promise<ProviderCallRecord[]>;
  /**
   * Provider calls of one kind, any status, ordered by (createdAt, key), strictly after the cursor
   * `after` when paging, at most `limit` (webhook deliveries' status, docs/alerts.md).
   */
  listProviderCalls(query: { kind: ProviderCallKind; limit: number; after?: { createdAt: number; key: string } }): Promise<ProviderCallRecord[]>;

  getEntity(customerId: string, entityId: string): Promise<EntityRecord | undefined>;
  /** Inserts or replaces by (customerId, entityId). */
  putEntity(record: EntityRecord): Promise<void>;
  /**
   * Entities of a customer ordered by entityId, strictly after `after` when paging, at most
   * `limit`; deleted ones only with `includeDeleted`; of one seat feature when `featureId` is given.
   */
  listEntities(query: EntityQuery): Promise<EntityRecord[]>;

  /** Appends to the change log; returns the new sequence number (strictly increasing, from 1). */
  appendChange(change: NewChange): Promise<number>;
  /** Appends changes in the order given, as appendChange would one by one; returns their seqs in that order (ascending). */
  appendChanges(changes: readonly NewChange[]): Promise<number[]>;
}

/** Options of `Store.watchChanges`. */
export interface WatchOptions {
  /**
   * Told of failures in the background that no call sees: the watch connection lost, an attempt
   * to open it again failing (STORE_UNAVAILABLE, as a rule). The store keeps trying by itself;
   * this is for logs and health. A throwing handler is ignored.
   */
  onError?: (error: Error) => void;
}

/** Options of `Store.transaction`. */
export interface StoreTransactionOptions {
  /**
   * Write transactions that give the same `turnKey` run one after another instead of side by
   * side: a store whose writers run concurrently (PostgreSQL) queues them before the transaction
   * starts, so writers of one hot row wait their turn rather than conflict and run again. A hint
   * for throughput: the outcome is the same with or without it, and a store whose writers
   * already exclude each other ignores it (docs/conventions.md#several-processes-on-one-store).
   */
  turnKey?: string;
}

/** A storage adapter. */
export interface Store {
  /** A short name for messages and benchmarks: 'memory', 'sqlite'... */
  readonly kind: string;
  /**
   * True when write transactions run at the same time (PostgreSQL): the store then makes them
   * serializable, with the same outcome as one at a time, by running `fn` again on fresh data
   * when another writer got there first. Absent or false: writers exclude each other.
   */
  readonly concurrentWrites?: boolean;
  /** Prepares the store (migrations); called once by `createEngine`. Idempotent. */
  open(): Promise<void>;
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws (and
   * rethrows). `write` transactions are serializable, also across processes where the adapter
   * supports several: they exclude each other, or (`concurrentWrites`) `fn` may run more than once
   * and must then keep its effects inside `tx` until the promise settles. Calls made on `tx`
   * after the promise settles are errors. `options.turnKey`: see StoreTransactionOptions.
   */
  transaction<T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>, options?: StoreTransactionOptions): Promise<T>;
  /**
   * The database connection `tx` runs on, for an application's own statements in the same
   * transaction (`engine.transaction`'s `tx.connection`): the better-sqlite3 `Database` on SQLite,
   * on PostgreSQL the pg connection's `query`, queued with Tessera's statements. Absent where there
   * is none (the memory store).
   */
  connectionOf?(tx: StoreTx): unknown;
  /**
   * A query builder on the connection of `tx` for the application's statements (`tx.db`): a
   * kysely instance on PostgreSQL. Absent where the connection itself serves (SQLite).
   */
  queryBuilderOf?(tx: StoreTx): unknown;
  /**
   * Runs `fn` as a write inside a transaction the application opened on `connection` and will
   * commit or roll back itself (`engine.transaction(fn, { connection })`, PostgreSQL): no commit,
   * no retry. Rejects with INVALID_ARGUMENT when the connection cannot hold Tessera's writes
   * safely (not in a transaction, not SERIALIZABLE). Absent on stores that cannot (memory, SQLite).
   */
  joinTransaction?<T>(connection: unknown, fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Changes with seq > `after`, in order, at most `limit`. */
  getChanges(after: number, limit: number): Promise<ChangeRecord[]>;
  /** The highest committed sequence number (0 when none). */
  lastChangeSeq(): Promise<number>;
  /**
   * Calls `onChange` soon after any process commits a change, where the database can say so
   * (PostgreSQL's LISTEN/NOTIFY), and after a lost watch connection is back (what was committed
   * meanwhile went unannounced). `seq`, when given, is the highest seq the committed transaction
   * appended (a follower whose own writes fill the feed up to it need not read). A hint to read
   * the feed sooner, not a delivery: followers keep polling too. Failures no call sees go to
   * `options.onError`. Returns the function that stops the calls.
   */
  watchChanges?(onChange: (seq?: number) => void, options?: WatchOptions): () => void;
  close(): Promise<void>;
}
