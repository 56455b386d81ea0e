/**
 * Schema v8 (compact event keys, packages/sqlite/README.md#event-keys) reaches files written at
 * v7: their events keep every field, stay found by key (as duplicates) and by stream, and land in
 * `event_keys`. Then what the new key structure must keep on every file: exactly once across a
 * merge of the recent keys, across two connections to one file, across a rolled-back
 * transaction and a group commit with a call rolled back, and two keys sharing a hash both stored.
 */
import type { EventRecord } from '@tessera/core';
import { eventKeyHash, EVENT_KEYS_MERGE_EVERY } from '@tessera/sql';
import { sqliteStore, SCHEMA_VERSION } from '@tessera/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../packages/sqlite/src/migrations/index.js';
import { inspect, schemaOf, tempFiles, writeFileAtVersion } from './support/sqlite-files.js';
import { T0, event } from './conformance/fixtures.js';

const { freshFile, remove } = tempFiles('tessera-sqlite-v8-');
afterAll(remove);

const matched = event('k-1', { dimensions: { tokens: 3 } });
const unmatched = event('k-2', { unmatchedReason: 'NO_MATCHING_METER', receivedAt: T0 + 20 });
const ofEntity = event('k-3', { entityId: 'seat-1', timestamp: T0 + 5 });

function writeV7File(filename: string): void {
  writeFileAtVersion(filename, 7);
  inspect(filename, (db) => {
    const insert = db.prepare(
      `insert into events (idempotency_key, customer_id, event_name, resource_id, entity_id, dimensions, timestamp, received_at, unmatched_reason)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const e of [matched, unmatched, ofEntity]) {
      insert.run(e.idempotencyKey, e.customerId, e.eventName, e.resourceId, e.entityId, JSON.stringify(e.dimensions), e.timestamp, e.receivedAt, e.unmatchedReason);
    }
  });
}

const keyed = (prefix: string, from: number, to: number): EventRecord[] =>
  Array.from({ length: to - from }, (_, i) => event(`${prefix}-${from + i}`, { timestamp: T0 + from + i }));

describe('sqlite store: migration to schema v8 (compact event keys)', () => {
  it('migrates a v7 file: every event reads back, its key stays taken, and the file has the schema of a new one', async () => {
    const filename = freshFile();
    writeV7File(filename);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(8);
    const store = sqliteStore({ filename });
    await store.open();
    try {
      await store.transaction('read', async (tx) => {
        expect(await tx.getEvent('k-1')).toEqual(matched);
        expect(await tx.getEvent('k-3')).toEqual(ofEntity);
        expect(await tx.getEvent('k-4')).toBeUndefined();
        expect(await tx.listUnmatchedEvents(10)).toEqual([unmatched]);
        expect(await tx.listEvents({ customerId: 'c1', resourceId: '', eventName: 'api.call', from: T0, to: T0 + 10 })).toEqual([matched, unmatched, ofEntity]);
      });
      await store.transaction('write', async (tx) => {
        expect(await tx.insertEvents([event('k-1'), event('k-4'), event('k-3'), event('k-4')])).toEqual([false, true, false, false]);
      });
      await store.transaction('read', async (tx) => expect(await tx.getEvent('k-4')).toEqual(event('k-4')));
    } finally {
      await store.close();
    }
    inspect(filename, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare('select version, name from schema_migrations order by version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      expect(db.prepare("select name from sqlite_master where name like '%_v8'").all()).toEqual([]);
      // The old events were indexed in event_keys by the migration, with their rowids kept as ids.
      expect(db.prepare('select key_hash, event_id from event_keys order by event_id').all()).toEqual(
        ['k-1', 'k-2', 'k-3'].map((k, i) => ({ key_hash: eventKeyHash(k), event_id: i + 1 })),
      );
      expect(db.prepare('select merged_through from event_keys_state').all()).toEqual([{ merged_through: 3 }]);
      // The unique index on the key's text is gone; listEvents and the unmatched listing keep theirs.
      const plan = (q: string, ...args: unknown[]) => (db.prepare(`explain query plan ${q}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
      expect(db.prepare("select name from sqlite_master where tbl_name = 'events' and type = 'index' order by name").all()).toEqual([{ name: 'events_by_stream' }, { name: 'events_unmatched' }]);
      expect(plan('select id from events where customer_id = ? and resource_id = ? and event_name = ? and timestamp >= ? and timestamp < ?', 'c1', '', 'x', 0, 1)).toContain('events_by_stream');
      expect(plan('select event_id from event_keys where key_hash = ?', 1)).toContain('PRIMARY KEY');
    });
    const fresh = freshFile();
    const created = sqliteStore({ filename: fresh });
    await created.open();
    await created.close();
    expect(schemaOf(filename)).toEqual(schemaOf(fresh));
  });

  it('stores each key once across a merge of the recent keys into event_keys, and across two connections', async () => {
    const filename = freshFile();
    const a = sqliteStore({ filename });
    const b = sqliteStore({ filename });
    await a.open();
    await b.open();
    try {
      const total = EVENT_KEYS_MERGE_EVERY + 5_000;
      const step = 10_000;
      for (let from = 0; from < total; from += step) {
        const batch = keyed('e', from, Math.min(total, from + step));
        // Each batch repeats a key of its own and one of the batch before (merged or not by then).
        if (from > 0) batch.push(event(`e-${from - 1}`));
        batch.push(event(`e-${from}`));
        const store = (from / step) % 2 === 0 ? a : b;
        const stored = await store.transaction('write', (tx) => tx.insertEvents(batch));
        expect(stored.filter((s) => s).length).toBe(Math.min(total, from + step) - from);
        expect(stored.slice(-(from > 0 ? 2 : 1))).toEqual(from > 0 ? [false, false] : [false]);
      }
      inspect(filename, (db) => {
        const merged = (db.prepare('select merged_through from event_keys_state').get() as { merged_through: number }).merged_through;
        expect(merged).toBeGreaterThanOrEqual(EVENT_KEYS_MERGE_EVERY);
        expect(merged).toBeLessThan(total);
        expect((db.prepare('select count(*) as n from event_keys').get() as { n: number }).n).toBe(merged);
      });
      // Old keys again, merged and recent, on both connections: nothing is stored twice.
      const again = [event('e-0'), event(`e-${EVENT_KEYS_MERGE_EVERY - 1}`), event(`e-${total - 1}`), event('e-new')];
      expect(await a.transaction('write', (tx) => tx.insertEvents(again))).toEqual([false, false, false, true]);
      expect(await b.transaction('write', (tx) => tx.insertEvents(again))).toEqual([false, false, false, false]);
      await b.transaction('read', async (tx) => {
        expect(await tx.getEvent('e-0')).toEqual(keyed('e', 0, 1)[0]);
        expect(await tx.getEvent(`e-${total - 1}`)).toEqual(keyed('e', total - 1, total)[0]);
        expect(await tx.getEvent('e-missing')).toBeUndefined();
      });
      inspect(filename, (db) => expect((db.prepare('select count(*) as n from events').get() as { n: number }).n).toBe(total + 1));
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('forgets the keys of a transaction that rolled back, and keeps telling the ids given again apart', async () => {
    const store = sqliteStore({ filename: freshFile() });
    await store.open();
    try {
      await store.transaction('write', (tx) => tx.insertEvents([event('kept')]));
      await expect(
        store.transaction('write', async (tx) => {
          expect(await tx.insertEvents([event('undone-1'), event('undone-2')])).toEqual([true, true]);
          expect(await tx.insertEvents([event('undone-1')])).toEqual([false]);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      // The rolled-back ids are given to other keys; the rolled-back keys are new again.
      expect(await store.transaction('write', (tx) => tx.insertEvents([event('other-1'), event('other-2')]))).toEqual([true, true]);
      expect(await store.transaction('write', (tx) => tx.insertEvents([event('undone-2'), event('other-1'), event('kept')]))).toEqual([true, false, false]);
      await store.transaction('read', async (tx) => {
        expect(await tx.getEvent('undone-1')).toBeUndefined();
        expect(await tx.getEvent('undone-2')).toEqual(event('undone-2'));
      });
    } finally {
      await store.close();
    }
  });

  it('keeps each key once through a group commit whose middle call rolls back to its savepoint', async () => {
    const store = sqliteStore({ filename: freshFile() });
    await store.open();
    try {
      // Not awaited one by one: the three calls share one SQLite transaction (group commit).
      const first = store.transaction('write', (tx) => tx.insertEvents([event('g-1'), event('g-2')]));
      const failed = store.transaction('write', async (tx) => {
        expect(await tx.insertEvents([event('g-3'), event('g-1')])).toEqual([true, false]);
        throw new Error('this call only');
      });
      const third = store.transaction('write', (tx) => tx.insertEvents([event('g-4'), event('g-2'), event('g-5')]));
      expect(await first).toEqual([true, true]);
      await expect(failed).rejects.toThrow('this call only');
      expect(await third).toEqual([true, false, true]);
      expect(await store.transaction('write', (tx) => tx.insertEvents([event('g-3'), event('g-4'), event('g-5'), event('g-1')]))).toEqual([true, false, false, false]);
      await store.transaction('read', async (tx) => expect(await tx.getEvent('g-3')).toEqual(event('g-3')));
    } finally {
      await store.close();
    }
  });

  it('stores two keys that share a hash, each once, whether the first is merged or recent', async () => {
    const filename = freshFile();
    const store = sqliteStore({ filename });
    await store.open();
    await store.close();
    // Stored events under the hashes of 'wanted' (merged) and 'later' (recent) with other keys: what
    // a collision leaves (the rows are written by hand, as no two known keys share a hash).
    inspect(filename, (db) => {
      const insert = db.prepare(
        `insert into events (key_hash, idempotency_key, customer_id, event_name, resource_id, entity_id, dimensions, timestamp, received_at, unmatched_reason)
         values (?, ?, 'c1', 'api.call', '', '', '{}', ?, ?, null)`,
      );
      const merged = Number(insert.run(eventKeyHash('wanted'), 'impostor-1', T0, T0).lastInsertRowid);
      db.prepare('insert into event_keys (key_hash, event_id) values (?, ?)').run(eventKeyHash('wanted'), merged);
      db.prepare('update event_keys_state set merged_through = ?').run(merged);
      insert.run(eventKeyHash('later'), 'impostor-2', T0, T0);
    });
    const reopened = sqliteStore({ filename });
    await reopened.open();
    try {
      expect(await reopened.transaction('write', (tx) => tx.insertEvents([event('wanted'), event('later'), event('wanted')]))).toEqual([true, true, false]);
      expect(await reopened.transaction('write', (tx) => tx.insertEvents([event('later'), event('wanted')]))).toEqual([false, false]);
      await reopened.transaction('read', async (tx) => {
        expect(await tx.getEvent('wanted')).toEqual(event('wanted'));
        expect(await tx.getEvent('later')).toEqual(event('later'));
      });
    } finally {
      await reopened.close();
    }
  });
});
