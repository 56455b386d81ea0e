/**
 * Schema v4 (promotional grants, credit grants, the credit ledger, recharge settings) reaches files
 * written at v3: a file is built exactly as the v3 code left it (migrations 1 to 3 through the same
 * runner steps, the history table, user_version 3), filled with v3 rows, then opened with the
 * current store.
 */
import { sqliteStore, SCHEMA_VERSION } from '@tessera/sqlite';
import { inspect, schemaOf, tempFiles, writeFileAtVersion } from './support/sqlite-files.js';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../packages/sqlite/src/migrations/index.js';
import {
  T0,
  creditGrant,
  invoice,
  ledgerEntry,
  promotionalGrant,
  rechargeConfig,
  subscription,
} from './conformance/fixtures.js';

const { freshFile, remove } = tempFiles('tessera-sqlite-v4-');
afterAll(remove);

/** A file at schema v3, as @tessera/sqlite with migrations 1 to 3 wrote it. */
function writeV3File(filename: string): void {
  writeFileAtVersion(filename, 3);
  inspect(filename, (db) => {
    // Rows in the v3 column layout.
    db.prepare(
      `insert into customers (customer_id, name, email, coupon_id, billing_info, metadata, archived_at, created_at, updated_at, coupon_applied_at)
       values ('old', 'Old Co', null, 'half', null, '{"k":"v"}', null, 1, 2, 3)`,
    ).run();
    db.prepare(
      `insert into invoices (id, customer_id, subscription_id, kind, dedupe_key, status, currency, period_start, period_end, lines,
         sub_total, discount, tax, total, excess_credit, created_at)
       values ('i-old', 'old', null, 'USAGE', 'usage:old:1', 'PAID', 'USD', null, null, '[]', '12.50', null, '0.00', '12.50', '0.00', ?)`,
    ).run(T0);
    db.prepare(`insert into changes (at, kind, customer_id, entity_id, payload) values (?, 'customer.updated', 'old', null, null)`).run(T0);
  });
}


const NEW_TABLES = ['credit_grants', 'credit_ledger', 'promotional_grants', 'recharge_configs'];

describe('sqlite store: migration to schema v4', () => {
  it('is part of the schema this code writes', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(4);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('migrates a v3 file: old rows survive, the new tables work, and the file ends up with the schema of a new one', async () => {
    const filename = freshFile();
    writeV3File(filename);
    const tables = (f: string) =>
      inspect(f, (db) => (db.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[]).map((r) => r.name));
    expect(inspect(filename, (db) => db.pragma('user_version', { simple: true }))).toBe(3);
    for (const t of NEW_TABLES) expect(tables(filename)).not.toContain(t);

    const store = sqliteStore({ filename });
    await store.open();
    try {
      await store.transaction('read', async (tx) => {
        expect(await tx.getCustomer('old')).toMatchObject({ customerId: 'old', couponId: 'half', couponAppliedAt: 3, metadata: { k: 'v' } });
        expect((await tx.listInvoices({ customerId: 'old' })).map((i) => [i.id, i.total])).toEqual([['i-old', '12.50']]);
        expect(await tx.listPromotionalGrants('old')).toEqual([]);
        expect(await tx.listCreditGrants('old')).toEqual([]);
        expect(await tx.listCreditLedger({ customerId: 'old', currencyId: 'tokens', limit: 10 })).toEqual([]);
        expect(await tx.getRechargeConfig('old', 'tokens')).toBeUndefined();
      });
      expect(await store.lastChangeSeq()).toBe(1);

      await store.transaction('write', async (tx) => {
        await tx.putSubscription(subscription('s-new', 'old'));
        expect(await tx.insertInvoice(invoice('i-new', { customerId: 'old' }))).toBe(true);
        await tx.putPromotionalGrant(promotionalGrant('p1', { customerId: 'old' }));
        await tx.putCreditGrant(creditGrant('g1', { customerId: 'old' }));
        await tx.appendCreditLedger([ledgerEntry({ customerId: 'old', kind: 'GRANT', amount: '123456789012345678.5' }), ledgerEntry({ customerId: 'old' })]);
        await tx.putRechargeConfig(rechargeConfig({ customerId: 'old' }));
        expect(await tx.appendChange({ at: T0, kind: 'credits.updated', customerId: 'old', entityId: 'tokens', payload: null })).toBe(2);
      });
      await store.transaction('read', async (tx) => {
        expect(await tx.getCustomer('old')).toMatchObject({ name: 'Old Co' });
        expect(await tx.getSubscription('s-new')).toEqual(subscription('s-new', 'old'));
        expect((await tx.listInvoices({ customerId: 'old' })).map((i) => i.id)).toEqual(['i-old', 'i-new']);
        expect(await tx.listPromotionalGrants('old')).toEqual([promotionalGrant('p1', { customerId: 'old' })]);
        expect(await tx.listCreditGrants('old', 'tokens')).toEqual([creditGrant('g1', { customerId: 'old' })]);
        const ledger = await tx.listCreditLedger({ customerId: 'old', currencyId: 'tokens', limit: 10 });
        expect(ledger.map(({ seq, ...e }) => e)).toEqual([
          ledgerEntry({ customerId: 'old', kind: 'GRANT', amount: '123456789012345678.5' }),
          ledgerEntry({ customerId: 'old' }),
        ]);
        expect(ledger[1]!.seq).toBeGreaterThan(ledger[0]!.seq);
        expect(await tx.getRechargeConfig('old', 'tokens')).toEqual(rechargeConfig({ customerId: 'old' }));
      });
    } finally {
      await store.close();
    }

    inspect(filename, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare('select version, name from schema_migrations order by version').all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
      // Amounts sit in the file as TEXT, not as REAL that would have rounded them.
      expect(db.prepare("select typeof(amount) as t, amount from credit_grants where id = 'g1'").get()).toEqual({ t: 'text', amount: '123456789012345678.5' });
      expect(db.prepare("select typeof(remaining) as t, remaining from credit_grants where id = 'g1'").get()).toEqual({ t: 'text', remaining: '0.000000000001' });
      expect(db.prepare('select distinct typeof(amount) as t from credit_ledger').all()).toEqual([{ t: 'text' }]);
    });

    // Reopening a migrated file changes nothing and keeps the data.
    const again = sqliteStore({ filename });
    await again.open();
    try {
      expect(await again.transaction('read', (tx) => tx.listCreditGrants('old'))).toEqual([creditGrant('g1', { customerId: 'old' })]);
    } finally {
      await again.close();
    }

    const fresh = freshFile();
    const created = sqliteStore({ filename: fresh });
    await created.open();
    await created.close();
    expect(schemaOf(filename)).toEqual(schemaOf(fresh));
    for (const t of NEW_TABLES) expect(tables(fresh)).toContain(t);
  });

  it('serves the credit and promotion lists from their indexes, without sorting', async () => {
    const filename = freshFile();
    const store = sqliteStore({ filename });
    await store.open();
    await store.close();
    inspect(filename, (db) => {
      const plan = (sql: string, ...params: unknown[]) =>
        (db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('; ');
      const promotions = plan('select id from promotional_grants where customer_id = ? order by created_at, id', 'c');
      expect(promotions).toContain('promotional_grants_by_customer');
      expect(promotions).not.toContain('TEMP B-TREE');
      const grants = plan('select id from credit_grants where customer_id = ? and currency_id = ? order by created_at, id', 'c', 't');
      expect(grants).toContain('credit_grants_by_customer');
      expect(grants).not.toContain('TEMP B-TREE');
      const ledger = plan('select seq from credit_ledger where customer_id = ? and currency_id = ? and seq > ? order by seq limit ?', 'c', 't', 0, 10);
      expect(ledger).toContain('credit_ledger_by_customer');
      expect(ledger).not.toContain('TEMP B-TREE');
      expect(plan('select * from recharge_configs where customer_id = ? and currency_id = ?', 'c', 't')).toContain('sqlite_autoindex_recharge_configs');
    });
  });
});
