import { sql, type ColumnDefinitionBuilder, type Compilable, type Kysely } from 'kysely';
import type { Migration } from '@tessera/sql';

/**
 * Entities (docs/entities.md), as SQLite's migration 6 (packages/sqlite/src/migrations/0006-entities.ts)
 * with the type mapping of 0001-initial.ts: the `entities` table, and `entity_id` on usage cells,
 * distinct values, reservations and events, '' on every row written before (the customer's own,
 * pooled cell; no entity).
 *
 * ADD COLUMN with a constant default rewrites no table (PostgreSQL 11 and later). The keys of
 * `usage` and `usage_distinct` are then swapped for ones with entity_id between the resource and
 * the feature, as in `usageKeyId`: each ALTER drops and adds in one statement, so the table is
 * never without its key; building the new key's index reads the table once.
 */
type Column = ColumnDefinitionBuilder;
const text = (c: Column): Column => c.modifyFront(sql`collate "C"`);
const textNotNull = (c: Column): Column => text(c).notNull();
const notNull = (c: Column): Column => c.notNull();
const entityId = (c: Column): Column => textNotNull(c).defaultTo('');

export const entities: Migration = {
  version: 4,
  name: 'entities',
  up(db: Kysely<any>): Compilable[] {
    const addEntity = (table: string) => db.schema.alterTable(table).addColumn('entity_id', 'text', entityId);
    const swapKey = (table: string, constraint: string, columns: string[]) =>
      sql`alter table ${sql.table(table)} drop constraint ${sql.ref(constraint)}, add constraint ${sql.ref(constraint)} primary key (${sql.join(
        columns.map((c) => sql.ref(c)),
      )})`.compile(db);
    const usageKey = ['customer_id', 'resource_id', 'entity_id', 'feature_id', 'window_start', 'window_end'];

    // listHeldReservations names the entity, or asks for every entity's holds of a feature (the
    // pooled cell counts them all): entity_id after feature_id serves both from one index.
    const dropHeld = db.schema.dropIndex('reservations_held_by_cell');
    const reservationsHeld = db.schema
      .createIndex('reservations_held_by_cell')
      .on('reservations')
      .columns(['customer_id', 'resource_id', 'feature_id', 'entity_id', 'created_at', 'id'])
      .where(sql.ref('status'), '=', 'HELD');

    const entityTable = db.schema
      .createTable('entities')
      .addColumn('customer_id', 'text', textNotNull)
      .addColumn('entity_id', 'text', textNotNull)
      .addColumn('feature_id', 'text', text)
      .addColumn('name', 'text', text)
      .addColumn('metadata', 'text', textNotNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .addColumn('deleted_at', 'bigint')
      .addPrimaryKeyConstraint('entities_pk', ['customer_id', 'entity_id']);
    // Partial: `feature_id = $2` implies NOT NULL, and entities that occupy no seat need no entry.
    const entitiesByFeature = db.schema
      .createIndex('entities_by_feature')
      .on('entities')
      .columns(['customer_id', 'feature_id', 'entity_id'])
      .where(sql.ref('feature_id'), 'is not', null);

    return [
      addEntity('usage'),
      addEntity('usage_distinct'),
      addEntity('events'),
      addEntity('reservations'),
      { compile: () => swapKey('usage', 'usage_pk', usageKey) },
      { compile: () => swapKey('usage_distinct', 'usage_distinct_pk', [...usageKey, 'value']) },
      dropHeld,
      reservationsHeld,
      entityTable,
      entitiesByFeature,
    ];
  },
};
