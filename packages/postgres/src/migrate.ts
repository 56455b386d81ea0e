import { TesseraError } from '@tessera/core';
import type { Compilable, Kysely } from 'kysely';
import pg from 'pg';
import { Lease } from './connection.js';
import { compiler, toStoreError, types, type ErrorContext, type PgQueryable } from './dialect.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations/index.js';
import { searchPathOption, validate, where, type PostgresStoreOptions, type Settings } from './options.js';

/** What `migrate` found and did. */
export interface MigrationResult {
  /** The schema's version before (0 for an empty schema). */
  from: number;
  /** The version now: SCHEMA_VERSION. */
  to: number;
}

/**
 * Brings the schema (the connection's current schema) up to `SCHEMA_VERSION` in one transaction.
 * `schema_migrations` is the authority. Several processes may open the store at once: the first
 * takes a transaction-level advisory lock keyed on the schema name, the others wait for it and
 * then find the work done, since the version is read again under the lock.
 *
 * Rejects with STORE_UNAVAILABLE when the schema was migrated by a newer @tessera/postgres (it is
 * never migrated down) or the server cannot be reached.
 */
export async function migrate(client: PgQueryable, k: Kysely<any>, ctx: ErrorContext): Promise<MigrationResult> {
  const q = (text: string, values: unknown[] = []) => client.query({ text, values, rowMode: 'array', types });
  try {
    await q('BEGIN');
    try {
      await q(`SELECT pg_advisory_xact_lock(hashtext('tessera.migrate.' || current_schema()))`);
      await runNow(
        q,
        k.schema
          .createTable('schema_migrations')
          .ifNotExists()
          .addColumn('version', 'bigint', (c) => c.primaryKey().notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('applied_at', 'bigint', (c) => c.notNull()),
      );
      const from = Number(((await q('SELECT coalesce(max(version), 0) FROM schema_migrations')).rows[0] as [number])[0]);
      refuseNewer(from, ctx);
      for (const m of MIGRATIONS) {
        if (m.version <= from) continue;
        // DDL has no parameters: one simple query carries the whole step, one round trip instead
        // of one per statement (a fresh schema is made in tens of milliseconds, not hundreds).
        const steps = m.up(k).map((statement) => statement.compile());
        if (steps.every((c) => c.parameters.length === 0)) await client.query(steps.map((c) => c.sql).join(';\n'));
        else for (const c of steps) await q(c.sql, [...c.parameters]);
        // Wall-clock time on purpose: this is an operator's record, not business time.
        await runNow(q, k.insertInto('schema_migrations').values({ version: m.version, name: m.name, applied_at: Date.now() }));
      }
      await q('COMMIT');
      return { from, to: SCHEMA_VERSION };
    } catch (e) {
      await q('ROLLBACK').catch(() => undefined);
      throw e;
    }
  } catch (e) {
    throw toStoreError(e, ctx, 'migrating the schema');
  }
}

async function runNow(q: (text: string, values?: unknown[]) => Promise<unknown>, statement: Compilable): Promise<void> {
  const { sql, parameters } = statement.compile();
  await q(sql, [...parameters]);
}

function refuseNewer(version: number, ctx: ErrorContext): void {
  if (version > SCHEMA_VERSION) {
    throw new TesseraError(
      'STORE_UNAVAILABLE',
      `the PostgreSQL schema at ${ctx.where} has version ${version}, newer than the ${SCHEMA_VERSION} this @tessera/postgres understands; ` +
        'upgrade @tessera/postgres (a schema is never migrated down)',
      { where: ctx.where, schemaVersion: version, supportedSchemaVersion: SCHEMA_VERSION },
    );
  }
}

/** Creates the schema when one is named and missing, then migrates it. */
export async function prepareSchema(client: PgQueryable, k: ReturnType<typeof compiler>, s: Settings, ctx: ErrorContext): Promise<MigrationResult> {
  if (s.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${s.schema}`);
  return migrate(client, k, ctx);
}

/**
 * Applies the migrations to a PostgreSQL schema and says what it found: `tessera migrate` runs
 * this before app servers start, so that none of them migrates at boot. Same options as
 * {@link postgresStore}. Rejects with STORE_UNAVAILABLE when the server cannot be reached or the
 * schema is newer than this @tessera/postgres (it never migrates down).
 */
export async function migratePostgres(options: PostgresStoreOptions | string): Promise<MigrationResult> {
  const s = validate(typeof options === 'string' ? { connectionString: options } : options);
  const ctx: ErrorContext = { where: where(s) };
  if (s.pool) {
    let lease: Lease;
    try {
      lease = await Lease.take(s.pool);
    } catch (e) {
      throw toStoreError(e, ctx, 'migrating the schema');
    }
    let broken: unknown;
    try {
      return await prepareSchema(lease.client, compiler(), s, ctx);
    } catch (e) {
      broken = e;
      throw toStoreError(e, ctx, 'migrating the schema');
    } finally {
      lease.release(broken);
    }
  }
  const client = new pg.Client({ connectionString: s.connectionString, application_name: 'tessera migrate', ...searchPathOption(s.schema) });
  // A connection that fails also rejects the statement in flight, which is what the caller sees;
  // the listener only keeps pg's 'error' event from ending the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await prepareSchema(client, compiler(), s, ctx);
  } catch (e) {
    throw toStoreError(e, ctx, 'migrating the schema');
  } finally {
    await client.end().catch(() => undefined);
  }
}
