import { sql, type Compilable, type Kysely } from 'kysely';
import type { Migration } from '@tessera/sql';

/**
 * The indexes of `queryCustomers` (getCustomers), as SQLite's migration 12
 * (packages/sqlite/src/migrations/0009-customers-by-creation.ts): partial indexes on (created_at,
 * customer_id) for the live and for the archived customers.
 */
export const customersByCreation: Migration = {
  version: 6,
  name: 'customers-by-creation',
  up(db: Kysely<any>): Compilable[] {
    return [
      db.schema.createIndex('customers_live_by_creation').on('customers').columns(['created_at', 'customer_id']).where(sql.ref('archived_at'), 'is', null),
      db.schema.createIndex('customers_archived_by_creation').on('customers').columns(['created_at', 'customer_id']).where(sql.ref('archived_at'), 'is not', null),
    ];
  },
};
