import { statusAt } from '../../rules/lifecycle.js';
import { nthBillingPeriod } from '../../rules/windows.js';
import type { SubscriptionRecord } from '../../records.js';
import type { BillingPeriod, PlanDefinition } from '../../catalog/types.js';
import type { FeatureQuantity } from '../../rules/pricing.js';
import type { Window } from '../../rules/windows.js';
import type { StoreTx } from '../../store/store.js';
import { issueInvoice, periodDocument, periodKey } from '../billing/billing.js';
import { write, type EngineContext, type WriteEffects } from './context.js';
import { effectiveCatalogVersion } from '../checks/view.js';
import { maintainCredits } from '../billing/credits.js';
import { retryDueProviderCalls } from '../billing/provider-calls.js';
import { isTesseraError } from '../../errors.js';

/** What a `tick()` materialised. A second tick at the same instant reports zeros. */
export interface TickResult {
  subscriptionsVisited: number;
  statusesChanged: number;
  invoicesCreated: number;
  updatesApplied: number;
  /** Customer credit balances whose expiries or recharges were written. */
  creditsMaintained: number;
  /**
   * Provider calls made again (checkouts and invoice deliveries that failed or that a crash
   * interrupted; docs/providers.md), and how many of those failed again. Unlike the counts above,
   * a call that failed is made again by the next tick, even at the same instant.
   */
  providerCallsRetried: number;
  providerCallsFailed: number;
  /**
   * Subscriptions (and customers' credit upkeep) whose transaction failed; each failure went to
   * the `error` event and the logger, and the tick went on with the next one (one damaged record
   * never stops every later renewal). A store that is down stops the tick: it throws.
   */
  subscriptionsFailed: number;
}

/** Most billing periods one tick bills for a subscription (a decade of months): bounds a catch-up. */
const MAX_PERIODS = 120;

/**
 * Materialises what is due at `now` for one subscription (docs/conventions.md#lifecycle): its
 * stored status, due scheduled updates, an invoice per started billing period (in advance) and
 * one for the usage of each ended period (in arrears). Reads never needed this; it makes the
 * ledger and the stored rows catch up, and is idempotent through the invoices' dedupe keys.
 */
async function tickOne(ctx: EngineContext, fx: WriteEffects, sub: SubscriptionRecord, result: TickResult): Promise<void> {
  const now = fx.now;
  const customer = await fx.tx.getCustomer(sub.customerId);
  if (!customer) return;
  let next = sub;
  const status = statusAt(sub, now);
  if (status !== sub.status && sub.status !== 'PAYMENT_PENDING') {
    next = { ...next, status, updatedAt: now };
    result.statusesChanged++;
  }
  const due = next.scheduledUpdates.filter((u) => u.at <= now);
  if (due.length > 0) {
    next = { ...next, catalogVersion: effectiveCatalogVersion(next, now), scheduledUpdates: next.scheduledUpdates.filter((u) => u.at > now), updatedAt: now };
    const latest = ctx.catalogs.get(next.catalogVersion);
    if (latest) next.planVersion = latest.record.planVersions[next.planId] ?? next.planVersion;
    result.updatesApplied += due.length;
  }
  if (next !== sub) {
    await fx.tx.putSubscription(next);
    await fx.change('subscription.updated', next.customerId, next.id, { status: next.status, tick: true });
    fx.invalidate(next.customerId);
    fx.emit('subscriptionUpdated', { customerId: next.customerId, subscriptionId: next.id, status: next.status, at: new Date(now) });
  }
  if (!next.billingPeriod || next.status === 'PAYMENT_PENDING') return;
  const invoices = await fx.tx.listInvoices({ customerId: next.customerId, subscriptionId: next.id });
  const billed = new Set(invoices.map((i) => i.dedupeKey));
  const end = next.endDate ?? Infinity;
  const cycleStart = currentCycleStart(next, invoices.map((i) => i.dedupeKey));
  for (let n = 0; n < MAX_PERIODS; n++) {
    const period = nthBillingPeriod(next.billingAnchor, next.billingPeriod, n);
    if (period.start > now || period.start >= end) break;
    if (period.end <= next.startDate || period.start < cycleStart) continue;
    // Each period is priced in the catalog version in force when it starts (a migration applies from its date).
    const priced: SubscriptionRecord = { ...next, catalogVersion: effectiveCatalogVersion(sub, period.start) };
    const plan = ctx.catalogs.get(priced.catalogVersion)?.catalog.plans.get(priced.planId);
    if (plan?.pricingType !== 'PAID') continue;
    const key = periodKey(next, period);
    if (!billed.has(key)) {
      const kind = n === 0 ? (next.trialEndDate !== null ? 'TRIAL_CONVERSION' : 'PROVISIONING') : 'RENEWAL';
      if (await issueInvoice(ctx, fx, { sub: next, kind, dedupeKey: key, period, document: periodDocument(ctx, priced, customer, period) })) result.invoicesCreated++;
    }
    const usageFeatures = usageFeatureIds(plan, next.billingPeriod);
    const usageKey = usagePeriodKey(next, period);
    const closed = Math.min(period.end, end);
    if (usageFeatures.length > 0 && closed <= now && !billed.has(usageKey)) {
      const usage = await periodUsage(fx.tx, next, usageFeatures, period, closed);
      const document = periodDocument(ctx, priced, customer, period, usage);
      if (await issueInvoice(ctx, fx, { sub: next, kind: 'USAGE', dedupeKey: usageKey, period, document })) result.invoicesCreated++;
    }
  }
}

/** The features a plan bills in arrears for a billing period (its USAGE_BASED prices). */
export function usageFeatureIds(plan: PlanDefinition, billingPeriod: BillingPeriod): string[] {
  return (plan.prices ?? []).filter((p) => p.billingModel === 'USAGE_BASED' && p.billingPeriod === billingPeriod).map((p) => p.featureId!);
}

/** The dedupe key of the usage invoice of the period starting at `period.start`. */
export function usagePeriodKey(sub: SubscriptionRecord, period: Window): string {
  return `${sub.id}:usage:${period.start}`;
}

/**
 * The usage a subscription is billed for in a period closed at `closed` (docs/pricing.md#usage-in-arrears):
 * the stored cells of the windows that start within the period. `tick()` and `simulateCatalog` both read it here.
 */
export async function periodUsage(tx: StoreTx, sub: SubscriptionRecord, featureIds: readonly string[], period: Window, closed: number): Promise<FeatureQuantity[]> {
  const usage: FeatureQuantity[] = [];
  for (const featureId of featureIds) {
    const cells = await tx.listUsage({ customerId: sub.customerId, featureId, resourceId: sub.resourceId, entityId: '', from: period.start, to: closed });
    const quantity = cells.filter((c) => c.windowStart >= period.start && c.windowStart < closed).reduce((a, c) => a + c.value, 0);
    usage.push({ featureId, quantity });
  }
  return usage;
}

/**
 * Where the current billing cycle starts: after a change of billing period, the first period of
 * the new one that was billed (its UPDATE invoice); earlier periods of the new length were paid
 * for by the old cycle. 0 when the billing period never changed.
 */
export function currentCycleStart(sub: SubscriptionRecord, keys: readonly string[]): number {
  const mine = `${sub.id}:${sub.billingPeriod}:`;
  const other = keys.some((k) => /^[^:]+:(MONTHLY|ANNUALLY):\d+$/.test(k) && !k.startsWith(mine));
  if (!other) return 0;
  const starts = keys.filter((k) => k.startsWith(mine)).map((k) => Number(k.slice(mine.length)));
  return starts.length > 0 ? Math.min(...starts) : 0;
}

/**
 * `tick()`: makes again the provider calls that failed or were interrupted (docs/providers.md),
 * then materialises due transitions for every subscription (one transaction each), in creation
 * order, and the credit expiries and recharges of their customers. Idempotent: running it twice
 * at one instant writes once (a provider call that keeps failing is tried once per tick).
 */
export async function tick(ctx: EngineContext): Promise<TickResult> {
  const result: TickResult = {
    subscriptionsVisited: 0,
    statusesChanged: 0,
    invoicesCreated: 0,
    updatesApplied: 0,
    creditsMaintained: 0,
    providerCallsRetried: 0,
    providerCallsFailed: 0,
    subscriptionsFailed: 0,
  };
  // One subscription's failure is reported and skipped; the store being down is everyone's.
  const isolated = async (what: () => Promise<void>, customerId: string, method: string): Promise<void> => {
    try {
      await what();
    } catch (err) {
      if (isTesseraError(err) && err.code === 'STORE_UNAVAILABLE') throw err;
      result.subscriptionsFailed++;
      ctx.reportError(err, { source: 'engine', method, customerId });
    }
  };
  // First: the calls left from before this tick. Invoices this tick issues are delivered after
  // their own commits, and hold their calls for a lease, so this pass never makes them twice.
  const calls = await retryDueProviderCalls(ctx);
  result.providerCallsRetried = calls.made;
  result.providerCallsFailed = calls.failed;
  const customersSeen = new Set<string>();
  let after: { value: number; id: string } | undefined;
  for (;;) {
    const now = ctx.clock.nowMs();
    const page = await ctx.store.transaction('read', (tx) =>
      tx.querySubscriptions({ sort: { field: 'createdAt', direction: 'ASC' }, limit: 200, now, ...(after ? { after } : {}) }),
    );
    for (const sub of page) {
      result.subscriptionsVisited++;
      await isolated(
        () =>
          write(ctx, async (fx) => {
            const fresh = await fx.tx.getSubscription(sub.id);
            if (fresh) await tickOne(ctx, fx, fresh, result);
          }),
        sub.customerId,
        `tick (subscription ${sub.id})`,
      );
      if (!customersSeen.has(sub.customerId)) {
        customersSeen.add(sub.customerId);
        await isolated(
          () =>
            write(ctx, async (fx) => {
              const customer = await fx.tx.getCustomer(sub.customerId);
              if (customer && customer.archivedAt === null) result.creditsMaintained += await maintainCredits(ctx, fx, customer);
            }),
          sub.customerId,
          'tick (credits)',
        );
      }
    }
    if (page.length < 200) return result;
    const last = page[page.length - 1]!;
    after = { value: last.createdAt, id: last.id };
  }
}
