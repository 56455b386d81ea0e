/**
 * pg-worker.ts processes for processes.test.ts and outage.test.ts: started once and given jobs over stdin
 * (worker-protocol.ts), so that a test pays for the engines it opens, not for eight tsx starts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WorkerJob } from './worker-protocol.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'test', 'postgres', 'pg-worker.ts');

/** One job on a worker. */
export interface JobHandle<R> {
  /** Resolves once the job's engine is open and prepared; rejects when the job failed before. */
  ready: Promise<void>;
  /** Tells the job to start. */
  go(): void;
  /** The job's report; rejects when it failed (with the worker's stack) or the process died. */
  done: Promise<R>;
  /** Sends a command to the running job ("tell <id> <word> [arg]"). */
  tell(word: string, arg?: string | number): void;
  /** The job's id, as in the lines the worker prints about it. */
  id: number;
}

export interface WorkerProcess {
  readonly name: string;
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves once the process has loaded its modules ("up"); rejects if it exits before. */
  up: Promise<void>;
  /** Calls `fn` on each stdout line from now on. */
  onLine(fn: (line: string) => void): void;
  /** Sends a job; `job.url` should carry this worker's application_name (taggedUrl). */
  run<R>(job: WorkerJob): JobHandle<R>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** Ends stdin (the worker exits once its jobs are done) and waits for the exit; SIGKILL after `ms`. */
  stop(ms?: number): Promise<void>;
}

let jobs = 0;

export function startWorker(name: string): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  let stderr = '';
  let onUp!: () => void;
  const upP = new Promise<void>((resolve) => (onUp = resolve));
  const pending = new Map<number, { ready: () => void; fail: (e: Error) => void; report: (r: unknown) => void }>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (line === 'up') onUp();
    const m = /^(ready|report|error) (\d+)(?: (.*))?$/.exec(line);
    const job = m ? pending.get(Number(m[2])) : undefined;
    if (m && job) {
      if (m[1] === 'ready') job.ready();
      else {
        pending.delete(Number(m[2]));
        if (m[1] === 'report') job.report(JSON.parse(m[3]!));
        else job.fail(new Error(`worker ${name}: ${JSON.parse(m[3]!) as string}`));
      }
    }
    for (const fn of listeners) fn(line);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // stdin may be closed by the time we write to it (a worker that died).
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (e) => {
      stderr += String(e);
      resolve({ code: null, signal: null });
    });
    // 'close': stdout is fully read by then, unlike at 'exit'.
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  void exited.then(({ code, signal }) => {
    for (const job of pending.values()) job.fail(new Error(`worker ${name} exited ${code ?? signal} during a job: ${stderr.slice(-4000)}`));
    pending.clear();
  });
  const up = Promise.race([
    upP,
    exited.then(({ code, signal }) => {
      throw new Error(`worker ${name} exited ${code ?? signal} before it was up: ${stderr.slice(-4000)}`);
    }),
  ]);
  void up.catch(() => undefined);
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    lines,
    up,
    onLine: (fn) => listeners.push(fn),
    run<R>(job: WorkerJob): JobHandle<R> {
      const id = ++jobs;
      let ready!: () => void;
      let fail!: (e: Error) => void;
      let report!: (r: R) => void;
      const readyP = new Promise<void>((resolve) => (ready = resolve));
      const done = new Promise<R>((resolve, reject) => {
        report = resolve;
        fail = reject;
      });
      // A job that fails before "ready" must not leave the test waiting for it: ready rejects too.
      const readyOrFail = Promise.race([readyP, done.then(() => undefined)]);
      void done.catch(() => undefined);
      void readyOrFail.catch(() => undefined);
      pending.set(id, { ready, fail, report: report as (r: unknown) => void });
      child.stdin.write(`${JSON.stringify({ id, job })}\n`);
      return {
        ready: readyOrFail,
        go: () => void child.stdin.write(`go ${id}\n`),
        done,
        tell: (word, arg) => void child.stdin.write(`tell ${id} ${word}${arg === undefined ? '' : ` ${arg}`}\n`),
        id,
      };
    },
    exited,
    kill: (signal) => {
      if (alive()) child.kill(signal);
    },
    async stop(ms = 10_000) {
      if (alive()) child.stdin.end();
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The run's connection string with an application_name, by which pg_stat_activity tells a worker's backends apart. */
export function taggedUrl(url: string, tag: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', tag);
  return u.toString();
}

/** All settled; the first failure thrown (after every job ended, so none runs on into the next test). */
export async function allDone<R>(jobs: JobHandle<R>[]): Promise<R[]> {
  const settled = await Promise.allSettled(jobs.map((j) => j.done));
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length > 0) throw new Error(`${failed.length} of ${jobs.length} jobs failed; the first: ${String(failed[0]!.reason)}`);
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

/** Waits until every job is ready (or failed), starts them all at once, and returns their reports (allDone). */
export async function runTogether<R>(jobs: JobHandle<R>[]): Promise<R[]> {
  await Promise.allSettled(jobs.map((j) => j.ready));
  for (const j of jobs) j.go();
  return allDone(jobs);
}
