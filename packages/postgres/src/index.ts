export { postgresStore, type PostgresStoreOptions } from './store.js';
export { SCHEMA_VERSION } from './migrations/index.js';
