/**
 * Measure: entitlement checks answered by a replica (`createReplica`, a local SQLite copy kept
 * from a sidecar), against the same checks by an engine in process on the source file.
 *
 * 2,000 customers on the bench plan are provisioned into a SQLite file in this process; then
 * `tessera serve` runs on that file as a child process (from the sources, through tsx) on
 * 127.0.0.1 and a free port, with a random key handed over in the environment. A replica in this
 * process takes its snapshot into a second SQLite file; then it and an engine opened here on the
 * source file answer `getEntitlement` on a metered feature, cycling through the customers, one
 * after another (as a request handler would), taking turns (harness.ts `compare`) so that both
 * see the same machine load. Both are warm: every customer's view is loaded before timing.
 *
 * Target: the replica within 2x of the in-process engine (it is one: an engine on the replica
 * file, behind one more async call).
 *
 * Bounded: warm-up 300 ms and 7 samples of 250 ms per case, loopback only, the child killed on
 * exit. Run alone: `npx tsx bench/replica.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GetEntitlementParams } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createReplica } from '@tessera/http';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 2_000;
const PER_BATCH = 1_000;

const root = fileURLToPath(new URL('../', import.meta.url));
const dir = tempDir();
const file = join(dir, 'source.db');
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

const key = randomBytes(24).toString('hex');
const { url, child } = await startSidecar(key);
const replica = await createReplica({ url, apiKey: key, replica: join(dir, 'replica.db') });
const sync = await timed(() => replica.whenSynced(60_000));
log(`  sidecar on ${url}; replica snapshot of ${fmt(CUSTOMERS)} customers in ${(sync.ms / 1000).toFixed(1)} s`);
const local = await benchEngine(sqliteStore({ filename: file }));

for (const p of params) {
  await local.getEntitlement(p);
  await replica.getEntitlement(p);
}

function batch(check: (p: GetEntitlementParams) => Promise<{ hasAccess: boolean }>) {
  let at = 0;
  return async () => {
    for (let j = 0; j < PER_BATCH; j++) {
      const e = await check(params[at]!);
      if (e.hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

const r = await compare(
  [
    { name: 'replica', batch: batch((p) => replica.getEntitlement(p)), ops: PER_BATCH },
    { name: 'local', batch: batch((p) => local.getEntitlement(p)), ops: PER_BATCH },
  ],
  { warmupMs: 300, sampleMs: 250, samples: 7 },
);

const slowdown = r.local! / r.replica!;
const figures: Figure[] = [
  {
    measure: 'getEntitlement through a replica (local SQLite copy kept from a sidecar)',
    result: r.replica!,
    unit: 'checks/s',
    baseline: { name: 'the same check by an engine in process on the source file', result: r.local! },
    ratio: 'slowdown',
    target: 'replica within 2x of the in-process engine',
    met: slowdown <= 2,
    notes: `${slowdown.toFixed(2)}x`,
  },
];

await replica.close();
await local.close();
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
if (sink === -1) console.log(sink);
report(figures);
