/**
 * How each record maps to a table row. Every table has a column list and a row tuple in that
 * order: statements select and insert exactly those columns, and hot reads fetch rows as arrays
 * (better-sqlite3 raw mode, about a third cheaper than row objects), so the mappers below go by
 * position. Keep each list, tuple and pair of mappers in step; the conformance round trips catch
 * a slip.
 */
export {
  CATALOG_VERSION_COLUMNS,
  CHANGE_COLUMNS,
  IDEMPOTENCY_COLUMNS,
  NEW_CHANGE_COLUMNS,
  PROVIDER_CALL_COLUMNS,
  catalogVersionFromRow,
  catalogVersionToRow,
  changeFromRow,
  idempotencyFromRow,
  idempotencyToRow,
  newChangeToRow,
  providerCallFromRow,
  providerCallToRow,
} from './rows-bookkeeping.js';
export {
  CUSTOMER_COLUMNS,
  ENTITY_COLUMNS,
  PROMOTIONAL_GRANT_COLUMNS,
  ENTITLEMENT_OVERRIDE_COLUMNS,
  SUBSCRIPTION_COLUMNS,
  customerFromRow,
  customerToRow,
  entityFromRow,
  entityToRow,
  entitlementOverrideFromRow,
  entitlementOverrideToRow,
  promotionalGrantFromRow,
  promotionalGrantToRow,
  subscriptionFromRow,
  subscriptionToRow,
} from './rows-customers.js';
export {
  EVENT_COLUMNS,
  RESERVATION_COLUMNS,
  USAGE_COLUMNS,
  USAGE_KEY_COLUMNS,
  eventFromRow,
  eventToRow,
  reservationFromRow,
  reservationToRow,
  usageFromRow,
  usageKeyArgs,
  usageToRow,
} from './rows-usage.js';
export {
  CREDIT_GRANT_COLUMNS,
  CREDIT_LEDGER_COLUMNS,
  INVOICE_COLUMNS,
  NEW_CREDIT_LEDGER_COLUMNS,
  RECHARGE_CONFIG_COLUMNS,
  RECHARGE_CONFIG_KEY_COLUMNS,
  creditGrantFromRow,
  creditGrantToRow,
  creditLedgerFromRow,
  invoiceFromRow,
  invoiceToRow,
  newCreditLedgerToRow,
  rechargeConfigFromRow,
  rechargeConfigToRow,
} from './rows-billing.js';
