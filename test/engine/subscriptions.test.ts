import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type NumericEntitlement, type TesseraErrorCode } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode, field?: RegExp): Promise<TesseraError> {
  const e = await rejection(call);
  expect(e.code).toBe(code);
  if (field) expect(e.details.field).toMatch(field);
  return e;
}

const at = (iso: string): Date => new Date(iso);
const T0 = at('2024-01-31T10:00:00Z');
const DAY = 86_400_000;

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory);
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const activePlans = async (customerId = 'c1'): Promise<string[]> =>
      (await env.engine.getActiveSubscriptions({ customerId })).map((s) => s.planId).sort();
    const projects = async (customerId = 'c1'): Promise<number | null> =>
      ((await env.engine.getNumericEntitlement({ customerId, featureId: 'projects' })) as NumericEntitlement).value;

    describe('provisionSubscription validation', () => {
      beforeEach(async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
      });

      it('requires a billingPeriod for a paid plan', async () => {
        await expectCode(env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic' }), 'BILLING_PERIOD_REQUIRED', /billingPeriod$/);
      });

      it('throws PLAN_NOT_FOUND for an unknown plan', async () => {
        await expectCode(
          env.engine.provisionSubscription({ customerId: 'c1', planId: 'platinum', billingPeriod: 'MONTHLY' }),
          'PLAN_NOT_FOUND',
          /planId$/,
        );
      });

      it('throws ADDON_NOT_FOUND for an unknown add-on', async () => {
        await expectCode(
          env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'gpu', quantity: 1 }] }),
          'ADDON_NOT_FOUND',
          /addons\[0\]\.addonId$/,
        );
      });

      it('throws ADDON_QUANTITY_EXCEEDED for 11 of an add-on whose maxQuantity is 10', async () => {
        await expectCode(
          env.engine.provisionSubscription({
            customerId: 'c1',
            planId: 'basic',
            billingPeriod: 'MONTHLY',
            addons: [{ addonId: 'extra-seats', quantity: 11 }],
          }),
          'ADDON_QUANTITY_EXCEEDED',
          /addons\[0\]\.quantity$/,
        );
      });

      it('accepts exactly maxQuantity (10) of an add-on', async () => {
        const r = await env.engine.provisionSubscription({
          customerId: 'c1',
          planId: 'basic',
          billingPeriod: 'MONTHLY',
          addons: [{ addonId: 'extra-seats', quantity: 10 }],
        });
        expect(r.subscription.addons).toEqual([{ addonId: 'extra-seats', quantity: 10 }]);
      });

      it('throws ADDON_NOT_COMPATIBLE for an add-on on the free plan', async () => {
        await expectCode(
          env.engine.provisionSubscription({ customerId: 'c1', planId: 'free', addons: [{ addonId: 'extra-seats', quantity: 1 }] }),
          'ADDON_NOT_COMPATIBLE',
          /addons\[0\]\.addonId$/,
        );
      });

      it('throws CUSTOMER_NOT_FOUND for an unknown customer', async () => {
        await expectCode(env.engine.provisionSubscription({ customerId: 'ghost', planId: 'free' }), 'CUSTOMER_NOT_FOUND');
      });

      it('leaves the current subscription in place when provisioning fails', async () => {
        await rejection(env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic' }));
        expect(await activePlans()).toEqual(['free']);
      });
    });

    describe('replacement', () => {
      it('a new subscription to the same product cancels the active one', async () => {
        const { subscription: basic } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        env.clock.advance({ days: 3 });
        const pro = await env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true });
        expect(pro).toMatchObject({ status: 'SUCCESS', id: pro.subscription.id });
        expect(pro.subscription).toMatchObject({ planId: 'pro', status: 'ACTIVE', startDate: at('2024-02-03T10:00:00Z') });
        expect(await env.engine.getSubscription(basic!.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-03T10:00:00Z') });
        const active = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => s.id)).toEqual([pro.subscription.id]);
        expect(await projects()).toBeNull(); // pro: unlimited projects
      });

      it('records a change for the subscription it ends as well as the one it starts', async () => {
        const { subscription: free } = await env.engine.provisionCustomer({ customerId: 'c1' });
        const before = await env.engine.getChanges({ after: 0, limit: 10000 });
        const basic = await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
        const after = await env.engine.getChanges({ after: before.at(-1)!.seq, limit: 10000 });
        const touched = after.filter((c) => c.kind === 'subscription.updated').map((c) => c.entityId);
        // Other processes and replicas learn about subscriptions only through the change feed.
        expect(touched).toContain(free!.id);
        expect(touched).toContain(basic.id);
      });
    });

    describe('trials', () => {
      it('starts pro in a 14-day trial', async () => {
        const { subscription } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' },
        });
        expect(subscription).toMatchObject({
          planId: 'pro',
          status: 'IN_TRIAL',
          startDate: T0,
          trialEndDate: at('2024-02-14T10:00:00Z'), // Jan 31 + 14 days
        });
        expect(subscription!.trialEndDate!.getTime() - subscription!.startDate.getTime()).toBe(14 * DAY);
        const sso = await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' });
        expect(sso.hasAccess).toBe(true);
      });

      it('skipTrial: true starts pro ACTIVE without a trial', async () => {
        const { subscription } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true },
        });
        expect(subscription).toMatchObject({ planId: 'pro', status: 'ACTIVE', trialEndDate: null });
      });

      it('is ACTIVE once the trial has ended, with no job run', async () => {
        const { subscription } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' },
        });
        env.clock.set('2024-02-14T09:59:59.999Z');
        expect((await env.engine.getSubscription(subscription!.id)).status).toBe('IN_TRIAL');
        env.clock.set('2024-02-14T10:00:00Z');
        const s = await env.engine.getSubscription(subscription!.id);
        expect(s.status).toBe('ACTIVE');
        // Billing starts when the trial converts.
        expect(s.currentBillingPeriodStart).toEqual(at('2024-02-14T10:00:00Z'));
        expect(s.currentBillingPeriodEnd).toEqual(at('2024-03-14T10:00:00Z'));
        expect((await env.engine.getActiveSubscriptions({ customerId: 'c1' })).map((x) => x.status)).toEqual(['ACTIVE']);
        expect((await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).hasAccess).toBe(true);
      });

      it('the newest provisioning ends the trial of another plan: basic taken during a pro trial ends the trial now', async () => {
        // docs/conventions.md#one-subscription-in-force
        const { subscription: trial } = await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' } });
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
        const active = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => [s.planId, s.status])).toEqual([['basic', 'ACTIVE']]);
        expect((await env.engine.getSubscription(trial!.id)).status).toBe('CANCELED');
      });

      it('rule 1: starting a pro trial keeps an active basic subscription', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' });
        expect(await activePlans()).toEqual(['basic', 'pro']);
      });

      it('rule 2: provisioning pro while in a pro trial creates a paid, non-trial pro and ends the trial', async () => {
        const { subscription: trial } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' },
        });
        env.clock.advance({ days: 5 });
        const paid = await env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' });
        expect(paid.subscription).toMatchObject({ planId: 'pro', status: 'ACTIVE', trialEndDate: null });
        expect(paid.subscription.id).not.toBe(trial!.id);
        expect((await env.engine.getSubscription(trial!.id)).status).toBe('CANCELED');
        const active = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => s.id)).toEqual([paid.subscription.id]);
      });
    });

    describe('cancelSubscription', () => {
      it('END_OF_BILLING_PERIOD on a monthly basic started Jan 31 ends on Feb 29 (month end clamped), then free starts', async () => {
        const { subscription: basic } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        const cancelled = await env.engine.cancelSubscription({ subscriptionId: basic!.id, cancellationTime: 'END_OF_BILLING_PERIOD' });
        // Jan 31 + 1 month clamps to Feb 29 (2024 is a leap year), same time of day.
        const end = at('2024-02-29T10:00:00Z');
        expect(cancelled).toMatchObject({ status: 'ACTIVE', endDate: end, cancellationDate: T0 });

        env.clock.set('2024-02-29T09:59:59.999Z');
        expect(await activePlans()).toEqual(['basic']);
        expect((await env.engine.getSubscription(basic!.id)).status).toBe('ACTIVE');
        expect(await projects()).toBe(10);

        env.clock.set(end);
        const active = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => [s.planId, s.status])).toEqual([['free', 'ACTIVE']]);
        expect(active[0]!.startDate).toEqual(end);
        expect((await env.engine.getSubscription(basic!.id)).status).toBe('CANCELED');
        expect(await projects()).toBe(3);
      });

      it('uses the product cancellationTime (END_OF_BILLING_PERIOD) when the call gives none', async () => {
        const { subscription: basic } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        const cancelled = await env.engine.cancelSubscription({ subscriptionId: basic!.id });
        expect(cancelled.endDate).toEqual(at('2024-02-29T10:00:00Z'));
      });

      it('IMMEDIATE cancellation downgrades to free now', async () => {
        const { subscription: basic } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        env.clock.advance({ days: 2 });
        expect(await projects()).toBe(10);
        const cancelled = await env.engine.cancelSubscription({ subscriptionId: basic!.id, cancellationTime: 'IMMEDIATE' });
        const now = at('2024-02-02T10:00:00Z');
        expect(cancelled).toMatchObject({ status: 'CANCELED', endDate: now });
        const active = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => [s.planId, s.status])).toEqual([['free', 'ACTIVE']]);
        expect(active[0]!.startDate).toEqual(now);
        expect(await projects()).toBe(3);
      });

      it('END_OF_BILLING_PERIOD during a trial ends it when the trial ends, then free starts', async () => {
        const { subscription: trial } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' },
        });
        const cancelled = await env.engine.cancelSubscription({ subscriptionId: trial!.id, cancellationTime: 'END_OF_BILLING_PERIOD' });
        const trialEnd = at('2024-02-14T10:00:00Z');
        expect(cancelled).toMatchObject({ status: 'IN_TRIAL', endDate: trialEnd });
        env.clock.set(trialEnd);
        expect((await env.engine.getSubscription(trial!.id)).status).toBe('CANCELED');
        expect(await activePlans()).toEqual(['free']);
        expect((await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).accessDeniedReason).toBe(
          'NoFeatureEntitlementInSubscription',
        );
      });

      it('cancelling the trial of a customer who also pays for basic leaves basic alone', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        const trial = await env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' });
        await env.engine.cancelSubscription({ subscriptionId: trial.id, cancellationTime: 'IMMEDIATE' });
        expect(await activePlans()).toEqual(['basic']);
        env.clock.advance({ months: 2 });
        expect(await activePlans()).toEqual(['basic']);
      });

      it('cancelling an ended subscription again throws CONFLICT', async () => {
        const { subscription: basic } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        await env.engine.cancelSubscription({ subscriptionId: basic!.id, cancellationTime: 'IMMEDIATE' });
        await expectCode(env.engine.cancelSubscription({ subscriptionId: basic!.id, cancellationTime: 'IMMEDIATE' }), 'CONFLICT');
      });

      it('throws SUBSCRIPTION_NOT_FOUND for an unknown subscription', async () => {
        await expectCode(env.engine.cancelSubscription({ subscriptionId: 'sub_404' }), 'SUBSCRIPTION_NOT_FOUND');
      });
    });

    describe('reads', () => {
      it('getSubscription throws SUBSCRIPTION_NOT_FOUND for an unknown id', async () => {
        await expectCode(env.engine.getSubscription('sub_404'), 'SUBSCRIPTION_NOT_FOUND');
      });

      it('a monthly subscription started Jan 31 2024 read on Mar 5 is in the period [Feb 29, Mar 31)', async () => {
        const { subscription } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        expect(subscription).toMatchObject({ currentBillingPeriodStart: T0, currentBillingPeriodEnd: at('2024-02-29T10:00:00Z') });
        env.clock.set('2024-03-05T00:00:00Z');
        const s = await env.engine.getSubscription(subscription!.id);
        // Period ends are computed from the anchor, not chained: Jan 31 -> Feb 29 -> Mar 31.
        expect(s.currentBillingPeriodStart).toEqual(at('2024-02-29T10:00:00Z'));
        expect(s.currentBillingPeriodEnd).toEqual(at('2024-03-31T10:00:00Z'));
      });

      it('an annual subscription started Jan 31 2024 is in the period [Jan 31 2024, Jan 31 2025)', async () => {
        const { subscription } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'ANNUALLY' },
        });
        expect(subscription).toMatchObject({ currentBillingPeriodStart: T0, currentBillingPeriodEnd: at('2025-01-31T10:00:00Z') });
      });

      it('getActiveSubscriptions throws CUSTOMER_NOT_FOUND for an unknown customer', async () => {
        await expectCode(env.engine.getActiveSubscriptions({ customerId: 'ghost' }), 'CUSTOMER_NOT_FOUND');
      });
    });
  });
}
