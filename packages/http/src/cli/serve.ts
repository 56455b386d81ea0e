/** `tessera serve`: the sidecar as a process. */
import { readFileSync } from 'node:fs';
import type { CatalogDefinition, Engine, WebhookOptions } from '@tessera/core';
import type { SqliteDurability } from '@tessera/sqlite';
import type { RunningSidecar } from '../server/serve.js';
import { SERVE_HELP } from './help.js';
import { CliError, collectKeys, integerOption, parseOptions, type OptionValue } from './options.js';
import { describeDb, openStore } from './stores.js';
import { jsonLinesLogger, parseLevel } from './logger.js';

const SERVE_OPTIONS = {
  db: { env: ['TESSERA_DB'] },
  schema: { env: ['TESSERA_SCHEMA'] },
  port: { env: ['TESSERA_PORT', 'PORT'] },
  host: { env: ['TESSERA_HOST'] },
  catalog: { env: ['TESSERA_CATALOG'] },
  'keys-file': { env: ['TESSERA_KEYS_FILE'] },
  durability: { env: ['TESSERA_DURABILITY'] },
  'max-body-bytes': { env: ['TESSERA_MAX_BODY_BYTES'] },
  'log-level': { env: ['TESSERA_LOG_LEVEL'] },
  'webhook-url': { env: ['TESSERA_WEBHOOK_URLS'], multiple: true },
  'webhook-timeout-ms': { env: ['TESSERA_WEBHOOK_TIMEOUT_MS'] },
  'no-ui': { env: ['TESSERA_NO_UI'], boolean: true },
} as const;

/** The catalog JSON file an option names (the `--catalog` of serve and simulate). */
export function readCatalog({ value: path, source }: OptionValue): CatalogDefinition {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CatalogDefinition;
  } catch (e) {
    throw new CliError(`${source}: cannot read ${path} as JSON (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * The webhook transport of `--webhook-url` (repeatable; TESSERA_WEBHOOK_URLS separated by commas
 * or spaces), signed with TESSERA_WEBHOOK_SECRET, which is never a flag (`ps` would show it).
 */
async function readWebhooks(urls: OptionValue | undefined, timeout: OptionValue | undefined, env: NodeJS.ProcessEnv = process.env): Promise<WebhookOptions | undefined> {
  if (!urls) {
    if (timeout) throw new CliError(`${timeout.source}: set --webhook-url (or TESSERA_WEBHOOK_URLS) too`, 2);
    return undefined;
  }
  const endpoints = urls.value.split(/[\s,]+/).filter((u) => u !== '');
  const secret = env.TESSERA_WEBHOOK_SECRET;
  if (!secret) throw new CliError(`${urls.source}: webhooks need TESSERA_WEBHOOK_SECRET (whsec_ followed by base64 of 32 random bytes) to sign them`, 2);
  const { httpWebhooks } = await import('../webhooks/transport.js');
  const timeoutMs = integerOption(timeout, 10_000, 1, 600_000);
  try {
    // An attempt lasts at most the timeout: a lease a second longer hands the delivery of a killed
    // sidecar to its successor soon after, rather than after the engine's default minute.
    return { transport: httpWebhooks({ endpoints, secret, timeoutMs }), leaseMs: timeoutMs + 1_000 };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${urls.source}: ${(e as Error).message}`, 2);
  }
}

/**
 * Everything that can be refused is refused before the database is opened (a SQLite file would be
 * created and migrated, a PostgreSQL schema too): options, keys, the catalog file.
 */
export async function serveCommand(args: string[]): Promise<void> {
  const { help, options: o } = parseOptions(args, SERVE_OPTIONS);
  if (help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  if (!o.db) throw new CliError('serve: --db <file|url> (or TESSERA_DB) is required: a SQLite file or a postgres:// URL holding the state', 2);
  const port = integerOption(o.port, 8787, 0, 65_535);
  const maxBodyBytes = integerOption(o['max-body-bytes'], 1024 * 1024, 1, 2 ** 31);
  const durability = o.durability?.value as SqliteDurability | undefined;
  if (durability !== undefined && durability !== 'normal' && durability !== 'full') throw new CliError(`${o.durability!.source}: must be normal or full`, 2);
  const hostname = o.host?.value ?? '127.0.0.1';

  const logger = o['log-level'] ? jsonLinesLogger(parseLevel(o['log-level'])) : jsonLinesLogger('info');
  const { fullAccessKeys, readOnlyKeys, metricsKeys } = collectKeys(o['keys-file']);
  if (fullAccessKeys.length + readOnlyKeys.length === 0) {
    throw new CliError('serve: refusing to start without API keys; set TESSERA_FULL_ACCESS_KEYS (and TESSERA_READ_ONLY_KEYS), comma-separated, or pass --keys-file keys.json');
  }
  // The sidecar checks the keys again; checking here refuses a bad key before the database is touched.
  const { KeyRing } = await import('../server/keys.js');
  try {
    new KeyRing(fullAccessKeys, readOnlyKeys, metricsKeys);
  } catch (e) {
    // fullAccessKeys[i] counts TESSERA_FULL_ACCESS_KEYS first, then the keys file's fullAccess.
    throw new CliError(`serve: API keys: ${(e as Error).message}`);
  }
  const catalog = o.catalog ? readCatalog(o.catalog) : undefined;
  const webhooks = await readWebhooks(o['webhook-url'], o['webhook-timeout-ms']);

  const [{ createEngine }, { serveSidecar }] = await Promise.all([import('@tessera/core'), import('../server/serve.js')]);
  const store = await openStore(o.db, { durability, schema: o.schema });
  const engine: Engine = await createEngine({ store, catalog, logger, ...(webhooks ? { webhooks } : {}) });
  let running: RunningSidecar;
  try {
    running = await serveSidecar({ engine, store, fullAccessKeys, readOnlyKeys, metricsKeys, logger, maxBodyBytes, port, hostname, ui: !o['no-ui'] });
  } catch (e) {
    await engine.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new CliError(`serve: cannot listen on ${hostname}:${port} (${code})`);
    throw e;
  }
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
  // The banner last: whoever reads it may signal at once, and a signal that came before the
  // handlers were installed would kill the process without closing the store.
  process.stdout.write(
    `tessera sidecar listening on ${running.url} (db ${describeDb(o.db.value)}, catalog version ${engine.catalogVersion}, ${fullAccessKeys.length} full-access and ${readOnlyKeys.length} read-only keys)\n`,
  );
}
