/** `tessera simulate`: a candidate catalog replayed over the stored history (core docs/simulation.md). */
import { writeFileSync } from 'node:fs';
import type { CatalogSimulation, CustomerSimulation, Engine } from '@tessera/core';
import { SIMULATE_HELP } from './help.js';
import { CliError, parseOptions, type OptionValue } from './options.js';
import { readCatalog } from './serve.js';
import { openStore } from './stores.js';

const SIMULATE_OPTIONS = {
  db: { env: ['TESSERA_DB'] },
  schema: { env: ['TESSERA_SCHEMA'] },
  catalog: { env: ['TESSERA_SIMULATE_CATALOG'] },
  from: { env: ['TESSERA_SIMULATE_FROM'] },
  to: { env: ['TESSERA_SIMULATE_TO'] },
  customers: { env: ['TESSERA_SIMULATE_CUSTOMERS'] },
  'plan-map': { env: ['TESSERA_SIMULATE_PLAN_MAP'], multiple: true },
  csv: { env: ['TESSERA_SIMULATE_CSV'] },
  json: { env: ['TESSERA_SIMULATE_JSON'], boolean: true },
} as const;

/** `old=new` pairs, from repeated flags or one comma-separated variable. */
function readPlanMap(option: OptionValue | undefined): Record<string, string> | undefined {
  if (!option) return undefined;
  const out: Record<string, string> = {};
  for (const pair of option.value.split(/[\n,]/).map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([^=]+)=([^=]+)$/.exec(pair);
    if (!m) throw new CliError(`${option.source}: "${pair}" is not old=new (a plan id, =, the plan id in the candidate catalog)`, 2);
    out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

/** A date flag: YYYY-MM-DD (midnight UTC) or an ISO-8601 instant. */
function readInstant(option: OptionValue | undefined, name: string): string {
  if (!option) throw new CliError(`simulate: --${name} <date> is required (2026-01-01, midnight UTC, or an ISO-8601 instant)`, 2);
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(option.value) || !Number.isFinite(Date.parse(option.value))) {
    throw new CliError(`${option.source}: "${option.value}" is not a date (2026-01-01) or an ISO-8601 instant`, 2);
  }
  return option.value.length === 10 ? `${option.value}T00:00:00Z` : option.value;
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal, else one plain line per page of
 * customers (a log file or a CI job gets lines, not carriage returns).
 */
export function progressReporter(stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>): { update(done: number, total: number): void; end(): void } {
  let drawn = false;
  return {
    update(done, total) {
      const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round((pct / 100) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${total} customers`);
        drawn = true;
      } else {
        stream.write(`tessera simulate: ${done}/${total} customers (${pct}%)\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}

/** One row of the table and of the CSV: a customer in one currency. */
interface Row {
  customer: string;
  plan: string;
  currency: string;
  before: string;
  after: string;
  difference: string;
}

function rowsOf(c: CustomerSimulation): Row[] {
  return c.totals.map((t) => ({ customer: c.customerId, plan: c.planIds.join('+'), currency: t.currency, before: t.before, after: t.after, difference: t.difference }));
}

const COLUMNS: (keyof Row)[] = ['customer', 'plan', 'currency', 'before', 'after', 'difference'];
const NUMERIC = new Set<keyof Row>(['before', 'after', 'difference']);

/** Columns padded to their widest cell, amounts right-aligned. */
function table(rows: readonly Row[]): string {
  const widths = COLUMNS.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (NUMERIC.has(COLUMNS[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(COLUMNS.map((c) => r[c])))].join('\n') + '\n';
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
const csvField = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function csv(rows: readonly Row[]): string {
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n') + '\n';
}

function summary(r: CatalogSimulation): string {
  const t = r.totals;
  const out = [
    '',
    `${t.customers} customers: ${t.worseOff} worse off, ${t.betterOff} better off, ${t.unchanged} unchanged${t.mixed > 0 ? `, ${t.mixed} mixed (several currencies)` : ''}`,
    '',
    'revenue by plan:',
  ];
  const plans = t.revenueByPlan.map((p) => ({ customer: '', plan: p.planId, currency: p.currency, before: p.before, after: p.after, difference: p.difference }));
  const widths = ['plan', 'currency', 'before', 'after', 'difference'].map((c) => Math.max(c.length, ...plans.map((p) => p[c as keyof Row].length)));
  const planLine = (cells: string[]) => '  ' + cells.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  out.push(planLine(['plan', 'currency', 'before', 'after', 'difference']));
  for (const p of plans) out.push(planLine([p.plan, p.currency, p.before, p.after, p.difference]));
  if (t.largestChanges.length > 0) {
    out.push('', 'largest changes:');
    for (const c of t.largestChanges) out.push(`  ${c.customerId}  ${c.currency} ${c.before} -> ${c.after} (${c.difference.startsWith('-') ? '' : '+'}${c.difference})`);
  }
  return out.join('\n') + '\n';
}

/**
 * Replays [--from, --to) under --catalog and prints the table (or --json), writing --csv when
 * asked. Options are checked before the database is opened.
 */
export async function simulateCommand(args: string[]): Promise<void> {
  const { help, options: o } = parseOptions(args, SIMULATE_OPTIONS);
  if (help) {
    process.stdout.write(SIMULATE_HELP);
    return;
  }
  if (!o.db) throw new CliError('simulate: --db <file|url> (or TESSERA_DB) is required: the database holding the history', 2);
  if (!o.catalog) throw new CliError('simulate: --catalog <file> is required: the candidate catalog as JSON', 2);
  const catalog = readCatalog(o.catalog);
  const from = readInstant(o.from, 'from');
  const to = readInstant(o.to, 'to');
  const customerIds = o.customers?.value.split(',').map((c) => c.trim()).filter((c) => c !== '');
  const planMapping = readPlanMap(o['plan-map']);
  const json = o.json !== undefined;

  const { createEngine } = await import('@tessera/core');
  const store = await openStore(o.db, { schema: o.schema });
  const engine: Engine = await createEngine({ store });
  const progress = progressReporter(process.stderr);
  const rows: Row[] = [];
  let result: CatalogSimulation;
  try {
    result = await engine.simulateCatalog({
      catalog,
      from,
      to,
      ...(customerIds ? { customerIds } : {}),
      ...(planMapping ? { planMapping } : {}),
      onProgress: (done, total) => progress.update(done, total),
      // The JSON keeps every customer; the table and the CSV only their rows.
      ...(json ? {} : { onCustomer: (c: CustomerSimulation) => rows.push(...rowsOf(c)) }),
    });
  } finally {
    progress.end();
    await engine.close();
  }
  if (json) for (const c of result.customers) rows.push(...rowsOf(c));
  rows.sort((a, b) => (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : a.currency < b.currency ? -1 : 1));
  if (o.csv) {
    try {
      writeFileSync(o.csv.value, csv(rows));
    } catch (e) {
      throw new CliError(`${o.csv.source}: cannot write ${o.csv.value} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : table(rows) + summary(result));
}
