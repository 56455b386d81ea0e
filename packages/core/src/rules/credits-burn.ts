// Burn order and burning, split out of credits.ts so a change to the order (docs/credits.md#burn-order) is made in one file.
import { Decimal } from '../money.js';
import { creditString, entryFor, isUsableAt, toCreditAmount, type CreditAmount, type CreditCategory, type CreditGrant, type LedgerEntry } from './credits-grants.js';
import { applyEntries, indexGrants, requireGrant } from './credits-ledger.js';

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
