/**
 * PostgreSQL stores for tests: each one in a schema of its own on the run's server (see
 * test/setup/postgres.ts), so tests never see each other's rows and need no cleanup between them.
 * Without a server (no binaries, no TESSERA_PG_URL, or TESSERA_PG=pglite), the same stores run on
 * PGlite: one instance per test process, shared by every store of the process, each in its schema.
 */
import { inject } from 'vitest';
import { pglitePool, postgresStore, type PgPool, type PgPoolClient } from '@tessera/postgres';
import type { Store } from '@tessera/core';

let n = 0;

/** The run's PostgreSQL connection string; throws when the run has none. */
export function pgUrl(): string {
  const url = inject('pgUrl');
  if (!url) throw new Error('this run has no PostgreSQL server (test/setup/postgres.ts)');
  return url;
}

/** True when this run's PostgreSQL stores are PGlite (in process) rather than a server. */
export function onPglite(): boolean {
  return inject('pgKind') === 'none';
}

/** A fresh schema name, unique across the run's worker processes. */
export function freshSchema(prefix = 't'): string {
  return `${prefix}_${process.pid}_${++n}_${Math.random().toString(36).slice(2, 8)}`;
}

type PGlite = Parameters<typeof pglitePool>[0];
let pglite: Promise<PGlite> | undefined;

/** This process's PGlite instance, started on first use (seconds, hundreds of MiB: one is enough). */
export function sharedPglite(): Promise<PGlite> {
  pglite ??= import('@electric-sql/pglite').then(({ PGlite }) => PGlite.create() as Promise<PGlite>);
  return pglite;
}

/** A pool on the shared PGlite instance in `schema`; the instance starts when the pool is first used. */
export function pglitePoolFor(schema: string): PgPool {
  let pool: PgPool | undefined;
  const ready = async () => (pool ??= pglitePool(await sharedPglite(), { schema }));
  return {
    connect: async (): Promise<PgPoolClient> => (await ready()).connect(),
    listen: async (channel, onNotify) => (await ready()).listen!(channel, onNotify),
  };
}

/** A store on a new, empty schema, and a factory of further stores on the same schema. */
export function freshPgStore(): { store: Store; reopen: () => Store; schema: string } {
  const schema = freshSchema();
  if (onPglite()) {
    const make = () => postgresStore({ pool: pglitePoolFor(schema) });
    return { store: make(), reopen: make, schema };
  }
  const connectionString = pgUrl();
  const make = () => postgresStore({ connectionString, schema, poolSize: 4 });
  return { store: make(), reopen: make, schema };
}
