/**
 * Schema v3 (invoices, applied-at columns, query indexes) reaches files written at v2: a file is
 * built exactly as the v2 code left it (migrations 1 and 2 through the same runner steps, the
 * history table, user_version 2), filled with v2 rows, then opened with the current store.
 */
import { runSubscriptionQuery, type SubscriptionQuery } from '@tessera/core';
import { sqliteStore, SCHEMA_VERSION } from '@tessera/sqlite';
import { inspect, schemaOf, tempFiles, writeFileAtVersion } from './support/sqlite-files.js';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../packages/sqlite/src/migrations/index.js';
import { DAY, T0, customer, invoice, subscription } from './conformance/fixtures.js';

const { freshFile, remove } = tempFiles('tessera-sqlite-v3-');
afterAll(remove);

/** A file at schema v2, as @tessera/sqlite with migrations 1 and 2 wrote it. */
function writeV2File(filename: string): void {
  writeFileAtVersion(filename, 2);
  inspect(filename, (db) => {
    // Rows in the v2 column layout (no coupon_applied_at, no promotion_applied_at).
    db.prepare(
      `insert into customers (customer_id, name, email, coupon_id, billing_info, metadata, archived_at, created_at, updated_at)
       values ('old', 'Old Co', null, 'half', null, '{}', null, 1, 2)`,
    ).run();
    const insertSub = db.prepare(
      `insert into subscriptions (id, customer_id, product_id, plan_id, plan_version, catalog_version, resource_id, billing_period,
         status, start_date, billing_anchor, usage_anchor, trial_end_date, end_date, cancellation_date, addons, billable_features,
         promotion_code, billing_country_code, scheduled_updates, metadata, created_at, updated_at)
       values (?, 'old', 'app', 'pro', 1, 1, '', 'MONTHLY', 'ACTIVE', ?, ?, ?, null, ?, null, '[]', '[]', ?, null, '[]', '{}', ?, ?)`,
    );
    insertSub.run('s-old-1', T0, T0, T0, null, 'WELCOME', T0, T0);
    insertSub.run('s-old-2', T0, T0, T0, T0 + DAY, null, T0 + 2, T0 + 2);
    insertSub.run('s-old-3', T0 + 5 * DAY, T0, T0, null, 'WELCOME', T0 + 1, T0 + 1);
  });
}


describe('sqlite store: migration to schema v3', () => {
  it('is among the migrations this code runs, in order', () => {
    // Later migrations (v4: credits and promotions) follow; a v2 file migrates through all of them.
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(3);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('migrates a v2 file: old rows read back with null applied-at fields, and the file ends up with the schema of a new one', async () => {
    const filename = freshFile();
    writeV2File(filename);
    expect(inspect(filename, (db) => db.pragma('user_version', { simple: true }))).toBe(2);
    expect(inspect(filename, (db) => db.prepare("select name from sqlite_master where name = 'invoices'").all())).toEqual([]);

    const store = sqliteStore({ filename });
    await store.open();
    try {
      await store.transaction('read', async (tx) => {
        const old = await tx.getCustomer('old');
        expect(old).toMatchObject({ customerId: 'old', couponId: 'half', couponAppliedAt: null });
        expect((await tx.getSubscription('s-old-1'))?.promotionCodeAppliedAt).toBeNull();
        expect(await tx.countPromotionCodeRedemptions('WELCOME')).toBe(2);
        expect(await tx.listInvoices({ customerId: 'old' })).toEqual([]);
        // Old rows are queryable; s-old-2 ended a day after T0, so it is EXPIRED at T0 + 2 days.
        const q: SubscriptionQuery = { sort: { field: 'createdAt', direction: 'DESC' }, limit: 10, now: T0 + 2 * DAY };
        const all = await tx.listSubscriptionsByCustomer('old');
        expect(all).toHaveLength(3);
        expect(await tx.querySubscriptions(q)).toEqual(runSubscriptionQuery(all, q));
        expect((await tx.querySubscriptions({ ...q, filter: { field: 'status', op: 'eq', value: 'EXPIRED' } })).map((s) => s.id)).toEqual(['s-old-2']);
      });
      // New writes use the new columns and table.
      await store.transaction('write', async (tx) => {
        await tx.putCustomer(customer('old', { couponAppliedAt: T0 + 3 }));
        await tx.putSubscription(subscription('s-new', 'old', { promotionCodeAppliedAt: T0 + 4 }));
        expect(await tx.insertInvoice(invoice('i1', { customerId: 'old' }))).toBe(true);
        expect(await tx.insertInvoice(invoice('i2', { customerId: 'old', dedupeKey: invoice('i1').dedupeKey }))).toBe(false);
      });
      await store.transaction('read', async (tx) => {
        expect((await tx.getCustomer('old'))?.couponAppliedAt).toBe(T0 + 3);
        expect((await tx.getSubscription('s-new'))?.promotionCodeAppliedAt).toBe(T0 + 4);
        expect(await tx.listInvoices({ customerId: 'old' })).toEqual([invoice('i1', { customerId: 'old' })]);
      });
    } finally {
      await store.close();
    }

    inspect(filename, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare('select version, name from schema_migrations order by version').all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
    });

    const fresh = freshFile();
    const created = sqliteStore({ filename: fresh });
    await created.open();
    await created.close();
    expect(schemaOf(filename)).toEqual(schemaOf(fresh));
  });

  it('answers querySubscriptions sorted by createdAt and countPromotionCodeRedemptions from indexes', async () => {
    const filename = freshFile();
    const store = sqliteStore({ filename });
    await store.open();
    await store.close();
    inspect(filename, (db) => {
      const plan = (sql: string, ...params: unknown[]) =>
        (db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('; ');
      // The shape querySubscriptions compiles for an ascending createdAt page after a cursor.
      expect(plan('select id from subscriptions where created_at >= ? and (created_at > ? or id > ?) order by created_at asc, id asc limit ?', 1, 1, 'a', 7)).toContain(
        'subscriptions_by_created_at',
      );
      expect(plan('select count(*) from subscriptions where promotion_code = ?', 'X')).toContain('subscriptions_by_promotion_code');
      expect(plan('select id from invoices where customer_id = ? and subscription_id = ? order by created_at, id', 'c', 's')).toContain(
        'invoices_by_customer',
      );
      expect(plan('select id from invoices where customer_id = ? and subscription_id = ? order by created_at, id', 'c', 's')).not.toContain(
        'TEMP B-TREE',
      );
    });
  });
});
