import { afterEach, describe, expect, it } from 'vitest';
import {
  TesseraError,
  createEngine,
  testClock,
  testPaymentProvider,
  type BooleanEntitlement,
  type MeteredEntitlement,
  type NumericEntitlement,
  type Subscription,
  type TesseraErrorCode,
} from '@tessera/core';
import { pricingCatalog, pricingCatalogV2 } from './pricing-catalog.js';
import { describeSpan, overlappingPaidSpans } from './in-force.js';
import { engineOn, storeFactories, type StoreFactory } from './stores.js';
import { rejection } from '../support/rejection.js';

// The subscription lifecycle (API.md#subscriptions, docs/conventions.md#provisioning-and-lifecycle):
// trials, the four provisioning rules, upgrades now and downgrades at period end, scheduled
// updates, cancellation, add-ons, payment, catalog migration, and month ends. Catalog:
// test/engine/pricing-catalog.ts.

type Env = Awaited<ReturnType<typeof engineOn>>;

const at = (iso: string): Date => new Date(iso);
const seats = (quantity: number) => [{ featureId: 'seats', quantity }];

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode, field?: RegExp): Promise<TesseraError> {
  const e = await rejection(call);
  expect(e.code).toBe(code);
  if (field) expect(e.details.field).toMatch(field);
  return e;
}

/** An engine like `engineOn`'s, with the test payment provider configured. */
async function engineWithPayments(factory: StoreFactory, start: string) {
  const made = factory.make();
  const clock = testClock(start);
  const payments = testPaymentProvider();
  let n = 0;
  const engine = await createEngine({ store: made.store, catalog: pricingCatalog, clock, newId: (prefix) => `${prefix}_${++n}`, paymentProvider: payments });
  return {
    engine,
    clock,
    payments,
    cleanup: async () => {
      await engine.close();
      made.cleanup();
    },
  };
}

/** What a lazy read and a read after tick() must agree on. */
const shape = (s: Subscription) => ({
  id: s.id,
  planId: s.planId,
  planVersion: s.planVersion,
  status: s.status,
  billingPeriod: s.billingPeriod,
  startDate: s.startDate,
  endDate: s.endDate,
  trialEndDate: s.trialEndDate,
  currentBillingPeriodStart: s.currentBillingPeriodStart,
  currentBillingPeriodEnd: s.currentBillingPeriodEnd,
  addons: s.addons,
  billableFeatures: s.billableFeatures,
  scheduledUpdates: s.scheduledUpdates,
});

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env | undefined;
    let cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
      for (const c of cleanups) await c();
      cleanups = [];
    });

    const open = async (start = '2024-01-31T10:00:00Z'): Promise<Env> => {
      env = await engineOn(factory, { catalog: pricingCatalog, start });
      return env;
    };
    const activePlans = async (customerId = 'c1'): Promise<string[][]> =>
      (await env!.engine.getActiveSubscriptions({ customerId })).map((s) => [s.planId, s.status]).sort();
    const hasSso = async (customerId = 'c1'): Promise<boolean> =>
      ((await env!.engine.getBooleanEntitlement({ customerId, featureId: 'sso' })) as BooleanEntitlement).hasAccess;
    const projects = async (customerId = 'c1'): Promise<number | null> =>
      ((await env!.engine.getNumericEntitlement({ customerId, featureId: 'projects' })) as NumericEntitlement).value;
    const storageLimit = async (customerId = 'c1'): Promise<number | null> =>
      ((await env!.engine.getMeteredEntitlement({ customerId, featureId: 'storage-gb' })) as MeteredEntitlement).usageLimit;
    const allSubscriptions = async (customerId = 'c1'): Promise<Subscription[]> =>
      (await env!.engine.getSubscriptions({ filter: { customerId: { eq: customerId } }, first: 1000 })).data;

    describe('trials', () => {
      it('a pro trial grants pro now and converts to ACTIVE at its end, invoiced by tick as TRIAL_CONVERSION', async () => {
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1' });
        const params = { customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' as const, billableFeatures: seats(2) };
        const estimate = await engine.estimateSubscription(params);
        const trial = await engine.provisionSubscription(params);
        expect(trial.subscription).toMatchObject({ status: 'IN_TRIAL', startDate: at('2024-01-31T10:00:00Z'), trialEndDate: at('2024-02-14T10:00:00Z') });
        expect(trial.subscription.latestInvoice).toBeUndefined(); // nothing billed during the trial
        expect(await hasSso()).toBe(true);
        expect(await activePlans()).toEqual([['free', 'ACTIVE'], ['pro', 'IN_TRIAL']]);

        clock.set('2024-02-14T09:59:59.999Z');
        expect((await engine.tick()).invoicesCreated).toBe(0);
        expect((await engine.getSubscription(trial.id)).status).toBe('IN_TRIAL');

        clock.set('2024-02-14T10:00:00Z');
        // Without tick the read is already right.
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
        const result = await engine.tick();
        expect(result.invoicesCreated).toBe(1);
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        // 30.00 + 2 x 8.00 = 46.00 for [Feb 14, Mar 14): what the estimate announced.
        expect(invoices.map((i) => [i.kind, i.periodStart, i.periodEnd, i.total])).toEqual([
          ['TRIAL_CONVERSION', at('2024-02-14T10:00:00Z'), at('2024-03-14T10:00:00Z'), '46.00'],
        ]);
        expect(estimate).toMatchObject({ total: '46.00', billingPeriodRange: { start: at('2024-02-14T10:00:00Z'), end: at('2024-03-14T10:00:00Z') } });
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
        expect(await hasSso()).toBe(true);
        expect((await engine.tick()).invoicesCreated).toBe(0);
      });

      it('the free subscription that a converting trial replaces ends CANCELED at the trial end', async () => {
        const { engine, clock } = await open();
        const { subscription: free } = await engine.provisionCustomer({ customerId: 'c1' });
        await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect((await engine.getSubscription(free!.id)).status).toBe('ACTIVE');
        clock.set('2024-02-14T10:00:00Z');
        // Replaced by the converted trial (rule 3), not a trial that ran out: CANCELED, not EXPIRED.
        expect(await engine.getSubscription(free!.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-14T10:00:00Z') });
        await engine.tick();
        expect((await engine.getSubscription(free!.id)).status).toBe('CANCELED');
      });

      it('a trial crossing Feb 29 ends 14 days later (Feb 20 -> Mar 5) and bills [Mar 5, Apr 5)', async () => {
        const { engine, clock } = await open('2024-02-20T10:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        const trial = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(trial.subscription.trialEndDate).toEqual(at('2024-03-05T10:00:00Z'));
        clock.set('2024-03-05T10:00:00Z');
        await engine.tick();
        expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => [i.kind, i.periodStart, i.periodEnd])).toEqual([
          ['TRIAL_CONVERSION', at('2024-03-05T10:00:00Z'), at('2024-04-05T10:00:00Z')],
        ]);
      });

      it('onEnd DOWNGRADE: the premium trial expires after 7 days and the downgrade plan (free) starts', async () => {
        const { engine, clock } = await open();
        const { subscription: trial } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'premium', billingPeriod: 'MONTHLY' } });
        expect(trial).toMatchObject({ status: 'IN_TRIAL', trialEndDate: at('2024-02-07T10:00:00Z') });
        expect(await storageLimit()).toBe(1000);
        clock.set('2024-02-07T10:00:00Z');
        expect((await engine.getSubscription(trial!.id)).status).toBe('EXPIRED');
        const active = await engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => [s.planId, s.status, s.startDate])).toEqual([['free', 'ACTIVE', at('2024-02-07T10:00:00Z')]]);
        expect(await storageLimit()).toBe(5);
        expect(await hasSso()).toBe(false);
        // A trial that downgrades is never billed.
        await engine.tick();
        expect(await engine.getInvoices({ customerId: 'c1' })).toEqual([]);
      });

      it('onEnd DOWNGRADE for a customer already on free leaves exactly one free subscription', async () => {
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1' });
        await engine.provisionSubscription({ customerId: 'c1', planId: 'premium', billingPeriod: 'MONTHLY' });
        expect(await activePlans()).toEqual([['free', 'ACTIVE'], ['premium', 'IN_TRIAL']]);
        clock.set('2024-02-07T10:00:00Z');
        expect(await activePlans()).toEqual([['free', 'ACTIVE']]);
        await engine.tick();
        expect(await activePlans()).toEqual([['free', 'ACTIVE']]);
      });
    });

    describe('provisioning rules (API.md)', () => {
      it('rule 1: a pro trial and a non-trial team subscription coexist; the trial plan is in force', async () => {
        const { engine } = await open();
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(await activePlans()).toEqual([['pro', 'IN_TRIAL'], ['team', 'ACTIVE']]);
        expect(await hasSso()).toBe(true);
        expect(await projects()).toBeNull(); // pro: unlimited
      });

      it('the newest provisioning ends another plan\'s trial at once: team taken on Feb 1 during a pro trial ends it then', async () => {
        // docs/conventions.md#one-subscription-in-force: the newest provisioning is the customer's choice.
        const { engine, clock } = await open();
        const { subscription: trial } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2024-02-01T10:00:00Z');
        const team = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(team.subscription.status).toBe('ACTIVE');
        expect(await engine.getSubscription(trial!.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-01T10:00:00Z') });
        expect(await activePlans()).toEqual([['team', 'ACTIVE']]);
        expect(await hasSso()).toBe(false); // team's entitlements now, not pro's
        // The trial would have converted on Feb 14 10:00; it does not, and team goes on.
        clock.set('2024-02-14T10:00:00Z');
        expect(await activePlans()).toEqual([['team', 'ACTIVE']]);
        clock.set('2024-03-02T00:00:00Z');
        const lazy = (await allSubscriptions()).map(shape);
        await engine.tick();
        expect((await allSubscriptions()).map(shape)).toEqual(lazy);
        expect(await activePlans()).toEqual([['team', 'ACTIVE']]);
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        expect(invoices.filter((i) => i.subscriptionId === trial!.id)).toEqual([]); // the trial is never billed
        expect(invoices.filter((i) => i.subscriptionId === team.id).map((i) => [i.kind, i.periodStart])).toEqual([
          ['PROVISIONING', at('2024-02-01T10:00:00Z')],
          ['RENEWAL', at('2024-03-01T10:00:00Z')],
        ]);
      });

      it('rule 2: provisioning the plan of the current trial creates a paid, non-trial subscription and ends the trial', async () => {
        const { engine, clock } = await open();
        const { subscription: trial } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.advance({ days: 3 });
        const paid = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(paid.subscription).toMatchObject({ planId: 'pro', status: 'ACTIVE', trialEndDate: null, startDate: at('2024-02-03T10:00:00Z') });
        // Billed at once: 30.00 + 1 seat x 8.00.
        expect(paid.subscription.latestInvoice).toMatchObject({ kind: 'PROVISIONING', total: '38.00' });
        expect(await engine.getSubscription(trial!.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-03T10:00:00Z') });
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
      });

      it('rule 3: a new subscription to the product (same resource) cancels the active one', async () => {
        const { engine, clock } = await open();
        const { subscription: free } = await engine.provisionCustomer({ customerId: 'c1' });
        clock.advance({ days: 1 });
        const team = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(await engine.getSubscription(free!.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-01T10:00:00Z') });
        expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => s.id)).toEqual([team.id]);
      });

      it('rule 3 per resource: a subscription for workspace ws-1 replaces only ws-1', async () => {
        const { engine } = await open();
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: null });
        const ws1 = await engine.provisionSubscription({ customerId: 'c1', planId: 'ws-free', resourceId: 'ws-1' });
        const ws2 = await engine.provisionSubscription({ customerId: 'c1', planId: 'ws-free', resourceId: 'ws-2' });
        const paid = await engine.provisionSubscription({ customerId: 'c1', planId: 'ws-paid', billingPeriod: 'MONTHLY', resourceId: 'ws-1' });
        expect((await engine.getSubscription(ws1.id)).status).toBe('CANCELED');
        expect((await engine.getSubscription(ws2.id)).status).toBe('ACTIVE');
        expect((await engine.getActiveSubscriptions({ customerId: 'c1', resourceId: 'ws-1' })).map((s) => s.id)).toEqual([paid.id]);
        expect(
          ((await engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects', resourceId: 'ws-1' })) as NumericEntitlement).value,
        ).toBe(5);
        expect(
          ((await engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects', resourceId: 'ws-2' })) as NumericEntitlement).value,
        ).toBe(1);
      });

      it('rule 4: skipTrial starts pro ACTIVE and billed at once', async () => {
        const { engine } = await open();
        await engine.provisionCustomer({ customerId: 'c1' });
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true });
        expect(pro.subscription).toMatchObject({ status: 'ACTIVE', trialEndDate: null });
        expect(pro.subscription.latestInvoice).toMatchObject({ kind: 'PROVISIONING', total: '38.00' });
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
      });
    });

    describe('one subscription in force (docs/conventions.md#one-subscription-in-force)', () => {
      /** Fails when two non-trial subscriptions of one product and resource are active at one instant, past or scheduled. */
      const expectNoOverlap = async (customerId = 'c1') => {
        const pairs = overlappingPaidSpans(await allSubscriptions(customerId)).map(([a, b]) => `${describeSpan(a)} and ${describeSpan(b)}`);
        expect(pairs).toEqual([]);
      };

      it('counterexample of lifecycle.property.test.ts: premium paid, a pro trial that converts, then free: free never starts beside the converted pro', async () => {
        // Before: free was scheduled at premium's period end (Feb 29) and that schedule overwrote the
        // trial's hold on premium, so pro converted on Feb 19 beside premium, and free started on
        // Feb 29 beside pro. Now free, the newest provisioning, ends the pro trial at once: premium
        // comes back whole and moves to free at its period end, as a downgrade does.
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1' });
        const premium = await engine.provisionSubscription({ customerId: 'c1', planId: 'premium', billingPeriod: 'MONTHLY', skipTrial: true });
        clock.set('2024-02-05T10:00:00Z');
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(pro.subscription).toMatchObject({ status: 'IN_TRIAL', trialEndDate: at('2024-02-19T10:00:00Z') });
        expect((await engine.getSubscription(premium.id)).endDate).toEqual(at('2024-02-19T10:00:00Z')); // held until pro converts
        clock.set('2024-02-10T10:00:00Z');
        const free = await engine.provisionSubscription({ customerId: 'c1', planId: 'free' });
        await expectNoOverlap(); // before: premium [Jan 31, Feb 29) beside pro [Feb 19, never), pro beside free [Feb 29, never)
        expect(await engine.getSubscription(pro.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-10T10:00:00Z') });
        const downgraded = await engine.getSubscription(premium.id);
        expect(downgraded).toMatchObject({ status: 'ACTIVE', endDate: at('2024-02-29T10:00:00Z') });
        expect(downgraded.scheduledUpdates).toMatchObject([{ kind: 'PLAN_CHANGE', status: 'SCHEDULED', scheduledAt: at('2024-02-29T10:00:00Z'), planId: 'free' }]);

        clock.set('2024-02-19T10:00:00Z'); // where pro would have converted
        expect(await activePlans()).toEqual([['premium', 'ACTIVE']]);
        clock.set('2024-02-29T10:00:00Z');
        const started = await engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(started.map((s) => [s.planId, s.status])).toEqual([['free', 'ACTIVE']]);
        expect(free.subscription.id).toBe(premium.id); // a scheduled downgrade answers with the current subscription
        const lazy = (await allSubscriptions()).map(shape);
        await engine.tick();
        expect((await allSubscriptions()).map(shape)).toEqual(lazy);
        await expectNoOverlap();
        expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => [i.subscriptionId, i.kind])).toEqual([[premium.id, 'PROVISIONING']]);
      });

      it('a converting trial replaces the paid subscription at the conversion instant and drops its scheduled downgrade', async () => {
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1' });
        const premium = await engine.provisionSubscription({ customerId: 'c1', planId: 'premium', billingPeriod: 'MONTHLY', skipTrial: true });
        clock.set('2024-02-01T10:00:00Z');
        await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] }); // premium -> team on Feb 29
        const team = (await allSubscriptions()).find((s) => s.planId === 'team')!;
        expect(team).toMatchObject({ status: 'NOT_STARTED', startDate: at('2024-02-29T10:00:00Z') });
        clock.set('2024-02-10T10:00:00Z');
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        const conversion = at('2024-02-24T10:00:00Z'); // Feb 10 + 14 days
        expect(pro.subscription).toMatchObject({ status: 'IN_TRIAL', trialEndDate: conversion });
        // premium now ends when pro converts; the downgrade it had scheduled for Feb 29 is dropped.
        const held = await engine.getSubscription(premium.id);
        expect(held).toMatchObject({ status: 'ACTIVE', endDate: conversion });
        expect(held.scheduledUpdates).toMatchObject([{ kind: 'CANCELLATION', status: 'SCHEDULED', scheduledAt: conversion, planId: 'pro' }]);
        expect((await engine.getSubscription(team.id)).status).toBe('CANCELED');
        await expectNoOverlap();

        clock.set('2024-02-24T09:59:59.999Z');
        expect(await activePlans()).toEqual([['premium', 'ACTIVE'], ['pro', 'IN_TRIAL']]);
        clock.set(conversion);
        // Without tick the read is already right.
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
        expect((await engine.getSubscription(premium.id)).status).toBe('CANCELED');
        clock.set('2024-03-01T00:00:00Z');
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]); // team never starts
        const lazy = (await allSubscriptions()).map(shape);
        await engine.tick();
        expect((await allSubscriptions()).map(shape)).toEqual(lazy);
        await expectNoOverlap();
        expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => [i.subscriptionId, i.kind, i.periodStart])).toEqual([
          [premium.id, 'PROVISIONING', at('2024-01-31T10:00:00Z')],
          [pro.id, 'TRIAL_CONVERSION', conversion],
        ]);
      });

      it('a new trial of another plan ends the converting trial at once, and the paid subscription it held comes back', async () => {
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        const team = (await engine.getActiveSubscriptions({ customerId: 'c1' }))[0]!;
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect((await engine.getSubscription(team.id)).endDate).toEqual(at('2024-02-14T10:00:00Z'));
        clock.set('2024-02-02T10:00:00Z');
        // premium's 7-day trial downgrades at its end: it does not convert, so it holds nothing.
        await engine.provisionSubscription({ customerId: 'c1', planId: 'premium', billingPeriod: 'MONTHLY' });
        expect(await engine.getSubscription(pro.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-02T10:00:00Z') });
        expect(await engine.getSubscription(team.id)).toMatchObject({ status: 'ACTIVE', endDate: null, scheduledUpdates: [] });
        expect(await activePlans()).toEqual([['premium', 'IN_TRIAL'], ['team', 'ACTIVE']]);
        clock.set('2024-02-14T10:00:00Z');
        expect(await activePlans()).toEqual([['team', 'ACTIVE']]);
        await expectNoOverlap();
      });

      it('a premium trial ended by a newer pro trial never starts its downgrade plan; cancelling pro starts free once', async () => {
        // Found by the one-product property below: free from premium's end (Feb 7) ran beside the
        // free that cancelling pro started at pro's end (Feb 14).
        const { engine, clock } = await open();
        const { subscription: signUp } = await engine.provisionCustomer({ customerId: 'c1' });
        await engine.cancelSubscription({ subscriptionId: signUp!.id }); // free has no period: ends now, nothing follows
        const premium = await engine.provisionSubscription({ customerId: 'c1', planId: 'premium', billingPeriod: 'MONTHLY' });
        const afterPremium = (await allSubscriptions()).find((s) => s.planId === 'free' && s.status === 'NOT_STARTED')!;
        expect(afterPremium.startDate).toEqual(at('2024-02-07T10:00:00Z')); // premium's trial downgrades at its end
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect((await engine.getSubscription(premium.id)).status).toBe('CANCELED');
        expect((await engine.getSubscription(afterPremium.id)).status).toBe('CANCELED');
        await engine.cancelSubscription({ subscriptionId: pro.id }); // at its trial's end, Feb 14
        await expectNoOverlap();
        clock.set('2024-02-14T10:00:00Z');
        expect(await activePlans()).toEqual([['free', 'ACTIVE']]);
      });

      it('dropping a scheduled downgrade beside a converting trial keeps the paid subscription ending when the trial converts', async () => {
        // Found by the one-product property below: the dropped downgrade took the end date with it,
        // and the paid pro ran on beside the trial's pro once it converted.
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1' });
        const paid = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true });
        clock.set('2024-02-15T10:00:00Z');
        await engine.provisionSubscription({ customerId: 'c1', planId: 'free' }); // pro -> free on Feb 29
        const trial = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        const conversion = at('2024-02-29T10:00:00Z'); // Feb 15 + 14 days, also paid pro's period end
        expect(trial.subscription.trialEndDate).toEqual(conversion);
        const kept = await engine.cancelSubscriptionScheduledUpdates({ subscriptionId: paid.id });
        expect(kept).toMatchObject({ status: 'ACTIVE', endDate: conversion });
        expect(kept.scheduledUpdates).toEqual([{ kind: 'CANCELLATION', status: 'SCHEDULED', scheduledAt: conversion, planId: 'pro' }]);
        await expectNoOverlap();
        clock.set(conversion);
        expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => [s.id, s.status])).toEqual([[trial.id, 'ACTIVE']]);
      });

      it('cancelling a converting trial at its end gives back the paid subscription it held; no free plan starts', async () => {
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        const team = (await engine.getActiveSubscriptions({ customerId: 'c1' }))[0]!;
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        clock.set('2024-02-05T10:00:00Z');
        const cancelled = await engine.cancelSubscription({ subscriptionId: pro.id }); // at its period's end: the trial's end
        expect(cancelled.endDate).toEqual(at('2024-02-14T10:00:00Z'));
        expect(await engine.getSubscription(team.id)).toMatchObject({ status: 'ACTIVE', endDate: null });
        clock.set('2024-02-14T10:00:00Z');
        expect(await activePlans()).toEqual([['team', 'ACTIVE']]);
        await expectNoOverlap();
      });

      it('cancelling the paid subscription beside a converting trial starts the free plan only until the trial converts', async () => {
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        const team = (await engine.getActiveSubscriptions({ customerId: 'c1' }))[0]!;
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        clock.set('2024-02-05T10:00:00Z');
        await engine.cancelSubscription({ subscriptionId: team.id, cancellationTime: 'IMMEDIATE' });
        const free = (await allSubscriptions()).find((s) => s.planId === 'free')!;
        expect(free).toMatchObject({ status: 'ACTIVE', startDate: at('2024-02-05T10:00:00Z'), endDate: at('2024-02-14T10:00:00Z') });
        expect(await activePlans()).toEqual([['free', 'ACTIVE'], ['pro', 'IN_TRIAL']]);
        clock.set('2024-02-14T10:00:00Z');
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
        expect((await engine.getSubscription(pro.id)).status).toBe('ACTIVE');
        await expectNoOverlap();
      });
    });

    describe('upgrades and downgrades', () => {
      it('an upgrade takes effect now: team -> pro grants sso at once', async () => {
        const { engine, clock } = await open();
        const { subscription: team } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        expect(await hasSso()).toBe(false);
        clock.advance({ days: 5 });
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true });
        expect(pro.subscription).toMatchObject({ status: 'ACTIVE', startDate: at('2024-02-05T10:00:00Z') });
        expect(pro.subscription.latestInvoice?.kind).toBe('UPDATE');
        expect(await hasSso()).toBe(true);
        expect((await engine.getSubscription(team!.id)).status).toBe('CANCELED');
      });

      it('a downgrade pro -> team is scheduled at the period end; entitlements switch at the boundary without tick', async () => {
        const { engine, clock } = await open();
        const { subscription: pro } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true } });
        clock.set('2024-02-10T00:00:00Z');
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        // The period that started Jan 31 10:00 ends Feb 29 10:00 (month end clamped, leap year).
        const boundary = at('2024-02-29T10:00:00Z');
        expect(r.status).toBe('SUCCESS');
        expect(r.subscription).toMatchObject({ id: pro!.id, planId: 'pro', status: 'ACTIVE', endDate: boundary });
        expect(r.subscription.scheduledUpdates).toEqual([{ kind: 'PLAN_CHANGE', status: 'SCHEDULED', scheduledAt: boundary, planId: 'team', billingPeriod: 'MONTHLY' }]);
        expect((await engine.getSubscription(pro!.id)).scheduledUpdates).toMatchObject(r.subscription.scheduledUpdates);
        expect(await engine.getInvoices({ customerId: 'c1' })).toHaveLength(1); // nothing billed now

        clock.set('2024-02-29T09:59:59.999Z');
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
        expect(await hasSso()).toBe(true);
        expect(await projects()).toBeNull();

        clock.set(boundary);
        expect(await activePlans()).toEqual([['team', 'ACTIVE']]);
        expect(await hasSso()).toBe(false);
        expect(await projects()).toBe(10);

        // tick bills team's first period (10.00 + 1 seat x 5.00) and nothing for pro.
        expect((await engine.tick()).invoicesCreated).toBe(1);
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        expect(invoices.map((i) => [i.kind, i.periodStart, i.total])).toEqual([
          ['PROVISIONING', at('2024-01-31T10:00:00Z'), '38.00'],
          ['PROVISIONING', boundary, '15.00'],
        ]);
        expect(invoices[1]!.periodEnd).toEqual(at('2024-03-29T10:00:00Z'));
        // pro was replaced by the downgrade (rule 3), it did not run out like a trial: CANCELED.
        expect((await engine.getSubscription(pro!.id)).status).toBe('CANCELED');
      });

      it('a read after a scheduled downgrade took effect equals the read after tick()', async () => {
        const { engine, clock } = await open();
        const { subscription: pro } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true } });
        clock.set('2024-02-10T00:00:00Z');
        await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        clock.set('2024-03-01T00:00:00Z');
        const lazy = (await allSubscriptions()).map(shape);
        const lazyPro = shape(await engine.getSubscription(pro!.id));
        await engine.tick();
        expect((await allSubscriptions()).map(shape)).toEqual(lazy);
        expect(shape(await engine.getSubscription(pro!.id))).toEqual(lazyPro);
      });

      it('cancelSubscriptionScheduledUpdates drops a scheduled downgrade: pro stays, team never starts', async () => {
        const { engine, clock } = await open();
        const { subscription: pro } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true } });
        clock.set('2024-02-10T00:00:00Z');
        await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        const successor = (await allSubscriptions()).find((s) => s.planId === 'team')!;
        expect(successor).toMatchObject({ status: 'NOT_STARTED', startDate: at('2024-02-29T10:00:00Z') });

        // Only PENDING_PAYMENT updates: the SCHEDULED downgrade stays.
        const untouched = await engine.cancelSubscriptionScheduledUpdates({ subscriptionId: pro!.id, status: 'PENDING_PAYMENT' });
        expect(untouched.scheduledUpdates).toHaveLength(1);

        const kept = await engine.cancelSubscriptionScheduledUpdates({ subscriptionId: pro!.id });
        expect(kept).toMatchObject({ id: pro!.id, status: 'ACTIVE', endDate: null, scheduledUpdates: [] });
        clock.set('2024-03-15T00:00:00Z');
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
        expect(await hasSso()).toBe(true);
        expect((await engine.getSubscription(successor.id)).status).toBe('CANCELED');
        // pro renews on Feb 29 (38.00); the dropped successor is never billed.
        await engine.tick();
        expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => [i.subscriptionId, i.kind, i.periodStart])).toEqual([
          [pro!.id, 'PROVISIONING', at('2024-01-31T10:00:00Z')],
          [pro!.id, 'RENEWAL', at('2024-02-29T10:00:00Z')],
        ]);
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
      });

      it('cancelSubscriptionScheduledUpdates throws SUBSCRIPTION_NOT_FOUND for an unknown id', async () => {
        const { engine } = await open();
        await expectCode(engine.cancelSubscriptionScheduledUpdates({ subscriptionId: 'sub_404' }), 'SUBSCRIPTION_NOT_FOUND');
      });
    });

    describe('cancellation', () => {
      it('at the period end: team runs to Feb 29 10:00, then free starts; no renewal', async () => {
        const { engine, clock } = await open();
        const { subscription: team } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2024-02-20T00:00:00Z');
        const cancelled = await engine.cancelSubscription({ subscriptionId: team!.id });
        expect(cancelled).toMatchObject({ status: 'ACTIVE', endDate: at('2024-02-29T10:00:00Z'), cancellationDate: at('2024-02-20T00:00:00Z') });
        expect(await projects()).toBe(10);
        clock.set('2024-02-29T10:00:00Z');
        expect(await activePlans()).toEqual([['free', 'ACTIVE']]);
        expect(await projects()).toBe(3);
        expect((await engine.tick()).invoicesCreated).toBe(0);
        expect((await engine.getSubscription(team!.id)).status).toBe('CANCELED');
      });

      it('an annual subscription started on Feb 29 2024 ends on Feb 28 2025 when cancelled at period end', async () => {
        const { engine, clock } = await open('2024-02-29T10:00:00Z');
        const { subscription: team } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'ANNUALLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        expect(team?.currentBillingPeriodEnd).toEqual(at('2025-02-28T10:00:00Z'));
        const cancelled = await engine.cancelSubscription({ subscriptionId: team!.id, cancellationTime: 'END_OF_BILLING_PERIOD' });
        expect(cancelled.endDate).toEqual(at('2025-02-28T10:00:00Z'));
        clock.set('2025-02-28T10:00:00Z');
        expect(await activePlans()).toEqual([['free', 'ACTIVE']]);
        expect((await engine.tick()).invoicesCreated).toBe(0);
      });

      it('cancelling a premium trial beside a pro whose own trial converted to paid leaves pro alone: no free plan starts', async () => {
        // Found by lifecycle.property.test.ts: the converted pro still carries its trialEndDate and
        // was taken for a trial, so the premium trial's end started the downgrade plan beside it.
        const { engine, clock } = await open();
        await engine.provisionCustomer({ customerId: 'c1' });
        await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        clock.set('2024-02-29T10:00:00Z'); // pro's 14-day trial ended Feb 14: now paid
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
        const { subscription: premium } = await engine.provisionSubscription({ customerId: 'c1', planId: 'premium', billingPeriod: 'MONTHLY' });
        expect(premium).toMatchObject({ status: 'IN_TRIAL', trialEndDate: at('2024-03-07T10:00:00Z') });
        await engine.cancelSubscription({ subscriptionId: premium!.id });
        expect((await allSubscriptions()).filter((s) => s.planId === 'free' && s.status === 'NOT_STARTED')).toEqual([]);
        clock.set('2024-03-29T10:00:00Z');
        expect(await activePlans()).toEqual([['pro', 'ACTIVE']]);
      });

      it('a monthly subscription started Jan 31 and cancelled on Mar 5 ends on Mar 31', async () => {
        const { engine, clock } = await open();
        const { subscription: team } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2024-03-05T00:00:00Z');
        expect((await engine.cancelSubscription({ subscriptionId: team!.id })).endDate).toEqual(at('2024-03-31T10:00:00Z'));
      });
    });

    describe('updateSubscription', () => {
      const withTeam = async () => {
        const e = await open('2024-02-01T00:00:00Z');
        const { subscription } = await e.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(2), addons: [{ addonId: 'extra-storage', quantity: 2 }, { addonId: 'backup' }] },
        });
        return { ...e, sub: subscription! };
      };

      it('throws ADDON_NOT_COMPATIBLE for sla on team, and writes nothing', async () => {
        const { engine, sub } = await withTeam();
        await expectCode(engine.updateSubscription({ subscriptionId: sub.id, addons: [{ addonId: 'sla' }] }), 'ADDON_NOT_COMPATIBLE', /addons\[0\]\.addonId$/);
        expect((await engine.getSubscription(sub.id)).addons).toMatchObject(sub.addons);
        expect(await engine.getInvoices({ customerId: 'c1' })).toHaveLength(1);
      });

      it('throws ADDON_QUANTITY_EXCEEDED for 6 of extra-storage (at most 5)', async () => {
        const { engine, sub } = await withTeam();
        await expectCode(engine.updateSubscription({ subscriptionId: sub.id, addons: [{ addonId: 'extra-storage', quantity: 6 }] }), 'ADDON_QUANTITY_EXCEEDED', /addons\[0\]\.quantity$/);
        expect((await engine.getSubscription(sub.id)).addons).toMatchObject(sub.addons);
      });

      it('throws ADDON_NOT_COMPATIBLE for backup without the extra-storage it depends on', async () => {
        const { engine, sub } = await withTeam();
        const e = await expectCode(engine.updateSubscription({ subscriptionId: sub.id, addons: [{ addonId: 'backup' }] }), 'ADDON_NOT_COMPATIBLE');
        expect(e.details.requires).toBe('extra-storage');
        expect((await engine.getSubscription(sub.id)).addons).toMatchObject(sub.addons);
      });

      it('addons: [] removes every add-on, with entitlements and a prorated credit', async () => {
        const { engine, clock, sub } = await withTeam();
        expect(await storageLimit()).toBe(70); // 50 + 2 x 10
        clock.set('2024-02-15T12:00:00Z');
        const updated = await engine.updateSubscription({ subscriptionId: sub.id, addons: [] });
        expect(updated.addons).toEqual([]);
        expect(await storageLimit()).toBe(50);
        // Half of February left: -(2 x 3.00) / 2 = -3.00 and -2.00 / 2 = -1.00; nothing is due.
        expect(updated.latestInvoice?.lines.map((l) => `${l.kind} ${l.amount}`)).toEqual(['PRORATION_CREDIT -3.00', 'PRORATION_CREDIT -1.00']);
        expect(updated.latestInvoice).toMatchObject({ total: '0.00', excessCredit: '4.00' });
      });

      it('billableFeatures replaces only the quantities it names', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'storage-package', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'storage-gb', quantity: 12 }, ...seats(3)] },
        });
        clock.set('2024-02-15T12:00:00Z');
        const updated = await engine.updateSubscription({ subscriptionId: subscription!.id, billableFeatures: seats(5) });
        expect([...updated.billableFeatures].sort((a, b) => a.featureId.localeCompare(b.featureId))).toEqual([
          { featureId: 'seats', quantity: 5 },
          { featureId: 'storage-gb', quantity: 12 },
        ]);
        // Storage unchanged (left out); seats 3 x 1.00 -> 5 x 1.00 over half a month: -1.50 + 2.50.
        expect(updated.latestInvoice?.lines.map((l) => `${l.kind} ${l.amount}`)).toEqual(['PRORATION_CREDIT -1.50', 'PRORATION_DEBIT 2.50']);
        expect(updated.latestInvoice?.total).toBe('1.00');
      });

      it('replaces metadata without billing anything', async () => {
        const { engine, sub } = await withTeam();
        const updated = await engine.updateSubscription({ subscriptionId: sub.id, metadata: { crm: 'acme-42' } });
        expect(updated.metadata).toEqual({ crm: 'acme-42' });
        expect(updated.latestInvoice).toBeUndefined();
        const read = await engine.getSubscription(sub.id);
        expect(read).toMatchObject({ metadata: { crm: 'acme-42' }, addons: sub.addons, billableFeatures: sub.billableFeatures, planId: 'team' });
        expect(await engine.getInvoices({ customerId: 'c1' })).toHaveLength(1);
      });

      it('throws CONFLICT for a subscription that has ended', async () => {
        const { engine, sub } = await withTeam();
        await engine.cancelSubscription({ subscriptionId: sub.id, cancellationTime: 'IMMEDIATE' });
        await expectCode(engine.updateSubscription({ subscriptionId: sub.id, metadata: { a: 'b' } }), 'CONFLICT');
      });
    });

    describe('payment provider', () => {
      const openPaid = async () => {
        const e = await engineWithPayments(factory, '2024-01-31T10:00:00Z');
        cleanups.push(e.cleanup);
        return e;
      };

      it('without a payment method a paid plan waits in PAYMENT_PENDING, grants nothing, and confirmPayment activates it', async () => {
        const { engine, payments } = await openPaid();
        const { subscription: free } = await engine.provisionCustomer({ customerId: 'c1' });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(2) });
        expect(r.status).toBe('PAYMENT_REQUIRED');
        expect(r.checkoutUrl).toBe(`https://checkout.example.test/${r.id}`);
        expect(r.subscription.status).toBe('PAYMENT_PENDING');
        expect(payments.checkouts).toEqual([{ customerId: 'c1', subscriptionId: r.id, amount: '20.00', currency: 'USD', idempotencyKey: `checkout:${r.id}` }]);
        expect((await engine.getSubscription(r.id)).status).toBe('PAYMENT_PENDING');
        // Grants nothing: free is still the plan in force.
        expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => s.planId)).toEqual(['free']);
        expect(((await engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' })) as NumericEntitlement).value).toBe(3);

        const confirmed = await engine.confirmPayment({ subscriptionId: r.id });
        expect(confirmed).toMatchObject({ id: r.id, status: 'ACTIVE' });
        expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => s.id)).toEqual([r.id]);
        expect((await engine.getSubscription(free!.id)).status).toBe('CANCELED');
        expect(((await engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' })) as NumericEntitlement).value).toBe(10);
        await expectCode(engine.confirmPayment({ subscriptionId: r.id }), 'CONFLICT');
      });

      it('a customer with a payment method gets SUCCESS and no checkout', async () => {
        const { engine, payments } = await openPaid();
        await engine.provisionCustomer({ customerId: 'c1', billingInfo: { hasPaymentMethod: true } });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(r.status).toBe('SUCCESS');
        expect(r.checkoutUrl).toBeUndefined();
        expect(r.subscription.status).toBe('ACTIVE');
        expect(payments.checkouts).toEqual([]);
      });

      it('an estimate never starts a checkout', async () => {
        const { engine, payments } = await openPaid();
        await engine.provisionCustomer({ customerId: 'c1' });
        const estimate = await engine.estimateSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        expect(estimate.total).toBe('15.00');
        expect(payments.checkouts).toEqual([]);
      });

      it('a PAYMENT_PENDING subscription is not renewed by tick', async () => {
        const { engine, clock } = await openPaid();
        await engine.provisionCustomer({ customerId: 'c1' });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        const before = (await engine.getInvoices({ customerId: 'c1' })).length;
        clock.set('2024-03-31T10:00:00Z');
        await engine.tick();
        expect((await engine.getInvoices({ customerId: 'c1' })).length).toBe(before);
        expect((await engine.getSubscription(r.id)).status).toBe('PAYMENT_PENDING');
      });
    });

    describe('migrateSubscriptionToLatest', () => {
      it('existing subscriptions keep v1 after v2 is published; new ones get v2', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        const { subscription: old } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        const published = await engine.publishCatalog(pricingCatalogV2);
        expect(published).toMatchObject({ version: 2, changed: true });
        expect(await projects('c1')).toBe(10);
        const fresh = await engine.provisionCustomer({ customerId: 'c2', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        expect(await projects('c2')).toBe(15);
        expect((await engine.getInvoices({ customerId: 'c2' }))[0]?.total).toBe('17.00'); // 12.00 + 5.00
        // Renewals keep the version sold: c1 still pays 10.00 + 5.00.
        clock.set('2024-03-01T00:00:00Z');
        await engine.tick();
        const c1 = await engine.getInvoices({ customerId: 'c1' });
        expect(c1.map((i) => [i.kind, i.total])).toEqual([
          ['PROVISIONING', '15.00'],
          ['RENEWAL', '15.00'],
        ]);
        expect((await engine.getSubscription(old!.id)).planVersion).toBe(1);
        expect(fresh.subscription?.planVersion).toBe(2);
      });

      it('IMMEDIATE migration switches now and invoices the prorated difference', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.publishCatalog(pricingCatalogV2);
        clock.set('2024-02-15T12:00:00Z');
        const migrated = await engine.migrateSubscriptionToLatest({ subscriptionId: subscription!.id, subscriptionMigrationTime: 'IMMEDIATE' });
        // Half of February left: credit -(10.00 / 2) = -5.00, debit 12.00 / 2 = 6.00; the seat price
        // (5.00 in both versions) is left out. Net 1.00.
        expect(migrated.planVersion).toBe(2);
        expect(migrated.latestInvoice).toMatchObject({ kind: 'MIGRATION', subTotal: '1.00', total: '1.00' });
        expect(migrated.latestInvoice?.lines.map((l) => `${l.kind} ${l.amount}`)).toEqual(['PRORATION_CREDIT -5.00', 'PRORATION_DEBIT 6.00']);
        expect(await projects()).toBe(15);
        // The next renewal is at the v2 price.
        clock.set('2024-03-01T00:00:00Z');
        await engine.tick();
        expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => [i.kind, i.total])).toEqual([
          ['PROVISIONING', '15.00'],
          ['MIGRATION', '1.00'],
          ['RENEWAL', '17.00'],
        ]);
        // Migrating again is a no-op.
        const again = await engine.migrateSubscriptionToLatest({ subscriptionId: subscription!.id });
        expect(again.planVersion).toBe(2);
        expect(await engine.getInvoices({ customerId: 'c1' })).toHaveLength(3);
      });

      it('END_OF_BILLING_PERIOD migration switches on Feb 29 without tick, and tick materialises it', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.publishCatalog(pricingCatalogV2);
        clock.set('2024-02-10T00:00:00Z');
        const scheduled = await engine.migrateSubscriptionToLatest({ subscriptionId: subscription!.id, subscriptionMigrationTime: 'END_OF_BILLING_PERIOD' });
        expect(scheduled.scheduledUpdates).toEqual([{ kind: 'MIGRATION', status: 'SCHEDULED', scheduledAt: at('2024-02-29T10:00:00Z') }]);
        expect(scheduled.latestInvoice).toBeUndefined();
        expect(await projects()).toBe(10);
        clock.set('2024-02-29T09:59:59.999Z');
        expect(await projects()).toBe(10);
        clock.set('2024-02-29T10:00:00Z');
        expect(await projects()).toBe(15);
        const result = await engine.tick();
        expect(result).toMatchObject({ updatesApplied: 1, invoicesCreated: 1 });
        expect(await projects()).toBe(15);
        const read = await engine.getSubscription(subscription!.id);
        expect(read).toMatchObject({ planVersion: 2, scheduledUpdates: [] });
        // The period starting at the switch is billed at the v2 price: 12.00 + 5.00.
        expect(read.latestInvoice).toMatchObject({ kind: 'RENEWAL', periodStart: at('2024-02-29T10:00:00Z'), total: '17.00' });
      });

      it('a read after a scheduled migration took effect equals the read after tick()', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.publishCatalog(pricingCatalogV2);
        clock.set('2024-02-10T00:00:00Z');
        await engine.migrateSubscriptionToLatest({ subscriptionId: subscription!.id, subscriptionMigrationTime: 'END_OF_BILLING_PERIOD' });
        clock.set('2024-03-05T00:00:00Z');
        const lazy = shape(await engine.getSubscription(subscription!.id));
        const lazyActive = (await engine.getActiveSubscriptions({ customerId: 'c1' })).map(shape);
        await engine.tick();
        expect(shape(await engine.getSubscription(subscription!.id))).toEqual(lazy);
        expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map(shape)).toEqual(lazyActive);
      });

      it('a late tick bills the period before a scheduled migration at the old price', async () => {
        const { engine, clock } = await open('2024-01-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.publishCatalog(pricingCatalogV2);
        // No tick on Feb 1: February is not invoiced yet when the migration is scheduled for Mar 1.
        clock.set('2024-02-10T00:00:00Z');
        await engine.migrateSubscriptionToLatest({ subscriptionId: subscription!.id, subscriptionMigrationTime: 'END_OF_BILLING_PERIOD' });
        clock.set('2024-03-05T00:00:00Z');
        await engine.tick();
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        expect(invoices.map((i) => [i.periodStart, i.total])).toEqual([
          [at('2024-01-01T00:00:00Z'), '15.00'],
          [at('2024-02-01T00:00:00Z'), '15.00'], // v1: 10.00 + 5.00
          [at('2024-03-01T00:00:00Z'), '17.00'], // v2: 12.00 + 5.00
        ]);
      });

      it('throws SUBSCRIPTION_NOT_FOUND for an unknown subscription', async () => {
        const { engine } = await open();
        await expectCode(engine.migrateSubscriptionToLatest({ subscriptionId: 'sub_404' }), 'SUBSCRIPTION_NOT_FOUND');
      });
    });
  });
}
