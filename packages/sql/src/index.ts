/**
 * @tessera/sql: the store code Tessera's SQL adapters share. The tables (schema.ts), how records
 * map to rows (rows*.ts), every statement (statements.ts, built once with kysely) and each StoreTx
 * operation (tx.ts) are written once here; a dialect package (@tessera/sqlite, @tessera/postgres)
 * brings the connection, transactions, migrations and error codes of its database.
 */
export type { Migration } from './migration.js';
export type { Database } from './schema.js';
export { Statements, type EntityFilters, type Prepare, type UsageFilters } from './statements.js';
export { SqlTx, type SqlExecutor, type TranslateError, type Maybe } from './tx.js';
export type { EventsInTx } from './tx-events.js';
export { changeFromRow } from './rows.js';
export { buildCustomerQuery, containsPattern } from './customer-query.js';
export { buildSubscriptionQuery, effectiveStatus, filterExpression } from './subscription-query.js';
export { TablePrefixPlugin, TABLE_PREFIX_PATTERN, TABLES } from './table-prefix.js';
export { eventKeyHash, EVENT_KEY_HASH_FUNCTION, EVENT_KEYS_MERGE_EVERY } from './event-keys.js';
