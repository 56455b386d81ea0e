/**
 * Measure 5: `consumeUsage` throughput with 1, 4 and 8 processes, each with its own engine on one
 * PostgreSQL schema, and the same on one SQLite file for comparison.
 *
 * One throwaway PostgreSQL cluster (test/support/postgres-server.ts, durable settings: fsync and
 * synchronous_commit on; TESSERA_PG_URL when set), on this machine, started for this process and
 * stopped at the end; without one, the PostgreSQL figures are skipped (said on stderr) and the
 * SQLite ones still run.
 *
 * Eight worker processes (consume-worker.ts) are started once. For a stretch of a configuration,
 * the first N of them have an engine open on the store (each its own, with its own pool of 10
 * connections on PostgreSQL; the others close theirs, since an idle engine's change follower
 * would still wake on every commit), consume once to load their customer's view, then all start
 * together and call `consumeUsage` for 1 unit of `api-calls` (a hard limit of 1e12 a month, so
 * no call is ever refused), each call awaited before the next. Result: the sum of their calls per
 * second. The configurations take turns, ROUNDS stretches of RUN_MS / ROUNDS each, and each
 * figure is its median stretch (as `compare` does in one process).
 *
 * - one customer: every process consumes the same customer's quota, so every write transaction
 *   reads and writes the same usage cell. On PostgreSQL they take turns on the cell's turn key
 *   (a session advisory lock before BEGIN; packages/postgres/README.md#hot-rows), so none is
 *   retried; on SQLite they wait for the file's write lock (busy timeout). Only this case runs on
 *   SQLite: one write lock serves the whole file.
 * - own customer: process i consumes customer i (no shared row).
 * - own customer, followers polling: the same, with the store's watchChanges hidden from the
 *   engines, so that a commit no longer wakes every other process's change follower
 *   (LISTEN/NOTIFY); they read the feed every 200 ms instead.
 *
 * Baseline: the 1-process figure of the same store, measured in the same run (the 1-process
 * PostgreSQL figure against the 1-process SQLite one).
 *
 * Retries: each worker counts its write transactions, the attempts at them and its read
 * transactions (view loads), its store being wrapped; the server's count of rolled-back
 * transactions over all the PostgreSQL stretches (pg_stat_database.xact_rollback, read once
 * every engine is closed, so that their backends have flushed their statistics; it includes the
 * warm-up calls) is shown next to the workers' count.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { postgresStore } from '@tessera/postgres';
import { sqliteStore } from '@tessera/sqlite';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../test/support/postgres-server.js';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { fmt, log, median, report, tempDir, type Figure } from './harness.js';

const WORKERS = 8;
/** Each configuration runs this long in all, in ROUNDS stretches. */
const RUN_MS = 3_000;
const ROUNDS = 3;
const root = fileURLToPath(new URL('..', import.meta.url));
const workerFile = fileURLToPath(new URL('./consume-worker.ts', import.meta.url));

interface WorkerReport {
  calls: number;
  ms: number;
  transactions: number;
  attempts: number;
  reads: number;
}

class Worker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly exited: Promise<void>;

  constructor() {
    this.child = spawn(process.execPath, ['--import', 'tsx', workerFile], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
    let stderr = '';
    this.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        if (code !== 0) process.stderr.write(`consume-worker exited with ${code}: ${stderr}\n`);
        for (const w of this.waiting.splice(0)) w(`exited ${code}`);
        resolve();
      }),
    );
  }

  /** Sends a command; resolves with the next line the worker prints. */
  send(cmd: object): Promise<string> {
    const line = new Promise<string>((resolve) => this.waiting.push(resolve));
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return line;
  }

  end(): Promise<void> {
    this.child.stdin.end();
    return this.exited;
  }
}

type Target = { store: 'postgres'; url: string; schema: string } | { store: 'sqlite'; filename: string };

/** One configuration: `n` processes on one store, all on customer 0 or each on its own. */
interface Config {
  name: string;
  n: number;
  shared: boolean;
  watch: boolean;
  target: Target;
}

/** One stretch: the config's workers open (the others close), then run together for `ms`. */
async function runOnce(workers: Worker[], c: Config, ms: number): Promise<WorkerReport[]> {
  await closeAll(workers.slice(c.n));
  const mine = workers.slice(0, c.n);
  const ready = await Promise.all(mine.map((w, i) => w.send({ open: { ...c.target, customerId: customerId(c.shared ? 0 : i), watch: c.watch } })));
  if (ready.some((l) => l !== 'ready')) throw new Error(`a worker failed to open: ${ready.join(', ')}`);
  const lines = await Promise.all(mine.map((w) => w.send({ go: ms })));
  return lines.map((l) => {
    if (!l.startsWith('{')) throw new Error(`a worker failed: ${l}`);
    return JSON.parse(l) as WorkerReport;
  });
}

/** Closes the workers' engines: an idle engine's follower would still wake on every commit. */
async function closeAll(workers: Worker[]): Promise<void> {
  const lines = await Promise.all(workers.map((w) => w.send({ close: true })));
  if (lines.some((l) => l !== 'closed')) throw new Error(`a worker failed to close: ${lines.join(', ')}`);
}

/** Rolled-back transactions of the database so far, once no engine connection is left (their statistics are flushed when they end). */
async function rollbacks(stats: pg.Client): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const r = await stats.query<{ n: string }>(`select count(*) as n from pg_stat_activity where application_name = 'tessera'`);
    if (Number(r.rows[0]!.n) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const r = await stats.query<{ n: string }>('select xact_rollback as n from pg_stat_database where datname = current_database()');
  return Number(r.rows[0]!.n);
}

/**
 * Issue 21's targets: 8 processes on one customer at >= 0.8x of one process (no retries needed to
 * keep the limit), and 8 on their own customers with LISTEN/NOTIFY at >= 1.5x.
 */
function goal(c: Config, result: number, base: number): Pick<Figure, 'target' | 'met'> {
  if (c.target.store !== 'postgres' || c.n !== 8 || !c.watch) return { target: 'information' };
  const want = c.shared ? 0.8 : 1.5;
  return { target: `>= ${want}x of one process (issue 21)`, met: result >= want * base };
}

const figures: Figure[] = [];
const dir = tempDir();
let server: PostgresServer | undefined;
const workers: Worker[] = [];
let stats: pg.Client | undefined;
const schema = `bench_${Date.now()}`;
const started = performance.now();
try {
  // The workers load (tsx) while the cluster starts.
  for (let i = 0; i < WORKERS; i++) workers.push(new Worker());
  server = await startPostgres({ durable: true });
  if (!server) log('  postgres: skipped, no PostgreSQL server (no initdb/pg_ctl/postgres binaries found and TESSERA_PG_URL not set); SQLite only');

  // The stores, with the catalog and WORKERS customers, written by a setup engine and closed.
  const filename = join(dir, 'consume.db');
  {
    const engine = await benchEngine(sqliteStore({ filename }));
    await provisionCustomers(engine, 0, WORKERS);
    await engine.close();
  }
  const configs: Config[] = [];
  const sq: Target = { store: 'sqlite', filename };
  // SQLite: every process writes under the file's one write lock, so only the shared case runs.
  for (const n of [1, 4, 8]) configs.push({ name: `sqlite ${n}`, n, shared: true, watch: true, target: sq });
  if (server) {
    const pgTarget: Target = { store: 'postgres', url: server.url, schema };
    const engine = await benchEngine(postgresStore({ connectionString: server.url, schema: pgTarget.schema }));
    await provisionCustomers(engine, 0, WORKERS, 1);
    await engine.close();
    configs.push({ name: 'pg 1', n: 1, shared: true, watch: true, target: pgTarget });
    for (const n of [4, 8]) configs.push({ name: `pg ${n} shared`, n, shared: true, watch: true, target: pgTarget });
    for (const n of [4, 8]) configs.push({ name: `pg ${n} own`, n, shared: false, watch: true, target: pgTarget });
    configs.push({ name: 'pg 8 own, polling', n: 8, shared: false, watch: false, target: pgTarget });
    stats = new pg.Client({ connectionString: server.url, application_name: 'bench-stats' });
    await stats.connect();
  }
  const rolledBefore = stats ? await rollbacks(stats) : 0;

  // The configs take turns, ROUNDS stretches each; a config's figure is its median stretch.
  const results = new Map<string, { rates: number[]; reports: WorkerReport[] }>(configs.map((c) => [c.name, { rates: [], reports: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    log(`  ${((performance.now() - started) / 1000).toFixed(1)} s: round ${round + 1} of ${ROUNDS}: ${configs.map((c) => c.name).join(', ')}`);
    for (const c of configs) {
      const reports = await runOnce(workers, c, RUN_MS / ROUNDS);
      const calls = reports.reduce((s, r) => s + r.calls, 0);
      const res = results.get(c.name)!;
      res.rates.push((calls * 1000) / Math.max(...reports.map((r) => r.ms)));
      res.reports.push(...reports);
    }
  }
  await closeAll(workers);
  log(`  ${((performance.now() - started) / 1000).toFixed(1)} s: runs done`);
  const rolledBack = stats ? (await rollbacks(stats)) - rolledBefore : 0;

  const rate = (name: string) => median(results.get(name)!.rates);
  const describe = (c: Config) => {
    const reports = results.get(c.name)!.reports;
    const sum = (f: (r: WorkerReport) => number) => reports.reduce((s, r) => s + f(r), 0);
    const calls = sum((r) => r.calls);
    const transactions = sum((r) => r.transactions);
    const attempts = sum((r) => r.attempts);
    const perProcess = reports.map((r) => (r.calls * 1000) / r.ms);
    const parts: string[] = [];
    if (c.target.store === 'postgres') {
      parts.push(`${(attempts / transactions).toFixed(2)} attempts per write transaction (${fmt(attempts - transactions)} retries in ${fmt(transactions)})`);
      parts.push(`${(sum((r) => r.reads) / calls).toFixed(2)} view loads per call`);
    }
    if (c.n > 1) parts.push(`one process's stretch ${fmt(Math.min(...perProcess))} to ${fmt(Math.max(...perProcess))} calls/s`);
    return parts.join('; ');
  };
  for (const c of configs) {
    const who = c.n === 1 ? 'one customer' : c.shared ? 'all on one customer' : 'each on its own customer';
    const where = c.target.store === 'postgres' ? 'postgres' : 'one SQLite file';
    const base = c.target.store === 'postgres' ? 'pg 1' : 'sqlite 1';
    figures.push({
      measure: `consumeUsage, ${c.n} process${c.n > 1 ? 'es' : ''} (an engine each), ${who}${c.watch ? '' : ', followers polling (no LISTEN/NOTIFY)'}, ${where}`,
      result: rate(c.name),
      unit: 'calls/s',
      ...(c.name === 'sqlite 1'
        ? {}
        : {
            baseline:
              c.name === 'pg 1'
                ? { name: 'the same on one SQLite file, same run', result: rate('sqlite 1') }
                : { name: `the same, 1 process, ${c.target.store === 'postgres' ? 'postgres' : 'sqlite'}`, result: rate(base) },
            ratio: 'ratio' as const,
          }),
      ...goal(c, rate(c.name), rate(base)),
      notes: describe(c),
    });
  }
  if (server) {
    const retries = configs
      .filter((c) => c.target.store === 'postgres')
      .flatMap((c) => results.get(c.name)!.reports)
      .reduce((s, r) => s + r.attempts - r.transactions, 0);
    log(`  postgres: the workers retried ${fmt(retries)} write transactions; the server counted ${fmt(rolledBack)} rolled back`);
    const last = figures.at(-1)!;
    last.notes = `${last.notes}; over every postgres run the workers retried ${fmt(retries)} write transactions, the server rolled back ${fmt(rolledBack)}`;
  }
} finally {
  await stats?.end();
  await Promise.all(workers.map((w) => w.end()));
  if (server?.kind === 'external') {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`).finally(() => client.end());
  }
  await server?.stop();
}
report(figures);
