/**
 * A worker process of consume-processes.ts. Reads one JSON command per line on stdin:
 *
 * - `{ "open": { "store": "postgres", "url": ..., "schema": ... } }` or
 *   `{ "open": { "store": "sqlite", "filename": ... } }`, with `"customerId"` (and `"watch": false`
 *   to hide the store's watchChanges, so that the engine's change follower only polls): opens its
 *   own engine on that store unless the one it has is already on it (the catalog and customers
 *   are stored there), consumes 1 unit once (loading the customer's view and preparing the
 *   statements), prints `ready`;
 * - `{ "go": <milliseconds> }`: calls `consumeUsage` for 1 unit of `api-calls` on that customer,
 *   each call awaited before the next, until the time is up, and prints its report as one JSON
 *   line: `{ calls, ms, transactions, attempts, reads }` (write transactions, the times their
 *   callback ran: one more per serialization-failure retry, and read transactions: view loads);
 * - `{ "close": true }`: closes its engine (its PostgreSQL connections end), prints `closed`.
 *
 * Usage: node --import tsx bench/consume-worker.ts
 */
import { createInterface } from 'node:readline';
import { createEngine, type Engine } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { sqliteStore } from '@tessera/sqlite';
import { countedStore, type Tally } from './pg-helpers.js';

type Open = { customerId: string; watch?: boolean } & ({ store: 'postgres'; url: string; schema: string } | { store: 'sqlite'; filename: string });

const tally: Tally = { transactions: 0, attempts: 0, reads: 0 };
/** False: the store's watchChanges is hidden from the engine, whose follower then only polls (every 200 ms). */
let watch = true;

let engine: Engine | undefined;
/** The store and follower mode the open engine was made for. */
let opened = '';
let customerId = '';

async function close(): Promise<void> {
  await engine?.close();
  engine = undefined;
  opened = '';
}

async function open(o: Open): Promise<void> {
  const { customerId: id, ...on } = o;
  if (engine === undefined || opened !== JSON.stringify(on)) {
    await close();
    watch = o.watch !== false;
    const store = o.store === 'postgres' ? postgresStore({ connectionString: o.url, schema: o.schema }) : sqliteStore({ filename: o.filename, busyTimeoutMs: 30_000 });
    engine = await createEngine({ store: countedStore(store, tally, { watch }) });
    opened = JSON.stringify(on);
  }
  customerId = id;
  await engine.consumeUsage({ customerId, featureId: 'api-calls', amount: 1 });
  process.stdout.write('ready\n');
}

async function run(ms: number): Promise<void> {
  const e = engine!;
  const before = { ...tally };
  let calls = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  while (performance.now() < end) {
    await e.consumeUsage({ customerId, featureId: 'api-calls', amount: 1 });
    calls++;
  }
  const elapsed = performance.now() - t0;
  process.stdout.write(
    `${JSON.stringify({ calls, ms: elapsed, transactions: tally.transactions - before.transactions, attempts: tally.attempts - before.attempts, reads: tally.reads - before.reads })}\n`,
  );
}

const lines = createInterface({ input: process.stdin });
// One command at a time, in order.
let chain = Promise.resolve();
lines.on('line', (line) => {
  chain = chain
    .then(async () => {
      const cmd = JSON.parse(line) as { open?: Open; go?: number; close?: true };
      if (cmd.open) await open(cmd.open);
      else if (cmd.go !== undefined) await run(cmd.go);
      else if (cmd.close) {
        await close();
        process.stdout.write('closed\n');
      }
    })
    .catch((e: unknown) => {
      process.stderr.write(`consume-worker: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    });
});
lines.on('close', () => {
  void chain.then(async () => {
    await close();
    process.exit(0);
  });
});
