import type { Compilable, Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Promotional entitlements, credit grants, the credit ledger and recharge settings.
 *
 * Credit amounts (`amount`, `remaining`, thresholds, targets, spend limits) are TEXT holding the
 * decimal string as written: a REAL would round '0.000000000001' or '123456789012345678.5', and
 * TEXT affinity never converts a bound string to a number.
 */
export const promotionsAndCredits: Migration = {
  version: 4,
  name: 'promotions-and-credits',
  up(db: Kysely<any>): Compilable[] {
    const promotionalGrants = db.schema
      .createTable('promotional_grants')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('feature_id', 'text', (c) => c.notNull())
      .addColumn('entitlement', 'text', (c) => c.notNull())
      .addColumn('start_date', 'integer', (c) => c.notNull())
      .addColumn('end_date', 'integer')
      .addColumn('revoked_at', 'integer')
      .addColumn('created_at', 'integer', (c) => c.notNull());
    // listPromotionalGrants: equality on the customer, rows already in (createdAt, id) order.
    const promotionalGrantsByCustomer = db.schema
      .createIndex('promotional_grants_by_customer')
      .on('promotional_grants')
      .columns(['customer_id', 'created_at', 'id']);

    const creditGrants = db.schema
      .createTable('credit_grants')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('currency_id', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('amount', 'text', (c) => c.notNull())
      .addColumn('remaining', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'integer')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('voided_at', 'integer');
    // listCreditGrants of one currency (the burn path) reads rows in (createdAt, id) order; across
    // currencies it sorts the customer's few grants.
    const creditGrantsByCustomer = db.schema
      .createIndex('credit_grants_by_customer')
      .on('credit_grants')
      .columns(['customer_id', 'currency_id', 'created_at', 'id']);

    // seq is the rowid. Without AUTOINCREMENT a new row gets the largest seq + 1, which increases
    // as long as entries are never deleted (the ledger is append-only), and an insert skips the
    // sqlite_sequence update AUTOINCREMENT would add. A rolled-back seq may be handed out again:
    // nobody saw it.
    const creditLedger = db.schema
      .createTable('credit_ledger')
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('grant_id', 'text', (c) => c.notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('currency_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('amount', 'text', (c) => c.notNull())
      .addColumn('at', 'integer', (c) => c.notNull())
      .addColumn('reference', 'text');
    const creditLedgerByCustomer = db.schema
      .createIndex('credit_ledger_by_customer')
      .on('credit_ledger')
      .columns(['customer_id', 'currency_id', 'seq']);

    const rechargeConfigs = db.schema
      .createTable('recharge_configs')
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('currency_id', 'text', (c) => c.notNull())
      // 0 or 1.
      .addColumn('is_enabled', 'integer', (c) => c.notNull())
      .addColumn('threshold_type', 'text', (c) => c.notNull())
      .addColumn('threshold_value', 'text', (c) => c.notNull())
      .addColumn('target_balance', 'text', (c) => c.notNull())
      .addColumn('max_spend_limit', 'text')
      .addColumn('grant_expiration_period', 'text')
      .addColumn('updated_at', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('recharge_configs_pk', ['customer_id', 'currency_id']);

    return [
      promotionalGrants,
      promotionalGrantsByCustomer,
      creditGrants,
      creditGrantsByCustomer,
      creditLedger,
      creditLedgerByCustomer,
      rechargeConfigs,
    ];
  },
};
