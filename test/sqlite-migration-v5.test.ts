/**
 * Schema v5 (the provider-call outbox, docs/providers.md) reaches files written at v4: a file is
 * built as the v4 code left it (migrations 1 to 4, the history table, user_version 4), given a v4
 * row, then opened with the current store.
 */
import type { ProviderCallRecord } from '@tessera/core';
import { sqliteStore, SCHEMA_VERSION } from '@tessera/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../packages/sqlite/src/migrations/index.js';
import { inspect, schemaOf, tempFiles, writeFileAtVersion } from './support/sqlite-files.js';
import { T0 } from './conformance/fixtures.js';

const { freshFile, remove } = tempFiles('tessera-sqlite-v5-');
afterAll(remove);

/** A file at schema v4, as @tessera/sqlite with migrations 1 to 4 wrote it, with a v4 row. */
function writeV4File(filename: string): void {
  writeFileAtVersion(filename, 4);
  inspect(filename, (db) => {
    db.prepare(
      `insert into recharge_configs (customer_id, currency_id, is_enabled, threshold_type, threshold_value, target_balance, max_spend_limit, grant_expiration_period, updated_at)
       values ('old', 'tokens', 1, 'CREDIT_AMOUNT', '10', '100', null, null, ?)`,
    ).run(T0);
  });
}

const pending: ProviderCallRecord = {
  key: 'invoice:i1',
  kind: 'onInvoiceCreated',
  customerId: 'old',
  entityId: 'i1',
  input: { invoiceId: 'i1' },
  status: 'PENDING',
  result: null,
  attempts: 1,
  notBefore: T0,
  lastError: null,
  createdAt: T0,
  updatedAt: T0,
};

describe('sqlite store: migration to schema v5', () => {
  it('migrates a v4 file: old rows survive, provider calls work, and the file ends up with the schema of a new one', async () => {
    const filename = freshFile();
    writeV4File(filename);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(5);
    const store = sqliteStore({ filename });
    await store.open();
    try {
      expect(await store.transaction('read', (tx) => tx.getRechargeConfig('old', 'tokens'))).toMatchObject({ customerId: 'old', thresholdValue: '10' });
      await store.transaction('write', (tx) => tx.putProviderCall(pending));
      expect(await store.transaction('read', (tx) => tx.listDueProviderCalls({ dueAt: T0, limit: 10 }))).toEqual([pending]);
    } finally {
      await store.close();
    }
    inspect(filename, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare('select version, name from schema_migrations order by version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    });
    const fresh = freshFile();
    const created = sqliteStore({ filename: fresh });
    await created.open();
    await created.close();
    expect(schemaOf(filename)).toEqual(schemaOf(fresh));
  });

  it("serves tick()'s listing of due provider calls from the partial index, without sorting", async () => {
    const filename = freshFile();
    const store = sqliteStore({ filename });
    await store.open();
    await store.close();
    inspect(filename, (db) => {
      const plan = (db.prepare("explain query plan select key from provider_calls where status = 'PENDING' and not_before <= ? order by created_at, key limit ?").all(T0, 10) as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
      expect(plan).toContain('provider_calls_pending');
      expect(plan).not.toContain('TEMP B-TREE');
    });
  });
});
