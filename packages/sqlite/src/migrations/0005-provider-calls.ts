import { sql, type Compilable, type Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The outbox of provider calls (payment checkouts, invoice deliveries): a row is committed with
 * the state that needs the call and settled after the provider answered, so no provider is ever
 * called inside a transaction and a call a crash interrupted is found again (docs/providers.md).
 */
export const providerCalls: Migration = {
  version: 5,
  name: 'provider-calls',
  up(db: Kysely<any>): Compilable[] {
    const table = db.schema
      .createTable('provider_calls')
      .addColumn('key', 'text', (c) => c.primaryKey().notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('entity_id', 'text', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('result', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('not_before', 'integer', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull());
    // Partial: settled calls stay for the record, and tick() lists only the pending ones.
    const pending = db.schema
      .createIndex('provider_calls_pending')
      .on('provider_calls')
      .columns(['created_at', 'key'])
      .where(sql.ref('status'), '=', 'PENDING');
    return [table, pending];
  },
};
