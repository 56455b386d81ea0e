import { sql, type ColumnDefinitionBuilder, type Compilable, type Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Entities, the members of a customer with balances of their own (docs/entities.md): the
 * `entities` table, and `entity_id` on usage cells, distinct values, reservations and events.
 * Rows written before read back with entity_id '' (the customer's own, pooled cell; no entity).
 *
 * `entity_id` joins the key of `usage` and `usage_distinct`, between the resource and the feature
 * as in `usageKeyId`. SQLite cannot change a primary key in place, so both tables are rebuilt:
 * created anew, filled from the old one, which is dropped, and renamed. Neither has an index besides
 * its key. `events` and `reservations` only gain a column (ALTER TABLE ADD COLUMN with a default
 * rewrites nothing), and the HELD-reservations index is made again with the entity in it.
 */
export const entities: Migration = {
  version: 6,
  name: 'entities',
  up(db: Kysely<any>): Compilable[] {
    const entityId = (c: ColumnDefinitionBuilder) => c.notNull().defaultTo('');
    // Both WITHOUT ROWID, as in 0001-initial.ts.
    const usage = db.schema
      .createTable('usage_v6')
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('entity_id', 'text', entityId)
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
      .addPrimaryKeyConstraint('usage_pk', ['customer_id', 'resource_id', 'entity_id', 'feature_id', 'window_start', 'window_end'])
      .modifyEnd(sql`without rowid`);
    const usageColumns = ['customer_id', 'resource_id', 'feature_id', 'window_start', 'window_end', 'value', 'count', 'sum', 'min', 'max', 'latest_at', 'latest_value', 'updated_at'];

    const usageDistinct = db.schema
      .createTable('usage_distinct_v6')
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('entity_id', 'text', entityId)
      .addColumn('feature_id', 'text', (c) => c.notNull())
      .addColumn('window_start', 'integer', (c) => c.notNull())
      .addColumn('window_end', 'integer', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('usage_distinct_pk', ['customer_id', 'resource_id', 'entity_id', 'feature_id', 'window_start', 'window_end', 'value'])
      .modifyEnd(sql`without rowid`);
    const distinctColumns = ['customer_id', 'resource_id', 'feature_id', 'window_start', 'window_end', 'value'];

    /** The statements that replace `table` by `rebuilt`, its rows copied with entity_id ''. */
    const rebuild = (table: string, rebuilt: Compilable, columns: string[]): Compilable[] => [
      rebuilt,
      db
        .insertInto(`${table}_v6`)
        .columns([...columns, 'entity_id'])
        .expression(db.selectFrom(table).select([...columns, sql.lit('').as('entity_id')])),
      db.schema.dropTable(table),
      db.schema.alterTable(`${table}_v6`).renameTo(table),
    ];

    const eventsEntity = db.schema.alterTable('events').addColumn('entity_id', 'text', entityId);
    const reservationsEntity = db.schema.alterTable('reservations').addColumn('entity_id', 'text', entityId);
    // listHeldReservations names the entity, or asks for every entity's holds of a feature (the
    // pooled cell counts them all): entity_id after feature_id serves both from one index.
    const dropHeld = db.schema.dropIndex('reservations_held_by_cell');
    const reservationsHeld = db.schema
      .createIndex('reservations_held_by_cell')
      .on('reservations')
      .columns(['customer_id', 'resource_id', 'feature_id', 'entity_id', 'created_at', 'id'])
      .where(sql.ref('status'), '=', 'HELD');

    // A rowid table (not WITHOUT ROWID): metadata makes rows larger than the usage cells.
    const entityTable = db.schema
      .createTable('entities')
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('entity_id', 'text', (c) => c.notNull())
      .addColumn('feature_id', 'text')
      .addColumn('name', 'text')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull())
      .addColumn('deleted_at', 'integer')
      .addPrimaryKeyConstraint('entities_pk', ['customer_id', 'entity_id']);
    // listEntities of one seat feature pages in entity_id order. Partial: `feature_id = ?` implies
    // NOT NULL, and entities that occupy no seat need no entry.
    const entitiesByFeature = db.schema
      .createIndex('entities_by_feature')
      .on('entities')
      .columns(['customer_id', 'feature_id', 'entity_id'])
      .where(sql.ref('feature_id'), 'is not', null);

    return [
      ...rebuild('usage', usage, usageColumns),
      ...rebuild('usage_distinct', usageDistinct, distinctColumns),
      eventsEntity,
      reservationsEntity,
      dropHeld,
      reservationsHeld,
      entityTable,
      entitiesByFeature,
    ];
  },
};
