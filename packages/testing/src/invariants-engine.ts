/**
 * Invariants that run against an engine (or anything with the few methods each one uses, such as
 * a wrapper of your own around the engine). Each throws an `InvariantError` when it does not hold.
 */
import {
  isTesseraError,
  type Engine,
  type Estimate,
  type Invoice,
  type ProvisionSubscriptionParams,
  type TickResult,
  type UpdateSubscriptionParams,
} from '@tessera/core';
import { InvariantError } from './invariant-error.js';
import { totalsNeverNegative, type GrantLike, type LedgerEntryLike } from './invariants.js';

/** The engine methods `estimateEqualsInvoice` uses. */
export type EstimatingEngine = Pick<Engine, 'estimateSubscription' | 'provisionSubscription' | 'estimateSubscriptionUpdate' | 'updateSubscription' | 'getInvoices' | 'getSubscription'>;

/** One billing call whose estimate is compared with the invoice it produces. */
export type EstimatedCall = { provisionSubscription: ProvisionSubscriptionParams } | { updateSubscription: UpdateSubscriptionParams };

type CallResult<C extends EstimatedCall> = C extends { provisionSubscription: ProvisionSubscriptionParams }
  ? Awaited<ReturnType<Engine['provisionSubscription']>>
  : Awaited<ReturnType<Engine['updateSubscription']>>;

const codeOf = (e: unknown): string => (isTesseraError(e) ? e.code : e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** What an estimate and an invoice must agree on. */
function billed(doc: {
  currency: string;
  subTotal: string;
  tax: string;
  total: string;
  discount?: { amount: string } | null;
  lines: readonly { kind: string; description: string; quantity?: number; amount: string }[];
}) {
  return {
    currency: doc.currency,
    subTotal: doc.subTotal,
    discount: doc.discount?.amount ?? null,
    tax: doc.tax,
    total: doc.total,
    lines: doc.lines.map((l) => ({ kind: l.kind, description: l.description, quantity: l.quantity ?? null, amount: l.amount })),
  };
}

/**
 * An estimate is the invoice it announces (docs/pricing.md#estimates): runs the estimate, then the
 * same call at the same instant, and compares the estimate with the invoice the call created
 * (currency, subtotal, discount, tax, total, every line). When the call creates no invoice (a
 * trial, a free plan, a scheduled downgrade, a change that moves no money) the estimate must have
 * no lines, unless it shows a period still to come: the subscription is not billed yet (IN_TRIAL,
 * NOT_STARTED, PAYMENT_PENDING) or the estimate's billing period starts after the call (the first
 * period of a scheduled downgrade). When the estimate throws, the call must throw
 * the same code (and its error is rethrown). Also checks `totalsNeverNegative` on the estimate.
 * Returns what the call returned.
 */
export async function estimateEqualsInvoice<C extends EstimatedCall>(engine: EstimatingEngine, call: C): Promise<CallResult<C>> {
  const provision = 'provisionSubscription' in call ? call.provisionSubscription : undefined;
  const update = 'updateSubscription' in call ? call.updateSubscription : undefined;
  let customerId = provision?.customerId;
  if (update) {
    try {
      customerId = (await engine.getSubscription(update.subscriptionId)).customerId;
    } catch {
      customerId = undefined;
    }
  }
  const invoicesOf = async (): Promise<Invoice[]> => {
    if (customerId === undefined) return [];
    try {
      return await engine.getInvoices({ customerId });
    } catch {
      return [];
    }
  };
  const before = new Set((await invoicesOf()).map((i) => i.id));
  let estimate: Estimate | undefined;
  let estimateError: unknown;
  try {
    estimate = provision ? await engine.estimateSubscription(provision) : await engine.estimateSubscriptionUpdate(update!);
  } catch (e) {
    estimateError = e;
  }
  let result: unknown;
  let callError: unknown;
  try {
    result = provision ? await engine.provisionSubscription(provision) : await engine.updateSubscription(update!);
  } catch (e) {
    callError = e;
  }
  if (estimateError !== undefined || callError !== undefined) {
    if (estimateError === undefined || callError === undefined || codeOf(estimateError) !== codeOf(callError)) {
      throw new InvariantError('estimateEqualsInvoice', 'an estimate must fail exactly when the call it estimates fails', {
        expected: estimateError === undefined ? 'the call to succeed' : `the call to fail with ${codeOf(estimateError)}`,
        seen: callError === undefined ? 'the call succeeded' : `the call failed with ${codeOf(callError)}`,
        inputs: call,
      });
    }
    throw callError;
  }
  const est = estimate!;
  totalsNeverNegative(est, { call, estimate: est });
  const created = (await invoicesOf()).filter((i) => !before.has(i.id));
  const invoice = created[created.length - 1];
  if (created.length > 1) {
    throw new InvariantError('estimateEqualsInvoice', 'one call must create at most one invoice', { expected: 1, seen: created.length, inputs: { call, invoices: created } });
  }
  if (invoice) {
    const expected = billed(est);
    const seen = billed(invoice);
    if (JSON.stringify(expected) !== JSON.stringify(seen)) {
      throw new InvariantError('estimateEqualsInvoice', `the ${invoice.kind} invoice must equal the estimate made just before`, { expected, seen, inputs: call });
    }
  } else {
    const sub = provision ? (result as Awaited<ReturnType<Engine['provisionSubscription']>>).subscription : (result as Awaited<ReturnType<Engine['updateSubscription']>>);
    const notBilledYet = sub.status === 'IN_TRIAL' || sub.status === 'NOT_STARTED' || sub.status === 'PAYMENT_PENDING';
    // The write stamps updatedAt with its instant: a range starting later is a period still to come (a scheduled downgrade).
    const later = est.billingPeriodRange !== null && est.billingPeriodRange.start.getTime() > sub.updatedAt.getTime();
    if (est.lines.length > 0 && !notBilledYet && !later) {
      throw new InvariantError('estimateEqualsInvoice', 'an estimate with lines must be followed by an invoice', { expected: billed(est), seen: 'no invoice', inputs: call });
    }
  }
  return result as CallResult<C>;
}

/** Options of the tick invariants: whose invoices and reads to compare. */
export interface TickCheckOptions {
  /** Customers whose invoices (and, for `lazyReadEqualsTickedRead`, reads) are compared. */
  customerIds?: readonly string[];
}

async function invoiceIds(engine: Pick<Engine, 'getInvoices'>, customerIds: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const customerId of customerIds) {
    try {
      for (const i of await engine.getInvoices({ customerId })) out.push(i.id);
    } catch (e) {
      if (!isTesseraError(e) || e.code !== 'CUSTOMER_NOT_FOUND') throw e;
    }
  }
  return out;
}

/**
 * `tick()` is idempotent: a second tick at the same instant changes no status, applies no
 * update and creates no invoice (and the customers' invoices stay the same). Returns the first
 * tick's result.
 */
export async function tickIsIdempotent(engine: Pick<Engine, 'tick' | 'getInvoices'>, options: TickCheckOptions = {}): Promise<TickResult> {
  const first = await engine.tick();
  const ids = await invoiceIds(engine, options.customerIds ?? []);
  const second = await engine.tick();
  const again = await invoiceIds(engine, options.customerIds ?? []);
  if (second.statusesChanged !== 0 || second.invoicesCreated !== 0 || second.updatesApplied !== 0 || again.length !== ids.length) {
    throw new InvariantError('tickIsIdempotent', 'a second tick at the same instant must change nothing', {
      expected: { statusesChanged: 0, invoicesCreated: 0, updatesApplied: 0, invoices: ids.length },
      seen: { ...second, invoices: again.length },
      inputs: { firstTick: first, customerIds: options.customerIds ?? [] },
    });
  }
  return first;
}

/** The engine methods `lazyReadEqualsTickedRead` uses. */
export type ReadingEngine = Pick<Engine, 'tick' | 'getActiveSubscriptions' | 'getEntitlements'>;

async function readState(engine: ReadingEngine, customerIds: readonly string[], now: number | undefined) {
  const out: Record<string, unknown> = {};
  for (const customerId of customerIds) {
    let subscriptions: unknown;
    try {
      subscriptions = (await engine.getActiveSubscriptions({ customerId })).map((s) => ({
        id: s.id,
        planId: s.planId,
        status: s.status,
        billingPeriod: s.billingPeriod,
        startDate: s.startDate,
        endDate: s.endDate,
        trialEndDate: s.trialEndDate,
        currentBillingPeriodStart: s.currentBillingPeriodStart,
        currentBillingPeriodEnd: s.currentBillingPeriodEnd,
        addons: s.addons,
        billableFeatures: s.billableFeatures,
        // tick() drops updates once applied; a lazy read still lists the due ones.
        scheduledUpdates: s.scheduledUpdates.filter((u) => now === undefined || u.scheduledAt.getTime() > now),
      }));
    } catch (e) {
      subscriptions = codeOf(e);
    }
    out[customerId] = { subscriptions, entitlements: await engine.getEntitlements({ customerId }) };
  }
  return JSON.parse(JSON.stringify(out)) as unknown;
}

/**
 * Reads need no job (docs/conventions.md#time-driven-work-reads-and-tick): the active
 * subscriptions and entitlements of `customerIds` read before `tick()` equal those read after it,
 * at the same instant. `now` (epoch ms, the engine clock's) lets due scheduled updates, which a
 * tick removes, be left out of the comparison. Returns the tick's result.
 */
export async function lazyReadEqualsTickedRead(engine: ReadingEngine, options: TickCheckOptions & { now?: number } = {}): Promise<TickResult> {
  const customerIds = options.customerIds ?? [];
  const lazy = await readState(engine, customerIds, options.now);
  const result = await engine.tick();
  const ticked = await readState(engine, customerIds, options.now);
  if (JSON.stringify(lazy) !== JSON.stringify(ticked)) {
    throw new InvariantError('lazyReadEqualsTickedRead', 'reads right after tick() must equal the lazy reads just before it', {
      expected: lazy,
      seen: ticked,
      inputs: { customerIds, tick: result },
    });
  }
  return result;
}

/** What `usageNeverPassesHardLimit` reads of a metered entitlement. */
export interface MeteredSnapshot {
  featureId?: string;
  type?: string;
  usageLimit: number | null;
  currentUsage: number;
  hasSoftLimit: boolean;
  isUnlimited: boolean;
}

function checkLimit(e: MeteredSnapshot, inputs: unknown): void {
  if (e.isUnlimited || e.hasSoftLimit || e.usageLimit === null) return;
  if (e.currentUsage > e.usageLimit) {
    throw new InvariantError('usageNeverPassesHardLimit', 'usage granted by consumeUsage and reservations must never pass a hard limit', {
      expected: `<= ${e.usageLimit}`,
      seen: e.currentUsage,
      inputs,
    });
  }
}

/**
 * Usage never passes a hard limit: for a METERED entitlement that is neither unlimited nor soft,
 * currentUsage (held reservations included) <= usageLimit. Holds when usage is recorded through
 * `consumeUsage` and reservations only: `reportUsage` records past a hard limit on purpose (the
 * work was done). Give a metered entitlement, or an engine and the check's parameters.
 */
export function usageNeverPassesHardLimit(entitlement: MeteredSnapshot): void;
export function usageNeverPassesHardLimit(engine: Pick<Engine, 'getMeteredEntitlement'>, params: { customerId: string; featureId: string; resourceId?: string }): Promise<void>;
export function usageNeverPassesHardLimit(
  source: MeteredSnapshot | Pick<Engine, 'getMeteredEntitlement'>,
  params?: { customerId: string; featureId: string; resourceId?: string },
): void | Promise<void> {
  if ('getMeteredEntitlement' in source) {
    return source.getMeteredEntitlement(params!).then((e) => {
      if (e.type === 'METERED') checkLimit(e, { ...params, entitlement: e });
    });
  }
  checkLimit(source, source);
}

/**
 * A customer's grants and ledger entries of one credit currency, read from the engine (every
 * page of the ledger), for `ledgerBalances`.
 */
export async function readLedger(
  engine: Pick<Engine, 'getCreditGrants' | 'getCreditLedger'>,
  params: { customerId: string; currencyId: string },
): Promise<{ grants: GrantLike[]; entries: LedgerEntryLike[] }> {
  const grants = await engine.getCreditGrants(params);
  const entries: LedgerEntryLike[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await engine.getCreditLedger({ ...params, first: 1000, ...(after === undefined ? {} : { after }) });
    entries.push(...page.data.map((e) => ({ grantId: e.grantId, amount: e.amount })));
    if (!page.pageInfo.hasNextPage || page.pageInfo.endCursor === null) break;
    after = page.pageInfo.endCursor;
  }
  return { grants: grants.map((g) => ({ id: g.id, remaining: g.remaining })), entries };
}
