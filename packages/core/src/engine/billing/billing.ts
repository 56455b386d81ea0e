import type { CouponDefinition } from '../../catalog/types.js';
import { TesseraError } from '../../errors.js';
import { couponAppliesToPeriod, effectiveCoupon } from '../../rules/discounts.js';
import { assembleInvoice, type DraftLine, type PricedDocument } from '../../rules/invoice.js';
import { pricePeriod, selectPrices, storedQuantities, type FeatureQuantity, type PeriodPriceInput, type PricedLine } from '../../rules/pricing.js';
import { prorateChange, prorationSummary, type Proration } from '../../rules/proration.js';
import { type Window } from '../../rules/windows.js';
import type { CustomerRecord, InvoiceKind, InvoiceRecord, SubscriptionRecord } from '../../records.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';
import { enqueueProviderCall, attempt, invoiceDeliveryKey } from './provider-calls.js';

/** An invoice as the API returns it. Amounts are decimal strings in `currency`. */
export interface Invoice {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  kind: InvoiceKind;
  status: 'OPEN' | 'PAID' | 'VOID';
  currency: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  lines: { kind: string; description: string; quantity?: number; unitAmount?: string; amount: string; currency: string; periodStart?: Date; periodEnd?: Date }[];
  subTotal: string;
  discount: InvoiceRecord['discount'];
  tax: string;
  total: string;
  excessCredit: string;
  createdAt: Date;
}

/** Where a subscription pays tax and which prices apply: its own country, else the customer's. */
export function billingCountry(sub: Pick<SubscriptionRecord, 'billingCountryCode'>, customer: CustomerRecord): string | null {
  const fromCustomer = customer.billingInfo?.billingCountryCode;
  return sub.billingCountryCode ?? (typeof fromCustomer === 'string' ? fromCustomer : null);
}

/**
 * What `pricePeriod` prices for a subscription: its plan and add-ons (x quantity) in its catalog
 * version, its billing period, the prices of its billing country and its quantities. Null when it
 * has no billing period or its plan is gone. Invoices, estimates and `getSubscription`'s price
 * lines all start here, so they localise the same way.
 */
export function periodPriceInput(ctx: EngineContext, sub: SubscriptionRecord, customer: CustomerRecord): PeriodPriceInput | null {
  if (!sub.billingPeriod) return null;
  const catalog = ctx.catalogs.get(sub.catalogVersion)?.catalog ?? ctx.latest().catalog;
  const plan = catalog.plans.get(sub.planId);
  if (!plan) return null;
  const addons = sub.addons.flatMap((a) => {
    const addon = catalog.addons.get(a.addonId);
    return addon ? [{ addon, quantity: a.quantity }] : [];
  });
  return {
    plan,
    addons,
    billingPeriod: sub.billingPeriod,
    billingCountryCode: billingCountry(sub, customer),
    billableFeatures: storedQuantities(plan, sub.billingPeriod, sub.billableFeatures),
  };
}

/** A subscription's full-period lines (plan, add-ons x quantity, per-unit), unrounded, from its catalog version. */
export function subscriptionLines(ctx: EngineContext, sub: SubscriptionRecord, customer: CustomerRecord, usage?: FeatureQuantity[]): PricedLine[] {
  const input = periodPriceInput(ctx, sub, customer);
  if (!input) return [];
  if (usage) input.usage = usage;
  return pricePeriod(input);
}

/**
 * The one coupon that applies to a document for a period starting at `periodStart`
 * (docs/pricing.md#precedence): the subscription's promotion code, else the customer's coupon,
 * each only within its duration.
 */
export function couponFor(ctx: EngineContext, sub: SubscriptionRecord, customer: CustomerRecord, periodStart: number): CouponDefinition | null {
  const catalog = ctx.latest().catalog;
  const promo = sub.promotionCode ? catalog.promotionCodes.get(sub.promotionCode) : undefined;
  const promoCoupon = promo ? catalog.coupons.get(promo.couponId) : undefined;
  const customerCoupon = customer.couponId ? catalog.coupons.get(customer.couponId) : undefined;
  const chosen = effectiveCoupon({ promotionCodeCoupon: promoCoupon ?? null, customerCoupon: customerCoupon ?? null });
  if (!chosen) return null;
  const appliedAt =
    chosen.source === 'PROMOTION_CODE' ? (sub.promotionCodeAppliedAt ?? sub.startDate) : (customer.couponAppliedAt ?? customer.createdAt);
  return couponAppliesToPeriod(chosen.coupon, appliedAt, periodStart) ? chosen.coupon : null;
}

/** The currency a subscription is billed in (its plan's price in its country), or USD for free plans. */
function currencyOf(lines: readonly { currency: string }[], fallback: string | undefined): string {
  return lines[0]?.currency ?? fallback ?? 'USD';
}

/**
 * The currency a subscription is billed in: its plan's prices for its billing period in its
 * country (usage-based ones included), else the customer's billing currency, else USD.
 */
export function subscriptionLinesCurrency(ctx: EngineContext, sub: SubscriptionRecord, customer: CustomerRecord): string {
  const catalog = ctx.catalogs.get(sub.catalogVersion)?.catalog ?? ctx.latest().catalog;
  const plan = catalog.plans.get(sub.planId);
  const prices = plan && sub.billingPeriod ? selectPrices(plan.prices ?? [], sub.billingPeriod, billingCountry(sub, customer)) : [];
  const billingInfoCurrency = typeof customer.billingInfo?.currency === 'string' ? customer.billingInfo.currency : undefined;
  return prices[0]?.currency ?? billingInfoCurrency ?? 'USD';
}

/** Prices a document from draft lines with the subscription's coupon and the customer's tax. */
export function priceDocument(ctx: EngineContext, sub: SubscriptionRecord, customer: CustomerRecord, lines: DraftLine[], periodStart: number, currency?: string): PricedDocument {
  // A document without lines still has the subscription's currency (a FIXED coupon must match it).
  return assembleInvoice({
    lines,
    currency: currencyOf(lines, currency ?? subscriptionLinesCurrency(ctx, sub, customer)),
    coupon: couponFor(ctx, sub, customer, periodStart),
    tax: {
      party: { billingCountryCode: billingCountry(sub, customer), taxExempt: customer.billingInfo?.taxExempt === true },
      rates: ctx.latest().catalog.taxRates,
    },
  });
}

/** The document billing one full period of a subscription (in advance; usage lines when `usage` is given). */
export function periodDocument(ctx: EngineContext, sub: SubscriptionRecord, customer: CustomerRecord, period: Window, usage?: FeatureQuantity[]): PricedDocument {
  const lines = subscriptionLines(ctx, sub, customer, usage).map((l) => ({ ...l, periodStart: period.start, periodEnd: period.end }));
  return priceDocument(ctx, sub, customer, usage ? lines.filter((l) => l.kind === 'USAGE') : lines.filter((l) => l.kind !== 'USAGE'), period.start);
}

/**
 * The document of a change at `at`: credit for the unused time of `before`, debit for the
 * remaining time of `after` in `newPeriod` (docs/pricing.md#proration), discounts and tax applied.
 */
export function changeDocument(
  ctx: EngineContext,
  customer: CustomerRecord,
  before: { sub: SubscriptionRecord; period: Window } | null,
  after: { sub: SubscriptionRecord; period: Window },
  at: number,
): { document: PricedDocument; proration: Proration } {
  const oldLines = before ? subscriptionLines(ctx, before.sub, customer) : [];
  const newLines = subscriptionLines(ctx, after.sub, customer);
  const from = oldLines[0]?.currency;
  const to = newLines[0]?.currency;
  if (from && to && from !== to) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `billingCountryCode: the change would bill in ${to} while the current subscription bills in ${from}; keep the billing country (${before!.sub.billingCountryCode ?? customer.billingInfo?.billingCountryCode ?? 'none'}) or cancel and subscribe anew`,
      { field: 'billingCountryCode', from, to },
    );
  }
  const proration = prorateChange({ period: before?.period ?? after.period, at, oldLines, newLines, newPeriod: after.period });
  const lines: DraftLine[] = [...proration.credit, ...proration.debit];
  return { document: priceDocument(ctx, after.sub, customer, lines, at), proration };
}

/** The `proration` block of an estimate. */
export function prorationBlock(p: Proration): { prorationDate: Date; credit: string; debit: string; netAmount: string } | undefined {
  if (p.credit.length === 0 && p.debit.length === 0) return undefined;
  const s = prorationSummary(p);
  return { prorationDate: new Date(s.prorationDate), credit: s.credit, debit: s.debit, netAmount: s.netAmount };
}

/**
 * Stores an invoice for a document (skipped when `dedupeKey` was billed already, or the document
 * is empty) and tells the billing provider after commit. Returns the record when stored.
 */
export async function issueInvoice(
  ctx: EngineContext,
  fx: WriteEffects,
  input: { sub: { id: string | null; customerId: string }; kind: InvoiceKind; dedupeKey: string; period: Window | null; document: PricedDocument },
): Promise<InvoiceRecord | undefined> {
  if (input.document.lines.length === 0) return undefined;
  const rec: InvoiceRecord = {
    id: ctx.newId('inv'),
    customerId: input.sub.customerId,
    subscriptionId: input.sub.id,
    kind: input.kind,
    dedupeKey: input.dedupeKey,
    status: input.document.total === '0' || /^0(\.0+)?$/.test(input.document.total) ? 'PAID' : 'OPEN',
    currency: input.document.currency,
    periodStart: input.period?.start ?? null,
    periodEnd: input.period?.end ?? null,
    lines: input.document.lines.map((l) => JSON.parse(JSON.stringify(l)) as InvoiceRecord['lines'][number]),
    subTotal: input.document.subTotal,
    discount: input.document.discount ?? null,
    tax: input.document.tax,
    total: input.document.total,
    excessCredit: input.document.excessCredit,
    createdAt: fx.now,
  };
  if (!(await fx.tx.insertInvoice(rec))) return undefined;
  await fx.change('invoice.created', rec.customerId, rec.id, { subscriptionId: rec.subscriptionId, total: rec.total, kind: rec.kind });
  if (ctx.billingProvider) {
    // Delivered after the commit and retried by tick() until it succeeds (docs/providers.md).
    const call = await enqueueProviderCall(fx, { key: invoiceDeliveryKey(rec.id), kind: 'onInvoiceCreated', customerId: rec.customerId, entityId: rec.id, input: { invoiceId: rec.id } });
    fx.after(() => void attempt(ctx, call, rec));
  }
  return rec;
}

/** The dedupe key of a subscription's billing period: one invoice per period and billing period. */
export function periodKey(sub: SubscriptionRecord, period: Window): string {
  return `${sub.id}:${sub.billingPeriod}:${period.start}`;
}

/** Invoices in the order they were issued: creation time, then the period they bill (a catch-up tick issues several at once). */
export function inIssueOrder<T extends { createdAt: number; periodStart: number | null; id: string }>(rows: T[]): T[] {
  return rows.sort((a, b) => a.createdAt - b.createdAt || (a.periodStart ?? 0) - (b.periodStart ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The API shape of an invoice record. */
export function toInvoice(r: InvoiceRecord): Invoice {
  return {
    id: r.id,
    customerId: r.customerId,
    subscriptionId: r.subscriptionId,
    kind: r.kind,
    status: r.status,
    currency: r.currency,
    periodStart: r.periodStart === null ? null : new Date(r.periodStart),
    periodEnd: r.periodEnd === null ? null : new Date(r.periodEnd),
    lines: r.lines.map((l) => {
      const { periodStart, periodEnd, ...rest } = l;
      const out: Invoice['lines'][number] = { ...rest };
      if (periodStart !== undefined) out.periodStart = new Date(periodStart);
      if (periodEnd !== undefined) out.periodEnd = new Date(periodEnd);
      return out;
    }),
    subTotal: r.subTotal,
    discount: r.discount,
    tax: r.tax,
    total: r.total,
    excessCredit: r.excessCredit,
    createdAt: new Date(r.createdAt),
  };
}

/**
 * Where an external billing system is told about invoices (none by default). Delivery is
 * at-least-once (docs/providers.md): called after the invoice committed, never inside the
 * transaction; a throw or rejection is reported and the delivery is made again by a later
 * `tick()`, as is one a crash interrupted. Use `invoice.id` as the idempotency key (Stripe: the
 * `Idempotency-Key` header) so that a repeat does nothing twice.
 */
export interface BillingProvider {
  /** Told of one invoice; resolve once it is recorded, throw or reject to have it delivered again. */
  onInvoiceCreated(invoice: Invoice): void | Promise<void>;
}

/** Throws SUBSCRIPTION_NOT_FOUND unless the subscription exists for a live customer. */
export async function requireSubscription(fx: WriteEffects, id: string, method: string): Promise<{ sub: SubscriptionRecord; customer: CustomerRecord }> {
  const sub = await fx.tx.getSubscription(id);
  const customer = sub ? await fx.tx.getCustomer(sub.customerId) : undefined;
  if (!sub || !customer || customer.archivedAt !== null) {
    throw new TesseraError('SUBSCRIPTION_NOT_FOUND', `${method}.subscriptionId: no subscription "${id}"`, { field: 'subscriptionId', value: id });
  }
  return { sub, customer };
}
