/**
 * What only a file-backed store can promise: data outlives the process, the schema migrates
 * forward (and never backward), and several connections (instances here, processes below) on one
 * file see each other's commits while their write transactions exclude each other.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_WINDOW_END, TesseraError, type Store, type StoreTx } from '@tessera/core';
import { sqliteStore, SCHEMA_VERSION, walCheckpointPages, type SqliteStoreOptions } from '@tessera/sqlite';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../packages/sqlite/src/migrations/index.js';
import {
  bareUsage,
  catalogVersion,
  change,
  customer,
  event,
  expectCode,
  idempotency,
  reservation,
  subscription,
  usage,
  usageKey,
} from './conformance/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-durability-'));
let files = 0;
const freshFile = () => join(dir, `db-${++files}.db`);
const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An opened store, closed after the test. */
async function openStore(options: SqliteStoreOptions): Promise<Store> {
  const store = sqliteStore(options);
  opened.push(store);
  await store.open();
  return store;
}

/** Reads the file with a plain connection of its own, outside the store. */
function inspect<T>(filename: string, fn: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(filename);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const cumulativeKey = { ...usageKey(), windowStart: 0, windowEnd: NO_WINDOW_END };
/** A read-modify-write increment that yields between read and write, so overlapping writers would lose updates. */
const increment = (tx: StoreTx, by: string) =>
  (async () => {
    const cell = (await tx.getUsage(cumulativeKey))!;
    await new Promise((r) => setImmediate(r));
    await tx.putUsage({ ...cell, value: cell.value + 1 });
    await tx.appendChange(change({ payload: { by, value: cell.value + 1 } }));
  })();

describe('sqlite store: the file', () => {
  it('keeps every committed record across close and reopen', async () => {
    const filename = freshFile();
    const first = await openStore({ filename });
    await first.transaction('write', async (tx) => {
      await tx.insertCatalogVersion(catalogVersion(1));
      await tx.putCustomer(customer('c1'));
      await tx.putSubscription(subscription('s1', 'c1'));
      await tx.putUsage(usage());
      await tx.addDistinctValue(usageKey(), 'u1');
      await tx.insertEvents([event('e1', { unmatchedReason: 'no meter' })]);
      await tx.putReservation(reservation('r1'));
      await tx.putIdempotency(idempotency('reportUsage', 'k1', { currentUsage: 3 }));
      await tx.appendChange(change());
      await tx.appendChange(change());
    });
    await first.close();

    const again = await openStore({ filename });
    await again.transaction('read', async (tx) => {
      expect(await tx.listCatalogVersions()).toEqual([catalogVersion(1)]);
      expect(await tx.getCustomer('c1')).toEqual(customer('c1'));
      expect(await tx.getSubscription('s1')).toEqual(subscription('s1', 'c1'));
      expect(await tx.getUsage(usageKey())).toEqual(usage());
      expect(await tx.listUnmatchedEvents(10)).toEqual([event('e1', { unmatchedReason: 'no meter' })]);
      expect(await tx.listHeldReservations(usageKey())).toEqual([reservation('r1')]);
      expect(await tx.getIdempotency('reportUsage', 'k1')).toEqual(idempotency('reportUsage', 'k1', { currentUsage: 3 }));
    });
    expect(await again.transaction('write', (tx) => tx.addDistinctValue(usageKey(), 'u1'))).toBe(false);
    expect(await again.lastChangeSeq()).toBe(2);
    expect(await again.transaction('write', (tx) => tx.appendChange(change()))).toBe(3);
  });

  it('puts the file in WAL mode', async () => {
    const filename = freshFile();
    await (await openStore({ filename })).close();
    expect(inspect(filename, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it("checkpoints the WAL every 10,000 pages with 'normal' and every 1,000 with 'full'", async () => {
    // About 1,600 pages of events: past SQLite's default interval, short of the store's 'normal' one.
    const big = 'x'.repeat(2000);
    const walPages = async (durability: 'normal' | 'full') => {
      const filename = freshFile();
      const store = await openStore({ filename, durability });
      for (let t = 0; t < 10; t++) {
        await store.transaction('write', (tx) =>
          tx.insertEvents(Array.from({ length: 300 }, (_, i) => event(`k-${t}-${i}`, { dimensions: { big, n: i } }))),
        );
      }
      return statSync(`${filename}-wal`).size / 4096;
    };
    expect(walCheckpointPages('normal')).toBe(10_000);
    expect(walCheckpointPages('full')).toBe(1_000);
    expect(await walPages('normal')).toBeGreaterThan(1_500);
    // With checkpoints every 1,000 pages the WAL restarts from its beginning: it never holds the 1,600.
    expect(await walPages('full')).toBeLessThan(1_400);
  });

  it('migrates idempotently: opening again, or twice, changes nothing', async () => {
    const filename = freshFile();
    await (await openStore({ filename })).close();
    const schema = () => inspect(filename, (db) => db.prepare('select type, name, sql from sqlite_master order by name').all());
    const before = schema();
    const store = await openStore({ filename });
    await store.open();
    await store.close();
    expect(schema()).toEqual(before);
    inspect(filename, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare('select version, name from schema_migrations order by version').all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
    });
  });

  it('migrates a file at an older schema version forward and keeps its data', async () => {
    const filename = freshFile();
    // A file as the first release left it: migration 1 only.
    inspect(filename, (db) => {
      const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: db }) });
      for (const q of MIGRATIONS[0]!.up(kysely)) db.prepare(q.compile().sql).run();
      db.prepare(
        `insert into customers (customer_id, name, email, coupon_id, billing_info, metadata, archived_at, created_at, updated_at)
         values ('old', 'Old Co', null, null, null, '{"a":"b"}', null, 1, 2)`,
      ).run();
      db.pragma('user_version = 1');
    });
    const store = await openStore({ filename });
    expect(await store.transaction('read', (tx) => tx.getCustomer('old'))).toEqual({
      customerId: 'old',
      name: 'Old Co',
      email: null,
      couponId: null,
      billingInfo: null,
      metadata: { a: 'b' },
      archivedAt: null,
      // Added by migration 3: unknown, hence null, for a row written before.
      couponAppliedAt: null,
      createdAt: 1,
      updatedAt: 2,
    });
    await store.close();
    inspect(filename, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare("select name from sqlite_master where name = 'events_by_stream'").all()).toHaveLength(1);
      expect((db.prepare('select version from schema_migrations order by version').all() as { version: number }[]).map((r) => r.version)).toEqual(
        MIGRATIONS.slice(1).map((m) => m.version),
      );
    });
  });

  it('refuses a file whose schema is newer than this code with STORE_UNAVAILABLE, and leaves it alone', async () => {
    const filename = freshFile();
    await (await openStore({ filename })).close();
    inspect(filename, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
    const store = sqliteStore({ filename });
    opened.push(store);
    const error = await store.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TesseraError);
    expect((error as TesseraError).code).toBe('STORE_UNAVAILABLE');
    expect((error as TesseraError).message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect((error as TesseraError).details).toMatchObject({ schemaVersion: SCHEMA_VERSION + 1, supportedSchemaVersion: SCHEMA_VERSION });
    await expectCode('STORE_UNAVAILABLE', () => store.transaction('read', async () => 1));
    expect(inspect(filename, (db) => db.pragma('user_version', { simple: true }))).toBe(SCHEMA_VERSION + 1);
  });

  it('fails to open with STORE_UNAVAILABLE when the file is not a database or cannot be created', async () => {
    const garbage = freshFile();
    writeFileSync(garbage, 'this is not a SQLite database, just some bytes that are long enough to have a header');
    await expectCode('STORE_UNAVAILABLE', () => sqliteStore({ filename: garbage }).open());
    await expectCode('STORE_UNAVAILABLE', () => sqliteStore({ filename: join(dir, 'no-such-dir', 'x.db') }).open());
  });

  it('rejects transactions before open() with STORE_UNAVAILABLE', async () => {
    await expectCode('STORE_UNAVAILABLE', () => sqliteStore({ filename: ':memory:' }).transaction('read', async () => 1));
    await expectCode('STORE_UNAVAILABLE', () => sqliteStore({ filename: ':memory:' }).lastChangeSeq());
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    await expectCode('INVALID_ARGUMENT', () => sqliteStore({ filename: '' }));
    await expectCode('INVALID_ARGUMENT', () => sqliteStore({ filename: 'x.db', durability: 'fast' as never }));
    await expectCode('INVALID_ARGUMENT', () => sqliteStore({ filename: 'x.db', busyTimeoutMs: -1 }));
    await expectCode('INVALID_ARGUMENT', () => sqliteStore({ filename: 'x.db', busyTimeoutMs: 1.5 }));
    expect(sqliteStore('x.db').kind).toBe('sqlite');
  });
});

describe('sqlite store: two connections on one file', () => {
  it('see each other’s committed writes and continue one change sequence', async () => {
    const filename = freshFile();
    const a = await openStore({ filename });
    const b = await openStore({ filename });
    const putAndLog = (id: string) => async (tx: StoreTx) => {
      await tx.putCustomer(customer(id));
      return tx.appendChange(change());
    };
    expect(await a.transaction('write', putAndLog('c1'))).toBe(1);
    expect(await b.transaction('read', (tx) => tx.getCustomer('c1'))).toEqual(customer('c1'));
    expect(await b.getChanges(0, 10)).toEqual([{ seq: 1, ...change() }]);
    expect(await b.transaction('write', putAndLog('c2'))).toBe(2);
    expect(await a.transaction('read', (tx) => tx.countCustomers())).toBe(2);
    expect(await a.lastChangeSeq()).toBe(2);
  });

  it('exclude each other’s write transactions: a second writer waits for the first to commit', async () => {
    const filename = freshFile();
    const a = await openStore({ filename });
    const b = await openStore({ filename });
    await a.transaction('write', (tx) => tx.putUsage(bareUsage()));

    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const steps: string[] = [];
    const first = a.transaction('write', async (tx) => {
      steps.push('a in');
      await tx.putUsage({ ...bareUsage(), value: 1 });
      await tx.putCustomer(customer('from-a'));
      await released;
      steps.push('a commits');
    });
    const second = b.transaction('write', async (tx) => {
      steps.push('b in');
      const cell = (await tx.getUsage(cumulativeKey))!;
      await tx.putUsage({ ...cell, value: cell.value + 1 });
    });
    // Real time on purpose: b must get the chance to try the lock (and be refused) while a holds it.
    await new Promise((r) => setTimeout(r, 50));
    expect(steps).toEqual(['a in']);
    // Readers on a third connection are not blocked and see only committed data.
    const c = await openStore({ filename });
    expect(await c.transaction('read', (tx) => tx.getCustomer('from-a'))).toBeUndefined();
    release();
    await Promise.all([first, second]);
    expect(steps).toEqual(['a in', 'a commits', 'b in']);
    expect((await b.transaction('read', (tx) => tx.getUsage(cumulativeKey)))?.value).toBe(2);
  });

  it('fail a writer with STORE_UNAVAILABLE once it has waited busyTimeoutMs, having written nothing', async () => {
    const filename = freshFile();
    const a = await openStore({ filename });
    const b = await openStore({ filename, busyTimeoutMs: 30 });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const holding = a.transaction('write', async () => {
      await released;
    });
    let ran = false;
    await expectCode('STORE_UNAVAILABLE', () =>
      b.transaction('write', async (tx) => {
        ran = true;
        await tx.putCustomer(customer('from-b'));
      }),
    );
    expect(ran).toBe(false);
    release();
    await holding;
    await b.transaction('write', (tx) => tx.putCustomer(customer('from-b')));
    expect(await a.transaction('read', (tx) => tx.countCustomers())).toBe(1);
  });

  it('serialise concurrent increments from both: 2 x 50 give exactly 100, seqs in commit order', async () => {
    const filename = freshFile();
    const a = await openStore({ filename });
    const b = await openStore({ filename });
    await a.transaction('write', (tx) => tx.putUsage(bareUsage()));
    const run = (s: Store, by: string) => Promise.all(Array.from({ length: 50 }, () => s.transaction('write', (tx) => increment(tx, by))));
    await Promise.all([run(a, 'a'), run(b, 'b')]);
    expect((await a.transaction('read', (tx) => tx.getUsage(cumulativeKey)))?.value).toBe(100);
    const changes = await b.getChanges(0, 1000);
    expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Each change recorded the value its transaction wrote: commit order is seq order.
    expect(changes.map((c) => (c.payload as { value: number }).value)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });
});

describe('sqlite store: several processes on one file', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const WORKER = `
import { NO_WINDOW_END } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createInterface } from 'node:readline';
const [filename, name, times] = process.argv.slice(2);
const key = { customerId: 'c1', resourceId: '', entityId: '', featureId: 'api-calls', windowStart: 0, windowEnd: NO_WINDOW_END };
const store = sqliteStore({ filename, busyTimeoutMs: 20000 });
await store.open();
console.log('ready');
// Start together: wait for the parent's go, so that the processes contend for the lock.
await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
for (let i = 0; i < Number(times); i++) {
  await store.transaction('write', async (tx) => {
    const cell = await tx.getUsage(key);
    await new Promise((r) => setImmediate(r));
    await tx.putUsage({ ...cell, value: cell.value + 1 });
    await tx.appendChange({ at: 0, kind: 'usage.updated', customerId: 'c1', entityId: name, payload: { value: cell.value + 1 } });
  });
}
await store.close();
process.exit(0);
`;

  it('serialise their write transactions: 2 processes x 50 increments give exactly 100', async () => {
    const filename = freshFile();
    const script = join(dir, 'worker.mts');
    writeFileSync(script, WORKER);
    const setup = await openStore({ filename });
    await setup.transaction('write', (tx) => tx.putUsage(bareUsage()));

    const tsx = join(root, 'node_modules', '.bin', 'tsx');
    const workers = ['p1', 'p2'].map((name) => {
      const child = spawn(tsx, ['--tsconfig', join(root, 'tsconfig.json'), script, filename, name, '50'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const exited = new Promise<void>((resolve, reject) =>
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${name} exited ${code}: ${stderr}`)))),
      );
      return { child, ready, exited };
    });
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin.write('go\n');
    await Promise.all(workers.map((w) => w.exited));

    expect((await setup.transaction('read', (tx) => tx.getUsage(cumulativeKey)))?.value).toBe(100);
    const changes = await setup.getChanges(0, 1000);
    expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(changes.map((c) => (c.payload as { value: number }).value)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(changes.map((c) => c.entityId))).toEqual(new Set(['p1', 'p2']));
  }, 60_000);
});
