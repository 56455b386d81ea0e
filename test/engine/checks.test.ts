import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type MeteredEntitlement, type NumericEntitlement } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

const at = (iso: string): Date => new Date(iso);
const T0 = at('2024-01-31T10:00:00Z');

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory);
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const metered = async (featureId: string, requestedUsage?: number, customerId = 'c1'): Promise<MeteredEntitlement> =>
      (await env.engine.getMeteredEntitlement({
        customerId,
        featureId,
        ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }),
      })) as MeteredEntitlement;
    const numeric = async (featureId: string, customerId = 'c1'): Promise<NumericEntitlement> =>
      (await env.engine.getNumericEntitlement({ customerId, featureId })) as NumericEntitlement;
    const use = (featureId: string, value: number, customerId = 'c1') => env.engine.reportUsage({ customerId, featureId, value });

    describe('access denied reasons (checks deny, never throw)', () => {
      it('CustomerNotFound for an unknown customer', async () => {
        const e = await env.engine.getEntitlement({ customerId: 'ghost', featureId: 'projects' });
        expect(e).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerNotFound', customerId: 'ghost', featureId: 'projects' });
        expect(await env.engine.getEntitlements('ghost')).toEqual([]);
      });

      it('FeatureNotFound for an unknown feature', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const e = await env.engine.getEntitlement({ customerId: 'c1', featureId: 'teleport' });
        expect(e).toMatchObject({ hasAccess: false, accessDeniedReason: 'FeatureNotFound', featureId: 'teleport' });
      });

      it('FeatureTypeMismatch when a typed check names a feature of another type', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        // projects (NUMERIC) is entitled on the free plan, sso (BOOLEAN) is not: both denial paths.
        const e = await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'projects' });
        expect(e).toEqual({
          customerId: 'c1',
          resourceId: null,
          featureId: 'projects',
          hasAccess: false,
          accessDeniedReason: 'FeatureTypeMismatch',
          feature: expect.objectContaining({ id: 'projects', type: 'NUMERIC' }),
          isFallback: false,
          type: 'BOOLEAN',
        });
        // Typed results: the fields of the asked-for type are there without narrowing.
        const m = await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'sso' });
        expect(m).toMatchObject({ type: 'METERED', hasAccess: false, accessDeniedReason: 'FeatureTypeMismatch', feature: { type: 'BOOLEAN' } });
        expect([m.usageLimit, m.currentUsage, m.resetPeriod]).toEqual([null, 0, null]);
        const n = await env.engine.getNumericEntitlement({ customerId: 'c1', featureId: 'sso' });
        expect([n.type, n.value, n.isUnlimited]).toEqual(['NUMERIC', null, false]);
        const en = await env.engine.getEnumEntitlement({ customerId: 'c1', featureId: 'projects' });
        expect([en.type, en.enumValues, en.accessDeniedReason]).toEqual(['ENUM', [], 'FeatureTypeMismatch']);
      });

      it('typed checks of an unknown feature or customer deny in their own shape', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const m = await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'teleport' });
        expect(m).toMatchObject({ type: 'METERED', hasAccess: false, accessDeniedReason: 'FeatureNotFound', usageLimit: null, currentUsage: 0 });
        expect(m.feature).toBeUndefined();
        const n = await env.engine.getNumericEntitlement({ customerId: 'ghost', featureId: 'sso' });
        expect(n).toMatchObject({ type: 'NUMERIC', hasAccess: false, accessDeniedReason: 'CustomerNotFound', value: null });
      });

      it('NoFeatureEntitlementInSubscription for sso on the free plan', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const e = await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' });
        expect(e).toMatchObject({ type: 'BOOLEAN', hasAccess: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
      });

      it('NoActiveSubscription for a customer provisioned with subscriptionParams null', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: null });
        const e = await env.engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' });
        expect(e).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
        expect(await env.engine.getEntitlements('c1')).toEqual([]);
      });

      it('CustomerIsArchived for an archived customer', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        expect((await numeric('projects')).hasAccess).toBe(true);
        await env.engine.archiveCustomer('c1');
        const e = await env.engine.getEntitlement({ customerId: 'c1', featureId: 'projects' });
        expect(e).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerIsArchived' });
      });

      it('RequestedUsageExceedingLimit when the requested usage does not fit', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const e = await metered('api-calls', 101);
        expect(e).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit', usageLimit: 100, requestedUsage: 101 });
      });

      it('RequestedValuesMismatch for parquet export on basic', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        const denied = await env.engine.getEnumEntitlement({ customerId: 'c1', featureId: 'export', options: { requestedValues: ['parquet'] } });
        expect(denied).toMatchObject({ type: 'ENUM', hasAccess: false, accessDeniedReason: 'RequestedValuesMismatch', requestedValues: ['parquet'] });
        const allowed = await env.engine.getEnumEntitlement({ customerId: 'c1', featureId: 'export', options: { requestedValues: ['csv', 'json'] } });
        expect(allowed).toMatchObject({ hasAccess: true, enumValues: ['csv', 'json'] });
        expect(allowed.accessDeniedReason).toBeUndefined();
      });

      it('throws INVALID_ARGUMENT only for malformed input', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        // Wrapped in an async function so that this test is about the code; the next one is about async-ness.
        const missing = await rejection((async () => env.engine.getEntitlement({ featureId: 'projects' } as never))());
        expect(missing).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: expect.stringMatching(/customerId$/) } });
        const negative = await rejection(
          (async () => env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', options: { requestedUsage: -1 } }))(),
        );
        expect(negative).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: expect.stringMatching(/requestedUsage$/) } });
      });

      it('reports malformed input as a rejected promise, never as a synchronous throw', async () => {
        // Every method is async (API.md): `engine.getEntitlement(bad).catch(...)` must catch.
        const calls: (() => Promise<unknown>)[] = [
          () => env.engine.getEntitlement({ featureId: 'projects' } as never),
          () => env.engine.getBooleanEntitlement({ customerId: '', featureId: 'sso' }),
          () => env.engine.getNumericEntitlement({ customerId: 'c1' } as never),
          () => env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', options: { requestedUsage: -1 } }),
          () => env.engine.getEnumEntitlement({ customerId: 'c1', featureId: 'export', options: { requestedValues: [1] as never } }),
          () => env.engine.getEntitlements({} as never),
        ];
        for (const call of calls) {
          let returned: Promise<unknown> | undefined;
          expect(() => {
            returned = call();
          }).not.toThrow();
          expect((await rejection(returned!)).code).toBe('INVALID_ARGUMENT');
        }
      });
    });

    describe('inheritance and sources', () => {
      it('basic inherits from free and overrides its values', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        expect(await numeric('projects')).toMatchObject({ hasAccess: true, value: 10, isUnlimited: false });
        expect(await metered('api-calls')).toMatchObject({ hasAccess: true, usageLimit: 1000, resetPeriod: 'MONTH' });
        expect(await metered('seats')).toMatchObject({ hasAccess: true, usageLimit: 5, resetPeriod: null });
      });

      it('pro grants sso', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true } });
        const e = await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' });
        expect(e).toMatchObject({ type: 'BOOLEAN', hasAccess: true, isFallback: false, feature: { id: 'sso', type: 'BOOLEAN' } });
      });

      it('pro has unlimited projects (NUMERIC isUnlimited)', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true } });
        expect(await numeric('projects')).toMatchObject({ type: 'NUMERIC', hasAccess: true, isUnlimited: true, value: null });
      });

      it('an add-on with quantity 3 adds three times its limit', async () => {
        await env.engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 3 }] },
        });
        // basic seats 5 + extra-seats 5 x 3 = 20
        expect(await metered('seats')).toMatchObject({ hasAccess: true, usageLimit: 20 });
      });

      it('a trial grants the plan entitlements', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' } });
        expect((await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).hasAccess).toBe(true);
      });
    });

    describe('metered limits', () => {
      beforeEach(async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
      });

      it('with 99 of 100 calls used, allows requestedUsage 1 and denies 2', async () => {
        await use('api-calls', 99);
        expect(await metered('api-calls', 1)).toMatchObject({ hasAccess: true, currentUsage: 99, usageLimit: 100, requestedUsage: 1 });
        expect(await metered('api-calls', 2)).toMatchObject({
          hasAccess: false,
          accessDeniedReason: 'RequestedUsageExceedingLimit',
          currentUsage: 99,
          requestedUsage: 2,
        });
      });

      it('exactly at the limit, requestedUsage 0 still has access and 1 is denied', async () => {
        await use('api-calls', 100);
        const e = await metered('api-calls');
        expect(e).toMatchObject({ hasAccess: true, currentUsage: 100, requestedUsage: 0 });
        expect(e.accessDeniedReason).toBeUndefined();
        expect((await metered('api-calls', 1)).hasAccess).toBe(false);
      });

      it('usage recorded past a hard limit is kept and later checks deny', async () => {
        const r = await use('api-calls', 130);
        expect(r.currentUsage).toBe(130);
        expect(await metered('api-calls')).toMatchObject({ hasAccess: false, currentUsage: 130, accessDeniedReason: 'RequestedUsageExceedingLimit' });
      });

      it('a soft limit (pro api-calls, 10000) keeps access past the limit', async () => {
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true });
        await use('api-calls', 10_500);
        const e = await metered('api-calls', 10);
        expect(e).toMatchObject({ hasAccess: true, hasSoftLimit: true, usageLimit: 10_000, currentUsage: 10_500 });
      });
    });

    describe('usage windows', () => {
      beforeEach(async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
      });

      it('the monthly window anchored on Jan 31 10:00 is [Jan 31, Feb 29), then [Feb 29, Mar 31)', async () => {
        expect(await metered('api-calls')).toMatchObject({ usagePeriodStart: T0, usagePeriodEnd: at('2024-02-29T10:00:00Z') });
        env.clock.set('2024-03-01T00:00:00Z');
        // Window ends come from the anchor: Jan 31 + 2 months = Mar 31, not Feb 29 + 1 month = Mar 29.
        expect(await metered('api-calls')).toMatchObject({
          usagePeriodStart: at('2024-02-29T10:00:00Z'),
          usagePeriodEnd: at('2024-03-31T10:00:00Z'),
        });
      });

      it('usage resets in the next window', async () => {
        await use('api-calls', 50);
        expect((await metered('api-calls')).currentUsage).toBe(50);
        env.clock.set('2024-02-29T09:59:59.999Z');
        expect((await metered('api-calls')).currentUsage).toBe(50);
        env.clock.set('2024-02-29T10:00:00Z');
        expect(await metered('api-calls')).toMatchObject({ currentUsage: 0, hasAccess: true });
      });

      it('seats (no reset period) carry across months and have no window', async () => {
        await use('seats', 1);
        env.clock.advance({ months: 3 });
        const e = await metered('seats');
        expect(e).toMatchObject({ currentUsage: 1, resetPeriod: null });
        expect(e.usagePeriodStart).toBeUndefined();
        expect(e.usagePeriodEnd).toBeUndefined();
      });
    });

    describe('getEntitlements', () => {
      it('lists every feature of the plan, sorted by featureId', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const all = await env.engine.getEntitlements({ customerId: 'c1' });
        expect(all.map((e) => e.featureId)).toEqual(['api-calls', 'export', 'projects', 'seats']);
        expect(all.every((e) => e.hasAccess)).toBe(true);
        expect(all.find((e) => e.featureId === 'projects')).toMatchObject({ type: 'NUMERIC', value: 3 });
        expect(all.find((e) => e.featureId === 'export')).toMatchObject({ type: 'ENUM', enumValues: ['csv'] });
      });

      it('lists pro features including sso, with usage', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true } });
        await use('api-calls', 7);
        const all = await env.engine.getEntitlements('c1');
        expect(all.map((e) => e.featureId)).toEqual(['api-calls', 'export', 'projects', 'seats', 'sso']);
        expect(all[0]).toMatchObject({ type: 'METERED', currentUsage: 7, usageLimit: 10_000 });
      });
    });

    describe('the cache', () => {
      it('a cached check sees the engine’s own usage writes at once', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        expect((await metered('api-calls')).currentUsage).toBe(0);
        await use('api-calls', 5);
        expect((await metered('api-calls')).currentUsage).toBe(5);
        await use('api-calls', 3);
        expect((await metered('api-calls', 92)).hasAccess).toBe(true); // 5 + 3 + 92 = 100
        expect((await metered('api-calls', 93)).hasAccess).toBe(false);
      });

      it('a cached check sees a plan change at once', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        expect((await numeric('projects')).value).toBe(3);
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
        expect((await numeric('projects')).value).toBe(10);
      });

      it('a check racing a report never keeps a stale usage, warm or cold', async () => {
        for (let i = 0; i < 10; i++) {
          const customerId = `race-${i}`;
          await env.engine.provisionCustomer({ customerId });
          // Odd rounds start with the view cached, even rounds cold.
          if (i % 2 === 1) await metered('api-calls', undefined, customerId);
          await Promise.all([metered('api-calls', undefined, customerId), use('api-calls', 5, customerId), metered('api-calls', undefined, customerId)]);
          expect((await metered('api-calls', undefined, customerId)).currentUsage).toBe(5);
        }
      });

      it('warm checks of one window share its Dates, which are read-only; the next window has its own', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const cold = await metered('api-calls');
        const warm = await metered('api-calls');
        const again = await metered('api-calls', 3);
        expect(warm.usagePeriodStart).toEqual(T0);
        expect(warm.usagePeriodEnd).toEqual(at('2024-02-29T10:00:00Z'));
        expect(again.usagePeriodStart).toBe(warm.usagePeriodStart);
        expect(cold.usagePeriodEnd!.getTime()).toBe(warm.usagePeriodEnd!.getTime());
        expect(warm.usagePeriodEnd).toBeInstanceOf(Date);
        expect(JSON.parse(JSON.stringify(warm)).usagePeriodEnd).toBe('2024-02-29T10:00:00.000Z');
        expect(() => warm.usagePeriodEnd!.setTime(0)).toThrow(TypeError);
        expect(() => warm.usagePeriodStart!.setUTCDate(1)).toThrow(/read-only/);
        expect(new Date(warm.usagePeriodEnd!).setTime(0)).toBe(0);
        expect((await metered('api-calls')).usagePeriodEnd).toEqual(at('2024-02-29T10:00:00Z'));
        env.clock.set('2024-02-29T10:00:00Z');
        const next = await metered('api-calls');
        expect(next.usagePeriodStart).toEqual(at('2024-02-29T10:00:00Z'));
        expect(next.usagePeriodEnd).toEqual(at('2024-03-31T10:00:00Z'));
        expect(next.usagePeriodStart).not.toBe(warm.usagePeriodStart);
      });

      it('a warm check validates nothing it can skip, and malformed params still reject', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        expect((await numeric('projects')).value).toBe(3);
        expect((await numeric('projects')).value).toBe(3);
        const bad = await rejection(env.engine.getEntitlement({ customerId: 'c1\u0000', featureId: 'projects' }));
        expect(bad.code).toBe('INVALID_ARGUMENT');
        expect((await rejection(env.engine.getEntitlement({ customerId: 'c1', featureId: 42 } as never))).code).toBe('INVALID_ARGUMENT');
        expect((await rejection(env.engine.getEntitlement({ customerId: 'c1', featureId: 'projects', options: { requestedUsage: -1 } }))).code).toBe(
          'INVALID_ARGUMENT',
        );
        await env.engine.archiveCustomer('c1');
        expect((await numeric('projects')).accessDeniedReason).toBe('CustomerIsArchived');
      });

      it('a cached denial for an unknown customer turns into access once provisioned', async () => {
        expect((await numeric('projects')).accessDeniedReason).toBe('CustomerNotFound');
        await env.engine.provisionCustomer({ customerId: 'c1' });
        expect(await numeric('projects')).toMatchObject({ hasAccess: true, value: 3 });
      });
    });
  });
}
