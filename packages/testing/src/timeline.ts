/**
 * The pricing timeline fixture: runs a list of dated steps (provision, update, cancel, report
 * usage, estimate, tick) on an engine with a test clock and returns every estimate and invoice as
 * a plain row, so that a team can snapshot its pricing as a table and review changes to it.
 */
import {
  createEngine,
  isTesseraError,
  memoryStore,
  testClock,
  type CancelSubscriptionParams,
  type Catalog,
  type CatalogDefinition,
  type Duration,
  type Engine,
  type Estimate,
  type Invoice,
  type ProvisionCustomerParams,
  type ProvisionSubscriptionParams,
  type ReportUsageParams,
  type Store,
  type TestClock,
  type UpdateSubscriptionParams,
} from '@tessera/core';
import { showInstant, toMs } from './choice.js';
import { estimateEqualsInvoice } from './invariants-engine.js';

/**
 * One step of a timeline. Time moves first (`at`, an instant never before the clock, or
 * `advance`, a calendar duration), then the actions given run in this order: provisionCustomer,
 * estimateSubscription, provisionSubscription, estimateSubscriptionUpdate, updateSubscription,
 * cancelSubscription, reportUsage, tick.
 *
 * A `subscriptionId` of `'$n'` names the subscription that step n (counted from 1) provisioned:
 * `{ updateSubscription: { subscriptionId: '$1', ... } }` updates the one created by the first step.
 */
export interface TimelineStep {
  at?: Date | string;
  advance?: Duration;
  provisionCustomer?: ProvisionCustomerParams;
  estimateSubscription?: ProvisionSubscriptionParams;
  provisionSubscription?: ProvisionSubscriptionParams;
  estimateSubscriptionUpdate?: UpdateSubscriptionParams;
  updateSubscription?: UpdateSubscriptionParams;
  cancelSubscription?: CancelSubscriptionParams;
  reportUsage?: ReportUsageParams | ReportUsageParams[];
  tick?: boolean;
}

/** An estimate, an invoice or (with `onError: 'record'`) a refused call, as plain strings. */
export interface TimelineRow {
  /** The step (from 1) that produced it. */
  step: number;
  /** When: '2024-01-31' at midnight UTC, else '2024-02-15T12:00:00Z'. */
  at: string;
  /** ESTIMATE, an invoice kind (PROVISIONING, UPDATE, RENEWAL, TRIAL_CONVERSION, USAGE...), or ERROR. */
  kind: string;
  customerId: string;
  /**
   * `'$n'` for the subscription step n provisioned (stable whatever ids the engine draws, estimates
   * included), else the engine's id ('' for the estimate of a subscription not provisioned yet).
   */
  subscriptionId: string;
  /** The billing period it is for, '2024-01-31..2024-02-29'; '' when none. */
  period: string;
  currency: string;
  subTotal: string;
  /** '' when no discount applies. */
  discount: string;
  tax: string;
  total: string;
  /** The lines, 'PLAN 20.00; PER_UNIT 60.00 (qty 5)'; for ERROR rows the call, error code and message. */
  lines: string;
}

/** What `playTimeline` returns. */
export interface TimelineResult {
  rows: TimelineRow[];
  /** Subscription ids by reference: { '$1': 'sub_1' }. */
  subscriptions: Record<string, string>;
  /** Every customer the timeline named. */
  customerIds: string[];
}

/** A `'$n'` naming a step that was refused; recorded like a refused call with `onError: 'record'`. */
class UnresolvedReference extends Error {
  override readonly name = 'UnresolvedReference';
}

/** Options of `playTimeline`. */
export interface PlayOptions {
  /** 'throw' (default): a refused call stops the timeline. 'record': it becomes an ERROR row and the timeline goes on. */
  onError?: 'throw' | 'record';
  /** Run each provision and update through `estimateEqualsInvoice` (an estimate first, compared with the invoice); default false. */
  checkEstimates?: boolean;
}

/** The engine methods a timeline uses. */
export type TimelineEngine = Pick<
  Engine,
  | 'provisionCustomer'
  | 'estimateSubscription'
  | 'provisionSubscription'
  | 'estimateSubscriptionUpdate'
  | 'updateSubscription'
  | 'cancelSubscription'
  | 'reportUsage'
  | 'tick'
  | 'getInvoices'
  | 'getSubscription'
>;

const period = (start: Date | number | null | undefined, end: Date | number | null | undefined): string =>
  start === null || start === undefined || end === null || end === undefined ? '' : `${showInstant(new Date(start).getTime())}..${showInstant(new Date(end).getTime())}`;

function summary(lines: readonly { kind: string; amount: string; quantity?: number }[]): string {
  return lines.map((l) => `${l.kind} ${l.amount}${l.quantity !== undefined ? ` (qty ${l.quantity})` : ''}`).join('; ');
}

function invoiceRow(step: number, i: Invoice, alias: (id: string) => string): TimelineRow {
  return {
    step,
    at: showInstant(i.createdAt.getTime()),
    kind: i.kind,
    customerId: i.customerId,
    subscriptionId: i.subscriptionId === null ? '' : alias(i.subscriptionId),
    period: period(i.periodStart, i.periodEnd),
    currency: i.currency,
    subTotal: i.subTotal,
    discount: i.discount?.amount ?? '',
    tax: i.tax,
    total: i.total,
    lines: summary(i.lines),
  };
}

function estimateRow(step: number, at: number, customerId: string, subscriptionId: string, e: Estimate): TimelineRow {
  return {
    step,
    at: showInstant(at),
    kind: 'ESTIMATE',
    customerId,
    subscriptionId,
    period: period(e.billingPeriodRange?.start, e.billingPeriodRange?.end),
    currency: e.currency,
    subTotal: e.subTotal,
    discount: e.discount?.amount ?? '',
    tax: e.tax,
    total: e.total,
    lines: summary(e.lines),
  };
}

/**
 * Runs `timeline` on `engine`, moving `clock`, and returns every estimate and invoice as rows in
 * the order they were made (invoices of a step after its estimates), the subscriptions each step
 * created, and the customers named. Throws a plain Error for a malformed timeline (time going
 * back, a `'$n'` that names no subscription) and, with `onError: 'throw'`, for a refused call
 * (naming the step); an `InvariantError` from `checkEstimates` always throws.
 */
export async function playTimeline(engine: TimelineEngine, clock: TestClock, timeline: readonly TimelineStep[], options: PlayOptions = {}): Promise<TimelineResult> {
  const rows: TimelineRow[] = [];
  const subscriptions: Record<string, string> = {};
  const customers = new Set<string>();
  const seenInvoices = new Set<string>();
  const resolve = (id: string, stepNo: number): string => {
    if (!/^\$\d+$/.test(id)) return id;
    const found = subscriptions[id];
    if (found !== undefined) return found;
    const n = Number(id.slice(1));
    const refused = rows.some((r) => r.step === n && r.kind === 'ERROR');
    // A step that was refused (recorded) provisioned nothing: the reference fails like a call would.
    if (refused) throw new UnresolvedReference(`${id} names step ${n}, which was refused and provisioned no subscription`);
    throw new Error(`timeline step ${stepNo}: ${id} names step ${n}, which provisioned no subscription`);
  };
  const alias = (id: string): string => Object.entries(subscriptions).find(([, v]) => v === id)?.[0] ?? id;
  const withId = <T extends { subscriptionId: string }>(p: T, stepNo: number): T => ({ ...p, subscriptionId: resolve(p.subscriptionId, stepNo) });
  const collect = async (stepNo: number): Promise<void> => {
    for (const customerId of customers) {
      let invoices: Invoice[];
      try {
        invoices = await engine.getInvoices({ customerId });
      } catch (e) {
        if (isTesseraError(e, 'CUSTOMER_NOT_FOUND')) continue;
        throw e;
      }
      for (const i of invoices) {
        if (seenInvoices.has(i.id)) continue;
        seenInvoices.add(i.id);
        rows.push(invoiceRow(stepNo, i, alias));
      }
    }
  };

  for (const [i, step] of timeline.entries()) {
    const stepNo = i + 1;
    if (step.at !== undefined) {
      const at = toMs(step.at);
      if (at < clock.nowMs()) throw new Error(`timeline step ${stepNo}: at ${String(step.at)} is before the clock (${clock.now().toISOString()}); time only moves forward`);
      clock.set(at);
    }
    if (step.advance) clock.advance(step.advance);
    const now = clock.nowMs();
    let action = '';
    try {
      if (step.provisionCustomer) {
        action = 'provisionCustomer';
        customers.add(step.provisionCustomer.customerId);
        await engine.provisionCustomer(step.provisionCustomer);
      }
      if (step.estimateSubscription) {
        action = 'estimateSubscription';
        const p = step.estimateSubscription;
        customers.add(p.customerId);
        rows.push(estimateRow(stepNo, now, p.customerId, '', await engine.estimateSubscription(p)));
      }
      if (step.provisionSubscription) {
        action = 'provisionSubscription';
        const p = step.provisionSubscription;
        customers.add(p.customerId);
        const result = options.checkEstimates ? await estimateEqualsInvoice(engine, { provisionSubscription: p }) : await engine.provisionSubscription(p);
        subscriptions[`$${stepNo}`] ??= result.id;
      }
      if (step.estimateSubscriptionUpdate) {
        action = 'estimateSubscriptionUpdate';
        const p = withId(step.estimateSubscriptionUpdate, stepNo);
        const sub = await engine.getSubscription(p.subscriptionId);
        rows.push(estimateRow(stepNo, now, sub.customerId, alias(p.subscriptionId), await engine.estimateSubscriptionUpdate(p)));
      }
      if (step.updateSubscription) {
        action = 'updateSubscription';
        const p = withId(step.updateSubscription, stepNo);
        if (options.checkEstimates) await estimateEqualsInvoice(engine, { updateSubscription: p });
        else await engine.updateSubscription(p);
      }
      if (step.cancelSubscription) {
        action = 'cancelSubscription';
        await engine.cancelSubscription(withId(step.cancelSubscription, stepNo));
      }
      if (step.reportUsage) {
        action = 'reportUsage';
        for (const u of Array.isArray(step.reportUsage) ? step.reportUsage : [step.reportUsage]) {
          customers.add(u.customerId);
          await engine.reportUsage(u);
        }
      }
      if (step.tick) {
        action = 'tick';
        await engine.tick();
      }
    } catch (e) {
      const code = isTesseraError(e) ? e.code : e instanceof UnresolvedReference ? 'UNRESOLVED_REFERENCE' : undefined;
      if (code === undefined || !(e instanceof Error)) throw e;
      if (options.onError !== 'record') {
        throw new Error(`timeline step ${stepNo} (${action} at ${showInstant(now)}): ${code}: ${e.message}`, { cause: e });
      }
      rows.push({ step: stepNo, at: showInstant(now), kind: 'ERROR', customerId: '', subscriptionId: '', period: '', currency: '', subTotal: '', discount: '', tax: '', total: '', lines: `${action}: ${code}: ${e.message}` });
    }
    await collect(stepNo);
  }
  return { rows, subscriptions, customerIds: [...customers] };
}

/** Options of `runPricingTimeline`. */
export interface PricingTimelineOptions extends PlayOptions {
  catalog: Catalog | CatalogDefinition;
  /** Where the engine keeps its state; a fresh `memoryStore()` by default. It is closed at the end. */
  store?: Store;
  timeline: readonly TimelineStep[];
  /** The clock's start; default the first step's `at`, else 2024-01-01T00:00:00Z. */
  start?: Date | string;
}

/**
 * Runs a pricing timeline on a fresh engine (test clock, ids 'sub_1', 'inv_1'... counted per
 * prefix, so that rows are stable from run to run) and returns its rows: every estimate and
 * invoice, in order, as plain strings ready for `formatTimeline` or a snapshot.
 *
 * ```ts
 * const rows = await runPricingTimeline({ catalog, timeline: [
 *   { at: '2024-01-31', provisionCustomer: { customerId: 'acme' },
 *     provisionSubscription: { customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY' } },
 *   { at: '2024-02-15', updateSubscription: { subscriptionId: '$1', addons: [{ addonId: 'extra-seats', quantity: 2 }] } },
 *   { at: '2024-03-01', tick: true },
 * ] });
 * expect(formatTimeline(rows)).toMatchSnapshot();
 * ```
 */
export async function runPricingTimeline(options: PricingTimelineOptions): Promise<TimelineRow[]> {
  const first = options.timeline[0]?.at;
  const clock = testClock(options.start ?? first ?? '2024-01-01T00:00:00Z');
  const counts = new Map<string, number>();
  const engine = await createEngine({
    store: options.store ?? memoryStore(),
    catalog: options.catalog,
    clock,
    followIntervalMs: 0,
    newId: (prefix) => {
      const n = (counts.get(prefix) ?? 0) + 1;
      counts.set(prefix, n);
      return `${prefix}_${n}`;
    },
  });
  try {
    const playOptions: PlayOptions = {};
    if (options.onError) playOptions.onError = options.onError;
    if (options.checkEstimates) playOptions.checkEstimates = options.checkEstimates;
    return (await playTimeline(engine, clock, options.timeline, playOptions)).rows;
  } finally {
    await engine.close();
  }
}

const COLUMNS: readonly { key: keyof TimelineRow; title: string; right?: boolean }[] = [
  { key: 'step', title: 'step', right: true },
  { key: 'at', title: 'at' },
  { key: 'kind', title: 'kind' },
  { key: 'customerId', title: 'customer' },
  { key: 'subscriptionId', title: 'subscription' },
  { key: 'period', title: 'period' },
  { key: 'currency', title: 'cur' },
  { key: 'subTotal', title: 'subTotal', right: true },
  { key: 'discount', title: 'discount', right: true },
  { key: 'tax', title: 'tax', right: true },
  { key: 'total', title: 'total', right: true },
  { key: 'lines', title: 'lines' },
];

/**
 * The rows as a fixed-width text table (a header, a rule, one line per row; amounts right-aligned,
 * the lines last), for snapshots and reviews. Trailing spaces are trimmed.
 */
export function formatTimeline(rows: readonly TimelineRow[]): string {
  const cells = rows.map((r) => COLUMNS.map((c) => String(r[c.key])));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (i === COLUMNS.length - 1 ? v : COLUMNS[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
