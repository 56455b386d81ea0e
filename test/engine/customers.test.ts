import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type TesseraErrorCode } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode, field?: RegExp): Promise<TesseraError> {
  const e = await rejection(call);
  expect(e.code).toBe(code);
  if (field) expect(e.details.field).toMatch(field);
  return e;
}

const T0 = new Date('2024-01-31T10:00:00Z');

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory);
    });
    afterEach(async () => {
      await env.cleanup();
    });

    describe('provisionCustomer', () => {
      it('creates a customer with the given fields', async () => {
        const { customer } = await env.engine.provisionCustomer({
          customerId: 'c1',
          name: 'Ada',
          email: 'ada@example.com',
          metadata: { tier: 'gold' },
          billingInfo: { billingCountryCode: 'GB', hasPaymentMethod: true },
        });
        expect(customer).toMatchObject({
          customerId: 'c1',
          name: 'Ada',
          email: 'ada@example.com',
          couponId: null,
          metadata: { tier: 'gold' },
          billingInfo: { billingCountryCode: 'GB', hasPaymentMethod: true },
          hasPaymentMethod: true,
          createdAt: T0,
          updatedAt: T0,
        });
        expect(await env.engine.getCustomer('c1')).toEqual(customer);
      });

      it('is idempotent: the same call again returns the same customer and provisions nothing more', async () => {
        const first = await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada', email: 'ada@example.com' });
        const second = await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada', email: 'ada@example.com' });
        expect(second.customer).toEqual(first.customer);
        expect(second.subscription).toBeUndefined();
        expect(await env.engine.getActiveSubscriptions({ customerId: 'c1' })).toHaveLength(1);
      });

      it('updates only the given fields of an existing customer', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada', email: 'ada@example.com', metadata: { a: '1' } });
        env.clock.advance({ hours: 1 });
        const { customer } = await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada Lovelace' });
        expect(customer).toMatchObject({
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          metadata: { a: '1' },
          createdAt: T0,
          updatedAt: new Date('2024-01-31T11:00:00Z'),
        });
      });

      it('provisions the journey default plan (free) for a new customer when subscriptionParams is omitted', async () => {
        const { customer, subscription } = await env.engine.provisionCustomer({ customerId: 'c1' });
        expect(subscription).toMatchObject({ customerId: 'c1', planId: 'free', productId: 'app', status: 'ACTIVE', startDate: T0 });
        expect(customer.subscriptions.map((s) => s.planId)).toEqual(['free']);
      });

      it('provisions the given plan instead of the journey when subscriptionParams is an object', async () => {
        const { subscription } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        expect(subscription).toMatchObject({ planId: 'basic', billingPeriod: 'MONTHLY', status: 'ACTIVE' });
        const active = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => s.planId)).toEqual(['basic']);
      });

      it('provisions no subscription when subscriptionParams is null', async () => {
        const result = await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: null });
        expect(result.subscription).toBeUndefined();
        expect(result.customer.subscriptions).toEqual([]);
        expect(await env.engine.getActiveSubscriptions({ customerId: 'c1' })).toEqual([]);
      });

      it('runs the journey for new customers only: an existing customer without a subscription stays without', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: null });
        const again = await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada' });
        expect(again.subscription).toBeUndefined();
        expect(await env.engine.getActiveSubscriptions({ customerId: 'c1' })).toEqual([]);
      });

      it('does not add a second journey subscription to an existing customer', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const active = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        expect(active.map((s) => s.planId)).toEqual(['free']);
      });

      it('concurrent calls for one new id create one customer with one journey subscription', async () => {
        const results = await Promise.all([
          env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada' }),
          env.engine.provisionCustomer({ customerId: 'c1', email: 'ada@example.com' }),
        ]);
        expect(results.filter((r) => r.subscription !== undefined)).toHaveLength(1);
        expect(await env.engine.getCustomer('c1')).toMatchObject({ name: 'Ada', email: 'ada@example.com' });
        expect((await env.engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => s.planId)).toEqual(['free']);
      });

      it('rejects subscriptionParams naming another customer', async () => {
        await expectCode(
          env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { customerId: 'c2', planId: 'free' } }),
          'INVALID_ARGUMENT',
          /subscriptionParams\.customerId$/,
        );
      });

      it('accepts an id of exactly 255 characters', async () => {
        const id = 'x'.repeat(255);
        const { customer } = await env.engine.provisionCustomer({ customerId: id });
        expect(customer.customerId).toBe(id);
      });
    });

    describe('invalid input', () => {
      it('rejects a missing customerId', async () => {
        await expectCode(env.engine.provisionCustomer({} as never), 'INVALID_ARGUMENT', /customerId$/);
      });

      it('rejects an empty customerId', async () => {
        await expectCode(env.engine.provisionCustomer({ customerId: '' }), 'INVALID_ARGUMENT', /customerId$/);
      });

      it('rejects a customerId longer than 255 characters', async () => {
        await expectCode(env.engine.provisionCustomer({ customerId: 'x'.repeat(256) }), 'INVALID_ARGUMENT', /customerId$/);
      });

      it('rejects an email that is not an address', async () => {
        await expectCode(env.engine.provisionCustomer({ customerId: 'c1', email: 'not-an-email' }), 'INVALID_ARGUMENT', /email$/);
      });

      it('rejects a couponId that the catalog does not have', async () => {
        await expectCode(env.engine.provisionCustomer({ customerId: 'c1', couponId: 'NOPE' }), 'INVALID_ARGUMENT', /couponId$/);
      });

      it('rejects a misspelt field name instead of ignoring it', async () => {
        const e = await expectCode(
          env.engine.provisionCustomer({ customerID: 'c1' } as never),
          'INVALID_ARGUMENT',
          /customerID$/,
        );
        expect(e.details.allowed).toContain('customerId');
      });

      it('rejects invalid updateCustomer input with the field named', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        await expectCode(env.engine.updateCustomer({ customerId: 'c1', email: 'nope' }), 'INVALID_ARGUMENT', /email$/);
        await expectCode(env.engine.updateCustomer({ customerId: 'c1', nmae: 'x' } as never), 'INVALID_ARGUMENT', /nmae$/);
      });

      it('creates nothing when the input is invalid', async () => {
        await rejection(env.engine.provisionCustomer({ customerId: 'c1', email: 'nope' }));
        await expectCode(env.engine.getCustomer('c1'), 'CUSTOMER_NOT_FOUND');
      });
    });

    describe('updateCustomer', () => {
      it('changes only the given fields: a new name keeps the email', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada', email: 'ada@example.com', metadata: { a: '1' } });
        const updated = await env.engine.updateCustomer({ customerId: 'c1', name: 'Grace' });
        expect(updated).toMatchObject({ name: 'Grace', email: 'ada@example.com', metadata: { a: '1' } });
        expect(await env.engine.getCustomer('c1')).toEqual(updated);
      });

      it('replaces billingInfo whole', async () => {
        await env.engine.provisionCustomer({
          customerId: 'c1',
          billingInfo: { billingCountryCode: 'DE', taxExempt: true, hasPaymentMethod: true },
        });
        const updated = await env.engine.updateCustomer({ customerId: 'c1', billingInfo: { billingCountryCode: 'FR' } });
        expect(updated.billingInfo).toEqual({ billingCountryCode: 'FR' });
        expect(updated.hasPaymentMethod).toBe(false);
      });

      it('clears a field given as null', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada', email: 'ada@example.com' });
        const updated = await env.engine.updateCustomer({ customerId: 'c1', email: null });
        expect(updated).toMatchObject({ name: 'Ada', email: null });
      });

      it('throws CUSTOMER_NOT_FOUND for an unknown customer', async () => {
        await expectCode(env.engine.updateCustomer({ customerId: 'ghost', name: 'x' }), 'CUSTOMER_NOT_FOUND');
      });
    });

    describe('getCustomer', () => {
      it('lists the active subscriptions', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        const customer = await env.engine.getCustomer('c1');
        expect(customer.subscriptions).toHaveLength(1);
        expect(customer.subscriptions[0]).toMatchObject({ planId: 'basic', status: 'ACTIVE', customerId: 'c1' });
      });

      it('leaves ended subscriptions out', async () => {
        const { subscription } = await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        await env.engine.cancelSubscription({ subscriptionId: subscription!.id, cancellationTime: 'IMMEDIATE' });
        const customer = await env.engine.getCustomer('c1');
        // The journey's downgrade plan replaces the cancelled basic.
        expect(customer.subscriptions.map((s) => s.planId)).toEqual(['free']);
      });

      it('throws CUSTOMER_NOT_FOUND for an unknown customer', async () => {
        await expectCode(env.engine.getCustomer('ghost'), 'CUSTOMER_NOT_FOUND');
      });
    });

    describe('archiveCustomer', () => {
      beforeEach(async () => {
        await env.engine.provisionCustomer({
          customerId: 'c1',
          name: 'Ada',
          email: 'ada@example.com',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' },
        });
        await env.engine.archiveCustomer('c1');
      });

      it('hides the customer from reads', async () => {
        await expectCode(env.engine.getCustomer('c1'), 'CUSTOMER_NOT_FOUND');
        await expectCode(env.engine.getActiveSubscriptions({ customerId: 'c1' }), 'CUSTOMER_NOT_FOUND');
        await expectCode(env.engine.getSubscription('sub_1'), 'SUBSCRIPTION_NOT_FOUND');
      });

      it('denies checks with CustomerIsArchived', async () => {
        const e = await env.engine.getEntitlement({ customerId: 'c1', featureId: 'projects' });
        expect(e).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerIsArchived' });
        const m = await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' });
        expect(m).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerIsArchived' });
        expect(await env.engine.getEntitlements('c1')).toEqual([]);
      });

      it('reserves the id for good: provisionCustomer answers CUSTOMER_ID_ARCHIVED', async () => {
        await expectCode(env.engine.provisionCustomer({ customerId: 'c1', name: 'Someone else' }), 'CUSTOMER_ID_ARCHIVED', /customerId$/);
      });

      it('refuses to archive twice and to update an archived customer', async () => {
        await expectCode(env.engine.archiveCustomer('c1'), 'CUSTOMER_NOT_FOUND');
        await expectCode(env.engine.updateCustomer({ customerId: 'c1', name: 'x' }), 'CUSTOMER_NOT_FOUND');
      });

      it('nulls name and email and ends the subscriptions, as unarchiveCustomer then shows', async () => {
        const restored = await env.engine.unarchiveCustomer('c1');
        expect(restored).toMatchObject({ customerId: 'c1', name: null, email: null, subscriptions: [] });
        expect(await env.engine.getCustomer('c1')).toEqual(restored);
        expect(await env.engine.getActiveSubscriptions({ customerId: 'c1' })).toEqual([]);
        expect(await env.engine.getSubscription('sub_1')).toMatchObject({ planId: 'basic', status: 'CANCELED', endDate: T0 });
        const e = await env.engine.getEntitlement({ customerId: 'c1', featureId: 'projects' });
        expect(e).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
      });

      it('unarchiveCustomer makes the id usable again', async () => {
        await env.engine.unarchiveCustomer('c1');
        const { customer } = await env.engine.provisionCustomer({ customerId: 'c1', name: 'Ada again' });
        expect(customer.name).toBe('Ada again');
      });

      it('unarchiveCustomer of a customer that is not archived throws CUSTOMER_NOT_FOUND', async () => {
        await env.engine.unarchiveCustomer('c1');
        await expectCode(env.engine.unarchiveCustomer('c1'), 'CUSTOMER_NOT_FOUND');
        await expectCode(env.engine.unarchiveCustomer('ghost'), 'CUSTOMER_NOT_FOUND');
      });
    });
  });
}
