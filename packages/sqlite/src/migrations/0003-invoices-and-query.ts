import { sql, type Compilable, type Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Invoices (the engine's own ledger), when a coupon or promotion code was applied, and the
 * indexes `querySubscriptions` and `countPromotionCodeRedemptions` need.
 *
 * The added columns are nullable without a default, so existing rows read back as null ("not
 * known") and ALTER TABLE does not rewrite the table.
 */
export const invoicesAndQuery: Migration = {
  version: 3,
  name: 'invoices-and-query',
  up(db: Kysely<any>): Compilable[] {
    // `(customer_id, dedupe_key)` unique: a due renewal or usage charge is billed once however
    // often tick() runs; insertInvoice relies on the conflict to report a duplicate.
    const invoices = db.schema
      .createTable('invoices')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('subscription_id', 'text')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('dedupe_key', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('period_start', 'integer')
      .addColumn('period_end', 'integer')
      .addColumn('lines', 'text', (c) => c.notNull())
      .addColumn('sub_total', 'text', (c) => c.notNull())
      .addColumn('discount', 'text')
      .addColumn('tax', 'text', (c) => c.notNull())
      .addColumn('total', 'text', (c) => c.notNull())
      .addColumn('excess_credit', 'text', (c) => c.notNull())
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addUniqueConstraint('invoices_dedupe', ['customer_id', 'dedupe_key']);
    // listInvoices of one subscription reads rows already in (createdAt, id) order.
    const invoicesByCustomer = db.schema
      .createIndex('invoices_by_customer')
      .on('invoices')
      .columns(['customer_id', 'subscription_id', 'created_at', 'id']);

    const couponAppliedAt = db.schema.alterTable('customers').addColumn('coupon_applied_at', 'integer');
    const promotionAppliedAt = db.schema.alterTable('subscriptions').addColumn('promotion_applied_at', 'integer');

    // One index per sort of querySubscriptions, each ending in id (the tie-break), so a page is a
    // range scan that stops after `limit` rows. DESC sorts scan the same index with the id part
    // re-sorted per equal value. A sort on status has no index: it is derived at `now`.
    const bySort = (name: string, column: string) =>
      db.schema.createIndex(`subscriptions_by_${name}`).on('subscriptions').columns([column, 'id']);

    // Partial: most subscriptions carry no promotion code. `promotion_code = ?` implies NOT NULL,
    // so SQLite uses it for the count.
    const byPromotionCode = db.schema
      .createIndex('subscriptions_by_promotion_code')
      .on('subscriptions')
      .column('promotion_code')
      .where(sql.ref('promotion_code'), 'is not', null);

    return [
      invoices,
      invoicesByCustomer,
      couponAppliedAt,
      promotionAppliedAt,
      bySort('created_at', 'created_at'),
      bySort('customer_id', 'customer_id'),
      bySort('product_id', 'product_id'),
      bySort('resource_id', 'resource_id'),
      byPromotionCode,
    ];
  },
};
