import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, TesseraError } from '@tessera/core';
import { arbCreditAmount, arbCreditGrant, arbRechargeSettings, ledgerBalances, rechargeSpendWithinLimit, type CreditGrantSpec } from '@tessera/testing';
import { creditsCatalog } from './credits-catalog.js';
import { engineOn, storeFactories, type StoreFactory } from './stores.js';

// Each run builds an engine and drives it through a whole sequence: 30 runs per store keep CI
// fast. Run more locally with
//   FC_NUM_RUNS=1000 npx vitest run test/engine/credits.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 30);
const fcOptions = { numRuns: NUM_RUNS };

const CUR = 'ai-credits';
/** ai-tokens cost 2 credits each (test/engine/credits-catalog.ts). */
const TOKEN_COST = 2;

/** A grant: either category, priority 1 to 4 or the default (100), expiring within six days or never. */
type GrantOp = { op: 'grant' } & CreditGrantSpec;
type CreditOp =
  | GrantOp
  | { op: 'consume'; amount: string }
  | { op: 'usage'; tokens: number }
  | { op: 'void'; pick: number }
  | { op: 'advance'; hours: number };

const arbGrant: fc.Arbitrary<GrantOp> = arbCreditGrant({ maxAmount: 500, maxPriority: 4, maxExpiryHours: 24 * 6 }).map((g) => ({ op: 'grant' as const, ...g }));

/** Grants (random priorities, expiries, categories), burns of both kinds, voids and clock advances. */
const arbCreditSequence: fc.Arbitrary<CreditOp[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: arbGrant },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('consume' as const), amount: arbCreditAmount({ max: 300 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('usage' as const), tokens: fc.integer({ min: 1, max: 150 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('void' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), hours: fc.integer({ min: 1, max: 24 * 12 }) }) },
  ),
  { minLength: 1, maxLength: 25 },
);

/**
 * Automatic recharge settings, or none: CREDIT_AMOUNT or DOLLAR_AMOUNT thresholds up to 400
 * credits, targets up to 2,000 credits ($20.00 a full recharge), sometimes a spend limit up to $25.00.
 */
const arbRecharge = fc.option(arbRechargeSettings({ maxThreshold: 400, maxAbove: 1600, maxSpendCents: 2500 }), { nil: undefined });

const sum = (xs: readonly string[]) => xs.reduce((a, x) => a.plus(x), new Decimal(0));

async function withEngine<T>(factory: StoreFactory, fn: (env: Awaited<ReturnType<typeof engineOn>>) => Promise<T>): Promise<T> {
  const env = await engineOn(factory, { catalog: creditsCatalog });
  try {
    return await fn(env);
  } finally {
    await env.cleanup();
  }
}

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    it('the balance is never negative, each grant’s ledger entries sum to its remaining, and recharges never pass the monthly spend limit', async () => {
      await fc.assert(
        fc.asyncProperty(arbCreditSequence, arbRecharge, (ops, recharge) =>
          withEngine(factory, async ({ engine, clock }) => {
            const customerId = 'c1';
            await engine.provisionCustomer({ customerId });
            if (recharge) {
              await engine.saveAutomaticRechargeConfiguration({
                customerId,
                currencyId: CUR,
                isEnabled: true,
                ...recharge,
              });
            }
            const grantIds: string[] = [];
            const read = async () => {
              const ledger = (await engine.getCreditLedger({ customerId, currencyId: CUR, first: 1000 })).data;
              const grants = await engine.getCreditGrants({ customerId, currencyId: CUR });
              const balance = new Decimal((await engine.getCreditBalance({ customerId, currencyId: CUR })).balance);
              return { ledger, grants, balance };
            };
            let before = await read();
            for (const op of ops) {
              let materialised = false;
              let expected: Decimal | undefined;
              if (op.op === 'grant') {
                const g = await engine.grantCredits({
                  customerId,
                  currencyId: CUR,
                  amount: op.amount,
                  category: op.category,
                  ...(op.priority === undefined ? {} : { priority: op.priority }),
                  ...(op.expiresInHours === undefined ? {} : { expiresAt: new Date(clock.nowMs() + op.expiresInHours * 3_600_000) }),
                });
                grantIds.push(g.id);
                expected = before.balance.plus(op.amount);
              } else if (op.op === 'consume') {
                const covered = before.balance.gte(op.amount);
                const outcome = await engine.consumeCredits({ customerId, currencyId: CUR, amount: op.amount }).then(
                  () => 'ok',
                  (e: unknown) => (e instanceof TesseraError ? `${e.code}:${String(e.details?.reason)}` : String(e)),
                );
                expect(outcome).toBe(covered ? 'ok' : 'USAGE_LIMIT_EXCEEDED:InsufficientCredits');
                materialised = covered;
                expected = covered ? before.balance.minus(op.amount) : before.balance;
              } else if (op.op === 'usage') {
                await engine.reportUsage({ customerId, featureId: 'ai-tokens', value: op.tokens });
                // Reported usage happened: it burns what there is, up to 2 credits a token.
                expected = before.balance.minus(Decimal.min(before.balance, TOKEN_COST * op.tokens));
                materialised = true;
              } else if (op.op === 'void') {
                if (grantIds.length === 0) continue;
                await engine.voidCreditGrant({ customerId, grantId: grantIds[op.pick % grantIds.length]! });
                materialised = true;
              } else {
                clock.advance({ hours: op.hours });
              }
              const after = await read();
              const recharged = sum(after.ledger.slice(before.ledger.length).filter((e) => e.kind === 'RECHARGE').map((e) => e.amount));

              expect(after.balance.isNegative() && !after.balance.isZero()).toBe(false);
              ledgerBalances({ grants: after.grants, entries: after.ledger });
              if (materialised) expect(sum(after.ledger.map((e) => e.amount)).eq(after.balance), 'ledger total vs balance').toBe(true);
              if (expected !== undefined) expect(after.balance.toFixed(), `${op.op} balance`).toBe(expected.plus(recharged).toFixed());
              if (op.op === 'advance') expect(after.balance.lte(before.balance)).toBe(true);
              if (!recharge) expect(recharged.isZero()).toBe(true);

              if (recharge?.maxSpendLimit !== undefined) {
                const charges = (await engine.getInvoices({ customerId })).filter((i) => i.kind === 'RECHARGE').map((i) => ({ at: i.createdAt, amount: i.total }));
                rechargeSpendWithinLimit(charges, recharge.maxSpendLimit);
              }
              before = after;
            }
          }),
        ),
        fcOptions,
      );
    });

    it('the same grants and burns at one timestamp give the same balance in any order', async () => {
      type Burn = { op: 'consume'; amount: string } | { op: 'usage'; tokens: number };
      const arbBurn: fc.Arbitrary<Burn> = fc.oneof(
        fc.record({ op: fc.constant('consume' as const), amount: arbCreditAmount({ max: 200 }) }),
        fc.record({ op: fc.constant('usage' as const), tokens: fc.integer({ min: 1, max: 100 }) }),
      );
      const cost = (b: Burn) => (b.op === 'consume' ? new Decimal(b.amount) : new Decimal(TOKEN_COST * b.tokens));
      /** Grants, then burns that together the grants cover (so every burn succeeds whatever the order), and two shuffles of each. */
      const arbScenario = fc
        .record({ grants: fc.array(arbGrant, { minLength: 1, maxLength: 8 }), burns: fc.array(arbBurn, { maxLength: 8 }) })
        .map(({ grants, burns }) => {
          let room = sum(grants.map((g) => g.amount));
          const kept: Burn[] = [];
          for (const b of burns) {
            if (cost(b).gt(room)) continue;
            room = room.minus(cost(b));
            kept.push(b);
          }
          return { grants, burns: kept };
        })
        .chain((s) =>
          fc.record({
            grants: fc.constant(s.grants),
            burns: fc.constant(s.burns),
            grantOrder: fc.shuffledSubarray([...s.grants.keys()], { minLength: s.grants.length, maxLength: s.grants.length }),
            burnOrder: fc.shuffledSubarray([...s.burns.keys()], { minLength: s.burns.length, maxLength: s.burns.length }),
          }),
        );

      await fc.assert(
        fc.asyncProperty(arbScenario, (s) =>
          withEngine(factory, async ({ engine, clock }) => {
            const play = async (customerId: string, grantOrder: readonly number[], burnOrder: readonly number[]) => {
              await engine.provisionCustomer({ customerId });
              for (const i of grantOrder) {
                const g = s.grants[i]!;
                await engine.grantCredits({
                  customerId,
                  currencyId: CUR,
                  amount: g.amount,
                  category: g.category,
                  ...(g.priority === undefined ? {} : { priority: g.priority }),
                  ...(g.expiresInHours === undefined ? {} : { expiresAt: new Date(clock.nowMs() + g.expiresInHours * 3_600_000) }),
                });
              }
              for (const i of burnOrder) {
                const b = s.burns[i]!;
                if (b.op === 'consume') await engine.consumeCredits({ customerId, currencyId: CUR, amount: b.amount });
                else await engine.reportUsage({ customerId, featureId: 'ai-tokens', value: b.tokens });
              }
              const grants = await engine.getCreditGrants({ customerId, currencyId: CUR });
              // What is left per burn-order class (priority, expiry, category): ties within a class are broken by id, which follows the order of creation.
              const byClass = new Map<string, Decimal>();
              for (const g of grants) {
                const key = `${g.priority}|${g.expiresAt?.getTime() ?? 'never'}|${g.category}`;
                byClass.set(key, (byClass.get(key) ?? new Decimal(0)).plus(g.remaining));
              }
              const classes = [...byClass.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v.toFixed()}`);
              return { balance: (await engine.getCreditBalance({ customerId, currencyId: CUR })).balance, classes };
            };
            const declared = await play('declared', [...s.grants.keys()], [...s.burns.keys()]);
            const shuffled = await play('shuffled', s.grantOrder, s.burnOrder);
            const total = sum(s.grants.map((g) => g.amount)).minus(sum(s.burns.map((b) => cost(b).toFixed())));
            expect(declared.balance).toBe(total.toFixed());
            expect(shuffled.balance).toBe(declared.balance);
            expect(shuffled.classes).toEqual(declared.classes);
          }),
        ),
        fcOptions,
      );
    });
  });
}
