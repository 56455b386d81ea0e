import type { PricedDocument } from '../../rules/invoice.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import type { Proration } from '../../rules/proration.js';
import type { Window } from '../../rules/windows.js';
import { priceDocument, prorationBlock } from './billing.js';
import { write, type EngineContext } from '../runtime/context.js';
import { provisionInTx } from '../subscriptions/provisioning.js';
import { readSubscriptionInput } from '../subscriptions/subscription-params.js';
import { updateInTx } from '../subscriptions/subscription-changes.js';

/** What a change would bill, written nowhere. Amounts are decimal strings in `currency`. */
export interface Estimate {
  currency: string;
  subTotal: string;
  discount?: { type: string; value: string; durationInMonths: number | null; amount: string };
  tax: string;
  total: string;
  billingPeriodRange: { start: Date; end: Date } | null;
  proration?: { prorationDate: Date; credit: string; debit: string; netAmount: string };
  lines: (Omit<PricedDocument['lines'][number], 'periodStart' | 'periodEnd'> & { periodStart?: Date; periodEnd?: Date })[];
}

/** Carries the result out of a transaction that must not commit. */
class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('estimate rollback');
  }
}

/**
 * Runs the real write in a transaction and rolls it back: the estimate is, by construction, the
 * invoice the same call would produce at the same instant (docs/pricing.md#estimates).
 */
async function dryRun<T>(ctx: EngineContext, fn: Parameters<typeof write<T>>[1]): Promise<T> {
  try {
    await write(ctx, async (fx) => {
      throw new Rollback(await fn(fx));
    });
  } catch (e) {
    if (e instanceof Rollback) return e.value as T;
    throw e;
  }
  throw new Error('unreachable');
}

function toEstimate(document: PricedDocument | undefined, period: Window | undefined, proration: Proration | undefined): Estimate {
  const doc = document ?? { lines: [], subTotal: '0', tax: '0', total: '0', currency: '', excessCredit: '0' };
  const out: Estimate = {
    currency: doc.currency,
    subTotal: doc.subTotal,
    tax: doc.tax,
    total: doc.total,
    billingPeriodRange: period ? { start: new Date(period.start), end: new Date(period.end) } : null,
    lines: doc.lines.map((l) => {
      const { periodStart, periodEnd, ...rest } = l;
      return {
        ...rest,
        ...(periodStart !== undefined ? { periodStart: new Date(periodStart) } : {}),
        ...(periodEnd !== undefined ? { periodEnd: new Date(periodEnd) } : {}),
      };
    }),
  };
  if (doc.discount) out.discount = { type: doc.discount.type, value: doc.discount.value, durationInMonths: doc.discount.durationInMonths, amount: doc.discount.amount };
  const block = proration ? prorationBlock(proration) : undefined;
  if (block) out.proration = block;
  return out;
}

/** `estimateSubscription`: what provisioning this subscription now would bill (or bill when a trial converts). */
export async function estimateSubscription(ctx: EngineContext, params: unknown): Promise<Estimate> {
  const input = readSubscriptionInput(params, 'estimateSubscription', ctx.latest().catalog);
  return dryRun(ctx, async (fx) => {
    const customer = await requireLiveCustomer(fx.tx, input.customerId, 'estimateSubscription.customerId');
    const done = await provisionInTx(ctx, fx, input, customer, { estimate: true });
    // A free plan bills nothing: a zero document in the customer's currency.
    const document = done.document ?? priceDocument(ctx, done.record, customer, [], fx.now);
    return toEstimate(document, done.billingPeriodRange, done.proration);
  });
}

/** `estimateSubscriptionUpdate`: what `updateSubscription` with the same params would bill now. */
export async function estimateSubscriptionUpdate(ctx: EngineContext, params: unknown): Promise<Estimate> {
  return dryRun(ctx, async (fx) => {
    const out = await updateInTx(ctx, fx, params, 'estimateSubscriptionUpdate');
    return toEstimate(out.document, out.period, out.proration);
  });
}
