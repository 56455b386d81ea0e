/**
 * What every bench script shares: a throughput timer, a temp directory that is always removed,
 * and the one line of JSON through which a script hands its figures to bench/run.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One measured figure, as run.ts prints it. */
export interface Figure {
  /** The measure, e.g. 'getEntitlement METERED, sqlite'. */
  measure: string;
  /** Throughput in `unit` per second (or a plain value for memory figures). */
  result: number;
  unit: string;
  /** The baseline measured in the same process, same unit (absent for information-only figures). */
  baseline?: { name: string; result: number };
  /** How the ratio is read: `result / baseline` ('ratio') or `baseline / result` ('slowdown'). */
  ratio?: 'ratio' | 'slowdown';
  /** The target from the issues, in words, and whether it was met. */
  target?: string;
  met?: boolean;
  notes?: string;
}

/** A workload to time: `batch` does `ops` operations per call (sync or async). */
export interface Case {
  name: string;
  batch: () => unknown;
  ops: number;
}

/**
 * Operations per second of each case. After a warm-up of `warmupMs` per case, the cases take
 * turns: `samples` rounds, each running every case for at least `sampleMs`, and each case's
 * figure is its median sample. Taking turns puts a case and its baseline under the same machine
 * load (other processes share these 2 cores), so their ratio moves less than either figure;
 * the median ignores a sample hit by a GC pause or a WAL checkpoint.
 */
export async function compare(
  cases: Case[],
  opts: { warmupMs?: number; sampleMs?: number; samples?: number } = {},
): Promise<Record<string, number>> {
  const { warmupMs = 300, sampleMs = 200, samples = 9 } = opts;
  for (const c of cases) {
    const end = performance.now() + warmupMs;
    while (performance.now() < end) await c.batch();
  }
  const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let s = 0; s < samples; s++) {
    for (const c of cases) {
      let ops = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < sampleMs) {
        await c.batch();
        ops += c.ops;
        t = performance.now();
      }
      results.get(c.name)!.push((ops * 1000) / (t - t0));
    }
  }
  return Object.fromEntries([...results].map(([name, xs]) => [name, median(xs)]));
}

/** Times a one-off step in milliseconds. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A fresh temp directory; removed when the process exits, whatever the outcome. */
export function tempDir(prefix = 'tessera-bench-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  return dir;
}

const RESULT_PREFIX = '@@tessera-bench ';

/** Hands figures to run.ts (and prints them readably when the script runs alone). */
export function report(figures: Figure[]): void {
  for (const f of figures) {
    const base = f.baseline ? `  baseline ${f.baseline.name}: ${fmt(f.baseline.result)}` : '';
    console.error(`  ${f.measure}: ${fmt(f.result)} ${f.unit}${base}${f.notes ? `  (${f.notes})` : ''}`);
  }
  console.log(RESULT_PREFIX + JSON.stringify(figures));
}

/** Parses what `report` printed. */
export function parseReport(stdout: string): Figure[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(RESULT_PREFIX))
    .flatMap((l) => JSON.parse(l.slice(RESULT_PREFIX.length)) as Figure[]);
}

/** A number with thousands separators and at most 3 significant decimals for small values. */
export function fmt(n: number): string {
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

/** Logs progress on stderr (stdout carries the results). */
export function log(s: string): void {
  console.error(s);
}
