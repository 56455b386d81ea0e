import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decimal, TesseraError, type CreditBalanceUpdatedEvent, type MeteredEntitlement } from '@tessera/core';
import { creditsCatalog } from './credits-catalog.js';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

const CUR = 'ai-credits';

/** The error code a call rejects with, or 'resolved'. */
const outcomeOf = (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'resolved',
    (e: unknown) => (e instanceof TesseraError ? e.code : String(e)),
  );

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: creditsCatalog });
      // On the free plan, which gives ai-tokens (2 credits a token) without limit.
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const grant = (amount: string, extra: { category?: 'PAID' | 'PROMOTIONAL'; expiresAt?: string; priority?: number; idempotencyKey?: string } = {}, customerId = 'c1') =>
      env.engine.grantCredits({ customerId, currencyId: CUR, amount, ...extra });
    const balance = async (customerId = 'c1') => (await env.engine.getCreditBalance({ customerId, currencyId: CUR })).balance;
    const consume = (amount: string, idempotencyKey?: string, customerId = 'c1') =>
      env.engine.consumeCredits({ customerId, currencyId: CUR, amount, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
    const remaining = async (customerId = 'c1') => Object.fromEntries((await env.engine.getCreditGrants({ customerId, currencyId: CUR })).map((g) => [g.id, g.remaining]));
    /** Every ledger entry of the customer in the currency, following the pages. */
    const ledger = async (customerId = 'c1') => {
      const out: { grantId: string; kind: string; amount: string; at: Date; reference: string | null }[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await env.engine.getCreditLedger({ customerId, currencyId: CUR, first: 3, ...(after === undefined ? {} : { after }) });
        out.push(...page.data);
        if (!page.pageInfo.hasNextPage) return out;
        after = page.pageInfo.endCursor!;
      }
    };
    const sum = (amounts: string[]) => amounts.reduce((a, x) => a.plus(x), new Decimal(0)).toFixed();
    const changeCount = async () => (await env.engine.getChanges({ limit: 10_000 })).length;
    const tokens = async (requestedUsage: number) =>
      (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'ai-tokens', options: { requestedUsage } })) as MeteredEntitlement;

    describe('grants and balance', () => {
      it('grants 100 PAID credits with the default priority 100 and no expiry', async () => {
        const g = await grant('100');
        expect(g).toMatchObject({ customerId: 'c1', currencyId: CUR, category: 'PAID', amount: '100', remaining: '100', priority: 100, expiresAt: null, voidedAt: null, status: 'ACTIVE' });
        expect(g.createdAt).toEqual(new Date('2024-01-31T10:00:00Z'));
        expect(await balance()).toBe('100');
        expect(await env.engine.getCreditBalance({ customerId: 'c1', currencyId: CUR })).toEqual({ customerId: 'c1', currencyId: CUR, balance: '100' });
        expect((await ledger()).map((e) => [e.grantId, e.kind, e.amount])).toEqual([[g.id, 'GRANT', '100']]);
      });

      it('lists grants oldest first and keeps amounts exact: 0.0001 + 10 = 10.0001', async () => {
        const a = await grant('10');
        env.clock.advance(1000);
        const b = await grant('0.0001', { category: 'PROMOTIONAL', priority: 5, expiresAt: '2024-06-01T00:00:00Z' });
        const grants = await env.engine.getCreditGrants({ customerId: 'c1' });
        expect(grants.map((g) => g.id)).toEqual([a.id, b.id]);
        expect(grants[1]).toMatchObject({ category: 'PROMOTIONAL', amount: '0.0001', priority: 5, expiresAt: new Date('2024-06-01T00:00:00Z') });
        expect(await balance()).toBe('10.0001');
        expect(await consume('0.0001')).toEqual({ burnt: '0.0001', balance: '10' });
      });

      it('refuses malformed amounts, unknown currencies, past expiries and bad priorities (INVALID_ARGUMENT), writing nothing', async () => {
        const before = await changeCount();
        for (const amount of ['1e3', '-1', '0', '0.0000000000001', 'ten', '']) {
          const err = await rejection(grant(amount));
          expect(err.code, amount).toBe('INVALID_ARGUMENT');
        }
        expect((await rejection(env.engine.grantCredits({ customerId: 'c1', currencyId: 'gold', amount: '1' }))).code).toBe('INVALID_ARGUMENT');
        expect((await rejection(grant('1', { expiresAt: '2024-01-31T10:00:00Z' }))).code).toBe('INVALID_ARGUMENT');
        expect((await rejection(grant('1', { priority: 0 }))).code).toBe('INVALID_ARGUMENT');
        expect((await rejection(grant('1', { priority: 1.5 }))).code).toBe('INVALID_ARGUMENT');
        expect((await rejection(grant('1', {}, 'ghost'))).code).toBe('CUSTOMER_NOT_FOUND');
        expect(await changeCount()).toBe(before);
        expect(await balance()).toBe('0');
      });

      it('refuses a JSON number as an amount to grant or consume (docs/credits.md: amounts are decimal strings)', async () => {
        // A number is what an untyped (JSON) caller may send; the types already say string.
        const err = await rejection(env.engine.grantCredits({ customerId: 'c1', currencyId: CUR, amount: 10 as unknown as string }));
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(String(err.details?.field)).toContain('amount');
        expect(await balance()).toBe('0');
        await grant('100');
        const burn = await rejection(env.engine.consumeCredits({ customerId: 'c1', currencyId: CUR, amount: 10 as unknown as string }));
        expect(burn.code).toBe('INVALID_ARGUMENT');
        expect(await balance()).toBe('100');
      });

      it('replays a grant with the same idempotency key: one grant of 100, not two', async () => {
        const first = await grant('100', { idempotencyKey: 'g-1' });
        const again = await grant('100', { idempotencyKey: 'g-1' });
        expect(again.id).toBe(first.id);
        expect(await balance()).toBe('100');
        expect(await env.engine.getCreditGrants({ customerId: 'c1' })).toHaveLength(1);
        // Keys are per customer.
        await env.engine.provisionCustomer({ customerId: 'c2' });
        await grant('7', { idempotencyKey: 'g-1' }, 'c2');
        expect(await balance('c2')).toBe('7');
      });
    });

    describe('burn order', () => {
      it('burns the earlier expiry first: A 30 (Mar 1) and B 50 (Apr 1, older), 40 on Feb 10 leaves A 0 and B 40', async () => {
        const b = await grant('50', { expiresAt: '2024-04-01T00:00:00Z' });
        env.clock.advance({ days: 1 });
        const a = await grant('30', { expiresAt: '2024-03-01T00:00:00Z' });
        env.clock.set('2024-02-10T00:00:00Z');
        expect(await consume('40', 'burn-40')).toEqual({ burnt: '40', balance: '40' });
        expect(await remaining()).toEqual({ [b.id]: '40', [a.id]: '0' });
        expect((await env.engine.getCreditGrants({ customerId: 'c1', currencyId: CUR })).find((g) => g.id === a.id)?.status).toBe('DEPLETED');
        expect((await ledger()).map((e) => [e.grantId, e.kind, e.amount, e.reference])).toEqual([
          [b.id, 'GRANT', '50', null],
          [a.id, 'GRANT', '30', null],
          [a.id, 'BURN', '-30', 'burn-40'],
          [b.id, 'BURN', '-10', 'burn-40'],
        ]);
      });

      it('a grant expiring mid-period stops counting exactly at expiresAt, with no job', async () => {
        const short = await grant('30', { expiresAt: '2024-02-15T00:00:00Z' });
        const long = await grant('50');
        env.clock.set(Date.parse('2024-02-15T00:00:00Z') - 1);
        expect(await balance()).toBe('80');
        expect(await env.engine.getCreditEntitlement({ customerId: 'c1', currencyId: CUR, options: { requestedAmount: 80 } })).toMatchObject({ hasAccess: true, balance: '80' });
        env.clock.advance(1);
        expect(await balance()).toBe('50');
        expect(await env.engine.getCreditEntitlement({ customerId: 'c1', currencyId: CUR, options: { requestedAmount: 80 } })).toMatchObject({
          hasAccess: false,
          balance: '50',
          accessDeniedReason: 'InsufficientCredits',
        });
        expect((await env.engine.getCreditGrants({ customerId: 'c1' })).find((g) => g.id === short.id)?.status).toBe('EXPIRED');
        // The next write materialises the expiry in the ledger, dated at expiresAt.
        await consume('10');
        const entries = await ledger();
        expect(entries.filter((e) => e.kind === 'EXPIRE').map((e) => [e.grantId, e.amount, e.at.toISOString()])).toEqual([[short.id, '-30', '2024-02-15T00:00:00.000Z']]);
        expect(await remaining()).toEqual({ [short.id]: '0', [long.id]: '40' });
        expect(sum(entries.map((e) => e.amount))).toBe('40');
        expect(await balance()).toBe('40');
      });

      it('priority beats expiry: a priority-1 grant that never expires burns before a priority-100 grant expiring tomorrow', async () => {
        const soon = await grant('20', { expiresAt: '2024-02-01T10:00:00Z' });
        const first = await grant('20', { priority: 1 });
        await consume('15');
        expect(await remaining()).toEqual({ [soon.id]: '20', [first.id]: '5' });
        await consume('10');
        // 5 from the priority-1 grant, then 5 from the other.
        expect(await remaining()).toEqual({ [soon.id]: '15', [first.id]: '0' });
      });

      it('promotional burns before paid on equal priority and expiry, then the oldest grant', async () => {
        const paidOld = await grant('10');
        env.clock.advance(1000);
        const paidNew = await grant('10');
        const promo = await grant('10', { category: 'PROMOTIONAL' });
        await consume('15');
        expect(await remaining()).toEqual({ [paidOld.id]: '5', [paidNew.id]: '10', [promo.id]: '0' });
      });
    });

    describe('consumeCredits', () => {
      it('is all or nothing: 30 of a balance of 25 throws USAGE_LIMIT_EXCEEDED (InsufficientCredits, 5 short) and writes nothing', async () => {
        await grant('20');
        await grant('5', { expiresAt: '2024-03-01T00:00:00Z' });
        await grant('40', { expiresAt: '2024-02-10T00:00:00Z' });
        // The 40 expire unseen: the failing call must not even write their EXPIRE entry.
        env.clock.set('2024-02-20T00:00:00Z');
        const before = { changes: await changeCount(), ledger: await ledger(), grants: await env.engine.getCreditGrants({ customerId: 'c1' }) };
        const err = await rejection(consume('30'));
        expect(err.code).toBe('USAGE_LIMIT_EXCEEDED');
        expect(err.details).toMatchObject({ reason: 'InsufficientCredits', shortfall: '5', field: 'amount' });
        expect(await changeCount()).toBe(before.changes);
        expect(await ledger()).toEqual(before.ledger);
        expect(await env.engine.getCreditGrants({ customerId: 'c1' })).toEqual(before.grants);
        expect(await balance()).toBe('25');
        expect(await consume('25')).toEqual({ burnt: '25', balance: '0' });
      });

      it('replays a consumption with the same idempotency key: 10 burnt once', async () => {
        await grant('100');
        expect(await consume('10', 'k1')).toEqual({ burnt: '10', balance: '90' });
        expect(await consume('10', 'k1')).toEqual({ burnt: '10', balance: '90' });
        expect(await balance()).toBe('90');
        expect((await ledger()).filter((e) => e.kind === 'BURN')).toHaveLength(1);
      });

      it('refuses malformed amounts with INVALID_ARGUMENT', async () => {
        await grant('2000');
        const outcomes: Record<string, string> = {};
        for (const amount of ['0', '-5', '1e3', 'abc', '0.0000000000001']) {
          outcomes[amount] = await consume(amount).then(
            (r) => `burnt ${r.burnt}`,
            (e: unknown) => (e instanceof TesseraError ? e.code : String(e)),
          );
        }
        expect(outcomes).toEqual({ '0': 'INVALID_ARGUMENT', '-5': 'INVALID_ARGUMENT', '1e3': 'INVALID_ARGUMENT', abc: 'INVALID_ARGUMENT', '0.0000000000001': 'INVALID_ARGUMENT' });
        expect(await balance()).toBe('2000');
      });
    });

    describe('voidCreditGrant', () => {
      it('voids what is left: 100 granted, 30 burnt, void takes 70; voiding again adds nothing', async () => {
        const g = await grant('100');
        await consume('30');
        const voided = await env.engine.voidCreditGrant({ customerId: 'c1', grantId: g.id });
        expect(voided).toMatchObject({ id: g.id, remaining: '0', status: 'VOIDED' });
        expect(voided.voidedAt).toEqual(new Date('2024-01-31T10:00:00Z'));
        expect(await balance()).toBe('0');
        await env.engine.voidCreditGrant({ customerId: 'c1', grantId: g.id });
        expect((await ledger()).map((e) => [e.kind, e.amount])).toEqual([
          ['GRANT', '100'],
          ['BURN', '-30'],
          ['VOID', '-70'],
        ]);
      });

      it('an expired grant with credits left gets its EXPIRE entry first and a VOID of 0', async () => {
        const g = await grant('30', { expiresAt: '2024-02-05T00:00:00Z' });
        env.clock.set('2024-02-06T00:00:00Z');
        await env.engine.voidCreditGrant({ customerId: 'c1', grantId: g.id });
        expect((await ledger()).map((e) => [e.kind, e.amount, e.at.toISOString()])).toEqual([
          ['GRANT', '30', '2024-01-31T10:00:00.000Z'],
          ['EXPIRE', '-30', '2024-02-05T00:00:00.000Z'],
          ['VOID', '0', '2024-02-06T00:00:00.000Z'],
        ]);
      });

      it('an unknown grant is INVALID_ARGUMENT naming grantId', async () => {
        const err = await rejection(env.engine.voidCreditGrant({ customerId: 'c1', grantId: 'cg_nope' }));
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(String(err.details?.field)).toContain('grantId');
      });
    });

    describe('ledger', () => {
      it('pages with a cursor: 5 entries in pages of 2, 2 and 1', async () => {
        await grant('10');
        await grant('20');
        await consume('15');
        await grant('1');
        const pages: number[] = [];
        const all: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await env.engine.getCreditLedger({ customerId: 'c1', currencyId: CUR, first: 2, ...(after === undefined ? {} : { after }) });
          pages.push(page.data.length);
          all.push(...page.data.map((e) => `${e.kind}${e.amount}`));
          if (!page.pageInfo.hasNextPage) break;
          after = page.pageInfo.endCursor!;
        }
        expect(pages).toEqual([2, 2, 1]);
        expect(all).toEqual(['GRANT10', 'GRANT20', 'BURN-10', 'BURN-5', 'GRANT1']);
      });

      it('sums to the balance after a materialising write: +GRANT -BURN -VOID -EXPIRE', async () => {
        const a = await grant('100');
        const b = await grant('40', { expiresAt: '2024-02-10T00:00:00Z', priority: 200 });
        const c = await grant('25', { category: 'PROMOTIONAL' });
        await consume('35'); // 25 from c (promotional), 10 from a
        await env.engine.voidCreditGrant({ customerId: 'c1', grantId: a.id }); // -90
        await grant('12.5');
        env.clock.set('2024-02-11T00:00:00Z');
        await consume('2.5'); // materialises b's EXPIRE (-40), burns 2.5 of the 12.5
        const entries = await ledger();
        expect(entries.map((e) => `${e.kind}${e.amount}`)).toEqual(['GRANT100', 'GRANT40', 'GRANT25', 'BURN-25', 'BURN-10', 'VOID-90', 'GRANT12.5', 'EXPIRE-40', 'BURN-2.5']);
        expect(sum(entries.map((e) => e.amount))).toBe('10');
        expect(await balance()).toBe('10');
        const stored = await env.engine.getCreditGrants({ customerId: 'c1', currencyId: CUR });
        for (const g of stored) expect(sum(entries.filter((e) => e.grantId === g.id).map((e) => e.amount)), g.id).toBe(new Decimal(g.remaining).toFixed());
        expect(stored.map((g) => [g.id, g.remaining])).toEqual([
          [a.id, '0'],
          [b.id, '0'],
          [c.id, '0'],
          [stored[3]!.id, '10'],
        ]);
      });
    });

    describe('tick and archived customers', () => {
      it('tick materialises a due expiry as an EXPIRE entry dated at expiresAt; the balance was right before it', async () => {
        const g = await grant('30', { expiresAt: '2024-02-05T00:00:00Z' });
        await grant('10');
        env.clock.set('2024-02-06T00:00:00Z');
        expect(await balance()).toBe('10');
        await env.engine.tick();
        const entries = await ledger();
        expect(entries.filter((e) => e.kind === 'EXPIRE').map((e) => [e.grantId, e.amount, e.at.toISOString()])).toEqual([[g.id, '-30', '2024-02-05T00:00:00.000Z']]);
        expect(sum(entries.map((e) => e.amount))).toBe('10');
        // Running it again adds nothing.
        await env.engine.tick();
        expect(await ledger()).toHaveLength(entries.length);
      });

      it("an archived customer's credits are not returned by any read (CUSTOMER_NOT_FOUND); the credit check denies with CustomerIsArchived", async () => {
        const g = await grant('100');
        await env.engine.archiveCustomer('c1');
        const codes = {
          getCreditBalance: await outcomeOf(env.engine.getCreditBalance({ customerId: 'c1', currencyId: CUR })),
          getCreditGrants: await outcomeOf(env.engine.getCreditGrants({ customerId: 'c1' })),
          getCreditLedger: await outcomeOf(env.engine.getCreditLedger({ customerId: 'c1', currencyId: CUR })),
          grantCredits: await outcomeOf(grant('1')),
          consumeCredits: await outcomeOf(consume('1')),
          voidCreditGrant: await outcomeOf(env.engine.voidCreditGrant({ customerId: 'c1', grantId: g.id })),
        };
        expect(codes).toEqual({
          getCreditBalance: 'CUSTOMER_NOT_FOUND',
          getCreditGrants: 'CUSTOMER_NOT_FOUND',
          getCreditLedger: 'CUSTOMER_NOT_FOUND',
          grantCredits: 'CUSTOMER_NOT_FOUND',
          consumeCredits: 'CUSTOMER_NOT_FOUND',
          voidCreditGrant: 'CUSTOMER_NOT_FOUND',
        });
        expect(await env.engine.getCreditEntitlement({ customerId: 'c1', currencyId: CUR })).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerIsArchived' });
      });

      it('reads of an unknown customer answer CUSTOMER_NOT_FOUND', async () => {
        expect({
          getCreditBalance: await outcomeOf(env.engine.getCreditBalance({ customerId: 'ghost', currencyId: CUR })),
          getCreditGrants: await outcomeOf(env.engine.getCreditGrants({ customerId: 'ghost' })),
          getCreditLedger: await outcomeOf(env.engine.getCreditLedger({ customerId: 'ghost', currencyId: CUR })),
        }).toEqual({ getCreditBalance: 'CUSTOMER_NOT_FOUND', getCreditGrants: 'CUSTOMER_NOT_FOUND', getCreditLedger: 'CUSTOMER_NOT_FOUND' });
      });
    });

    describe('getCreditEntitlement', () => {
      it('says whether the balance covers requestedAmount', async () => {
        await grant('100');
        expect(await env.engine.getCreditEntitlement({ customerId: 'c1', currencyId: CUR, options: { requestedAmount: 100 } })).toMatchObject({
          hasAccess: true,
          balance: '100',
          requestedAmount: 100,
          isFallback: false,
        });
        const short = await env.engine.getCreditEntitlement({ customerId: 'c1', currencyId: CUR, options: { requestedAmount: 100.5 } });
        expect(short).toMatchObject({ hasAccess: false, balance: '100', accessDeniedReason: 'InsufficientCredits' });
        expect(await env.engine.getCreditEntitlement({ customerId: 'ghost', currencyId: CUR })).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerNotFound' });
      });
    });

    describe('features that cost credits (ai-tokens: 2 credits a token)', () => {
      it('a check denies with InsufficientCredits when the balance cannot pay requestedUsage x 2', async () => {
        await grant('20');
        expect(await tokens(10)).toMatchObject({ hasAccess: true, isUnlimited: true });
        // 11 tokens cost 22 credits; the balance is 20.
        expect(await tokens(11)).toMatchObject({ hasAccess: false, accessDeniedReason: 'InsufficientCredits' });
        await consume('0.5');
        // 19.5 credits no longer pay for 10 tokens (20).
        expect(await tokens(10)).toMatchObject({ hasAccess: false, accessDeniedReason: 'InsufficientCredits' });
        expect((await tokens(9)).hasAccess).toBe(true);
      });

      it('reportUsage of 10 tokens burns 20 credits', async () => {
        await grant('100');
        const r = await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-tokens', value: 10, idempotencyKey: 'u-1' });
        expect(r.currentUsage).toBe(10);
        expect(await balance()).toBe('80');
        expect((await ledger()).filter((e) => e.kind === 'BURN').map((e) => [e.amount, e.reference])).toEqual([['-20', 'u-1']]);
        // The replay burns nothing more.
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-tokens', value: 10, idempotencyKey: 'u-1' });
        expect(await balance()).toBe('80');
      });

      it('reportUsage burns what there is when short (the usage happened): 10 tokens on 15 credits leave 0', async () => {
        await grant('15');
        const r = await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-tokens', value: 10 });
        expect(r.currentUsage).toBe(10);
        expect(await balance()).toBe('0');
        expect((await ledger()).map((e) => `${e.kind}${e.amount}`)).toEqual(['GRANT15', 'BURN-15']);
        expect(await tokens(1)).toMatchObject({ hasAccess: false, accessDeniedReason: 'InsufficientCredits' });
      });

      it('consumeUsage REJECT refuses 10 tokens on 15 credits (USAGE_LIMIT_EXCEEDED, InsufficientCredits) and writes nothing', async () => {
        await grant('15');
        const before = await changeCount();
        const err = await rejection(env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-tokens', amount: 10 }));
        expect(err.code).toBe('USAGE_LIMIT_EXCEEDED');
        expect(err.details?.reason).toBe('InsufficientCredits');
        expect(await changeCount()).toBe(before);
        expect(await balance()).toBe('15');
        expect((await tokens(0)).currentUsage).toBe(0);
      });

      it('consumeUsage CAP grants floor(15 / 2) = 7 tokens, burning 14 credits', async () => {
        await grant('15');
        const c = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-tokens', amount: 10, overage: 'CAP' });
        expect(c).toMatchObject({ requested: 10, granted: 7, currentUsage: 7 });
        expect(await balance()).toBe('1');
        expect((await tokens(0)).currentUsage).toBe(7);
        const none = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-tokens', amount: 3, overage: 'CAP' });
        expect(none).toMatchObject({ requested: 3, granted: 0, currentUsage: 7 });
        expect(await balance()).toBe('1');
      });

      it('committing a reservation of 10 tokens burns 20 credits, like any other recorded usage', async () => {
        await grant('100');
        const r = await env.engine.reserveUsage({ customerId: 'c1', featureId: 'ai-tokens', amount: 10, expiresIn: 60_000 });
        await env.engine.commitReservation({ reservationId: r.reservationId });
        expect((await tokens(0)).currentUsage).toBe(10);
        expect(await balance()).toBe('80');
      });

      it('consumeUsage REJECT burns 2 credits a token when covered', async () => {
        await grant('15');
        expect(await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-tokens', amount: 5 })).toMatchObject({ granted: 5, currentUsage: 5 });
        expect(await balance()).toBe('5');
      });
    });

    describe('creditBalanceUpdated', () => {
      it('is emitted with the new balance after a grant, a burn, a usage report and a void', async () => {
        const seen: CreditBalanceUpdatedEvent[] = [];
        env.engine.on('creditBalanceUpdated', (e) => seen.push(e));
        const g = await grant('100');
        await consume('40');
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-tokens', value: 5 });
        await env.engine.voidCreditGrant({ customerId: 'c1', grantId: g.id });
        expect(seen.map((e) => [e.customerId, e.currencyId, e.balance])).toEqual([
          ['c1', CUR, '100'],
          ['c1', CUR, '60'],
          ['c1', CUR, '50'],
          ['c1', CUR, '0'],
        ]);
        expect(seen[0]!.at).toEqual(new Date('2024-01-31T10:00:00Z'));
      });

      it('is not emitted by a failed burn', async () => {
        await grant('5');
        const seen: string[] = [];
        env.engine.on('creditBalanceUpdated', (e) => seen.push(e.balance));
        await rejection(consume('6'));
        expect(seen).toEqual([]);
      });
    });
  });
}
