import Decimal from 'decimal.js';
import type { InvoiceLine } from './invoice.js';
import { formatAmount } from './pricing.js';

// The pure half of `simulateCatalog` (docs/simulation.md): pairing an invoice as it was with the
// one the candidate catalog prices, and the totals over many customers. No store, no clock.

/** An invoice reduced to what a simulation compares. Amounts are decimal strings in `currency`. */
export interface SimulatedDocument {
  /** The invoice's dedupe key: the same billing period and kind pair up across the two sides. */
  key: string;
  kind: string;
  subscriptionId: string | null;
  /** The plan billed (after `planMapping` on the simulated side); null for invoices without a subscription. */
  planId: string | null;
  currency: string;
  periodStart: number | null;
  periodEnd: number | null;
  lines: readonly InvoiceLine[];
  subTotal: string;
  discount: string;
  tax: string;
  total: string;
}

/** One line compared: `before` or `after` is null when the line exists on one side only. */
export interface LineDifference {
  kind: string;
  description: string;
  before: string | null;
  after: string | null;
  /** after - before (a missing side counts as 0). */
  difference: string;
}

/**
 * One invoice as it was and as it would have been. `replayed` is false for documents the
 * simulation carries over unchanged (prorations, migrations, recharges: docs/simulation.md#scope).
 */
export interface InvoiceComparison {
  key: string;
  kind: string;
  subscriptionId: string | null;
  planId: string | null;
  currency: string;
  periodStart: number | null;
  periodEnd: number | null;
  replayed: boolean;
  before: SimulatedDocument | null;
  after: SimulatedDocument | null;
  lines: LineDifference[];
  /** after.total - before.total (a missing side counts as 0). */
  difference: string;
}

/** A customer's money in one currency over the simulated period. */
export interface CurrencyTotal {
  currency: string;
  before: string;
  after: string;
  difference: string;
}

/** How a customer fares: every currency's difference below, above or at zero; MIXED otherwise. */
export type Outcome = 'BETTER_OFF' | 'WORSE_OFF' | 'UNCHANGED' | 'MIXED';

/** One customer's simulation. */
export interface CustomerSimulation {
  customerId: string;
  /** The plans of the compared invoices as they were, in order of first appearance. */
  planIds: string[];
  invoices: InvoiceComparison[];
  totals: CurrencyTotal[];
  outcome: Outcome;
}

/** Revenue of one plan in one currency, as it was and as it would have been. */
export interface PlanRevenue {
  planId: string;
  currency: string;
  before: string;
  after: string;
  difference: string;
}

/** The totals of a simulation over every customer replayed. */
export interface SimulationTotals {
  customers: number;
  betterOff: number;
  worseOff: number;
  unchanged: number;
  mixed: number;
  /** By plan as billed before (the stored invoice's plan; the simulated one's when there was none). */
  revenueByPlan: PlanRevenue[];
  /** The customers whose difference is largest in magnitude, largest first (at most `largest`). */
  largestChanges: { customerId: string; currency: string; before: string; after: string; difference: string }[];
}

const ZERO = new Decimal(0);
const dec = (s: string | null | undefined): Decimal => (s === null || s === undefined ? ZERO : new Decimal(s));

/** Pairs lines by kind and their position among the lines of that kind (descriptions change with prices). */
export function diffLines(before: readonly InvoiceLine[], after: readonly InvoiceLine[]): LineDifference[] {
  const groups = new Map<string, { before: InvoiceLine[]; after: InvoiceLine[] }>();
  const group = (kind: string) => groups.get(kind) ?? groups.set(kind, { before: [], after: [] }).get(kind)!;
  for (const l of before) group(l.kind).before.push(l);
  for (const l of after) group(l.kind).after.push(l);
  const out: LineDifference[] = [];
  for (const [kind, g] of groups) {
    for (let i = 0; i < Math.max(g.before.length, g.after.length); i++) {
      const b = g.before[i];
      const a = g.after[i];
      out.push({
        kind,
        description: (a ?? b)!.description,
        before: b?.amount ?? null,
        after: a?.amount ?? null,
        difference: formatAmount(dec(a?.amount).minus(dec(b?.amount)), (a ?? b)!.currency),
      });
    }
  }
  return out;
}

/** Compares one invoice as it was (`before`) and as simulated (`after`); at least one is given. */
export function compareDocuments(before: SimulatedDocument | null, after: SimulatedDocument | null, replayed: boolean): InvoiceComparison {
  const ref = (before ?? after)!;
  return {
    key: ref.key,
    kind: ref.kind,
    subscriptionId: ref.subscriptionId,
    planId: before?.planId ?? after?.planId ?? null,
    currency: ref.currency,
    periodStart: ref.periodStart,
    periodEnd: ref.periodEnd,
    replayed,
    before,
    after,
    lines: diffLines(before?.lines ?? [], after?.lines ?? []),
    difference: formatAmount(dec(after?.total).minus(dec(before?.total)), ref.currency),
  };
}

/** A customer's totals per currency and outcome from its compared invoices. */
export function customerSimulation(customerId: string, invoices: InvoiceComparison[]): CustomerSimulation {
  const byCurrency = new Map<string, { before: Decimal; after: Decimal }>();
  const planIds: string[] = [];
  for (const inv of invoices) {
    if (inv.planId !== null && !planIds.includes(inv.planId)) planIds.push(inv.planId);
    // Each side in its own currency: a candidate price in another currency shows as a new currency.
    if (inv.before) add(byCurrency, inv.before.currency, dec(inv.before.total), ZERO);
    if (inv.after) add(byCurrency, inv.after.currency, ZERO, dec(inv.after.total));
  }
  const totals = [...byCurrency].map(([currency, t]) => ({
    currency,
    before: formatAmount(t.before, currency),
    after: formatAmount(t.after, currency),
    difference: formatAmount(t.after.minus(t.before), currency),
  }));
  const signs = new Set(totals.map((t) => new Decimal(t.difference).comparedTo(0)));
  const outcome: Outcome = signs.has(1) && signs.has(-1) ? 'MIXED' : signs.has(1) ? 'WORSE_OFF' : signs.has(-1) ? 'BETTER_OFF' : 'UNCHANGED';
  return { customerId, planIds, invoices, totals, outcome };
}

function add(map: Map<string, { before: Decimal; after: Decimal }>, key: string, before: Decimal, after: Decimal): void {
  const t = map.get(key) ?? { before: ZERO, after: ZERO };
  map.set(key, { before: t.before.plus(before), after: t.after.plus(after) });
}

/**
 * Totals over customers fed one at a time, in memory bounded by the number of plans and
 * `largest` (not by the number of customers), so thousands of customers stream through it.
 */
export class SimulationTally {
  private readonly counts = { customers: 0, betterOff: 0, worseOff: 0, unchanged: 0, mixed: 0 };
  private readonly byPlan = new Map<string, { planId: string; currency: string; before: Decimal; after: Decimal }>();
  private top: (SimulationTotals['largestChanges'][number] & { magnitude: Decimal })[] = [];

  constructor(private readonly largest = 10) {}

  /** Counts one customer in. */
  add(c: CustomerSimulation): void {
    this.counts.customers++;
    if (c.outcome === 'BETTER_OFF') this.counts.betterOff++;
    else if (c.outcome === 'WORSE_OFF') this.counts.worseOff++;
    else if (c.outcome === 'UNCHANGED') this.counts.unchanged++;
    else this.counts.mixed++;
    for (const inv of c.invoices) {
      const planId = inv.planId ?? '(none)';
      if (inv.before) this.plan(planId, inv.before.currency, dec(inv.before.total), ZERO);
      if (inv.after) this.plan(planId, inv.after.currency, ZERO, dec(inv.after.total));
    }
    for (const t of c.totals) {
      const magnitude = new Decimal(t.difference).abs();
      if (magnitude.isZero()) continue;
      this.top.push({ customerId: c.customerId, ...t, magnitude });
      this.top.sort((a, b) => b.magnitude.comparedTo(a.magnitude) || (a.customerId < b.customerId ? -1 : 1));
      if (this.top.length > this.largest) this.top.length = this.largest;
    }
  }

  private plan(planId: string, currency: string, before: Decimal, after: Decimal): void {
    const key = `${planId}\u0000${currency}`;
    const t = this.byPlan.get(key) ?? { planId, currency, before: ZERO, after: ZERO };
    this.byPlan.set(key, { ...t, before: t.before.plus(before), after: t.after.plus(after) });
  }

  /** The totals so far. */
  totals(): SimulationTotals {
    return {
      ...this.counts,
      revenueByPlan: [...this.byPlan.values()]
        .sort((a, b) => (a.planId < b.planId ? -1 : a.planId > b.planId ? 1 : a.currency < b.currency ? -1 : 1))
        .map((p) => ({
          planId: p.planId,
          currency: p.currency,
          before: formatAmount(p.before, p.currency),
          after: formatAmount(p.after, p.currency),
          difference: formatAmount(p.after.minus(p.before), p.currency),
        })),
      largestChanges: this.top.map(({ magnitude: _m, ...rest }) => rest),
    };
  }
}
