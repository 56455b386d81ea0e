/**
 * PGlite (PostgreSQL compiled to WebAssembly, in process) as a pool for `postgresStore`: for tests
 * and demos on machines without a PostgreSQL server. PGlite has one connection, so the pool hands
 * it to one borrower at a time (transactions would otherwise interleave on it), and every store
 * on one PGlite instance shares that turn. Start one instance and give it to many stores: each
 * takes seconds and hundreds of MiB to start.
 */
import { Mutex } from '@tessera/core';
import type pg from 'pg';
import { SCHEMA_NAME, type PgPool, type PgPoolClient } from './dialect.js';

/** What the adapter uses of a PGlite instance (`await PGlite.create()` from @electric-sql/pglite). */
export interface PGliteLike {
  query(text: string, params?: unknown[], options?: { rowMode?: 'array' | 'object' }): Promise<{ rows: unknown[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Options of {@link pglitePool}. */
export interface PglitePoolOptions {
  /** The schema this pool's borrowers work in, created when missing; set as search_path on each turn. */
  schema?: string;
}

const turns = new WeakMap<PGliteLike, Mutex>();

/**
 * A pool over one PGlite instance. Throws INVALID_ARGUMENT-like errors from the store's own
 * validation only; PGlite's errors carry SQLSTATE codes as pg's do.
 */
export function pglitePool(db: PGliteLike, options: PglitePoolOptions = {}): PgPool {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error(`pglitePool: schema must be a lower-case identifier of letters, digits and underscores, got ${JSON.stringify(options.schema)}`);
  }
  let turn = turns.get(db);
  if (!turn) turns.set(db, (turn = new Mutex()));
  const mutex = turn;
  const schemaSetup = options.schema ? `CREATE SCHEMA IF NOT EXISTS ${options.schema}; SET search_path TO ${options.schema}` : undefined;

  const query = async (config: string | pg.QueryArrayConfig): Promise<unknown> => {
    if (typeof config === 'string') return db.exec(config);
    const r = await db.query(config.text, config.values ?? [], { rowMode: 'array' });
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  };

  return {
    connect(): Promise<PgPoolClient> {
      return new Promise((resolve, reject) => {
        // The borrower holds the turn until it releases the client.
        void mutex
          .run(async () => {
            let done!: () => void;
            const released = new Promise<void>((r) => (done = r));
            try {
              if (schemaSetup) await db.exec(schemaSetup);
            } catch (e) {
              reject(e);
              return;
            }
            let open = true;
            resolve({
              query: query as PgPoolClient['query'],
              release: () => {
                if (!open) return;
                open = false;
                done();
              },
            });
            await released;
          })
          .catch(reject);
      });
    },
    async listen(channel: string, onNotify: (payload?: string) => void) {
      // LISTEN is a statement on the one connection: it takes its turn like a transaction.
      // PGlite quotes the name itself; the store hands a quoted identifier.
      const name = channel.replace(/^"(.*)"$/, '$1').replace(/""/g, '"');
      const stop = await mutex.run(() => db.listen(name, (payload) => onNotify(payload)));
      return () => mutex.run(stop);
    },
  };
}
