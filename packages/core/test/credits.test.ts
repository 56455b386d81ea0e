import { describe, expect, it } from 'vitest';
import { isTesseraError } from '../src/errors.js';
import {
  type CreditGrant,
  type CreditGrantInput,
  type LedgerEntry,
  applyBurn,
  applyEntries,
  balanceAt,
  burnCredits,
  burnOrder,
  createGrant,
  expireCredits,
  expiryEntries,
  ledgerBalance,
  ledgerMismatches,
  nextCreditExpiry,
  planBurn,
  toCreditAmount,
  voidGrant,
} from '../src/rules/credits.js';

const at = (iso: string) => Date.parse(iso);
const JAN_1 = at('2024-01-01T00:00:00Z');
const FEB_10 = at('2024-02-10T00:00:00Z');
const FEB_15 = at('2024-02-15T00:00:00Z');
const MAR_1 = at('2024-03-01T00:00:00Z');
const APR_1 = at('2024-04-01T00:00:00Z');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.code : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

/** A wallet: grants plus the ledger, built through createGrant so it starts balanced. */
function wallet(inputs: Omit<CreditGrantInput, 'customerId' | 'currencyId'>[]): { grants: CreditGrant[]; entries: LedgerEntry[] } {
  const grants: CreditGrant[] = [];
  const entries: LedgerEntry[] = [];
  for (const input of inputs) {
    const { grant, entry } = createGrant({ customerId: 'c1', currencyId: 'ai-credits', ...input });
    grants.push(grant);
    entries.push(entry);
  }
  return { grants, entries };
}

const remainingOf = (grants: readonly CreditGrant[]) => Object.fromEntries(grants.map((g) => [g.id, g.remaining]));

describe('createGrant', () => {
  it('opens a grant holding its amount with a GRANT entry, priority 100 and PAID by default', () => {
    const { grant, entry } = createGrant({ id: 'g1', customerId: 'c1', currencyId: 'ai-credits', amount: '100.50', createdAt: JAN_1 });
    expect(grant).toEqual({
      id: 'g1',
      customerId: 'c1',
      currencyId: 'ai-credits',
      category: 'PAID',
      amount: '100.5',
      remaining: '100.5',
      priority: 100,
      expiresAt: null,
      createdAt: JAN_1,
      voidedAt: null,
    });
    expect(entry).toEqual({ grantId: 'g1', customerId: 'c1', currencyId: 'ai-credits', kind: 'GRANT', amount: '100.5', at: JAN_1 });
  });

  it('opens a recharged grant with a RECHARGE entry carrying the reference', () => {
    const { entry } = createGrant({ id: 'r1', customerId: 'c1', currencyId: 'x', amount: '5', createdAt: JAN_1, kind: 'RECHARGE', reference: 'inv-1' });
    expect(entry.kind).toBe('RECHARGE');
    expect(entry.reference).toBe('inv-1');
  });

  it('refuses zero, negative, malformed or over-precise amounts, bad priorities and past expiries', () => {
    const base = { id: 'g', customerId: 'c', currencyId: 'x', amount: '1', createdAt: JAN_1 };
    for (const amount of ['0', '-1', '1e3', '', ' 1', '0.0000000000001', '1000000000000000000']) {
      expect(codeOf(() => createGrant({ ...base, amount })), amount).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => createGrant({ ...base, amount: 5 as unknown as string }))).toBe('INVALID_ARGUMENT');
    for (const priority of [0, -1, 1.5, Number.NaN]) expect(codeOf(() => createGrant({ ...base, priority }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createGrant({ ...base, expiresAt: JAN_1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createGrant({ ...base, category: 'FREE' as 'PAID' }))).toBe('INVALID_ARGUMENT');
    // 12 fraction digits is the most a credit amount may have.
    expect(createGrant({ ...base, amount: '0.000000000001' }).grant.remaining).toBe('0.000000000001');
  });

  it('reports the offending field', () => {
    try {
      toCreditAmount('-2', 'targetBalance');
      expect.unreachable();
    } catch (e) {
      expect(isTesseraError(e, 'INVALID_ARGUMENT') && e.details.field).toBe('targetBalance');
    }
  });
});

describe('burn order', () => {
  it('burns the earlier-expiring grant first: 40 from A 30 (Mar 1) and B 50 (Apr 1) takes A 30 then B 10', () => {
    // B is older, but an earlier expiry beats age.
    const w = wallet([
      { id: 'B', amount: '50', expiresAt: APR_1, createdAt: JAN_1 },
      { id: 'A', amount: '30', expiresAt: MAR_1, createdAt: JAN_1 + 1 },
    ]);
    const plan = planBurn(w.grants, '40', FEB_10);
    expect(plan).toEqual({ amount: '40', burns: [{ grantId: 'A', amount: '30' }, { grantId: 'B', amount: '10' }], covered: true, shortfall: '0' });
    const result = burnCredits(w.grants, '40', FEB_10, 'usage-1');
    expect(remainingOf(result.grants)).toEqual({ B: '40', A: '0' });
    expect(result.entries.map((e) => [e.grantId, e.kind, e.amount, e.reference])).toEqual([
      ['A', 'BURN', '-30', 'usage-1'],
      ['B', 'BURN', '-10', 'usage-1'],
    ]);
    expect(balanceAt(result.grants, FEB_10)).toBe('40'); // 80 - 40
    expect(ledgerMismatches(result.grants, [...w.entries, ...result.entries])).toEqual([]);
  });

  it('lets priority beat expiry: a priority-1 grant that never expires burns before a priority-100 one expiring tomorrow', () => {
    const w = wallet([
      { id: 'soon', amount: '10', expiresAt: FEB_10 + 86_400_000, createdAt: JAN_1 },
      { id: 'first', amount: '10', priority: 1, createdAt: JAN_1 },
    ]);
    expect(burnOrder(w.grants, FEB_10).map((g) => g.id)).toEqual(['first', 'soon']);
    expect(planBurn(w.grants, '4', FEB_10).burns).toEqual([{ grantId: 'first', amount: '4' }]);
  });

  it('burns promotional before paid when priority and expiry tie, then the oldest grant, then by id', () => {
    const w = wallet([
      { id: 'paid-old', amount: '10', category: 'PAID', expiresAt: MAR_1, createdAt: JAN_1 },
      { id: 'promo-new', amount: '10', category: 'PROMOTIONAL', expiresAt: MAR_1, createdAt: FEB_10 },
      { id: 'promo-b', amount: '10', category: 'PROMOTIONAL', expiresAt: MAR_1, createdAt: JAN_1 },
      { id: 'promo-a', amount: '10', category: 'PROMOTIONAL', expiresAt: MAR_1, createdAt: JAN_1 },
    ]);
    expect(burnOrder(w.grants, FEB_10).map((g) => g.id)).toEqual(['promo-a', 'promo-b', 'promo-new', 'paid-old']);
    // The order does not depend on the order the grants are given in.
    expect(burnOrder([...w.grants].reverse(), FEB_10).map((g) => g.id)).toEqual(['promo-a', 'promo-b', 'promo-new', 'paid-old']);
  });

  it('puts never-expiring grants after expiring ones of the same priority', () => {
    const w = wallet([
      { id: 'forever', amount: '1', category: 'PROMOTIONAL', createdAt: JAN_1 },
      { id: 'expiring', amount: '1', category: 'PAID', expiresAt: APR_1, createdAt: FEB_10 },
    ]);
    expect(burnOrder(w.grants, FEB_10).map((g) => g.id)).toEqual(['expiring', 'forever']);
  });

  it('burns fractional credits exactly, without rounding', () => {
    let { grants } = wallet([{ id: 'g', amount: '1', createdAt: JAN_1 }]);
    for (let i = 0; i < 3; i++) grants = burnCredits(grants, '0.0001', FEB_10).grants;
    expect(balanceAt(grants, FEB_10)).toBe('0.9997');
    grants = burnCredits(grants, '0.333333333333', FEB_10).grants;
    expect(balanceAt(grants, FEB_10)).toBe('0.666366666667');
  });
});

describe('insufficient balance', () => {
  it('plans what the grants hold and reports the shortfall, but burnCredits changes nothing', () => {
    const w = wallet([
      { id: 'A', amount: '30', createdAt: JAN_1 },
      { id: 'B', amount: '20.5', createdAt: JAN_1 + 1 },
    ]);
    const plan = planBurn(w.grants, '60', FEB_10);
    expect(plan.covered).toBe(false);
    expect(plan.shortfall).toBe('9.5'); // 60 - (30 + 20.5)
    expect(plan.burns).toEqual([{ grantId: 'A', amount: '30' }, { grantId: 'B', amount: '20.5' }]);
    const result = burnCredits(w.grants, '60', FEB_10);
    expect(result.covered).toBe(false);
    expect(result.entries).toEqual([]);
    expect(remainingOf(result.grants)).toEqual({ A: '30', B: '20.5' });
  });

  it('covers exactly the whole balance', () => {
    const w = wallet([{ id: 'A', amount: '30', createdAt: JAN_1 }]);
    const result = burnCredits(w.grants, '30', FEB_10);
    expect(result.covered).toBe(true);
    expect(balanceAt(result.grants, FEB_10)).toBe('0');
    // A drained grant is no longer usable.
    expect(burnOrder(result.grants, FEB_10)).toEqual([]);
  });

  it('burns nothing for an amount of 0 and refuses a negative amount', () => {
    const w = wallet([{ id: 'A', amount: '30', createdAt: JAN_1 }]);
    expect(planBurn(w.grants, '0', FEB_10)).toEqual({ amount: '0', burns: [], covered: true, shortfall: '0' });
    expect(codeOf(() => planBurn(w.grants, '-1', FEB_10))).toBe('INVALID_ARGUMENT');
  });
});

describe('expiry', () => {
  it('drops the balance by exactly what a grant expiring mid-period still holds', () => {
    // A: 100 expiring Feb 15; B: 50 forever. 30 burnt on Feb 10 come from A (earlier expiry).
    const w = wallet([
      { id: 'A', amount: '100', expiresAt: FEB_15, createdAt: JAN_1 },
      { id: 'B', amount: '50', createdAt: JAN_1 },
    ]);
    const burnt = burnCredits(w.grants, '30', FEB_10);
    expect(balanceAt(burnt.grants, FEB_15 - 1)).toBe('120'); // 70 + 50
    // At the expiry instant A no longer counts: 120 - 70 = 50, with no background job.
    expect(balanceAt(burnt.grants, FEB_15)).toBe('50');
    expect(burnOrder(burnt.grants, FEB_15).map((g) => g.id)).toEqual(['B']);

    // A tick on Feb 20 materialises the expiry, dated at Feb 15.
    const expired = expireCredits(burnt.grants, at('2024-02-20T00:00:00Z'));
    expect(expired.entries).toEqual([{ grantId: 'A', customerId: 'c1', currencyId: 'ai-credits', kind: 'EXPIRE', amount: '-70', at: FEB_15 }]);
    expect(remainingOf(expired.grants)).toEqual({ A: '0', B: '50' });
    const ledger = [...w.entries, ...burnt.entries, ...expired.entries];
    expect(ledgerBalance(ledger, 'A')).toBe('0'); // +100 - 30 - 70
    expect(ledgerBalance(ledger)).toBe('50');
    expect(ledgerMismatches(expired.grants, ledger)).toEqual([]);
    // Idempotent: nothing more to expire.
    expect(expiryEntries(expired.grants, APR_1)).toEqual([]);
  });

  it('does not expire a grant before its expiresAt, nor one that holds nothing', () => {
    const w = wallet([
      { id: 'A', amount: '10', expiresAt: FEB_15, createdAt: JAN_1 },
      { id: 'B', amount: '10', expiresAt: FEB_10, createdAt: JAN_1 },
    ]);
    expect(expiryEntries(w.grants, FEB_15 - 1).map((e) => e.grantId)).toEqual(['B']);
    const drained = burnCredits(w.grants, '10', FEB_15 - 2 * 86_400_000); // Feb 13: B expired, so A pays
    expect(drained.burns).toEqual([{ grantId: 'A', amount: '10' }]);
    expect(expiryEntries(drained.grants, APR_1).map((e) => e.grantId)).toEqual(['B']);
  });

  it('never burns an expired grant, even if asked to', () => {
    const w = wallet([{ id: 'A', amount: '10', expiresAt: FEB_10, createdAt: JAN_1 }]);
    expect(codeOf(() => applyBurn(w.grants, [{ grantId: 'A', amount: '1' }], FEB_10))).toBe('INVALID_ARGUMENT');
    expect(planBurn(w.grants, '1', FEB_10).covered).toBe(false);
  });

  it('names the next expiry of a grant that holds credits', () => {
    const w = wallet([
      { id: 'A', amount: '10', expiresAt: FEB_15, createdAt: JAN_1 },
      { id: 'B', amount: '10', expiresAt: MAR_1, createdAt: JAN_1 },
      { id: 'C', amount: '10', createdAt: JAN_1 },
    ]);
    expect(nextCreditExpiry(w.grants, FEB_10)).toBe(FEB_15);
    expect(nextCreditExpiry(w.grants, FEB_15)).toBe(MAR_1);
    expect(nextCreditExpiry(w.grants, MAR_1)).toBe(null);
  });
});

describe('void', () => {
  it('takes what a voided grant holds off the balance and never burns it afterwards', () => {
    const w = wallet([
      { id: 'A', amount: '40', priority: 1, createdAt: JAN_1 },
      { id: 'B', amount: '25', createdAt: JAN_1 },
    ]);
    const voided = voidGrant(w.grants, 'A', FEB_10, 'refund-7');
    expect(voided.entries).toEqual([{ grantId: 'A', customerId: 'c1', currencyId: 'ai-credits', kind: 'VOID', amount: '-40', at: FEB_10, reference: 'refund-7' }]);
    expect(balanceAt(voided.grants, FEB_10)).toBe('25');
    expect(planBurn(voided.grants, '10', FEB_10).burns).toEqual([{ grantId: 'B', amount: '10' }]);
    expect(codeOf(() => applyBurn(voided.grants, [{ grantId: 'A', amount: '0' }, { grantId: 'A', amount: '1' }], FEB_10))).toBe(
      'INVALID_ARGUMENT',
    );
    // Voiding again does nothing.
    expect(voidGrant(voided.grants, 'A', MAR_1).entries).toEqual([]);
    expect(ledgerMismatches(voided.grants, [...w.entries, ...voided.entries])).toEqual([]);
  });

  it('records an expired grant as expired, not voided', () => {
    const w = wallet([{ id: 'A', amount: '40', expiresAt: FEB_10, createdAt: JAN_1 }]);
    const voided = voidGrant(w.grants, 'A', MAR_1);
    expect(voided.entries.map((e) => [e.kind, e.amount, e.at])).toEqual([
      ['EXPIRE', '-40', FEB_10],
      ['VOID', '0', MAR_1],
    ]);
    expect(ledgerMismatches(voided.grants, [...w.entries, ...voided.entries])).toEqual([]);
  });

  it('refuses an unknown grant', () => {
    expect(codeOf(() => voidGrant([], 'nope', FEB_10))).toBe('INVALID_ARGUMENT');
  });
});

describe('applyEntries', () => {
  const w = wallet([{ id: 'A', amount: '10', createdAt: JAN_1 }]);
  const entry = (kind: LedgerEntry['kind'], amount: string, grantId = 'A'): LedgerEntry => ({ grantId, customerId: 'c1', currencyId: 'ai-credits', kind, amount, at: FEB_10 });

  it('refuses opening entries, positive debits, overdrafts and unknown grants', () => {
    expect(codeOf(() => applyEntries(w.grants, [entry('GRANT', '10')]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyEntries(w.grants, [entry('RECHARGE', '10')]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyEntries(w.grants, [entry('BURN', '3')]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyEntries(w.grants, [entry('BURN', '-10.01')]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyEntries(w.grants, [entry('BURN', '-1', 'B')]))).toBe('INVALID_ARGUMENT');
  });

  it('does not change its input', () => {
    const before = structuredClone(w.grants);
    const after = applyEntries(w.grants, [entry('BURN', '-4')]);
    expect(w.grants).toEqual(before);
    expect(after[0]!.remaining).toBe('6');
  });

  it('does not count a grant created after the instant asked about', () => {
    const future = wallet([{ id: 'F', amount: '10', createdAt: MAR_1 }]);
    expect(balanceAt(future.grants, FEB_10)).toBe('0');
    expect(balanceAt(future.grants, MAR_1)).toBe('10');
  });
});
