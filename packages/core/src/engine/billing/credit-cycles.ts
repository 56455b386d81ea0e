/**
 * Issues the credits plans and add-ons grant on a cycle of their own
 * (docs/credits.md#credits-on-a-cycle). The decisions are rules/credit-cycles.ts; this file reads
 * the subscriptions and grants, and writes what those rules return, inside the caller's transaction.
 * A cycle's grant has a deterministic id, and is written only when it is not there yet, so a cycle
 * is issued once however many processes, ticks and writes reach it.
 */
import type { CreditGrantDefinition } from '../../catalog/types.js';
import { Decimal } from '../../money.js';
import { creditCycle, creditCycleIndexAt, cyclesOwed, issueCycleGrant, rolloverGrantId } from '../../rules/credit-cycles.js';
import { balanceAt, type CreditGrant, type LedgerEntry } from '../../rules/credits.js';
import type { CreditGrantRecord, SubscriptionRecord } from '../../records.js';
import type { StoreTx } from '../../store/store.js';
import { effectiveCatalogVersion } from '../checks/view.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';

/** One grant definition a subscription brings: from its plan (`plan`) or an add-on (`addon:<id>`), times a quantity. */
interface CycleSource {
  source: string;
  def: CreditGrantDefinition;
  quantity: number;
}

/** The cycle grants of one currency: the grants before and after, and the entries that lead from one to the other. */
export interface CycleCredits {
  before: CreditGrantRecord[];
  after: CreditGrant[];
  entries: LedgerEntry[];
  issued: number;
}

/**
 * The id of a cycle's grant: `cc:<subscription>:<source>:<currency>:<cadence>:<cycle start ms>`.
 * Deterministic so that issuing twice finds the first (docs/credits.md#credits-on-a-cycle).
 */
export function cycleGrantId(subId: string, source: string, currencyId: string, cadence: string, cycleStart: number): string {
  return `cc:${subId}:${source}:${currencyId}:${cadence}:${cycleStart}`;
}

/** The grant definitions a subscription brings at `at`, in the catalog version in force then. */
function sourcesAt(ctx: EngineContext, sub: SubscriptionRecord, at: number): CycleSource[] {
  const catalog = ctx.catalogs.get(effectiveCatalogVersion(sub, at))?.catalog;
  if (!catalog) return [];
  const out: CycleSource[] = [];
  for (const def of catalog.plans.get(sub.planId)?.creditGrants ?? []) out.push({ source: 'plan', def, quantity: 1 });
  for (const a of sub.addons) {
    if (a.quantity <= 0) continue;
    for (const def of catalog.addons.get(a.addonId)?.creditGrants ?? []) out.push({ source: `addon:${a.addonId}`, def, quantity: a.quantity });
  }
  return out;
}

/**
 * The definitions as the subscription last stood by `now` (at its end, or now); none before it
 * starts. Each cycle then takes its amounts from the catalog version in force at its own start.
 */
function latestSources(ctx: EngineContext, sub: SubscriptionRecord, now: number): CycleSource[] {
  if (sub.startDate > now) return [];
  return sourcesAt(ctx, sub, sub.endDate !== null ? Math.max(sub.startDate, Math.min(now, sub.endDate - 1)) : now);
}

const sameDef = (a: CycleSource, b: CycleSource) => a.source === b.source && a.def.currencyId === b.def.currencyId && a.def.cadence === b.def.cadence;

/**
 * What issuing the due cycles of a customer's subscriptions would write at `now`, per currency
 * (only `currencyId` when given); reads only, so a read can show the balance the next write
 * makes. Currencies with nothing due are left out.
 */
export async function dueCycleCredits(ctx: EngineContext, tx: StoreTx, customerId: string, now: number, currencyId?: string): Promise<Map<string, CycleCredits>> {
  const subs = await tx.listSubscriptionsByCustomer(customerId);
  // Most customers hold no plan that grants credits on a cycle: no grants read for them.
  if (!subs.some((sub) => latestSources(ctx, sub, now).length > 0)) return new Map();
  return cyclesDueIn(ctx, subs, await tx.listCreditGrants(customerId, currencyId), customerId, now, currencyId);
}

/**
 * `dueCycleCredits` from records already loaded: the customer's subscriptions and grants (of
 * `currencyId` when given). Synchronous, so a cached view can answer with it (`withDueCycles`).
 */
export function cyclesDueIn(
  ctx: EngineContext,
  subs: readonly SubscriptionRecord[],
  grants: readonly CreditGrantRecord[],
  customerId: string,
  now: number,
  currencyId?: string,
): Map<string, CycleCredits> {
  const out = new Map<string, CycleCredits>();
  for (const sub of subs) {
    for (const s of latestSources(ctx, sub, now)) {
      const cur = s.def.currencyId;
      if (currencyId !== undefined && cur !== currencyId) continue;
      if (!ctx.latest().catalog.creditCurrencies.has(cur)) continue;
      let state = out.get(cur);
      if (!state) {
        const before = grants.filter((g) => g.currencyId === cur);
        state = { before, after: before, entries: [], issued: 0 };
        out.set(cur, state);
      }
      const prefix = cycleGrantId(sub.id, s.source, cur, s.def.cadence, 0).slice(0, -1);
      let last: number | null = null;
      for (const g of state.after) {
        if (!g.id.startsWith(prefix)) continue;
        const start = Number(g.id.slice(prefix.length));
        if (Number.isSafeInteger(start) && (last === null || start > last)) last = start;
      }
      for (const cycle of cyclesOwed(sub, s.def.cadence, last, now)) {
        const at = Math.max(cycle.start, sub.startDate);
        const here = sourcesAt(ctx, sub, at).find((x) => sameDef(x, s));
        if (!here) continue;
        const previousStart = creditCycle(s.def.cadence, sub.usageAnchor, creditCycleIndexAt(s.def.cadence, sub.usageAnchor, cycle.start) - 1).start;
        const previousId = cycleGrantId(sub.id, s.source, cur, s.def.cadence, previousStart);
        const grantId = cycleGrantId(sub.id, s.source, cur, s.def.cadence, cycle.start);
        const result = issueCycleGrant(state.after, {
          grantId,
          customerId,
          currencyId: cur,
          amount: new Decimal(here.def.amount).times(here.quantity),
          ...(here.def.category !== undefined ? { category: here.def.category } : {}),
          ...(here.def.priority !== undefined ? { priority: here.def.priority } : {}),
          cycle,
          createdAt: at,
          expires: here.def.expires ?? 'END_OF_CYCLE',
          ...(here.def.rollover !== undefined ? { rolloverMax: new Decimal(here.def.rollover.max).times(here.quantity) } : {}),
          previousGrantIds: [previousId, rolloverGrantId(previousId)],
          reference: `cycle:${sub.id}:${s.source}`,
        });
        if (!result.issued) continue;
        state.after = result.grants;
        state.entries.push(...result.entries);
        state.issued++;
      }
    }
  }
  for (const [cur, state] of out) if (state.issued === 0) out.delete(cur);
  return out;
}

/**
 * Issues every cycle grant due at `fx.now` for the customer (of `currencyId` when given) in the
 * open write: grants, ledger entries, a `credits.updated` change per currency, the view dropped and
 * `creditBalanceUpdated` told after commit. Returns how many cycles were issued (0 when all were).
 */
export async function issueCycleCredits(ctx: EngineContext, fx: WriteEffects, customerId: string, currencyId?: string): Promise<number> {
  const due = await dueCycleCredits(ctx, fx.tx, customerId, fx.now, currencyId);
  let issued = 0;
  for (const [cur, state] of due) {
    const old = new Map(state.before.map((g) => [g.id, g]));
    for (const g of state.after) {
      const o = old.get(g.id);
      if (!o || o.remaining !== g.remaining) await fx.tx.putCreditGrant(g);
    }
    await fx.tx.appendCreditLedger(state.entries.map((e) => ({ ...e, reference: e.reference ?? null })));
    await fx.change('credits.updated', customerId, cur, { cycleGrantsIssued: state.issued });
    fx.invalidate(customerId);
    fx.emit('creditBalanceUpdated', { customerId, currencyId: cur, balance: balanceAt(state.after, fx.now), at: new Date(fx.now) });
    issued += state.issued;
  }
  return issued;
}

/**
 * A customer's grants (of `currencyId` when given) as they read at `now` with the due cycles
 * issued: what a balance read shows before a tick or credit write has written them.
 */
export async function grantsWithDueCycles(ctx: EngineContext, tx: StoreTx, customerId: string, now: number, currencyId?: string): Promise<CreditGrantRecord[]> {
  const subs = await tx.listSubscriptionsByCustomer(customerId);
  return withDueCycles(ctx, subs, await tx.listCreditGrants(customerId, currencyId), customerId, now, currencyId);
}

/**
 * `grants` with the cycles due at `now` laid over them, from records already loaded (a cached
 * view's); the same array when nothing is due, which is the rule between ticks.
 */
export function withDueCycles(
  ctx: EngineContext,
  subs: readonly SubscriptionRecord[],
  grants: CreditGrantRecord[],
  customerId: string,
  now: number,
  currencyId?: string,
): CreditGrantRecord[] {
  const due = cyclesDueIn(ctx, subs, grants, customerId, now, currencyId);
  if (due.size === 0) return grants;
  const byId = new Map(grants.map((g) => [g.id, g]));
  for (const state of due.values()) for (const g of state.after) byId.set(g.id, g);
  return [...byId.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
