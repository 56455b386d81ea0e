/**
 * A priced document from lines: the one shape the engine's invoices and estimates both use, so
 * an estimate equals the invoice it announces by construction (docs/pricing.md#documents).
 *
 * Order (docs/pricing.md#rounding): each charge line rounded once -> subTotal = their sum ->
 * discount on the subTotal, rounded once -> tax on (subTotal - discount), rounded once ->
 * total = subTotal - discount + tax, never below zero. Sums are never rounded again.
 */
import type { CouponDefinition } from '../catalog/types.js';
import { invalidArgument } from '../errors.js';
import { Decimal, assertSameCurrency, currencyDigits, formatMoney, roundMoney, sumDecimals } from '../money.js';
import { applyCoupon } from './discounts.js';
import { formatAmount } from './pricing.js';
import { type TaxParty, type TaxRates, applyTax } from './tax.js';
import type { Window } from './windows.js';

/** Kinds of document lines: charges for a period, proration, then the discount and the tax. */
export type InvoiceLineKind = 'PLAN' | 'ADDON' | 'PER_UNIT' | 'USAGE' | 'PRORATION_CREDIT' | 'PRORATION_DEBIT' | 'DISCOUNT' | 'TAX';

/** Kinds a caller passes in; DISCOUNT and TAX lines are computed by `assembleInvoice`. */
export type ChargeLineKind = Exclude<InvoiceLineKind, 'DISCOUNT' | 'TAX'>;

/** One line of a document. `amount` is rounded to the currency's minor unit; periods are epoch ms. */
export interface InvoiceLine {
  kind: InvoiceLineKind;
  description: string;
  quantity?: number;
  /** Price of one unit as declared (may have more digits than the currency: '0.0125'); informative only. */
  unitAmount?: string;
  amount: string;
  currency: string;
  periodStart?: number;
  periodEnd?: number;
}

/** The discount of a document: the coupon's terms and the rounded amount taken off (positive). */
export interface DocumentDiscount {
  couponId: string;
  type: CouponDefinition['type'];
  value: string;
  /** Null: forever. */
  durationInMonths: number | null;
  amount: string;
}

/** An invoice or an estimate. Every amount is a string with the currency's minor digits. */
export interface PricedDocument {
  lines: InvoiceLine[];
  /** Sum of the rounded charge lines (proration credits included). */
  subTotal: string;
  discount?: DocumentDiscount;
  tax: string;
  /** subTotal - discount + tax, or 0 when that is negative. */
  total: string;
  currency: string;
  /**
   * How far below zero the lines went ('0.00' normally): when credits exceed charges the total is
   * 0 and this is what the customer is still owed (to keep as a balance or refund).
   */
  excessCredit: string;
}

/** A line before rounding. `PricedLine` (rules/pricing.ts) and `ProrationLine` (rules/proration.ts) fit. */
export interface DraftLine {
  kind: ChargeLineKind;
  description: string;
  currency: string;
  /** Unrounded; rounded here once (an already rounded proration line is unchanged). */
  amount: Decimal;
  quantity?: number;
  unitAmount?: Decimal;
  periodStart?: number;
  periodEnd?: number;
}

/** Input of `assembleInvoice`. */
export interface AssembleInput {
  /** Charge lines: period lines, usage in arrears, proration credits and debits. */
  lines: readonly DraftLine[];
  /** The document's currency; required when there are no lines, else it must match them. */
  currency?: string;
  /** The one coupon in force (rules/discounts.ts effectiveCoupon, couponAppliesToPeriod); none when absent. */
  coupon?: CouponDefinition | null;
  /** Who is taxed and the rates; no tax when absent. */
  tax?: { party: TaxParty; rates: TaxRates } | null;
}

/**
 * Prices a document (docs/pricing.md#rounding): rounds each line once, half-up, to the minor unit,
 * sums them into subTotal, takes the coupon's discount off the subTotal (a DISCOUNT line, negative),
 * taxes what remains (a TAX line) and totals; DISCOUNT and TAX lines appear only when not zero, so
 * the lines always sum to subTotal - discount + tax. The total is never negative.
 * Throws `INVALID_ARGUMENT` for lines in several currencies, a FIXED coupon in another currency,
 * or no currency at all.
 */
export function assembleInvoice(input: AssembleInput): PricedDocument {
  const currency = input.currency ?? input.lines[0]?.currency;
  if (!currency) throw invalidArgument('currency', 'a document without lines needs a currency');
  currencyDigits(currency);
  const lines: InvoiceLine[] = [];
  const charges: Decimal[] = [];
  for (const draft of input.lines) {
    assertSameCurrency(currency, draft.currency, 'lines.currency');
    const amount = roundMoney(draft.amount, currency);
    charges.push(amount);
    lines.push(toInvoiceLine(draft, amount, currency));
  }
  const subTotal = sumDecimals(charges);

  let discountAmount = new Decimal(0);
  let discount: DocumentDiscount | undefined;
  if (input.coupon) {
    const d = applyCoupon(input.coupon, subTotal, currency);
    discountAmount = d.amount;
    discount = {
      couponId: d.couponId,
      type: d.type,
      value: d.value,
      durationInMonths: d.durationInMonths,
      amount: formatMoney(d.amount, currency),
    };
    if (!d.amount.isZero()) lines.push({ kind: 'DISCOUNT', description: d.description, amount: formatMoney(d.amount.negated(), currency), currency });
  }

  let taxAmount = new Decimal(0);
  if (input.tax) {
    const t = applyTax(subTotal.minus(discountAmount), currency, input.tax.party, input.tax.rates);
    taxAmount = t.amount;
    if (!t.amount.isZero()) lines.push({ kind: 'TAX', description: t.description, amount: formatMoney(t.amount, currency), currency });
  }

  const net = subTotal.minus(discountAmount).plus(taxAmount);
  const document: PricedDocument = {
    lines,
    subTotal: formatMoney(subTotal, currency),
    tax: formatMoney(taxAmount, currency),
    total: formatMoney(Decimal.max(net, 0), currency),
    currency,
    excessCredit: formatMoney(Decimal.max(net.negated(), 0), currency),
  };
  if (discount) document.discount = discount;
  return document;
}

function toInvoiceLine(draft: DraftLine, amount: Decimal, currency: string): InvoiceLine {
  const line: InvoiceLine = { kind: draft.kind, description: draft.description, amount: formatMoney(amount, currency), currency };
  if (draft.quantity !== undefined) line.quantity = draft.quantity;
  if (draft.unitAmount !== undefined) line.unitAmount = formatAmount(draft.unitAmount, currency);
  if (draft.periodStart !== undefined) line.periodStart = draft.periodStart;
  if (draft.periodEnd !== undefined) line.periodEnd = draft.periodEnd;
  return line;
}

/**
 * `lines` stamped with the period they charge for (epoch ms), keeping any period a line already
 * has: period lines in advance get the new period, USAGE lines in arrears the period just ended.
 */
export function forPeriod<T extends DraftLine>(lines: readonly T[], period: Window): T[] {
  return lines.map((l) => ({ ...l, periodStart: l.periodStart ?? period.start, periodEnd: l.periodEnd ?? period.end }));
}

/** Sum of a document's line amounts as a Decimal (equals subTotal - discount + tax by construction). */
export function sumOfLines(document: Pick<PricedDocument, 'lines'>): Decimal {
  return sumDecimals(document.lines.map((l) => new Decimal(l.amount)));
}
