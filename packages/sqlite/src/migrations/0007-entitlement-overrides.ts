import type { Compilable, Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Per-customer entitlement overrides (docs/overrides.md): a table of their own rather than a
 * `mode` column on promotional_grants, so that no reader of promotions can mistake an override
 * (which replaces) for a grant (which adds). Rows are never deleted: removal sets removed_at.
 */
export const entitlementOverrides: Migration = {
  version: 7,
  name: 'entitlement-overrides',
  up(db: Kysely<any>): Compilable[] {
    const table = db.schema
      .createTable('entitlement_overrides')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('feature_id', 'text', (c) => c.notNull())
      .addColumn('entitlement', 'text', (c) => c.notNull())
      .addColumn('start_date', 'integer', (c) => c.notNull())
      .addColumn('end_date', 'integer')
      .addColumn('reason', 'text')
      .addColumn('removed_at', 'integer')
      .addColumn('created_at', 'integer', (c) => c.notNull());
    // listEntitlementOverrides: equality on the customer, rows already in (createdAt, id) order.
    const byCustomer = db.schema.createIndex('entitlement_overrides_by_customer').on('entitlement_overrides').columns(['customer_id', 'created_at', 'id']);
    return [table, byCustomer];
  },
};
