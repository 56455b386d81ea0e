/**
 * Credits granted on a cycle of their own (docs/credits.md#credits-on-a-cycle): which cycles a
 * subscription is owed, when each starts and ends, and what issuing one writes, rollover included.
 * Pure: the subscription, the customer's grants and `now` in; new grant states and ledger entries out.
 */
import type { CreditGrantCadence, CreditGrantExpiry } from '../catalog/types.js';
import { Decimal } from '../money.js';
import type { SubscriptionRecord } from '../records.js';
import { MS_PER_DAY, nthMonthStep } from './calendar.js';
import { compareBurnOrder } from './credits-burn.js';
import { createGrant, creditString, entryFor, toCreditAmount, type CreditAmount, type CreditCategory, type CreditGrant, type LedgerEntry } from './credits-grants.js';
import { applyEntries } from './credits-ledger.js';
import { grantsAt } from './lifecycle.js';
import type { Window } from './windows.js';

/** Most cycles one call issues for one grant definition: bounds a catch-up (a later call goes on). */
export const MAX_CYCLES_PER_CALL = 400;

const STEP_MONTHS: Partial<Record<CreditGrantCadence, number>> = { MONTH: 1, YEAR: 12 };
const STEP_MS: Partial<Record<CreditGrantCadence, number>> = { DAY: MS_PER_DAY, WEEK: 7 * MS_PER_DAY };

/**
 * The n-th credit cycle from `anchor` (n = 0 starts at the anchor; n may be negative), [start, end).
 * DAY and WEEK are 24 h and 7 x 24 h steps; MONTH and YEAR calendar steps in UTC computed from the
 * anchor, month ends clamped (anchor Jan 31: Jan 31 -> Feb 29 -> Mar 31 in 2024).
 */
export function creditCycle(cadence: CreditGrantCadence, anchor: number, n: number): Window {
  const months = STEP_MONTHS[cadence];
  if (months !== undefined) return { start: nthMonthStep(anchor, months, n), end: nthMonthStep(anchor, months, n + 1) };
  const ms = STEP_MS[cadence];
  if (ms === undefined) throw new RangeError(`creditCycle: unknown cadence ${String(cadence)}`);
  return { start: anchor + n * ms, end: anchor + (n + 1) * ms };
}

/** The index n of the credit cycle containing `at` (see `creditCycle`). */
export function creditCycleIndexAt(cadence: CreditGrantCadence, anchor: number, at: number): number {
  const months = STEP_MONTHS[cadence];
  let n: number;
  if (months !== undefined) {
    const a = new Date(anchor);
    const b = new Date(at);
    n = Math.floor(((b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth())) / months);
  } else {
    n = Math.floor((at - anchor) / STEP_MS[cadence]!);
  }
  // The estimate is off by at most one step either way (day of month, time of day).
  while (creditCycle(cadence, anchor, n).start > at) n--;
  while (creditCycle(cadence, anchor, n).end <= at) n++;
  return n;
}

/** Unused credits carried into the next cycle: min(remaining, max); 0 without a rollover. */
export function rolloverAmount(remaining: CreditAmount, max: CreditAmount | undefined): Decimal {
  if (max === undefined) return new Decimal(0);
  return Decimal.min(toCreditAmount(remaining, 'remaining', { allowZero: true }), toCreditAmount(max, 'rollover.max', { allowZero: true }));
}

/**
 * The cycles of one grant definition a subscription is owed at `now` and has not had: from the
 * cycle after `lastIssuedStart` (the start of the newest one issued), or, when none was issued, from
 * the cycle containing max(startDate, now), so cycles missed wholly before the first issue are not
 * issued after the fact. Each cycle started by `now`, before the subscription's end, and the
 * subscription grants (ACTIVE or IN_TRIAL) at max(cycle start, startDate). At most `limit`.
 */
export function cyclesOwed(
  sub: SubscriptionRecord,
  cadence: CreditGrantCadence,
  lastIssuedStart: number | null,
  now: number,
  limit = MAX_CYCLES_PER_CALL,
): Window[] {
  const anchor = sub.usageAnchor;
  let n = lastIssuedStart !== null ? creditCycleIndexAt(cadence, anchor, lastIssuedStart) + 1 : creditCycleIndexAt(cadence, anchor, Math.max(sub.startDate, now));
  const out: Window[] = [];
  for (; out.length < limit; n++) {
    const cycle = creditCycle(cadence, anchor, n);
    if (cycle.start > now || (sub.endDate !== null && cycle.start >= sub.endDate)) break;
    if (cycle.end <= sub.startDate) continue;
    if (grantsAt(sub, Math.max(cycle.start, sub.startDate))) out.push(cycle);
  }
  return out;
}

/** What issuing one cycle's grant needs (the engine fills it from the catalog and subscription). */
export interface CycleGrantSpec {
  /** Deterministic: the same subscription, source, currency, cadence and cycle give the same id. */
  grantId: string;
  customerId: string;
  currencyId: string;
  /** Credits of the cycle (an add-on's amount already times its quantity). */
  amount: CreditAmount;
  category?: CreditCategory;
  priority?: number;
  cycle: Window;
  /** When the credits become usable: the cycle start, or the subscription's start in its first cycle. */
  createdAt: number;
  expires: CreditGrantExpiry;
  /** Most credits carried over from the previous cycle (x the add-on's quantity); absent: none. */
  rolloverMax?: CreditAmount;
  /** The previous cycle's grants of this definition (its grant and the rollover into it) whose unused credits may roll. */
  previousGrantIds: readonly string[];
  /** The reference of the GRANT entry. */
  reference: string;
}

/** What `issueCycleGrant` did. */
export interface CycleIssue {
  grants: CreditGrant[];
  entries: LedgerEntry[];
  /** False when the cycle's grant already existed (nothing changed). */
  issued: boolean;
  /** Credits carried from the previous cycle ('0' when none). */
  rolledOver: string;
  /** Credits of the previous cycle that expired at its end ('0' when none). */
  expired: string;
}

/** The id of the grant carrying a cycle's rollover: the cycle grant's id and ':rollover'. */
export function rolloverGrantId(cycleGrantId: string): string {
  return `${cycleGrantId}:rollover`;
}

/**
 * Issues one cycle's grant, exactly once: when `spec.grantId` is among `grants`, nothing changes.
 * Otherwise, with END_OF_CYCLE and a rollover, the previous cycle's grants that expired at this
 * cycle's start give up what they hold: min(held, rolloverMax) moves into a rollover grant
 * (`rolloverGrantId`, usable this cycle, expiring with it) by an EXPIRE entry on the old grant and
 * a GRANT entry on the new one, both referencing the other, and the rest is an EXPIRE entry; then
 * the cycle's own grant opens (GRANT +amount). The ledger stays balanced: every grant's entries sum
 * to its remaining. Example: previous 1,000 with 700 left, max 500: EXPIRE -500 (rollover),
 * EXPIRE -200, rollover GRANT +500, cycle GRANT +1,000: balance 1,500.
 */
export function issueCycleGrant(grants: readonly CreditGrant[], spec: CycleGrantSpec): CycleIssue {
  if (grants.some((g) => g.id === spec.grantId)) return { grants: [...grants], entries: [], issued: false, rolledOver: '0', expired: '0' };
  const entries: LedgerEntry[] = [];
  let after: CreditGrant[] = [...grants];
  let rolled = new Decimal(0);
  let expired = new Decimal(0);
  if (spec.expires === 'END_OF_CYCLE') {
    const ids = new Set(spec.previousGrantIds);
    // Only credits that expired at this boundary and were not yet written off can roll.
    const previous = grants
      .filter((g) => ids.has(g.id) && g.voidedAt === null && g.expiresAt === spec.cycle.start && new Decimal(g.remaining).gt(0))
      .sort(compareBurnOrder);
    const held = previous.reduce((a, g) => a.plus(g.remaining), new Decimal(0));
    rolled = rolloverAmount(held, spec.rolloverMax);
    const rolloverId = rolloverGrantId(spec.grantId);
    let toRoll = rolled;
    const debits: LedgerEntry[] = [];
    for (const g of previous) {
      const remaining = new Decimal(g.remaining);
      const moved = Decimal.min(remaining, toRoll);
      toRoll = toRoll.minus(moved);
      if (moved.gt(0)) debits.push(entryFor(g, 'EXPIRE', moved.neg(), spec.cycle.start, `rollover:${rolloverId}`));
      const lost = remaining.minus(moved);
      if (lost.gt(0)) debits.push(entryFor(g, 'EXPIRE', lost.neg(), spec.cycle.start));
      expired = expired.plus(lost);
    }
    if (debits.length > 0) after = applyEntries(after, debits);
    entries.push(...debits);
    if (rolled.gt(0)) {
      const { grant, entry } = createGrant({
        id: rolloverId,
        customerId: spec.customerId,
        currencyId: spec.currencyId,
        amount: rolled,
        ...(spec.category !== undefined ? { category: spec.category } : {}),
        ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
        createdAt: spec.cycle.start,
        expiresAt: spec.cycle.end,
        reference: `rollover:${previous[0]!.id}`,
      });
      after.push(grant);
      entries.push(entry);
    }
  }
  const { grant, entry } = createGrant({
    id: spec.grantId,
    customerId: spec.customerId,
    currencyId: spec.currencyId,
    amount: spec.amount,
    ...(spec.category !== undefined ? { category: spec.category } : {}),
    ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
    createdAt: spec.createdAt,
    expiresAt: spec.expires === 'END_OF_CYCLE' ? spec.cycle.end : null,
    reference: spec.reference,
  });
  after.push(grant);
  entries.push(entry);
  return { grants: after, entries, issued: true, rolledOver: creditString(rolled), expired: creditString(expired) };
}
