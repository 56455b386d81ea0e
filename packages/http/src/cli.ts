#!/usr/bin/env node
/**
 * The `tessera` command. `tessera serve --db billing.db` opens an engine on a SQLite file (or a
 * PostgreSQL database, given a postgres:// URL) and serves it as the sidecar; `tessera migrate`
 * brings a database's schema up to date; see `tessera --help`.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
// Only types here: the engine, the store and the server load once the arguments are known to be
// good, so --help and refusals answer at once.
import type { CatalogDefinition, Engine, Store } from '@tessera/core';
import type { SqliteDurability } from '@tessera/sqlite';
import type { RunningSidecar } from './server/serve.js';

const VERSION = '0.1.0';

const HELP = `Usage: tessera <command> [options]

Commands:
  serve        serve an engine over HTTP/JSON (the sidecar)
  migrate      bring a database's schema up to this version, then exit

--db takes a SQLite file (created when missing) or a PostgreSQL URL, postgres://user@host:5432/db
(the password is best left to PGPASSWORD or ~/.pgpass, out of ps and shell history).

tessera serve --db <file|url> [options]
  --db <file|url>         where the state is
  --schema <name>         PostgreSQL only: the schema holding Tessera's tables (created when
                          missing); the connection's search_path by default
  --port <n>              TCP port; 8787 by default, 0 for any free port
  --host <address>        interface to listen on; 127.0.0.1 by default
  --catalog <file>        catalog JSON, published on start when it differs from the stored one;
                          without it the file must already hold a published catalog
  --keys-file <file>      API keys as JSON: { "fullAccess": ["..."], "readOnly": ["..."] }
  --durability <mode>     normal (default: safe against a crash of the process) or full
                          (also against power loss; slower writes)
  --max-body-bytes <n>    largest request body; 1048576 by default

API keys come from the environment, TESSERA_FULL_ACCESS_KEYS and TESSERA_READ_ONLY_KEYS
(comma-separated), and/or from --keys-file; never from command-line values, which every user of
the machine can read with \`ps\`. The sidecar refuses to start without a key.

It prints one line with its URL and stops on SIGINT or SIGTERM.

tessera migrate --db <file|url> [--schema <name>]
  Applies the migrations and prints the schema version before and after. Refuses a schema that a
  newer Tessera wrote (exit code 1). App servers migrate at start too; running this first keeps
  that out of their start.

  -h, --help              this text
  -v, --version           the version
`;

/** A failure the user can fix: printed as one line, exit code 1 (2 for usage errors). */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Flags that would put a key on the command line (visible in `ps`, shell history, CI logs). */
const KEY_FLAG = /^--?(?:(?:api|access|auth|full[-_]?access|read[-_]?only)[-_]?)?(?:keys?|tokens?|secrets?)(?:=|$)/i;

function keysFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

function readKeysFile(path: string): { fullAccess: string[]; readOnly: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`--keys-file: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--keys-file: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`--keys-file: ${path} must hold an object { "fullAccess": [...], "readOnly": [...] }`);
  }
  const obj = data as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'fullAccess' && key !== 'readOnly') throw new CliError(`--keys-file: unknown field "${key}" in ${path}; allowed: fullAccess, readOnly`);
  }
  const list = (field: 'fullAccess' | 'readOnly'): string[] => {
    const v = obj[field] ?? [];
    if (!Array.isArray(v) || v.some((k) => typeof k !== 'string')) throw new CliError(`--keys-file: "${field}" in ${path} must be an array of strings`);
    return v as string[];
  };
  if (process.platform !== 'win32') {
    const mode = statSync(path).mode;
    if (mode & 0o077) process.stderr.write(`tessera: warning: ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it\n`);
  }
  return { fullAccess: list('fullAccess'), readOnly: list('readOnly') };
}

function readCatalog(path: string): CatalogDefinition {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CatalogDefinition;
  } catch (e) {
    throw new CliError(`--catalog: cannot read ${path} as JSON (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function integerOption(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new CliError(`--${name}: must be an integer from ${min} to ${max}`, 2);
  return Number(value);
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      db: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      catalog: { type: 'string' },
      'keys-file': { type: 'string' },
      durability: { type: 'string' },
      schema: { type: 'string' },
      'max-body-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (!values.db) throw new CliError('serve: --db <file|url> is required (a SQLite file or a postgres:// URL holding the state)', 2);
  const port = integerOption(values.port, 'port', 8787, 0, 65_535);
  const maxBodyBytes = integerOption(values['max-body-bytes'], 'max-body-bytes', 1024 * 1024, 1, 2 ** 31);
  const durability = values.durability as SqliteDurability | undefined;
  if (durability !== undefined && durability !== 'normal' && durability !== 'full') throw new CliError('--durability: must be normal or full', 2);

  const fullAccessKeys = keysFromEnv(process.env.TESSERA_FULL_ACCESS_KEYS);
  const readOnlyKeys = keysFromEnv(process.env.TESSERA_READ_ONLY_KEYS);
  if (values['keys-file']) {
    const file = readKeysFile(values['keys-file']);
    fullAccessKeys.push(...file.fullAccess);
    readOnlyKeys.push(...file.readOnly);
  }
  if (fullAccessKeys.length + readOnlyKeys.length === 0) {
    throw new CliError('serve: refusing to start without API keys; set TESSERA_FULL_ACCESS_KEYS (and TESSERA_READ_ONLY_KEYS), comma-separated, or pass --keys-file keys.json');
  }
  const catalog = values.catalog ? readCatalog(values.catalog) : undefined;

  const [{ createEngine }, { serveSidecar }] = await Promise.all([import('@tessera/core'), import('./server/serve.js')]);
  const store = await openStore(values.db, { durability, schema: values.schema });
  const engine: Engine = await createEngine({ store, catalog });
  let running: RunningSidecar;
  try {
    running = await serveSidecar({ engine, store, fullAccessKeys, readOnlyKeys, maxBodyBytes, port, hostname: values.host ?? '127.0.0.1' });
  } catch (e) {
    await engine.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new CliError(`serve: cannot listen on ${values.host ?? '127.0.0.1'}:${port} (${code})`);
    throw e;
  }
  process.stdout.write(
    `tessera sidecar listening on ${running.url} (db ${describeDb(values.db)}, catalog version ${engine.catalogVersion}, ${fullAccessKeys.length} full-access and ${readOnlyKeys.length} read-only keys)\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`tessera: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    void (async () => {
      try {
        await running.close();
        await engine.close();
        process.stderr.write(`tessera: stopped on ${signal}\n`);
      } catch (e) {
        process.stderr.write(`tessera: error while stopping: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
      // Nothing should be left running; do not let a stray handle keep the process alive.
      setTimeout(() => process.exit(), 1_000).unref();
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//.test(db);

/** The --db value for messages: a URL without its password. */
function describeDb(db: string): string {
  return isPostgresUrl(db) ? db.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@') : db;
}

/** The store --db names: PostgreSQL for a postgres:// URL, else a SQLite file. Loads only the adapter it needs. */
async function openStore(db: string, o: { durability?: SqliteDurability; schema?: string | undefined }): Promise<Store> {
  if (isPostgresUrl(db)) {
    if (o.durability !== undefined && o.durability !== 'normal') throw new CliError('--durability applies to SQLite files; PostgreSQL commits as the server is configured', 2);
    const { postgresStore } = await import('@tessera/postgres');
    return postgresStore({ connectionString: db, ...(o.schema !== undefined ? { schema: o.schema } : {}) });
  }
  if (o.schema !== undefined) throw new CliError('--schema applies to PostgreSQL URLs only', 2);
  const { sqliteStore } = await import('@tessera/sqlite');
  return sqliteStore({ filename: db, ...(o.durability ? { durability: o.durability } : {}) });
}

async function migrateCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { db: { type: 'string' }, schema: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (!values.db) throw new CliError('migrate: --db <file|url> is required (a SQLite file or a postgres:// URL)', 2);
  if (isPostgresUrl(values.db)) {
    const { migratePostgres } = await import('@tessera/postgres');
    const { from, to } = await migratePostgres({ connectionString: values.db, ...(values.schema !== undefined ? { schema: values.schema } : {}) });
    const where = `${describeDb(values.db)}${values.schema ? ` schema ${values.schema}` : ''}`;
    process.stdout.write(from === to ? `tessera migrate: ${where} is at schema version ${to}; nothing to do\n` : `tessera migrate: ${where} migrated from schema version ${from} to ${to}\n`);
    return;
  }
  if (values.schema !== undefined) throw new CliError('--schema applies to PostgreSQL URLs only', 2);
  // A SQLite file migrates when it is opened.
  const { sqliteStore, SCHEMA_VERSION } = await import('@tessera/sqlite');
  const store = sqliteStore({ filename: values.db });
  await store.open();
  await store.close();
  process.stdout.write(`tessera migrate: ${values.db} is at schema version ${SCHEMA_VERSION}\n`);
}

async function main(argv: string[]): Promise<void> {
  const keyFlag = argv.find((a) => KEY_FLAG.test(a));
  if (keyFlag) {
    throw new CliError(
      `${keyFlag.split('=')[0]}: keys are not accepted on the command line, where every user of the machine sees them (ps, shell history); ` +
        'set TESSERA_FULL_ACCESS_KEYS / TESSERA_READ_ONLY_KEYS (comma-separated) or use --keys-file',
      2,
    );
  }
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    if (command === undefined) process.exitCode = 2;
    return;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (command === 'serve') return serve(rest);
  if (command === 'migrate') return migrateCommand(rest);
  throw new CliError(`unknown command "${command}"; see tessera --help`, 2);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof CliError) {
    process.stderr.write(`tessera: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if ((e as Error).name === 'TesseraError') {
    process.stderr.write(`tessera: ${(e as { code: string }).code}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } else if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`tessera: ${(e as Error).message}; see tessera --help\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`tessera: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
});
