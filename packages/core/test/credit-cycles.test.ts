import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { burnCredits, expireCredits, ledgerMismatches, type CreditGrant, type LedgerEntry } from '../src/rules/credits.js';
import { creditCycle, creditCycleIndexAt, cyclesOwed, issueCycleGrant, rolloverAmount, rolloverGrantId, type CycleGrantSpec } from '../src/rules/credit-cycles.js';
import type { SubscriptionRecord } from '../src/records.js';

const t = (iso: string) => Date.parse(iso);

function sub(extra: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    id: 'sub_1',
    customerId: 'c1',
    productId: 'app',
    planId: 'pro',
    planVersion: 1,
    catalogVersion: 1,
    resourceId: '',
    billingPeriod: 'ANNUALLY',
    status: 'ACTIVE',
    startDate: t('2024-01-15T10:00:00Z'),
    billingAnchor: t('2024-01-15T10:00:00Z'),
    usageAnchor: t('2024-01-15T10:00:00Z'),
    trialEndDate: null,
    endDate: null,
    cancellationDate: null,
    addons: [],
    billableFeatures: [],
    promotionCode: null,
    promotionCodeAppliedAt: null,
    billingCountryCode: null,
    scheduledUpdates: [],
    metadata: {},
    createdAt: t('2024-01-15T10:00:00Z'),
    updatedAt: t('2024-01-15T10:00:00Z'),
    ...extra,
  };
}

describe('creditCycle', () => {
  it('steps calendar months from the anchor, clamping month ends: Jan 31 -> Feb 29 -> Mar 31 (2024)', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    expect(creditCycle('MONTH', anchor, 1)).toEqual({ start: t('2024-02-29T00:00:00Z'), end: t('2024-03-31T00:00:00Z') });
    expect(creditCycle('YEAR', t('2024-02-29T00:00:00Z'), 1)).toEqual({ start: t('2025-02-28T00:00:00Z'), end: t('2026-02-28T00:00:00Z') });
    expect(creditCycle('WEEK', anchor, -1)).toEqual({ start: t('2024-01-24T00:00:00Z'), end: anchor });
    expect(creditCycle('DAY', anchor, 2).start).toBe(t('2024-02-02T00:00:00Z'));
  });

  it('finds the cycle containing an instant, its start included and its end excluded', () => {
    const anchor = t('2024-01-31T00:00:00Z');
    expect(creditCycleIndexAt('MONTH', anchor, t('2024-02-29T00:00:00Z'))).toBe(1);
    expect(creditCycleIndexAt('MONTH', anchor, t('2024-02-28T23:59:59.999Z'))).toBe(0);
    expect(creditCycleIndexAt('MONTH', anchor, t('2024-01-30T00:00:00Z'))).toBe(-1);
    expect(creditCycleIndexAt('WEEK', anchor, t('2024-02-07T00:00:00Z'))).toBe(1);
  });

  it('every instant lies in the cycle its index names (property)', () => {
    const cadences = ['DAY', 'WEEK', 'MONTH', 'YEAR'] as const;
    const instant = fc.integer({ min: t('2000-01-01T00:00:00Z'), max: t('2040-01-01T00:00:00Z') });
    fc.assert(
      fc.property(fc.constantFrom(...cadences), instant, instant, (cadence, anchor, at) => {
        const c = creditCycle(cadence, anchor, creditCycleIndexAt(cadence, anchor, at));
        expect(c.start <= at && at < c.end).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('rolloverAmount', () => {
  it('carries min(remaining, max), and nothing without a rollover', () => {
    expect(rolloverAmount('700', '500').toFixed()).toBe('500');
    expect(rolloverAmount('120.5', '500').toFixed()).toBe('120.5');
    expect(rolloverAmount('700', undefined).toFixed()).toBe('0');
  });
});

describe('cyclesOwed', () => {
  it('owes the cycle containing the start, then each started cycle after the last one issued', () => {
    const s = sub();
    expect(cyclesOwed(s, 'MONTH', null, t('2024-01-15T10:00:00Z')).map((c) => c.start)).toEqual([t('2024-01-15T10:00:00Z')]);
    expect(cyclesOwed(s, 'MONTH', t('2024-01-15T10:00:00Z'), t('2024-03-15T10:00:00Z')).map((c) => c.start)).toEqual([
      t('2024-02-15T10:00:00Z'),
      t('2024-03-15T10:00:00Z'),
    ]);
  });

  it('owes nothing from the end of a subscription, before its start, or while it awaits payment', () => {
    const ended = sub({ endDate: t('2024-02-01T00:00:00Z'), cancellationDate: t('2024-02-01T00:00:00Z') });
    expect(cyclesOwed(ended, 'MONTH', t('2024-01-15T10:00:00Z'), t('2024-05-01T00:00:00Z'))).toEqual([]);
    expect(cyclesOwed(sub({ startDate: t('2024-03-01T00:00:00Z'), status: 'NOT_STARTED' }), 'MONTH', null, t('2024-02-01T00:00:00Z'))).toEqual([]);
    expect(cyclesOwed(sub({ status: 'PAYMENT_PENDING' }), 'MONTH', null, t('2024-02-01T00:00:00Z'))).toEqual([]);
  });

  it('bounds a catch-up to `limit` cycles', () => {
    expect(cyclesOwed(sub(), 'DAY', t('2024-01-15T10:00:00Z'), t('2026-01-01T00:00:00Z'), 30)).toHaveLength(30);
  });
});

describe('issueCycleGrant', () => {
  const jan = { start: t('2024-01-15T10:00:00Z'), end: t('2024-02-15T10:00:00Z') };
  const feb = { start: jan.end, end: t('2024-03-15T10:00:00Z') };
  const spec = (cycle: typeof jan, grantId: string, previous: string[] = []): CycleGrantSpec => ({
    grantId,
    customerId: 'c1',
    currencyId: 'ai',
    amount: '1000',
    cycle,
    createdAt: cycle.start,
    expires: 'END_OF_CYCLE',
    rolloverMax: '500',
    previousGrantIds: previous,
    reference: 'cycle:sub_1:plan',
  });

  it('1,000 a month, 300 burnt, rollover up to 500: 1,500 the next month, 200 expired, the ledger balanced', () => {
    const first = issueCycleGrant([], spec(jan, 'g-jan'));
    const burnt = burnCredits(first.grants, '300', jan.start + 1000);
    const next = issueCycleGrant(burnt.grants, spec(feb, 'g-feb', ['g-jan', rolloverGrantId('g-jan')]));
    expect(next).toMatchObject({ issued: true, rolledOver: '500', expired: '200' });
    const live = next.grants.filter((g) => g.expiresAt === feb.end);
    expect(live.map((g) => [g.id, g.remaining])).toEqual([
      [rolloverGrantId('g-feb'), '500'],
      ['g-feb', '1000'],
    ]);
    expect(ledgerMismatches(next.grants, [...first.entries, ...burnt.entries, ...next.entries])).toEqual([]);
    // Issuing the same cycle again changes nothing.
    expect(issueCycleGrant(next.grants, spec(feb, 'g-feb', ['g-jan']))).toMatchObject({ issued: false, entries: [] });
  });

  it('credits that never expire roll nothing and stay', () => {
    const never = (cycle: typeof jan, id: string, previous: string[] = []) => ({ ...spec(cycle, id, previous), expires: 'NEVER' as const });
    const a = issueCycleGrant([], never(jan, 'a'));
    const b = issueCycleGrant(a.grants, never(feb, 'b', ['a']));
    expect(b.grants.map((g) => [g.id, g.remaining, g.expiresAt])).toEqual([
      ['a', '1000', null],
      ['b', '1000', null],
    ]);
    expect(b.entries.map((e) => e.kind)).toEqual(['GRANT']);
  });

  it('random cycles, burns and expiries keep every grant’s ledger equal to its remaining, within [0, amount] (property)', () => {
    const arbOps = fc.array(fc.oneof(fc.record({ burn: fc.integer({ min: 1, max: 1500 }) }), fc.record({ cycle: fc.constant(true) })), { maxLength: 30 });
    fc.assert(
      fc.property(arbOps, fc.integer({ min: 0, max: 1200 }), (ops, max) => {
        let grants: CreditGrant[] = [];
        const entries: LedgerEntry[] = [];
        const month = (n: number) => ({ start: jan.start + n * 30 * 86_400_000, end: jan.start + (n + 1) * 30 * 86_400_000 });
        let n = 0;
        const issue = () => {
          const id = `g${n}`;
          const previous = n > 0 ? [`g${n - 1}`, rolloverGrantId(`g${n - 1}`)] : [];
          const r = issueCycleGrant(grants, { ...spec(month(n), id, previous), rolloverMax: String(max) });
          expect(r.issued).toBe(true);
          grants = r.grants;
          entries.push(...r.entries);
        };
        issue();
        for (const op of ops) {
          if ('burn' in op) {
            const r = burnCredits(grants, String(op.burn), month(n).start + 1);
            grants = r.grants;
            entries.push(...r.entries);
          } else {
            n++;
            issue();
            const x = expireCredits(grants, month(n).start);
            grants = x.grants;
            entries.push(...x.entries);
          }
          expect(ledgerMismatches(grants, entries)).toEqual([]);
          for (const g of grants) expect(Number(g.remaining) >= 0 && Number(g.remaining) <= Number(g.amount)).toBe(true);
          // Each cycle opened once.
          expect(entries.filter((e) => e.kind === 'GRANT' && !e.grantId.endsWith(':rollover'))).toHaveLength(n + 1);
        }
      }),
      { numRuns: 100 },
    );
  });
});
