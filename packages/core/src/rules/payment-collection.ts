/**
 * Whether a subscription's money has been collected, derived from what the engine records: the
 * subscription's status, its checkout in the provider-call outbox, and its latest invoice with
 * that invoice's delivery to the billing provider. Pure. The order of the questions is the
 * decision; docs/pricing.md#payment-collection explains each answer.
 */
import type { BillingPeriod, PricingType } from '../catalog/types.js';

/**
 * `PAID`: the latest invoice is settled; `PENDING`: money is awaited (a checkout not yet
 * confirmed, an open invoice); `FAILED`: the provider call that collects it keeps failing (it is
 * retried by `tick()`); `NOT_REQUIRED`: there is nothing to collect (a free plan, a trial, a
 * subscription not billed yet or that never started).
 */
export type PaymentCollectionStatus = 'PAID' | 'PENDING' | 'FAILED' | 'NOT_REQUIRED';

/** A provider call (records.ts ProviderCallRecord) as the decision reads it. */
export interface CollectionCall {
  status: 'PENDING' | 'DONE' | 'DROPPED';
  /** The message of the last failed attempt; null when none failed or the call then succeeded. */
  lastError: string | null;
  /** When the call was committed (epoch ms). */
  createdAt: number;
}

/** What `paymentCollection` decides from. */
export interface PaymentCollectionInput {
  /** The pricing type of the plan in force. */
  pricingType: PricingType;
  billingPeriod: BillingPeriod | null;
  /** The subscription waits for its payment (stored status PAYMENT_PENDING). */
  awaitingPayment: boolean;
  /** It ended before it started (cancelled while waiting for payment or before its start). */
  endedBeforeStart: boolean;
  /** Its checkout ('checkout:<subscriptionId>'), when one was ever committed. */
  checkout: CollectionCall | null;
  /** Its newest invoice, with the delivery of that invoice to the billing provider when there is one. */
  latestInvoice: { status: 'OPEN' | 'PAID' | 'VOID'; createdAt: number; delivery: CollectionCall | null } | null;
}

const failing = (call: CollectionCall | null): boolean => call !== null && call.status === 'PENDING' && call.lastError !== null;

/**
 * The payment collection status of a subscription (docs/pricing.md#payment-collection), the first
 * answer that applies:
 * 1. not a PAID plan, or no billing period: NOT_REQUIRED (Tessera bills nothing; CUSTOM plans are
 *    invoiced elsewhere);
 * 2. awaiting payment: FAILED when its checkout's last attempt failed, else PENDING;
 * 3. ended before it started: NOT_REQUIRED;
 * 4. no invoice yet (a trial, a later start): NOT_REQUIRED; the latest invoice VOID: NOT_REQUIRED;
 * 5. the latest invoice PAID (a zero total), or OPEN but issued with a checkout that was then
 *    confirmed (confirmPayment): PAID;
 * 6. the latest invoice OPEN and its delivery to the billing provider failing: FAILED;
 * 7. otherwise (OPEN): PENDING.
 */
export function paymentCollection(input: PaymentCollectionInput): PaymentCollectionStatus {
  if (input.pricingType !== 'PAID' || input.billingPeriod === null) return 'NOT_REQUIRED';
  if (input.awaitingPayment) return failing(input.checkout) ? 'FAILED' : 'PENDING';
  if (input.endedBeforeStart) return 'NOT_REQUIRED';
  const invoice = input.latestInvoice;
  if (!invoice || invoice.status === 'VOID') return 'NOT_REQUIRED';
  if (invoice.status === 'PAID') return 'PAID';
  // The checkout is committed with the invoice it collects, in one transaction; invoices issued
  // after it (renewals, upgrades) are not covered by it.
  if (input.checkout !== null && invoice.createdAt <= input.checkout.createdAt) return 'PAID';
  return failing(invoice.delivery) ? 'FAILED' : 'PENDING';
}
