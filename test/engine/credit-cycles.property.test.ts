import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, TesseraError } from '@tessera/core';
import { cycleCatalog } from './credit-cycles-catalog.js';
import { engineOn, storeFactories } from './stores.js';

// Each run drives one engine through a whole sequence: 15 runs per store keep CI fast. Run more with
//   FC_NUM_RUNS=300 npx vitest run test/engine/credit-cycles.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 15);

const AI = 'ai-credits';
/** `pro` grants 1,000 ai-credits a month, rollover up to 500 (test/engine/credit-cycles-catalog.ts). */
const MONTHLY = new Decimal(1000);
const ROLLOVER_MAX = new Decimal(500);
const START = Date.parse('2024-01-15T10:00:00Z');

type Op = { op: 'advance'; hours: number } | { op: 'burn'; amount: number } | { op: 'tick'; times: number };

/** Clock steps up to 45 days (so some skip a whole cycle), burns up to 1,600 credits, and one or two ticks. */
const arbCycleSequence: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), hours: fc.integer({ min: 1, max: 45 * 24 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('burn' as const), amount: fc.integer({ min: 1, max: 1600 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), times: fc.integer({ min: 1, max: 2 }) }) },
  ),
  { minLength: 1, maxLength: 20 },
);

/** The monthly cycle starts from the anchor up to `now` (anchor Jan 15 10:00 UTC, no clamping before the 28th). */
function cycleStarts(now: number): number[] {
  const out: number[] = [];
  for (let n = 0; ; n++) {
    const d = new Date(START);
    d.setUTCMonth(d.getUTCMonth() + n);
    if (d.getTime() > now) return out;
    out.push(d.getTime());
  }
}

for (const factory of storeFactories().filter((f) => f.name !== 'postgres')) {
  describe(factory.name, () => {
    it('the ledger balances, the balance follows the model and is never negative, and each cycle is issued exactly once', async () => {
      await fc.assert(
        fc.asyncProperty(arbCycleSequence, async (ops) => {
          const env = await engineOn(factory, { catalog: cycleCatalog, start: '2024-01-15T10:00:00Z' });
          try {
            const { engine, clock } = env;
            await engine.provisionCustomer({ customerId: 'c1' });
            const sub = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'ANNUALLY' });
            // The model: what the current cycle holds; at each cycle start 1,000 + min(left, 500).
            let model = MONTHLY;
            let cyclesSeen = 1;
            const balance = async () => new Decimal((await engine.getCreditBalance({ customerId: 'c1', currencyId: AI })).balance);
            for (const step of ops) {
              if (step.op === 'advance') {
                clock.advance({ hours: step.hours });
                const cycles = cycleStarts(clock.nowMs()).length;
                for (; cyclesSeen < cycles; cyclesSeen++) model = MONTHLY.plus(Decimal.min(model, ROLLOVER_MAX));
              } else if (step.op === 'burn') {
                const ok = await engine.consumeCredits({ customerId: 'c1', currencyId: AI, amount: String(step.amount) }).then(
                  () => true,
                  (e: unknown) => {
                    if (e instanceof TesseraError && e.code === 'USAGE_LIMIT_EXCEEDED') return false;
                    throw e;
                  },
                );
                expect(ok).toBe(model.gte(step.amount));
                if (ok) model = model.minus(step.amount);
              } else {
                for (let i = 0; i < step.times; i++) await engine.tick();
                await expectLedgerBalanced(engine, sub.id, clock.nowMs());
              }
              const b = await balance();
              expect(b.gte(0)).toBe(true);
              expect(b.toFixed()).toBe(model.toFixed());
            }
            await engine.tick();
            await expectLedgerBalanced(engine, sub.id, clock.nowMs());
          } finally {
            await env.cleanup();
          }
        }),
        { numRuns: NUM_RUNS },
      );
    }, 60_000);
  });
}

/**
 * After a tick: each grant's ledger entries sum to its remaining, within [0, amount]; the ledger's
 * sum is the balance (every expiry written); every cycle up to `now` has exactly one grant, opened
 * by exactly one GRANT entry.
 */
async function expectLedgerBalanced(engine: Awaited<ReturnType<typeof engineOn>>['engine'], subscriptionId: string, now: number): Promise<void> {
  const grants = await engine.getCreditGrants({ customerId: 'c1', currencyId: AI });
  const entries = (await engine.getCreditLedger({ customerId: 'c1', currencyId: AI, first: 1000 })).data;
  const total = (xs: readonly { amount: string }[]) => xs.reduce((a, x) => a.plus(x.amount), new Decimal(0));
  for (const g of grants) {
    expect(total(entries.filter((e) => e.grantId === g.id)).toFixed(), g.id).toBe(new Decimal(g.remaining).toFixed());
    expect(new Decimal(g.remaining).gte(0) && new Decimal(g.remaining).lte(g.amount)).toBe(true);
  }
  const { balance } = await engine.getCreditBalance({ customerId: 'c1', currencyId: AI });
  expect(total(entries).toFixed()).toBe(new Decimal(balance).toFixed());
  const cycleIds = grants.filter((g) => !g.id.endsWith(':rollover')).map((g) => g.id);
  expect(cycleIds.sort()).toEqual(cycleStarts(now).map((s) => `cc:${subscriptionId}:plan:${AI}:MONTH:${s}`).sort());
  for (const id of cycleIds) expect(entries.filter((e) => e.grantId === id && e.kind === 'GRANT')).toHaveLength(1);
}
