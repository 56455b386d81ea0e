/**
 * The hot-row turn lock (a session advisory lock, packages/postgres/README.md#hot-rows) beside
 * engine.transaction: a session lock left held would make the next writer of that row wait
 * forever. After a commit, a rollback, a re-run and a thrown callback, no advisory lock is held
 * and another engine's consumeUsage of the same row goes through; a commit made in the
 * application's own transaction ({ connection }, whose NOTIFY carries no seq) reaches another
 * engine through its notification alone.
 */
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type MeteredEntitlement } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';
import { openPgApp, projectUsage, projectsCatalog, type PgApp } from './app-tx-pg-fixture.js';

const LIMIT = 1000;
class Boom extends Error {}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or a rejection after 5 s: a writer stuck behind a leaked lock fails the test instead of hanging it. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer!: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after 5 s`)), 5000)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

if (!onPglite()) describe('postgres: turn locks and notifications beside engine.transaction', () => {
  let app: PgApp;
  /** A second engine on the same schema, as another process would have; it hears commits by NOTIFY only (no polling). */
  let other: Engine;
  let schema: string;
  let n = 0;
  const newCustomer = async () => {
    const customerId = `c${++n}`;
    await app.engine.provisionCustomer({ customerId });
    return customerId;
  };
  /** Advisory locks held on the run's server by anyone (transaction-level ones end with their transaction). */
  const advisoryLocks = async () => Number((await app.pool.query(`select count(*)::int as n from pg_locks where locktype = 'advisory'`)).rows[0].n);
  /** A plain consumeUsage of the row by the other engine: it takes the row's turn lock, and must get it. */
  const otherConsumes = (customerId: string) => within(other.consumeUsage({ customerId, featureId: 'projects', amount: 1 }), 'another engine consuming the row');

  beforeAll(async () => {
    schema = freshSchema('turnlock');
    app = await openPgApp(pgUrl(), schema, LIMIT);
    await app.pool.query('create table if not exists counters (id text primary key, n int not null)');
    other = await createEngine({ store: postgresStore({ connectionString: pgUrl(), schema, poolSize: 2 }), catalog: projectsCatalog(LIMIT), followIntervalMs: 600_000 });
  });
  afterAll(async () => {
    await other?.close();
    await app?.close();
  });

  it('a plain consumeUsage gives its turn back after a commit and after a refusal', async () => {
    const customerId = await newCustomer();
    await app.engine.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
    await expect(app.engine.consumeUsage({ customerId, featureId: 'projects', amount: LIMIT })).rejects.toMatchObject({ code: 'USAGE_LIMIT_EXCEEDED' });
    expect(await advisoryLocks()).toBe(0);
    expect((await otherConsumes(customerId)).granted).toBe(1);
  });

  it('tx.consumeUsage inside engine.transaction leaves no lock after a commit or a thrown callback', async () => {
    const customerId = await newCustomer();
    await app.engine.transaction(async (tx) => {
      await (tx.db as Kysely<unknown>).executeQuery(sql`select 1`.compile(tx.db as Kysely<unknown>));
      await tx.consumeUsage({ customerId, featureId: 'projects', amount: 2 });
    });
    expect(await advisoryLocks()).toBe(0);
    await expect(
      app.engine.transaction(async (tx) => {
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 5 });
        throw new Boom();
      }),
    ).rejects.toBeInstanceOf(Boom);
    expect(await advisoryLocks()).toBe(0);
    // A refused consumption inside: the transaction fails as a whole.
    await expect(app.engine.transaction((tx) => tx.consumeUsage({ customerId, featureId: 'projects', amount: LIMIT }))).rejects.toMatchObject({ code: 'USAGE_LIMIT_EXCEEDED' });
    expect(await advisoryLocks()).toBe(0);
    expect((await otherConsumes(customerId)).granted).toBe(1);
    expect(await projectUsage(app.engine, customerId)).toBe(3);
  });

  it('a callback run again after a serialization failure leaves no lock either', async () => {
    const customers = [await newCustomer(), await newCustomer()];
    const counter = `turn-${n}`;
    await app.pool.query('insert into counters values ($1, 0)', [counter]);
    let read = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const attempts: number[] = [];
    const one = (customerId: string) =>
      app.engine.transaction(async (tx) => {
        attempts.push(tx.attempt);
        const db = tx.db as Kysely<{ counters: { id: string; n: number } }>;
        await db.selectFrom('counters').select('n').where('id', '=', counter).executeTakeFirstOrThrow();
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        if (tx.attempt === 1) {
          if (++read === 2) bothRead();
          await barrier;
        }
        await db.updateTable('counters').set({ n: sql`n + 1` }).where('id', '=', counter).execute();
      });
    await within(Promise.all(customers.map(one)), 'two conflicting transactions');
    expect(attempts.sort()).toEqual([1, 1, 2]);
    expect(await advisoryLocks()).toBe(0);
    for (const customerId of customers) expect((await otherConsumes(customerId)).granted).toBe(1);
  });

  it("a commit in the application's own transaction reaches another engine by its notification (no seq in it)", async () => {
    const customerId = await newCustomer();
    // The other engine caches the customer's view and usage cell: only the feed can change them.
    await sleep(200); // its LISTEN connection is up
    expect(await projectUsage(other, customerId)).toBe(0);
    const client = new pg.Client({ connectionString: pgUrl(), options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await app.engine.transaction((tx) => tx.consumeUsage({ customerId, featureId: 'projects', amount: 4 }), { connection: client });
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    let seen = 0;
    for (let i = 0; i < 100 && seen !== 4; i++) {
      await sleep(20);
      seen = ((await other.getMeteredEntitlement({ customerId, featureId: 'projects' })) as MeteredEntitlement).currentUsage;
    }
    expect(seen).toBe(4);
    expect(await advisoryLocks()).toBe(0);
    expect((await otherConsumes(customerId)).granted).toBe(1);
  });
});
