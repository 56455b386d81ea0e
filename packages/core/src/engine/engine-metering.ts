import type { CatalogIds } from '../catalog/ids.js';
import { evaluateAll, type BooleanEntitlement, type EnumEntitlement, type Entitlement, type GetEntitlementParams, type MeteredEntitlement, type NumericEntitlement } from './checks/entitlements.js';
import { Params } from './runtime/params.js';
import * as usage from './usage/usage.js';
import type { ReportedUsage, ReportUsageParams } from './usage/usage.js';
import { reportEvent, type RawEvent, type ReportEventResult } from './usage/raw-events.js';
import * as consumption from './usage/consumption.js';
import type { Consumption, Reservation } from './usage/consumption.js';
import { getUnmatchedEvents, getUsageHistory, type UnmatchedEvent, type UsageHistory } from './usage/history.js';
import { runTransaction, transactionApi, type EngineTransaction, type TransactionOptions } from './runtime/transaction.js';
import { check } from './checks/check.js';
import { entitlementsAsOf } from './checks/as-of.js';
import type { ConsumeUsageParams } from './runtime/engine-types.js';
import * as entities from './entities/entities.js';
import type { CreateEntityParams, Entity, GetEntitiesParams } from './entities/entities.js';
import { EngineAccounts } from './engine-accounts.js';

/** The engine's second part (engine.ts is the whole): checks, entities and usage. Use `Engine`. */
export class EngineMetering<Ids extends CatalogIds = CatalogIds> extends EngineAccounts<Ids> {
  // Entitlement checks

  /** The entitlement of any feature type. Denies (never throws) for unknown customers or features. */
  getEntitlement(params: GetEntitlementParams<Ids>): Promise<Entitlement> {
    return check(this.ctx, params, 'getEntitlement', undefined);
  }

  /**
   * A BOOLEAN feature's entitlement. Always shaped as one: an unknown feature (FeatureNotFound) or
   * a feature of another type (FeatureTypeMismatch) denies with `type: 'BOOLEAN'`.
   */
  getBooleanEntitlement(params: GetEntitlementParams<Ids>): Promise<BooleanEntitlement> {
    return check(this.ctx, params, 'getBooleanEntitlement', 'BOOLEAN');
  }

  /** A NUMERIC feature's entitlement; a denial (FeatureTypeMismatch...) has `value: null`. */
  getNumericEntitlement(params: GetEntitlementParams<Ids>): Promise<NumericEntitlement> {
    return check(this.ctx, params, 'getNumericEntitlement', 'NUMERIC');
  }

  /**
   * A METERED feature's entitlement with usage; `options.requestedUsage` asks for more. A denial
   * without an entitlement (FeatureNotFound, FeatureTypeMismatch...) has `usageLimit: null`,
   * `currentUsage: 0` and `resetPeriod: null`.
   */
  getMeteredEntitlement(params: GetEntitlementParams<Ids>): Promise<MeteredEntitlement> {
    return check(this.ctx, params, 'getMeteredEntitlement', 'METERED');
  }

  /** An ENUM feature's entitlement; `options.requestedValues` must all be enabled. A denial has `enumValues: []`. */
  getEnumEntitlement(params: GetEntitlementParams<Ids>): Promise<EnumEntitlement> {
    return check(this.ctx, params, 'getEnumEntitlement', 'ENUM');
  }

  /**
   * Every entitlement the customer has (for a resource; as an entity sees them with `entityId`,
   * docs/entities.md#checks). Empty for unknown or archived customers. With `at`, as at that past
   * instant (docs/as-of.md).
   */
  async getEntitlements(params: { customerId: string; resourceId?: string; entityId?: string; at?: Date | string | number } | string, resourceId?: string): Promise<Entitlement[]> {
    const raw = typeof params === 'string' ? { customerId: params, resourceId } : params;
    const p = new Params(raw, 'getEntitlements', ['customerId', 'resourceId', 'entityId', 'at']);
    if (p.has('at')) return entitlementsAsOf(this.ctx, p);
    return evaluateAll(this.ctx, p.id('customerId'), p.optId('resourceId') ?? '', p.optId('entityId') ?? '');
  }

  // Entities (docs/entities.md)

  /**
   * Creates an entity of a customer (a user, a workspace, an API key), or revives a deleted one.
   * With `featureId` it occupies a seat (one unit of that feature's usage): USAGE_LIMIT_EXCEEDED
   * with the seat's denial reason when none is left. CONFLICT when it exists with other fields.
   */
  createEntity(params: CreateEntityParams & { featureId?: Ids['feature'] }): Promise<Entity> {
    return entities.createEntity(this.ctx, params);
  }

  /** Deletes an entity: its seat is freed, its past usage stays. Throws ENTITY_NOT_FOUND. */
  deleteEntity(params: { customerId: string; entityId: string }): Promise<Entity> {
    return entities.deleteEntity(this.ctx, params);
  }

  /** A customer's entities by entityId, cursor-paged (`limit`, `cursor`). Throws CUSTOMER_NOT_FOUND. */
  getEntities(params: GetEntitiesParams & { featureId?: Ids['feature'] }): Promise<{ data: Entity[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
    return entities.getEntities(this.ctx, params);
  }

  // Usage

  /** Reports calculated usage (DELTA or SET); a repeated idempotency key returns the first result. */
  reportUsage(params: ReportUsageParams<Ids>): Promise<ReportedUsage> {
    return usage.reportUsage(this.ctx, params);
  }

  /** Reports many usages in one transaction: all or none. */
  reportUsageBulk(params: { usages: ReportUsageParams<Ids>[] }): Promise<ReportedUsage[]> {
    return usage.reportUsageBulk(this.ctx, params);
  }

  /**
   * Stores raw events once per idempotency key and meters them into usage. A malformed event
   * rejects the whole batch (every problem in `details.problems`) and stores nothing.
   */
  reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult> {
    return reportEvent(this.ctx, events, this.eventLimits);
  }

  /** Checks and records usage in one step; never exceeds a hard limit. Throws USAGE_LIMIT_EXCEEDED (REJECT). */
  consumeUsage(params: ConsumeUsageParams<Ids>): Promise<Consumption> {
    return consumption.consumeUsage(this.ctx, params);
  }

  /** Holds quota for `expiresIn` milliseconds; commit or release it, or let it lapse. */
  reserveUsage(params: ConsumeUsageParams<Ids> & { expiresIn: number }): Promise<Reservation> {
    return consumption.reserveUsage(this.ctx, params);
  }

  /** Records a held reservation as usage (`amount` at most what was held). Throws CONFLICT when expired or released. */
  commitReservation(params: { reservationId: string; amount?: number }): Promise<Reservation> {
    return consumption.commitReservation(this.ctx, params);
  }

  /** Gives a held reservation back. Idempotent. */
  releaseReservation(params: { reservationId: string }): Promise<Reservation> {
    return consumption.releaseReservation(this.ctx, params);
  }

  /**
   * Runs `fn` in one store transaction with the writes it makes through `tx` and the application's
   * statements on the transaction's connection (`tx.db`: SQLite, PostgreSQL): all
   * of it commits, or (a throw from `fn`, or from any `tx` call) none of it does. Listeners, checks
   * and the change feed see the writes only after the commit; provider calls and webhooks they
   * queue are made after it too. Resolves to `fn`'s result once committed.
   *
   * Inside `fn`, use `tx` rather than this engine's own write methods (those wait for the
   * transaction `fn` is in: a deadlock), and touch nothing but the database (on stores that retry
   * a transaction, `fn` may run again, at most `options.maxAttempts` times; `tx.attempt` says
   * which run it is). Throws OFFLINE on an offline engine, INVALID_ARGUMENT for bad options,
   * STORE_UNAVAILABLE after maxAttempts conflicts. With `options.connection` (PostgreSQL: a pg
   * client inside the application's own SERIALIZABLE transaction) the writes join that transaction
   * instead, and the application commits, rolls back and retries. docs/transactions.md.
   */
  transaction<T>(fn: (tx: EngineTransaction<Ids>) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return runTransaction(this.ctx, (inner, run) => fn(transactionApi<Ids>(inner, run, this.eventLimits)), options);
  }

  /**
   * Usage per window over [start, end), optionally grouped by a dimension; the customer's pooled
   * usage, or an entity's with `entityId`, or split per entity with `groupByEntity` (docs/entities.md#history).
   */
  getUsageHistory(params: {
    customerId: string;
    featureId: Ids['feature'];
    resourceId?: string;
    entityId?: string;
    start: Date | string;
    end: Date | string;
    groupBy?: string;
    groupByEntity?: boolean;
  }): Promise<UsageHistory> {
    return getUsageHistory(this.ctx, params);
  }

  /** Events accepted but counted by no meter, with the reason (cursor-paged). */
  getUnmatchedEvents(params: { first?: number; after?: string } = {}): Promise<{ data: UnmatchedEvent[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
    return getUnmatchedEvents(this.ctx, params);
  }

}
