/**
 * engine.transaction(fn, { connection }) on PostgreSQL (docs/transactions.md#in-your-own-transaction):
 * Tessera's writes join a transaction the application opened on its own pg client; the application
 * commits or rolls back; the engine learns of the commit through the change feed.
 */
import fc from 'fast-check';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, testPaymentProvider, type Engine, type TesseraError, type TransactionProvisionResult } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';
import { rejection } from '../support/rejection.js';
import { openPgApp, projectRows, projectUsage, projectsCatalog, type AppDb, type PgApp } from './app-tx-pg-fixture.js';

const LIMIT = 5;

if (!onPglite()) describe('engine.transaction in the application’s own PostgreSQL transaction', () => {
  let app: PgApp;
  let other: Engine;
  let schema: string;
  let n = 0;
  const payments = testPaymentProvider();
  const newCustomer = async () => {
    const customerId = `c${++n}`;
    await app.engine.provisionCustomer({ customerId });
    return customerId;
  };
  /** A connection of the application's pool, inside BEGIN at `level`. */
  const begin = async (level = 'SERIALIZABLE') => {
    const client = await app.pool.connect();
    await client.query(`BEGIN ISOLATION LEVEL ${level}`);
    return client;
  };
  const insert = (client: pg.PoolClient, id: string, customerId: string) => client.query('insert into projects values ($1, $2, $1)', [id, customerId]);

  beforeAll(async () => {
    schema = freshSchema('owntx');
    app = await openPgApp(pgUrl(), schema, LIMIT, { paymentProvider: payments, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    other = await createEngine({ store: postgresStore({ connectionString: pgUrl(), schema, poolSize: 2 }) });
  });
  afterAll(async () => {
    await other?.close();
    await app?.close();
  });

  it('commits with the application: nothing is seen before its COMMIT, the feed brings it after', async () => {
    const customerId = await newCustomer();
    const heard: number[] = [];
    const listener = (e: { customerId: string; currentUsage: number }) => {
      if (e.customerId === customerId) heard.push(e.currentUsage);
    };
    app.engine.on('usageUpdated', listener as never);
    const client = await begin();
    try {
      await insert(client, `${customerId}-a`, customerId);
      const granted = await app.engine.transaction(
        async (tx) => {
          // The application's own connection, queued with Tessera's statements.
          expect((await (tx.connection as pg.ClientBase).query('select count(*)::int as n from projects where customer_id = $1', [customerId])).rows[0].n).toBe(1);
          await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${customerId}-b`, customer_id: customerId, name: 'b' }).execute();
          return (await tx.consumeUsage({ customerId, featureId: 'projects', amount: 2 })).granted;
        },
        { connection: client },
      );
      expect(granted).toBe(2);
      // Tessera has not committed anything: the application has not.
      expect((await client.query('select count(*)::int as n from projects where customer_id = $1', [customerId])).rows[0].n).toBe(2);
      expect(await projectRows(app, customerId)).toBe(0);
      expect(await projectUsage(app.engine, customerId)).toBe(0);
      expect(await projectUsage(other, customerId)).toBe(0);
      expect(heard).toEqual([]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await projectRows(app, customerId)).toBe(2);
    await expect.poll(() => projectUsage(app.engine, customerId), { timeout: 5_000 }).toBe(2);
    await expect.poll(() => projectUsage(other, customerId), { timeout: 5_000 }).toBe(2);
    await expect.poll(() => heard, { timeout: 5_000 }).toEqual([2]);
    app.engine.off('usageUpdated', listener as never);
  });

  it("takes the writer lock of Tessera's schema whatever the application's search_path: the feed waits for its COMMIT", async () => {
    const customerId = await newCustomer();
    const later = await newCustomer();
    expect(await projectUsage(other, customerId)).toBe(0); // cached by the other engine
    const client = new pg.Client({ connectionString: pgUrl() }); // search_path: the server's default, not Tessera's schema
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await app.engine.transaction((tx) => tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 }), { connection: client });
      const locks = await app.pool.query(
        `select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = 7353 and objsubid = 2 and pid = $1 and objid = (hashtext($2)::bigint & 4294967295)::oid`,
        [(client as unknown as { processID: number }).processID, schema],
      );
      expect(locks.rows[0].n).toBe(1);
      // A later change commits first: the feed must wait at the application's seq, not step over it.
      await app.engine.consumeUsage({ customerId: later, featureId: 'projects', amount: 1 });
      await expect.poll(() => projectUsage(other, later), { timeout: 5_000 }).toBe(1);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    await expect.poll(() => projectUsage(other, customerId), { timeout: 5_000 }).toBe(1);
    await expect.poll(() => projectUsage(app.engine, customerId), { timeout: 5_000 }).toBe(1);
  });

  it('rolls back with the application', async () => {
    const customerId = await newCustomer();
    const client = await begin();
    try {
      await insert(client, `${customerId}-a`, customerId);
      await app.engine.transaction((tx) => tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 }), { connection: client });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    // A later write of this engine is followed: by then the rolled-back seq is settled and skipped.
    await app.engine.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
    expect(await projectRows(app, customerId)).toBe(0);
    expect(await projectUsage(app.engine, customerId)).toBe(1);
    await expect.poll(() => projectUsage(other, customerId), { timeout: 5_000 }).toBe(1);
  });

  it('a refused tx call undoes Tessera’s part only (a savepoint); the application still decides', async () => {
    const customerId = await newCustomer();
    const client = await begin();
    try {
      await insert(client, `${customerId}-kept`, customerId);
      const e = await rejection(
        app.engine.transaction(
          async (tx) => {
            await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${customerId}-undone`, customer_id: customerId, name: 'x' }).execute();
            await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
            await tx.consumeUsage({ customerId, featureId: 'projects', amount: LIMIT });
          },
          { connection: client },
        ),
      );
      expect(e.code).toBe('USAGE_LIMIT_EXCEEDED');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await projectRows(app, customerId)).toBe(1);
    await app.engine.syncNow();
    expect(await projectUsage(app.engine, customerId)).toBe(0);
  });

  it('a statement of the application that failed in fn and was caught: rejected with its error, Tessera’s part undone, the transaction usable', async () => {
    const customerId = await newCustomer();
    const client = await begin();
    try {
      await insert(client, `${customerId}-kept`, customerId);
      const e = await app.engine
        .transaction(
          async (tx) => {
            await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
            await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${customerId}-kept`, customer_id: customerId, name: 'dup' }).execute().catch(() => undefined);
          },
          { connection: client },
        )
        .catch((err: unknown) => err);
      expect((e as pg.DatabaseError).code).toBe('23505');
      expect(client.getTransactionStatus()).toBe('T');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await projectRows(app, customerId)).toBe(1);
    await app.engine.syncNow();
    expect(await projectUsage(app.engine, customerId)).toBe(0);
  });

  it('property: concurrent application transactions, committed, rolled back or refused, retried by the application on 40001: usage equals committed rows', async () => {
    type Op = 'commit' | 'rollback' | 'refused';
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.constantFrom<Op>('commit', 'commit', 'rollback', 'refused'), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), async (rounds) => {
        const customerId = await newCustomer();
        let k = 0;
        const run = async (op: Op) => {
          const id = `${customerId}-${++k}`;
          // The application's retry loop: a serialization failure ends its transaction; run it all again.
          for (;;) {
            const client = await begin();
            try {
              await insert(client, id, customerId);
              const refused = await app.engine
                .transaction((tx) => tx.consumeUsage({ customerId, featureId: 'projects', amount: op === 'refused' ? LIMIT + 1 : 1 }), { connection: client })
                .then(
                  () => false,
                  (e: unknown) => {
                    if ((e as TesseraError).code === 'USAGE_LIMIT_EXCEEDED') return true;
                    throw e;
                  },
                );
              // Refused: the application drops its row too (it decides; Tessera's part is already undone).
              await client.query(op === 'rollback' || refused ? 'ROLLBACK' : 'COMMIT');
              return;
            } catch (e) {
              await client.query('ROLLBACK').catch(() => undefined);
              if ((e as { code?: string }).code !== '40001' && (e as { code?: string }).code !== '40P01') throw e;
            } finally {
              client.release();
            }
          }
        };
        for (const round of rounds) await Promise.all(round.map(run));
        const rows = await projectRows(app, customerId);
        expect(rows).toBeLessThanOrEqual(LIMIT);
        await expect.poll(() => projectUsage(app.engine, customerId), { timeout: 5_000 }).toBe(rows);
      }),
      { numRuns: 8 },
    );
  });

  it('refuses a connection that cannot hold the writes safely, and stores that cannot join', async () => {
    const customerId = await newCustomer();
    const consume = (connection: unknown) => app.engine.transaction((tx) => tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 }), { connection });
    const idle = await app.pool.connect();
    try {
      expect((await rejection(consume(idle))).code).toBe('INVALID_ARGUMENT');
    } finally {
      idle.release();
    }
    const committed = await begin('READ COMMITTED');
    try {
      const e = await rejection(consume(committed));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain('SERIALIZABLE');
      // Nothing was sent that breaks the application's transaction.
      await insert(committed, `${customerId}-rc`, customerId);
      await committed.query('COMMIT');
    } finally {
      committed.release();
    }
    const client = await begin();
    try {
      const e = (await rejection(app.engine.transaction(async () => undefined, { connection: client, maxAttempts: 3 }))) as TesseraError;
      expect(e.code).toBe('INVALID_ARGUMENT');
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await rejection(consume({ query: () => undefined }))).code).toBe('INVALID_ARGUMENT');
    const memory = await createEngine({ store: memoryStore(), catalog: projectsCatalog(LIMIT) });
    try {
      expect((await rejection(memory.transaction(async () => undefined, { connection: {} }))).code).toBe('INVALID_ARGUMENT');
    } finally {
      await memory.close();
    }
    expect(await projectUsage(app.engine, customerId)).toBe(0);
  });

  it('tx.provisionSubscription: the checkout is made by checkout.url() once the application committed', async () => {
    const customerId = `pay${++n}`;
    await app.engine.provisionCustomer({ customerId, subscriptionParams: null });
    const before = payments.checkouts.length;
    const client = await begin();
    let provisioned: TransactionProvisionResult;
    try {
      provisioned = await app.engine.transaction((tx) => tx.provisionSubscription({ customerId, planId: 'basic', billingPeriod: 'MONTHLY' }), { connection: client });
      expect(provisioned.status).toBe('PAYMENT_REQUIRED');
      expect((await rejection(provisioned.checkout!.url())).code).toBe('CONFLICT');
      expect(payments.checkouts.length).toBe(before);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const url = await provisioned!.checkout!.url();
    expect(url).toContain(provisioned!.id);
    expect(await provisioned!.checkout!.url()).toBe(url);
    expect(payments.checkouts.length).toBe(before + 1);
  });
});
