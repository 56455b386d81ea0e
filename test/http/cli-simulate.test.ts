/**
 * `tessera simulate` on a generated SQLite history of 300 customers (test/engine/simulate-catalogs.ts):
 * the table and totals, the CSV, the JSON, the progress lines on a non-terminal stderr, refusals.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, testClock, type CatalogSimulation } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { candidate, stored, writeHistory } from '../engine/simulate-catalogs.js';
import { progressReporter } from '../../packages/http/src/cli/simulate.js';
import { runCli, tempDir } from './harness.js';

const tmp = tempDir();
const db = join(tmp.dir, 'history.db');
const catalogFile = join(tmp.dir, 'new.json');
const CUSTOMERS = 300;

beforeAll(async () => {
  const clock = testClock('2026-01-01T00:00:00Z');
  const engine = await createEngine({ store: sqliteStore({ filename: db }), catalog: stored, clock });
  try {
    await writeHistory(engine, clock, CUSTOMERS);
  } finally {
    await engine.close();
  }
  writeFileSync(catalogFile, JSON.stringify(candidate));
}, 120_000);
afterAll(() => tmp.remove());

const quarter = ['--from', '2026-01-01', '--to', '2026-04-01'];

describe('tessera simulate', () => {
  it('prints a row per customer and the totals, writes the CSV, and shows progress on stderr', async () => {
    const csvFile = join(tmp.dir, 'out.csv');
    const r = await runCli(['simulate', '--db', db, '--catalog', catalogFile, ...quarter, '--plan-map', 'legacy=standard', '--csv', csvFile]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    // Columns padded to the widest cell, amounts right-aligned.
    expect(lines[0]).toBe('customer  plan    currency  before  after  difference');
    expect(lines[1]).toBe('--------  ------  --------  ------  -----  ----------');
    // Per customer (worked by hand in test/engine/simulate.test.ts): basic 30.00 -> 36.00,
    // api 85.00 -> 76.00, legacy 60.00 -> 54.00.
    expect(lines[2]).toBe('h0000     basic   USD        30.00  36.00        6.00');
    expect(lines[3]).toBe('h0001     api     USD        85.00  76.00       -9.00');
    expect(lines[4]).toBe('h0002     legacy  USD        60.00  54.00       -6.00');
    expect(lines.filter((l) => /^h\d{4} /.test(l))).toHaveLength(CUSTOMERS);
    // 100 customers on each plan: 100 x 30.00 = 3000.00 -> 3600.00; 100 x 85.00 = 8500.00 -> 7600.00; 100 x 60.00 = 6000.00 -> 5400.00.
    expect(r.stdout).toContain(`${CUSTOMERS} customers: 100 worse off, 200 better off, 0 unchanged\n`);
    expect(r.stdout).toContain(
      ['revenue by plan:', '  plan    currency   before    after  difference', '  api     USD       8500.00  7600.00     -900.00', '  basic   USD       3000.00  3600.00      600.00', '  legacy  USD       6000.00  5400.00     -600.00'].join('\n'),
    );
    expect(r.stdout).toContain('largest changes:\n  h0001  USD 85.00 -> 76.00 (-9.00)\n');
    const csv = readFileSync(csvFile, 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe('customer,plan,currency,before,after,difference');
    expect(csv.slice(1, 4)).toEqual(['h0000,basic,USD,30.00,36.00,6.00', 'h0001,api,USD,85.00,76.00,-9.00', 'h0002,legacy,USD,60.00,54.00,-6.00']);
    expect(csv).toHaveLength(CUSTOMERS + 1);
    // stderr is a pipe here: plain lines, one per page of 200 customers, ending at the total.
    expect(r.stderr.trimEnd().split('\n')).toEqual(['tessera simulate: 200/300 customers (66%)', 'tessera simulate: 300/300 customers (100%)']);
  }, 60_000);

  it('prints the whole result as JSON, narrowed to --customers', async () => {
    const r = await runCli(['simulate', '--db', db, '--catalog', catalogFile, ...quarter, '--customers', 'h0001,h0002', '--json'], { TESSERA_SIMULATE_PLAN_MAP: 'legacy=standard' });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as CatalogSimulation;
    expect(result.period).toEqual({ start: '2026-01-01T00:00:00.000Z', end: '2026-04-01T00:00:00.000Z' });
    expect(result.customers.map((c) => [c.customerId, c.totals[0]!.difference, c.outcome])).toEqual([
      ['h0001', '-9.00', 'BETTER_OFF'],
      ['h0002', '-6.00', 'BETTER_OFF'],
    ]);
    // February's usage of h0001: 8,000 calls, 45.00 -> 36.00.
    const feb = result.customers[0]!.invoices.find((i) => i.kind === 'USAGE' && i.periodStart === Date.parse('2026-02-01T00:00:00Z'))!;
    expect([feb.before!.total, feb.after!.total, feb.lines[0]!.difference]).toEqual(['45.00', '36.00', '-9.00']);
    expect(result.totals).toMatchObject({ customers: 2, betterOff: 2, worseOff: 0 });
  }, 60_000);

  it('refuses bad options before opening the database, and names an unmapped plan', async () => {
    const [noFrom, badMap, unmapped] = await Promise.all([
      runCli(['simulate', '--db', db, '--catalog', catalogFile, '--to', '2026-04-01']),
      runCli(['simulate', '--db', db, '--catalog', catalogFile, ...quarter, '--plan-map', 'legacy']),
      runCli(['simulate', '--db', db, '--catalog', catalogFile, ...quarter, '--customers', 'h0002']),
    ]);
    expect([noFrom.code, noFrom.stderr]).toEqual([2, 'tessera: simulate: --from <date> is required (2026-01-01, midnight UTC, or an ISO-8601 instant)\n']);
    expect([badMap.code, badMap.stderr]).toEqual([2, 'tessera: --plan-map: "legacy" is not old=new (a plan id, =, the plan id in the candidate catalog)\n']);
    expect(unmapped.code).toBe(1);
    expect(unmapped.stderr).toMatch(/^tessera: PLAN_NOT_FOUND: .*"legacy".*planMapping/);
  }, 60_000);

  it('has its own help, and draws a bar in place on a terminal', async () => {
    const help = await runCli(['help', 'simulate']);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^Usage: tessera simulate --db <file\|url> --catalog <file> --from <date> --to <date>/);
    for (const v of ['TESSERA_DB', 'TESSERA_SIMULATE_CATALOG', 'TESSERA_SIMULATE_FROM', 'TESSERA_SIMULATE_TO', 'TESSERA_SIMULATE_CUSTOMERS', 'TESSERA_SIMULATE_PLAN_MAP', 'TESSERA_SIMULATE_CSV', 'TESSERA_SIMULATE_JSON']) {
      expect(help.stdout).toContain(v);
    }
    const written: string[] = [];
    const bar = progressReporter({ isTTY: true, write: (s: string) => written.push(s) > 0 });
    bar.update(100, 300);
    bar.update(300, 300);
    bar.end();
    // 30 cells: 33% of them is 10 (rounded), 100% all 30; one newline once done.
    expect(written).toEqual([`\r[${'#'.repeat(10)}${'.'.repeat(20)}] 33% 100/300 customers`, `\r[${'#'.repeat(30)}] 100% 300/300 customers`, '\n']);
  }, 60_000);
});
