/** Row mappings of billing: invoices, credit grants, the credit ledger and recharge configs; see rows.ts for how records map to rows. */
import type {
  CreditGrantRecord,
  CreditLedgerRecord,
  InvoiceRecord,
  NewCreditLedgerRecord,
  RechargeConfigRecord,
} from '@tessera/core';
import { type Columns, json, jsonOrNull, parse, parseOrNull } from './rows-encoding.js';

export const INVOICE_COLUMNS = [
  'id',
  'customer_id',
  'subscription_id',
  'kind',
  'dedupe_key',
  'status',
  'currency',
  'period_start',
  'period_end',
  'lines',
  'sub_total',
  'discount',
  'tax',
  'total',
  'excess_credit',
  'created_at',
] as const satisfies Columns<'invoices'>;
type InvoiceRow = [
  string, string, string | null, string, string, string, string, number | null, number | null,
  string, string, string | null, string, string, string, number,
];

export function invoiceToRow(r: InvoiceRecord): InvoiceRow {
  return [
    r.id,
    r.customerId,
    r.subscriptionId,
    r.kind,
    r.dedupeKey,
    r.status,
    r.currency,
    r.periodStart,
    r.periodEnd,
    json(r.lines),
    r.subTotal,
    jsonOrNull(r.discount),
    r.tax,
    r.total,
    r.excessCredit,
    r.createdAt,
  ];
}

export function invoiceFromRow(row: unknown): InvoiceRecord {
  const r = row as InvoiceRow;
  return {
    id: r[0],
    customerId: r[1],
    subscriptionId: r[2],
    kind: r[3] as InvoiceRecord['kind'],
    dedupeKey: r[4],
    status: r[5] as InvoiceRecord['status'],
    currency: r[6],
    periodStart: r[7],
    periodEnd: r[8],
    lines: parse(r[9], 'invoices', r[0], 'lines'),
    subTotal: r[10],
    discount: parseOrNull(r[11], 'invoices', r[0], 'discount'),
    tax: r[12],
    total: r[13],
    excessCredit: r[14],
    createdAt: r[15],
  };
}

export const CREDIT_GRANT_COLUMNS = [
  'id',
  'customer_id',
  'currency_id',
  'category',
  'amount',
  'remaining',
  'priority',
  'expires_at',
  'created_at',
  'voided_at',
] as const satisfies Columns<'credit_grants'>;
type CreditGrantRow = [string, string, string, string, string, string, number, number | null, number, number | null];

export function creditGrantToRow(r: CreditGrantRecord): CreditGrantRow {
  return [r.id, r.customerId, r.currencyId, r.category, r.amount, r.remaining, r.priority, r.expiresAt, r.createdAt, r.voidedAt];
}

export function creditGrantFromRow(row: unknown): CreditGrantRecord {
  const [id, customerId, currencyId, category, amount, remaining, priority, expiresAt, createdAt, voidedAt] = row as CreditGrantRow;
  return {
    id,
    customerId,
    currencyId,
    category: category as CreditGrantRecord['category'],
    amount,
    remaining,
    priority,
    expiresAt,
    createdAt,
    voidedAt,
  };
}

/** Inserted columns of a ledger entry; `seq` is assigned by SQLite. */
export const NEW_CREDIT_LEDGER_COLUMNS = [
  'grant_id',
  'customer_id',
  'currency_id',
  'kind',
  'amount',
  'at',
  'reference',
] as const satisfies Columns<'credit_ledger'>;
type NewCreditLedgerRow = [string, string, string, string, string, number, string | null];

export function newCreditLedgerToRow(e: NewCreditLedgerRecord): NewCreditLedgerRow {
  return [e.grantId, e.customerId, e.currencyId, e.kind, e.amount, e.at, e.reference];
}

export const CREDIT_LEDGER_COLUMNS = ['seq', ...NEW_CREDIT_LEDGER_COLUMNS] as const satisfies Columns<'credit_ledger'>;
type CreditLedgerRow = [number, ...NewCreditLedgerRow];

export function creditLedgerFromRow(row: unknown): CreditLedgerRecord {
  const [seq, grantId, customerId, currencyId, kind, amount, at, reference] = row as CreditLedgerRow;
  return { seq, grantId, customerId, currencyId, kind: kind as CreditLedgerRecord['kind'], amount, at, reference };
}

/** The columns of a recharge config's key, in the order `getRechargeConfig` binds them. */
export const RECHARGE_CONFIG_KEY_COLUMNS = ['customer_id', 'currency_id'] as const satisfies Columns<'recharge_configs'>;

export const RECHARGE_CONFIG_COLUMNS = [
  ...RECHARGE_CONFIG_KEY_COLUMNS,
  'is_enabled',
  'threshold_type',
  'threshold_value',
  'target_balance',
  'max_spend_limit',
  'grant_expiration_period',
  'updated_at',
] as const satisfies Columns<'recharge_configs'>;
type RechargeConfigRow = [string, string, number, string, string, string, string | null, string | null, number];

export function rechargeConfigToRow(r: RechargeConfigRecord): RechargeConfigRow {
  return [
    r.customerId,
    r.currencyId,
    r.isEnabled ? 1 : 0,
    r.thresholdType,
    r.thresholdValue,
    r.targetBalance,
    r.maxSpendLimit,
    r.grantExpirationPeriod,
    r.updatedAt,
  ];
}

export function rechargeConfigFromRow(row: unknown): RechargeConfigRecord {
  const [customerId, currencyId, isEnabled, thresholdType, thresholdValue, targetBalance, maxSpendLimit, grantExpirationPeriod, updatedAt] =
    row as RechargeConfigRow;
  return {
    customerId,
    currencyId,
    isEnabled: isEnabled === 1,
    thresholdType: thresholdType as RechargeConfigRecord['thresholdType'],
    thresholdValue,
    targetBalance,
    maxSpendLimit,
    grantExpirationPeriod: grantExpirationPeriod as RechargeConfigRecord['grantExpirationPeriod'],
    updatedAt,
  };
}
