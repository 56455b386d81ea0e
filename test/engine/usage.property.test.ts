import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeteredEntitlement, ReportUsageParams } from '@tessera/core';
import { arbUsageSequence, expectedUsage } from '@tessera/testing';
import { demoCatalog, engineOn, storeFactories } from './stores.js';

// Property runs on the engine are slower than on pure rules: 50 by default so CI stays fast.
// Run more locally with
//   FC_NUM_RUNS=2000 npx vitest run test/engine/usage.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 50);
const fcOptions = { numRuns: NUM_RUNS };

/**
 * Sequences of DELTA and SET reports on api-calls (arbUsageSequence): deltas some negative but never
 * taking usage below zero, idempotency keys from a pool of six so that they repeat (a repeat may
 * carry another value and behaviour, even a delta that would go below zero). expectedUsage is the
 * reference: SET replaces, DELTA adds, a key seen before returns the first result and changes nothing.
 */
const arbReports = arbUsageSequence(demoCatalog, { featureIds: ['api-calls'], minLength: 0, maxLength: 30, keys: 6 });

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
    const toParams = (customerId: string, op: ReportUsageParams): ReportUsageParams => ({
      ...op,
      customerId,
      ...(op.idempotencyKey === undefined ? {} : { idempotencyKey: `${customerId}/${op.idempotencyKey}` }),
    });
    const currentUsage = async (customerId: string): Promise<number> =>
      ((await env.engine.getMeteredEntitlement({ customerId, featureId: 'api-calls' })) as MeteredEntitlement).currentUsage;

    it('reportUsage one by one: every result and the final currentUsage equal the model', async () => {
      await fc.assert(
        fc.asyncProperty(arbReports, async (ops) => {
          const customerId = await freshCustomer();
          const expected = expectedUsage(ops);
          const results: number[] = [];
          for (const op of ops) results.push((await env.engine.reportUsage(toParams(customerId, op))).currentUsage);
          expect(results).toEqual(expected.results);
          expect(await currentUsage(customerId)).toBe(expected.usage.c1?.['api-calls'] ?? 0);
        }),
        fcOptions,
      );
    });

    it('reportUsageBulk of the whole sequence: every result and the final currentUsage equal the model', async () => {
      await fc.assert(
        fc.asyncProperty(arbReports, async (ops) => {
          const customerId = await freshCustomer();
          const expected = expectedUsage(ops);
          const results = await env.engine.reportUsageBulk({ usages: ops.map((op) => toParams(customerId, op)) });
          expect(results.map((r) => r.currentUsage)).toEqual(expected.results);
          expect(await currentUsage(customerId)).toBe(expected.usage.c1?.['api-calls'] ?? 0);
        }),
        fcOptions,
      );
    });

    it('replaying the whole sequence with its keys changes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(arbReports, async (ops) => {
          const customerId = await freshCustomer();
          for (const op of ops) await env.engine.reportUsage(toParams(customerId, op));
          const usage = await currentUsage(customerId);
          const keyed = ops.filter((op) => op.idempotencyKey !== undefined);
          for (const op of keyed) await env.engine.reportUsage(toParams(customerId, op));
          expect(await currentUsage(customerId)).toBe(usage);
        }),
        fcOptions,
      );
    });
  });
}
