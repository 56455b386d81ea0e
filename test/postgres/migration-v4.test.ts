/**
 * PostgreSQL schema v4 (entities, docs/entities.md) reaches schemas written at v3: a schema is
 * built as the v3 code left it (migrations 1 to 3 and their history rows), given v3 usage cells,
 * distinct values, events and reservations, then opened with the current store. Runs on the run's
 * server, or on PGlite where there is none.
 */
import pg from 'pg';
import { postgresStore, SCHEMA_VERSION } from '@tessera/postgres';
import { TesseraError, type Store } from '@tessera/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compiler } from '../../packages/postgres/src/dialect.js';
import { MIGRATIONS } from '../../packages/postgres/src/migrations/index.js';
import { freshSchema, onPglite, pglitePoolFor, pgUrl, sharedPglite } from '../support/pg-stores.js';
import { T0, entity, event, reservation, usage, usageKey } from '../conformance/fixtures.js';

/** Raw SQL in one schema, beside the store: a client of its own on a server, turns on the shared PGlite. */
interface SchemaSql {
  exec(text: string): Promise<void>;
  rows(text: string, values?: unknown[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

async function sqlIn(schema: string): Promise<SchemaSql> {
  if (onPglite()) {
    const pool = pglitePoolFor(schema);
    const withClient = async <T>(fn: (c: Awaited<ReturnType<typeof pool.connect>>) => Promise<T>): Promise<T> => {
      const c = await pool.connect();
      try {
        return await fn(c);
      } finally {
        c.release();
      }
    };
    return {
      exec: (text) => withClient(async (c) => void (await c.query(text))),
      rows: (text, values = []) => withClient(async (c) => ((await c.query({ text, values, rowMode: 'array' })) as { rows: unknown[][] }).rows),
      close: async () => {},
    };
  }
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  return {
    exec: async (text) => void (await client.query(text)),
    rows: async (text, values = []) => (await client.query({ text, values, rowMode: 'array' })).rows as unknown[][],
    close: () => client.end(),
  };
}

const storeIn = (schema: string): Store =>
  onPglite() ? postgresStore({ pool: pglitePoolFor(schema) }) : postgresStore({ connectionString: pgUrl(), schema, poolSize: 2 });

// The v3 rows, as records of today (entityId ''): what the migrated schema must answer.
const cell = usage({ value: 42.5, count: 7 });
const held = reservation('r-held');
const committed = reservation('r-done', { status: 'COMMITTED', committedAmount: 4 });
const matched = event('k-1', { dimensions: { tokens: 3 } });
const unmatched = event('k-2', { unmatchedReason: 'no meter', receivedAt: T0 + 20 });

/** Builds `schema` at v3, as @tessera/postgres with migrations 1 to 3 left it, with rows in the v3 column layout. */
async function writeV3Schema(sql: SchemaSql): Promise<void> {
  const k = compiler();
  const steps = MIGRATIONS.slice(0, 3).flatMap((m) => m.up(k).map((s) => s.compile().sql));
  await sql.exec(
    [
      'CREATE TABLE schema_migrations (version bigint PRIMARY KEY NOT NULL, name text NOT NULL, applied_at bigint NOT NULL)',
      ...steps,
      `INSERT INTO schema_migrations VALUES ${MIGRATIONS.slice(0, 3).map((m) => `(${m.version}, '${m.name}', 1)`).join(', ')}`,
    ].join(';\n'),
  );
  await sql.rows(
    `insert into usage (customer_id, resource_id, feature_id, window_start, window_end, value, count, sum, min, max, latest_at, latest_value, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [cell.customerId, cell.resourceId, cell.featureId, cell.windowStart, cell.windowEnd, cell.value, cell.count, cell.sum, cell.min, cell.max, cell.latestAt, cell.latestValue, cell.updatedAt],
  );
  for (const v of ['a', 'b']) {
    await sql.rows(`insert into usage_distinct (customer_id, resource_id, feature_id, window_start, window_end, value) values ($1, $2, $3, $4, $5, $6)`, [
      cell.customerId,
      cell.resourceId,
      cell.featureId,
      cell.windowStart,
      cell.windowEnd,
      v,
    ]);
  }
  for (const e of [matched, unmatched]) {
    await sql.rows(
      `insert into events (idempotency_key, customer_id, event_name, resource_id, dimensions, timestamp, received_at, unmatched_reason) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.idempotencyKey, e.customerId, e.eventName, e.resourceId, JSON.stringify(e.dimensions), e.timestamp, e.receivedAt, e.unmatchedReason],
    );
  }
  for (const r of [held, committed]) {
    await sql.rows(
      `insert into reservations (id, customer_id, resource_id, feature_id, window_start, window_end, amount, expires_at, status, committed_amount, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [r.id, r.customerId, r.resourceId, r.featureId, r.windowStart, r.windowEnd, r.amount, r.expiresAt, r.status, r.committedAmount, r.createdAt, r.updatedAt],
    );
  }
}

/** Columns, indexes and constraints of a schema, with the schema's name taken out. */
async function schemaShape(sql: SchemaSql, schema: string): Promise<unknown> {
  return {
    columns: await sql.rows(
      `select table_name, column_name, ordinal_position, data_type, is_nullable, column_default, collation_name
       from information_schema.columns where table_schema = $1 order by table_name, column_name`,
      [schema],
    ),
    indexes: await sql.rows(`select tablename, indexname, replace(indexdef, $1 || '.', '') from pg_indexes where schemaname = $1 order by indexname`, [schema]),
    constraints: await sql.rows(
      `select conname, pg_get_constraintdef(c.oid) from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = $1 order by conname`,
      [schema],
    ),
  };
}

describe('postgres store: migration to schema v4', () => {
  // PGlite starts once for the file, before the cases: it takes seconds.
  beforeAll(async () => {
    if (onPglite()) await sharedPglite();
  }, 120_000);
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('migrates a v3 schema: usage, distinct values, events and reservations keep their values with entityId \'\'', async () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(4);
    const schema = freshSchema('mig');
    const sql = await sqlIn(schema);
    cleanup.push(() => sql.close());
    await writeV3Schema(sql);

    const store = storeIn(schema);
    await store.open();
    cleanup.push(() => store.close());
    await store.transaction('read', async (tx) => {
      expect(await tx.getUsage(usageKey())).toEqual(cell);
      expect(await tx.listUsage({ customerId: 'c1', entityId: '' })).toEqual([cell]);
      expect(await tx.listUsage({ customerId: 'c1', entityId: 'e1' })).toEqual([]);
      expect(await tx.getEvent('k-1')).toEqual(matched);
      expect(await tx.listUnmatchedEvents(10)).toEqual([unmatched]);
      expect(await tx.getReservation('r-done')).toEqual(committed);
      expect(await tx.listHeldReservations({ customerId: 'c1', resourceId: '', entityId: '', featureId: 'api-calls' })).toEqual([held]);
    });
    await store.transaction('write', async (tx) => {
      expect(await tx.addDistinctValue(usageKey(), 'a')).toBe(false);
      expect(await tx.addDistinctValue(usageKey({ entityId: 'e1' }), 'a')).toBe(true);
      await tx.putUsage(usage({ entityId: 'e1', value: 1, count: 1 }));
      await tx.putEntity(entity('e1'));
    });
    await store.transaction('read', async (tx) => {
      expect(await tx.getUsages([usageKey(), usageKey({ entityId: 'e1' })])).toEqual([cell, usage({ entityId: 'e1', value: 1, count: 1 })]);
      expect(await tx.listEntities({ customerId: 'c1', limit: 10 })).toEqual([entity('e1')]);
    });
    expect(await sql.rows('select version::int, name from schema_migrations order by version')).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));

    // The migrated schema is the schema of a new store.
    const freshName = freshSchema('new');
    const fresh = storeIn(freshName);
    await fresh.open();
    await fresh.close();
    expect(await schemaShape(sql, schema)).toEqual(await schemaShape(sql, freshName));
  });

  it('an entity row with damaged metadata fails reads of that entity with STORE_CORRUPT naming table and key; others read', async () => {
    const schema = freshSchema('ent');
    const store = storeIn(schema);
    await store.open();
    cleanup.push(() => store.close());
    await store.transaction('write', async (tx) => {
      await tx.putEntity(entity('ok'));
      await tx.putEntity(entity('bad'));
    });
    const sql = await sqlIn(schema);
    cleanup.push(() => sql.close());
    await sql.rows(`update entities set metadata = '{not json' where entity_id = 'bad'`);
    const failure = await store.transaction('read', (tx) => tx.getEntity('c1', 'bad')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TesseraError);
    expect((failure as TesseraError).code).toBe('STORE_CORRUPT');
    expect((failure as TesseraError).details).toMatchObject({ table: 'entities', key: 'c1/bad', column: 'metadata' });
    await expect(store.transaction('read', (tx) => tx.listEntities({ customerId: 'c1', limit: 10 }))).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    expect(await store.transaction('read', (tx) => tx.getEntity('c1', 'ok'))).toEqual(entity('ok'));
  });
});
