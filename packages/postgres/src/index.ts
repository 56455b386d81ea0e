export { postgresStore, type PostgresStoreOptions } from './store.js';
export { migratePostgres } from './migrate.js';
export type { MigrationResult } from './migrate.js';
export { SCHEMA_VERSION } from './migrations/index.js';
export { pglitePool, type PGliteLike, type PglitePoolOptions } from './pglite.js';
export type { PgPool, PgPoolClient } from './dialect.js';
