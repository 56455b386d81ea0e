import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type EnumEntitlement, type MeteredEntitlement, type NumericEntitlement } from '@tessera/core';
import { creditsCatalog } from './credits-catalog.js';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

const ms = (iso: string): number => Date.parse(iso);
// The test clock starts here (test/engine/stores.ts).
const T0 = '2024-01-31T10:00:00Z';

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: creditsCatalog });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    /** A customer without any subscription. */
    const bare = (customerId = 'c1') => env.engine.provisionCustomer({ customerId, subscriptionParams: null });
    /** A customer on the free plan (the product's journey gives it on sign-up). */
    const onFree = (customerId = 'c1') => env.engine.provisionCustomer({ customerId });
    const sso = (customerId = 'c1', resourceId?: string) =>
      env.engine.getBooleanEntitlement({ customerId, featureId: 'sso', ...(resourceId === undefined ? {} : { resourceId }) });
    const metered = async (featureId: string, requestedUsage?: number, customerId = 'c1') =>
      (await env.engine.getMeteredEntitlement({ customerId, featureId, ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }) })) as MeteredEntitlement;
    const numeric = async (featureId: string, customerId = 'c1') => (await env.engine.getNumericEntitlement({ customerId, featureId })) as NumericEntitlement;
    const changeCount = async () => (await env.engine.getChanges({ limit: 10_000 })).length;

    describe('granting', () => {
      it('grants a feature to a customer with no subscription: sso is allowed at once', async () => {
        await bare();
        expect(await sso()).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
        const [grant] = await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_MONTH' }] });
        expect(grant).toMatchObject({ customerId: 'c1', resourceId: null, featureId: 'sso', status: 'ACTIVE', revokedAt: null });
        expect(grant!.startDate).toEqual(new Date(T0));
        expect(await sso()).toMatchObject({ type: 'BOOLEAN', hasAccess: true });
      });

      it('grants several features in one call, each with its own entitlement', async () => {
        await bare();
        const grants = await env.engine.grantPromotionalEntitlements({
          customerId: 'c1',
          promotionalEntitlements: [
            { featureId: 'projects', period: 'ONE_WEEK', value: 7 },
            { featureId: 'api-calls', period: 'ONE_WEEK', usageLimit: 500, resetPeriod: 'DAY' },
          ],
        });
        expect(grants.map((g) => g.featureId)).toEqual(['projects', 'api-calls']);
        expect(await numeric('projects')).toMatchObject({ hasAccess: true, value: 7, isUnlimited: false });
        const calls = await metered('api-calls');
        expect(calls).toMatchObject({ hasAccess: true, usageLimit: 500, resetPeriod: 'DAY', currentUsage: 0 });
        // DAY windows are UTC days.
        expect(calls.usagePeriodStart).toEqual(new Date('2024-01-31T00:00:00Z'));
        expect(calls.usagePeriodEnd).toEqual(new Date('2024-02-01T00:00:00Z'));
      });

      it("anchors a promotion's usage window at the grant's start: monthly from Feb 5 12:00", async () => {
        await bare();
        env.clock.set('2024-02-05T12:00:00Z');
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'SIX_MONTHS', usageLimit: 50, resetPeriod: 'MONTH' }] });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 50 });
        const e = await metered('api-calls', 1);
        expect(e).toMatchObject({ hasAccess: false, usageLimit: 50, currentUsage: 50 });
        expect(e.usagePeriodStart).toEqual(new Date('2024-02-05T12:00:00Z'));
        expect(e.usagePeriodEnd).toEqual(new Date('2024-03-05T12:00:00Z'));
        // The next window starts afresh.
        env.clock.set('2024-03-05T12:00:00Z');
        expect(await metered('api-calls', 50)).toMatchObject({ hasAccess: true, currentUsage: 0 });
      });

      it('emits entitlementsUpdated on grant and on revoke', async () => {
        await bare();
        const seen: string[] = [];
        env.engine.on('entitlementsUpdated', (e) => seen.push(`${e.customerId}:${e.reason}`));
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'sso', period: 'LIFETIME' }] });
        await env.engine.revokePromotionalEntitlements({ customerId: 'c1', featureId: 'sso' });
        expect(seen).toEqual(['c1:promotion.updated', 'c1:promotion.updated']);
      });
    });

    describe('periods end exactly, with no job', () => {
      const cases: { period: 'ONE_WEEK' | 'ONE_MONTH' | 'SIX_MONTHS' | 'ONE_YEAR' | 'CUSTOM'; end: string; customEndDate?: string }[] = [
        { period: 'ONE_WEEK', end: '2024-02-07T10:00:00Z' },
        // Jan 31 + 1 month clamps to the last day of February (2024 is a leap year).
        { period: 'ONE_MONTH', end: '2024-02-29T10:00:00Z' },
        { period: 'SIX_MONTHS', end: '2024-07-31T10:00:00Z' },
        { period: 'ONE_YEAR', end: '2025-01-31T10:00:00Z' },
        { period: 'CUSTOM', end: '2024-03-15T00:00:00Z', customEndDate: '2024-03-15T00:00:00Z' },
      ];
      for (const c of cases) {
        it(`${c.period} granted on ${T0} ends at ${c.end}: allowed 1 ms before, denied at it`, async () => {
          await bare();
          const [grant] = await env.engine.grantPromotionalEntitlements({
            customerId: 'c1',
            promotionalEntitlements: [{ featureId: 'sso', period: c.period, ...(c.customEndDate ? { customEndDate: c.customEndDate } : {}) }],
          });
          expect(grant!.endDate).toEqual(new Date(c.end));
          env.clock.set(ms(c.end) - 1);
          expect((await sso()).hasAccess).toBe(true);
          expect((await env.engine.getCustomer('c1')).promotionalEntitlements.map((g) => g.featureId)).toEqual(['sso']);
          env.clock.advance(1);
          expect(await sso()).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
          expect((await env.engine.getCustomer('c1')).promotionalEntitlements).toEqual([]);
        });
      }

      it('LIFETIME has no end date and still applies 100 years later', async () => {
        await bare();
        const [grant] = await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'sso', period: 'LIFETIME' }] });
        expect(grant!.endDate).toBeNull();
        env.clock.advance({ years: 100 });
        expect((await sso()).hasAccess).toBe(true);
      });

      it('the end of a promotion hands back to the plan: free keeps its 100 calls', async () => {
        await onFree();
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_WEEK', usageLimit: 50, resetPeriod: 'MONTH' }] });
        expect((await metered('api-calls')).usageLimit).toBe(150);
        env.clock.set('2024-02-07T10:00:00Z');
        expect((await metered('api-calls')).usageLimit).toBe(100);
      });
    });

    describe('combining with plan entitlements', () => {
      it('limits add: free plan 100 calls + promotion 50 = 150, and the 151st is refused', async () => {
        await onFree();
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 50, resetPeriod: 'MONTH' }] });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 150 });
        expect(await metered('api-calls')).toMatchObject({ hasAccess: true, usageLimit: 150, currentUsage: 150, isUnlimited: false });
        expect(await metered('api-calls', 1)).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit' });
      });

      it("on equal reset periods the plan's window wins over the promotion's later anchor", async () => {
        await onFree();
        env.clock.set('2024-02-05T00:00:00Z');
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 50, resetPeriod: 'MONTH' }] });
        const e = await metered('api-calls');
        // The free subscription started on Jan 31 10:00: its monthly window runs to Feb 29 10:00.
        expect(e.usagePeriodStart).toEqual(new Date('2024-01-31T10:00:00Z'));
        expect(e.usagePeriodEnd).toEqual(new Date('2024-02-29T10:00:00Z'));
        expect(e.usageLimit).toBe(150);
      });

      it('numeric values take the highest: plan 3, promotion 10 -> 10; promotion 2 -> 3', async () => {
        await onFree('high');
        await onFree('low');
        await env.engine.grantPromotionalEntitlements({ customerId: 'high', promotionalEntitlements: [{ featureId: 'projects', period: 'ONE_MONTH', value: 10 }] });
        await env.engine.grantPromotionalEntitlements({ customerId: 'low', promotionalEntitlements: [{ featureId: 'projects', period: 'ONE_MONTH', value: 2 }] });
        expect(await numeric('projects', 'high')).toMatchObject({ hasAccess: true, value: 10 });
        expect(await numeric('projects', 'low')).toMatchObject({ hasAccess: true, value: 3 });
      });

      it('unlimited wins: an unlimited promotion lifts the free plan limit of 100 calls', async () => {
        await onFree();
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 100 });
        expect((await metered('api-calls', 1)).hasAccess).toBe(false);
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', isUnlimited: true }] });
        expect(await metered('api-calls', 1_000_000)).toMatchObject({ hasAccess: true, isUnlimited: true, usageLimit: null, currentUsage: 100 });
      });

      it('a soft limit on the promotion makes the combined limit soft', async () => {
        await onFree();
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 10, hasSoftLimit: true, resetPeriod: 'MONTH' }] });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 200 });
        expect(await metered('api-calls', 5)).toMatchObject({ hasAccess: true, hasSoftLimit: true, usageLimit: 110, currentUsage: 200 });
      });

      it('enum values unite: free csv + promotion parquet', async () => {
        await onFree();
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'export', period: 'ONE_MONTH', enumValues: ['parquet'] }] });
        const e = (await env.engine.getEnumEntitlement({ customerId: 'c1', featureId: 'export', options: { requestedValues: ['csv', 'parquet'] } })) as EnumEntitlement;
        expect(e).toMatchObject({ hasAccess: true, enumValues: ['csv', 'parquet'] });
      });
    });

    describe('reading, revoking, replacing', () => {
      it('getCustomer lists the promotions in force, with their dates', async () => {
        await onFree();
        await env.engine.grantPromotionalEntitlements({
          customerId: 'c1',
          promotionalEntitlements: [
            { featureId: 'sso', period: 'ONE_WEEK' },
            { featureId: 'projects', period: 'LIFETIME', value: 25 },
          ],
        });
        const list = (await env.engine.getCustomer('c1')).promotionalEntitlements;
        expect(list.map((g) => [g.featureId, g.status, g.startDate.toISOString(), g.endDate?.toISOString() ?? null])).toEqual([
          ['sso', 'ACTIVE', '2024-01-31T10:00:00.000Z', '2024-02-07T10:00:00.000Z'],
          ['projects', 'ACTIVE', '2024-01-31T10:00:00.000Z', null],
        ]);
        expect(list[1]).toMatchObject({ value: 25 });
        env.clock.set('2024-02-07T10:00:00Z');
        expect((await env.engine.getCustomer('c1')).promotionalEntitlements.map((g) => g.featureId)).toEqual(['projects']);
      });

      it('revoke ends the grant now; revoking again revokes nothing', async () => {
        await bare();
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_YEAR' }] });
        env.clock.advance({ days: 3 });
        expect(await env.engine.revokePromotionalEntitlements({ customerId: 'c1', featureId: 'sso' })).toEqual({ revoked: 1 });
        expect(await sso()).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
        expect((await env.engine.getCustomer('c1')).promotionalEntitlements).toEqual([]);
        expect(await env.engine.revokePromotionalEntitlements({ customerId: 'c1', featureId: 'sso' })).toEqual({ revoked: 0 });
      });

      it('a new grant of a feature replaces the one in force instead of adding to it: 100 + 30, not 100 + 50 + 30', async () => {
        await onFree();
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 50, resetPeriod: 'MONTH' }] });
        env.clock.advance({ days: 1 });
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_WEEK', usageLimit: 30, resetPeriod: 'MONTH' }] });
        expect((await metered('api-calls')).usageLimit).toBe(130);
        const list = (await env.engine.getCustomer('c1')).promotionalEntitlements;
        expect(list.map((g) => [g.featureId, g.usageLimit, g.endDate?.toISOString()])).toEqual([['api-calls', 30, '2024-02-08T10:00:00.000Z']]);
        // The replaced month-long grant does not come back when the week ends.
        env.clock.set('2024-02-08T10:00:00Z');
        expect((await metered('api-calls')).usageLimit).toBe(100);
      });

      it('a grant for a resource applies to that resource only (the customer holds a workspace there)', async () => {
        await onFree();
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'ws-free', resourceId: 'r1' });
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'ws-free', resourceId: 'r2' });
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', resourceId: 'r1', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_MONTH' }] });
        expect(await sso('c1', 'r1')).toMatchObject({ hasAccess: true, resourceId: 'r1' });
        expect(await sso('c1')).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
        expect(await sso('c1', 'r2')).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
        const [grant] = (await env.engine.getCustomer('c1')).promotionalEntitlements;
        expect(grant).toMatchObject({ featureId: 'sso', resourceId: 'r1' });
        // Revoking at the customer level leaves the resource's grant alone.
        expect(await env.engine.revokePromotionalEntitlements({ customerId: 'c1', featureId: 'sso' })).toEqual({ revoked: 0 });
        expect((await sso('c1', 'r1')).hasAccess).toBe(true);
        expect(await env.engine.revokePromotionalEntitlements({ customerId: 'c1', featureId: 'sso', resourceId: 'r1' })).toEqual({ revoked: 1 });
        expect((await sso('c1', 'r1')).hasAccess).toBe(false);
      });

      it('a customer-level grant applies to every resource: workspace seats 3 + promotion 2 = 5 on r1', async () => {
        await onFree();
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'ws-free', resourceId: 'r1' });
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'seats', period: 'ONE_MONTH', usageLimit: 2 }] });
        // Customer level: free plan 1 seat + promotion 2; on r1 the workspace's 3 join them.
        expect((await metered('seats')).usageLimit).toBe(3);
        expect((await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'seats', resourceId: 'r1' })) as MeteredEntitlement).toMatchObject({ usageLimit: 6 });
      });

      it('a grant for a resource the customer holds no subscription on applies there (the grant names the resource)', async () => {
        await onFree();
        await env.engine.grantPromotionalEntitlements({ customerId: 'c1', resourceId: 'promo-space', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_MONTH' }] });
        expect(await sso('c1', 'promo-space')).toMatchObject({ hasAccess: true, resourceId: 'promo-space' });
        expect((await sso('c1')).hasAccess).toBe(false);
      });
    });

    describe('errors write nothing', () => {
      it('FEATURE_NOT_FOUND for an unknown feature, and the valid grant beside it is not written', async () => {
        await bare();
        const before = await changeCount();
        const err = await rejection(
          env.engine.grantPromotionalEntitlements({
            customerId: 'c1',
            promotionalEntitlements: [
              { featureId: 'sso', period: 'ONE_MONTH' },
              { featureId: 'teleport', period: 'ONE_MONTH' },
            ],
          }),
        );
        expect(err.code).toBe('FEATURE_NOT_FOUND');
        expect(await changeCount()).toBe(before);
        expect((await env.engine.getCustomer('c1')).promotionalEntitlements).toEqual([]);
        expect((await sso()).hasAccess).toBe(false);
      });

      it('INVALID_ARGUMENT for CUSTOM without customEndDate, an end not after now, or customEndDate with another period', async () => {
        await bare();
        const before = await changeCount();
        const grant = (e: Record<string, unknown>) =>
          rejection(env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'sso', ...e } as never] }));
        const noEnd = await grant({ period: 'CUSTOM' });
        expect(noEnd.code).toBe('INVALID_ARGUMENT');
        expect(String(noEnd.details?.field)).toContain('customEndDate');
        expect((await grant({ period: 'CUSTOM', customEndDate: T0 })).code).toBe('INVALID_ARGUMENT');
        expect((await grant({ period: 'CUSTOM', customEndDate: '2024-01-01T00:00:00Z' })).code).toBe('INVALID_ARGUMENT');
        expect((await grant({ period: 'ONE_WEEK', customEndDate: '2024-03-01T00:00:00Z' })).code).toBe('INVALID_ARGUMENT');
        expect((await grant({ period: 'FOREVER' })).code).toBe('INVALID_ARGUMENT');
        expect((await grant({})).code).toBe('INVALID_ARGUMENT');
        expect(await changeCount()).toBe(before);
        expect((await env.engine.getCustomer('c1')).promotionalEntitlements).toEqual([]);
      });

      it("INVALID_ARGUMENT for an entitlement that does not fit the feature's type", async () => {
        await bare();
        const before = await changeCount();
        const metered = await rejection(env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', value: 5 }] }));
        expect(metered.code).toBe('INVALID_ARGUMENT');
        const empty = await rejection(env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [] }));
        expect(empty.code).toBe('INVALID_ARGUMENT');
        expect(await changeCount()).toBe(before);
      });

      it('CUSTOMER_NOT_FOUND for an unknown or archived customer', async () => {
        const before = await changeCount();
        const err = await rejection(env.engine.grantPromotionalEntitlements({ customerId: 'ghost', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_MONTH' }] }));
        expect(err.code).toBe('CUSTOMER_NOT_FOUND');
        expect(await changeCount()).toBe(before);
        await bare();
        await env.engine.archiveCustomer('c1');
        expect((await rejection(env.engine.revokePromotionalEntitlements({ customerId: 'c1', featureId: 'sso' }))).code).toBe('CUSTOMER_NOT_FOUND');
      });
    });
  });
}
