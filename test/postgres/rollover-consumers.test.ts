import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, rolloverLedger, testClock, TesseraError, type CatalogDefinition, type MeteredEntitlement, type RolloverWindowInput } from '@tessera/core';
import { freshPgStore } from '../support/pg-stores.js';

// Rollover with several engines on one PostgreSQL schema (docs/rollovers.md#consumption): four
// engines, each with its own pool, consume at once; in every day what is granted never passes the
// base limit plus the balance the ledger carries in, a hold alive when a day ends included
// (docs/rollovers.md#holds). A fixed scenario, worked by hand beside the ledger.

const DAY = 86_400_000;
const LIMIT = 10;
const ROLLOVER = { max: 15, expiresAfter: 2 };
const START = Date.parse('2024-03-01T00:00:00Z');
const ENGINES = 4;

const catalog: CatalogDefinition = {
  features: [{ id: 'calls', type: 'METERED' }],
  products: [{ id: 'app', defaultPlanId: 'free', startWith: 'FREE_PLAN' }],
  plans: [{ id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'calls', usageLimit: LIMIT, resetPeriod: 'DAY', rollover: ROLLOVER }] }],
};

type Engine = Awaited<ReturnType<typeof createEngine>>;

/** The bound of day `day`: the base limit plus what the ledger carries in given each earlier day's usage. */
function bound(used: number[], day: number): number {
  const windows: RolloverWindowInput[] = [];
  for (let i = 0; i < day; i++) windows.push({ start: START + i * DAY, end: START + (i + 1) * DAY, limit: LIMIT, used: used[i] ?? 0, rollover: ROLLOVER });
  const ledger = rolloverLedger({ resetPeriod: 'DAY', anchor: START }, windows);
  return LIMIT + (ledger.length === 0 ? 0 : ledger[ledger.length - 1]!.carriedOut.reduce((s, c) => s + c.amount, 0));
}

describe('rollover with four engines on one PostgreSQL schema', () => {
  let engines: Engine[] = [];
  afterEach(async () => {
    for (const e of engines) await e.close();
    engines = [];
  });

  it('never grants past base + rollover in a day, with holds across the day end', async () => {
    const { store, reopen } = freshPgStore();
    const clock = testClock(new Date(START));
    for (let i = 0; i < ENGINES; i++) engines.push(await createEngine({ store: i === 0 ? store : reopen(), catalog, clock, newId: (p) => `e${i}${p}_${Math.random().toString(36).slice(2)}` }));
    await engines[0]!.provisionCustomer({ customerId: 'c1' });
    const used: number[] = [];
    const consume = async (engine: Engine, amount: number, cap: boolean): Promise<number> => {
      try {
        return (await engine.consumeUsage({ customerId: 'c1', featureId: 'calls', amount, overage: cap ? 'CAP' : 'REJECT' })).granted;
      } catch (e) {
        if (e instanceof TesseraError && e.code === 'USAGE_LIMIT_EXCEEDED') return 0;
        throw e;
      }
    };
    /** Every engine asks for `asks` at once, then one asks for the rest: the day's total is the bound exactly. */
    const race = async (day: number, expected: number): Promise<void> => {
      const b = bound(used, day);
      expect(b).toBe(expected);
      for (const e of engines) expect(((await e.getMeteredEntitlement({ customerId: 'c1', featureId: 'calls' })) as MeteredEntitlement).usageLimit).toBe(b);
      const got = await Promise.all(engines.flatMap((e, i) => [consume(e, 6, true), consume(e, 4, false), consume(e, 3 + i, i % 2 === 0)]));
      const total = (used[day] ?? 0) + got.reduce((x, y) => x + y, 0);
      expect(total).toBeLessThanOrEqual(b);
      used[day] = total + (await consume(engines[1]!, b + 1, true));
      expect(used[day]).toBe(b);
    };

    used[0] = await consume(engines[0]!, 3, false); // day 0: 7 unused, carried into days 1 and 2
    clock.set(new Date(START + DAY));
    await race(1, 17); // burns the 7 first: nothing unused
    clock.set(new Date(START + 3 * DAY)); // day 2 unused: 10 carried into days 3 and 4
    used[3] = await consume(engines[2]!, 4, false);
    clock.set(new Date(START + 4 * DAY - 3_600_000));
    const hold = await engines[3]!.reserveUsage({ customerId: 'c1', featureId: 'calls', amount: 5, expiresIn: 2 * 3_600_000 });
    used[3] += hold.granted; // held at the day's end: counted as used (4 + 5 burn 9 of the 10)
    clock.set(new Date(START + 4 * DAY + 1_800_000));
    await race(4, 21); // 1 left of day 2's, 10 of day 3's unused
    // The hold commits into day 3 after the race: the bound it was judged on stands.
    await engines[0]!.commitReservation({ reservationId: hold.reservationId });
    expect(bound(used, 4)).toBe(21);
    const after = (await engines[2]!.getMeteredEntitlement({ customerId: 'c1', featureId: 'calls' })) as MeteredEntitlement;
    expect([after.usageLimit, after.currentUsage]).toEqual([21, 21]);
  });
});
