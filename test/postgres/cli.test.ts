import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '@tessera/postgres';
import { FULL_KEY, runCli, startSidecarProcess, tempDir, writeDemoCatalog } from '../http/harness.js';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';

// `tessera migrate` and `tessera serve` against the run's PostgreSQL server, as real processes
// (a server is needed: PGlite lives inside one process and has no URL).

describe('tessera CLI and an unreachable PostgreSQL', () => {
  it('migrate says the server cannot be reached, with exit code 1 and no password in the message', async () => {
    const r = await runCli(['migrate', '--db', 'postgres://tessera:s3cret@127.0.0.1:1/app']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/STORE_UNAVAILABLE: .*127\.0\.0\.1:1\/app cannot be reached/);
    expect(r.stderr).not.toContain('s3cret');
  });
});

if (!onPglite()) describe('tessera CLI on PostgreSQL', () => {
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl() });
    await admin.connect();
  });
  afterAll(() => admin.end());

  it('migrate applies the migrations once, then has nothing to do', async () => {
    const schema = freshSchema('cli');
    const first = await runCli(['migrate', '--db', pgUrl(), '--schema', schema]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`migrated from schema version 0 to ${SCHEMA_VERSION}`);
    const tables = await admin.query({ text: 'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', values: [schema] });
    expect(tables.rows[0].n).toBeGreaterThanOrEqual(15);
    const again = await runCli(['migrate', '--db', pgUrl(), '--schema', schema]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`is at schema version ${SCHEMA_VERSION}; nothing to do`);
  });

  it('migrate refuses a schema that a newer Tessera wrote, and changes nothing', async () => {
    const schema = freshSchema('cli');
    expect((await runCli(['migrate', '--db', pgUrl(), '--schema', schema])).code).toBe(0);
    await admin.query(`INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (${SCHEMA_VERSION + 1}, 'from the future', 0)`);
    const r = await runCli(['migrate', '--db', pgUrl(), '--schema', schema]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/STORE_UNAVAILABLE: .*schema at .* has version \d+, newer than the \d+ this @tessera\/postgres understands/);
    const versions = await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    expect(versions.rows.map((row: { version: string }) => Number(row.version))).toEqual([...Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1), SCHEMA_VERSION + 1]);
  });

  it('rejects --schema on a SQLite file and a malformed URL', async () => {
    const r = await runCli(['migrate', '--db', 'x.db', '--schema', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--schema applies to PostgreSQL URLs only');
    const bad = await runCli(['migrate', '--db', pgUrl(), '--schema', 'Bad-Name']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_ARGUMENT');
  });

  it('a missing database and a refused login are one line each, for migrate and serve, with no stack', async () => {
    const url = new URL(pgUrl());
    const noDb = new URL(url);
    noDb.pathname = '/tessera_no_such_db';
    const noRole = new URL(url);
    noRole.username = 'tessera_no_such_role';
    noRole.password = 's3cret';
    const keys = { TESSERA_FULL_ACCESS_KEYS: FULL_KEY };
    const runs = await Promise.all([
      runCli(['migrate', '--db', noDb.href]),
      runCli(['serve', '--port', '0'], { ...keys, TESSERA_DB: noRole.href }),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\bat \S+ \(|node_modules/);
      expect(r.stderr).not.toContain('s3cret');
    }
    expect(runs[0]!.stderr).toContain('has no database "tessera_no_such_db": create it (createdb tessera_no_such_db)');
    expect(runs[1]!.stderr).toMatch(/refused the login of "tessera_no_such_role" .*PGPASSWORD/);
  }, 60_000);

  it('serve --db postgres://... serves an engine whose state is in the database', async () => {
    const schema = freshSchema('cli');
    const dir = tempDir();
    const sidecar = await startSidecarProcess(['--db', pgUrl(), '--schema', schema, '--catalog', writeDemoCatalog(dir.dir)]);
    try {
      expect(sidecar.banner).toContain(`db ${pgUrl()}`);
      const call = (method: string, body: unknown) =>
        fetch(`${sidecar.url}/v1/${method}`, { method: 'POST', headers: { authorization: `Bearer ${FULL_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await call('provisionCustomer', { customerId: 'pg-c1' })).status).toBe(200);
      expect((await call('reportUsage', { customerId: 'pg-c1', featureId: 'api-calls', value: 7 })).status).toBe(200);
      const usage = await admin.query(`SELECT sum(value)::int AS v FROM ${schema}.usage WHERE customer_id = 'pg-c1' AND feature_id = 'api-calls'`);
      expect(usage.rows[0].v).toBe(7);
      const health = (await (await fetch(`${sidecar.url}/health`)).json()) as { ok: boolean; lastChangeSeq: number };
      expect(health.ok).toBe(true);
      expect(health.lastChangeSeq).toBeGreaterThan(0);
    } finally {
      expect(await sidecar.stop()).toBe(0);
      dir.remove();
    }
  });
});
