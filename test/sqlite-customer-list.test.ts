/**
 * The SQLite plan of a getCustomers page (migration 12): a range of the partial index of the live
 * or of the archived customers from the cursor, in the list's order, with no sort of its own.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { buildCustomerQuery, type Database } from '@tessera/sql';
import { sqliteStore } from '@tessera/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { inspect, tempFiles } from './support/sqlite-files.js';

const { freshFile, remove } = tempFiles('tessera-sqlite-customers-');
afterAll(remove);

describe('getCustomers on SQLite', () => {
  it('reads a page from the partial index of its kind, after the cursor, without sorting', async () => {
    const filename = freshFile();
    const store = sqliteStore({ filename });
    await store.open();
    await store.close();
    inspect(filename, (db) => {
      const k = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
      const plan = (archived: boolean, search?: string) => {
        const q = buildCustomerQuery(k, { archived, limit: 26, after: { createdAt: 1, customerId: 'a' }, ...(search ? { search } : {}) }).compile();
        return (db.prepare(`explain query plan ${q.sql}`).all(...q.parameters) as { detail: string }[]).map((r) => r.detail).join('; ');
      };
      expect(plan(false)).toContain('customers_live_by_creation');
      expect(plan(true)).toContain('customers_archived_by_creation');
      expect(plan(false, 'acme')).toContain('customers_live_by_creation');
      for (const archived of [false, true]) expect(plan(archived)).not.toContain('TEMP B-TREE');
    });
  });
});
