export { sqliteStore, sqliteConnection, walCheckpointPages, type SqliteStoreOptions, type SqliteDurability } from './store.js';
export { SCHEMA_VERSION } from './migrations/index.js';
