import type { Catalog } from '../../catalog/catalog.js';
import type { CatalogDefinition } from '../../catalog/types.js';
import { TesseraError } from '../../errors.js';
import type { CustomerRecord, InvoiceKind, InvoiceRecord, SubscriptionRecord } from '../../records.js';
import type { PricedDocument } from '../../rules/invoice.js';
import { compareDocuments, customerSimulation, SimulationTally, type CustomerSimulation, type InvoiceComparison, type SimulatedDocument, type SimulationTotals } from '../../rules/simulation.js';
import { nthBillingPeriod, type Window } from '../../rules/windows.js';
import type { StoreTx } from '../../store/store.js';
import { toCatalog } from '../runtime/catalog.js';
import type { EngineContext, PublishedCatalog } from '../runtime/context.js';
import { checkId, Params } from '../runtime/params.js';
import { currentCycleStart, periodUsage, usageFeatureIds, usagePeriodKey } from '../runtime/tick.js';
import { periodDocument, periodKey } from './billing.js';

/** Params of `simulateCatalog` (docs/simulation.md). */
export interface SimulateCatalogParams {
  /** The candidate catalog, validated as `publishCatalog` validates it. Never published. */
  catalog: Catalog | CatalogDefinition;
  /** Start of the period replayed (inclusive): billing periods starting in [from, to). */
  from: Date | string;
  /** End of the period replayed (exclusive). */
  to: Date | string;
  /** Only these customers (at most 10,000); every customer with a subscription when absent. */
  customerIds?: string[];
  /** Old plan id -> plan id in the candidate catalog, for plans whose id changed. */
  planMapping?: Record<string, string>;
  /** How many customers `totals.largestChanges` lists (1-1000, default 10). */
  largest?: number;
  /**
   * Told of each customer as it is replayed. When given, `customers` in the result stays empty,
   * so the memory a simulation holds does not grow with the number of customers.
   */
  onCustomer?: (customer: CustomerSimulation) => void;
  /** Told after each page of customers: how many are done, of how many (customers stored, or `customerIds`). */
  onProgress?: (done: number, total: number) => void;
}

/** What `simulateCatalog` returns. Instants are epoch ms in the per-invoice comparisons. */
export interface CatalogSimulation {
  /** The period replayed: [from, to). */
  period: { start: Date; end: Date };
  customers: CustomerSimulation[];
  totals: SimulationTotals;
}

/** Customers read per store transaction: bounds memory and the length of a read. */
const PAGE = 200;
/** Most billing periods replayed per subscription, as `tick()` bills at most. */
const MAX_PERIODS = 120;
/** Kinds priced from a whole billing period, which the candidate catalog can price again. */
const REPLAYED_KINDS: ReadonlySet<InvoiceKind> = new Set(['PROVISIONING', 'RENEWAL', 'TRIAL_CONVERSION', 'USAGE']);

/**
 * `simulateCatalog`: what every customer would have been billed in [from, to) under a candidate
 * catalog, next to what the stored invoices billed (docs/simulation.md). Reads only; writes nothing.
 * Invoices are priced by `periodDocument`, the function `tick()` and provisioning price with.
 * Throws INVALID_ARGUMENT for bad params or an invalid catalog (every problem in
 * `details.problems`), PLAN_NOT_FOUND for a subscription whose plan the candidate lacks
 * (map it with `planMapping`), and what pricing throws (PRICE_NOT_FOUND).
 */
export async function simulateCatalog(ctx: EngineContext, params: unknown): Promise<CatalogSimulation> {
  const input = readParams(params);
  const published: PublishedCatalog = {
    record: { version: 0, definition: input.catalog.definition, planVersions: {}, addonVersions: {}, publishedAt: 0 },
    catalog: input.catalog,
  };
  // Every stored version is priced as the candidate: no version is known, so periodPriceInput and
  // couponFor fall back to latest(), the candidate. Nothing else of the context is replaced.
  const sim: EngineContext = { ...ctx, catalogs: new Map(), latest: () => published };
  const now = ctx.clock.now().getTime();
  const tally = new SimulationTally(input.largest);
  const customers: CustomerSimulation[] = [];
  const total = input.customerIds?.length ?? (await ctx.store.transaction('read', (tx) => tx.countCustomers()));
  let done = 0;
  const replayPage = async (ids: readonly string[]): Promise<void> => {
    const results = await ctx.store.transaction('read', async (tx) => {
      const records = await tx.getCustomers(ids);
      const out: CustomerSimulation[] = [];
      for (const customer of records) if (customer) out.push(await replayCustomer(sim, tx, customer, input, now));
      return out;
    });
    for (const c of results) {
      tally.add(c);
      if (input.onCustomer) input.onCustomer(c);
      else customers.push(c);
    }
    done += ids.length;
    input.onProgress?.(Math.min(done, total), total);
  };
  if (input.customerIds) {
    for (let i = 0; i < input.customerIds.length; i += PAGE) await replayPage(input.customerIds.slice(i, i + PAGE));
  } else {
    // Paged by customer id through the subscription index: a customer whose subscriptions straddle
    // two pages is the last of one and the first of the next, and is replayed once.
    let after: { value: string; id: string } | undefined;
    let last: string | undefined;
    for (;;) {
      const page = await ctx.store.transaction('read', (tx) =>
        tx.querySubscriptions({ sort: { field: 'customerId', direction: 'ASC' }, limit: PAGE, now, ...(after ? { after } : {}) }),
      );
      const ids: string[] = [];
      for (const s of page) if (s.customerId !== last && ids[ids.length - 1] !== s.customerId) ids.push(s.customerId);
      if (ids.length > 0) await replayPage(ids);
      last = ids[ids.length - 1] ?? last;
      if (page.length < PAGE) break;
      const tail = page[page.length - 1]!;
      after = { value: tail.customerId, id: tail.id };
    }
    if (done < total) input.onProgress?.(total, total);
  }
  return { period: { start: new Date(input.from), end: new Date(input.to) }, customers, totals: tally.totals() };
}

interface ReadParams {
  catalog: Catalog;
  from: number;
  to: number;
  customerIds?: string[] | undefined;
  planMapping: ReadonlyMap<string, string>;
  largest: number;
  onCustomer?: ((c: CustomerSimulation) => void) | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

function readParams(params: unknown): ReadParams {
  const p = new Params(params, 'simulateCatalog', ['catalog', 'from', 'to', 'customerIds', 'planMapping', 'largest', 'onCustomer', 'onProgress']);
  if (!p.has('catalog')) p.fail('catalog', 'is required: a catalog definition (as publishCatalog takes)');
  const raw = p.raw['catalog'];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) p.fail('catalog', 'must be a catalog definition object');
  let catalog: Catalog;
  try {
    catalog = toCatalog(raw as CatalogDefinition);
  } catch (e) {
    if (e instanceof TesseraError && e.code === 'INVALID_ARGUMENT') {
      throw new TesseraError('INVALID_ARGUMENT', `simulateCatalog.${e.message}`, { ...e.details, field: 'simulateCatalog.catalog' });
    }
    throw e;
  }
  const from = p.optInstant('from') ?? p.fail('from', 'is required');
  const to = p.optInstant('to') ?? p.fail('to', 'is required');
  if (to <= from) p.fail('to', 'must be after from');
  const customerIds = p.optArray('customerIds', (v, _path, i) => checkId(new Params({ [i]: v }, p.at('customerIds')), String(i), v));
  const planMapping = new Map<string, string>();
  const mapping = p.optObject('planMapping');
  if (mapping) {
    for (const [oldId, newId] of Object.entries(mapping.raw)) {
      const target = checkId(mapping, oldId, newId);
      if (!catalog.plans.has(target)) mapping.fail(oldId, `maps to plan "${target}", which the candidate catalog does not have`);
      planMapping.set(oldId, target);
    }
  }
  const largest = p.optNumber('largest', { min: 1, max: 1000, integer: true }) ?? 10;
  const fn = (key: string) => {
    const v = p.raw[key];
    if (v !== undefined && typeof v !== 'function') p.fail(key, 'must be a function');
    return v as ((...args: never[]) => void) | undefined;
  };
  return {
    catalog,
    from,
    to,
    customerIds: customerIds === undefined ? undefined : [...new Set(customerIds)],
    planMapping,
    largest,
    onCustomer: fn('onCustomer') as ReadParams['onCustomer'],
    onProgress: fn('onProgress') as ReadParams['onProgress'],
  };
}

/** Replays one customer's billing periods in [from, to) under the candidate (in `sim`). */
async function replayCustomer(sim: EngineContext, tx: StoreTx, customer: CustomerRecord, input: ReadParams, now: number): Promise<CustomerSimulation> {
  const candidate = sim.latest().catalog;
  const subs = (await tx.listSubscriptionsByCustomer(customer.customerId)).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  const planOf = new Map(subs.map((s) => [s.id, s.planId]));
  const all = await tx.listInvoices({ customerId: customer.customerId });
  const inWindow = (i: InvoiceRecord) => {
    const at = i.periodStart ?? i.createdAt;
    return at >= input.from && at < input.to;
  };
  const stored = new Map(all.filter(inWindow).map((i) => [i.dedupeKey, i]));
  const comparisons: InvoiceComparison[] = [];
  const compare = (key: string, kind: InvoiceKind, sub: SubscriptionRecord, planId: string, period: Window, document: PricedDocument) => {
    const before = stored.get(key);
    if (before && !replayable(before)) return;
    stored.delete(key);
    const after = document.lines.length > 0 ? fromDocument(document, { key, kind, subscriptionId: sub.id, planId, period }) : null;
    if (before || after) comparisons.push(compareDocuments(before ? fromRecord(before, planOf) : null, after, true));
  };
  for (const sub of subs) {
    // As tick() bills (runtime/tick.ts): no billing period or awaiting a first payment, nothing.
    if (!sub.billingPeriod || sub.status === 'PAYMENT_PENDING') continue;
    const planId = input.planMapping.get(sub.planId) ?? sub.planId;
    const plan = candidate.plans.get(planId);
    if (!plan) {
      throw new TesseraError(
        'PLAN_NOT_FOUND',
        `simulateCatalog.planMapping: subscription ${sub.id} of customer ${customer.customerId} is on plan "${sub.planId}", which the candidate catalog does not have; map it to one with planMapping`,
        { field: 'simulateCatalog.planMapping', planId: sub.planId, subscriptionId: sub.id },
      );
    }
    if (plan.pricingType !== 'PAID') continue;
    const priced: SubscriptionRecord = { ...sub, planId, catalogVersion: -1 };
    const end = sub.endDate ?? Infinity;
    const cycleStart = currentCycleStart(sub, all.filter((i) => i.subscriptionId === sub.id).map((i) => i.dedupeKey));
    const usageFeatures = usageFeatureIds(plan, sub.billingPeriod);
    for (let n = 0; n < MAX_PERIODS; n++) {
      const period = nthBillingPeriod(sub.billingAnchor, sub.billingPeriod, n);
      if (period.start > now || period.start >= input.to) break;
      // The stored invoice's key is the stored subscription's, whatever the plan maps to.
      const key = periodKey(sub, period);
      // A period billed in advance stays billed when the subscription ended at its start (replaced
      // at the same instant): past the end, only what the history billed is replayed.
      if (period.start >= end && !stored.has(key)) break;
      if (period.end <= sub.startDate || period.start < cycleStart || period.start < input.from) continue;
      const kind: InvoiceKind = n === 0 ? (sub.trialEndDate !== null ? 'TRIAL_CONVERSION' : 'PROVISIONING') : 'RENEWAL';
      compare(key, kind, sub, planId, period, periodDocument(sim, priced, customer, period));
      const closed = Math.min(period.end, end);
      if (usageFeatures.length > 0 && period.start < end && closed <= now) {
        const usage = await periodUsage(tx, sub, usageFeatures, period, closed);
        compare(usagePeriodKey(sub, period), 'USAGE', sub, planId, period, periodDocument(sim, priced, customer, period, usage));
      }
    }
  }
  // What is left: period invoices the candidate no longer bills, and documents carried over as they were.
  for (const rec of stored.values()) {
    const before = fromRecord(rec, planOf);
    comparisons.push(replayable(rec) ? compareDocuments(before, null, true) : compareDocuments(before, before, false));
  }
  comparisons.sort((a, b) => (a.periodStart ?? 0) - (b.periodStart ?? 0) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return customerSimulation(customer.customerId, comparisons);
}

/**
 * A stored invoice the candidate can price again: a whole period's (docs/simulation.md#scope).
 * A change's document (proration lines, even when its kind says PROVISIONING) is carried over.
 */
function replayable(rec: InvoiceRecord): boolean {
  return REPLAYED_KINDS.has(rec.kind) && !rec.lines.some((l) => l.kind === 'PRORATION_CREDIT' || l.kind === 'PRORATION_DEBIT');
}

function fromRecord(rec: InvoiceRecord, planOf: ReadonlyMap<string, string>): SimulatedDocument {
  return {
    key: rec.dedupeKey,
    kind: rec.kind,
    subscriptionId: rec.subscriptionId,
    planId: rec.subscriptionId === null ? null : (planOf.get(rec.subscriptionId) ?? null),
    currency: rec.currency,
    periodStart: rec.periodStart,
    periodEnd: rec.periodEnd,
    lines: rec.lines.map((l) => ({ ...l, kind: l.kind as SimulatedDocument['lines'][number]['kind'] })),
    subTotal: rec.subTotal,
    discount: rec.discount?.amount ?? '0',
    tax: rec.tax,
    total: rec.total,
  };
}

function fromDocument(
  doc: PricedDocument,
  at: { key: string; kind: InvoiceKind; subscriptionId: string; planId: string; period: Window },
): SimulatedDocument {
  return {
    key: at.key,
    kind: at.kind,
    subscriptionId: at.subscriptionId,
    planId: at.planId,
    currency: doc.currency,
    periodStart: at.period.start,
    periodEnd: at.period.end,
    lines: doc.lines,
    subTotal: doc.subTotal,
    discount: doc.discount?.amount ?? '0',
    tax: doc.tax,
    total: doc.total,
  };
}
