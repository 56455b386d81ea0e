import { sql, type Compilable, type Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The first schema. Written against `Kysely<any>` on purpose: a migration describes the schema
 * as it was at its version, not as `schema.ts` says it is today.
 *
 * No foreign keys: the store keeps records and decides nothing (an event may name a customer that
 * does not exist, and the engine writes related records in whatever order suits it inside one
 * transaction), so the memory and SQLite adapters accept exactly the same writes.
 */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  up(db: Kysely<any>): Compilable[] {
    const catalogVersions = db.schema
      .createTable('catalog_versions')
      .addColumn('version', 'integer', (c) => c.primaryKey().notNull())
      .addColumn('published_at', 'integer', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('plan_versions', 'text', (c) => c.notNull())
      .addColumn('addon_versions', 'text', (c) => c.notNull());

    const customers = db.schema
      .createTable('customers')
      .addColumn('customer_id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('name', 'text')
      .addColumn('email', 'text')
      .addColumn('coupon_id', 'text')
      .addColumn('billing_info', 'text')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('archived_at', 'integer')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull());

    const subscriptions = db.schema
      .createTable('subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('product_id', 'text', (c) => c.notNull())
      .addColumn('plan_id', 'text', (c) => c.notNull())
      .addColumn('plan_version', 'integer', (c) => c.notNull())
      .addColumn('catalog_version', 'integer', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('billing_period', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('start_date', 'integer', (c) => c.notNull())
      .addColumn('billing_anchor', 'integer', (c) => c.notNull())
      .addColumn('usage_anchor', 'integer', (c) => c.notNull())
      .addColumn('trial_end_date', 'integer')
      .addColumn('end_date', 'integer')
      .addColumn('cancellation_date', 'integer')
      .addColumn('addons', 'text', (c) => c.notNull())
      .addColumn('billable_features', 'text', (c) => c.notNull())
      .addColumn('promotion_code', 'text')
      .addColumn('billing_country_code', 'text')
      .addColumn('scheduled_updates', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull());
    // listSubscriptionsByCustomer: equality on the customer, rows already in (createdAt, id) order.
    const subscriptionsByCustomer = db.schema
      .createIndex('subscriptions_by_customer')
      .on('subscriptions')
      .columns(['customer_id', 'created_at', 'id']);

    // WITHOUT ROWID: rows are small and always reached by their composite key, so a lookup is one
    // B-tree search instead of an index probe plus a table probe.
    const usage = db.schema
      .createTable('usage')
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('feature_id', 'text', (c) => c.notNull())
      .addColumn('window_start', 'integer', (c) => c.notNull())
      .addColumn('window_end', 'integer', (c) => c.notNull())
      .addColumn('value', 'real', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('sum', 'real', (c) => c.notNull())
      .addColumn('min', 'real')
      .addColumn('max', 'real')
      .addColumn('latest_at', 'integer')
      .addColumn('latest_value', 'real')
      .addColumn('updated_at', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('usage_pk', ['customer_id', 'resource_id', 'feature_id', 'window_start', 'window_end'])
      .modifyEnd(sql`without rowid`);

    const usageDistinct = db.schema
      .createTable('usage_distinct')
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('feature_id', 'text', (c) => c.notNull())
      .addColumn('window_start', 'integer', (c) => c.notNull())
      .addColumn('window_end', 'integer', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('usage_distinct_pk', ['customer_id', 'resource_id', 'feature_id', 'window_start', 'window_end', 'value'])
      .modifyEnd(sql`without rowid`);

    // A rowid table with a unique key rather than WITHOUT ROWID: ingest appends rows in rowid
    // order and only the compact key index takes random inserts, which keeps it cache-friendly
    // once millions of events are stored.
    const events = db.schema
      .createTable('events')
      .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('event_name', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('dimensions', 'text', (c) => c.notNull())
      .addColumn('timestamp', 'integer', (c) => c.notNull())
      .addColumn('received_at', 'integer', (c) => c.notNull())
      .addColumn('unmatched_reason', 'text');
    // Partial: most events match a meter, so the unmatched listing indexes only those that did not.
    const eventsUnmatched = db.schema
      .createIndex('events_unmatched')
      .on('events')
      .columns(['received_at', 'idempotency_key'])
      .where(sql.ref('unmatched_reason'), 'is not', null);

    const reservations = db.schema
      .createTable('reservations')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('feature_id', 'text', (c) => c.notNull())
      .addColumn('window_start', 'integer', (c) => c.notNull())
      .addColumn('window_end', 'integer', (c) => c.notNull())
      .addColumn('amount', 'real', (c) => c.notNull())
      .addColumn('expires_at', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('committed_amount', 'real')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull());
    // Partial on HELD: committed and released reservations pile up but are never listed by cell.
    const reservationsHeld = db.schema
      .createIndex('reservations_held_by_cell')
      .on('reservations')
      .columns(['customer_id', 'resource_id', 'feature_id', 'created_at', 'id'])
      .where(sql.ref('status'), '=', 'HELD');

    const idempotency = db.schema
      .createTable('idempotency')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('result', 'text')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_pk', ['scope', 'key']);

    // AUTOINCREMENT so that a seq is never handed out twice, even once old changes are pruned.
    const changes = db.schema
      .createTable('changes')
      .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('at', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('customer_id', 'text')
      .addColumn('entity_id', 'text')
      .addColumn('payload', 'text');

    return [
      catalogVersions,
      customers,
      subscriptions,
      subscriptionsByCustomer,
      usage,
      usageDistinct,
      events,
      eventsUnmatched,
      reservations,
      reservationsHeld,
      idempotency,
      changes,
    ];
  },
};
