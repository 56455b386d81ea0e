import { describe, expect, it } from 'vitest';
import { createEngine, memoryStore, testClock } from '@tessera/core';
import { formatTimeline, playTimeline, runPricingTimeline, type TimelineStep } from '@tessera/testing';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

/** The demo timeline of the README: a monthly plan, add-ons mid-period, an annual trial, an upgrade, a cancellation. */
const demoTimeline: TimelineStep[] = [
  {
    at: '2024-01-31',
    provisionCustomer: { customerId: 'acme', subscriptionParams: null },
    estimateSubscription: { customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY' },
    provisionSubscription: { customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY' },
  },
  {
    at: '2024-02-01',
    provisionCustomer: { customerId: 'globex', subscriptionParams: null },
    provisionSubscription: { customerId: 'globex', planId: 'pro', billingPeriod: 'ANNUALLY' },
  },
  {
    at: '2024-02-15',
    estimateSubscriptionUpdate: { subscriptionId: '$1', addons: [{ addonId: 'extra-seats', quantity: 2 }] },
    updateSubscription: { subscriptionId: '$1', addons: [{ addonId: 'extra-seats', quantity: 2 }] },
    tick: true,
  },
  { at: '2024-02-29', tick: true },
  { at: '2024-03-10T12:00:00Z', provisionSubscription: { customerId: 'acme', planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true } },
  { at: '2024-03-31', tick: true },
  { at: '2024-04-15', cancelSubscription: { subscriptionId: '$5' } },
  { at: '2024-05-31', tick: true },
];

describe('runPricingTimeline', () => {
  it('gives every estimate and invoice of the demo timeline as a reviewable table', async () => {
    const rows = await runPricingTimeline({ catalog: demoCatalog, timeline: demoTimeline, checkEstimates: true });
    // 2 extra seats from Feb 15 to Feb 29: 2 x 10.00 x 14/29 = 9.66. The upgrade on Mar 10 at noon
    // leaves 20.5 of March's 31 days: -20.00 x 0.6613 = -13.23 (plan), -13.23 (seats), +50.00 x 0.6613 = 33.06.
    expect(formatTimeline(rows)).toBe(
      [
        'step  at                    kind              customer  subscription  period                  cur  subTotal  discount   tax   total  lines',
        '----  --------------------  ----------------  --------  ------------  ----------------------  ---  --------  --------  ----  ------  -------------------------------------------------------------------------------',
        '   1  2024-01-31            ESTIMATE          acme                    2024-01-31..2024-02-29  USD     20.00            0.00   20.00  PLAN 20.00',
        '   1  2024-01-31            PROVISIONING      acme      $1            2024-01-31..2024-02-29  USD     20.00            0.00   20.00  PLAN 20.00',
        '   3  2024-02-15            ESTIMATE          acme      $1            2024-01-31..2024-02-29  USD      9.66            0.00    9.66  PRORATION_DEBIT 9.66 (qty 2)',
        '   3  2024-02-15            UPDATE            acme      $1            2024-01-31..2024-02-29  USD      9.66            0.00    9.66  PRORATION_DEBIT 9.66 (qty 2)',
        '   3  2024-02-15            TRIAL_CONVERSION  globex    $2            2024-02-15..2025-02-15  USD    500.00            0.00  500.00  PLAN 500.00',
        '   4  2024-02-29            RENEWAL           acme      $1            2024-02-29..2024-03-31  USD     40.00            0.00   40.00  PLAN 20.00; ADDON 20.00 (qty 2)',
        '   5  2024-03-10T12:00:00Z  UPDATE            acme      $5            2024-02-29..2024-03-31  USD      6.60            0.00    6.60  PRORATION_CREDIT -13.23; PRORATION_CREDIT -13.23 (qty 2); PRORATION_DEBIT 33.06',
        '   6  2024-03-31            RENEWAL           acme      $5            2024-03-31..2024-04-30  USD     50.00            0.00   50.00  PLAN 50.00',
      ].join('\n'),
    );
    expect(rows[1]).toEqual({
      step: 1,
      at: '2024-01-31',
      kind: 'PROVISIONING',
      customerId: 'acme',
      subscriptionId: '$1',
      period: '2024-01-31..2024-02-29',
      currency: 'USD',
      subTotal: '20.00',
      discount: '',
      tax: '0.00',
      total: '20.00',
      lines: 'PLAN 20.00',
    });
  });

  it('runs on the store it is given', async () => {
    const rows = await runPricingTimeline({ catalog: demoCatalog, store: memoryStore(), timeline: demoTimeline.slice(0, 1) });
    expect(rows.map((r) => r.kind)).toEqual(['ESTIMATE', 'PROVISIONING']);
  });

  it('names the step of a refused call, or records it and goes on', async () => {
    const timeline: TimelineStep[] = [
      { at: '2024-01-31', provisionCustomer: { customerId: 'acme', subscriptionParams: null }, provisionSubscription: { customerId: 'acme', planId: 'nope', billingPeriod: 'MONTHLY' } },
      { at: '2024-02-01', provisionSubscription: { customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY' } },
      { updateSubscription: { subscriptionId: '$1' } },
    ];
    await expect(runPricingTimeline({ catalog: demoCatalog, timeline })).rejects.toThrow(/timeline step 1 \(provisionSubscription at 2024-01-31\): PLAN_NOT_FOUND/);
    const rows = await runPricingTimeline({ catalog: demoCatalog, timeline, onError: 'record' });
    expect(rows.map((r) => [r.step, r.kind, r.lines.split(':').slice(0, 2).join(':')])).toEqual([
      [1, 'ERROR', 'provisionSubscription: PLAN_NOT_FOUND'],
      [2, 'PROVISIONING', 'PLAN 20.00'],
      [3, 'ERROR', 'updateSubscription: UNRESOLVED_REFERENCE'],
    ]);
  });

  it('refuses a timeline that goes back in time or names a step that provisioned nothing', async () => {
    await expect(runPricingTimeline({ catalog: demoCatalog, timeline: [{ at: '2024-02-01' }, { at: '2024-01-31' }] })).rejects.toThrow(/step 2: at 2024-01-31 is before the clock/);
    await expect(runPricingTimeline({ catalog: demoCatalog, timeline: [{ at: '2024-02-01', tick: true }, { cancelSubscription: { subscriptionId: '$1' } }] })).rejects.toThrow(
      /step 2: \$1 names step 1, which provisioned no subscription/,
    );
  });
});

describe('playTimeline', () => {
  it('returns the subscriptions each step created and the customers named, and moves the clock by durations', async () => {
    const clock = testClock('2024-01-31');
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock });
    const result = await playTimeline(engine, clock, [
      { provisionCustomer: { customerId: 'acme', subscriptionParams: null }, provisionSubscription: { customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY' } },
      { advance: { months: 1 }, tick: true },
    ]);
    expect(clock.now().toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(Object.keys(result.subscriptions)).toEqual(['$1']);
    expect(result.customerIds).toEqual(['acme']);
    expect(result.rows.map((r) => [r.step, r.kind, r.period])).toEqual([
      [1, 'PROVISIONING', '2024-01-31..2024-02-29'],
      [2, 'RENEWAL', '2024-02-29..2024-03-31'],
    ]);
    await engine.close();
  });
});
