export { postgresStore, migratePostgres, type PostgresStoreOptions } from './store.js';
export type { MigrationResult } from './migrate.js';
export { SCHEMA_VERSION } from './migrations/index.js';
