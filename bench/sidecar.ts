/**
 * Measure: warm entitlement checks through the sidecar, driven by a real HTTP load generator
 * (autocannon), against a bare hono endpoint on the same @hono/node-server answering a fixed
 * body of the same size.
 *
 * 2,000 customers on the bench plan are provisioned into a SQLite file in this process; then
 * `tessera serve` runs on that file as a child process (from the sources, through tsx, with its
 * default logging: one JSON line per request on stderr, sent to /dev/null here) on 127.0.0.1 and
 * a free port, with a random key handed over in the environment. The baseline is a second child:
 * a hono app on @hono/node-server whose `POST /v1/getEntitlement` answers, without reading the
 * request, the bytes of one real sidecar answer (same length, same content type). Whatever
 * separates the two is the sidecar's own work per request: key check, body read and parse,
 * validation, the engine's check, JSON encoding, metrics and the request log.
 *
 * The load: autocannon in this process, keep-alive connections, each request a `getEntitlement`
 * of a metered feature for the next customer (the same sequence of bodies against both servers),
 * at 1 and at 10 connections. The four cases take turns, ROUNDS rounds of ROUND_S seconds each,
 * so that a case and its baseline see the same machine load; a case's throughput is its median
 * round, its p50 and p99 the medians of its rounds'. Every answer must be a 200 (the bench exits
 * non-zero otherwise) and every sidecar answer is checked to grant access. Each server gets one
 * of the 2 cores, the load generator the other. Beside the rates, each server's CPU time per
 * request (from /proc, Linux): on a machine shared with other work it moves less than throughput.
 *
 * Also for information: the same check by an engine in this process on the same file (harness.ts
 * `compare`), what a caller that can import the engine pays instead.
 *
 * About 35 s. Run alone: `node --import tsx bench/sidecar.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { GetEntitlementParams } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, median, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 2_000;
const ROUNDS = 5;
const ROUND_S = 1;
const TARGET_RATIO = 0.6;

const root = fileURLToPath(new URL('../', import.meta.url));
const dir = tempDir();
const file = join(dir, 'sidecar.db');
let sink = 0;

const params: GetEntitlementParams[] = [];
for (let i = 0; i < CUSTOMERS; i++) params.push({ customerId: customerId(i), featureId: 'api-calls' });
const bodies = params.map((p) => JSON.stringify(p));

{
  const engine = await benchEngine(sqliteStore({ filename: file }));
  const setup = await timed(() => provisionCustomers(engine, 0, CUSTOMERS));
  log(`  ${fmt(CUSTOMERS)} customers provisioned in ${(setup.ms / 1000).toFixed(1)} s`);
  await engine.close();
}

/** Spawns a server child that prints its URL on stdout, and resolves with that URL. */
function startChild(args: string[], env: NodeJS.ProcessEnv, what: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'ignore'] });
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} printed no URL within 30 s`)), 30_000);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve({ url: m[1]!, child });
      }
    });
  });
}

const key = randomBytes(24).toString('hex');
const sidecar = await startChild(
  ['--import', 'tsx', 'packages/http/src/cli.ts', 'serve', '--db', file, '--host', '127.0.0.1', '--port', '0'],
  { ...process.env, TESSERA_FULL_ACCESS_KEYS: key, TESSERA_READ_ONLY_KEYS: '' },
  'the sidecar',
);
const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };

// One real answer gives the bare endpoint its body: same bytes, so the same length on the wire.
const sample = await fetch(`${sidecar.url}/v1/getEntitlement`, { method: 'POST', headers, body: bodies[0] });
if (sample.status !== 200) throw new Error(`the sidecar answered ${sample.status}: ${await sample.text()}`);
const answerBody = await sample.text();

const BARE = `
  import { serve } from '@hono/node-server';
  import { Hono } from 'hono';
  const body = process.env.BENCH_BODY;
  const app = new Hono();
  app.post('/v1/getEntitlement', () => new Response(body, { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log('http://127.0.0.1:' + info.port));
`;
const bare = await startChild(['--input-type=module', '-e', BARE], { ...process.env, BENCH_BODY: answerBody }, 'the bare hono server');
log(`  sidecar on ${sidecar.url}, bare hono on ${bare.url}; answer ${answerBody.length} bytes`);

interface Round {
  rps: number;
  p50: number;
  p99: number;
  /** The server process's CPU time (user + system, all threads) per answered request, in microseconds. */
  cpuUs: number;
}

/**
 * CPU time a process has used so far, in ms, from /proc (Linux); NaN elsewhere. Throughput on a
 * shared, oversubscribed machine swings with what else runs; the server's CPU time per request
 * does not, so it is reported beside the rates.
 */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return Number.NaN;
  }
}
const TICKS = 100;

/** One autocannon run of `seconds` against `url` with `connections`, cycling through the customers. */
async function cannon(url: string, pid: number, connections: number, seconds: number, verify: boolean): Promise<Round> {
  const cpu0 = cpuMs(pid);
  let at = 0;
  let denied = 0;
  // autocannon's own histogram counts whole milliseconds; its per-response times are finer.
  const latencies: number[] = [];
  const run = autocannon({
    url,
    connections,
    duration: seconds,
    method: 'POST',
    headers,
    requests: [
      {
        path: '/v1/getEntitlement',
        setupRequest: (req) => {
          const body = bodies[at]!;
          if (++at === CUSTOMERS) at = 0;
          return { ...req, body };
        },
        ...(verify ? { onResponse: (status: number, body: string) => void (status === 200 && !body.includes('"hasAccess":true') && denied++) } : {}),
      },
    ],
  });
  // The instance is an EventEmitter as well as a promise (its types give only the promise).
  (run as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => void latencies.push(ms));
  const result = await run;
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  if (denied > 0) throw new Error(`${url}: ${denied} answers did not grant access`);
  sink += result.requests.total;
  latencies.sort((a, b) => a - b);
  const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))]!;
  return { rps: result.requests.total / (result.duration || seconds), p50: q(0.5), p99: q(0.99), cpuUs: ((cpuMs(pid) - cpu0) * 1000) / result.requests.total };
}

const CASES = [
  { name: 'sidecar1', url: sidecar.url, pid: sidecar.child.pid!, connections: 1, verify: true },
  { name: 'bare1', url: bare.url, pid: bare.child.pid!, connections: 1, verify: false },
  { name: 'sidecar10', url: sidecar.url, pid: sidecar.child.pid!, connections: 10, verify: true },
  { name: 'bare10', url: bare.url, pid: bare.child.pid!, connections: 10, verify: false },
] as const;

// Warm-up: every view loaded and both servers' code paths compiled before any timed round.
for (const c of CASES) await cannon(c.url, c.pid, c.connections, 1, c.verify);
const rounds = new Map<string, Round[]>(CASES.map((c) => [c.name, []]));
for (let r = 0; r < ROUNDS; r++) for (const c of CASES) rounds.get(c.name)!.push(await cannon(c.url, c.pid, c.connections, ROUND_S, c.verify));
const of = (name: string) => {
  const rs = rounds.get(name)!;
  return {
    rps: median(rs.map((x) => x.rps)),
    p50: median(rs.map((x) => x.p50)),
    p99: median(rs.map((x) => x.p99)),
    cpuUs: median(rs.map((x) => x.cpuUs)),
    all: rs.map((x) => fmt(x.rps)).join(' / '),
  };
};

// The in-process check, for information; the servers are idle meanwhile.
const local = await benchEngine(sqliteStore({ filename: file }));
for (const p of params) await local.getEntitlement(p);
let at = 0;
const inProcess = await compare(
  [
    {
      name: 'local',
      ops: 1_000,
      batch: async () => {
        for (let j = 0; j < 1_000; j++) {
          if ((await local.getEntitlement(params[at]!)).hasAccess) sink++;
          if (++at === CUSTOMERS) at = 0;
        }
      },
    },
  ],
  { warmupMs: 300, sampleMs: 200, samples: 5 },
);
await local.close();

const s1 = of('sidecar1');
const b1 = of('bare1');
const s10 = of('sidecar10');
const b10 = of('bare10');
const latency = (x: { p50: number; p99: number }) => `p50 ${fmt(x.p50)} ms, p99 ${fmt(x.p99)} ms`;
const figures: Figure[] = [
  {
    measure: 'getEntitlement through the sidecar (tessera serve, sqlite), autocannon, 10 connections',
    result: s10.rps,
    unit: 'checks/s',
    baseline: { name: 'bare hono endpoint on @hono/node-server, fixed body of the same size', result: b10.rps },
    ratio: 'ratio',
    target: `>= ${TARGET_RATIO}x of the bare hono endpoint`,
    met: s10.rps >= TARGET_RATIO * b10.rps,
    notes: `sidecar ${latency(s10)}; bare ${latency(b10)}; rounds ${s10.all} against ${b10.all}`,
  },
  {
    measure: 'getEntitlement through the sidecar (tessera serve, sqlite), autocannon, 1 connection',
    result: s1.rps,
    unit: 'checks/s',
    baseline: { name: 'bare hono endpoint on @hono/node-server, fixed body of the same size', result: b1.rps },
    ratio: 'ratio',
    target: `>= ${TARGET_RATIO}x of the bare hono endpoint`,
    met: s1.rps >= TARGET_RATIO * b1.rps,
    notes: `sidecar ${latency(s1)}; bare ${latency(b1)}; rounds ${s1.all} against ${b1.all}`,
  },
  {
    measure: 'sidecar server CPU time per request (user + system), 10 connections',
    result: s10.cpuUs,
    unit: 'us',
    baseline: { name: 'the bare hono server, same load', result: b10.cpuUs },
    ratio: 'ratio',
    target: 'information: 0.6x of the bare throughput on a CPU-bound server is at most 1.67x its CPU per request',
    notes: `1 connection: ${fmt(s1.cpuUs)} us against ${fmt(b1.cpuUs)} us`,
  },
  { measure: 'sidecar check latency p50, 10 connections', result: s10.p50, unit: 'ms', baseline: { name: 'bare hono, same load', result: b10.p50 }, ratio: 'ratio' },
  { measure: 'sidecar check latency p99, 10 connections', result: s10.p99, unit: 'ms', baseline: { name: 'bare hono, same load', result: b10.p99 }, ratio: 'ratio' },
  { measure: 'sidecar check latency p50, 1 connection', result: s1.p50, unit: 'ms', baseline: { name: 'bare hono, same load', result: b1.p50 }, ratio: 'ratio' },
  { measure: 'sidecar check latency p99, 1 connection', result: s1.p99, unit: 'ms', baseline: { name: 'bare hono, same load', result: b1.p99 }, ratio: 'ratio' },
  {
    measure: 'getEntitlement through the sidecar, 10 connections, against the same check in process',
    result: s10.rps,
    unit: 'checks/s',
    baseline: { name: 'the same check by an engine in process, awaited one by one', result: inProcess.local! },
    ratio: 'slowdown',
    target: 'information',
  },
];

bare.child.kill('SIGTERM');
sidecar.child.kill('SIGTERM');
await new Promise((resolve) => sidecar.child.once('exit', resolve));
if (sink === -1) console.log(sink);
report(figures);
