/**
 * PostgreSQL stores for tests: each one in a schema of its own on the run's server (see
 * test/setup/postgres.ts), so tests never see each other's rows and need no cleanup between them.
 */
import { inject } from 'vitest';
import { postgresStore } from '@tessera/postgres';
import type { Store } from '@tessera/core';

let n = 0;

/** The run's PostgreSQL connection string; throws when the run has none. */
export function pgUrl(): string {
  const url = inject('pgUrl');
  if (!url) throw new Error('this run has no PostgreSQL server (test/setup/postgres.ts)');
  return url;
}

/** A fresh schema name, unique across the run's worker processes. */
export function freshSchema(prefix = 't'): string {
  return `${prefix}_${process.pid}_${++n}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A store on a new, empty schema, and a factory of further stores on the same schema. */
export function freshPgStore(): { store: Store; reopen: () => Store; schema: string } {
  const schema = freshSchema();
  const connectionString = pgUrl();
  return { store: postgresStore({ connectionString, schema, poolSize: 4 }), reopen: () => postgresStore({ connectionString, schema, poolSize: 4 }), schema };
}
