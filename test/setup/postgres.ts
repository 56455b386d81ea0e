/**
 * Vitest globalSetup: one PostgreSQL server for the whole run, handed to tests as
 * inject('pgUrl') / inject('pgKind'). Started once here rather than per test file
 * because initdb + start costs about a second.
 */
import type { TestProject } from 'vitest/node';
import { describeUrl, startPostgres } from '../support/postgres-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the PostgreSQL server for this run; null when there is none (tests use PGlite). */
    pgUrl: string | null;
    pgKind: 'external' | 'throwaway' | 'none';
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  // A start failure with binaries present is a broken setup, not a reason to fall back: let it fail the run.
  // TESSERA_PG=pglite runs the PostgreSQL tests on PGlite even where a server could be had.
  const server = process.env.TESSERA_PG === 'pglite' ? undefined : await startPostgres();
  project.provide('pgUrl', server?.url ?? null);
  project.provide('pgKind', server?.kind ?? 'none');
  if (!server) {
    console.log(
      process.env.TESSERA_PG === 'pglite'
        ? 'PostgreSQL tests: TESSERA_PG=pglite: PostgreSQL tests run on PGlite (in process)'
        : 'PostgreSQL tests: no PostgreSQL server binaries and no TESSERA_PG_URL: PostgreSQL tests run on PGlite (in process)',
    );
  } else if (server.kind === 'external') {
    console.log(`PostgreSQL tests: TESSERA_PG_URL, server ${server.version} at ${describeUrl(server.url)}`);
  } else {
    const where = describeUrl(server.url).replace(/\/postgres$/, '');
    console.log(`PostgreSQL tests: throwaway cluster ${server.version} on ${where} (started in ${Date.now() - started} ms)`);
  }
  return async () => {
    await server?.stop();
  };
}
