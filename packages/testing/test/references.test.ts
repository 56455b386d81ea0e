/**
 * The usage, quota and credit parts of the kit: arbitraries valid and shrinking to their minimum,
 * references agreeing with the engine, invariants catching what they promise to catch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, memoryStore, type MeteredEntitlement } from '@tessera/core';
import {
  InvariantError,
  QuotaModel,
  arbCreditAmount,
  arbCreditGrant,
  arbQuotaOperations,
  arbRechargeSettings,
  arbReorderedBatches,
  arbUsageSequence,
  expectedUsage,
  rechargeSpendWithinLimit,
  referenceAggregate,
  testClock,
} from '../src/index.js';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

function minimumOf<T>(arb: fc.Arbitrary<T>): T {
  const out = fc.check(fc.property(arb, () => false));
  if (!out.failed || !out.counterexample) throw new Error('expected a counterexample');
  return out.counterexample[0] as T;
}

describe('expectedUsage', () => {
  it('predicts every answer of the engine to an arbUsageSequence, and the usage left', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-31') });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(arbUsageSequence(demoCatalog, { customerIds: ['a', 'b'], keys: 6, maxLength: 30 }), async (ops) => {
        const prefix = `run${++run}-`;
        for (const id of ['a', 'b']) await engine.provisionCustomer({ customerId: prefix + id, subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        const expected = expectedUsage(ops);
        const seen: (number | null)[] = [];
        for (const op of ops) seen.push((await engine.reportUsage({ ...op, customerId: prefix + op.customerId })).currentUsage);
        expect(seen).toEqual(expected.results);
        for (const [customerId, cells] of Object.entries(expected.usage)) {
          for (const [featureId, usage] of Object.entries(cells)) {
            const e = (await engine.getMeteredEntitlement({ customerId: prefix + customerId, featureId })) as MeteredEntitlement;
            expect(e.currentUsage).toBe(usage);
          }
        }
      }),
      { numRuns: 100 },
    );
    await engine.close();
  });

  it('answers a retry from its key and refuses a DELTA below 0', () => {
    expect(
      expectedUsage([
        { customerId: 'c1', featureId: 'f', value: 5, idempotencyKey: 'k1' },
        { customerId: 'c1', featureId: 'f', value: -9 },
        { customerId: 'c1', featureId: 'f', value: -9, idempotencyKey: 'k1' },
        { customerId: 'c2', featureId: 'f', value: 2, idempotencyKey: 'k1' },
        { customerId: 'c1', featureId: 'f', value: 3, updateBehavior: 'SET' },
      ]),
    ).toEqual({ results: [5, null, 5, 2, 3], usage: { c1: { f: 3 }, c2: { f: 2 } } });
  });

  it('draws every key of a pool larger than three', () => {
    const keys = new Set(fc.sample(arbUsageSequence(demoCatalog, { keys: 6 }), 200).flatMap((ops) => ops.flatMap((o) => o.idempotencyKey ?? [])));
    expect([...keys].sort()).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
  });
});

describe('referenceAggregate', () => {
  const events = [
    { timestamp: 2, dimensions: { v: 3, u: 1 } },
    { timestamp: 2, dimensions: { v: 7, u: '1' } },
    { timestamp: 1, dimensions: { v: 9, u: 1 } },
    { timestamp: 3, dimensions: { u: true } },
  ];
  it('follows the table of docs/metering.md', () => {
    expect(referenceAggregate({ type: 'COUNT' }, events)).toBe(4);
    expect(referenceAggregate({ type: 'SUM', field: 'v' }, events)).toBe(19);
    expect(referenceAggregate({ type: 'MAX', field: 'v' }, events)).toBe(9);
    expect(referenceAggregate({ type: 'MIN', field: 'v' }, events)).toBe(3);
    expect(referenceAggregate({ type: 'AVG', field: 'v' }, events)).toBeCloseTo(19 / 3);
    // The latest timestamp with a value is 2; on the tie, the larger value.
    expect(referenceAggregate({ type: 'LATEST', field: 'v' }, events)).toBe(7);
    // 1, '1' and true are three distinct values.
    expect(referenceAggregate({ type: 'UNIQUE_COUNT', field: 'u' }, events)).toBe(3);
    expect(referenceAggregate({ type: 'SUM', field: 'v' }, [{ timestamp: 0, dimensions: { u: 1 } }])).toBeUndefined();
  });
});

describe('QuotaModel and arbQuotaOperations', () => {
  it('never lets usage plus live holds pass the limit', () => {
    fc.assert(
      fc.property(arbQuotaOperations(), (ops) => {
        const m = new QuotaModel(20);
        let now = 0;
        for (const [i, op] of ops.entries()) {
          if (op.kind === 'advance') now += op.ms;
          else if (op.kind === 'consume') m.consume(op.amount, op.overage, now);
          else if (op.kind === 'reserve') m.reserve(`r${i}`, op.amount, op.overage, op.expiresIn, now);
          else {
            const h = m.pick(op.pick);
            if (h && op.kind === 'commit') m.commit(h, op.amount === undefined ? undefined : op.amount % (h.amount + 1), now);
            if (h && op.kind === 'release') m.release(h, now);
          }
          expect(m.usage(now)).toBeLessThanOrEqual(20);
        }
      }),
    );
  });

  it('answers as docs/conventions.md says', () => {
    const m = new QuotaModel(10);
    expect(m.reserve('r1', 8, 'REJECT', 60_000, 0)).toEqual({ granted: 8, status: 'HELD' });
    expect(m.consume(5, 'REJECT', 0)).toEqual({ code: 'USAGE_LIMIT_EXCEEDED' });
    expect(m.consume(5, 'CAP', 0)).toEqual({ granted: 2 });
    const hold = m.pick(0)!;
    expect(m.commit(hold, 3, 1)).toEqual({ status: 'COMMITTED', committedAmount: 3 });
    expect(m.commit(hold, 1, 2)).toEqual({ status: 'COMMITTED', committedAmount: 3 });
    expect(m.release(hold, 2)).toEqual({ code: 'CONFLICT' });
    expect(m.usage(2)).toBe(5);
    m.reserve('r2', 1, 'REJECT', 10, 2);
    expect(m.release(m.pick(1)!, 12)).toEqual({ status: 'EXPIRED' });
    expect(minimumOf(arbQuotaOperations())).toEqual([]);
  });
});

describe('arbReorderedBatches', () => {
  it('delivers every item exactly once, in non-empty batches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer()).chain((items) => fc.tuple(fc.constant(items), arbReorderedBatches(items))),
        ([items, batches]) => {
          expect(batches.every((b) => b.length > 0)).toBe(true);
          expect(batches.flat().sort((a, b) => a - b)).toEqual([...items].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('shrinks to the items in order, in one batch', () => {
    expect(minimumOf(arbReorderedBatches(['a', 'b', 'c']))).toEqual([['a', 'b', 'c']]);
  });
});

describe('credit arbitraries', () => {
  it('give amounts of at most 4 fraction digits within bounds', () => {
    fc.assert(
      fc.property(arbCreditAmount({ max: 3 }), (a) => {
        expect(Number(a)).toBeGreaterThan(0);
        expect(Number(a)).toBeLessThanOrEqual(3);
        expect(a).toMatch(/^\d+(\.\d{1,4})?$/);
      }),
    );
  });

  it('shrink to their minimum', () => {
    expect(minimumOf(arbCreditAmount())).toBe('0.0001');
    expect(minimumOf(arbCreditGrant())).toEqual({ amount: '0.0001', category: 'PAID', priority: undefined, expiresInHours: undefined });
    expect(minimumOf(arbRechargeSettings())).toEqual({ thresholdType: 'CREDIT_AMOUNT', thresholdValue: '0', targetBalance: '1' });
    expect(minimumOf(arbRechargeSettings({ spendLimit: 'ALWAYS' })).maxSpendLimit).toBe('0.01');
  });
});

describe('rechargeSpendWithinLimit', () => {
  const charges = [
    { at: '2024-01-31T23:59:59Z', amount: '6.00' },
    { at: '2024-02-01T00:00:00Z', amount: '6.00' },
    { at: '2024-02-20T00:00:00Z', amount: '4.00' },
  ];
  it('sums charges per UTC calendar month', () => {
    expect(rechargeSpendWithinLimit(charges, '10.00')).toEqual({ '2024-01': '6', '2024-02': '10' });
    expect(rechargeSpendWithinLimit(charges, undefined)).toEqual({ '2024-01': '6', '2024-02': '10' });
  });

  it('catches a month that spends past the limit', () => {
    expect(() => rechargeSpendWithinLimit(charges, '9.99')).toThrow(InvariantError);
    expect(() => rechargeSpendWithinLimit(charges, '9.99')).toThrow(/2024-02/);
  });
});
