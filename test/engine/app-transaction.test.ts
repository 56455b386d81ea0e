import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, TesseraError, type Engine, type MeteredEntitlement } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { TABLES } from '@tessera/sql';
import { tempDir } from './stores.js';
import { checkTxEntities } from '../support/tx-entities.js';
import { PROJECT_LIMIT, createProject, openApp, projectRows, projectsCatalog, type App } from './app-tx-fixture.js';

// engine.transaction on SQLite with the application's own connection (docs/transactions.md):
// the application's rows and Tessera's usage commit together or not at all.

const usageOf = async (engine: Engine, customerId: string): Promise<number> =>
  ((await engine.getMeteredEntitlement({ customerId, featureId: 'projects' })) as MeteredEntitlement).currentUsage;

class Boom extends Error {}

describe('engine.transaction on a shared SQLite connection', () => {
  let dir: ReturnType<typeof tempDir>;
  let filename: string;
  let app: App;
  /** A second engine on the same file, through a connection of its own. */
  let other: Engine;
  let n = 0;
  const newCustomer = async () => {
    const customerId = `c${++n}`;
    await app.engine.provisionCustomer({ customerId });
    return customerId;
  };

  beforeAll(async () => {
    dir = tempDir();
    filename = join(dir.dir, 'app.db');
    app = await openApp(filename);
    other = await createEngine({ store: sqliteStore({ filename, tablePrefix: 'tessera_' }), followIntervalMs: 0 });
  });
  afterAll(async () => {
    await other.close();
    await app.close();
    dir.cleanup();
  });

  it('commits the application row and the usage together; listeners hear after the commit', async () => {
    const customerId = await newCustomer();
    const heard: number[] = [];
    const listener = (e: { customerId: string; currentUsage?: number }) => {
      if (e.customerId === customerId) heard.push(1);
    };
    app.engine.on('usageUpdated', listener as never);
    try {
      const result = await app.engine.transaction(async (tx) => {
        expect(tx.db).toBe(app.db);
        await app.kysely.insertInto('projects').values({ id: 'p1', customer_id: customerId, name: 'one' }).execute();
        const c = await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        expect(heard).toEqual([]);
        // Another connection reads the file as committed: neither the row nor the usage yet.
        expect(await usageOf(other, customerId)).toBe(0);
        return c.granted;
      });
      expect(result).toBe(1);
      expect(heard.length).toBeGreaterThan(0);
    } finally {
      app.engine.off('usageUpdated', listener as never);
    }
    expect(projectRows(app.db, customerId)).toBe(1);
    expect(await usageOf(app.engine, customerId)).toBe(1);
    await other.syncNow();
    expect(await usageOf(other, customerId)).toBe(1);
  });

  it('a throw in the callback rolls back the row and the usage; a check started meanwhile never sees them', async () => {
    const customerId = await newCustomer();
    expect(await usageOf(app.engine, customerId)).toBe(0);
    let during: Promise<number> | undefined;
    await expect(
      app.engine.transaction(async (tx) => {
        await app.kysely.insertInto('projects').values({ id: 'p2', customer_id: customerId, name: 'two' }).execute();
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 5 });
        await tx.reportUsage({ customerId, featureId: 'projects', value: 7 });
        // Answered from the view cached before the transaction (a read of the store would be refused, CONFLICT).
        during = usageOf(app.engine, customerId);
        expect(await usageOf(other, customerId)).toBe(0);
        throw new Boom('the application changed its mind');
      }),
    ).rejects.toBeInstanceOf(Boom);
    expect(await during).toBe(0);
    expect(projectRows(app.db, customerId)).toBe(0);
    expect(await usageOf(app.engine, customerId)).toBe(0);
    expect(await usageOf(other, customerId)).toBe(0);
  });

  it('a tx call that fails rolls back everything even when the callback catches it', async () => {
    const customerId = await newCustomer();
    const error = await app.engine
      .transaction(async (tx) => {
        await app.kysely.insertInto('projects').values({ id: 'p3', customer_id: customerId, name: 'three' }).execute();
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 2 });
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: PROJECT_LIMIT }).catch(() => undefined);
        return 'caught';
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraError);
    expect((error as TesseraError).code).toBe('USAGE_LIMIT_EXCEEDED');
    expect(projectRows(app.db, customerId)).toBe(0);
    expect(await usageOf(app.engine, customerId)).toBe(0);
    // The same for a call refused at the boundary, before it wrote anything.
    await expect(
      app.engine.transaction(async (tx) => {
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        await tx.consumeUsage({ customerId, featureId: 'projects', amount: -1 }).catch(() => undefined);
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await usageOf(app.engine, customerId)).toBe(0);
  });

  it('reservations and events commit with the transaction; tx is dead after it', async () => {
    const customerId = await newCustomer();
    let kept: Parameters<Parameters<Engine['transaction']>[0]>[0] | undefined;
    await app.engine.transaction(async (tx) => {
      kept = tx;
      const r = await tx.reserveUsage({ customerId, featureId: 'projects', amount: 3, expiresIn: 60_000 });
      await tx.commitReservation({ reservationId: r.reservationId, amount: 2 });
      const r2 = await tx.reserveUsage({ customerId, featureId: 'projects', amount: 4, expiresIn: 60_000 });
      await tx.releaseReservation({ reservationId: r2.reservationId });
      // Calls made together run one after another on the one transaction.
      await Promise.all([tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 }), tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 })]);
    });
    expect(await usageOf(app.engine, customerId)).toBe(4);
    await expect(kept!.consumeUsage({ customerId, featureId: 'projects', amount: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await usageOf(app.engine, customerId)).toBe(4);
  });

  it("waits for the application's own transaction on the connection instead of joining it", async () => {
    const customerId = await newCustomer();
    let consumed: Promise<unknown> | undefined;
    await expect(
      app.kysely.transaction().execute(async (trx) => {
        await trx.insertInto('projects').values({ id: `${customerId}-k`, customer_id: customerId, name: 'k' }).execute();
        consumed = app.engine.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw new Boom('the application rolls back its own transaction');
      }),
    ).rejects.toBeInstanceOf(Boom);
    await consumed;
    // Tessera's write ran after the application's rollback, in a transaction of its own.
    expect(projectRows(app.db, customerId)).toBe(0);
    expect(await usageOf(app.engine, customerId)).toBe(1);
  });

  it("leaves the application's user_version, pragmas and connection alone", async () => {
    const db = new Database(join(dir.dir, 'own.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('user_version = 42');
    db.pragma('busy_timeout = 1234');
    const engine = await createEngine({ store: sqliteStore({ database: db, tablePrefix: 'tessera_' }), catalog: projectsCatalog() });
    await engine.provisionCustomer({ customerId: 'acme' });
    await engine.consumeUsage({ customerId: 'acme', featureId: 'projects', amount: 1 });
    await engine.close();
    expect(db.open).toBe(true);
    expect(db.pragma('user_version', { simple: true })).toBe(42);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    // Every table and index of Tessera's is under the prefix; none takes a name the application might use.
    const names = (db.prepare("select name from sqlite_master where type in ('table', 'index') and name not like 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
    for (const table of TABLES) expect(names).toContain(`tessera_${table}`);
    expect(names.filter((n) => !n.startsWith('tessera_'))).toEqual([]);
    // Opening again finds the schema current (recorded in tessera_schema_migrations).
    const again = await createEngine({ store: sqliteStore({ database: db, tablePrefix: 'tessera_' }) });
    expect(await usageOf(again, 'acme')).toBe(1);
    await again.close();
    db.close();
  });

  it('refuses a shared file not in WAL mode, and bad options', async () => {
    const db = new Database(join(dir.dir, 'delete-mode.db'));
    const store = sqliteStore({ database: db });
    await expect(store.open()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining("journal_mode = WAL") });
    expect(db.open).toBe(true);
    db.close();
    expect(() => sqliteStore({ database: db })).toThrow(/closed/);
    expect(() => sqliteStore({ filename: 'x.db', tablePrefix: 'bad-prefix' })).toThrow(TesseraError);
    expect(() => sqliteStore({ filename: 'x.db', database: app.db })).toThrow(/either filename or database/);
  });

  it("refuses the engine's own calls inside its callback (they would wait for the transaction forever) with CONFLICT", async () => {
    const memory = await createEngine({ store: memoryStore(), catalog: projectsCatalog() });
    try {
      for (const engine of [app.engine, memory]) {
        const customerId = `deadlock-${++n}`;
        await engine.provisionCustomer({ customerId });
        const calls = {
          consumeUsage: () => engine.consumeUsage({ customerId, featureId: 'projects', amount: 1 }),
          getActiveSubscriptions: () => engine.getActiveSubscriptions({ customerId }),
          getUsageHistory: () => engine.getUsageHistory({ customerId, featureId: 'projects', start: new Date(0), end: new Date() }),
        };
        for (const [name, call] of Object.entries(calls)) {
          const e = await engine
            .transaction(async (tx) => {
              await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
              return call().then(
                () => 'answered',
                (err: TesseraError) => err,
              );
            })
            .catch((err: unknown) => err);
          expect(e, name).toBeInstanceOf(TesseraError);
          expect((e as TesseraError).code, name).toBe('CONFLICT');
          expect((e as TesseraError).message, name).toContain('tx.');
        }
        // Outside the callback the same calls run; the transactions whose callback returned the refusal committed.
        await engine.getActiveSubscriptions({ customerId });
        expect(await usageOf(engine, customerId)).toBe(3);
      }
    } finally {
      await memory.close();
    }
  });

  it('creates and deletes entities (and their seats) in the transaction, on SQLite and memory', async () => {
    await checkTxEntities(app.engine, await newCustomer());
    const memory = await createEngine({ store: memoryStore(), catalog: projectsCatalog() });
    try {
      await memory.provisionCustomer({ customerId: 'acme' });
      await checkTxEntities(memory, 'acme');
    } finally {
      await memory.close();
    }
  });

  it('works on the memory store too (no connection to share)', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: projectsCatalog() });
    await engine.provisionCustomer({ customerId: 'acme' });
    await expect(
      engine.transaction(async (tx) => {
        expect(tx.db).toBeUndefined();
        await tx.consumeUsage({ customerId: 'acme', featureId: 'projects', amount: 2 });
        throw new Boom('no');
      }),
    ).rejects.toBeInstanceOf(Boom);
    expect(await usageOf(engine, 'acme')).toBe(0);
    await engine.transaction((tx) => tx.consumeUsage({ customerId: 'acme', featureId: 'projects', amount: 2 }));
    expect(await usageOf(engine, 'acme')).toBe(2);
    await engine.close();
  });

  type Step = 'commit' | 'throw-after-both' | 'throw-between' | 'over-limit';
  it('property: usage always equals the committed project rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<Step>('commit', 'throw-after-both', 'throw-between', 'over-limit'), { minLength: 1, maxLength: 8 }), async (steps) => {
        const customerId = await newCustomer();
        let i = 0;
        for (const step of steps) {
          const id = `${customerId}-${i++}`;
          await app.engine
            .transaction(async (tx) => {
              await app.kysely.insertInto('projects').values({ id, customer_id: customerId, name: step }).execute();
              if (step === 'throw-between') throw new Boom(step);
              await tx.consumeUsage({ customerId, featureId: 'projects', amount: step === 'over-limit' ? PROJECT_LIMIT + 1 : 1 });
              if (step === 'throw-after-both') throw new Boom(step);
            })
            .catch((e: unknown) => {
              if (!(e instanceof Boom) && (e as TesseraError).code !== 'USAGE_LIMIT_EXCEEDED') throw e;
            });
          const rows = projectRows(app.db, customerId);
          expect(rows).toBe(steps.slice(0, i).filter((s) => s === 'commit').length);
          expect(await usageOf(app.engine, customerId)).toBe(rows);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('createProject from the fixture (the docs example) counts each committed row once', async () => {
    const customerId = await newCustomer();
    await createProject(app, customerId, `${customerId}-a`);
    await expect(createProject(app, customerId, `${customerId}-a`)).rejects.toThrow(/UNIQUE/);
    expect(projectRows(app.db, customerId)).toBe(1);
    expect(await usageOf(app.engine, customerId)).toBe(1);
  });
});
