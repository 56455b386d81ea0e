import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { createEngine, memoryStore, rolloverLedger, testClock, TesseraError, type CatalogDefinition, type MeteredEntitlement, type RolloverWindowInput, type Store, type TestClock } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { tempDir } from './stores.js';

// Rollover under concurrent consumers (docs/rollovers.md#consumption): in every window, what is
// granted never passes the base limit plus the balance the ledger carries in from the windows
// granted before, and the check shows that same limit. More runs: NUM_RUNS=100.

const NUM_RUNS = Number(process.env.NUM_RUNS ?? 10);
const DAY = 86_400_000;
const LIMIT = 10;
const ROLLOVER = { max: 15, expiresAfter: 2 };
const START = Date.parse('2024-03-01T00:00:00Z');

const catalog: CatalogDefinition = {
  features: [{ id: 'calls', type: 'METERED' }],
  products: [{ id: 'app', defaultPlanId: 'free', startWith: 'FREE_PLAN' }],
  plans: [{ id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'calls', usageLimit: LIMIT, resetPeriod: 'DAY', rollover: ROLLOVER }] }],
};

/** A round: the clock moves 0 to 2 days, then these consumers run at once. */
const arbRounds = fc.array(
  fc.record({
    days: fc.integer({ min: 0, max: 2 }),
    asks: fc.array(fc.record({ amount: fc.integer({ min: 1, max: 9 }), cap: fc.boolean(), engine: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 6 }),
  }),
  { minLength: 1, maxLength: 8 },
);
type Round = { days: number; asks: { amount: number; cap: boolean; engine: number }[] };
type Engine = Awaited<ReturnType<typeof createEngine>>;

async function open(store: Store, clock: TestClock, prefix: string): Promise<Engine> {
  let n = 0;
  return createEngine({ store, catalog, clock, newId: (p) => `${prefix}${p}_${++n}` });
}

/** The balance the ledger carries into day `day` (index from START) given what was granted each day before. */
function carriedInto(granted: number[], day: number): number {
  const windows: RolloverWindowInput[] = [];
  for (let i = 0; i < day; i++) windows.push({ start: START + i * DAY, end: START + (i + 1) * DAY, limit: LIMIT, used: granted[i] ?? 0, rollover: ROLLOVER });
  const ledger = rolloverLedger({ resetPeriod: 'DAY', anchor: START }, windows);
  return ledger.length === 0 ? 0 : ledger[ledger.length - 1]!.carriedOut.reduce((s, c) => s + c.amount, 0);
}

async function runRounds(engines: Engine[], clock: TestClock, rounds: Round[]): Promise<void> {
  await engines[0]!.provisionCustomer({ customerId: 'c1' });
  const granted: number[] = [];
  for (const round of rounds) {
    clock.advance(round.days * DAY);
    const day = Math.floor((clock.nowMs() - START) / DAY);
    const bound = LIMIT + carriedInto(granted, day);
    const check = (await engines[0]!.getMeteredEntitlement({ customerId: 'c1', featureId: 'calls' })) as MeteredEntitlement;
    expect(check.usageLimit).toBe(bound);
    expect(check.rollover!.balance).toBe(bound - LIMIT);
    const got = await Promise.all(
      round.asks.map(async (a) => {
        try {
          return (await engines[a.engine % engines.length]!.consumeUsage({ customerId: 'c1', featureId: 'calls', amount: a.amount, overage: a.cap ? 'CAP' : 'REJECT' })).granted;
        } catch (e) {
          if (e instanceof TesseraError && e.code === 'USAGE_LIMIT_EXCEEDED') return 0;
          throw e;
        }
      }),
    );
    granted[day] = (granted[day] ?? 0) + got.reduce((x, y) => x + y, 0);
    expect(granted[day]).toBeLessThanOrEqual(bound);
    // A request for the rest of the bound is granted, so the bound is reached, not undershot.
    const rest = bound - granted[day]!;
    if (rest > 0) {
      const r = await engines[0]!.consumeUsage({ customerId: 'c1', featureId: 'calls', amount: rest + 1, overage: 'CAP' });
      expect(r.granted).toBe(rest);
      granted[day] = bound;
    }
  }
}

describe('rollover under concurrent consumers', () => {
  it('never grants past base + rollover in a window (one engine, memory)', async () => {
    await fc.assert(
      fc.asyncProperty(arbRounds, async (rounds) => {
        const clock = testClock(new Date(START));
        const engine = await open(memoryStore(), clock, '');
        try {
          await runRounds([engine], clock, rounds);
        } finally {
          await engine.close();
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never grants past base + rollover in a window (two engines, one SQLite file)', async () => {
    await fc.assert(
      fc.asyncProperty(arbRounds, async (rounds) => {
        const { dir, cleanup } = tempDir();
        const filename = join(dir, 'rollover.db');
        const clock = testClock(new Date(START));
        const a = await open(sqliteStore({ filename }), clock, 'a');
        const b = await open(sqliteStore({ filename }), clock, 'b');
        try {
          await runRounds([a, b], clock, rounds);
        } finally {
          await a.close();
          await b.close();
          cleanup();
        }
      }),
      { numRuns: Math.max(4, Math.floor(NUM_RUNS / 2)) },
    );
  });
});
