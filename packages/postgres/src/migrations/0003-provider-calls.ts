import { sql, type ColumnDefinitionBuilder, type Compilable, type Kysely } from 'kysely';
import type { Migration } from '@tessera/sql';

/**
 * The outbox of provider calls, as SQLite's migration 5 (packages/sqlite/src/migrations/0005-provider-calls.ts)
 * with the type mapping of 0001-initial.ts: committed with the state that needs the call, settled
 * after the provider answered (docs/providers.md).
 */
type Column = ColumnDefinitionBuilder;
const text = (c: Column): Column => c.modifyFront(sql`collate "C"`);
const textNotNull = (c: Column): Column => text(c).notNull();
const notNull = (c: Column): Column => c.notNull();

export const providerCalls: Migration = {
  version: 3,
  name: 'provider-calls',
  up(db: Kysely<any>): Compilable[] {
    const table = db.schema
      .createTable('provider_calls')
      .addColumn('key', 'text', (c) => textNotNull(c).primaryKey())
      .addColumn('kind', 'text', textNotNull)
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('entity_id', 'text', textNotNull)
      .addColumn('input', 'text', textNotNull)
      .addColumn('status', 'text', textNotNull)
      .addColumn('result', 'text', text)
      .addColumn('attempts', 'bigint', notNull)
      .addColumn('not_before', 'bigint', notNull)
      .addColumn('last_error', 'text', text)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('updated_at', 'bigint', notNull);
    // Partial: settled calls stay for the record, and tick() lists only the pending ones.
    const pending = db.schema
      .createIndex('provider_calls_pending')
      .on('provider_calls')
      .columns(['created_at', 'key'])
      .where(sql.ref('status'), '=', 'PENDING');
    return [table, pending];
  },
};
