import { sql, type Compilable, type Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The indexes of `queryCustomers` (getCustomers): one partial index on (created_at, customer_id)
 * for the live customers and one for the archived ones, so a page of either is a range scan from
 * the cursor in the order of the list. Each customer is in exactly one of them: together they cost
 * what one full index would. A search still filters the rows it scans (a substring has no index).
 */
export const customersByCreation: Migration = {
  version: 9,
  name: 'customers-by-creation',
  up(db: Kysely<any>): Compilable[] {
    return [
      db.schema.createIndex('customers_live_by_creation').on('customers').columns(['created_at', 'customer_id']).where(sql.ref('archived_at'), 'is', null),
      db.schema.createIndex('customers_archived_by_creation').on('customers').columns(['created_at', 'customer_id']).where(sql.ref('archived_at'), 'is not', null),
    ];
  },
};
