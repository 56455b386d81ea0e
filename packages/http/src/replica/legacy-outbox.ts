/**
 * The upgrade from the outbox file of earlier versions (`<replica>.outbox`, a SQLite file of its
 * own) to the outbox tables of the replica file: imported once, then renamed away.
 */
import { existsSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { TesseraError, type Store } from '@tessera/core';
import type BetterSqlite3 from 'better-sqlite3';
import { betterSqlite3, sqlite } from './sqlite-peer.js';
import type { Outbox } from './outbox.js';

interface LegacyContents {
  entries: { seq: number; dedupeKey: string; kind: 'usage' | 'event'; customerId: string; body: string }[];
  failed: { seq: number; kind: string; customerId: string; body: string; code: string; message: string; failedAt: number }[];
  meta: { key: string; value: string }[];
}

function readLegacy(file: string): LegacyContents {
  let db: BetterSqlite3.Database;
  try {
    // Read-write: a WAL left by a crash is recovered into the file on open.
    db = new (betterSqlite3())(file, { fileMustExist: true });
  } catch (e) {
    throw new TesseraError('STORE_UNAVAILABLE', `cannot open the replica's earlier outbox file ${file} to import it: ${(e as Error).message}`, { filename: file });
  }
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    if (!tables.has('outbox') || !tables.has('meta')) {
      throw new TesseraError('STORE_UNAVAILABLE', `${file} is not a replica outbox file (no outbox and meta tables); move it away or pass another \`outbox\``, { filename: file });
    }
    return {
      entries: db.prepare('SELECT seq, dedupe_key AS dedupeKey, kind, customer_id AS customerId, body FROM outbox ORDER BY seq').all() as LegacyContents['entries'],
      failed: tables.has('outbox_failed')
        ? (db.prepare('SELECT seq, kind, customer_id AS customerId, body, code, message, failed_at AS failedAt FROM outbox_failed ORDER BY seq').all() as LegacyContents['failed'])
        : [],
      meta: db.prepare('SELECT key, value FROM meta').all() as LegacyContents['meta'],
    };
  } finally {
    db.close();
  }
}

/**
 * Imports the earlier outbox file `file`, if there is one, into the replica's outbox tables in
 * one transaction of the replica's store: queued entries in their order (a dedupe key queued
 * already is skipped), refused ones, and the sync bookkeeping the replica file does not have yet.
 * A marker in the same transaction makes the import happen once: a crash before the file is
 * renamed to `<file>.imported` only renames it on the next start. Returns the entries queued.
 * Throws STORE_UNAVAILABLE when the file cannot be read or is not an outbox file.
 */
export async function importLegacyOutbox(store: Store, outbox: Outbox, file: string, nowMs: number): Promise<number> {
  if (!existsSync(file)) return 0;
  const marker = `imported:${resolve(file)}`;
  let queued = 0;
  if ((await outbox.getMeta(marker)) === undefined) {
    const legacy = readLegacy(file);
    queued = await store.transaction('write', async (tx) => {
      const db = sqlite().sqliteConnection(tx);
      const n = outbox.appendIn(
        tx,
        legacy.entries.map((e) => ({ dedupeKey: e.dedupeKey, kind: e.kind, customerId: e.customerId, body: JSON.parse(e.body) as Record<string, unknown> })),
      );
      // A refused entry takes a seq of the outbox first: AUTOINCREMENT never hands it out again,
      // so a later refusal cannot overwrite it in replica_outbox_failed.
      const take = db.prepare('INSERT INTO replica_outbox (dedupe_key, kind, customer_id, body) VALUES (?, ?, ?, ?)');
      const drop = db.prepare('DELETE FROM replica_outbox WHERE seq = ?');
      const keep = db.prepare('INSERT INTO replica_outbox_failed (seq, kind, customer_id, body, code, message, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const f of legacy.failed) {
        const seq = Number(take.run(`${marker}:failed:${f.seq}`, f.kind, f.customerId, f.body).lastInsertRowid);
        drop.run(seq);
        keep.run(seq, f.kind, f.customerId, f.body, f.code, f.message, f.failedAt);
      }
      const have = new Set((db.prepare('SELECT key FROM replica_meta').all() as { key: string }[]).map((r) => r.key));
      const meta: Record<string, string> = { [marker]: String(nowMs) };
      for (const m of legacy.meta) if (!have.has(m.key)) meta[m.key] = m.value;
      outbox.setMetaIn(tx, meta);
      return n;
    });
    await outbox.reload();
  }
  renameSync(file, `${file}.imported`);
  // Closed by the last connection, the file has no -wal or -shm left beside it.
  for (const side of ['-wal', '-shm']) if (existsSync(file + side)) renameSync(file + side, `${file}.imported${side}`);
  return queued;
}
