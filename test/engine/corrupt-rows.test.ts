/**
 * Damaged stored data (docs/conventions.md#boundary): a JSON column that does not parse makes the
 * calls reading that row fail with STORE_CORRUPT naming the table and key; other customers keep
 * working. The row is damaged behind the engine's back with a raw UPDATE, on SQLite and on
 * PostgreSQL (the run's throwaway server; skipped on the PGlite fallback, which has no second client).
 */
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, testClock, TesseraError, type Engine, type Store } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { postgresStore } from '@tessera/postgres';
import { createSidecar } from '@tessera/http';
import { demoCatalog, tempDir } from './stores.js';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';

/** A store and a way to run one raw SQL statement against its data. */
interface Damageable {
  store: Store;
  exec(statement: string, params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

const sqlite = (): Damageable => {
  const { dir, cleanup } = tempDir();
  const filename = join(dir, 'corrupt.db');
  return {
    store: sqliteStore({ filename }),
    exec: async (statement, params) => {
      const db = new BetterSqlite3(filename);
      try {
        db.prepare(statement.replace(/\$\d+/g, '?')).run(...params);
      } finally {
        db.close();
      }
    },
    close: async () => cleanup(),
  };
};

const postgres = (): Damageable => {
  const schema = freshSchema('corrupt');
  const connectionString = pgUrl();
  return {
    store: postgresStore({ connectionString, schema, poolSize: 2 }),
    exec: async (statement, params) => {
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        await client.query(`SET search_path TO "${schema}"`);
        await client.query(statement, params);
      } finally {
        await client.end();
      }
    },
    close: async () => {},
  };
};

const kinds: [string, () => Damageable][] = [['sqlite', sqlite], ...(onPglite() ? [] : ([['postgres', postgres]] as [string, () => Damageable][]))];

async function corruption(call: Promise<unknown>): Promise<TesseraError> {
  const e = await call.then(
    () => {
      throw new Error('expected STORE_CORRUPT, got a result');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TesseraError);
  expect((e as TesseraError).code).toBe('STORE_CORRUPT');
  return e as TesseraError;
}

for (const [name, make] of kinds) {
  describe(name, () => {
    let target: Damageable;
    let engine: Engine;
    afterEach(async () => {
      await engine.close();
      await target.close();
    });

    async function open(): Promise<Engine> {
      target = make();
      let n = 0;
      engine = await createEngine({ store: target.store, catalog: demoCatalog, clock: testClock('2024-01-31T10:00:00Z'), newId: (p) => `${p}_${++n}` });
      return engine;
    }

    it('a customer row with damaged metadata fails reads of that customer only, naming table and key', async () => {
      const e = await open();
      await e.provisionCustomer({ customerId: 'bad', metadata: { a: 'b' } });
      await e.provisionCustomer({ customerId: 'good' });
      await target.exec('UPDATE customers SET metadata = $1 WHERE customer_id = $2', ['{"a":', 'bad']);
      // Reads and writes of a customer load its row from the store (the view caches entitlements, not rows).
      const err = await corruption(engine.getCustomer('bad'));
      expect(err.details).toMatchObject({ table: 'customers', key: 'bad', column: 'metadata' });
      expect(err.message).toMatch(/customers row "bad"/);
      await corruption(engine.updateCustomer({ customerId: 'bad', name: 'x' }));
      await corruption(engine.reportUsage({ customerId: 'bad', featureId: 'api-calls', value: 1 }));
      // The others keep working, reads and writes.
      expect((await engine.getCustomer('good')).customerId).toBe('good');
      expect((await engine.reportUsage({ customerId: 'good', featureId: 'api-calls', value: 2 })).currentUsage).toBe(2);
      expect((await engine.getMeteredEntitlement({ customerId: 'good', featureId: 'api-calls' })).hasAccess).toBe(true);
    });

    it('a subscription row with damaged add-ons fails that customer, and the sidecar answers 500 without the details', async () => {
      const e = await open();
      const { subscription } = await e.provisionCustomer({ customerId: 'bad', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
      await e.provisionCustomer({ customerId: 'good' });
      await target.exec('UPDATE subscriptions SET addons = $1 WHERE id = $2', ['not json', subscription!.id]);
      const err = await corruption(e.getSubscription(subscription!.id));
      expect(err.details).toMatchObject({ table: 'subscriptions', key: subscription!.id, column: 'addons' });
      expect((await e.getCustomer('good')).customerId).toBe('good');

      const logged: unknown[] = [];
      const app = createSidecar({ engine: e, fullAccessKeys: ['k-0123456789abcdef0123'], onInternalError: (error) => logged.push(error) });
      const res = await app.request('/v1/getSubscription', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k-0123456789abcdef0123' },
        body: JSON.stringify({ subscriptionId: subscription!.id }),
      });
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string; details: Record<string, unknown> } };
      expect(body.error.code).toBe('STORE_CORRUPT');
      expect(body.error.details).toEqual({});
      expect(body.error.message).not.toContain('subscriptions');
      expect(logged).toHaveLength(1);
      expect((logged[0] as TesseraError).details.table).toBe('subscriptions');
    });
  });
}
