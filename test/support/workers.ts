/**
 * Worker processes for the multi-process tests: each runs a script under tsx, prints "ready" once
 * its engine is open, waits for "go" on stdin (so that all start writing together), and prints
 * its report as the last line of its output (JSON).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A started worker: `ready` once its engine is open, `go()` to start it, `done` with its report. */
export interface Worker<T> {
  ready: Promise<void>;
  go: () => void;
  done: Promise<T>;
}

/** Starts `script` (a path from the repository root) with `args`. */
export function startWorker<T>(script: string, args: string[]): Worker<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('ready\n')) onReady();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<T>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`worker ${args.join(' ')} exited ${code}: ${stderr}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`worker ${args.join(' ')} printed no report: ${stdout} ${stderr}`));
      }
    });
  });
  // A worker that fails before "ready" must not leave the test waiting for it.
  void done.catch(() => onReady());
  return { ready, go: () => child.stdin.end('go\n'), done };
}

/**
 * A small deterministic generator (xorshift32) for a worker process, from the seed its test passed:
 * a failing run can be replayed from its seed. Returns numbers in [0, 1).
 */
export function seededRandom(seedArg: string): () => number {
  let seed = Number(seedArg) >>> 0 || 1;
  return () => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 2 ** 32;
  };
}

/** Ends this worker process as a crash would: SIGKILL, nothing flushed or closed. */
export function dieNow(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}
