import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine, memoryStore, testClock, TesseraError, type Store, type TestClock, type UsageKey } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { join } from 'node:path';
import { tempDir } from './stores.js';
import { limitsCatalog } from './limits-catalog.js';
import { limitCellEntity } from '../../packages/core/src/engine/usage/limit-cells.js';

// Several limits under concurrent consumers (docs/limits.md): no limit is ever overshot, and each
// limit's cell holds exactly what was granted in its window. More runs: NUM_RUNS=200.

const NUM_RUNS = Number(process.env.NUM_RUNS ?? 12);
const HOUR = 3_600_000;
const HOUR_LIMIT = 10;
const DAY_LIMIT = 25;

/** A feature limited 10 an hour and 25 a day (small, so that rounds hit both). */
const catalog = limitsCatalog([{ featureId: 'small', usageLimit: HOUR_LIMIT, resetPeriod: 'HOUR', limits: [{ usageLimit: DAY_LIMIT, resetPeriod: 'DAY' }] }]);
catalog.features.push({ id: 'small', displayName: 'Small', type: 'METERED' });

/** A round: the clock moves 0 to 5 hours, then these consumers run at once. */
const arbRound = fc.record({
  hours: fc.integer({ min: 0, max: 5 }),
  asks: fc.array(fc.record({ amount: fc.integer({ min: 1, max: 8 }), cap: fc.boolean(), engine: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 8 }),
});
const arbRounds = fc.array(arbRound, { minLength: 1, maxLength: 6 });
type Round = { hours: number; asks: { amount: number; cap: boolean; engine: number }[] };

type Engine = Awaited<ReturnType<typeof createEngine>>;

async function open(store: Store, clock: TestClock, prefix: string): Promise<Engine> {
  let n = 0;
  return createEngine({ store, catalog, clock, newId: (p) => `${prefix}${p}_${++n}` });
}

/** Runs the rounds on `engines` (asks pick one of them) and checks both invariants against `store`. */
async function runRounds(engines: Engine[], store: Store, clock: TestClock, rounds: Round[]): Promise<void> {
  await engines[0]!.provisionCustomer({ customerId: 'c1' });
  const byHour = new Map<number, number>();
  const byDay = new Map<number, number>();
  for (const round of rounds) {
    clock.advance(round.hours * HOUR);
    const now = clock.nowMs();
    const hour = now - (now % HOUR);
    const day = now - (now % (24 * HOUR));
    const granted = await Promise.all(
      round.asks.map(async (a) => {
        try {
          const r = await engines[a.engine % engines.length]!.consumeUsage({ customerId: 'c1', featureId: 'small', amount: a.amount, overage: a.cap ? 'CAP' : 'REJECT' });
          return r.granted;
        } catch (e) {
          if (e instanceof TesseraError && e.code === 'USAGE_LIMIT_EXCEEDED') return 0;
          throw e;
        }
      }),
    );
    const sum = granted.reduce((x, y) => x + y, 0);
    byHour.set(hour, (byHour.get(hour) ?? 0) + sum);
    byDay.set(day, (byDay.get(day) ?? 0) + sum);
  }
  // The day limit's cell is stored under its reserved entity id (docs/limits.md#cells).
  const key = (start: number, len: number, entityId = ''): UsageKey => ({ customerId: 'c1', resourceId: '', entityId, featureId: 'small', windowStart: start, windowEnd: start + len });
  for (const [start, sum] of byHour) {
    expect(sum).toBeLessThanOrEqual(HOUR_LIMIT);
    const cell = await store.transaction('read', (tx) => tx.getUsage(key(start, HOUR)));
    expect(cell?.value ?? 0).toBe(sum);
  }
  for (const [start, sum] of byDay) {
    expect(sum).toBeLessThanOrEqual(DAY_LIMIT);
    const cell = await store.transaction('read', (tx) => tx.getUsage(key(start, 24 * HOUR, limitCellEntity('DAY'))));
    expect(cell?.value ?? 0).toBe(sum);
  }
}

describe('several limits under concurrent consumers', () => {
  it('never overshoots any limit, and each cell is the sum granted in its window (one engine, memory)', async () => {
    await fc.assert(
      fc.asyncProperty(arbRounds, async (rounds) => {
        const clock = testClock('2024-03-01T00:00:00Z');
        const store = memoryStore();
        const engine = await open(store, clock, '');
        try {
          await runRounds([engine], store, clock, rounds);
        } finally {
          await engine.close();
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never overshoots any limit, and each cell is the sum granted in its window (two engines, one SQLite file)', async () => {
    await fc.assert(
      fc.asyncProperty(arbRounds, async (rounds) => {
        const { dir, cleanup } = tempDir();
        const filename = join(dir, 'limits.db');
        const clock = testClock('2024-03-01T00:00:00Z');
        const a = await open(sqliteStore({ filename }), clock, 'a');
        const readStore = sqliteStore({ filename });
        const b = await open(readStore, clock, 'b');
        try {
          await runRounds([a, b], readStore, clock, rounds);
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
