/**
 * Fuzzes every public engine method with malformed and near-valid params (generators from
 * @tessera/testing): each call settles in bounded time with a TesseraError of an argument's code
 * or succeeds; a rejected call leaves every table as it was (SQLite: every row of every table;
 * memory: the change feed); Object.prototype stays untouched.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, Engine, memoryStore, testClock, type Store } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { tempDir } from '../engine/stores.js';
import {
  expectArgumentError,
  expectFiniteUsage,
  probeCustomers,
  fuzzCatalog,
  FUZZ_SEED,
  NOT_FUZZED,
  prototypeFingerprint,
  runsPerMethod,
  seed,
  settle,
  sqliteDumper,
  targets,
  type Target,
} from './targets.js';
import { methodsOf } from '../../packages/core/src/engine/method-names.js';

// About 50 methods x 2 stores x RUNS calls; 100 keeps the file near 30 s here.
// More: TESSERA_FUZZ_RUNS=500 npx vitest run test/fuzz (TESSERA_FUZZ_SEED=<seed> replays a failure).
const RUNS = runsPerMethod(100);
let calls = 0;
const proto = prototypeFingerprint();

async function openEngine(store: Store): Promise<Engine> {
  let n = 0;
  return createEngine({ store, catalog: fuzzCatalog, clock: testClock('2024-01-31T10:00:00Z'), newId: (prefix) => `${prefix}_${++n}` });
}

/** Runs one target's property; `unchanged` says whether the stored state is what it was before a call. */
async function fuzz(engine: Engine, target: Target, snapshot: () => Promise<string>, afterSuccess: () => void = () => {}): Promise<void> {
  let before = await snapshot();
  await fc.assert(
    fc.asyncProperty(target.arb, async (value) => {
      calls++;
      const fn = (engine as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[target.method]!;
      const outcome = await settle(() => fn.apply(engine, target.args(value)));
      const after = await snapshot();
      if (!outcome.ok) {
        expectArgumentError(target.method, outcome.error);
        if (after !== before) throw new Error(`${target.method}: a rejected call (${(outcome.error as Error).message}) changed the store`);
      }
      if (outcome.ok && after !== before) {
        await probeCustomers(engine, target.method);
        afterSuccess();
      }
      before = after;
      if (prototypeFingerprint() !== proto) throw new Error(`${target.method}: Object.prototype or Array.prototype changed`);
    }),
    { numRuns: RUNS, ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}) },
  );
}

describe('engine fuzz', () => {
  afterAll(() => {
    console.log(`fuzz: engine ${calls.toLocaleString('en-US')} calls (${RUNS} per method and store)`);
  });

  it('has a target for every public engine method', async () => {
    const engine = await openEngine(memoryStore());
    const names = targets(await seed(engine)).map((t) => t.method);
    const methods = [...methodsOf(Engine.prototype).keys()].filter(
      (m) => !NOT_FUZZED.includes(m),
    );
    expect(methods.filter((m) => !names.includes(m))).toEqual([]);
    await engine.close();
  });

  it('SQLite: every call settles with an argument error or succeeds, and a rejection writes no row', async () => {
    const { dir, cleanup } = tempDir();
    const filename = join(dir, 'fuzz.db');
    const engine = await openEngine(sqliteStore({ filename }));
    const dumper = sqliteDumper(filename);
    try {
      const fixture = await seed(engine);
      for (const target of targets(fixture)) await fuzz(engine, target, async () => dumper.dump(), () => expectFiniteUsage(filename, target.method));
    } finally {
      dumper.close();
      await engine.close();
      cleanup();
    }
  }, 120_000);

  it('memory: the same, with the change feed as the proof that nothing was written', async () => {
    const engine = await openEngine(memoryStore());
    try {
      const fixture = await seed(engine);
      const feed = async () => JSON.stringify(await engine.getChanges({ after: 0, limit: 10_000 }));
      for (const target of targets(fixture)) await fuzz(engine, target, feed);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
