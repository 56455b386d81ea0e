/**
 * Credit grants, the order they burn in, and the ledger that records every change to them
 * (docs/credits.md). Pure: grants and `at` in, new grant states and ledger entries out.
 *
 * Credits are exact decimals (up to 18 integer and 12 fraction digits, e.g. '0.0001'): they
 * are never rounded. Only money is rounded, by `roundMoney` (rules/recharge.ts prices credits).
 * The limits keep every sum of credit amounts exact in the project's 40-digit Decimal.
 *
 * The code is split by concern into credits-grants.ts (grants, amounts, ledger entries),
 * credits-burn.ts (burn order, burning) and credits-ledger.ts (expiry, voids, applying entries,
 * ledger checks); this module is the one to import.
 */
export {
  CREDIT_CATEGORIES,
  CREDIT_MAX_FRACTION_DIGITS,
  DEFAULT_CREDIT_PRIORITY,
  createGrant,
  creditString,
  isExpiredAt,
  isUsableAt,
  isVoidedAt,
  toCreditAmount,
  type CreditAmount,
  type CreditCategory,
  type CreditGrant,
  type CreditGrantInput,
  type LedgerEntry,
  type LedgerEntryKind,
} from './credits-grants.js';
export {
  applyBurn,
  balanceAt,
  burnCredits,
  burnEntries,
  burnOrder,
  compareBurnOrder,
  planBurn,
  type BurnPlan,
  type BurnResult,
  type CreditBurn,
} from './credits-burn.js';
export { applyEntries, expireCredits, expiryEntries, ledgerBalance, ledgerMismatches, nextCreditExpiry, voidGrant } from './credits-ledger.js';
