/** The run's PostgreSQL server (see test/setup/postgres.ts) is real and reachable, or absent for a real reason. */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it, vi } from 'vitest';
import { findPostgresBinaries, startPostgres } from './support/postgres-server';

const kind = inject('pgKind');
const url = inject('pgUrl');

async function query<T extends pg.QueryResultRow>(connectionString: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL test server', () => {
  it('is reachable, or missing only because nothing could provide one', async () => {
    if (kind === 'none') {
      expect(url).toBeNull();
      expect(findPostgresBinaries()).toBeUndefined();
      expect(process.env.TESSERA_PG_URL).toBeFalsy();
      return;
    }
    expect(kind === 'external' || kind === 'throwaway').toBe(true);
    expect(url).toMatch(/^postgres(ql)?:\/\//);
    const [row] = await query<{ one: number }>(url!, 'SELECT 1 AS one');
    expect(row?.one).toBe(1);
    if (kind === 'external') expect(url).toBe(process.env.TESSERA_PG_URL);
    else {
      // Throwaway clusters trade durability for speed.
      const [fsync] = await query<{ fsync: string }>(url!, 'SHOW fsync');
      expect(fsync?.fsync).toBe('off');
    }
  });

  it('starts a durable throwaway cluster and removes every trace of it on stop', async () => {
    vi.stubEnv('TESSERA_PG_URL', undefined);
    try {
      const server = await startPostgres({ durable: true });
      if (!findPostgresBinaries()) {
        expect(server).toBeUndefined();
        return;
      }
      expect(server?.kind).toBe('throwaway');
      expect(server!.version).toMatch(/^\d+(\.\d+)?/);
      let dataDir: string;
      try {
        const [settings] = await query<{ data_directory: string; fsync: string; version: string }>(
          server!.url,
          "SELECT current_setting('data_directory') AS data_directory, current_setting('fsync') AS fsync, current_setting('server_version') AS version",
        );
        expect(settings?.fsync).toBe('on');
        expect(settings?.version.split(' ')[0]).toBe(server!.version);
        dataDir = settings!.data_directory;
        expect(existsSync(dataDir)).toBe(true);
      } finally {
        await server!.stop();
      }
      expect(existsSync(dataDir)).toBe(false);
      await expect(query(server!.url, 'SELECT 1')).rejects.toThrow();
      await server!.stop(); // idempotent
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
