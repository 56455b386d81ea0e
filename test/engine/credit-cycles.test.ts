import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, Decimal, defineCatalog, TesseraError, type CatalogDefinition } from '@tessera/core';
import { cycleCatalog } from './credit-cycles-catalog.js';
import { engineOn, storeFactories } from './stores.js';

type Env = Awaited<ReturnType<typeof engineOn>>;
type Engine = Env['engine'];

const AI = 'ai-credits';
const BONUS = 'bonus-points';

/** Every ledger entry of a customer in a currency, following the pages. */
async function ledger(engine: Engine, currencyId = AI, customerId = 'c1') {
  const out: { grantId: string; kind: string; amount: string; at: Date; reference: string | null }[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await engine.getCreditLedger({ customerId, currencyId, first: 100, ...(after === undefined ? {} : { after }) });
    out.push(...page.data);
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor!;
  }
}

const sum = (xs: readonly string[]) => xs.reduce((a, x) => a.plus(x), new Decimal(0)).toFixed();

/** The balance must equal the sum of the live grants' remaining; the ledger must sum to every grant's remaining. */
async function expectBalanced(engine: Engine, currencyId = AI): Promise<void> {
  const grants = await engine.getCreditGrants({ customerId: 'c1', currencyId });
  const entries = await ledger(engine, currencyId);
  for (const g of grants) expect(sum(entries.filter((e) => e.grantId === g.id).map((e) => e.amount)), g.id).toBe(g.remaining);
  expect(sum(entries.map((e) => e.amount))).toBe(sum(grants.map((g) => g.remaining)));
}

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    const balance = async (currencyId = AI) => (await env.engine.getCreditBalance({ customerId: 'c1', currencyId })).balance;
    beforeEach(async () => {
      // Mid-month, so the monthly cycles start on the 15th at 10:00 UTC.
      env = await engineOn(factory, { catalog: cycleCatalog, start: '2024-01-15T10:00:00Z' });
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    describe('a yearly plan granting 1,000 credits every month, rollover up to 500', () => {
      let subscriptionId: string;
      beforeEach(async () => {
        subscriptionId = (await env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'ANNUALLY' })).id;
      });

      it('grants 1,000 at provisioning, expiring at the end of the first month', async () => {
        expect(await balance()).toBe('1000');
        const [grant] = await env.engine.getCreditGrants({ customerId: 'c1', currencyId: AI });
        expect(grant).toMatchObject({ amount: '1000', remaining: '1000', category: 'PAID', priority: 100, expiresAt: new Date('2024-02-15T10:00:00Z') });
        expect(grant!.createdAt).toEqual(new Date('2024-01-15T10:00:00Z'));
      });

      it('after a month with 300 burnt: 1,000 new + min(700, 500) = 500 rolled = 1,500; 200 expired', async () => {
        await env.engine.consumeCredits({ customerId: 'c1', currencyId: AI, amount: '300' });
        expect(await balance()).toBe('700');
        env.clock.set('2024-02-15T10:00:00Z');
        const t = await env.engine.tick();
        expect(t.creditsMaintained).toBeGreaterThanOrEqual(1);
        expect(await balance()).toBe('1500');
        const entries = await ledger(env.engine);
        const first = entries[0]!.grantId;
        // The first cycle's grant: +1000, -300 burnt, -500 moved into the rollover grant, -200 expired.
        expect(entries.filter((e) => e.grantId === first).map((e) => [e.kind, e.amount])).toEqual([
          ['GRANT', '1000'],
          ['BURN', '-300'],
          ['EXPIRE', '-500'],
          ['EXPIRE', '-200'],
        ]);
        const rollover = entries.find((e) => e.grantId.endsWith(':rollover'))!;
        expect(rollover).toMatchObject({ kind: 'GRANT', amount: '500', reference: `rollover:${first}`, at: new Date('2024-02-15T10:00:00Z') });
        expect(entries.find((e) => e.kind === 'EXPIRE' && e.amount === '-500')!.reference).toBe(`rollover:${rollover.grantId}`);
        const grants = await env.engine.getCreditGrants({ customerId: 'c1', currencyId: AI });
        const active = grants.filter((g) => g.status === 'ACTIVE').map((g) => [g.amount, g.expiresAt?.toISOString()]);
        expect(active.sort()).toEqual([
          ['1000', '2024-03-15T10:00:00.000Z'],
          ['500', '2024-03-15T10:00:00.000Z'],
        ]);
        await expectBalanced(env.engine);
      });

      it('a second tick, and a tick in another process, issue nothing more', async () => {
        env.clock.set('2024-02-20T00:00:00Z');
        await env.engine.tick();
        const count = (await ledger(env.engine)).length;
        await env.engine.tick();
        if (env.reopen) {
          // A second engine on the same database, at the same instant.
          const other = await createEngine({ store: env.reopen(), catalog: cycleCatalog, clock: env.clock });
          try {
            await Promise.all([other.tick(), env.engine.tick(), other.consumeCredits({ customerId: 'c1', currencyId: AI, amount: '1' })]);
          } finally {
            await other.close();
          }
          expect((await ledger(env.engine)).length).toBe(count + 1);
        } else {
          expect((await ledger(env.engine)).length).toBe(count);
        }
        // 1,000 (rolled 1,000 capped at 500) + 1,000 new, minus the 1 burnt when there was a second process.
        expect(await balance()).toBe(env.reopen ? '1499' : '1500');
        await expectBalanced(env.engine);
      });

      it('reads and burns see a due cycle before any tick, and a later tick writes nothing twice', async () => {
        // A cached view of the customer, from before the cycle's start.
        expect(await env.engine.getCreditEntitlement({ customerId: 'c1', currencyId: AI })).toMatchObject({ hasAccess: true, balance: '1000' });
        env.clock.set('2024-02-15T10:00:00Z');
        expect(await balance()).toBe('1500');
        expect(await env.engine.getCreditEntitlement({ customerId: 'c1', currencyId: AI, options: { requestedAmount: 1500 } })).toMatchObject({ hasAccess: true, balance: '1500' });
        // The burn issues the cycle first (its rollover took what the old grant held), then burns.
        expect(await env.engine.consumeCredits({ customerId: 'c1', currencyId: AI, amount: '1200' })).toEqual({ burnt: '1200', balance: '300' });
        const count = (await ledger(env.engine)).length;
        await env.engine.tick();
        expect((await ledger(env.engine)).length).toBe(count);
        expect(await balance()).toBe('300');
        await expectBalanced(env.engine);
      });

      it('consumeUsage and reserveUsage of a feature costing credits pay with a cycle started since the last tick', async () => {
        env.clock.set('2024-02-15T10:00:00Z');
        // 700 tokens at 2 credits each = 1,400 of the 1,500 (1,000 new + 500 rolled over).
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-tokens', amount: 700 });
        expect(await balance()).toBe('100');
        env.clock.set('2024-03-15T10:00:00Z');
        // 1,000 new + min(100, 500) rolled = 1,100: a hold of 550 tokens is payable, 551 would not be.
        const held = await env.engine.reserveUsage({ customerId: 'c1', featureId: 'ai-tokens', amount: 551, overage: 'CAP', expiresIn: 60_000 });
        expect(held.granted).toBe(550);
        await expectBalanced(env.engine);
      });

      it('a catch-up after three months issues each missed cycle once, chaining the rollovers', async () => {
        env.clock.set('2024-04-20T00:00:00Z');
        await env.engine.tick();
        const grants = await env.engine.getCreditGrants({ customerId: 'c1', currencyId: AI });
        // Cycles Jan 15, Feb 15, Mar 15, Apr 15, each with its rollover grant after the first.
        expect(grants.filter((g) => !g.id.endsWith(':rollover'))).toHaveLength(4);
        expect(grants.filter((g) => g.id.endsWith(':rollover')).map((g) => g.amount)).toEqual(['500', '500', '500']);
        expect(await balance()).toBe('1500');
        await expectBalanced(env.engine);
      });

      it('never-expiring weekly bonus points add up and stay', async () => {
        expect(await balance(BONUS)).toBe('10');
        env.clock.set('2024-02-06T10:00:00Z');
        await env.engine.tick();
        // Cycles from Jan 15, 22, 29 and Feb 5: 4 x 10, none expired.
        expect(await balance(BONUS)).toBe('40');
        expect((await ledger(env.engine, BONUS)).every((e) => e.kind === 'GRANT')).toBe(true);
        await expectBalanced(env.engine, BONUS);
      });

      it('a cancelled subscription stops granting', async () => {
        env.clock.set('2024-01-20T00:00:00Z');
        await env.engine.cancelSubscription({ subscriptionId, cancellationTime: 'IMMEDIATE' });
        env.clock.set('2024-03-20T00:00:00Z');
        await env.engine.tick();
        // The January grant expired on Feb 15 and none followed; one week of bonus points stays.
        expect(await balance()).toBe('0');
        expect(await balance(BONUS)).toBe('10');
        expect(await env.engine.getCreditGrants({ customerId: 'c1', currencyId: AI })).toHaveLength(1);
        await expectBalanced(env.engine);
      });
    });

    it('a plan change in place issues what the old plan was owed, then the new plan’s grants from the current cycle', async () => {
      const { id } = await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
      env.clock.set('2024-01-20T12:00:00Z');
      await env.engine.updateSubscription({ subscriptionId: id, planId: 'pro' });
      // basic's day from Jan 20 10:00 (100, the earlier days expired) + pro's month from Jan 15 10:00 (1,000).
      expect(await balance()).toBe('1100');
      expect(await balance(BONUS)).toBe('10');
      const days = (await env.engine.getCreditGrants({ customerId: 'c1', currencyId: AI })).filter((g) => g.id.includes(':DAY:'));
      expect(days).toHaveLength(6);
      env.clock.set('2024-01-21T12:00:00Z');
      await env.engine.tick();
      // No more daily credits: basic is gone.
      expect(await balance()).toBe('1000');
      expect((await env.engine.getCreditGrants({ customerId: 'c1', currencyId: AI })).filter((g) => g.id.includes(':DAY:'))).toHaveLength(6);
      await expectBalanced(env.engine);
    });

    it('daily promotional credits expire each day without rollover; an add-on grants per unit held', async () => {
      await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 2 }] });
      // 100 for the day + 20 x 2 seats for the month (never expiring).
      expect(await balance()).toBe('140');
      await env.engine.consumeCredits({ customerId: 'c1', currencyId: AI, amount: '30' });
      // PROMOTIONAL priority 5 burns first: the day's grant holds 70.
      env.clock.set('2024-01-17T12:00:00Z');
      await env.engine.tick();
      // The Jan 16 and Jan 17 days (100 each, the first expired) + 40.
      expect(await balance()).toBe('140');
      const entries = await ledger(env.engine);
      expect(entries.filter((e) => e.kind === 'EXPIRE').map((e) => e.amount)).toEqual(['-70', '-100']);
      env.clock.set('2024-02-15T10:00:00Z');
      await env.engine.tick();
      // The add-on's second month: 80 in all, + today's 100.
      expect(await balance()).toBe('180');
      await expectBalanced(env.engine);
    });
  });
}

describe('catalog', () => {
  const withGrants = (grants: unknown): CatalogDefinition => {
    const c = structuredClone(cycleCatalog);
    c.plans.find((p) => p.id === 'pro')!.creditGrants = grants as never;
    return c;
  };
  const problems = (c: CatalogDefinition): string[] => {
    try {
      defineCatalog(c);
    } catch (e) {
      expect(e).toBeInstanceOf(TesseraError);
      return ((e as TesseraError).details as { problems: { path: string }[] }).problems.map((p) => p.path);
    }
    return [];
  };

  it('accepts the shapes the tests use', () => {
    expect(problems(cycleCatalog)).toEqual([]);
  });

  it('refuses an unknown currency, a zero amount, a missing cadence, a rollover on credits that never expire, and a repeat', () => {
    const index = (i: number, f = '') => `plans[2].creditGrants[${i}]${f}`;
    expect(problems(withGrants([{ currencyId: 'gold', amount: '1', cadence: 'MONTH' }]))).toContain(index(0, '.currencyId'));
    expect(problems(withGrants([{ currencyId: AI, amount: '0', cadence: 'MONTH' }]))).toContain(index(0, '.amount'));
    expect(problems(withGrants([{ currencyId: AI, amount: '1' }]))).toContain(index(0, '.cadence'));
    expect(problems(withGrants([{ currencyId: AI, amount: '1', cadence: 'MONTH', expires: 'NEVER', rollover: { max: '1' } }]))).toContain(index(0, '.rollover'));
    expect(problems(withGrants([{ currencyId: AI, amount: '1.0000000000001', cadence: 'MONTH' }]))).toContain(index(0, '.amount'));
    expect(problems(withGrants([{ currencyId: AI, amount: '1', cadence: 'MONTH', priority: 0 }]))).toContain(index(0, '.priority'));
    expect(problems(withGrants([{ currencyId: AI, amount: '1', cadence: 'MONTH', extra: true }]))).toContain(index(0, '.extra'));
    expect(
      problems(
        withGrants([
          { currencyId: AI, amount: '1', cadence: 'MONTH' },
          { currencyId: AI, amount: '2', cadence: 'MONTH', category: 'PROMOTIONAL' },
        ]),
      ),
    ).toContain(index(1));
  });
});
