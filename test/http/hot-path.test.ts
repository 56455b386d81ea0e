// What every sidecar request runs through: the CLI's JSON-lines logger (built field by field,
// bench/README.md#sidecar) and the key ring's digest cache: each held to what it replaced.
import { request } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, memoryStore } from '@tessera/core';
import { createSidecar, serveSidecar } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { jsonLinesLogger } from '../../packages/http/src/cli/logger.js';
import { KeyRing } from '../../packages/http/src/server/keys.js';

/** What the logger wrote before: JSON.stringify of the merged object, Errors spelled out. */
function reference(time: string, level: string, msg: string | undefined, context: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) {
    out[k] = v instanceof Error ? { name: v.name, message: v.message, ...('code' in v ? { code: (v as { code: unknown }).code } : {}), stack: v.stack } : v;
  }
  return JSON.stringify({ time, level, msg, ...out });
}

const value = fc.oneof(
  fc.string(),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }),
  fc.string().map((m) => Object.assign(new Error(m), { code: 'E_X' })),
);
const key = fc.oneof(fc.string(), fc.constantFrom('time', 'level', 'msg', '0', '12', '01', 'a"b', '\n'));

describe('jsonLinesLogger', () => {
  it('writes the same line as JSON.stringify of the merged object, whatever the context', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), fc.option(fc.string(), { nil: undefined }), fc.constantFrom('debug', 'info', 'warn', 'error'), (context, msg, level) => {
        const lines: string[] = [];
        const logger = jsonLinesLogger('debug', (l) => lines.push(l));
        logger[level as 'info'](context, msg);
        expect(lines).toHaveLength(1);
        const line = lines[0]!;
        expect(line.endsWith('\n')).toBe(true);
        // The line's own time is the one it wrote, unless the context replaced it.
        const time = Object.hasOwn(context, 'time') ? 'replaced' : (JSON.parse(line) as { time: string }).time;
        expect(line.slice(0, -1)).toBe(reference(time, level, msg, context));
      }),
      { numRuns: 300 },
    );
  });

  it('filters by level and says so when a context cannot be serialised', () => {
    const lines: string[] = [];
    const logger = jsonLinesLogger('warn', (l) => lines.push(l));
    logger.info({ a: 1 }, 'dropped');
    logger.error({ big: 1n }, 'kept');
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([{ time: expect.any(String), level: 'error', msg: 'kept', context: 'unserialisable' }]);
  });
});

const FULL = 'f'.repeat(32);
const READ = 'r'.repeat(32);

describe('KeyRing digest cache', () => {
  const full = FULL;
  const read = READ;

  it('answers the same access for a key seen before, and after many unknown keys', () => {
    const ring = new KeyRing([full], [read], []);
    for (let round = 0; round < 3; round++) {
      expect(ring.check(full)).toBe('full');
      expect(ring.check(read)).toBe('read');
      expect(ring.check('x'.repeat(32))).toBeNull();
    }
    // More distinct keys than the cache holds: it empties itself and answers stay right.
    for (let i = 0; i < 200; i++) expect(ring.check(`unknown-key-${i}-${'z'.repeat(16)}`)).toBeNull();
    expect(ring.check(full)).toBe('full');
    expect(ring.check(read)).toBe('read');
    expect(ring.check('')).toBeNull();
    expect(ring.check(null)).toBeNull();
  });
});

describe('serveSidecar: the direct handler of POST /v1/<method>', () => {
  const METRICS_KEY = 'm'.repeat(32);

  it('answers every case as the hono routes do, and counts and logs each request', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog });
    await engine.provisionCustomer({ customerId: 'acme' });
    const lines: Record<string, unknown>[] = [];
    const logger = { debug() {}, info: (ctx: Record<string, unknown>) => void lines.push(ctx), warn() {}, error() {} };
    const options = { engine, fullAccessKeys: [FULL], readOnlyKeys: [READ], metricsKeys: [METRICS_KEY], maxBodyBytes: 200, logger };
    const app = createSidecar(options);
    const running = await serveSidecar({ ...options, port: 0 });
    try {
      const auth = (key: string) => ({ authorization: `Bearer ${key}` });
      const cases: [string, Record<string, string>, string][] = [
        ['/v1/getEntitlement', {}, '{"customerId":"acme","featureId":"api-calls"}'],
        ['/v1/getEntitlement', auth('u'.repeat(32)), '{"customerId":"acme","featureId":"api-calls"}'],
        ['/v1/getEntitlement', auth(METRICS_KEY), '{"customerId":"acme","featureId":"api-calls"}'],
        ['/v1/getEntitlement', auth(READ), '{"customerId":"acme","featureId":"api-calls"}'],
        ['/v1/getEntitlement?x=1', { 'x-api-key': FULL }, '{"customerId":"acme","featureId":"seats"}'],
        ['/v1/getEntitlement', auth(FULL), '{"customerId":"nobody","featureId":"api-calls"}'],
        ['/v1/getEntitlement', auth(FULL), '{"customerId":'],
        ['/v1/getEntitlement', auth(FULL), `{"customerId":"${'a'.repeat(300)}"}`],
        ['/v1/getEntitlement', auth(FULL), '[1]'],
        ['/v1/getCustomer', auth(FULL), '{"customerId":"acme","extra":1}'],
        ['/v1/provisionCustomer', auth(READ), '{"customerId":"other"}'],
        ['/v1/noSuchMethod', auth(FULL), '{}'],
      ];
      for (const [path, headers, body] of cases) {
        const init = { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body };
        const served = await fetch(`${running.url}${path}`, init);
        const viaHono = await app.request(path, init);
        const text = await served.text();
        expect([path, served.status, text]).toEqual([path, viaHono.status, await viaHono.text()]);
        expect(served.headers.get('content-type')).toBe(viaHono.headers.get('content-type'));
        expect(served.headers.get('www-authenticate')).toBe(viaHono.headers.get('www-authenticate'));
      }
      // Each request was logged twice (served, then through hono) with the same fields but the time.
      expect(lines).toHaveLength(2 * cases.length);
      for (let i = 0; i < cases.length; i++) {
        const { durationMs: a, ...served } = lines[2 * i]!;
        const { durationMs: b, ...viaHono } = lines[2 * i + 1]!;
        expect(served).toEqual(viaHono);
        expect(typeof a === 'number' && typeof b === 'number').toBe(true);
      }
      // A body without a declared length (chunked) is left to hono; its answer is still the same.
      const chunked = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${running.url}/v1/getEntitlement`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(FULL) } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        req.write('{"customerId":"acme",');
        req.end('"featureId":"api-calls"}');
      });
      const viaHono = await app.request('/v1/getEntitlement', { method: 'POST', headers: auth(FULL), body: '{"customerId":"acme","featureId":"api-calls"}' });
      expect(chunked).toEqual({ status: viaHono.status, text: await viaHono.text() });
      expect(chunked.status).toBe(200);
      const metrics = await (await fetch(`${running.url}/metrics`, { headers: auth(METRICS_KEY) })).text();
      const total = [...metrics.matchAll(/^tessera_sidecar_requests_total\{status="\d+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(total).toBe(cases.length + 1);
    } finally {
      await running.close();
      await engine.close();
    }
  });
});
