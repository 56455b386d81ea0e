import { sql, type ColumnDefinitionBuilder, type Compilable, type Kysely } from 'kysely';
import type { Migration } from '@tessera/sql';

/**
 * Per-customer entitlement overrides, as SQLite's migration 7
 * (packages/sqlite/src/migrations/0007-entitlement-overrides.ts) with the type mapping of
 * 0001-initial.ts (docs/overrides.md).
 */
type Column = ColumnDefinitionBuilder;
const text = (c: Column): Column => c.modifyFront(sql`collate "C"`);
const textNotNull = (c: Column): Column => text(c).notNull();
const notNull = (c: Column): Column => c.notNull();

export const entitlementOverrides: Migration = {
  version: 5,
  name: 'entitlement-overrides',
  up(db: Kysely<any>): Compilable[] {
    const table = db.schema
      .createTable('entitlement_overrides')
      .addColumn('id', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('resource_id', 'text', textNotNull)
      .addColumn('feature_id', 'text', textNotNull)
      .addColumn('entitlement', 'text', textNotNull)
      .addColumn('start_date', 'bigint', notNull)
      .addColumn('end_date', 'bigint')
      .addColumn('reason', 'text', text)
      .addColumn('removed_at', 'bigint')
      .addColumn('created_at', 'bigint', notNull);
    const byCustomer = db.schema.createIndex('entitlement_overrides_by_customer').on('entitlement_overrides').columns(['customer_id', 'created_at', 'id']);
    return [table, byCustomer];
  },
};
