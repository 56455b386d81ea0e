import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decimal, TesseraError, type CreditBalanceUpdatedEvent } from '@tessera/core';
import { creditsCatalog } from './credits-catalog.js';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

// ai-credits cost $0.01 each (test/engine/credits-catalog.ts).
const CUR = 'ai-credits';

type Config = Parameters<Env['engine']['saveAutomaticRechargeConfiguration']>[0];

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: creditsCatalog });
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const save = (config: Partial<Config> = {}) =>
      env.engine.saveAutomaticRechargeConfiguration({
        customerId: 'c1',
        currencyId: CUR,
        isEnabled: true,
        thresholdType: 'CREDIT_AMOUNT',
        thresholdValue: '100',
        targetBalance: '1000',
        ...config,
      });
    const grant = (amount: string, extra: { expiresAt?: string } = {}) => env.engine.grantCredits({ customerId: 'c1', currencyId: CUR, amount, ...extra });
    const consume = (amount: string) => env.engine.consumeCredits({ customerId: 'c1', currencyId: CUR, amount });
    const balance = async () => (await env.engine.getCreditBalance({ customerId: 'c1', currencyId: CUR })).balance;
    const recharges = async () => (await env.engine.getInvoices({ customerId: 'c1' })).filter((i) => i.kind === 'RECHARGE');
    const rechargeEntries = async () =>
      (await env.engine.getCreditLedger({ customerId: 'c1', currencyId: CUR, first: 1000 })).data.filter((e) => e.kind === 'RECHARGE').map((e) => e.amount);

    describe('configuration', () => {
      it('saves and reads back the configuration; another customer has none', async () => {
        const saved = await save({ maxSpendLimit: '25.00', grantExpirationPeriod: 'ONE_MONTH' });
        expect(saved).toMatchObject({
          customerId: 'c1',
          currencyId: CUR,
          isEnabled: true,
          thresholdType: 'CREDIT_AMOUNT',
          thresholdValue: '100',
          targetBalance: '1000',
          maxSpendLimit: '25.00',
          grantExpirationPeriod: 'ONE_MONTH',
        });
        expect(await env.engine.getAutomaticRechargeConfiguration({ customerId: 'c1', currencyId: CUR })).toEqual(saved);
        await env.engine.provisionCustomer({ customerId: 'c2' });
        expect(await env.engine.getAutomaticRechargeConfiguration({ customerId: 'c2', currencyId: CUR })).toBeNull();
        // Saving again replaces it whole.
        await save({ isEnabled: false });
        expect(await env.engine.getAutomaticRechargeConfiguration({ customerId: 'c1', currencyId: CUR })).toMatchObject({ isEnabled: false, maxSpendLimit: null, grantExpirationPeriod: null });
      });

      it('refuses configurations that could not lift the balance, a zero spend limit and malformed fields, storing nothing', async () => {
        const field = async (config: Partial<Config>) => {
          const err = await rejection(save(config));
          expect(err.code, JSON.stringify(config)).toBe('INVALID_ARGUMENT');
          return String(err.details?.field);
        };
        // A target at the threshold could never lift the balance above it.
        expect(await field({ thresholdValue: '100', targetBalance: '100' })).toContain('targetBalance');
        // 1,000 credits at $0.01 are worth $10.00: not more than a $10.00 threshold.
        expect(await field({ thresholdType: 'DOLLAR_AMOUNT', thresholdValue: '10.00', targetBalance: '1000' })).toContain('targetBalance');
        expect(await field({ maxSpendLimit: '0' })).toContain('maxSpendLimit');
        expect(await field({ maxSpendLimit: '-5.00' })).toContain('maxSpendLimit');
        // A currency without a unit price cannot be recharged.
        expect(await field({ currencyId: 'bonus-points' })).toContain('currencyId');
        expect(await field({ currencyId: 'gold' })).toContain('currencyId');
        expect(await field({ thresholdType: 'PERCENT' as never })).toContain('thresholdType');
        expect(await field({ thresholdValue: '-1' })).toContain('thresholdValue');
        expect(await field({ targetBalance: '1e3' })).toContain('targetBalance');
        expect(await field({ grantExpirationPeriod: 'ONE_WEEK' as never })).toContain('grantExpirationPeriod');
        expect(await field({ isEnabled: undefined as never })).toContain('isEnabled');
        const ghost = await rejection(save({ customerId: 'ghost' }));
        expect(ghost.code).toBe('CUSTOMER_NOT_FOUND');
        expect(await env.engine.getAutomaticRechargeConfiguration({ customerId: 'c1', currencyId: CUR })).toBeNull();
      });

      it('reading the configuration of an unknown or archived customer is CUSTOMER_NOT_FOUND', async () => {
        await save();
        expect((await rejection(env.engine.getAutomaticRechargeConfiguration({ customerId: 'ghost', currencyId: CUR }))).code).toBe('CUSTOMER_NOT_FOUND');
        await env.engine.archiveCustomer('c1');
        expect((await rejection(env.engine.getAutomaticRechargeConfiguration({ customerId: 'c1', currencyId: CUR }))).code).toBe('CUSTOMER_NOT_FOUND');
      });
    });

    describe('recharging', () => {
      it('does nothing exactly at the threshold and recharges 1 credit below it, up to the target, with a RECHARGE invoice', async () => {
        await save();
        await grant('150');
        expect(await consume('50')).toEqual({ burnt: '50', balance: '100' });
        // Exactly at the threshold of 100: nothing happens (docs/credits.md: strictly below).
        expect(await recharges()).toEqual([]);
        expect(await rechargeEntries()).toEqual([]);
        // 99 < 100: ceil(1000 - 99) = 901 credits at $0.01 = $9.01.
        expect(await consume('1')).toEqual({ burnt: '1', balance: '1000' });
        const [invoice, ...more] = await recharges();
        expect(more).toEqual([]);
        expect(invoice).toMatchObject({ customerId: 'c1', subscriptionId: null, kind: 'RECHARGE', currency: 'USD', subTotal: '9.01', total: '9.01' });
        expect(invoice!.createdAt).toEqual(new Date('2024-01-31T10:00:00Z'));
        expect(invoice!.lines).toMatchObject([{ amount: '9.01', currency: 'USD', quantity: 901 }]);
        expect(await rechargeEntries()).toEqual(['901']);
        const bought = (await env.engine.getCreditGrants({ customerId: 'c1', currencyId: CUR })).at(-1)!;
        expect(bought).toMatchObject({ category: 'PAID', amount: '901', remaining: '901', priority: 100, expiresAt: null });
        expect(await balance()).toBe('1000');
      });

      it('buys whole credits: from 99.5 it buys ceil(900.5) = 901, ending 0.5 above the target', async () => {
        await save();
        await grant('150');
        expect(await consume('50.5')).toEqual({ burnt: '50.5', balance: '1000.5' });
        expect((await recharges()).map((i) => i.total)).toEqual(['9.01']);
      });

      it('a DOLLAR_AMOUNT threshold compares the balance x $0.01 exactly: $1.00 is not below $1.00, $0.995 is', async () => {
        await save({ thresholdType: 'DOLLAR_AMOUNT', thresholdValue: '1.00', targetBalance: '500' });
        await grant('200');
        await consume('100');
        expect(await balance()).toBe('100');
        expect(await recharges()).toEqual([]);
        // 99.5 credits are worth $0.995 < $1.00: ceil(500 - 99.5) = 401 credits for $4.01.
        await consume('0.5');
        expect(await balance()).toBe('500.5');
        expect((await recharges()).map((i) => i.total)).toEqual(['4.01']);
        expect(await rechargeEntries()).toEqual(['401']);
      });

      it('recharged credits expire one calendar month later with ONE_MONTH (Jan 31 -> Feb 29)', async () => {
        await save({ grantExpirationPeriod: 'ONE_MONTH' });
        await grant('100');
        await consume('1');
        const bought = (await env.engine.getCreditGrants({ customerId: 'c1', currencyId: CUR })).at(-1)!;
        expect(bought).toMatchObject({ amount: '901' });
        expect(bought.expiresAt).toEqual(new Date('2024-02-29T10:00:00Z'));
      });

      it('usage of a feature that costs credits triggers it too: 10 tokens burn 20 of 110, then 910 are bought', async () => {
        await save();
        await grant('110');
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-tokens', value: 10 });
        expect(await balance()).toBe('1000');
        expect((await recharges()).map((i) => i.total)).toEqual(['9.10']);
      });

      it('creditBalanceUpdated carries the balance after the recharge', async () => {
        await save();
        await grant('100');
        const seen: CreditBalanceUpdatedEvent[] = [];
        env.engine.on('creditBalanceUpdated', (e) => seen.push(e));
        await consume('30');
        expect(seen.map((e) => e.balance)).toEqual(['1000']);
      });

      it('a disabled configuration does nothing', async () => {
        await save({ isEnabled: false });
        await grant('150');
        await consume('149');
        expect(await balance()).toBe('1');
        expect(await recharges()).toEqual([]);
        expect(await rechargeEntries()).toEqual([]);
      });

      it('tick recharges a balance that fell below the threshold by expiry (docs/credits.md: asked after every burn and on tick)', async () => {
        await save();
        await grant('50');
        await grant('500', { expiresAt: '2024-02-10T00:00:00Z' });
        env.clock.set('2024-02-10T00:00:00Z');
        expect(await balance()).toBe('50');
        await env.engine.tick();
        // ceil(1000 - 50) = 950 credits for $9.50.
        expect(await balance()).toBe('1000');
        expect((await recharges()).map((i) => i.total)).toEqual(['9.50']);
      });
    });

    describe('the monthly spend limit', () => {
      it('$25.00 a month: two full $10.00 recharges, a third of 500 credits for the $5.00 left, a fourth of none; March starts afresh', async () => {
        env.clock.set('2024-02-10T12:00:00Z');
        await save({ maxSpendLimit: '25.00' });
        await grant('1000');
        // Each empties the balance: the full recharge is 1,000 credits for $10.00.
        expect(await consume('1000')).toEqual({ burnt: '1000', balance: '1000' });
        expect(await consume('1000')).toEqual({ burnt: '1000', balance: '1000' });
        // $20.00 spent, $5.00 left: the largest whole number of credits whose cost fits is 500.
        expect(await consume('1000')).toEqual({ burnt: '1000', balance: '500' });
        // Nothing left this month: no recharge, no invoice; the balance stays below the threshold.
        expect(await consume('500')).toEqual({ burnt: '500', balance: '0' });
        const feb = await recharges();
        expect(feb.map((i) => i.total)).toEqual(['10.00', '10.00', '5.00']);
        expect(await rechargeEntries()).toEqual(['1000', '1000', '500']);
        expect(feb.reduce((a, i) => a.plus(i.total), new Decimal(0)).lte('25.00')).toBe(true);

        // The limit counts per UTC calendar month: from Mar 1 00:00 a full recharge fits again.
        env.clock.set('2024-03-01T00:00:00Z');
        await grant('2');
        expect(await consume('2')).toEqual({ burnt: '2', balance: '1000' });
        const all = await recharges();
        expect(all.map((i) => [i.total, i.createdAt.toISOString()])).toEqual([
          ['10.00', '2024-02-10T12:00:00.000Z'],
          ['10.00', '2024-02-10T12:00:00.000Z'],
          ['5.00', '2024-02-10T12:00:00.000Z'],
          ['10.00', '2024-03-01T00:00:00.000Z'],
        ]);
      });

      it('the last instant of February still counts against February', async () => {
        env.clock.set('2024-02-29T23:59:59.999Z');
        await save({ maxSpendLimit: '10.00' });
        await grant('1000');
        await consume('1000');
        await consume('1000');
        // The first recharge spent the whole $10.00.
        expect(await balance()).toBe('0');
        expect((await recharges()).map((i) => i.total)).toEqual(['10.00']);
      });
    });
  });
}
