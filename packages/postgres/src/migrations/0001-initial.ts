import { sql, type ColumnDefinitionBuilder, type Compilable, type Kysely } from 'kysely';
import type { Migration } from '@tessera/sql';

/**
 * The whole schema in one step: the tables mirror the SQLite schema at v4 (its migrations 1..4
 * together) column for column, with the same names, nullability, keys and indexes, because the
 * statements and row mappers are shared (packages/sql). Columns SQLite added later by ALTER TABLE
 * come last, as they do there.
 *
 * Type mapping: INTEGER -> bigint (the pg driver parses int8 as a JS number; 0/1 flags stay
 * numbers), REAL -> double precision, TEXT -> text COLLATE "C" (byte order like SQLite, so ORDER BY
 * and keyset comparisons agree and the indexes serve `<`/`>`). JSON and decimal strings stay text:
 * the mappers JSON.parse and pass them through. SQLite's WITHOUT ROWID has no equivalent and is
 * dropped; the composite primary key stays. No foreign keys, as in SQLite.
 */

type Column = ColumnDefinitionBuilder;
const text = (c: Column): Column => c.modifyFront(sql`collate "C"`);
const textNotNull = (c: Column): Column => text(c).notNull();
const notNull = (c: Column): Column => c.notNull();

export const initial: Migration = {
  version: 1,
  name: 'initial',
  up(db: Kysely<any>): Compilable[] {
    // A plain key, not a rowid alias: the insert always names the version.
    const catalogVersions = db.schema
      .createTable('catalog_versions')
      .addColumn('version', 'bigint', (c) => c.primaryKey().notNull())
      .addColumn('published_at', 'bigint', notNull)
      .addColumn('definition', 'text', textNotNull)
      .addColumn('plan_versions', 'text', textNotNull)
      .addColumn('addon_versions', 'text', textNotNull);

    const customers = db.schema
      .createTable('customers')
      .addColumn('customer_id', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('name', 'text', text)
      .addColumn('email', 'text', text)
      .addColumn('coupon_id', 'text', text)
      .addColumn('billing_info', 'text', text)
      .addColumn('metadata', 'text', textNotNull)
      .addColumn('archived_at', 'bigint')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .addColumn('coupon_applied_at', 'bigint'); // SQLite v3

    const subscriptions = db.schema
      .createTable('subscriptions')
      .addColumn('id', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('product_id', 'text', textNotNull)
      .addColumn('plan_id', 'text', textNotNull)
      .addColumn('plan_version', 'bigint', notNull)
      .addColumn('catalog_version', 'bigint', notNull)
      .addColumn('resource_id', 'text', textNotNull)
      .addColumn('billing_period', 'text', text)
      .addColumn('status', 'text', textNotNull)
      .addColumn('start_date', 'bigint', notNull)
      .addColumn('billing_anchor', 'bigint', notNull)
      .addColumn('usage_anchor', 'bigint', notNull)
      .addColumn('trial_end_date', 'bigint')
      .addColumn('end_date', 'bigint')
      .addColumn('cancellation_date', 'bigint')
      .addColumn('addons', 'text', textNotNull)
      .addColumn('billable_features', 'text', textNotNull)
      .addColumn('promotion_code', 'text', text)
      .addColumn('billing_country_code', 'text', text)
      .addColumn('scheduled_updates', 'text', textNotNull)
      .addColumn('metadata', 'text', textNotNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .addColumn('promotion_applied_at', 'bigint'); // SQLite v3
    // listSubscriptionsByCustomer: equality on the customer, rows already in (createdAt, id) order.
    const subscriptionsByCustomer = db.schema
      .createIndex('subscriptions_by_customer')
      .on('subscriptions')
      .columns(['customer_id', 'created_at', 'id']);
    // One index per sort of querySubscriptions, each ending in id (the tie-break).
    const bySort = (name: string, column: string) =>
      db.schema.createIndex(`subscriptions_by_${name}`).on('subscriptions').columns([column, 'id']);
    // Partial: most subscriptions carry no promotion code; `promotion_code = $1` implies NOT NULL.
    const subscriptionsByPromotionCode = db.schema
      .createIndex('subscriptions_by_promotion_code')
      .on('subscriptions')
      .column('promotion_code')
      .where(sql.ref('promotion_code'), 'is not', null);

    const usage = db.schema
      .createTable('usage')
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('resource_id', 'text', textNotNull)
      .addColumn('feature_id', 'text', textNotNull)
      .addColumn('window_start', 'bigint', notNull)
      .addColumn('window_end', 'bigint', notNull)
      .addColumn('value', 'double precision', notNull)
      .addColumn('count', 'bigint', notNull)
      .addColumn('sum', 'double precision', notNull)
      .addColumn('min', 'double precision')
      .addColumn('max', 'double precision')
      .addColumn('latest_at', 'bigint')
      .addColumn('latest_value', 'double precision')
      .addColumn('updated_at', 'bigint', notNull)
      .addPrimaryKeyConstraint('usage_pk', ['customer_id', 'resource_id', 'feature_id', 'window_start', 'window_end']);

    const usageDistinct = db.schema
      .createTable('usage_distinct')
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('resource_id', 'text', textNotNull)
      .addColumn('feature_id', 'text', textNotNull)
      .addColumn('window_start', 'bigint', notNull)
      .addColumn('window_end', 'bigint', notNull)
      .addColumn('value', 'text', textNotNull)
      .addPrimaryKeyConstraint('usage_distinct_pk', ['customer_id', 'resource_id', 'feature_id', 'window_start', 'window_end', 'value']);

    // No primary key, as in SQLite (a rowid table there): the unique key is the conflict target.
    const events = db.schema
      .createTable('events')
      .addColumn('idempotency_key', 'text', (c) => textNotNull(c).unique())
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('event_name', 'text', textNotNull)
      .addColumn('resource_id', 'text', textNotNull)
      .addColumn('dimensions', 'text', textNotNull)
      .addColumn('timestamp', 'bigint', notNull)
      .addColumn('received_at', 'bigint', notNull)
      .addColumn('unmatched_reason', 'text', text);
    // Partial: most events match a meter, so the unmatched listing indexes only those that did not.
    const eventsUnmatched = db.schema
      .createIndex('events_unmatched')
      .on('events')
      .columns(['received_at', 'idempotency_key'])
      .where(sql.ref('unmatched_reason'), 'is not', null);
    // listEvents: one customer's events of one name over a timestamp range.
    const eventsByStream = db.schema
      .createIndex('events_by_stream')
      .on('events')
      .columns(['customer_id', 'resource_id', 'event_name', 'timestamp']);

    const reservations = db.schema
      .createTable('reservations')
      .addColumn('id', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('resource_id', 'text', textNotNull)
      .addColumn('feature_id', 'text', textNotNull)
      .addColumn('window_start', 'bigint', notNull)
      .addColumn('window_end', 'bigint', notNull)
      .addColumn('amount', 'double precision', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('status', 'text', textNotNull)
      .addColumn('committed_amount', 'double precision')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('updated_at', 'bigint', notNull);
    // Partial on HELD (the query names the literal, so the planner can use it).
    const reservationsHeld = db.schema
      .createIndex('reservations_held_by_cell')
      .on('reservations')
      .columns(['customer_id', 'resource_id', 'feature_id', 'created_at', 'id'])
      .where(sql.ref('status'), '=', 'HELD');

    const idempotency = db.schema
      .createTable('idempotency')
      .addColumn('scope', 'text', textNotNull)
      .addColumn('key', 'text', textNotNull)
      .addColumn('result', 'text', text)
      .addColumn('created_at', 'bigint', notNull)
      .addPrimaryKeyConstraint('idempotency_pk', ['scope', 'key']);

    // AUTOINCREMENT in SQLite; an identity never hands out a seq twice either. The insert never
    // names seq, so GENERATED ALWAYS costs nothing and rejects a stray explicit value.
    const changes = db.schema
      .createTable('changes')
      .addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('at', 'bigint', notNull)
      .addColumn('kind', 'text', textNotNull)
      .addColumn('customer_id', 'text', text)
      .addColumn('entity_id', 'text', text)
      .addColumn('payload', 'text', text);

    // `(customer_id, dedupe_key)` unique: insertInvoice relies on the conflict to report a duplicate.
    const invoices = db.schema
      .createTable('invoices')
      .addColumn('id', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('subscription_id', 'text', text)
      .addColumn('kind', 'text', textNotNull)
      .addColumn('dedupe_key', 'text', textNotNull)
      .addColumn('status', 'text', textNotNull)
      .addColumn('currency', 'text', textNotNull)
      .addColumn('period_start', 'bigint')
      .addColumn('period_end', 'bigint')
      .addColumn('lines', 'text', textNotNull)
      .addColumn('sub_total', 'text', textNotNull)
      .addColumn('discount', 'text', text)
      .addColumn('tax', 'text', textNotNull)
      .addColumn('total', 'text', textNotNull)
      .addColumn('excess_credit', 'text', textNotNull)
      .addColumn('created_at', 'bigint', notNull)
      .addUniqueConstraint('invoices_dedupe', ['customer_id', 'dedupe_key']);
    const invoicesByCustomer = db.schema
      .createIndex('invoices_by_customer')
      .on('invoices')
      .columns(['customer_id', 'subscription_id', 'created_at', 'id']);

    const promotionalGrants = db.schema
      .createTable('promotional_grants')
      .addColumn('id', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('resource_id', 'text', textNotNull)
      .addColumn('feature_id', 'text', textNotNull)
      .addColumn('entitlement', 'text', textNotNull)
      .addColumn('start_date', 'bigint', notNull)
      .addColumn('end_date', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .addColumn('created_at', 'bigint', notNull);
    const promotionalGrantsByCustomer = db.schema
      .createIndex('promotional_grants_by_customer')
      .on('promotional_grants')
      .columns(['customer_id', 'created_at', 'id']);

    // Credit amounts are decimal strings kept as written (text, not numeric: the mappers pass strings).
    const creditGrants = db.schema
      .createTable('credit_grants')
      .addColumn('id', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('currency_id', 'text', textNotNull)
      .addColumn('category', 'text', textNotNull)
      .addColumn('amount', 'text', textNotNull)
      .addColumn('remaining', 'text', textNotNull)
      .addColumn('priority', 'bigint', notNull)
      .addColumn('expires_at', 'bigint')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('voided_at', 'bigint');
    const creditGrantsByCustomer = db.schema
      .createIndex('credit_grants_by_customer')
      .on('credit_grants')
      .columns(['customer_id', 'currency_id', 'created_at', 'id']);

    // The rowid (max + 1) in SQLite; an identity here. The insert never names seq.
    const creditLedger = db.schema
      .createTable('credit_ledger')
      .addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('grant_id', 'text', textNotNull)
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('currency_id', 'text', textNotNull)
      .addColumn('kind', 'text', textNotNull)
      .addColumn('amount', 'text', textNotNull)
      .addColumn('at', 'bigint', notNull)
      .addColumn('reference', 'text', text);
    const creditLedgerByCustomer = db.schema
      .createIndex('credit_ledger_by_customer')
      .on('credit_ledger')
      .columns(['customer_id', 'currency_id', 'seq']);

    const rechargeConfigs = db.schema
      .createTable('recharge_configs')
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('currency_id', 'text', textNotNull)
      .addColumn('is_enabled', 'bigint', notNull) // 0 or 1, not boolean: the mappers compare numbers.
      .addColumn('threshold_type', 'text', textNotNull)
      .addColumn('threshold_value', 'text', textNotNull)
      .addColumn('target_balance', 'text', textNotNull)
      .addColumn('max_spend_limit', 'text', text)
      .addColumn('grant_expiration_period', 'text', text)
      .addColumn('updated_at', 'bigint', notNull)
      .addPrimaryKeyConstraint('recharge_configs_pk', ['customer_id', 'currency_id']);

    return [
      catalogVersions,
      customers,
      subscriptions,
      subscriptionsByCustomer,
      bySort('created_at', 'created_at'),
      bySort('customer_id', 'customer_id'),
      bySort('product_id', 'product_id'),
      bySort('resource_id', 'resource_id'),
      subscriptionsByPromotionCode,
      usage,
      usageDistinct,
      events,
      eventsUnmatched,
      eventsByStream,
      reservations,
      reservationsHeld,
      idempotency,
      changes,
      invoices,
      invoicesByCustomer,
      promotionalGrants,
      promotionalGrantsByCustomer,
      creditGrants,
      creditGrantsByCustomer,
      creditLedger,
      creditLedgerByCustomer,
      rechargeConfigs,
    ];
  },
};
