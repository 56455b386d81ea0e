// Every debit but a burn (expiry, voids, applying entries) and the ledger checks, split out of credits.ts so ledger upkeep is made in one file.
import { invalidArgument } from '../errors.js';
import { Decimal } from '../money.js';
import { creditString, entryFor, isUsableAt, type CreditGrant, type LedgerEntry } from './credits-grants.js';

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

export function indexGrants(grants: readonly CreditGrant[]): Map<string, CreditGrant> {
  return new Map(grants.map((g) => [g.id, g]));
}

export function requireGrant(byId: Map<string, CreditGrant>, grantId: string, field = 'burns.grantId'): CreditGrant {
  const g = byId.get(grantId);
  if (!g) throw invalidArgument(field, `no credit grant '${grantId}'`, { value: grantId });
  return g;
}
