/**
 * `simulateCatalog` over a stored quarter of history on a SQLite file.
 *
 * CUSTOMERS customers (10,000 unless given as the first argument) are written through the engine
 * with a test clock (test/engine/simulate-catalogs.ts `writeHistory`): a third each on `basic`,
 * `api` (with API calls in each month, billed in arrears) and `legacy`, ticked from January to
 * April 2026: 4 invoices for a basic or legacy customer, 7 for an api one. One timed batch is one
 * whole simulation of [2026-01-01, 2026-04-01) under the candidate catalog (a price rise, a new
 * usage tier, a plan mapping), paging over every customer. Before timing, one run is checked:
 * every customer replayed, a third worse off, two thirds better off; any miss exits non-zero.
 *
 * Baseline, taking turns with the simulation in the same process on the same file: reading the
 * same history as it was, `getInvoices` of every customer one after the other (the "before" side
 * of the simulation without any pricing).
 */
import { join } from 'node:path';
import { createEngine, testClock, type Engine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { candidate, stored, writeHistory } from '../test/engine/simulate-catalogs.js';
import { compare, fmt, log, report, tempDir, timed } from './harness.js';

const CUSTOMERS = Number(process.argv[2] ?? '') || 10_000;
const dir = tempDir();
const filename = join(dir, 'simulate.db');
const clock = testClock('2026-01-01T00:00:00Z');
const engine: Engine = await createEngine({ store: sqliteStore({ filename }), catalog: stored, clock });
const setup = await timed(() => writeHistory(engine, clock, CUSTOMERS));
const ids = setup.value;
log(`  setup: ${fmt(CUSTOMERS)} customers, a quarter of invoices and usage written in ${(setup.ms / 1000).toFixed(1)} s`);

const params = { catalog: candidate, from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z', planMapping: { legacy: 'standard' }, onCustomer: () => {} };
const check = await engine.simulateCatalog(params);
const basic = Math.ceil(CUSTOMERS / 3);
if (check.totals.customers !== CUSTOMERS || check.totals.worseOff !== basic || check.totals.betterOff !== CUSTOMERS - basic) {
  log(`  simulation replayed ${JSON.stringify(check.totals)}, expected ${CUSTOMERS} customers, ${basic} worse off`);
  process.exit(1);
}

const rates = await compare(
  [
    { name: 'simulate', ops: CUSTOMERS, batch: () => engine.simulateCatalog(params) },
    {
      name: 'read',
      ops: CUSTOMERS,
      batch: async () => {
        for (const customerId of ids) await engine.getInvoices({ customerId });
      },
    },
  ],
  // A batch is seconds long: one run per sample, three samples, one warm-up run.
  { warmupMs: 1, sampleMs: 1, samples: 3 },
);
await engine.close();

report([
  {
    measure: `simulateCatalog, stored history of ${fmt(CUSTOMERS)} customers (a quarter: monthly fees, usage in arrears), sqlite`,
    result: rates.simulate!,
    unit: 'customers/s',
    baseline: { name: 'getInvoices of every customer, one after the other (the history read, nothing priced)', result: rates.read! },
    ratio: 'slowdown',
    target: 'information',
  },
]);
