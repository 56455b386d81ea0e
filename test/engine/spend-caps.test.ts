import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal, TesseraError, createEngine, usageSpend, type CatalogDefinition, type MeteredEntitlement, type ResolvedPrice } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

/**
 * Spend caps (docs/spend-caps.md), worked by hand. Plan `pro` bills monthly: API calls have a soft
 * limit of 1,000 a month, included (a free first tier), then 0.01 each; exports are unlimited at
 * 0.10 each. A cap of 5.00 therefore allows 500 calls above the 1,000 included.
 */
const callTiers = [{ upTo: 1000, unitAmount: '0' }, { upTo: null, unitAmount: '0.01' }];
const catalog: CatalogDefinition = {
  features: [
    { id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
    { id: 'exports', type: 'METERED' },
    { id: 'seats', type: 'METERED' },
    { id: 'sso', type: 'BOOLEAN' },
  ],
  products: [{ id: 'app' }],
  plans: [
    {
      id: 'pro',
      productId: 'app',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20.00' },
        { billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'api-calls', currency: 'USD', tiersMode: 'GRADUATED', tiers: callTiers },
        { billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'exports', currency: 'USD', amount: '0.10' },
      ],
      entitlements: [
        { featureId: 'api-calls', usageLimit: 1000, hasSoftLimit: true, resetPeriod: 'MONTH' },
        { featureId: 'exports', isUnlimited: true, resetPeriod: 'MONTH' },
        { featureId: 'seats', usageLimit: 10, resetPeriod: 'MONTH' },
        { featureId: 'sso' },
      ],
    },
  ],
};

type Env = Awaited<ReturnType<typeof engineOn>>;

const calls = (env: Env, requestedUsage?: number): Promise<MeteredEntitlement> =>
  env.engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls', ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }) });

async function setUp(env: Env): Promise<void> {
  await env.engine.provisionCustomer({ customerId: 'acme' });
  await env.engine.provisionSubscription({ customerId: 'acme', planId: 'pro', billingPeriod: 'MONTHLY' });
}

// Every store: caps live in idempotency records, usage is read per billing period.
for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog, start: '2024-03-01T00:00:00Z' });
      await setUp(env);
    });
    afterEach(() => env.cleanup());

    it('shows 4.00 spent and 1.00 remaining of a 5.00 cap at 1,400 calls (400 above the 1,000 included)', async () => {
      const set = await env.engine.setSpendCap({ customerId: 'acme', amount: '5.00' });
      expect(set).toEqual({ customerId: 'acme', featureId: null, amount: '5.00', currency: 'USD' });
      await env.engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1400 });
      const standing = { featureId: null, cap: '5.00', spent: '4.00', remaining: '1.00', currency: 'USD' };
      expect(await env.engine.getSpendCaps({ customerId: 'acme' })).toEqual([standing]);
      const check = await calls(env);
      expect(check.hasAccess).toBe(true);
      expect(check.spendCap).toEqual(standing);
      expect(check.currentUsage).toBe(1400);
    });

    it('allows a check of 100 more calls (5.00) and denies 101 (5.01) with SpendCapReached', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', amount: '5.00' });
      await env.engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1400 });
      expect((await calls(env, 100)).hasAccess).toBe(true);
      const denied = await calls(env, 101);
      expect(denied.hasAccess).toBe(false);
      expect(denied.accessDeniedReason).toBe('SpendCapReached');
      // Without the cap the soft limit lets 101 through.
      await env.engine.removeSpendCap({ customerId: 'acme' });
      const free = await calls(env, 101);
      expect(free.hasAccess).toBe(true);
      expect(free.spendCap).toBeUndefined();
    });

    it('refuses consumeUsage of 150 in REJECT mode and writes nothing; CAP grants the 100 the cap pays for', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', amount: '5.00' });
      await env.engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1400 });
      const e = await rejection(env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 150 }));
      expect(e.code).toBe('USAGE_LIMIT_EXCEEDED');
      expect(e.details).toMatchObject({ reason: 'SpendCapReached', available: 100, requested: 150 });
      expect((await calls(env)).currentUsage).toBe(1400);
      const capped = await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 150, overage: 'CAP' });
      expect(capped.granted).toBe(100);
      expect(capped.currentUsage).toBe(1500);
      const after = await calls(env, 1);
      expect(after.spendCap).toMatchObject({ spent: '5.00', remaining: '0.00' });
      expect(after.accessDeniedReason).toBe('SpendCapReached');
      // The cap bounds spend, not included usage: a request that costs nothing more still passes.
      expect((await calls(env, 0)).hasAccess).toBe(true);
    });

    it('bounds reservations: a hold counts as spend until released', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', amount: '5.00' });
      await env.engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1400 });
      const hold = await env.engine.reserveUsage({ customerId: 'acme', featureId: 'api-calls', amount: 150, overage: 'CAP', expiresIn: 60_000 });
      expect(hold.granted).toBe(100);
      const e = await rejection(env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 1 }));
      expect(e.details.reason).toBe('SpendCapReached');
      await env.engine.releaseReservation({ reservationId: hold.reservationId });
      expect((await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 60 })).granted).toBe(60);
    });

    it('records reported usage past the cap; further checks deny', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', amount: '5.00' });
      await env.engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1700 }); // 700 x 0.01 = 7.00
      expect((await calls(env)).currentUsage).toBe(1700);
      expect(await env.engine.getSpendCaps({ customerId: 'acme' })).toEqual([{ featureId: null, cap: '5.00', spent: '7.00', remaining: '0.00', currency: 'USD' }]);
      expect((await calls(env)).accessDeniedReason).toBe('SpendCapReached');
      const capped = await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 5, overage: 'CAP' });
      expect(capped.granted).toBe(0);
    });

    it('applies a per-feature cap to that feature only, and the customer cap to all usage together', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', featureId: 'exports', amount: '1.00' });
      // Unlimited exports at 0.10: ten fit in 1.00, the eleventh does not.
      expect((await env.engine.consumeUsage({ customerId: 'acme', featureId: 'exports', amount: 10 })).granted).toBe(10);
      expect((await rejection(env.engine.consumeUsage({ customerId: 'acme', featureId: 'exports', amount: 1 }))).details.reason).toBe('SpendCapReached');
      // API calls are not under the exports cap.
      expect((await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 1400 })).granted).toBe(1400);
      expect((await calls(env)).spendCap).toBeUndefined();
      // A customer cap of 5.00 counts both: 4.00 (calls) + 1.00 (exports) leaves nothing for calls.
      await env.engine.setSpendCap({ customerId: 'acme', amount: '5.00' });
      expect((await calls(env, 1)).accessDeniedReason).toBe('SpendCapReached');
      await env.engine.setSpendCap({ customerId: 'acme', amount: '5.50' }); // replaces the 5.00: 0.50 left, 50 calls
      expect((await calls(env, 50)).hasAccess).toBe(true);
      expect((await calls(env, 51)).hasAccess).toBe(false);
      const caps = await env.engine.getSpendCaps({ customerId: 'acme' });
      expect(caps).toEqual([
        { featureId: null, cap: '5.50', spent: '5.00', remaining: '0.50', currency: 'USD' },
        { featureId: 'exports', cap: '1.00', spent: '1.00', remaining: '0.00', currency: 'USD' },
      ]);
      // The check shows the cap with the least left: for exports, its own.
      const exportsCheck = await env.engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'exports' });
      expect(exportsCheck.spendCap).toEqual(caps[1]);
    });

    it('leaves a feature that no usage price charges unbounded', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', amount: '0' });
      expect((await env.engine.consumeUsage({ customerId: 'acme', featureId: 'seats', amount: 10 })).granted).toBe(10);
      expect((await env.engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'seats' })).spendCap).toBeUndefined();
      // A cap of 0 leaves the 1,000 included calls, and not one more.
      expect((await calls(env, 1000)).hasAccess).toBe(true);
      expect((await calls(env, 1001)).accessDeniedReason).toBe('SpendCapReached');
    });

    it('starts each billing period with nothing spent', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', amount: '5.00' });
      await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 1500 });
      expect((await calls(env, 1)).hasAccess).toBe(false);
      env.clock.set('2024-04-01T00:00:00Z');
      const april = await calls(env, 1500);
      expect(april.hasAccess).toBe(true);
      expect(april.spendCap).toMatchObject({ spent: '0.00', remaining: '5.00' });
      expect((await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 1600, overage: 'CAP' })).granted).toBe(1500);
    });

    it('refuses invalid caps and writes nothing', async () => {
      const seq = await env.engine.lastChangeSeq();
      const bad: [unknown, string][] = [
        [{ customerId: 'acme', amount: 5 }, 'INVALID_ARGUMENT'],
        [{ customerId: 'acme', amount: '1e3' }, 'INVALID_ARGUMENT'],
        [{ customerId: 'acme', amount: '-1.00' }, 'INVALID_ARGUMENT'],
        [{ customerId: 'acme', amount: ' 5' }, 'INVALID_ARGUMENT'],
        [{ customerId: 'acme', amount: '1000000000000000' }, 'INVALID_ARGUMENT'],
        [{ customerId: 'acme', amount: '5.00', currency: 'XXX' }, 'INVALID_ARGUMENT'],
        [{ customerId: 'acme', amount: '5.00', featureId: 'sso' }, 'INVALID_ARGUMENT'],
        [{ customerId: 'acme', amount: '5.00', featureId: 'nope' }, 'FEATURE_NOT_FOUND'],
        [{ customerId: 'acme', amount: '5.00', extra: 1 }, 'INVALID_ARGUMENT'],
        [{ customerId: 'nobody', amount: '5.00' }, 'CUSTOMER_NOT_FOUND'],
      ];
      for (const [params, code] of bad) {
        const e = await rejection(env.engine.setSpendCap(params as never));
        expect(e.code, JSON.stringify(params)).toBe(code);
      }
      // Without a subscription that bills usage, the currency must be given.
      await env.engine.provisionCustomer({ customerId: 'solo' });
      const seqSolo = await env.engine.lastChangeSeq();
      expect((await rejection(env.engine.setSpendCap({ customerId: 'solo', amount: '5.00' }))).details.field).toBe('setSpendCap.currency');
      expect(await env.engine.lastChangeSeq()).toBe(seqSolo);
      expect(seqSolo).toBe(seq + 1);
      expect(await env.engine.getSpendCaps({ customerId: 'acme' })).toEqual([]);
      expect(await env.engine.setSpendCap({ customerId: 'solo', amount: '5', currency: 'EUR' })).toMatchObject({ amount: '5', currency: 'EUR' });
      expect(await env.engine.getSpendCaps({ customerId: 'solo' })).toEqual([{ featureId: null, cap: '5.00', spent: '0.00', remaining: '5.00', currency: 'EUR' }]);
    });

    // The memory store has no second handle on its data.
    if (factory.name !== 'memory') it('enforces a cap another engine on the same store set (read fresh in the write transaction)', async () => {
      const other = await createEngine({ store: env.reopen!(), catalog, clock: env.clock });
      try {
        await other.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1400 });
        expect((await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 150 })).granted).toBe(150); // warms env's view, no cap yet
        await other.setSpendCap({ customerId: 'acme', amount: '6.00' }); // 5.50 spent: 50 calls left
        const e = await rejection(env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 51 }));
        expect(e.details).toMatchObject({ reason: 'SpendCapReached', available: 50 });
        expect((await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 51, overage: 'CAP' })).granted).toBe(50);
      } finally {
        await other.close();
      }
    });

    it('removes a cap once; removing again reports nothing removed', async () => {
      await env.engine.setSpendCap({ customerId: 'acme', amount: '1.00', featureId: 'exports' });
      expect(await env.engine.removeSpendCap({ customerId: 'acme', featureId: 'exports' })).toEqual({ customerId: 'acme', featureId: 'exports', removed: true });
      expect(await env.engine.removeSpendCap({ customerId: 'acme', featureId: 'exports' })).toEqual({ customerId: 'acme', featureId: 'exports', removed: false });
      expect(await env.engine.getSpendCaps({ customerId: 'acme' })).toEqual([]);
    });
  });
}

describe('spend cap property', () => {
  const prices = [{ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'api-calls', currency: 'USD', tiersMode: 'GRADUATED', tiers: callTiers, billingCountryCode: null }] as ResolvedPrice[];
  const arbConsumption = fc.record({ amount: fc.integer({ min: 0, max: 400 }), overage: fc.constantFrom('REJECT' as const, 'CAP' as const) });

  it('random consumptions never push the priced spend past the cap (and spend is the invoice price of the usage)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 800 }).map((cents) => new Decimal(cents).div(100)), fc.array(arbConsumption, { minLength: 1, maxLength: 12 }), async (cap, steps) => {
        const env = await engineOn(storeFactories()[0]!, { catalog, start: '2024-03-01T00:00:00Z' });
        try {
          await setUp(env);
          await env.engine.setSpendCap({ customerId: 'acme', amount: cap.toFixed(2) });
          let usage = 0;
          for (const step of steps) {
            try {
              usage += (await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', ...step })).granted;
            } catch (e) {
              expect((e as TesseraError).details.reason).toBe('SpendCapReached');
              // REJECT refused only what would have passed the cap.
              expect(usageSpend(prices, usage + step.amount, 'USD').gt(cap)).toBe(true);
            }
            const spent = usageSpend(prices, usage, 'USD');
            expect(spent.lte(cap)).toBe(true);
            const [shown] = await env.engine.getSpendCaps({ customerId: 'acme' });
            expect(shown!.spent).toBe(spent.toFixed(2));
          }
          // CAP takes everything that fits: one more call would pass the cap (or costs nothing).
          const last = await env.engine.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 10_000, overage: 'CAP' });
          expect(usageSpend(prices, usage + last.granted + 1, 'USD').gt(cap)).toBe(true);
        } finally {
          await env.cleanup();
        }
      }),
      { numRuns: 25 },
    );
  });
});
