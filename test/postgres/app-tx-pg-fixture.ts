// The shared setup of the PostgreSQL engine.transaction tests and their crash worker: an
// application's `projects` table and Tessera's tables in one schema of the run's server, the
// application reading through a pool of its own (docs/transactions.md#postgresql).
import pg from 'pg';
import type { Kysely } from 'kysely';
import { createEngine, type CatalogDefinition, type Engine, type MeteredEntitlement } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

export interface AppDb {
  projects: { id: string; customer_id: string; name: string };
}

/** The demo catalog with `projects` a cumulative quota of `limit` on every plan. */
export function projectsCatalog(limit: number): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features = c.features.map((f) => (f.id === 'projects' ? { id: 'projects', displayName: 'Projects', type: 'METERED' } : f));
  for (const plan of c.plans) plan.entitlements = plan.entitlements?.map((e) => (e.featureId === 'projects' ? { featureId: 'projects', usageLimit: limit } : e));
  return c;
}

export interface PgApp {
  engine: Engine;
  /** The application's own pool (search_path: the test's schema), outside any engine.transaction. */
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens an engine on `schema` and the application's pool; creates `projects` when missing. */
export async function openPgApp(connectionString: string, schema: string, limit: number | undefined, extra: Partial<Parameters<typeof createEngine>[0]> = {}): Promise<PgApp> {
  const engine = await createEngine({
    store: postgresStore({ connectionString, schema, poolSize: 4 }),
    ...(limit !== undefined ? { catalog: projectsCatalog(limit) } : {}),
    ...extra,
  });
  const pool = new pg.Pool({ connectionString, max: 2, options: `-c search_path=${schema}` });
  await pool.query('create table if not exists projects (id text primary key, customer_id text not null, name text not null)');
  return {
    engine,
    pool,
    close: async () => {
      await engine.close();
      await pool.end();
    },
  };
}

/** Inserts a project row through `tx.db` and consumes one `projects` unit, in one transaction. */
export function createProject(app: PgApp, customerId: string, id: string): Promise<void> {
  return app.engine.transaction(async (tx) => {
    const db = tx.db as Kysely<AppDb>;
    await db.insertInto('projects').values({ id, customer_id: customerId, name: id }).execute();
    await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
  });
}

/** The customer's committed project rows, read on the application's pool. */
export async function projectRows(app: PgApp, customerId: string): Promise<number> {
  const r = await app.pool.query<{ n: string }>('select count(*) as n from projects where customer_id = $1', [customerId]);
  return Number(r.rows[0]!.n);
}

/** The customer's `projects` usage as a check sees it. */
export async function projectUsage(engine: Engine, customerId: string): Promise<number> {
  return ((await engine.getMeteredEntitlement({ customerId, featureId: 'projects' })) as MeteredEntitlement).currentUsage;
}
