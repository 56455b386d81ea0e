/**
 * Measure: entitlement checks through the sidecar over loopback HTTP, against the same checks
 * in process.
 *
 * 2,000 customers on the bench plan are provisioned into a SQLite file in this process; then
 * `tessera serve` runs on that file as a child process (from the sources, through tsx) on
 * 127.0.0.1 and a free port, with a random key handed over in the environment. The load is the
 * typed client (`createClient`, global fetch, keep-alive) issuing `getEntitlement` on a metered
 * feature, cycling through the customers: 10 requests in flight (10 workers, each awaiting its
 * answer before the next), and 1 in flight for the latency floor. Every request's latency is
 * recorded; p50 and p99 are over all timed samples.
 *
 * Baselines, taking turns with the HTTP cases (harness.ts `compare`) so that all see the same
 * machine load:
 * - an engine opened in this process on the same file, answering the same checks one after
 *   another (as a request handler would): what a caller that can import the engine pays;
 * - the transport floor: a bare node:http server in a child process (no hono, no engine, no
 *   keys) answering a fixed small JSON to the same POSTs sent with the same fetch, 10 in flight.
 *   The sidecar's share of a request is what separates it from this floor; the client's own
 *   cost (undici fetch, JSON) is in both, as it is for any caller of the sidecar.
 * The sidecar and this process each get one of the 2 cores.
 *
 * Bounded: warm-up 300 ms and 7 samples of 250 ms per case (about 10 s of load), loopback only,
 * the child killed on exit. Run alone: `npx tsx bench/sidecar.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Entitlement, GetEntitlementParams } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createClient } from '@tessera/http';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 2_000;
const IN_FLIGHT = 10;
/** Requests per worker per batch: a batch of the 10-in-flight case is 10 x 20 = 200 requests. */
const PER_WORKER = 20;
const MAX_LATENCIES = 500_000;

const root = fileURLToPath(new URL('../', import.meta.url));
const dir = tempDir();
const file = join(dir, 'sidecar.db');
let sink = 0;

const params: GetEntitlementParams[] = [];
for (let i = 0; i < CUSTOMERS; i++) params.push({ customerId: customerId(i), featureId: 'api-calls' });

{
  const engine = await benchEngine(sqliteStore({ filename: file }));
  const setup = await timed(() => provisionCustomers(engine, 0, CUSTOMERS));
  log(`  ${fmt(CUSTOMERS)} customers provisioned in ${(setup.ms / 1000).toFixed(1)} s`);
  await engine.close();
}

/** Starts `tessera serve` on the file and resolves with its URL. */
function startSidecar(key: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/http/src/cli.ts', 'serve', '--db', file, '--host', '127.0.0.1', '--port', '0'], {
    cwd: root,
    env: { ...process.env, TESSERA_FULL_ACCESS_KEYS: key, TESSERA_READ_ONLY_KEYS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the sidecar printed no URL within 30 s')), 30_000);
    child.on('exit', (code) => reject(new Error(`the sidecar exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    });
  });
}

/** A bare node:http server answering every request with a fixed check-sized JSON. */
function startBareServer(): Promise<{ url: string; child: ChildProcess }> {
  const code = `
    const body = JSON.stringify({ customerId: 'cust-0000000', featureId: 'api-calls', hasAccess: true, type: 'METERED', usageLimit: 1e12, currentUsage: 0 });
    const server = require('node:http').createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
    });
    server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve) => child.stdout!.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), child })));
}

const key = randomBytes(24).toString('hex');
const { url, child } = await startSidecar(key);
const bare = await startBareServer();
log(`  sidecar on ${url}, bare node:http on ${bare.url}`);
const client = createClient({ url, apiKey: key });
const local = await benchEngine(sqliteStore({ filename: file }));

// Load every view once on both sides, so that the timed checks are warm ones.
for (const p of params) await local.getEntitlement(p);
for (let i = 0; i < CUSTOMERS; i += IN_FLIGHT) await Promise.all(params.slice(i, i + IN_FLIGHT).map((p) => client.getEntitlement(p)));

function httpBatch(inFlight: number, latencies: number[]) {
  let at = 0;
  const worker = async () => {
    for (let j = 0; j < PER_WORKER; j++) {
      const p = params[at]!;
      if (++at === CUSTOMERS) at = 0;
      const t0 = performance.now();
      const e: Entitlement = await client.getEntitlement(p);
      const ms = performance.now() - t0;
      if (latencies.length < MAX_LATENCIES) latencies.push(ms);
      if (e.hasAccess) sink++;
    }
  };
  return async () => {
    await Promise.all(Array.from({ length: inFlight }, worker));
  };
}

function bareBatch(inFlight: number) {
  let at = 0;
  const worker = async () => {
    for (let j = 0; j < PER_WORKER; j++) {
      const body = JSON.stringify(params[at]!);
      if (++at === CUSTOMERS) at = 0;
      const res = await fetch(`${bare.url}/v1/getEntitlement`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (((await res.json()) as { hasAccess: boolean }).hasAccess) sink++;
    }
  };
  return async () => {
    await Promise.all(Array.from({ length: inFlight }, worker));
  };
}

function localBatch() {
  let at = 0;
  return async () => {
    for (let j = 0; j < 1_000; j++) {
      const e = await local.getEntitlement(params[at]!);
      if (e.hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

const concurrent: number[] = [];
const single: number[] = [];
const r = await compare(
  [
    { name: 'http10', batch: httpBatch(IN_FLIGHT, concurrent), ops: IN_FLIGHT * PER_WORKER },
    { name: 'http1', batch: httpBatch(1, single), ops: PER_WORKER },
    { name: 'bare10', batch: bareBatch(IN_FLIGHT), ops: IN_FLIGHT * PER_WORKER },
    { name: 'local', batch: localBatch(), ops: 1_000 },
  ],
  { warmupMs: 300, sampleMs: 250, samples: 7 },
);

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const p = (xs: number[]) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) });
const c10 = p(concurrent);
const c1 = p(single);
const figures: Figure[] = [
  {
    measure: `getEntitlement through the sidecar, ${IN_FLIGHT} in flight, loopback HTTP, sqlite`,
    result: r.http10!,
    unit: 'checks/s',
    baseline: { name: 'the same check in process', result: r.local! },
    ratio: 'slowdown',
    target: 'information (DESIGN.md: hono on @hono/node-server serves 25-28k small JSON requests/s here)',
    notes: `p50 ${c10.p50.toFixed(2)} ms, p99 ${c10.p99.toFixed(2)} ms over ${fmt(concurrent.length)} requests`,
  },
  {
    measure: `getEntitlement through the sidecar, ${IN_FLIGHT} in flight, against the transport floor`,
    result: r.http10!,
    unit: 'checks/s',
    baseline: { name: 'bare node:http answering fixed JSON, same fetch', result: r.bare10! },
    ratio: 'ratio',
  },
  {
    measure: 'getEntitlement through the sidecar, 1 in flight, loopback HTTP, sqlite',
    result: r.http1!,
    unit: 'checks/s',
    baseline: { name: 'the same check in process', result: r.local! },
    ratio: 'slowdown',
    notes: `p50 ${c1.p50.toFixed(2)} ms, p99 ${c1.p99.toFixed(2)} ms over ${fmt(single.length)} requests`,
  },
  { measure: `sidecar check latency p50, ${IN_FLIGHT} in flight`, result: c10.p50, unit: 'ms' },
  { measure: `sidecar check latency p99, ${IN_FLIGHT} in flight`, result: c10.p99, unit: 'ms' },
];

await local.close();
bare.child.kill('SIGTERM');
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
if (sink === -1) console.log(sink);
report(figures);
