/**
 * `npm run bench`: runs every bench script, each in a fresh Node process (so one bench's heap,
 * JIT state and open files cannot colour the next, and memory.ts can use --expose-gc), collects
 * their figures and prints one table. Names on the command line pick a subset:
 * `npm run bench -- checks events`.
 *
 * Every figure is printed with the baseline that its script measured in the same process, and
 * the ratio between them. Files are written only under the OS temp directory, and removed.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fmt, parseReport, type Figure } from './harness.js';

/** Each bench script with its arguments; the name picks it on the command line. */
const BENCHES: { name: string; file: string; args: string[] }[] = [
  { name: 'checks-memory', file: 'checks', args: ['memory'] },
  { name: 'checks-sqlite', file: 'checks', args: ['sqlite'] },
  { name: 'checks-postgres', file: 'checks', args: ['postgres'] },
  { name: 'report-usage', file: 'report-usage', args: [] },
  { name: 'report-usage-bulk', file: 'report-usage-bulk', args: [] },
  { name: 'events', file: 'events', args: [] },
  { name: 'history', file: 'history', args: [] },
  { name: 'memory', file: 'memory', args: [] },
  { name: 'sidecar', file: 'sidecar', args: [] },
  { name: 'cold-start', file: 'cold-start', args: [] },
  { name: 'replica', file: 'replica', args: [] },
  { name: 'subscriptions', file: 'subscriptions', args: [] },
  { name: 'simulate', file: 'simulate', args: [] },
  { name: 'postgres', file: 'postgres', args: [] },
  { name: 'consume-processes', file: 'consume-processes', args: [] },
  { name: 'telemetry', file: 'telemetry', args: [] },
  { name: 'entities', file: 'entities', args: [] },
  { name: 'multi-limits', file: 'multi-limits', args: [] },
  { name: 'rollover', file: 'rollover', args: [] },
];
const names = BENCHES.map((b) => b.name);

const picked = process.argv.slice(2);
const unknown = picked.filter((p) => !names.includes(p));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; choose from ${names.join(', ')}`);
  process.exit(2);
}
const selected = BENCHES.filter((b) => picked.length === 0 || picked.includes(b.name));

function runOne(bench: (typeof BENCHES)[number]): Promise<{ figures: Figure[]; ms: number }> {
  const file = fileURLToPath(new URL(`./${bench.file}.ts`, import.meta.url));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...bench.args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`bench ${bench.name} exited with code ${code}`));
      else resolve({ figures: parseReport(out), ms: performance.now() - t0 });
    });
  });
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`Tessera benchmarks: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, load average ${load()}`);
const all: Figure[] = [];
const started = performance.now();
let failed = false;
for (const bench of selected) {
  console.log(`\n> ${bench.name}`);
  try {
    const { figures, ms } = await runOne(bench);
    console.log(`  (${(ms / 1000).toFixed(1)} s)`);
    all.push(...figures);
  } catch (e) {
    failed = true;
    console.error(`  ${(e as Error).message}`);
  }
}

const ratioOf = (f: Figure): string => {
  if (!f.baseline) return '';
  const r = f.ratio === 'slowdown' ? f.baseline.result / f.result : f.result / f.baseline.result;
  return f.ratio === 'slowdown' ? `${r.toFixed(r < 10 ? 2 : 1)}x slower` : `${r.toFixed(2)}x`;
};
const rows = all.map((f) => [
  f.measure,
  `${fmt(f.result)} ${f.unit}`,
  f.baseline ? `${fmt(f.baseline.result)} (${f.baseline.name})` : '',
  ratioOf(f),
  f.target ?? '',
  f.met === undefined ? '-' : f.met ? 'yes' : 'NO',
]);
console.log(`\nResults (load average at the end ${load()}, ${((performance.now() - started) / 1000).toFixed(0)} s in all)\n`);
const header = ['measure', 'result', 'baseline (same run)', 'ratio', 'target', 'met'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const notes = all.filter((f) => f.notes);
if (notes.length > 0) {
  console.log('\nNotes:');
  for (const f of notes) console.log(`- ${f.measure}: ${f.notes}`);
}
if (failed) process.exit(1);
