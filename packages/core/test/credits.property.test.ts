/**
 * Properties of credits and automatic recharge (docs/credits.md). numRuns is moderate for CI;
 * run more with FC_NUM_RUNS=5000 npx vitest run packages/core/test/credits.property
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, roundMoney, toMoney } from '../src/money.js';
import {
  type CreditGrant,
  type LedgerEntry,
  balanceAt,
  burnCredits,
  burnOrder,
  createGrant,
  expireCredits,
  isUsableAt,
  ledgerBalance,
  ledgerMismatches,
  planBurn,
  voidGrant,
} from '../src/rules/credits.js';
import { type RechargeConfig, decideRecharge, monthlySpend } from '../src/rules/recharge.js';
import { arbCreditAmount, arbCreditGrant, arbRechargeSettings, ledgerBalances, rechargeSpendWithinLimit, type CreditGrantSpec } from '@tessera/testing';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);
const HOUR = 3_600_000;
const T0 = Date.parse('2024-01-15T00:00:00Z');

// ---------- Arbitraries ----------

/** A positive credit amount with up to 4 fraction digits, 0.0001 to 1000. */
const arbAmount = arbCreditAmount({ max: 1000 });

/** What a grant is given with (ids and instants are assigned when it is created): priority 1 to 3 or the default, expiring within 72 hours or never. */
const arbGrant: fc.Arbitrary<CreditGrantSpec> = arbCreditGrant({ maxAmount: 1000, maxPriority: 3, maxExpiryHours: 72 });

type Operation =
  | { op: 'grant'; grant: CreditGrantSpec }
  | { op: 'burn'; amount: string }
  | { op: 'advance'; hours: number }
  | { op: 'expire' }
  | { op: 'void'; index: number };

/** Grants, burns (some larger than the balance), time passing, expiry ticks and voids. */
const arbCreditSequence: fc.Arbitrary<Operation[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: arbGrant.map((grant) => ({ op: 'grant' as const, grant })) },
    { weight: 4, arbitrary: arbAmount.map((amount) => ({ op: 'burn' as const, amount })) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 48 }).map((hours) => ({ op: 'advance' as const, hours })) },
    { weight: 1, arbitrary: fc.constant({ op: 'expire' as const }) },
    { weight: 1, arbitrary: fc.nat(50).map((index) => ({ op: 'void' as const, index })) },
  ),
  { maxLength: 40 },
);

/** Grants and burns all at one instant. */
type InstantOp = { op: 'grant'; grant: CreditGrantSpec; id: string } | { op: 'burn'; amount: string };

/** A list of grants and burns at one instant, and two orders of it. */
const arbBurnSequence: fc.Arbitrary<[InstantOp[], InstantOp[]]> = fc
  .tuple(fc.array(arbGrant, { minLength: 1, maxLength: 8 }), fc.array(arbAmount.map((a) => new Decimal(a).div(20).toFixed()), { maxLength: 8 }))
  .chain(([grants, burns]) => {
    const ops: InstantOp[] = [
      ...grants.map((grant, i) => ({ op: 'grant' as const, grant, id: `g${i}` })),
      ...burns.map((amount) => ({ op: 'burn' as const, amount })),
    ];
    const order = fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length });
    return fc.tuple(order, order);
  });

// ---------- A wallet driven by the rules, as the engine will drive them ----------

interface Wallet {
  grants: CreditGrant[];
  entries: LedgerEntry[];
  now: number;
  next: number;
}

function addGrant(w: Wallet, spec: CreditGrantSpec, id = `g${w.next++}`, kind: 'GRANT' | 'RECHARGE' = 'GRANT'): void {
  const { grant, entry } = createGrant({
    id,
    customerId: 'c1',
    currencyId: 'credits',
    amount: spec.amount,
    category: spec.category,
    priority: spec.priority,
    expiresAt: spec.expiresInHours === undefined ? null : w.now + spec.expiresInHours * HOUR,
    createdAt: w.now,
    kind,
  });
  w.grants.push(grant);
  w.entries.push(entry);
}

const sum = (values: readonly string[]) => values.reduce((t, v) => t.plus(v), new Decimal(0));

function assertInvariants(w: Wallet): void {
  // The ledger balances, grant by grant, and in total over all grants (expired and voided included).
  expect(ledgerMismatches(w.grants, w.entries)).toEqual([]);
  ledgerBalances({ grants: w.grants, entries: w.entries });
  expect(ledgerBalance(w.entries)).toBe(sum(w.grants.map((g) => g.remaining)).toFixed());
  for (const g of w.grants) {
    expect(new Decimal(g.remaining).gte(0)).toBe(true);
    expect(new Decimal(g.remaining).lte(g.amount)).toBe(true);
  }
  expect(new Decimal(balanceAt(w.grants, w.now)).gte(0)).toBe(true);
  // The balance read at `now` without a tick equals the balance once expiry is materialised.
  const expired = expireCredits(w.grants, w.now);
  expect(sum(expired.grants.map((g) => g.remaining)).toFixed()).toBe(new Decimal(balanceAt(w.grants, w.now)).toFixed());
}

describe('credit properties', () => {
  it('the ledger balances and the balance is never negative after any sequence of grants, burns, expiries and voids', () => {
    fc.assert(
      fc.property(arbCreditSequence, (ops) => {
        const w: Wallet = { grants: [], entries: [], now: T0, next: 0 };
        for (const o of ops) {
          if (o.op === 'grant') addGrant(w, o.grant);
          else if (o.op === 'advance') w.now += o.hours * HOUR;
          else if (o.op === 'expire') {
            const r = expireCredits(w.grants, w.now);
            w.grants = r.grants;
            w.entries.push(...r.entries);
          } else if (o.op === 'void') {
            if (w.grants.length === 0) continue;
            const r = voidGrant(w.grants, w.grants[o.index % w.grants.length]!.id, w.now);
            w.grants = r.grants;
            w.entries.push(...r.entries);
          } else {
            const before = w.grants;
            const balance = new Decimal(balanceAt(before, w.now));
            const r = burnCredits(before, o.amount, w.now);
            expect(r.covered).toBe(balance.gte(o.amount));
            if (r.covered) {
              // Burning never touches an expired, voided or drained grant, and takes exactly the amount.
              const byId = new Map(before.map((g) => [g.id, g]));
              for (const b of r.burns) expect(isUsableAt(byId.get(b.grantId)!, w.now)).toBe(true);
              expect(sum(r.burns.map((b) => b.amount)).eq(o.amount)).toBe(true);
              expect(new Decimal(balanceAt(r.grants, w.now)).eq(balance.minus(o.amount))).toBe(true);
            } else {
              expect(r.entries).toEqual([]);
              expect(r.grants).toEqual(before);
            }
            w.grants = r.grants;
            w.entries.push(...r.entries);
          }
          assertInvariants(w);
        }
      }),
      { numRuns },
    );
  });

  it('a burn plan takes min(amount, balance) in burn order, draining every grant but the last it touches', () => {
    fc.assert(
      fc.property(fc.array(arbGrant, { maxLength: 8 }), arbAmount, fc.integer({ min: 0, max: 96 }), (specs, amount, hours) => {
        const w: Wallet = { grants: [], entries: [], now: T0, next: 0 };
        for (const s of specs) addGrant(w, s);
        const at = T0 + hours * HOUR;
        const balance = new Decimal(balanceAt(w.grants, at));
        const plan = planBurn(w.grants, amount, at);
        expect(plan.covered).toBe(balance.gte(amount));
        expect(sum(plan.burns.map((b) => b.amount)).eq(Decimal.min(balance, amount))).toBe(true);
        const order = burnOrder(w.grants, at);
        expect(plan.burns.map((b) => b.grantId)).toEqual(order.slice(0, plan.burns.length).map((g) => g.id));
        plan.burns.slice(0, -1).forEach((b, i) => expect(b.amount).toBe(order[i]!.remaining));
      }),
      { numRuns },
    );
  });

  it('any order of grants and burns at one instant gives the same final balance', () => {
    fc.assert(
      fc.property(arbBurnSequence, ([first, second]) => {
        const run = (ops: InstantOp[]) => {
          const w: Wallet = { grants: [], entries: [], now: T0, next: 0 };
          let allCovered = true;
          for (const o of ops) {
            if (o.op === 'grant') addGrant(w, o.grant, o.id);
            else {
              const r = burnCredits(w.grants, o.amount, w.now);
              allCovered &&= r.covered;
              w.grants = r.grants;
              w.entries.push(...r.entries);
            }
          }
          return { balance: balanceAt(w.grants, w.now), allCovered };
        };
        const a = run(first);
        const b = run(second);
        const granted = sum(first.flatMap((o) => (o.op === 'grant' ? [o.grant.amount] : [])));
        const burnt = sum(first.flatMap((o) => (o.op === 'burn' ? [o.amount] : [])));
        if (a.allCovered) expect(new Decimal(a.balance).eq(granted.minus(burnt))).toBe(true);
        if (a.allCovered && b.allCovered) expect(a.balance).toBe(b.balance);
      }),
      { numRuns },
    );
  });

  it('grants given in any order, then burns in any order, leave every grant with the same remainder', () => {
    fc.assert(
      fc.property(arbBurnSequence, ([first, second]) => {
        const run = (ops: InstantOp[]) => {
          const w: Wallet = { grants: [], entries: [], now: T0, next: 0 };
          for (const o of ops) if (o.op === 'grant') addGrant(w, o.grant, o.id);
          for (const o of ops) if (o.op === 'burn') w.grants = burnCredits(w.grants, o.amount, w.now).grants;
          return Object.fromEntries(w.grants.map((g) => [g.id, g.remaining]));
        };
        const burnt = sum(first.flatMap((o) => (o.op === 'burn' ? [o.amount] : [])));
        const granted = sum(first.flatMap((o) => (o.op === 'grant' ? [o.grant.amount] : [])));
        fc.pre(burnt.lte(granted));
        expect(run(first)).toEqual(run(second));
      }),
      { numRuns },
    );
  });
});

// ---------- Recharge ----------

const arbUnitPrice = fc.constantFrom(
  { amount: '0.20', currency: 'USD' },
  { amount: '0.015', currency: 'USD' },
  { amount: '0.004', currency: 'USD' },
  { amount: '0.333', currency: 'USD' },
  { amount: '7', currency: 'JPY' },
  { amount: '0.1234', currency: 'KWD' },
);

/** CREDIT_AMOUNT thresholds up to 50 credits, targets up to 300 above, always a spend limit up to 100.00. */
const arbRechargeConfig: fc.Arbitrary<RechargeConfig> = arbRechargeSettings({
  thresholdTypes: ['CREDIT_AMOUNT'],
  maxThreshold: 50,
  maxAbove: 300,
  maxSpendCents: 10_000,
  spendLimit: 'ALWAYS',
}).map((settings) => ({ customerId: 'c1', currencyId: 'credits', isEnabled: true, ...settings }));

/** Burns of up to 200 credits, each some hours after the previous, over about two months. */
const arbUsage = fc.array(fc.record({ hours: fc.integer({ min: 0, max: 60 }), amount: fc.integer({ min: 1, max: 20_000 }).map((n) => new Decimal(n).div(100).toFixed()) }), {
  maxLength: 50,
});

describe('recharge properties', () => {
  it('recharges in a month never cost more than the spend limit, and each costs its credits at the unit price rounded once', () => {
    fc.assert(
      fc.property(arbRechargeConfig, arbUnitPrice, arbUsage, (config, unitPrice, usage) => {
        let grants: CreditGrant[] = [];
        const charges: { at: number; amount: string }[] = [];
        let now = T0;
        let n = 0;
        for (const u of usage) {
          now += u.hours * HOUR;
          const r = burnCredits(grants, u.amount, now);
          // A burn the balance does not cover takes what there is (as a soft overage would).
          grants = r.covered ? r.grants : burnCredits(grants, balanceAt(grants, now), now).grants;
          const balance = balanceAt(grants, now);
          const d = decideRecharge({ config, balance, unitPrice, spentThisMonth: monthlySpend(charges, now), now });
          expect(d === null).toBe(new Decimal(balance).gte(config.thresholdValue));
          if (!d || d.credits === '0') continue;
          const credits = new Decimal(d.credits);
          expect(credits.isInteger() && credits.gt(0) && credits.lte(d.wanted)).toBe(true);
          expect(d.cost).toEqual(toMoney(roundMoney(credits.times(unitPrice.amount), unitPrice.currency), unitPrice.currency));
          grants.push(createGrant({ id: `r${n++}`, customerId: 'c1', currencyId: 'credits', amount: d.credits, createdAt: now, expiresAt: d.expiresAt, kind: 'RECHARGE' }).grant);
          charges.push({ at: now, amount: d.cost.amount });
          if (!d.limitedBySpend) expect(new Decimal(balanceAt(grants, now)).gte(config.targetBalance)).toBe(true);
        }
        rechargeSpendWithinLimit(charges, config.maxSpendLimit);
      }),
      { numRuns },
    );
  });
});
