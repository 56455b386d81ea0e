// The shared setup of the engine.transaction tests and their crash worker: an application's
// better-sqlite3 file with a `projects` table, Tessera's tables beside it (prefix 'tessera_').
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createEngine, type CatalogDefinition, type Engine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog } from './stores.js';

export const PROJECT_LIMIT = 1000;

/** The demo catalog with `projects` a cumulative quota (METERED, PROJECT_LIMIT on every plan) rather than a number. */
export function projectsCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features = c.features.map((f) => (f.id === 'projects' ? { id: 'projects', displayName: 'Projects', type: 'METERED' } : f));
  for (const plan of c.plans) {
    plan.entitlements = plan.entitlements?.map((e) => (e.featureId === 'projects' ? { featureId: 'projects', usageLimit: PROJECT_LIMIT } : e));
  }
  return c;
}

export interface AppDb {
  projects: { id: string; customer_id: string; name: string };
}

export interface App {
  db: Database.Database;
  kysely: Kysely<AppDb>;
  engine: Engine;
  close(): Promise<void>;
}

/** Opens the application's database (WAL, its own table) and an engine sharing its connection. */
export async function openApp(filename: string, withCatalog = true): Promise<App> {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec('create table if not exists projects (id text primary key, customer_id text not null, name text not null)');
  const kysely = new Kysely<AppDb>({ dialect: new SqliteDialect({ database: db }) });
  const engine = await createEngine({ store: sqliteStore({ database: db, tablePrefix: 'tessera_' }), ...(withCatalog ? { catalog: projectsCatalog() } : {}) });
  return {
    db,
    kysely,
    engine,
    close: async () => {
      await engine.close();
      db.close();
    },
  };
}

/** Creates a project row and consumes one `projects` unit, in one transaction. */
export function createProject(app: App, customerId: string, id: string): Promise<void> {
  return app.engine.transaction(async (tx) => {
    await app.kysely.insertInto('projects').values({ id, customer_id: customerId, name: id }).execute();
    await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
  });
}

export function projectRows(db: Database.Database, customerId: string): number {
  return (db.prepare('select count(*) as n from projects where customer_id = ?').get(customerId) as { n: number }).n;
}
