import { sql, type Compilable, type Kysely } from 'kysely';
import { EVENT_KEY_HASH_FUNCTION } from '@tessera/sql';
import type { Migration } from './index.js';

/**
 * Compact event keys (packages/sqlite/README.md#event-keys): the all-time unique index on the
 * idempotency key's text took a random page per event once it outgrew the cache. Events get an
 * integer `id` (the rowid, made explicit so that a VACUUM keeps it) and `key_hash`; the unique
 * index goes. `event_keys` (key_hash, event_id), WITHOUT ROWID, indexes the events up to
 * `event_keys_state.merged_through`; the newer ones are found by scanning their id range (the
 * store keeps them in memory), and are merged into `event_keys` in key order in bulk. The store
 * checks a new key under its write lock (packages/sql/src/tx-events.ts).
 *
 * Existing events are copied with their rowid as id and their hash computed by the function the
 * migration runner registers (EVENT_KEY_HASH_FUNCTION); every one of them goes to `event_keys`.
 */
export const compactEventKeys: Migration = {
  version: 8,
  name: 'compact-event-keys',
  up(db: Kysely<any>): Compilable[] {
    const columns = ['idempotency_key', 'customer_id', 'event_name', 'resource_id', 'entity_id', 'dimensions', 'timestamp', 'received_at', 'unmatched_reason'];
    const events = db.schema
      .createTable('events_v8')
      .addColumn('id', 'integer', (c) => c.primaryKey().notNull())
      .addColumn('key_hash', 'integer', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('event_name', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('entity_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('dimensions', 'text', (c) => c.notNull())
      .addColumn('timestamp', 'integer', (c) => c.notNull())
      .addColumn('received_at', 'integer', (c) => c.notNull())
      .addColumn('unmatched_reason', 'text');
    const copy = db
      .insertInto('events_v8')
      .columns(['id', 'key_hash', ...columns])
      .expression(
        db
          .selectFrom('events')
          .select([sql.ref('rowid').as('id'), sql`${sql.raw(EVENT_KEY_HASH_FUNCTION)}(${sql.ref('idempotency_key')})`.as('key_hash'), ...columns])
          .orderBy(sql.ref('rowid')),
      );
    const keyTable = db.schema
      .createTable('event_keys')
      .addColumn('key_hash', 'integer', (c) => c.notNull())
      .addColumn('event_id', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('event_keys_pk', ['key_hash', 'event_id'])
      .modifyEnd(sql`without rowid`);
    const state = db.schema.createTable('event_keys_state').addColumn('merged_through', 'integer', (c) => c.notNull());
    const unmatched = db.schema
      .createIndex('events_unmatched')
      .on('events')
      .columns(['received_at', 'idempotency_key'])
      .where(sql.ref('unmatched_reason'), 'is not', null);
    const byStream = db.schema.createIndex('events_by_stream').on('events').columns(['customer_id', 'resource_id', 'event_name', 'timestamp']);
    const keys = db
      .insertInto('event_keys')
      .columns(['key_hash', 'event_id'])
      .expression(db.selectFrom('events').select(['key_hash', sql.ref('id').as('event_id')]).orderBy('key_hash').orderBy('id'));
    return [
      events,
      copy,
      // Dropping the table drops its indexes (the unique key, events_unmatched, events_by_stream).
      db.schema.dropTable('events'),
      db.schema.alterTable('events_v8').renameTo('events'),
      unmatched,
      byStream,
      keyTable,
      state,
      keys,
      db.insertInto('event_keys_state').expression(db.selectFrom('events').select(sql<number>`coalesce(max(${sql.ref('id')}), 0)`.as('merged_through'))),
    ];
  },
};
