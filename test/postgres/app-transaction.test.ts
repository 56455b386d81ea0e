/**
 * engine.transaction on PostgreSQL (docs/transactions.md#postgresql): the application's statements
 * on `tx.db` / `tx.connection` and Tessera's writes commit together or not at all; a check never
 * sees uncommitted usage; a serialization failure runs the callback again (`tx.attempt`), at most
 * `maxAttempts` times. Needs a PostgreSQL server (tx.db is kysely over pg; PGlite pools answer arrays).
 */
import fc from 'fast-check';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraError, createEngine, testPaymentProvider, type Engine } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';
import { rejection } from '../support/rejection.js';
import { checkTxEntities } from '../support/tx-entities.js';
import { createProject, openPgApp, projectRows, projectUsage, type AppDb, type PgApp } from './app-tx-pg-fixture.js';

const LIMIT = 1000;
class Boom extends Error {}

if (!onPglite()) describe('engine.transaction on PostgreSQL', () => {
  let app: PgApp;
  /** A second engine on the same schema, as another process would have. */
  let other: Engine;
  let schema: string;
  let n = 0;
  const newCustomer = async () => {
    const customerId = `c${++n}`;
    await app.engine.provisionCustomer({ customerId });
    return customerId;
  };

  beforeAll(async () => {
    schema = freshSchema('apptx');
    app = await openPgApp(pgUrl(), schema, LIMIT);
    await app.pool.query('create table if not exists counters (id text primary key, n int not null)');
    // It follows the change feed (LISTEN/NOTIFY): what another process commits reaches its checks.
    other = await createEngine({ store: postgresStore({ connectionString: pgUrl(), schema, poolSize: 2 }) });
  });
  afterAll(async () => {
    await other?.close();
    await app?.close();
  });

  it('commits the row and the usage together; nobody sees either before the commit', async () => {
    const customerId = await newCustomer();
    const heard: string[] = [];
    const listener = (e: { customerId: string }) => {
      if (e.customerId === customerId) heard.push(e.customerId);
    };
    app.engine.on('usageUpdated', listener as never);
    try {
      const granted = await app.engine.transaction(async (tx) => {
        expect(tx.attempt).toBe(1);
        const db = tx.db as Kysely<AppDb>;
        await db.insertInto('projects').values({ id: `${customerId}-a`, customer_id: customerId, name: 'a' }).execute();
        const c = await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        // The raw connection is the same transaction: it sees the row kysely inserted.
        const raw = tx.connection as pg.ClientBase;
        expect((await raw.query('select count(*)::int as n from projects where customer_id = $1', [customerId])).rows[0].n).toBe(1);
        // Outside: the application's pool, this engine's checks and another engine see nothing yet.
        expect(await projectRows(app, customerId)).toBe(0);
        expect(await projectUsage(app.engine, customerId)).toBe(0);
        expect(await projectUsage(other, customerId)).toBe(0);
        expect(heard).toEqual([]);
        return c.granted;
      });
      expect(granted).toBe(1);
      expect(heard).toEqual([customerId]);
      expect(await projectRows(app, customerId)).toBe(1);
      expect(await projectUsage(app.engine, customerId)).toBe(1);
      // NOTIFY is sent with the COMMIT: the other engine hears of the change and drops its cached 0.
      await expect.poll(() => projectUsage(other, customerId), { timeout: 5_000 }).toBe(1);
    } finally {
      app.engine.off('usageUpdated', listener as never);
    }
  });

  it('rolls back both when the callback throws, when a tx call fails, when a statement fails', async () => {
    const customerId = await newCustomer();
    await createProject(app, customerId, `${customerId}-kept`);
    const thrown = await app.engine
      .transaction(async (tx) => {
        await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${customerId}-x`, customer_id: customerId, name: 'x' }).execute();
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        throw new Boom('after both writes');
      })
      .catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(Boom);
    // Over the limit: the callback catches the refusal, the transaction still rolls back.
    const refused = await rejection(
      app.engine.transaction(async (tx) => {
        await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${customerId}-y`, customer_id: customerId, name: 'y' }).execute();
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: LIMIT }).catch(() => undefined);
      }),
    );
    expect((refused as TesseraError).code).toBe('USAGE_LIMIT_EXCEEDED');
    // The application's own statement fails (duplicate key) after the consumption: its pg error comes back as it is.
    const duplicate = await app.engine
      .transaction(async (tx) => {
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${customerId}-kept`, customer_id: customerId, name: 'dup' }).execute();
      })
      .catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(pg.DatabaseError);
    expect((duplicate as pg.DatabaseError).code).toBe('23505');
    expect(await projectRows(app, customerId)).toBe(1);
    expect(await projectUsage(app.engine, customerId)).toBe(1);
    await expect.poll(() => projectUsage(other, customerId), { timeout: 5_000 }).toBe(1);
  });

  it('property: under random concurrent commits, rollbacks and errors, usage equals committed rows', async () => {
    type Op = 'commit' | 'throw-after' | 'throw-before' | 'refused' | 'duplicate';
    const op = fc.constantFrom<Op>('commit', 'commit', 'throw-after', 'throw-before', 'refused', 'duplicate');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }), async (rounds) => {
        const customerId = await newCustomer();
        let k = 0;
        const run = async (o: Op) => {
          const id = `${customerId}-${++k}`;
          await app.engine
            .transaction(async (tx) => {
              const db = tx.db as Kysely<AppDb>;
              if (o === 'throw-before') throw new Boom('before any write');
              // A duplicate of the first project's id: the insert fails after the consumption.
              if (o === 'duplicate') await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
              await db.insertInto('projects').values({ id: o === 'duplicate' ? `${customerId}-1` : id, customer_id: customerId, name: o }).execute();
              if (o !== 'duplicate') await tx.consumeUsage({ customerId, featureId: 'projects', amount: o === 'refused' ? LIMIT + 1 : 1 });
              if (o === 'throw-after') throw new Boom('after both writes');
            })
            .catch((e: unknown) => {
              const expected = e instanceof Boom || (e as TesseraError).code === 'USAGE_LIMIT_EXCEEDED' || (e as { code?: string }).code === '23505';
              if (!expected) throw e;
            });
        };
        // Each round's transactions run side by side: they conflict on the customer's usage row.
        for (const round of rounds) await Promise.all(round.map(run));
        const rows = await projectRows(app, customerId);
        expect(await projectUsage(app.engine, customerId)).toBe(rows);
        await expect.poll(() => projectUsage(other, customerId), { timeout: 5_000 }).toBe(rows);
      }),
      { numRuns: 12 },
    );
  });

  it('a serialization failure runs the callback again; maxAttempts bounds the runs', async () => {
    const customerId = await newCustomer();
    await app.pool.query(`insert into counters values ($1, 0)`, [customerId]);
    /** Two transactions that both read the counter before either writes it: one of them must run again. */
    const race = (maxAttempts?: number) => {
      let read = 0;
      let bothRead!: () => void;
      const barrier = new Promise<void>((resolve) => (bothRead = resolve));
      const attempts: number[][] = [[], []];
      const one = (w: number) =>
        app.engine.transaction(
          async (tx) => {
            attempts[w]!.push(tx.attempt);
            const db = tx.db as Kysely<{ counters: { id: string; n: number } }>;
            await db.selectFrom('counters').select('n').where('id', '=', customerId).executeTakeFirstOrThrow();
            if (tx.attempt === 1) {
              if (++read === 2) bothRead();
              await barrier;
            }
            await db.updateTable('counters').set({ n: sql`n + 1` }).where('id', '=', customerId).execute();
            await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
          },
          maxAttempts === undefined ? undefined : { maxAttempts },
        );
      return { done: Promise.allSettled([one(0), one(1)]), attempts };
    };
    const first = race();
    const settled = await first.done;
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(first.attempts.flat().sort()).toEqual([1, 1, 2]);
    expect((await app.pool.query('select n from counters where id = $1', [customerId])).rows[0].n).toBe(2);
    expect(await projectUsage(app.engine, customerId)).toBe(2);

    const bounded = race(1);
    const outcomes = await bounded.done;
    const failed = outcomes.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0]!.reason as TesseraError).code).toBe('STORE_UNAVAILABLE');
    expect(bounded.attempts.flat()).toEqual([1, 1]);
    // The loser wrote nothing: one more on each side.
    expect((await app.pool.query('select n from counters where id = $1', [customerId])).rows[0].n).toBe(3);
    expect(await projectUsage(app.engine, customerId)).toBe(3);
  });

  it('a re-run starts clean: one provider call, one checkout, one idempotency record, listeners told once', async () => {
    const payments = testPaymentProvider();
    const paid = await openPgApp(pgUrl(), schema, LIMIT, { paymentProvider: payments });
    try {
      const customers = [`pay-${++n}`, `pay-${++n}`];
      for (const customerId of customers) await paid.engine.provisionCustomer({ customerId, subscriptionParams: null });
      const counter = `retry-${n}`;
      await app.pool.query(`insert into counters values ($1, 0)`, [counter]);
      const heard: string[] = [];
      const listener = (e: { customerId: string }) => heard.push(e.customerId);
      paid.engine.on('usageUpdated', listener as never);
      let read = 0;
      let bothRead!: () => void;
      const barrier = new Promise<void>((resolve) => (bothRead = resolve));
      const attempts: number[] = [];
      const one = (customerId: string) =>
        paid.engine.transaction(async (tx) => {
          attempts.push(tx.attempt);
          const db = tx.db as Kysely<{ counters: { id: string; n: number } }>;
          await db.selectFrom('counters').select('n').where('id', '=', counter).executeTakeFirstOrThrow();
          await tx.reportUsage({ customerId, featureId: 'projects', value: 1, idempotencyKey: `once-${customerId}` });
          const sub = await tx.provisionSubscription({ customerId, planId: 'basic', billingPeriod: 'MONTHLY' });
          if (tx.attempt === 1) {
            if (++read === 2) bothRead();
            await barrier;
          }
          await db.updateTable('counters').set({ n: sql`n + 1` }).where('id', '=', counter).execute();
          return sub;
        });
      const subs = await Promise.all(customers.map(one));
      expect(attempts.sort()).toEqual([1, 1, 2]);
      for (const sub of subs) expect(await sub.checkout!.url()).toContain(sub.id);
      expect(payments.checkouts.filter((c) => customers.includes(c.customerId)).map((c) => c.subscriptionId).sort()).toEqual(subs.map((s) => s.id).sort());
      const stored = await app.pool.query('select customer_id, count(*)::int as n from provider_calls where customer_id = any($1) group by customer_id', [customers]);
      expect(stored.rows.map((r: { n: number }) => r.n)).toEqual([1, 1]);
      const keys = await app.pool.query('select count(*)::int as n from idempotency where key like $1', ['once-pay-%']);
      expect(keys.rows[0].n).toBe(2);
      expect(heard.filter((c) => customers.includes(c)).sort()).toEqual([...customers].sort());
      paid.engine.off('usageUpdated', listener as never);
    } finally {
      await paid.close();
    }
  });

  it('a statement of the application that failed and was caught still fails the transaction (COMMIT would silently roll back)', async () => {
    const customerId = await newCustomer();
    await createProject(app, customerId, `${customerId}-kept`);
    const heard: number[] = [];
    const listener = (e: { customerId: string; currentUsage: number }) => {
      if (e.customerId === customerId) heard.push(e.currentUsage);
    };
    app.engine.on('usageUpdated', listener as never);
    try {
      const swallowed = await app.engine
        .transaction(async (tx) => {
          await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
          // The duplicate key aborts the transaction; catching the error does not undo that.
          await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${customerId}-kept`, customer_id: customerId, name: 'dup' }).execute().catch(() => undefined);
          return 'resolved';
        })
        .catch((e: unknown) => e);
      expect(swallowed).toBeInstanceOf(pg.DatabaseError);
      expect((swallowed as pg.DatabaseError).code).toBe('23505');
      expect(heard).toEqual([]);
      // Without a write of Tessera's after it, COMMIT alone would have rolled back without a word.
      const onlyApp = await app.engine
        .transaction(async (tx) => {
          const db = tx.db as Kysely<AppDb>;
          await db.insertInto('projects').values({ id: `${customerId}-lost`, customer_id: customerId, name: 'lost' }).execute();
          await db.insertInto('projects').values({ id: `${customerId}-kept`, customer_id: customerId, name: 'dup' }).execute().catch(() => undefined);
        })
        .catch((e: unknown) => e);
      expect((onlyApp as pg.DatabaseError).code).toBe('23505');
      // A statement the application rolled back to its own savepoint leaves the transaction usable.
      await app.engine.transaction(async (tx) => {
        const raw = tx.connection as pg.ClientBase;
        await raw.query('SAVEPOINT mine');
        await raw.query('insert into projects values ($1, $2, $1)', [`${customerId}-kept`, customerId]).catch(() => raw.query('ROLLBACK TO SAVEPOINT mine'));
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
      });
    } finally {
      app.engine.off('usageUpdated', listener as never);
    }
    expect(await projectRows(app, customerId)).toBe(1);
    expect(await projectUsage(app.engine, customerId)).toBe(2);
  });

  it("refuses the engine's own writes inside its callback (outside the transaction, perhaps waiting on its row locks); its reads answer what was committed", async () => {
    const customerId = await newCustomer();
    const outcome = await app.engine.transaction(async (tx) => {
      await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
      const read = await projectUsage(app.engine, customerId);
      const write = await app.engine.consumeUsage({ customerId, featureId: 'projects', amount: 1 }).then(
        () => 'written',
        (e: TesseraError) => e,
      );
      return { read, write };
    });
    expect(outcome.read).toBe(0);
    expect(outcome.write).toBeInstanceOf(TesseraError);
    expect((outcome.write as TesseraError).code).toBe('CONFLICT');
    expect((outcome.write as TesseraError).message).toContain('tx.');
    expect(await projectUsage(app.engine, customerId)).toBe(1);
  });

  it('creates and deletes entities (and their seats) in the transaction', async () => {
    await checkTxEntities(app.engine, await newCustomer());
  });

  it('refuses a nested db.transaction(), statements after the callback, and bad options', async () => {
    const customerId = await newCustomer();
    let kept: { db: Kysely<AppDb>; raw: pg.ClientBase } | undefined;
    const nested = await rejection(
      app.engine.transaction(async (tx) => {
        kept = { db: tx.db as Kysely<AppDb>, raw: tx.connection as pg.ClientBase };
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        await (tx.db as Kysely<AppDb>).transaction().execute(async () => undefined);
      }),
    );
    expect((nested as TesseraError).code).toBe('CONFLICT');
    expect(await projectUsage(app.engine, customerId)).toBe(0);
    expect(((await rejection(kept!.db.selectFrom('projects').selectAll().execute())) as TesseraError).code).toBe('CONFLICT');
    expect(((await rejection(kept!.raw.query('select 1'))) as TesseraError).code).toBe('CONFLICT');
    for (const bad of [{ maxAttempts: 0 }, { maxAttempts: 1.5 }, { retries: 2 }]) {
      const e = (await rejection(app.engine.transaction(async () => undefined, bad as never))) as TesseraError;
      expect(e.code).toBe('INVALID_ARGUMENT');
    }
  });

  it("finds the application's tables in public after Tessera's schema", async () => {
    const table = `orders_${schema}`;
    const admin = new pg.Pool({ connectionString: pgUrl(), max: 1 });
    try {
      await admin.query(`create table public.${table} (id text primary key)`);
      const customerId = await newCustomer();
      await app.engine.transaction(async (tx) => {
        await (tx.db as Kysely<Record<string, { id: string }>>).insertInto(table).values({ id: 'o1' }).execute();
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
      });
      expect((await admin.query(`select count(*)::int as n from public.${table}`)).rows[0].n).toBe(1);
      expect(await projectUsage(app.engine, customerId)).toBe(1);
    } finally {
      await admin.query(`drop table if exists public.${table}`);
      await admin.end();
    }
  });
});
