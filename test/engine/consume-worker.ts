/**
 * A worker process of consume-workers.test.ts: opens its own engine on a shared SQLite file (the
 * catalog is already stored there), waits for "go" on stdin so that all workers start together,
 * then consumes 1..3 units at a time as fast as it can until the quota is gone, and prints what
 * it was granted as one JSON line on stdout.
 *
 * Usage: node --import tsx test/engine/consume-worker.ts <filename> <customerId> <featureId> <REJECT|CAP> <seed>
 */
import { createInterface } from 'node:readline';
import { createEngine, isTesseraError } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';

const [filename, customerId, featureId, mode, seedArg] = process.argv.slice(2);
if (!filename || !customerId || !featureId || (mode !== 'REJECT' && mode !== 'CAP')) {
  process.stderr.write('usage: consume-worker.ts <filename> <customerId> <featureId> <REJECT|CAP> <seed>\n');
  process.exit(2);
}

/** Refusals with nothing left before stopping: the quota never grows back, a few make sure. */
const STOP_AFTER = 3;
const engine = await createEngine({ store: sqliteStore({ filename, busyTimeoutMs: 30_000 }) });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

// A small deterministic generator, so that each worker asks for its own sequence of amounts.
let seed = Number(seedArg ?? 1) >>> 0 || 1;
const nextAmount = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) >>> 0;
  return 1 + (seed % 3);
};

let granted = 0;
let calls = 0;
let refusals = 0;
let empty = 0;
let amount = nextAmount();
while (empty < STOP_AFTER) {
  // A real caller does some work between two consumptions. Without any, the process holding the
  // SQLite write lock can take it again at once, and use the whole quota before the other
  // processes' lock retries (1 to 16 ms apart) come round: correct, but no race to test.
  if (calls > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  calls++;
  try {
    const r = await engine.consumeUsage({ customerId, featureId, amount, overage: mode });
    granted += r.granted;
    if (r.granted === 0) empty++;
    amount = nextAmount();
  } catch (e) {
    if (!isTesseraError(e, 'USAGE_LIMIT_EXCEEDED')) throw e;
    refusals++;
    const available = Number(e.details.available);
    if (available === 0) empty++;
    // What is left may still be taken in smaller steps.
    amount = available > 0 ? Math.min(amount, available) : nextAmount();
  }
}
await engine.close();
process.stdout.write(`${JSON.stringify({ granted, calls, refusals })}\n`);
