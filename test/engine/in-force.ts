import type { Subscription } from '@tessera/core';

/** When a subscription is in force as a non-trial one: [start, end) in epoch ms, from its dates. */
export interface PaidSpan {
  id: string;
  planId: string;
  slot: string;
  start: number;
  end: number;
}

/**
 * The spans in which each subscription is (or, as stored now, will be) active and not in trial:
 * from its start or its trial's end to its end date. A subscription awaiting payment grants
 * nothing and is left out; one ended before its trial ended never has such a span.
 */
export function paidSpans(subs: readonly Subscription[]): PaidSpan[] {
  const spans: PaidSpan[] = [];
  for (const s of subs) {
    if (s.status === 'PAYMENT_PENDING') continue;
    const start = Math.max(s.startDate.getTime(), s.trialEndDate?.getTime() ?? -Infinity);
    const end = s.endDate?.getTime() ?? Infinity;
    if (start < end) spans.push({ id: s.id, planId: s.planId, slot: `${s.productId}/${s.resourceId ?? ''}`, start, end });
  }
  return spans;
}

/**
 * Pairs of subscriptions of one product and resource that are both active and not in trial at some
 * instant, past or scheduled (docs/conventions.md#one-subscription-in-force says there are none).
 */
export function overlappingPaidSpans(subs: readonly Subscription[]): [PaidSpan, PaidSpan][] {
  const spans = paidSpans(subs);
  const out: [PaidSpan, PaidSpan][] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!;
      const b = spans[j]!;
      if (a.slot === b.slot && a.start < b.end && b.start < a.end) out.push([a, b]);
    }
  }
  return out;
}

/** A readable line for a span (ISO instants). */
export function describeSpan(s: PaidSpan): string {
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : 'never');
  return `${s.planId} ${s.id} [${iso(s.start)}, ${iso(s.end)})`;
}
