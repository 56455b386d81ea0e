import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeteredEntitlement, ReportUsageParams } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';

// Property runs on the engine are slower than on pure rules: 50 by default so CI stays fast.
// Run more locally with
//   FC_NUM_RUNS=2000 npx vitest run test/engine/usage.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 50);
const fcOptions = { numRuns: NUM_RUNS };

/** One report of a sequence; `key` undefined means no idempotency key. */
interface UsageOp {
  behavior: 'SET' | 'DELTA';
  value: number;
  key: string | undefined;
}

/**
 * The reference model: SET replaces, DELTA adds, and a key seen before returns the first
 * result without changing anything. Returns the result of every op and the final usage.
 */
function model(ops: readonly UsageOp[]): { results: number[]; usage: number } {
  const firstResult = new Map<string, number>();
  let usage = 0;
  const results: number[] = [];
  for (const op of ops) {
    const replay = op.key === undefined ? undefined : firstResult.get(op.key);
    if (replay !== undefined) {
      results.push(replay);
      continue;
    }
    usage = op.behavior === 'SET' ? op.value : usage + op.value;
    if (op.key !== undefined) firstResult.set(op.key, usage);
    results.push(usage);
  }
  return { results, usage };
}

/**
 * Sequences of DELTA and SET reports: SET values 0..1000, deltas -1000..1000 raised where needed so
 * that no applied delta takes usage below zero, idempotency keys from a small pool so they repeat
 * (a repeat may carry another value and behaviour).
 */
const arbUsageSequence: fc.Arbitrary<UsageOp[]> = fc
  .array(
    fc.record({
      behavior: fc.constantFrom('SET' as const, 'DELTA' as const),
      set: fc.integer({ min: 0, max: 1000 }),
      delta: fc.integer({ min: -1000, max: 1000 }),
      key: fc.option(fc.constantFrom('k0', 'k1', 'k2', 'k3', 'k4', 'k5'), { nil: undefined }),
    }),
    { maxLength: 30 },
  )
  .map((raw) => {
    const seen = new Set<string>();
    let usage = 0;
    return raw.map(({ behavior, set, delta, key }): UsageOp => {
      const value = behavior === 'SET' ? set : delta;
      if (key !== undefined && seen.has(key)) return { behavior, value, key }; // replayed: value is ignored
      if (key !== undefined) seen.add(key);
      const applied = behavior === 'SET' ? value : Math.max(value, -usage);
      usage = behavior === 'SET' ? applied : usage + applied;
      return { behavior, value: applied, key };
    });
  });

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Awaited<ReturnType<typeof engineOn>>;
    let run = 0;

    beforeAll(async () => {
      env = await engineOn(factory);
    });
    afterAll(async () => {
      await env.cleanup();
    });

    /** A fresh customer per run; keys are prefixed with it because idempotency keys are global. */
    const freshCustomer = async (): Promise<string> => {
      const customerId = `prop-${++run}`;
      await env.engine.provisionCustomer({ customerId });
      return customerId;
    };
    const toParams = (customerId: string, op: UsageOp): ReportUsageParams => ({
      customerId,
      featureId: 'api-calls',
      value: op.value,
      updateBehavior: op.behavior,
      ...(op.key === undefined ? {} : { idempotencyKey: `${customerId}/${op.key}` }),
    });
    const currentUsage = async (customerId: string): Promise<number> =>
      ((await env.engine.getMeteredEntitlement({ customerId, featureId: 'api-calls' })) as MeteredEntitlement).currentUsage;

    it('reportUsage one by one: every result and the final currentUsage equal the model', async () => {
      await fc.assert(
        fc.asyncProperty(arbUsageSequence, async (ops) => {
          const customerId = await freshCustomer();
          const expected = model(ops);
          const results: number[] = [];
          for (const op of ops) results.push((await env.engine.reportUsage(toParams(customerId, op))).currentUsage);
          expect(results).toEqual(expected.results);
          expect(await currentUsage(customerId)).toBe(expected.usage);
        }),
        fcOptions,
      );
    });

    it('reportUsageBulk of the whole sequence: every result and the final currentUsage equal the model', async () => {
      await fc.assert(
        fc.asyncProperty(arbUsageSequence, async (ops) => {
          const customerId = await freshCustomer();
          const expected = model(ops);
          const results = await env.engine.reportUsageBulk({ usages: ops.map((op) => toParams(customerId, op)) });
          expect(results.map((r) => r.currentUsage)).toEqual(expected.results);
          expect(await currentUsage(customerId)).toBe(expected.usage);
        }),
        fcOptions,
      );
    });

    it('replaying the whole sequence with its keys changes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(arbUsageSequence, async (ops) => {
          const customerId = await freshCustomer();
          for (const op of ops) await env.engine.reportUsage(toParams(customerId, op));
          const usage = await currentUsage(customerId);
          const keyed = ops.filter((op) => op.key !== undefined);
          for (const op of keyed) await env.engine.reportUsage(toParams(customerId, op));
          expect(await currentUsage(customerId)).toBe(usage);
        }),
        fcOptions,
      );
    });
  });
}
