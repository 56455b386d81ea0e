// The statements of compact event keys (SQLite from schema v8), split out of statements.ts: packages/sqlite/README.md#event-keys.
import { sql, type Compilable, type Kysely } from 'kysely';
import { EVENT_COLUMNS } from './rows.js';
import type { Database } from './schema.js';
import { byKey, param } from './statements-builder.js';

/** The statements of compact event keys (SQLite from schema v8; tx-events.ts). */
export interface EventKeyStatements<Statement> {
  /** The id of the merged event (in event_keys) with this hash and key, if any; binds key_hash, idempotency_key. */
  findMerged: Statement;
  /** The key of the event with this id; binds id. */
  keyOf: Statement;
  /** event_keys_state.merged_through. */
  mergedThrough: Statement;
  /** (id, key_hash) of every event after an id, in id order; binds id. */
  since: Statement;
  /** Copies the events in (from, through] into event_keys in key order; binds from, through. */
  merge: Statement;
  /** Sets event_keys_state.merged_through; binds merged_through. */
  setMergedThrough: Statement;
}

/**
 * The event statements of a schema that keys events by `event_keys` (tx-events.ts): a plain
 * INSERT binding key_hash then EVENT_COLUMNS (the store checks the key first), `getEvent` binding
 * key_hash, idempotency_key twice, and the key tables' statements.
 */
export function compactEventStatements<S>(
  k: Kysely<Database>,
  reader: (query: Compilable, params: readonly string[]) => S,
  writer: (query: Compilable, params: readonly string[]) => S,
): { insertEvent: S; getEvent: S; eventKeys: EventKeyStatements<S> } {
    const columns = ['key_hash', ...EVENT_COLUMNS] as const;
    const insertEvent = writer(k.insertInto('events').values(Object.fromEntries(byKey(columns)) as never), columns);
    const mergedThrough = k.selectFrom('event_keys_state').select('merged_through');
    // The merged events under the key's hash, and the newer ones by their id range.
    const getEvent = reader(
      k
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('id', 'in', k.selectFrom('event_keys').select('event_id').where('key_hash', '=', param<number>('key_hash')))
        .where('idempotency_key', '=', param('idempotency_key'))
        .unionAll(
          k
            .selectFrom('events')
            .select(EVENT_COLUMNS)
            .where('id', '>', mergedThrough)
            .where('key_hash', '=', param<number>('key_hash'))
            .where('idempotency_key', '=', param('idempotency_key')),
        ),
      ['key_hash', 'idempotency_key', 'key_hash', 'idempotency_key'],
    );
    const eventKeys: EventKeyStatements<S> = {
      // A join rather than `id in (subquery)`, which fills an ephemeral table on every run.
      findMerged: reader(
        k
          .selectFrom('event_keys')
          .innerJoin('events', 'events.id', 'event_keys.event_id')
          .select('events.id')
          .where('event_keys.key_hash', '=', param<number>('key_hash'))
          .where('events.idempotency_key', '=', param('idempotency_key')),
        ['key_hash', 'idempotency_key'],
      ),
      keyOf: reader(k.selectFrom('events').select('idempotency_key').where('id', '=', param<number>('id')), ['id']),
      mergedThrough: reader(mergedThrough, []),
      since: reader(k.selectFrom('events').select(['id', 'key_hash']).where('id', '>', param<number>('id')).orderBy('id'), ['id']),
      merge: writer(
        k
          .insertInto('event_keys')
          .columns(['key_hash', 'event_id'])
          .expression(
            k
              .selectFrom('events')
              .select(['key_hash', sql.ref<number>('id').as('event_id')])
              .where('id', '>', param<number>('from'))
              .where('id', '<=', param<number>('through'))
              .orderBy('key_hash')
              .orderBy('id'),
          ),
        ['from', 'through'],
      ),
      setMergedThrough: writer(k.updateTable('event_keys_state').set({ merged_through: param<number>('merged_through') }), ['merged_through']),
    };
  return { insertEvent, getEvent, eventKeys };
}
