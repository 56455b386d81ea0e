// The credit vocabulary (grants, ledger entries, amounts) and grant creation, split out of credits.ts so the burn and ledger modules share it without importing each other's internals.
import { invalidArgument } from '../errors.js';
import type { CreditGrantRecord } from '../records.js';
import { Decimal, isDecimalString } from '../money.js';

/** PAID credits were bought; PROMOTIONAL ones were given away. Promotional burn first on ties. */
export type CreditCategory = 'PAID' | 'PROMOTIONAL';
export const CREDIT_CATEGORIES: readonly CreditCategory[] = ['PAID', 'PROMOTIONAL'];

/**
 * The priority of a grant that names none. 1 burns first; the default leaves room to put a
 * grant ahead of the ordinary ones (priority 1 to 99) or behind them (101 and up).
 */
export const DEFAULT_CREDIT_PRIORITY = 100;

/** Most fraction digits a credit amount may have ('0.000000000001'). */
export const CREDIT_MAX_FRACTION_DIGITS = 12;
/** Credit amounts are below this (1e18): with 12 fraction digits, 30 significant digits at most. */
const CREDIT_AMOUNT_BOUND = new Decimal('1e18');

/** One grant of credits to a customer: the stored record is what the rules take (records.ts). */
export type CreditGrant = CreditGrantRecord;

/**
 * What a ledger entry records. GRANT and RECHARGE open a grant (+amount; RECHARGE when the grant
 * was bought by automatic recharge); BURN, EXPIRE and VOID take credits off it (negative).
 */
export type LedgerEntryKind = 'GRANT' | 'RECHARGE' | 'BURN' | 'EXPIRE' | 'VOID';

/**
 * One change to one grant. The ledger balances: for every grant, the sum of its entries'
 * `amount` equals its `remaining` (see `ledgerMismatches`).
 */
export interface LedgerEntry {
  grantId: string;
  customerId: string;
  currencyId: string;
  kind: LedgerEntryKind;
  /** Signed delta in credits: positive for GRANT/RECHARGE, negative (or '0') for BURN/EXPIRE/VOID. */
  amount: string;
  /** Epoch ms the change took effect (EXPIRE: the grant's expiresAt). */
  at: number;
  /** What caused it: the caller's idempotency key, a usage report, an invoice id... */
  reference?: string;
}

/** A credit amount as a Decimal string or a Decimal. */
export type CreditAmount = string | Decimal;

/** A Decimal as a plain string, never '-0'. */
export function creditString(d: Decimal): string {
  return d.isZero() ? '0' : d.toFixed();
}

/**
 * Parses a credit amount: a plain decimal string ('12', '0.0001') with at most 12 fraction
 * digits, below 1e18, and > 0 (>= 0 with `allowZero`). Decimals pass through the same checks.
 * Throws `INVALID_ARGUMENT` with `details.field` = `field`.
 */
export function toCreditAmount(value: CreditAmount, field = 'amount', options: { allowZero?: boolean } = {}): Decimal {
  let d: Decimal;
  if (Decimal.isDecimal(value)) d = new Decimal(value);
  else if (isDecimalString(value)) d = new Decimal(value);
  else throw invalidArgument(field, `must be a decimal string of credits such as '10' or '0.5', got ${show(value)}`, { value });
  if (!d.isFinite()) throw invalidArgument(field, 'must be a finite number of credits', { value: String(value) });
  if (d.isNegative() && !d.isZero()) throw invalidArgument(field, 'must not be negative', { value: creditString(d) });
  if (d.isZero() && !options.allowZero) throw invalidArgument(field, 'must be more than 0 credits', { value: '0' });
  if (d.decimalPlaces() > CREDIT_MAX_FRACTION_DIGITS) {
    throw invalidArgument(field, `may have at most ${CREDIT_MAX_FRACTION_DIGITS} fraction digits`, { value: creditString(d) });
  }
  if (d.gte(CREDIT_AMOUNT_BOUND)) throw invalidArgument(field, 'must be below 1000000000000000000 credits', { value: creditString(d) });
  return d;
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : typeof v;
}

/** What `createGrant` needs. Defaults: category PAID, priority 100, no expiry, kind GRANT. */
export interface CreditGrantInput {
  id: string;
  customerId: string;
  currencyId: string;
  amount: CreditAmount;
  category?: CreditCategory;
  priority?: number;
  expiresAt?: number | null;
  /** Epoch ms; the engine passes `now`. */
  createdAt: number;
  /** RECHARGE for a grant bought by automatic recharge; GRANT otherwise. */
  kind?: 'GRANT' | 'RECHARGE';
  reference?: string;
}

/**
 * A new grant (remaining = amount) and the ledger entry that opens it (+amount).
 * Throws `INVALID_ARGUMENT` for a non-positive or malformed amount, a priority that is not a
 * positive whole number, an unknown category, or an `expiresAt` not after `createdAt`.
 * Example: createGrant({ id: 'g1', ..., amount: '100', createdAt: t }) = { grant: { remaining: '100', priority: 100, ... }, entry: { kind: 'GRANT', amount: '100', at: t } }.
 */
export function createGrant(input: CreditGrantInput): { grant: CreditGrant; entry: LedgerEntry } {
  const amount = toCreditAmount(input.amount, 'amount');
  const category = input.category ?? 'PAID';
  if (!CREDIT_CATEGORIES.includes(category)) {
    throw invalidArgument('category', `must be PAID or PROMOTIONAL, got ${show(category)}`, { value: category, allowed: CREDIT_CATEGORIES });
  }
  const priority = input.priority ?? DEFAULT_CREDIT_PRIORITY;
  if (!Number.isSafeInteger(priority) || priority < 1) {
    throw invalidArgument('priority', 'must be a whole number >= 1 (1 burns first)', { value: priority });
  }
  if (!Number.isFinite(input.createdAt)) throw invalidArgument('createdAt', 'must be an instant (epoch ms)', { value: input.createdAt });
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= input.createdAt)) {
    throw invalidArgument('expiresAt', 'must be after the grant is created', { value: expiresAt });
  }
  const kind = input.kind ?? 'GRANT';
  if (kind !== 'GRANT' && kind !== 'RECHARGE') {
    throw invalidArgument('kind', 'must be GRANT or RECHARGE', { value: kind, allowed: ['GRANT', 'RECHARGE'] });
  }
  const text = creditString(amount);
  const grant: CreditGrant = {
    id: input.id,
    customerId: input.customerId,
    currencyId: input.currencyId,
    category,
    amount: text,
    remaining: text,
    priority,
    expiresAt,
    createdAt: input.createdAt,
    voidedAt: null,
  };
  return { grant, entry: entryFor(grant, kind, amount, input.createdAt, input.reference) };
}

export function entryFor(grant: CreditGrant, kind: LedgerEntryKind, amount: Decimal, at: number, reference?: string): LedgerEntry {
  const entry: LedgerEntry = { grantId: grant.id, customerId: grant.customerId, currencyId: grant.currencyId, kind, amount: creditString(amount), at };
  if (reference !== undefined) entry.reference = reference;
  return entry;
}

/** True when the grant is voided at `at` (voidedAt <= at). */
export function isVoidedAt(grant: CreditGrant, at: number): boolean {
  return grant.voidedAt !== null && grant.voidedAt <= at;
}

/** True when the grant has expired at `at`: credits count in [createdAt, expiresAt). */
export function isExpiredAt(grant: CreditGrant, at: number): boolean {
  return grant.expiresAt !== null && grant.expiresAt <= at;
}

/** True when `at` may burn the grant: created by then, not voided, not expired, credits remaining. */
export function isUsableAt(grant: CreditGrant, at: number): boolean {
  return grant.createdAt <= at && !isVoidedAt(grant, at) && !isExpiredAt(grant, at) && new Decimal(grant.remaining).gt(0);
}
