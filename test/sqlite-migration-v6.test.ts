/**
 * Schema v6 (entities, docs/entities.md) reaches files written at v5: a file is built as the v5
 * code left it (migrations 1 to 5, the history table, user_version 5), given v5 usage cells,
 * distinct values, events and reservations, then opened with the current store. The usage tables
 * are rebuilt with entity_id in their key; every old row reads back with entityId ''. Also: the
 * indexes the entity statements use, and STORE_CORRUPT for an entity row with damaged metadata.
 */
import { TesseraError } from '@tessera/core';
import { sqliteStore, SCHEMA_VERSION } from '@tessera/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../packages/sqlite/src/migrations/index.js';
import { inspect, schemaOf, tempFiles, writeFileAtVersion } from './support/sqlite-files.js';
import { DAY, T0, entity, event, reservation, usage, usageKey } from './conformance/fixtures.js';

const { freshFile, remove } = tempFiles('tessera-sqlite-v6-');
afterAll(remove);

// The v5 rows, as records of today (entityId ''): what the migrated file must answer.
const cell = usage({ value: 42.5, count: 7 });
const cumulative = usage({ featureId: 'seats', resourceId: 'site-1', windowStart: 0, windowEnd: 8_640_000_000_000_000, value: 3, count: 3, sum: 3, min: null, max: null, latestAt: null, latestValue: null });
const held = reservation('r-held', { amount: 5 });
const committed = reservation('r-done', { status: 'COMMITTED', committedAmount: 4 });
const matched = event('k-1', { dimensions: { tokens: 3 } });
const unmatched = event('k-2', { unmatchedReason: 'no meter', receivedAt: T0 + 20 });

/** A file at schema v5, as @tessera/sqlite with migrations 1 to 5 wrote it, with rows in the v5 column layout. */
function writeV5File(filename: string): void {
  writeFileAtVersion(filename, 5);
  inspect(filename, (db) => {
    const insertUsage = db.prepare(
      `insert into usage (customer_id, resource_id, feature_id, window_start, window_end, value, count, sum, min, max, latest_at, latest_value, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const u of [cell, cumulative]) {
      insertUsage.run(u.customerId, u.resourceId, u.featureId, u.windowStart, u.windowEnd, u.value, u.count, u.sum, u.min, u.max, u.latestAt, u.latestValue, u.updatedAt);
    }
    const insertDistinct = db.prepare(
      `insert into usage_distinct (customer_id, resource_id, feature_id, window_start, window_end, value) values (?, ?, ?, ?, ?, ?)`,
    );
    for (const v of ['a', 'b']) insertDistinct.run(cell.customerId, cell.resourceId, cell.featureId, cell.windowStart, cell.windowEnd, v);
    const insertEvent = db.prepare(
      `insert into events (idempotency_key, customer_id, event_name, resource_id, dimensions, timestamp, received_at, unmatched_reason)
       values (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const e of [matched, unmatched]) {
      insertEvent.run(e.idempotencyKey, e.customerId, e.eventName, e.resourceId, JSON.stringify(e.dimensions), e.timestamp, e.receivedAt, e.unmatchedReason);
    }
    const insertReservation = db.prepare(
      `insert into reservations (id, customer_id, resource_id, feature_id, window_start, window_end, amount, expires_at, status, committed_amount, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const r of [held, committed]) {
      insertReservation.run(r.id, r.customerId, r.resourceId, r.featureId, r.windowStart, r.windowEnd, r.amount, r.expiresAt, r.status, r.committedAmount, r.createdAt, r.updatedAt);
    }
  });
}

describe('sqlite store: migration to schema v6', () => {
  it('migrates a v5 file: usage, distinct values, events and reservations keep their values with entityId \'\'', async () => {
    const filename = freshFile();
    writeV5File(filename);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(6);
    const store = sqliteStore({ filename });
    await store.open();
    try {
      await store.transaction('read', async (tx) => {
        expect(await tx.getUsage(usageKey())).toEqual(cell);
        expect(await tx.getUsage({ ...usageKey(), resourceId: 'site-1', featureId: 'seats', windowStart: 0, windowEnd: cumulative.windowEnd })).toEqual(cumulative);
        expect(await tx.listUsage({ customerId: 'c1' })).toEqual([cumulative, cell]);
        expect(await tx.listUsage({ customerId: 'c1', entityId: '' })).toEqual([cumulative, cell]);
        expect(await tx.listUsage({ customerId: 'c1', entityId: 'e1' })).toEqual([]);
        expect(await tx.getEvent('k-1')).toEqual(matched);
        expect(await tx.listUnmatchedEvents(10)).toEqual([unmatched]);
        expect(await tx.getReservation('r-done')).toEqual(committed);
        expect(await tx.listHeldReservations({ customerId: 'c1', resourceId: '', entityId: '', featureId: 'api-calls' })).toEqual([held]);
      });
      await store.transaction('write', async (tx) => {
        // The old distinct values belong to the customer's own cell; an entity's cell starts empty.
        expect(await tx.addDistinctValue(usageKey(), 'a')).toBe(false);
        expect(await tx.addDistinctValue(usageKey(), 'c')).toBe(true);
        expect(await tx.addDistinctValue(usageKey({ entityId: 'e1' }), 'a')).toBe(true);
        await tx.putUsage(usage({ entityId: 'e1', value: 1, count: 1 }));
        await tx.putEntity(entity('e1'));
      });
      await store.transaction('read', async (tx) => {
        expect(await tx.getUsage(usageKey())).toEqual(cell);
        expect(await tx.getUsage(usageKey({ entityId: 'e1' }))).toEqual(usage({ entityId: 'e1', value: 1, count: 1 }));
        expect(await tx.getEntity('c1', 'e1')).toEqual(entity('e1'));
        expect(await tx.listEntities({ customerId: 'c1', limit: 10 })).toEqual([entity('e1')]);
      });
    } finally {
      await store.close();
    }
    inspect(filename, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare('select version, name from schema_migrations order by version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      // No table of the rebuild is left behind.
      expect(db.prepare("select name from sqlite_master where name like '%_v6'").all()).toEqual([]);
    });
    const fresh = freshFile();
    const created = sqliteStore({ filename: fresh });
    await created.open();
    await created.close();
    expect(schemaOf(filename)).toEqual(schemaOf(fresh));
  });

  it('serves the held reservations of an entity and a page of entities from indexes, without sorting', async () => {
    const filename = freshFile();
    const store = sqliteStore({ filename });
    await store.open();
    await store.close();
    inspect(filename, (db) => {
      const plan = (q: string, ...args: unknown[]) =>
        (db.prepare(`explain query plan ${q}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
      const held = plan(
        "select id from reservations where customer_id = ? and resource_id = ? and entity_id = ? and feature_id = ? and status = 'HELD' order by created_at, id",
        'c1', '', 'e1', 'f',
      );
      expect(held).toContain('reservations_held_by_cell');
      expect(held).not.toContain('TEMP B-TREE');
      const page = plan('select entity_id from entities where customer_id = ? and entity_id > ? and deleted_at is null order by entity_id limit ?', 'c1', 'a', 10);
      expect(page).toContain('sqlite_autoindex_entities');
      expect(page).not.toContain('TEMP B-TREE');
      const seats = plan('select entity_id from entities where customer_id = ? and feature_id = ? and deleted_at is null order by entity_id limit ?', 'c1', 'seats', 10);
      expect(seats).toContain('entities_by_feature');
      expect(seats).not.toContain('TEMP B-TREE');
      const cellPlan = plan('select value from usage where customer_id = ? and resource_id = ? and entity_id = ? and feature_id = ? and window_start = ? and window_end = ?', 'c1', '', 'e1', 'f', T0, T0 + DAY);
      expect(cellPlan).toContain('PRIMARY KEY');
    });
  });

  it('an entity row with damaged metadata fails reads of that entity with STORE_CORRUPT naming table and key; others read', async () => {
    const filename = freshFile();
    const store = sqliteStore({ filename });
    await store.open();
    try {
      await store.transaction('write', async (tx) => {
        await tx.putEntity(entity('ok'));
        await tx.putEntity(entity('bad'));
      });
      inspect(filename, (db) => db.prepare("update entities set metadata = '{not json' where entity_id = 'bad'").run());
      const failure = await store.transaction('read', (tx) => tx.getEntity('c1', 'bad')).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TesseraError);
      expect((failure as TesseraError).code).toBe('STORE_CORRUPT');
      expect((failure as TesseraError).details).toMatchObject({ table: 'entities', key: 'c1/bad', column: 'metadata' });
      await expect(store.transaction('read', (tx) => tx.listEntities({ customerId: 'c1', limit: 10 }))).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      expect(await store.transaction('read', (tx) => tx.getEntity('c1', 'ok'))).toEqual(entity('ok'));
    } finally {
      await store.close();
    }
  });
});
