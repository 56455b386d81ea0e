/**
 * A SQLite file whose write lock another process holds (packages/sqlite/README.md#several-processes-on-one-file):
 * an engine's writes wait up to busyTimeoutMs, then fail with STORE_UNAVAILABLE (a TesseraError,
 * never a raw SqliteError) having written nothing; checks and reads keep answering (WAL readers
 * never wait); once the lock is released, or its holder dies, writes work again and a keyed retry
 * counts once. The holder is a real process with an uncommitted write of its own.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TesseraError, createEngine, isTesseraError, type Engine, type MeteredEntitlement } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog } from './engine/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-busy-'));
let files = 0;
const engines: Engine[] = [];
const holders: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
  for (const e of engines.splice(0)) await e.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The holder: takes the write lock (BEGIN IMMEDIATE), writes without committing, says "locked",
// and rolls back on "rollback" (saying "released"); SIGKILL ends it with the transaction open.
const HOLDER = `
const db = new (require('better-sqlite3'))(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
db.exec('UPDATE usage SET value = value + 1000');
process.stdout.write('locked\\n');
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'rollback') { db.exec('ROLLBACK'); process.stdout.write('released\\n'); }
});
`;

/** A process holding the file's write lock, once it says so. */
async function holdLock(filename: string): Promise<{ child: ChildProcessWithoutNullStreams; line: (text: string) => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', HOLDER, filename], { stdio: ['pipe', 'pipe', 'pipe'] });
  holders.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const seen: string[] = [];
  const waiting = new Map<string, () => void>();
  lines.on('line', (l) => {
    seen.push(l);
    waiting.get(l)?.();
  });
  const line = (text: string) =>
    seen.includes(text)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          waiting.set(text, resolve);
          child.once('exit', (code) => reject(new Error(`the lock holder exited ${code} before "${text}": ${stderr}`)));
        });
  await line('locked');
  return { child, line };
}

/** Every table's row count and the usage total, read by a connection of its own: what is committed. */
function committed(filename: string): Record<string, number> {
  const db = new BetterSqlite3(filename, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number;
    out['usage total'] = db.prepare('SELECT coalesce(sum(value), 0) FROM usage').pluck().get() as number;
    return out;
  } finally {
    db.close();
  }
}

async function engineOn(filename: string, busyTimeoutMs: number): Promise<Engine> {
  const engine = await createEngine({ store: sqliteStore({ filename, busyTimeoutMs }), catalog: demoCatalog });
  engines.push(engine);
  await engine.provisionCustomer({ customerId: 'acme' });
  await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 5, idempotencyKey: 'first' });
  return engine;
}

const usage = async (engine: Engine) => ((await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })) as MeteredEntitlement).currentUsage;

describe('sqlite: the write lock held by another process', () => {
  it('fails writes with STORE_UNAVAILABLE past busyTimeoutMs, writing nothing, while checks answer; works again once the holder dies', async () => {
    const filename = join(dir, `db-${++files}.db`);
    const engine = await engineOn(filename, 200);
    expect(await usage(engine)).toBe(5);
    const before = committed(filename);
    const holder = await holdLock(filename);

    // Concurrent writes share one group transaction here: each fails on its own, cleanly.
    const outcomes = await Promise.allSettled([
      engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 3, idempotencyKey: 'second' }),
      engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 2 }),
      engine.provisionCustomer({ customerId: 'globex' }),
    ]);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const e = (o as PromiseRejectedResult).reason as unknown;
      expect(e).toBeInstanceOf(TesseraError);
      expect(isTesseraError(e, 'STORE_UNAVAILABLE'), String(e)).toBe(true);
    }
    // Readers never wait in WAL mode: the warm check, a check that reads the store, and a read.
    expect(await usage(engine)).toBe(5);
    expect((await engine.getEntitlement({ customerId: 'acme', featureId: 'projects' })).hasAccess).toBe(true);
    expect((await engine.getCustomer('acme')).customerId).toBe('acme');
    // Nothing half-written: neither the failed calls nor the holder's open transaction show.
    expect(committed(filename)).toEqual(before);

    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    // The lock died with its holder, and so did its uncommitted write: the retry counts once.
    const retried = await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 3, idempotencyKey: 'second' });
    expect(retried.currentUsage).toBe(8);
    const again = await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 3, idempotencyKey: 'second' });
    expect(again.currentUsage).toBe(8);
    await engine.provisionCustomer({ customerId: 'globex' });
    expect(committed(filename)['usage total']).toBe(8);
    expect(await usage(engine)).toBe(8);
  });

  it('a write waiting within busyTimeoutMs goes through once the holder rolls back', async () => {
    const filename = join(dir, `db-${++files}.db`);
    const engine = await engineOn(filename, 20_000);
    // Warm: a check that must read the file would queue behind the waiting write (one connection,
    // one transaction at a time) and wait as long as it does.
    expect(await usage(engine)).toBe(5);
    const holder = await holdLock(filename);
    let settled = false;
    const waiting = engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 4, idempotencyKey: 'waits' });
    void waiting.finally(() => (settled = true)).catch(() => undefined);
    // The write waits between timers, so this process keeps running meanwhile (warm checks included).
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await usage(engine)).toBe(5);
    }
    expect(settled).toBe(false);
    holder.child.stdin.write('rollback\n');
    await holder.line('released');
    expect((await waiting).currentUsage).toBe(9);
    expect(committed(filename)['usage total']).toBe(9);
  });
});
