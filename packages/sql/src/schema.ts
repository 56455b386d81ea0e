/**
 * The SQLite tables as kysely sees them: one interface per table, columns in snake_case.
 * Instants are INTEGER epoch milliseconds (UTC); JSON-shaped fields are TEXT holding JSON, SQL
 * NULL where the record field is null.
 */
import type { Generated } from 'kysely';

/** A TEXT column holding `JSON.stringify` of a record field. */
export type JsonText = string;

export interface CatalogVersionsTable {
  version: number;
  published_at: number;
  definition: JsonText;
  plan_versions: JsonText;
  addon_versions: JsonText;
}

export interface CustomersTable {
  customer_id: string;
  name: string | null;
  email: string | null;
  coupon_id: string | null;
  billing_info: JsonText | null;
  metadata: JsonText;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
  /** Added in schema v3; null on rows written before. */
  coupon_applied_at: number | null;
}

export interface SubscriptionsTable {
  id: string;
  customer_id: string;
  product_id: string;
  plan_id: string;
  plan_version: number;
  catalog_version: number;
  resource_id: string;
  billing_period: string | null;
  status: string;
  start_date: number;
  billing_anchor: number;
  usage_anchor: number;
  trial_end_date: number | null;
  end_date: number | null;
  cancellation_date: number | null;
  addons: JsonText;
  billable_features: JsonText;
  promotion_code: string | null;
  billing_country_code: string | null;
  scheduled_updates: JsonText;
  metadata: JsonText;
  created_at: number;
  updated_at: number;
  /** `promotionCodeAppliedAt`; added in schema v3, null on rows written before. */
  promotion_applied_at: number | null;
}

export interface UsageTable {
  customer_id: string;
  resource_id: string;
  /** Part of the key since schema v6 (SQLite) / v4 (PostgreSQL); '' for the customer's own (pooled) cell. */
  entity_id: string;
  feature_id: string;
  window_start: number;
  window_end: number;
  value: number;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  latest_at: number | null;
  latest_value: number | null;
  updated_at: number;
}

export interface UsageDistinctTable {
  customer_id: string;
  resource_id: string;
  /** Part of the key since schema v6 (SQLite) / v4 (PostgreSQL), as on `usage`. */
  entity_id: string;
  feature_id: string;
  window_start: number;
  window_end: number;
  value: string;
}

export interface EventsTable {
  /** SQLite from schema v8: the rowid, which `event_keys` points at. Absent on PostgreSQL. */
  id: Generated<number>;
  /** SQLite from schema v8: `eventKeyHash(idempotency_key)` (event-keys.ts). Absent on PostgreSQL. */
  key_hash: number;
  idempotency_key: string;
  customer_id: string;
  event_name: string;
  resource_id: string;
  /** Added in schema v6 (SQLite) / v4 (PostgreSQL); '' when none. */
  entity_id: string;
  dimensions: JsonText;
  timestamp: number;
  received_at: number;
  unmatched_reason: string | null;
}

/**
 * SQLite from schema v8: which event carries a key hash, for every event up to
 * `event_keys_state.merged_through` (packages/sqlite/README.md#event-keys). PostgreSQL keeps its
 * unique index on `events.idempotency_key` instead.
 */
export interface EventKeysTable {
  key_hash: number;
  event_id: number;
}

/** SQLite from schema v8: one row; the events up to `merged_through` (an id) are in `event_keys`. */
export interface EventKeysStateTable {
  merged_through: number;
}

export interface ReservationsTable {
  id: string;
  customer_id: string;
  resource_id: string;
  /** Added in schema v6 (SQLite) / v4 (PostgreSQL); '' when none. */
  entity_id: string;
  feature_id: string;
  window_start: number;
  window_end: number;
  amount: number;
  expires_at: number;
  status: string;
  committed_amount: number | null;
  created_at: number;
  updated_at: number;
}

export interface IdempotencyTable {
  scope: string;
  key: string;
  /** SQL NULL stands for an `undefined` result; JSON `null` is the text 'null'. */
  result: JsonText | null;
  created_at: number;
}

export interface ChangesTable {
  seq: Generated<number>;
  at: number;
  kind: string;
  customer_id: string | null;
  entity_id: string | null;
  payload: JsonText | null;
}

export interface InvoicesTable {
  id: string;
  customer_id: string;
  subscription_id: string | null;
  kind: string;
  dedupe_key: string;
  status: string;
  currency: string;
  period_start: number | null;
  period_end: number | null;
  lines: JsonText;
  /** Decimal strings, kept as written: SQLite numbers would lose exactness. */
  sub_total: string;
  discount: JsonText | null;
  tax: string;
  total: string;
  excess_credit: string;
  created_at: number;
}

/** Added in schema v4. */
export interface PromotionalGrantsTable {
  id: string;
  customer_id: string;
  resource_id: string;
  feature_id: string;
  entitlement: JsonText;
  start_date: number;
  end_date: number | null;
  revoked_at: number | null;
  created_at: number;
}

/** Per-customer entitlement overrides (docs/overrides.md); SQLite v6, PostgreSQL v4. */
export interface EntitlementOverridesTable {
  id: string;
  customer_id: string;
  resource_id: string;
  feature_id: string;
  entitlement: JsonText;
  start_date: number;
  end_date: number | null;
  reason: string | null;
  removed_at: number | null;
  created_at: number;
}

/** Added in schema v4. Amounts are decimal strings, kept as written. */
export interface CreditGrantsTable {
  id: string;
  customer_id: string;
  currency_id: string;
  category: string;
  amount: string;
  remaining: string;
  priority: number;
  expires_at: number | null;
  created_at: number;
  voided_at: number | null;
}

/** Added in schema v4; `seq` is the rowid, assigned on insert. */
export interface CreditLedgerTable {
  seq: Generated<number>;
  grant_id: string;
  customer_id: string;
  currency_id: string;
  kind: string;
  amount: string;
  at: number;
  reference: string | null;
}

/** Added in schema v4. */
export interface RechargeConfigsTable {
  customer_id: string;
  currency_id: string;
  /** 0 or 1. */
  is_enabled: number;
  threshold_type: string;
  threshold_value: string;
  target_balance: string;
  max_spend_limit: string | null;
  grant_expiration_period: string | null;
  updated_at: number;
}

/** Added in schema v5 (SQLite) / v3 (PostgreSQL): the outbox of provider calls. */
export interface ProviderCallsTable {
  key: string;
  kind: string;
  customer_id: string;
  entity_id: string;
  input: JsonText;
  status: string;
  /** SQL NULL while there is no result. */
  result: JsonText | null;
  attempts: number;
  not_before: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** Added in schema v6 (SQLite) / v4 (PostgreSQL): the members of a customer (docs/entities.md). */
export interface EntitiesTable {
  customer_id: string;
  entity_id: string;
  feature_id: string | null;
  name: string | null;
  metadata: JsonText;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** One row per applied migration; `PRAGMA user_version` holds the highest one. */
export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

/** Every table of the Tessera SQLite schema. */
export interface Database {
  catalog_versions: CatalogVersionsTable;
  customers: CustomersTable;
  subscriptions: SubscriptionsTable;
  usage: UsageTable;
  usage_distinct: UsageDistinctTable;
  events: EventsTable;
  event_keys: EventKeysTable;
  event_keys_state: EventKeysStateTable;
  reservations: ReservationsTable;
  idempotency: IdempotencyTable;
  changes: ChangesTable;
  invoices: InvoicesTable;
  promotional_grants: PromotionalGrantsTable;
  entitlement_overrides: EntitlementOverridesTable;
  credit_grants: CreditGrantsTable;
  credit_ledger: CreditLedgerTable;
  recharge_configs: RechargeConfigsTable;
  provider_calls: ProviderCallsTable;
  entities: EntitiesTable;
  schema_migrations: SchemaMigrationsTable;
}
