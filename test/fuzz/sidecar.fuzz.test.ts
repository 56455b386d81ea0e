/**
 * Fuzzes every sidecar route (each exposed engine method as POST /v1/<method>, the change feed,
 * /health) with malformed and near-valid JSON bodies and malformed body text: every answer is
 * 200 or a 4xx whose error code is an argument's (never 500 / INTERNAL / 503), a refused write
 * leaves every SQLite table as it was, and Object.prototype stays untouched.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, testClock, type Engine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createSidecar, METHODS, NOT_EXPOSED } from '@tessera/http';
import { arbMalformedJson, arbMalformedJsonText, arbNearValid, CRAFTED_CURSORS, HOSTILE_NUMBERS } from '@tessera/testing';
import { tempDir } from '../engine/stores.js';
import { FULL_KEY } from '../http/harness.js';
import { BROKEN_CODES, fuzzCatalog, FUZZ_SEED, prototypeFingerprint, runsPerMethod, seed, sqliteDumper, targets, type Target } from './targets.js';

// About 50 routes x RUNS bodies; 50 keeps the file near 15 s here.
// More: TESSERA_FUZZ_RUNS=500 npx vitest run test/fuzz (TESSERA_FUZZ_SEED=<seed> replays a failure).
const RUNS = runsPerMethod(50);
let calls = 0;
const proto = prototypeFingerprint();

type App = ReturnType<typeof createSidecar>;
let app: App;
let engine: Engine;
let dumper: ReturnType<typeof sqliteDumper>;
let cleanup: () => void;
let list: Target[];

beforeEach(async () => {
  const dir = tempDir();
  cleanup = dir.cleanup;
  const filename = join(dir.dir, 'sidecar-fuzz.db');
  let n = 0;
  const store = sqliteStore({ filename });
  engine = await createEngine({ store, catalog: fuzzCatalog, clock: testClock('2024-01-31T10:00:00Z'), newId: (p) => `${p}_${++n}` });
  // getMetrics is not a route (the sidecar serves it at /metrics): fuzzed in process only.
  list = targets(await seed(engine)).filter((t) => t.method !== 'getMetrics');
  // Internal errors are what this suite looks for: collect them instead of printing them.
  app = createSidecar({ engine, store, fullAccessKeys: [FULL_KEY], onInternalError: () => {} });
  dumper = sqliteDumper(filename);
});

afterEach(async () => {
  dumper.close();
  await engine.close();
  cleanup();
});

afterAll(() => {
  console.log(`fuzz: sidecar ${calls.toLocaleString('en-US')} calls (${RUNS} per route: two thirds JSON bodies, one third body texts)`);
});

async function send(path: string, text: string, method = 'POST'): Promise<{ status: number; body: string }> {
  calls++;
  const res = await app.request(path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${FULL_KEY}` }, ...(method === 'POST' ? { body: text } : {}) });
  return { status: res.status, body: await res.text() };
}

/** Throws unless the answer is a success or an argument's refusal; checks the store and the prototypes. */
function expectSound(route: string, text: string, res: { status: number; body: string }, before: string, after: string): void {
  const shown = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  if (res.status >= 500) throw new Error(`${route}: HTTP ${res.status} for body ${shown}: ${res.body.slice(0, 300)}`);
  if (res.status !== 200) {
    const parsed = JSON.parse(res.body) as { error?: { code?: string; message?: string } };
    const code = parsed.error?.code;
    if (typeof code !== 'string' || (BROKEN_CODES as readonly string[]).includes(code)) throw new Error(`${route}: error code ${String(code)} for body ${shown}`);
    if (typeof parsed.error?.message !== 'string' || parsed.error.message.includes('/work/') || parsed.error.message.includes('    at ')) {
      throw new Error(`${route}: error message leaks or is missing: ${res.body.slice(0, 300)}`);
    }
    if (after !== before) throw new Error(`${route}: a refused call (${parsed.error.message}) changed the store; body ${shown}`);
  }
  if (prototypeFingerprint() !== proto) throw new Error(`${route}: Object.prototype or Array.prototype changed; body ${shown}`);
}

const bodyOf = (t: Target, value: unknown): string => {
  const spec = METHODS[t.method as keyof typeof METHODS];
  return JSON.stringify(spec.toBody(t.args(value))) ?? '';
};

describe('sidecar fuzz', () => {
  it('routes every exposed method', () => {
    const exposed = Object.keys(METHODS);
    const fuzzed = new Set(list.map((t) => t.method));
    expect(exposed.filter((m) => !fuzzed.has(m))).toEqual([]);
    expect(NOT_EXPOSED.filter((m) => fuzzed.has(m))).toEqual([]);
  });

  it('answers every malformed body of every method with 200 or a 4xx, and a refusal writes nothing', async () => {
    const opts = { numRuns: RUNS, ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}) };
    let before = dumper.dump();
    for (const t of list) {
      const route = `/v1/${t.method}`;
      const bodies = t.jsonArb ? t.jsonArb.map((v) => bodyOf(t, v)) : fc.constant('{}');
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 2, arbitrary: bodies }, { weight: 1, arbitrary: arbMalformedJsonText() }), async (text) => {
          const res = await send(route, text);
          const after = dumper.dump();
          expectSound(route, text, res, before, after);
          before = after;
        }),
        opts,
      );
    }
  }, 120_000);

  it('answers malformed bodies of the replica routes soundly', async () => {
    let before = dumper.dump();
    for (const [route, valid] of [['/v1/replicaSnapshot', { customerIds: true }], ['/v1/replicaCustomers', { customerIds: ['c1', 'c2'] }]] as const) {
      const bodies = fc.oneof(arbNearValid(valid, { values: arbMalformedJson() }), arbMalformedJson()).map((v) => JSON.stringify(v) ?? '');
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 2, arbitrary: bodies }, { weight: 1, arbitrary: arbMalformedJsonText() }), async (text) => {
          const res = await send(route, text);
          const after = dumper.dump();
          expectSound(route, text, res, before, after);
          before = after;
        }),
        { numRuns: RUNS * 2, ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}) },
      );
    }
  }, 60_000);

  it('answers malformed change-feed queries, unknown routes and /health soundly', async () => {
    const before = dumper.dump();
    const queries = fc.oneof(fc.constantFrom(...CRAFTED_CURSORS), fc.constantFrom(...HOSTILE_NUMBERS.map(String)), fc.string({ maxLength: 30 }));
    await fc.assert(
      fc.asyncProperty(queries, queries, async (after, limit) => {
        const q = `?after=${encodeURIComponent(after)}&limit=${encodeURIComponent(limit)}&wait=0`;
        for (const [path, method] of [[`/v1/changes${q}`, 'GET'], [`/v1/${encodeURIComponent(after)}`, 'POST'], ['/health', 'GET']] as const) {
          const res = await send(path, '{}', method);
          expectSound(path, q, res, before, dumper.dump());
        }
      }),
      { numRuns: RUNS * 2, ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}) },
    );
  }, 60_000);
});
