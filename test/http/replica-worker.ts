/**
 * A replica in its own process, for test/http/replica.test.ts: opens a replica of the sidecar,
 * optionally waits for its first sync and for `go` on stdin, then records writes FROM..TO-1 and
 * prints `ack <i> <kind> <value>` after each one the replica acknowledged (stdout to a pipe is
 * synchronous on Linux: a printed ack was acknowledged before anything after it started).
 *
 * Writes come in runs of 50 of one kind: usage reports of `tokens` (value 1 + i % 5, key `u-<i>`)
 * and `request` events (metered as COUNT into `requests`, key `e-<i>`). The keys are fixed by
 * `i`, so a restarted worker that starts again after its last printed ack repeats at most the
 * one write a kill interrupted, with the same key: counted once.
 *
 * Environment: REPLICA_URL, REPLICA_KEY, REPLICA_FILE, CUSTOMER, FROM, TO, and WAIT_SYNC=1,
 * WAIT_GO=1, DRAIN=1 to wait for the sync, for `go`, for the outbox to drain before exiting.
 *
 * CRASH_AT=<i> kills the process (SIGKILL, sent to itself) inside write i's transaction, between
 * the local usage write and its outbox append (CRASH_WHEN=before, the default) or right after
 * the append, before the commit (CRASH_WHEN=after). The replica's code has no hook for it: the
 * worker wraps better-sqlite3's statement that appends to the outbox.
 */
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { createReplica } from '@tessera/http';
import { kindOf, valueOf } from './replica-writes.js';

/** The write under way (its index), for the crash point. */
let writing = -1;
const crashAt = process.env.CRASH_AT === undefined ? undefined : Number(process.env.CRASH_AT);
if (crashAt !== undefined) {
  const after = process.env.CRASH_WHEN === 'after';
  const prepare = BetterSqlite3.prototype.prepare;
  BetterSqlite3.prototype.prepare = function (this: BetterSqlite3.Database, source: string) {
    const statement = prepare.call(this, source) as BetterSqlite3.Statement<unknown[]>;
    if (/^INSERT OR IGNORE INTO replica_outbox\b/.test(source)) {
      const run = statement.run;
      statement.run = function (this: BetterSqlite3.Statement<unknown[]>, ...params: unknown[]) {
        if (writing !== crashAt) return run.apply(this, params);
        process.stdout.write(`crash ${writing} ${after ? 'after' : 'before'}\n`);
        if (!after) process.kill(process.pid, 'SIGKILL');
        const result = run.apply(this, params);
        process.kill(process.pid, 'SIGKILL');
        return result;
      } as typeof statement.run;
    }
    return statement;
  } as typeof prepare;
}

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const customerId = env('CUSTOMER');
  const from = Number(env('FROM'));
  const to = Number(env('TO'));
  const replica = await createReplica({ url: env('REPLICA_URL'), apiKey: env('REPLICA_KEY'), replica: env('REPLICA_FILE'), pollIntervalMs: 1_000, timeoutMs: 1_000, maxBackoffMs: 1_000 });
  replica.on('offline', () => out('offline'));
  replica.on('online', () => out('online'));
  if (process.env.WAIT_SYNC === '1') {
    await replica.whenSynced(20_000);
    out(`synced ${replica.syncState().lastSeq}`);
  }
  if (process.env.WAIT_GO === '1') {
    const lines = createInterface({ input: process.stdin });
    await new Promise<void>((resolve) => lines.on('line', (l) => l.trim() === 'go' && resolve()));
    lines.close();
  }
  for (let i = from; i < to; i++) {
    writing = i;
    if (kindOf(i) === 'usage') await replica.reportUsage({ customerId, featureId: 'tokens', value: valueOf(i), idempotencyKey: `u-${i}` });
    else await replica.reportEvent({ customerId, eventName: 'request', idempotencyKey: `e-${i}` });
    out(`ack ${i} ${kindOf(i)} ${valueOf(i)}`);
  }
  out(`done ${replica.syncState().outboxDepth}`);
  if (process.env.DRAIN === '1') {
    await replica.drained(60_000);
    out(`drained ${JSON.stringify(replica.syncState())}`);
  }
  await replica.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`replica-worker: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
