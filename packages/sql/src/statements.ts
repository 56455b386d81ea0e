/**
 * Every statement the SQL stores run, written once with kysely, compiled with the dialect's
 * compiler and prepared once per connection by the dialect (`Prepare`) on its first use. kysely 0.28 compiles and
 * prepares a query again on every execution (5 to 12 us each); a statement prepared once runs in
 * about 1 us on SQLite, and PostgreSQL skips its parse and plan for a named prepared statement.
 */
import { sql, type Kysely } from 'kysely';
import {
  CATALOG_VERSION_COLUMNS,
  CHANGE_COLUMNS,
  CREDIT_GRANT_COLUMNS,
  CREDIT_LEDGER_COLUMNS,
  CUSTOMER_COLUMNS,
  ENTITY_COLUMNS,
  EVENT_COLUMNS,
  IDEMPOTENCY_COLUMNS,
  INVOICE_COLUMNS,
  NEW_CHANGE_COLUMNS,
  NEW_CREDIT_LEDGER_COLUMNS,
  PROMOTIONAL_GRANT_COLUMNS,
  ENTITLEMENT_OVERRIDE_COLUMNS,
  PROVIDER_CALL_COLUMNS,
  RECHARGE_CONFIG_COLUMNS,
  RECHARGE_CONFIG_KEY_COLUMNS,
  RESERVATION_COLUMNS,
  SUBSCRIPTION_COLUMNS,
  USAGE_COLUMNS,
  USAGE_KEY_COLUMNS,
} from './rows.js';
import type { Database } from './schema.js';
import { SubscriptionQueries } from './subscription-query.js';
import { compactEventStatements, type EventKeyStatements } from './statements-events.js';
import { CustomerQueries } from './customer-query.js';
import { BatchStatements } from './statements-batch.js';
import { byKey, param, type Prepare } from './statements-builder.js';

export type { Prepare } from './statements-builder.js';
export { BATCH_CHUNK, EVENT_CHUNK } from './statements-batch.js';
export type { EventKeyStatements } from './statements-events.js';

/** Which optional filters a `listUsage` statement applies; one prepared statement per combination. */
export interface UsageFilters {
  featureId: boolean;
  resourceId: boolean;
  entityId: boolean;
  from: boolean;
  to: boolean;
}

/** Which optional parts a `listEntities` statement has; one prepared statement per combination. */
export interface EntityFilters {
  featureId: boolean;
  after: boolean;
  includeDeleted: boolean;
}

/** The prepared statements of one connection. Reads return rows as arrays (see rows.ts). */
export class Statements<Statement> extends BatchStatements<Statement> {
  declare readonly listCatalogVersions: Statement;
  declare readonly insertCatalogVersion: Statement;
  declare readonly getCustomer: Statement;
  declare readonly putCustomer: Statement;
  declare readonly countCustomers: Statement;
  declare readonly getSubscription: Statement;
  declare readonly listSubscriptionsByCustomer: Statement;
  declare readonly putSubscription: Statement;
  declare readonly getUsage: Statement;
  declare readonly putUsage: Statement;
  declare readonly addDistinctValue: Statement;
  declare readonly getEvent: Statement;
  declare readonly listEvents: Statement;
  declare readonly listUnmatchedEvents: Statement;
  declare readonly listUnmatchedEventsAfter: Statement;
  declare readonly getReservation: Statement;
  declare readonly putReservation: Statement;
  declare readonly listHeldReservations: Statement;
  /** `listHeldReservations` without an entity: every hold of the feature, the customer's and its entities'. */
  declare readonly listHeldReservationsAnyEntity: Statement;
  declare readonly countPromotionCodeRedemptions: Statement;
  declare readonly insertInvoice: Statement;
  declare readonly listInvoices: Statement;
  declare readonly listInvoicesOfSubscription: Statement;
  declare readonly listPromotionalGrants: Statement;
  declare readonly putPromotionalGrant: Statement;
  declare readonly listEntitlementOverrides: Statement;
  declare readonly putEntitlementOverride: Statement;
  declare readonly listCreditGrants: Statement;
  declare readonly listCreditGrantsOfCurrency: Statement;
  declare readonly putCreditGrant: Statement;
  declare readonly appendCreditLedger: Statement;
  declare readonly listCreditLedger: Statement;
  declare readonly getRechargeConfig: Statement;
  declare readonly putRechargeConfig: Statement;
  declare readonly getEntity: Statement;
  declare readonly putEntity: Statement;
  /** `querySubscriptions`: built per query shape (see subscription-query.ts). */
  readonly subscriptionQueries: SubscriptionQueries<Statement>;
  /** `queryCustomers`: one statement per query shape (see customer-query.ts). */
  readonly customerQueries: CustomerQueries<Statement>;
  declare readonly getProviderCall: Statement;
  declare readonly putProviderCall: Statement;
  declare readonly listDueProviderCalls: Statement;
  declare readonly listDueProviderCallsAfter: Statement;
  declare readonly listProviderCalls: Statement;
  declare readonly listProviderCallsAfter: Statement;
  declare readonly getIdempotency: Statement;
  declare readonly putIdempotency: Statement;
  declare readonly appendChange: Statement;
  /** appendChange without RETURNING, for dialects that report the new rowid themselves (SQLite: a third cheaper). */
  declare readonly insertChange: Statement;
  declare readonly getChanges: Statement;
  declare readonly lastChangeSeq: Statement;
  private readonly listUsageByFilters = new Map<string, Statement>();
  private readonly listEntitiesByFilters = new Map<string, Statement>();
  /**
   * Stores one event: with compact keys, a plain INSERT binding key_hash then EVENT_COLUMNS (the
   * store checks the key first, tx-events.ts); otherwise INSERT ... ON CONFLICT (idempotency_key)
   * DO NOTHING binding EVENT_COLUMNS.
   */
  readonly insertEvent: Statement;
  /** The compact key tables' statements (SQLite from schema v8); undefined on a schema with a unique key column. */
  readonly eventKeys: EventKeyStatements<Statement> | undefined;

  /**
   * `options.compactEventKeys`: the schema keys events by `event_keys` (SQLite v8,
   * packages/sqlite/README.md#event-keys) rather than by a unique index on the key's text.
   */
  constructor(k: Kysely<Database>, prepareCompiled: Prepare<Statement>, options: { compactEventKeys?: boolean } = {}) {
    super(k, prepareCompiled);

    this.lazy('listCatalogVersions', () => this.reader(k.selectFrom('catalog_versions').select(CATALOG_VERSION_COLUMNS).orderBy('version'), []));
    this.lazy('insertCatalogVersion', () => this.writer(
      k.insertInto('catalog_versions').values(Object.fromEntries(byKey(CATALOG_VERSION_COLUMNS)) as never),
      CATALOG_VERSION_COLUMNS,
    ));

    this.lazy('getCustomer', () => this.reader(
      k.selectFrom('customers').select(CUSTOMER_COLUMNS).where('customer_id', '=', param('customer_id')),
      ['customer_id'],
    ));
    this.lazy('putCustomer', () => this.writer(this.upsert('customers', CUSTOMER_COLUMNS, ['customer_id']), CUSTOMER_COLUMNS));
    this.lazy('countCustomers', () => this.reader(k.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')), []));

    this.lazy('getSubscription', () => this.reader(
      k.selectFrom('subscriptions').select(SUBSCRIPTION_COLUMNS).where('id', '=', param('id')),
      ['id'],
    ));
    this.lazy('listSubscriptionsByCustomer', () => this.reader(
      k
        .selectFrom('subscriptions')
        .select(SUBSCRIPTION_COLUMNS)
        .where('customer_id', '=', param('customer_id'))
        .orderBy('created_at')
        .orderBy('id'),
      ['customer_id'],
    ));
    this.lazy('putSubscription', () => this.writer(this.upsert('subscriptions', SUBSCRIPTION_COLUMNS, ['id']), SUBSCRIPTION_COLUMNS));

    let getUsage = k.selectFrom('usage').select(USAGE_COLUMNS);
    for (const c of USAGE_KEY_COLUMNS) getUsage = getUsage.where(c, '=', param(c));
    this.lazy('getUsage', () => this.reader(getUsage, USAGE_KEY_COLUMNS));
    this.lazy('putUsage', () => this.writer(this.upsert('usage', USAGE_COLUMNS, USAGE_KEY_COLUMNS), USAGE_COLUMNS));

    // ON CONFLICT DO NOTHING on the key rather than INSERT OR IGNORE: it skips only the duplicate,
    // while OR IGNORE would also swallow a NOT NULL violation and report it as "already there".
    const distinctColumns = [...USAGE_KEY_COLUMNS, 'value'] as const;
    this.lazy('addDistinctValue', () => this.writer(
      k
        .insertInto('usage_distinct')
        .values(Object.fromEntries(byKey(distinctColumns)) as never)
        .onConflict((oc) => oc.columns(distinctColumns).doNothing()),
      distinctColumns,
    ));

    if (options.compactEventKeys) {
      const compact = compactEventStatements(
        k,
        (q, params) => this.reader(q, params),
        (q, params) => this.writer(q, params),
      );
      this.insertEvent = compact.insertEvent;
      this.getEvent = compact.getEvent;
      this.eventKeys = compact.eventKeys;
    } else {
      this.insertEvent = this.writer(
        k
          .insertInto('events')
          .values(Object.fromEntries(byKey(EVENT_COLUMNS)) as never)
          .onConflict((oc) => oc.column('idempotency_key').doNothing()),
        EVENT_COLUMNS,
      );
      this.getEvent = this.reader(
        k.selectFrom('events').select(EVENT_COLUMNS).where('idempotency_key', '=', param('idempotency_key')),
        ['idempotency_key'],
      );
      this.eventKeys = undefined;
    }
    this.lazy('listEvents', () => this.reader(
      k
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('customer_id', '=', param('customer_id'))
        .where('resource_id', '=', param('resource_id'))
        .where('event_name', '=', param('event_name'))
        .where('timestamp', '>=', param<number>('from'))
        .where('timestamp', '<', param<number>('to'))
        .orderBy('timestamp')
        .orderBy('idempotency_key'),
      ['customer_id', 'resource_id', 'event_name', 'from', 'to'],
    ));
    // `unmatched_reason is not null` written out so that the planner picks the partial index.
    const unmatched = k
      .selectFrom('events')
      .select(EVENT_COLUMNS)
      .where('unmatched_reason', 'is not', null)
      .orderBy('received_at')
      .orderBy('idempotency_key');
    this.lazy('listUnmatchedEvents', () => this.reader(unmatched.limit(param<number>('limit')), ['limit']));
    this.lazy('listUnmatchedEventsAfter', () => this.reader(
      unmatched
        .where((eb) =>
          eb(eb.refTuple('received_at', 'idempotency_key'), '>', eb.tuple(param<number>('received_at'), param('idempotency_key'))),
        )
        .limit(param<number>('limit')),
      ['received_at', 'idempotency_key', 'limit'],
    ));

    this.lazy('getReservation', () => this.reader(k.selectFrom('reservations').select(RESERVATION_COLUMNS).where('id', '=', param('id')), ['id']));
    this.lazy('putReservation', () => this.writer(this.upsert('reservations', RESERVATION_COLUMNS, ['id']), RESERVATION_COLUMNS));
    // The status is a literal, not a parameter: only then can SQLite use the partial index on HELD.
    this.lazy('listHeldReservations', () => this.reader(
      k
        .selectFrom('reservations')
        .select(RESERVATION_COLUMNS)
        .where('customer_id', '=', param('customer_id'))
        .where('resource_id', '=', param('resource_id'))
        .where('entity_id', '=', param('entity_id'))
        .where('feature_id', '=', param('feature_id'))
        .where('status', '=', sql.lit('HELD'))
        .orderBy('created_at')
        .orderBy('id'),
      ['customer_id', 'resource_id', 'entity_id', 'feature_id'],
    ));
    this.lazy('listHeldReservationsAnyEntity', () => this.reader(
      k
        .selectFrom('reservations')
        .select(RESERVATION_COLUMNS)
        .where('customer_id', '=', param('customer_id'))
        .where('resource_id', '=', param('resource_id'))
        .where('feature_id', '=', param('feature_id'))
        .where('status', '=', sql.lit('HELD'))
        .orderBy('created_at')
        .orderBy('id'),
      ['customer_id', 'resource_id', 'feature_id'],
    ));

    this.lazy('countPromotionCodeRedemptions', () => this.reader(
      k
        .selectFrom('subscriptions')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('promotion_code', '=', param('promotion_code')),
      ['promotion_code'],
    ));
    this.subscriptionQueries = new SubscriptionQueries(k, prepareCompiled);
    this.customerQueries = new CustomerQueries(k, prepareCompiled);

    // DO NOTHING on the (customer, dedupe key) conflict only: a clash on the invoice id is still an error.
    this.lazy('insertInvoice', () => this.writer(
      k
        .insertInto('invoices')
        .values(Object.fromEntries(byKey(INVOICE_COLUMNS)) as never)
        .onConflict((oc) => oc.columns(['customer_id', 'dedupe_key']).doNothing()),
      INVOICE_COLUMNS,
    ));
    const invoicesOf = k.selectFrom('invoices').select(INVOICE_COLUMNS).where('customer_id', '=', param('customer_id'));
    this.lazy('listInvoices', () => this.reader(invoicesOf.orderBy('created_at').orderBy('id'), ['customer_id']));
    this.lazy('listInvoicesOfSubscription', () => this.reader(
      invoicesOf.where('subscription_id', '=', param('subscription_id')).orderBy('created_at').orderBy('id'),
      ['customer_id', 'subscription_id'],
    ));

    this.lazy('listPromotionalGrants', () => this.reader(
      k
        .selectFrom('promotional_grants')
        .select(PROMOTIONAL_GRANT_COLUMNS)
        .where('customer_id', '=', param('customer_id'))
        .orderBy('created_at')
        .orderBy('id'),
      ['customer_id'],
    ));
    this.lazy('putPromotionalGrant', () => this.writer(this.upsert('promotional_grants', PROMOTIONAL_GRANT_COLUMNS, ['id']), PROMOTIONAL_GRANT_COLUMNS));
    this.lazy('listEntitlementOverrides', () => this.reader(
      k
        .selectFrom('entitlement_overrides')
        .select(ENTITLEMENT_OVERRIDE_COLUMNS)
        .where('customer_id', '=', param('customer_id'))
        .orderBy('created_at')
        .orderBy('id'),
      ['customer_id'],
    ));
    this.lazy('putEntitlementOverride', () => this.writer(this.upsert('entitlement_overrides', ENTITLEMENT_OVERRIDE_COLUMNS, ['id']), ENTITLEMENT_OVERRIDE_COLUMNS));

    const grantsOf = k.selectFrom('credit_grants').select(CREDIT_GRANT_COLUMNS).where('customer_id', '=', param('customer_id'));
    this.lazy('listCreditGrants', () => this.reader(grantsOf.orderBy('created_at').orderBy('id'), ['customer_id']));
    this.lazy('listCreditGrantsOfCurrency', () => this.reader(
      grantsOf.where('currency_id', '=', param('currency_id')).orderBy('created_at').orderBy('id'),
      ['customer_id', 'currency_id'],
    ));
    this.lazy('putCreditGrant', () => this.writer(this.upsert('credit_grants', CREDIT_GRANT_COLUMNS, ['id']), CREDIT_GRANT_COLUMNS));
    this.lazy('appendCreditLedger', () => this.writer(
      k.insertInto('credit_ledger').values(Object.fromEntries(byKey(NEW_CREDIT_LEDGER_COLUMNS)) as never),
      NEW_CREDIT_LEDGER_COLUMNS,
    ));
    this.lazy('listCreditLedger', () => this.reader(
      k
        .selectFrom('credit_ledger')
        .select(CREDIT_LEDGER_COLUMNS)
        .where('customer_id', '=', param('customer_id'))
        .where('currency_id', '=', param('currency_id'))
        .where('seq', '>', param<number>('seq'))
        .orderBy('seq')
        .limit(param<number>('limit')),
      ['customer_id', 'currency_id', 'seq', 'limit'],
    ));

    let getRechargeConfig = k.selectFrom('recharge_configs').select(RECHARGE_CONFIG_COLUMNS);
    for (const c of RECHARGE_CONFIG_KEY_COLUMNS) getRechargeConfig = getRechargeConfig.where(c, '=', param(c));
    this.lazy('getRechargeConfig', () => this.reader(getRechargeConfig, RECHARGE_CONFIG_KEY_COLUMNS));
    this.lazy('putRechargeConfig', () => this.writer(
      this.upsert('recharge_configs', RECHARGE_CONFIG_COLUMNS, RECHARGE_CONFIG_KEY_COLUMNS),
      RECHARGE_CONFIG_COLUMNS,
    ));

    let getEntity = k.selectFrom('entities').select(ENTITY_COLUMNS);
    for (const c of ['customer_id', 'entity_id'] as const) getEntity = getEntity.where(c, '=', param(c));
    this.lazy('getEntity', () => this.reader(getEntity, ['customer_id', 'entity_id']));
    this.lazy('putEntity', () => this.writer(this.upsert('entities', ENTITY_COLUMNS, ['customer_id', 'entity_id']), ENTITY_COLUMNS));

    this.lazy('getProviderCall', () => this.reader(k.selectFrom('provider_calls').select(PROVIDER_CALL_COLUMNS).where('key', '=', param('key')), ['key']));
    this.lazy('putProviderCall', () => this.writer(this.upsert('provider_calls', PROVIDER_CALL_COLUMNS, ['key']), PROVIDER_CALL_COLUMNS));
    // The status is a literal, not a parameter: only then can SQLite use the partial index on PENDING.
    const due = k
      .selectFrom('provider_calls')
      .select(PROVIDER_CALL_COLUMNS)
      .where('status', '=', sql.lit('PENDING'))
      .where('not_before', '<=', param<number>('not_before'))
      .orderBy('created_at')
      .orderBy('key');
    this.lazy('listDueProviderCalls', () => this.reader(due.limit(param<number>('limit')), ['not_before', 'limit']));
    this.lazy('listDueProviderCallsAfter', () => this.reader(
      due.where((eb) => eb(eb.refTuple('created_at', 'key'), '>', eb.tuple(param<number>('created_at'), param('key')))).limit(param<number>('limit')),
      ['not_before', 'created_at', 'key', 'limit'],
    ));
    const ofKind = k.selectFrom('provider_calls').select(PROVIDER_CALL_COLUMNS).where('kind', '=', param('kind')).orderBy('created_at').orderBy('key');
    this.lazy('listProviderCalls', () => this.reader(ofKind.limit(param<number>('limit')), ['kind', 'limit']));
    this.lazy('listProviderCallsAfter', () => this.reader(
      ofKind.where((eb) => eb(eb.refTuple('created_at', 'key'), '>', eb.tuple(param<number>('created_at'), param('key')))).limit(param<number>('limit')),
      ['kind', 'created_at', 'key', 'limit'],
    ));

    this.lazy('getIdempotency', () => this.reader(
      k
        .selectFrom('idempotency')
        .select(IDEMPOTENCY_COLUMNS)
        .where('scope', '=', param('scope'))
        .where('key', '=', param('key')),
      ['scope', 'key'],
    ));
    this.lazy('putIdempotency', () => this.writer(this.upsert('idempotency', IDEMPOTENCY_COLUMNS, ['scope', 'key']), IDEMPOTENCY_COLUMNS));

    // RETURNING rather than a driver's last-insert id: both dialects have it, and PostgreSQL has no other.
    this.lazy('appendChange', () => this.appender(this.reader(
      k
        .insertInto('changes')
        .values(Object.fromEntries(byKey(NEW_CHANGE_COLUMNS)) as never)
        .returning('seq'),
      NEW_CHANGE_COLUMNS,
    )));
    this.lazy('insertChange', () => this.appender(this.writer(k.insertInto('changes').values(Object.fromEntries(byKey(NEW_CHANGE_COLUMNS)) as never), NEW_CHANGE_COLUMNS)));
    this.lazy('getChanges', () => this.reader(
      k
        .selectFrom('changes')
        .select(CHANGE_COLUMNS)
        .where('seq', '>', param<number>('seq'))
        .orderBy('seq')
        .limit(param<number>('limit')),
      ['seq', 'limit'],
    ));
    this.lazy('lastChangeSeq', () => this.reader(k.selectFrom('changes').select((eb) => eb.fn.max('seq').as('seq')), []));
  }

  /**
   * The `listUsage` statement for one combination of filters, prepared on first use. It binds
   * customer_id, then feature_id, resource_id, entity_id, to, from for the filters that are on.
   * Rows come ordered by (window_start, feature_id, resource_id, entity_id), as the memory store orders them.
   */
  listUsage(f: UsageFilters): Statement {
    const key = `${+f.featureId}${+f.resourceId}${+f.entityId}${+f.from}${+f.to}`;
    let stmt = this.listUsageByFilters.get(key);
    if (stmt) return stmt;
    let q = this.k.selectFrom('usage').select(USAGE_COLUMNS).where('customer_id', '=', param('customer_id'));
    const names = ['customer_id'];
    if (f.featureId) {
      q = q.where('feature_id', '=', param('feature_id'));
      names.push('feature_id');
    }
    if (f.resourceId) {
      q = q.where('resource_id', '=', param('resource_id'));
      names.push('resource_id');
    }
    if (f.entityId) {
      q = q.where('entity_id', '=', param('entity_id'));
      names.push('entity_id');
    }
    // A window [start, end) overlaps [from, to) when it starts before `to` and ends after `from`.
    if (f.to) {
      q = q.where('window_start', '<', param<number>('to'));
      names.push('to');
    }
    if (f.from) {
      q = q.where('window_end', '>', param<number>('from'));
      names.push('from');
    }
    stmt = this.reader(q.orderBy('window_start').orderBy('feature_id').orderBy('resource_id').orderBy('entity_id'), names);
    this.listUsageByFilters.set(key, stmt);
    return stmt;
  }

  /**
   * The `listEntities` statement for one combination of filters, prepared on first use: a page of
   * one customer's entities by entity_id. It binds customer_id, then feature_id and entity_id (the
   * `after` cursor) for the parts that are on, then limit.
   */
  listEntities(f: EntityFilters): Statement {
    const key = `${+f.featureId}${+f.after}${+f.includeDeleted}`;
    let stmt = this.listEntitiesByFilters.get(key);
    if (stmt) return stmt;
    let q = this.k.selectFrom('entities').select(ENTITY_COLUMNS).where('customer_id', '=', param('customer_id'));
    const names = ['customer_id'];
    if (f.featureId) {
      q = q.where('feature_id', '=', param('feature_id'));
      names.push('feature_id');
    }
    if (f.after) {
      q = q.where('entity_id', '>', param('entity_id'));
      names.push('entity_id');
    }
    if (!f.includeDeleted) q = q.where('deleted_at', 'is', null);
    stmt = this.reader(q.orderBy('entity_id').limit(param<number>('limit')), [...names, 'limit']);
    this.listEntitiesByFilters.set(key, stmt);
    return stmt;
  }
}
