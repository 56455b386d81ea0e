/**
 * fast-check arbitraries for scenarios: timelines of provision, update, cancel, report, estimate,
 * tick and advance steps that `playTimeline` / `runPricingTimeline` run.
 */
import fc from 'fast-check';
import type { Duration, ProvisionSubscriptionParams } from '@tessera/core';
import { arbInstant } from './arbitraries.js';
import {
  buildSubscriptionParams,
  definitionOf,
  periodsOf,
  reportableFeatures,
  subscriptionSpec,
  usageSpec,
  type CatalogInput,
  type SubscriptionParamsOptions,
} from './arbitraries-activity.js';
import { compact, index, pick, toMs, weighted } from './choice.js';
import type { TimelineStep } from './timeline.js';

// ---------------------------------------------------------------------------------------------
// Scenarios

/** Options of `arbScenario`. */
export interface ScenarioOptions {
  /** Customers the scenario may create ('c1', 'c2'...); default 2. */
  customers?: number;
  /** When the timeline starts: a fixed instant, or by default an `arbInstant` (month ends, Feb 29...). */
  start?: Date | string;
  /** Most actions; default 12. */
  maxActions?: number;
  /** Include estimate steps; default true. */
  estimates?: boolean;
  /** Subscription parameters options (add-ons, codes, countries). */
  subscriptions?: SubscriptionParamsOptions;
}

type ActionKind = 'PROVISION' | 'ADVANCE' | 'REPORT' | 'UPDATE' | 'CANCEL' | 'TICK' | 'ESTIMATE';

/** Steps of time a scenario takes, in shrinking order. */
const ADVANCES: readonly Duration[] = [{ months: 1 }, { days: 1 }, { days: 15 }, { hours: 12 }, { days: 31 }, { months: 2 }, { years: 1 }];

/**
 * Timelines for `playTimeline` / `runPricingTimeline`: the first step (at the start instant)
 * creates a customer and provisions a subscription; later steps provision (customers appear on
 * first use), update (quantities, add-ons) or cancel (now, at period end, or as the product
 * says) the customer's current subscription (`'$n'`: the subscription of step n), report usage,
 * estimate, tick, or advance time by 12 hours to a year. A step whose target is gone (an update
 * after a cancel) is left out; the engine may still refuse some calls (a used-up promotion code,
 * an update after a scheduled downgrade took over): run with `onError: 'record'`.
 * Shrinks to `[{ at: '2024-01-01T00:00:00.000Z', provisionCustomer: { customerId: 'c1',
 * subscriptionParams: null }, provisionSubscription: <arbSubscriptionParams' minimum> }]`.
 */
export function arbScenario(catalog: CatalogInput, options: ScenarioOptions = {}): fc.Arbitrary<TimelineStep[]> {
  const def = definitionOf(catalog);
  if (def.plans.length === 0) throw new Error('arbScenario: the catalog has no plans');
  const reportable = reportableFeatures(def);
  const kinds: [ActionKind, number][] = [
    ['PROVISION', 3],
    ['ADVANCE', 3],
    ['UPDATE', 2],
    ['CANCEL', 1],
    ['TICK', 1],
  ];
  if (reportable.length > 0) kinds.push(['REPORT', 2]);
  if (options.estimates !== false) kinds.push(['ESTIMATE', 1]);
  const action = fc.record({
    kind: weighted(kinds),
    customer: fc.integer({ min: 0, max: Math.max(0, (options.customers ?? 2) - 1) }),
    subscription: subscriptionSpec(),
    advance: index(ADVANCES.length - 1),
    usage: usageSpec(),
    cancellation: weighted<'IMMEDIATE' | 'END_OF_BILLING_PERIOD' | undefined>([
      [undefined, 2],
      ['IMMEDIATE', 1],
      ['END_OF_BILLING_PERIOD', 1],
    ]),
  });
  const start = options.start !== undefined ? fc.constant(new Date(toMs(options.start))) : arbInstant();
  return fc.record({ start, actions: fc.array(action, { minLength: 1, maxLength: options.maxActions ?? 12 }) }).map(({ start: at, actions }) => {
    const steps: TimelineStep[] = [];
    const known = new Set<string>();
    /** Per customer: the step that provisioned its current subscription, and its parameters. */
    const current = new Map<string, { step: number; params: ProvisionSubscriptionParams }>();
    const push = (step: TimelineStep, customerId?: string): number => {
      if (customerId !== undefined && !known.has(customerId)) {
        known.add(customerId);
        step = { provisionCustomer: { customerId, subscriptionParams: null }, ...step };
      }
      if (steps.length === 0) step = { at: at.toISOString(), ...step };
      steps.push(step);
      return steps.length;
    };
    for (const a of actions) {
      const customerId = `c${a.customer + 1}`;
      const cur = current.get(customerId);
      if (a.kind === 'PROVISION' || steps.length === 0) {
        const params = buildSubscriptionParams(a.subscription, def, options.subscriptions, customerId);
        current.set(customerId, { step: push({ provisionSubscription: params }, customerId), params });
      } else if (a.kind === 'ADVANCE') {
        push({ advance: { ...ADVANCES[a.advance] } });
      } else if (a.kind === 'TICK') {
        push({ tick: true });
      } else if (a.kind === 'REPORT' && known.has(customerId)) {
        const featureId = pick(reportable, a.usage.feature)!.id;
        push({ reportUsage: { customerId, featureId, value: a.usage.value, updateBehavior: a.usage.set ? 'SET' : 'DELTA' } });
      } else if (a.kind === 'CANCEL' && cur) {
        push({ cancelSubscription: compact({ subscriptionId: `$${cur.step}`, cancellationTime: a.cancellation }) });
        current.delete(customerId);
      } else if ((a.kind === 'UPDATE' || a.kind === 'ESTIMATE') && cur) {
        // Same plan and period: new quantities and add-ons from a fresh spec.
        const plan = def.plans.find((x) => x.id === cur.params.planId)!;
        const period = Math.max(0, periodsOf(plan).indexOf(cur.params.billingPeriod ?? null));
        const next = buildSubscriptionParams({ ...a.subscription, plan: 0, period }, def, { ...options.subscriptions, planIds: [cur.params.planId], promotionCodes: false, countries: false }, customerId);
        const update = compact({ subscriptionId: `$${cur.step}`, billableFeatures: next.billableFeatures, addons: next.addons ?? (cur.params.addons ? [] : undefined) });
        push(a.kind === 'UPDATE' ? { updateSubscription: update } : { estimateSubscriptionUpdate: update });
      } else if (a.kind === 'ESTIMATE') {
        push({ estimateSubscription: buildSubscriptionParams(a.subscription, def, options.subscriptions, customerId) }, customerId);
      }
    }
    return steps;
  });
}
