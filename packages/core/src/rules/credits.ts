/**
 * Credit grants, the order they burn in, and the ledger that records every change to them
 * (docs/credits.md). Pure: grants and `at` in, new grant states and ledger entries out.
 *
 * Credits are exact decimals (up to 18 integer and 12 fraction digits, e.g. '0.0001'): they
 * are never rounded. Only money is rounded, by `roundMoney` (rules/recharge.ts prices credits).
 * The limits keep every sum of credit amounts exact in the project's 40-digit Decimal.
 */
import { invalidArgument } from '../errors.js';
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

/**
 * One grant of credits of one credit currency to a customer. Amounts are decimal strings of
 * credits. `remaining` only goes down (burns, expiry, void); a grant is usable at `at` when
 * created by then, not voided, not expired (`at < expiresAt`) and with credits remaining.
 */
export interface CreditGrant {
  id: string;
  customerId: string;
  currencyId: string;
  category: CreditCategory;
  /** Credits granted, > 0. */
  amount: string;
  /** Credits not yet burnt, expired or voided; 0 <= remaining <= amount. */
  remaining: string;
  /** 1 burns first. */
  priority: number;
  /** Epoch ms (UTC) from which the grant no longer counts; null: never expires. */
  expiresAt: number | null;
  createdAt: number;
  /** Epoch ms of the void; null while not voided. */
  voidedAt: number | null;
}

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

/** Credits taken from one grant. */
export interface CreditBurn {
  grantId: string;
  amount: string;
}

/** What burning `amount` would take, grant by grant, in burn order (see `planBurn`). */
export interface BurnPlan {
  /** The amount asked for. */
  amount: string;
  burns: CreditBurn[];
  /** True when the usable balance covers the whole amount. */
  covered: boolean;
  /** amount - what the grants hold; '0' when covered. */
  shortfall: string;
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

function entryFor(grant: CreditGrant, kind: LedgerEntryKind, amount: Decimal, at: number, reference?: string): LedgerEntry {
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

const CATEGORY_RANK: Record<CreditCategory, number> = { PROMOTIONAL: 0, PAID: 1 };

/**
 * The burn order (docs/credits.md#burn-order): lower priority number first, then earliest
 * expiry (never-expiring last), then PROMOTIONAL before PAID, then the oldest grant (createdAt,
 * then id, so the order is total and does not depend on the input order).
 */
export function compareBurnOrder(a: CreditGrant, b: CreditGrant): number {
  const ea = a.expiresAt ?? Number.POSITIVE_INFINITY;
  const eb = b.expiresAt ?? Number.POSITIVE_INFINITY;
  return (
    a.priority - b.priority ||
    (ea < eb ? -1 : ea > eb ? 1 : 0) ||
    CATEGORY_RANK[a.category] - CATEGORY_RANK[b.category] ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** The grants usable at `at`, in the order they burn (see `compareBurnOrder`). */
export function burnOrder(grants: readonly CreditGrant[], at: number): CreditGrant[] {
  return grants.filter((g) => isUsableAt(g, at)).sort(compareBurnOrder);
}

/** The usable balance at `at`: the sum of `remaining` over the grants usable then. Never negative. */
export function balanceAt(grants: readonly CreditGrant[], at: number): string {
  let total = new Decimal(0);
  for (const g of grants) if (isUsableAt(g, at)) total = total.plus(g.remaining);
  return creditString(total);
}

/**
 * What burning `amount` at `at` would take, grant by grant in burn order. When the balance does
 * not cover it, `burns` empty every usable grant and `covered` is false: burning all or nothing
 * is the caller's choice (`burnCredits` burns only when covered). An amount of 0 burns nothing.
 * Example: grants A 30 (expires Mar 1) and B 50 (expires Apr 1), amount 40 -> A 30, B 10, covered.
 * Throws `INVALID_ARGUMENT` for a negative or malformed amount.
 */
export function planBurn(grants: readonly CreditGrant[], amount: CreditAmount, at: number): BurnPlan {
  const wanted = toCreditAmount(amount, 'amount', { allowZero: true });
  let left = wanted;
  const burns: CreditBurn[] = [];
  for (const g of burnOrder(grants, at)) {
    if (left.isZero()) break;
    const take = Decimal.min(left, g.remaining);
    burns.push({ grantId: g.id, amount: creditString(take) });
    left = left.minus(take);
  }
  return { amount: creditString(wanted), burns, covered: left.isZero(), shortfall: creditString(left) };
}

/** The BURN ledger entries of `burns` (negative amounts), at `at`. */
export function burnEntries(
  grants: readonly CreditGrant[],
  burns: readonly CreditBurn[],
  at: number,
  reference?: string,
): LedgerEntry[] {
  const byId = indexGrants(grants);
  return burns.map((b) => entryFor(requireGrant(byId, b.grantId), 'BURN', new Decimal(b.amount).neg(), at, reference));
}

/**
 * The grants after `burns` at `at` (a new array; the input is not changed).
 * Throws `INVALID_ARGUMENT` when a burn names an unknown grant, one not usable at `at`
 * (expired, voided, not yet created), or takes more than it holds.
 */
export function applyBurn(grants: readonly CreditGrant[], burns: readonly CreditBurn[], at: number): CreditGrant[] {
  return applyEntries(grants, burnEntries(grants, burns, at));
}

/** What `burnCredits` did: the plan, and the grants and ledger entries after it. */
export interface BurnResult extends BurnPlan {
  /** The grants after the burn; the input grants unchanged when not covered. */
  grants: CreditGrant[];
  /** The BURN entries to append; none when not covered. */
  entries: LedgerEntry[];
}

/**
 * Burns `amount` at `at` all or nothing: when the usable balance covers it, the grants lose it in
 * burn order and BURN entries record it; otherwise nothing changes (`covered: false`, the
 * `shortfall` says how much is missing; a check denies with InsufficientCredits).
 */
export function burnCredits(grants: readonly CreditGrant[], amount: CreditAmount, at: number, reference?: string): BurnResult {
  const plan = planBurn(grants, amount, at);
  if (!plan.covered) return { ...plan, grants: [...grants], entries: [] };
  const entries = burnEntries(grants, plan.burns, at, reference);
  return { ...plan, grants: applyEntries(grants, entries), entries };
}

/**
 * The EXPIRE entries due at `at`: one per grant that expired at or before `at` (expiresAt <= at)
 * and still holds credits, for minus what it holds, dated at its `expiresAt`. Voided grants are
 * skipped (their VOID entry already took what they held). Applying them (`applyEntries`) leaves
 * those grants at 0, so the ledger still balances. Idempotent once applied.
 */
export function expiryEntries(grants: readonly CreditGrant[], at: number): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const g of grants) {
    if (g.voidedAt !== null || g.expiresAt === null || g.expiresAt > at) continue;
    const remaining = new Decimal(g.remaining);
    if (remaining.gt(0)) out.push(entryFor(g, 'EXPIRE', remaining.neg(), g.expiresAt));
  }
  return out.sort((a, b) => a.at - b.at || (a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0));
}

/** `expiryEntries` applied: the grants after expiry at `at`, and the entries to append. */
export function expireCredits(grants: readonly CreditGrant[], at: number): { grants: CreditGrant[]; entries: LedgerEntry[] } {
  const entries = expiryEntries(grants, at);
  return { grants: entries.length === 0 ? [...grants] : applyEntries(grants, entries), entries };
}

/**
 * Voids a grant at `at`: `voidedAt` is set and a VOID entry takes what it still holds (an entry
 * of '0' when it holds nothing, so the ledger shows the void). A grant that had already expired
 * with credits left gets its EXPIRE entry first, so expired credits are never reported as voided.
 * Voiding a voided grant changes nothing (no entries). Throws `INVALID_ARGUMENT` for an unknown id.
 */
export function voidGrant(
  grants: readonly CreditGrant[],
  grantId: string,
  at: number,
  reference?: string,
): { grants: CreditGrant[]; entries: LedgerEntry[] } {
  const grant = requireGrant(indexGrants(grants), grantId, 'grantId');
  if (grant.voidedAt !== null) return { grants: [...grants], entries: [] };
  const entries = expiryEntries([grant], at);
  const left = entries.length > 0 ? new Decimal(0) : new Decimal(grant.remaining);
  entries.push(entryFor(grant, 'VOID', left.neg(), at, reference));
  return { grants: applyEntries(grants, entries), entries };
}

/**
 * The grants after the debit entries `entries` (BURN, EXPIRE, VOID), in order; a new array,
 * the input is not changed. VOID also sets `voidedAt`. Opening entries (GRANT, RECHARGE) are
 * refused: a grant is created holding its amount (`createGrant`), so applying them would count
 * it twice. Throws `INVALID_ARGUMENT` for an unknown grant, a positive debit, a debit taking more
 * than the grant holds, or a BURN on a grant not usable at the entry's `at`.
 */
export function applyEntries(grants: readonly CreditGrant[], entries: readonly LedgerEntry[]): CreditGrant[] {
  const out = grants.map((g) => ({ ...g }));
  const byId = indexGrants(out);
  for (const e of entries) {
    if (e.kind === 'GRANT' || e.kind === 'RECHARGE') {
      throw invalidArgument('entries.kind', `${e.kind} entries open a grant (createGrant); only BURN, EXPIRE and VOID apply to one`, {
        value: e.kind,
        allowed: ['BURN', 'EXPIRE', 'VOID'],
      });
    }
    const g = requireGrant(byId, e.grantId, 'entries.grantId');
    const delta = new Decimal(e.amount);
    if (delta.gt(0)) throw invalidArgument('entries.amount', `a ${e.kind} entry must not be positive`, { value: e.amount });
    if (e.kind === 'BURN' && !delta.isZero() && !isUsableAt(g, e.at)) {
      throw invalidArgument('entries.grantId', `grant ${g.id} is expired, voided or not yet created at ${e.at}: it cannot be burnt`, {
        value: g.id,
      });
    }
    const remaining = new Decimal(g.remaining).plus(delta);
    if (remaining.isNegative() && !remaining.isZero()) {
      throw invalidArgument('entries.amount', `grant ${g.id} holds ${g.remaining}; it cannot lose ${delta.neg().toFixed()}`, {
        value: e.amount,
      });
    }
    g.remaining = creditString(remaining);
    if (e.kind === 'VOID' && g.voidedAt === null) g.voidedAt = e.at;
  }
  return out;
}

/** The sum of ledger entries (all of them, or those of `grantId`). */
export function ledgerBalance(entries: readonly LedgerEntry[], grantId?: string): string {
  let total = new Decimal(0);
  for (const e of entries) if (grantId === undefined || e.grantId === grantId) total = total.plus(e.amount);
  return creditString(total);
}

/**
 * The grants whose ledger entries do not add up to their `remaining` (and entries naming no
 * grant, with remaining '0'). Empty when the ledger balances, which every sequence of
 * createGrant, burnCredits, expireCredits and voidGrant keeps true.
 */
export function ledgerMismatches(
  grants: readonly CreditGrant[],
  entries: readonly LedgerEntry[],
): { grantId: string; ledger: string; remaining: string }[] {
  const sums = new Map<string, Decimal>();
  for (const e of entries) sums.set(e.grantId, (sums.get(e.grantId) ?? new Decimal(0)).plus(e.amount));
  const out: { grantId: string; ledger: string; remaining: string }[] = [];
  const seen = new Set<string>();
  for (const g of grants) {
    seen.add(g.id);
    const ledger = sums.get(g.id) ?? new Decimal(0);
    if (!ledger.eq(g.remaining)) out.push({ grantId: g.id, ledger: creditString(ledger), remaining: g.remaining });
  }
  for (const [grantId, sum] of sums) if (!seen.has(grantId)) out.push({ grantId, ledger: creditString(sum), remaining: '0' });
  return out;
}

/**
 * The first instant after `at` at which a grant holding credits expires (for a `tick` or a
 * cached balance's end of validity); null when none will.
 */
export function nextCreditExpiry(grants: readonly CreditGrant[], at: number): number | null {
  let next: number | null = null;
  for (const g of grants) {
    if (g.voidedAt !== null || g.expiresAt === null || g.expiresAt <= at || new Decimal(g.remaining).lte(0)) continue;
    if (next === null || g.expiresAt < next) next = g.expiresAt;
  }
  return next;
}

function indexGrants(grants: readonly CreditGrant[]): Map<string, CreditGrant> {
  return new Map(grants.map((g) => [g.id, g]));
}

function requireGrant(byId: Map<string, CreditGrant>, grantId: string, field = 'burns.grantId'): CreditGrant {
  const g = byId.get(grantId);
  if (!g) throw invalidArgument(field, `no credit grant '${grantId}'`, { value: grantId });
  return g;
}
