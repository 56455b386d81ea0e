/**
 * Conformance cases for promotional grants, credit grants, the credit ledger and recharge
 * settings: round trips of every field (decimal strings byte for byte, whatever their digits),
 * upserts, orderings, ledger paging, isolation between customers and currencies, and rollback.
 */
import type { CreditLedgerRecord, StoreTx } from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import {
  DAY,
  T0,
  bareCreditGrant,
  barePromotionalGrant,
  creditGrant,
  expectCode,
  ledgerEntry,
  promotionalGrant,
  rechargeConfig,
} from './fixtures.js';

/**
 * Decimal strings that a double, or a column with numeric affinity, would change: more
 * significant digits than a double holds, trailing and leading zeros, signs.
 */
const DECIMALS = ['0.000000000001', '123456789012345678.5', '1.10', '-0.50', '007', '0', '-0.000000000000000000001', '99999999999999999999.99'];

/** Registers the credit and promotion cases inside the adapter's conformance suite. */
export function creditCases({ read, write, test }: Harness): void {
  describe('promotions and credits', () => {
    test('round-trips promotional grants with every field, the JSON entitlement and nulls; upsert replaces by id', async () => {
      expect(await read((tx) => tx.listPromotionalGrants('c1'))).toEqual([]);
      await write(async (tx) => {
        await tx.putPromotionalGrant(promotionalGrant('p1'));
        await tx.putPromotionalGrant(barePromotionalGrant('p2', { createdAt: T0 + 1 }));
      });
      expect(await read((tx) => tx.listPromotionalGrants('c1'))).toEqual([promotionalGrant('p1'), barePromotionalGrant('p2', { createdAt: T0 + 1 })]);

      const replaced = promotionalGrant('p1', { entitlement: { featureId: 'api-calls', isUnlimited: true, resetPeriod: null }, endDate: null, revokedAt: null });
      await write((tx) => tx.putPromotionalGrant(replaced));
      expect(await read((tx) => tx.listPromotionalGrants('c1'))).toEqual([replaced, barePromotionalGrant('p2', { createdAt: T0 + 1 })]);
    });

    test('lists a customer’s promotional grants, revoked and ended included, oldest first then by id', async () => {
      await write(async (tx) => {
        await tx.putPromotionalGrant(promotionalGrant('p-b', { createdAt: T0 + 2 }));
        await tx.putPromotionalGrant(promotionalGrant('p-c', { createdAt: T0 + 1, endDate: T0 + 1 }));
        await tx.putPromotionalGrant(promotionalGrant('p-a', { createdAt: T0 + 1, revokedAt: T0 + 1 }));
        await tx.putPromotionalGrant(promotionalGrant('p-x', { customerId: 'c2', createdAt: T0 }));
      });
      expect((await read((tx) => tx.listPromotionalGrants('c1'))).map((g) => g.id)).toEqual(['p-a', 'p-c', 'p-b']);
      expect((await read((tx) => tx.listPromotionalGrants('c2'))).map((g) => g.id)).toEqual(['p-x']);
      expect(await read((tx) => tx.listPromotionalGrants('c3'))).toEqual([]);
    });

    test('round-trips credit grants with every field and nulls; decimal strings come back byte-identical', async () => {
      await write(async (tx) => {
        await tx.putCreditGrant(creditGrant('g1'));
        await tx.putCreditGrant(bareCreditGrant('g2', { createdAt: T0 + 1 }));
        for (const [i, d] of DECIMALS.entries()) {
          await tx.putCreditGrant(creditGrant(`d${i}`, { currencyId: 'decimals', amount: d, remaining: d, createdAt: T0 + i }));
        }
      });
      expect(await read((tx) => tx.listCreditGrants('c1', 'tokens'))).toEqual([creditGrant('g1'), bareCreditGrant('g2', { createdAt: T0 + 1 })]);
      const decimals = await read((tx) => tx.listCreditGrants('c1', 'decimals'));
      expect(decimals.map((g) => g.amount)).toEqual(DECIMALS);
      expect(decimals.map((g) => g.remaining)).toEqual(DECIMALS);
      for (const g of decimals) expect(typeof g.amount).toBe('string');
    });

    test('putCreditGrant replaces the whole grant by id', async () => {
      await write((tx) => tx.putCreditGrant(creditGrant('g1')));
      const burnt = bareCreditGrant('g1', { remaining: '0.000000000000', voidedAt: T0 + 2 * DAY, currencyId: 'tokens' });
      await write((tx) => tx.putCreditGrant(burnt));
      expect(await read((tx) => tx.listCreditGrants('c1'))).toEqual([burnt]);
    });

    test('lists credit grants oldest first then by id, in every currency or in one; other customers never show', async () => {
      await write(async (tx) => {
        await tx.putCreditGrant(creditGrant('g-b', { createdAt: T0 + 2 }));
        await tx.putCreditGrant(creditGrant('g-e', { createdAt: T0 + 1, currencyId: 'credits' }));
        await tx.putCreditGrant(creditGrant('g-c', { createdAt: T0 + 1, voidedAt: T0 + 3 }));
        await tx.putCreditGrant(creditGrant('g-a', { createdAt: T0 + 1 }));
        await tx.putCreditGrant(creditGrant('g-d', { createdAt: T0, currencyId: 'credits' }));
        await tx.putCreditGrant(creditGrant('g-x', { createdAt: T0, customerId: 'c2' }));
      });
      const ids = (list: { id: string }[]) => list.map((g) => g.id);
      expect(ids(await read((tx) => tx.listCreditGrants('c1')))).toEqual(['g-d', 'g-a', 'g-c', 'g-e', 'g-b']);
      expect(ids(await read((tx) => tx.listCreditGrants('c1', 'tokens')))).toEqual(['g-a', 'g-c', 'g-b']);
      expect(ids(await read((tx) => tx.listCreditGrants('c1', 'credits')))).toEqual(['g-d', 'g-e']);
      expect(ids(await read((tx) => tx.listCreditGrants('c2')))).toEqual(['g-x']);
      expect(await read((tx) => tx.listCreditGrants('c1', 'none'))).toEqual([]);
      expect(await read((tx) => tx.listCreditGrants('c3'))).toEqual([]);
    });

    test('appendCreditLedger assigns increasing seqs in input order, across calls and transactions, and round-trips every field', async () => {
      const first = [
        ledgerEntry({ kind: 'GRANT', amount: '123456789012345678.5', reference: null }),
        ledgerEntry({ kind: 'BURN', amount: '-0.000000000001', at: T0 + 1 }),
      ];
      const second = [ledgerEntry({ kind: 'EXPIRE', amount: '-1.10', at: T0 + 2, reference: 'expiry' })];
      const third = [ledgerEntry({ kind: 'RECHARGE', amount: '50', at: T0 + 3 }), ledgerEntry({ kind: 'VOID', amount: '-007', at: T0 + 4, reference: '' })];
      await write(async (tx) => {
        await tx.appendCreditLedger(first);
        await tx.appendCreditLedger([]);
        await tx.appendCreditLedger(second);
      });
      await write((tx) => tx.appendCreditLedger(third));

      const all = await read((tx) => tx.listCreditLedger({ customerId: 'c1', currencyId: 'tokens', limit: 100 }));
      expect(all.map(({ seq, ...entry }) => entry)).toEqual([...first, ...second, ...third]);
      expectIncreasing(all);
      for (const e of all) expect(Number.isInteger(e.seq) && e.seq > 0).toBe(true);
    });

    test('listCreditLedger pages with after and limit, in seq order', async () => {
      await write((tx) => tx.appendCreditLedger([1, 2, 3, 4, 5].map((i) => ledgerEntry({ amount: `-${i}`, at: T0 + i }))));
      const all = await read((tx) => tx.listCreditLedger({ customerId: 'c1', currencyId: 'tokens', limit: 100 }));
      const seqs = all.map((e) => e.seq);
      expect(seqs).toHaveLength(5);

      const page = (after: number | undefined, limit: number) =>
        read((tx) => tx.listCreditLedger({ customerId: 'c1', currencyId: 'tokens', after, limit }));
      expect(await page(undefined, 2)).toEqual(all.slice(0, 2));
      expect(await page(seqs[1], 2)).toEqual(all.slice(2, 4));
      expect(await page(seqs[3], 2)).toEqual(all.slice(4));
      expect(await page(seqs[4], 2)).toEqual([]);
      expect(await page(0, 100)).toEqual(all);

      // Walking page by page visits each entry once.
      const walked: CreditLedgerRecord[] = [];
      for (let after = 0; ; ) {
        const p = await page(after, 2);
        if (p.length === 0) break;
        walked.push(...p);
        after = p[p.length - 1]!.seq;
      }
      expect(walked).toEqual(all);
    });

    test('keeps each customer’s and currency’s ledger apart while seqs grow across all of them', async () => {
      await write(async (tx) => {
        await tx.appendCreditLedger([
          ledgerEntry({ amount: '1' }),
          ledgerEntry({ customerId: 'c2', amount: '2' }),
          ledgerEntry({ currencyId: 'credits', amount: '3' }),
          ledgerEntry({ amount: '4' }),
        ]);
      });
      await write((tx) => tx.appendCreditLedger([ledgerEntry({ customerId: 'c2', amount: '5' }), ledgerEntry({ amount: '6' })]));
      const list = (customerId: string, currencyId: string) => read((tx) => tx.listCreditLedger({ customerId, currencyId, limit: 100 }));
      const c1Tokens = await list('c1', 'tokens');
      const c2Tokens = await list('c2', 'tokens');
      const c1Credits = await list('c1', 'credits');
      expect(c1Tokens.map((e) => e.amount)).toEqual(['1', '4', '6']);
      expect(c2Tokens.map((e) => e.amount)).toEqual(['2', '5']);
      expect(c1Credits.map((e) => e.amount)).toEqual(['3']);
      expect(await list('c3', 'tokens')).toEqual([]);
      // One sequence for the whole ledger: sorted by seq, the entries are in append order.
      const merged = [...c1Tokens, ...c2Tokens, ...c1Credits].sort((a, b) => a.seq - b.seq);
      expect(merged.map((e) => e.amount)).toEqual(['1', '2', '3', '4', '5', '6']);
      expectIncreasing(merged);
    });

    test('round-trips recharge configs by (customer, currency) with nulls; upsert replaces', async () => {
      expect(await read((tx) => tx.getRechargeConfig('c1', 'tokens'))).toBeUndefined();
      const off = rechargeConfig({ currencyId: 'credits', isEnabled: false, thresholdType: 'CREDIT_AMOUNT', maxSpendLimit: null, grantExpirationPeriod: null });
      await write(async (tx) => {
        await tx.putRechargeConfig(rechargeConfig());
        await tx.putRechargeConfig(off);
        await tx.putRechargeConfig(rechargeConfig({ customerId: 'c2', thresholdValue: '5' }));
      });
      expect(await read((tx) => tx.getRechargeConfig('c1', 'tokens'))).toEqual(rechargeConfig());
      expect(await read((tx) => tx.getRechargeConfig('c1', 'credits'))).toEqual(off);
      expect(await read((tx) => tx.getRechargeConfig('c2', 'tokens'))).toEqual(rechargeConfig({ customerId: 'c2', thresholdValue: '5' }));
      expect(await read((tx) => tx.getRechargeConfig('c2', 'credits'))).toBeUndefined();

      const changed = rechargeConfig({ isEnabled: false, thresholdValue: '1.10', targetBalance: '0.000000000001', grantExpirationPeriod: 'ONE_MONTH', updatedAt: T0 + DAY });
      await write((tx) => tx.putRechargeConfig(changed));
      expect(await read((tx) => tx.getRechargeConfig('c1', 'tokens'))).toEqual(changed);
      expect(await read((tx) => tx.getRechargeConfig('c1', 'credits'))).toEqual(off);
    });

    test('a transaction that throws leaves no promotional grant, credit grant, ledger entry or recharge config behind', async () => {
      await write(async (tx) => {
        await tx.putPromotionalGrant(promotionalGrant('p1'));
        await tx.putCreditGrant(creditGrant('g1'));
        await tx.appendCreditLedger([ledgerEntry({ kind: 'GRANT', amount: '10' })]);
        await tx.putRechargeConfig(rechargeConfig());
      });
      const snapshot = (tx: StoreTx) =>
        Promise.all([
          tx.listPromotionalGrants('c1'),
          tx.listPromotionalGrants('c2'),
          tx.listCreditGrants('c1'),
          tx.listCreditGrants('c2'),
          tx.listCreditLedger({ customerId: 'c1', currencyId: 'tokens', limit: 100 }),
          tx.listCreditLedger({ customerId: 'c2', currencyId: 'tokens', limit: 100 }),
          tx.getRechargeConfig('c1', 'tokens'),
          tx.getRechargeConfig('c2', 'tokens'),
        ]);
      const before = await read(snapshot);

      const boom = new Error('boom');
      await expect(
        write(async (tx) => {
          await tx.putPromotionalGrant(promotionalGrant('p1', { revokedAt: T0 + 2 * DAY }));
          await tx.putPromotionalGrant(promotionalGrant('p2', { customerId: 'c2' }));
          await tx.putCreditGrant(creditGrant('g1', { remaining: '0' }));
          await tx.putCreditGrant(creditGrant('g2', { customerId: 'c2' }));
          await tx.appendCreditLedger([ledgerEntry({ amount: '-3' }), ledgerEntry({ customerId: 'c2', amount: '7' })]);
          await tx.putRechargeConfig(rechargeConfig({ isEnabled: false }));
          await tx.putRechargeConfig(rechargeConfig({ customerId: 'c2' }));
          // Inside the transaction its own writes are visible.
          expect((await tx.listCreditLedger({ customerId: 'c1', currencyId: 'tokens', limit: 100 })).map((e) => e.amount)).toEqual(['10', '-3']);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await read(snapshot)).toEqual(before);

      // The ledger goes on from the last committed entry.
      await write((tx) => tx.appendCreditLedger([ledgerEntry({ amount: '-4' })]));
      const ledger = await read((tx) => tx.listCreditLedger({ customerId: 'c1', currencyId: 'tokens', limit: 100 }));
      expect(ledger.map((e) => e.amount)).toEqual(['10', '-4']);
      expectIncreasing(ledger);
    });

    test('promotion and credit writes in a read transaction reject with CONFLICT and write nothing', async () => {
      const attempts: [string, (tx: StoreTx) => Promise<unknown>][] = [
        ['putPromotionalGrant', (tx) => tx.putPromotionalGrant(promotionalGrant('p1'))],
        ['putCreditGrant', (tx) => tx.putCreditGrant(creditGrant('g1'))],
        ['appendCreditLedger', (tx) => tx.appendCreditLedger([ledgerEntry()])],
        ['putRechargeConfig', (tx) => tx.putRechargeConfig(rechargeConfig())],
      ];
      await read(async (tx) => {
        for (const [, attempt] of attempts) await expectCode('CONFLICT', () => attempt(tx));
      });
      await read(async (tx) => {
        expect(await tx.listPromotionalGrants('c1')).toEqual([]);
        expect(await tx.listCreditGrants('c1')).toEqual([]);
        expect(await tx.listCreditLedger({ customerId: 'c1', currencyId: 'tokens', limit: 10 })).toEqual([]);
        expect(await tx.getRechargeConfig('c1', 'tokens')).toBeUndefined();
      });
    });
  });
}

function expectIncreasing(entries: CreditLedgerRecord[]): void {
  for (let i = 1; i < entries.length; i++) expect(entries[i]!.seq).toBeGreaterThan(entries[i - 1]!.seq);
}
