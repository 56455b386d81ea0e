/**
 * The `tessera` command's conventions, on SQLite files: help per command, an environment variable
 * for every option, refusals before the database is touched, migrate's from -> to, and backup.
 */
import { existsSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type MeteredEntitlement } from '@tessera/core';
import { createClient } from '@tessera/http';
import { SCHEMA_VERSION, sqliteStore } from '@tessera/sqlite';
import { FULL_KEY, runCli, startSidecarProcess, tempDir, writeDemoCatalog } from './harness.js';

const tmp = tempDir();
afterAll(() => tmp.remove());
const file = (name: string) => join(tmp.dir, name);

describe('tessera <command> --help', () => {
  it('prints each command its own options with their environment variables', async () => {
    const [serve, migrate, backup, helpBackup, overview] = await Promise.all([
      runCli(['serve', '--help']),
      runCli(['migrate', '-h']),
      runCli(['backup', '--help']),
      runCli(['help', 'backup']),
      runCli(['--help']),
    ]);
    for (const r of [serve, migrate, backup, helpBackup, overview]) expect([r.code, r.stderr]).toEqual([0, '']);
    expect(serve.stdout).toMatch(/^Usage: tessera serve/);
    for (const v of ['TESSERA_DB', 'TESSERA_PORT, PORT', 'TESSERA_HOST', 'TESSERA_SCHEMA', 'TESSERA_CATALOG', 'TESSERA_KEYS_FILE', 'TESSERA_DURABILITY', 'TESSERA_MAX_BODY_BYTES', 'TESSERA_FULL_ACCESS_KEYS']) {
      expect(serve.stdout).toContain(v);
    }
    expect(migrate.stdout).toMatch(/^Usage: tessera migrate/);
    expect(migrate.stdout).not.toContain('--port');
    expect(backup.stdout).toMatch(/^Usage: tessera backup --db <file> --to <file>/);
    expect(backup.stdout).toContain('TESSERA_BACKUP_TO');
    expect(helpBackup.stdout).toBe(backup.stdout);
    expect(overview.stdout).toMatch(/serve .*\n.*migrate .*\n.*backup /);
  }, 60_000);
});

describe('tessera serve: options from the environment, refusals before the database', () => {
  it('takes the database, catalog, keys file, host and port from TESSERA_* (TESSERA_PORT before PORT)', async () => {
    const keysFile = file('env-keys.json');
    writeFileSync(keysFile, JSON.stringify({ fullAccess: [FULL_KEY] }));
    chmodSync(keysFile, 0o600);
    const db = file('from-env.db');
    const sidecar = await startSidecarProcess(
      [],
      // PORT is not a port: it is not read, TESSERA_PORT is. 127.0.0.2 is loopback too, and not the default.
      { TESSERA_DB: db, TESSERA_CATALOG: writeDemoCatalog(tmp.dir), TESSERA_KEYS_FILE: keysFile, TESSERA_HOST: '127.0.0.2', TESSERA_PORT: '0', PORT: 'not-a-port', TESSERA_MAX_BODY_BYTES: '2000' },
      { addressFlags: false },
    );
    try {
      expect(sidecar.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      expect(sidecar.banner).toContain(`db ${db}`);
      expect(sidecar.banner).toContain('catalog version 1');
      const client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
      await client.provisionCustomer({ customerId: 'env-c1' });
      const big = await fetch(`${sidecar.url}/v1/provisionCustomer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${FULL_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: 'env-c2', name: 'x'.repeat(3000) }),
      });
      expect(big.status).toBe(413);
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
    expect(existsSync(db)).toBe(true);
  }, 60_000);

  it('serves /metrics to a TESSERA_METRICS_KEYS key only, and logs each request as a JSON line on stderr', async () => {
    const metricsKey = 'metrics-key-0123456789abcdef';
    const sidecar = await startSidecarProcess(['--db', file('metrics.db'), '--catalog', writeDemoCatalog(tmp.dir)], {
      TESSERA_FULL_ACCESS_KEYS: FULL_KEY,
      TESSERA_METRICS_KEYS: metricsKey,
    });
    try {
      const scrape = await fetch(`${sidecar.url}/metrics`, { headers: { authorization: `Bearer ${metricsKey}` } });
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('tessera_');
      const call = await fetch(`${sidecar.url}/v1/getCustomer`, { method: 'POST', headers: { authorization: `Bearer ${metricsKey}`, 'content-type': 'application/json' }, body: '{"customerId":"c1"}' });
      expect(call.status).toBe(403);
      const lines = sidecar
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.level === 'info' && l.path === '/metrics' && l.status === 200)).toBe(true);
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
    const quiet = await runCli(['serve', '--log-level', 'loud', '--db', file('never.db')], { TESSERA_FULL_ACCESS_KEYS: FULL_KEY });
    expect([quiet.code, quiet.stderr.trim()]).toEqual([2, 'tessera: --log-level: must be one of debug, info, warn, error, silent']);
  }, 60_000);

  it('PORT when TESSERA_PORT is unset; a flag wins over its variable; bad values name their source', async () => {
    const keys = { TESSERA_FULL_ACCESS_KEYS: FULL_KEY };
    const [badPort, badFlag, badDurability] = await Promise.all([
      runCli(['serve', '--db', file('never-1.db')], { ...keys, PORT: '99999' }),
      runCli(['serve', '--db', file('never-2.db'), '--port', 'x'], { ...keys, TESSERA_PORT: '0' }),
      runCli(['serve'], { ...keys, TESSERA_DB: file('never-3.db'), TESSERA_DURABILITY: 'sometimes' }),
    ]);
    expect([badPort.code, badPort.stderr]).toEqual([2, 'tessera: PORT: must be an integer from 0 to 65535 (got "99999")\n']);
    expect([badFlag.code, badFlag.stderr]).toEqual([2, 'tessera: --port: must be an integer from 0 to 65535 (got "x")\n']);
    expect([badDurability.code, badDurability.stderr]).toEqual([2, 'tessera: TESSERA_DURABILITY: must be normal or full\n']);
    const flagWins = await startSidecarProcess(['--db', file('flag.db'), '--catalog', writeDemoCatalog(tmp.dir)], { ...keys, TESSERA_DB: file('env-not-used.db') });
    expect(await flagWins.stop()).toBe(0);
    expect(existsSync(file('flag.db'))).toBe(true);
    expect(existsSync(file('env-not-used.db'))).toBe(false);
    for (const n of [1, 2, 3]) expect(existsSync(file(`never-${n}.db`))).toBe(false);
  }, 60_000);

  it('checks the keys before it creates or opens the database', async () => {
    const badFile = file('bad-keys.json');
    writeFileSync(badFile, '{ "fullAccess": ');
    const [none, short, unreadable, both] = await Promise.all([
      runCli(['serve', '--db', file('k1.db')]),
      runCli(['serve', '--db', file('k2.db')], { TESSERA_FULL_ACCESS_KEYS: 'short' }),
      runCli(['serve', '--db', file('k3.db'), '--keys-file', badFile]),
      runCli(['serve', '--db', file('k4.db')], { TESSERA_FULL_ACCESS_KEYS: FULL_KEY, TESSERA_READ_ONLY_KEYS: FULL_KEY }),
    ]);
    expect(none.stderr).toMatch(/refusing to start without API keys/);
    expect(short.stderr).toMatch(/API keys: fullAccessKeys\[0\]: an API key must be a string of at least 16 characters/);
    expect(unreadable.stderr).toMatch(/--keys-file: .* is not valid JSON/);
    expect(both.stderr).toMatch(/the same key is given twice/);
    for (const r of [none, short, unreadable, both]) expect(r.code).toBe(1);
    for (const n of [1, 2, 3, 4]) expect(existsSync(file(`k${n}.db`))).toBe(false);
  }, 60_000);
});

describe('tessera migrate on SQLite', () => {
  it('prints from -> to, then that there is nothing to do; --db may come from TESSERA_DB', async () => {
    const db = file('migrate.db');
    const first = await runCli(['migrate', '--db', db]);
    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(first.stdout).toBe(`tessera migrate: ${db} migrated from schema version 0 to ${SCHEMA_VERSION}\n`);
    const again = await runCli(['migrate'], { TESSERA_DB: db });
    expect(again.stdout).toBe(`tessera migrate: ${db} is at schema version ${SCHEMA_VERSION}; nothing to do\n`);
  }, 60_000);
});

describe('tessera backup', () => {
  it('copies a file a sidecar is writing; the copy opens with its data, and --to is never overwritten', async () => {
    const db = file('live.db');
    const copy = file('live-backup.db');
    const sidecar = await startSidecarProcess(['--db', db, '--catalog', writeDemoCatalog(tmp.dir)]);
    const client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
    try {
      for (const id of ['b1', 'b2', 'b3']) await client.provisionCustomer({ customerId: id });
      await client.reportUsage({ customerId: 'b2', featureId: 'api-calls', value: 5 });
      // The sidecar keeps writing during the copy: the copy is consistent as of one commit.
      const writes = Promise.all(Array.from({ length: 20 }, (_, i) => client.provisionCustomer({ customerId: `during-${i}` })));
      const [backup] = await Promise.all([runCli(['backup', '--db', db, '--to', copy]), writes]);
      expect([backup.code, backup.stderr]).toEqual([0, '']);
      expect(backup.stdout).toMatch(new RegExp(`^tessera backup: .*live\\.db \\(schema version ${SCHEMA_VERSION}\\) copied to .*live-backup\\.db: \\d+ pages in \\d+ ms\\n$`));
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
    expect(existsSync(`${copy}.partial`)).toBe(false);
    const engine = await createEngine({ store: sqliteStore({ filename: copy }) });
    try {
      for (const id of ['b1', 'b2', 'b3']) expect((await engine.getCustomer(id)).customerId).toBe(id);
      const usage = (await engine.getMeteredEntitlement({ customerId: 'b2', featureId: 'api-calls' })) as MeteredEntitlement;
      expect(usage.currentUsage).toBe(5);
    } finally {
      await engine.close();
    }
    const [again, missing, noTo] = await Promise.all([
      runCli(['backup', '--db', db, '--to', copy]),
      runCli(['backup', '--to', file('x.db')], { TESSERA_DB: file('no-such.db') }),
      runCli(['backup', '--db', db]),
    ]);
    expect([again.code, again.stderr]).toEqual([1, `tessera: backup: ${copy} exists; remove it or choose another --to (a backup never overwrites)\n`]);
    expect([missing.code, missing.stderr]).toEqual([1, `tessera: backup: ${file('no-such.db')} does not exist\n`]);
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toContain('--to <file> (or TESSERA_BACKUP_TO) is required');
    expect(existsSync(file('x.db'))).toBe(false);
  }, 90_000);

  it('refuses a PostgreSQL URL with a pointer to pg_dump, without connecting', async () => {
    const r = await runCli(['backup', '--to', file('pg.db')], { TESSERA_DB: 'postgres://app:s3cret@127.0.0.1:1/billing' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tessera: backup: postgres://app:***@127.0.0.1:1/billing is PostgreSQL; back it up with pg_dump (pg_dump --format=custom --schema=<schema> ...), not tessera backup\n');
  }, 30_000);
});
