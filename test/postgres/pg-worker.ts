/**
 * A worker process of processes.test.ts and outage.test.ts: serves jobs read from stdin (worker-protocol.ts), each
 * with an engine of its own on a shared PostgreSQL schema (the catalog and the customer are
 * already stored there): opens the engine, prints "ready <id>", waits for "go <id>" so that all
 * workers start together, does the job, closes the engine and prints "report <id> <JSON>".
 * Prints "up" once loaded; exits once stdin ends and its jobs are done.
 *
 * Usage: node --import tsx test/postgres/pg-worker.ts
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createEngine, isTesseraError, type Engine, type MeteredEntitlement } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { consumeUntilEmpty, generator } from '../support/consume-loop.js';
import { consumeForEntities } from '../support/entity-consume-loop.js';
import { outageJob } from './outage-job.js';
import type { ChurnJob, ConsumeJob, ConsumeReport, IngestJob, IngestReport, ListenJob, ListenReport, ReportJob, ReportReport, WorkerJob } from './worker-protocol.js';

/** Synchronous, so that a line printed is a line the parent gets, even if SIGKILL comes next. */
const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};

/** A job once its engine is open and it is prepared: `run` does the rest on "go". */
type Prepared = () => Promise<unknown>;

async function usageOf(engine: Engine, customerId: string, featureId: string): Promise<number> {
  const e = (await engine.getMeteredEntitlement({ customerId, featureId })) as MeteredEntitlement;
  return e.currentUsage;
}

function consume(engine: Engine, j: ConsumeJob): Prepared {
  return (): Promise<ConsumeReport> => consumeUntilEmpty(engine, j);
}

function ingest(engine: Engine, j: IngestJob): Prepared {
  // The same keys as every other worker, shuffled by this worker's seed (Fisher-Yates).
  const next = generator(j.seed);
  const keys = Array.from({ length: j.keys }, (_, i) => `evt-${i}`);
  for (let i = keys.length - 1; i > 0; i--) {
    const k = next() % (i + 1);
    [keys[i], keys[k]] = [keys[k]!, keys[i]!];
  }
  return async (): Promise<IngestReport> => {
    let accepted = 0;
    let duplicates = 0;
    let batches = 0;
    const startedAt = Date.now();
    for (let i = 0; i < keys.length; i += j.batchSize) {
      const batch = keys.slice(i, i + j.batchSize).map((idempotencyKey) => ({ customerId: j.customerId, eventName: j.eventName, idempotencyKey, dimensions: { worker: j.seed } }));
      const r = await engine.reportEvent(batch);
      accepted += r.accepted;
      duplicates += r.duplicates;
      batches++;
    }
    return { accepted, duplicates, batches, startedAt, endedAt: Date.now() };
  };
}

async function report(engine: Engine, j: ReportJob): Promise<Prepared> {
  // Warm: the customer's view is loaded and the statements prepared, so the call below is a plain write.
  await usageOf(engine, j.customerId, j.featureId);
  return async (): Promise<ReportReport> => {
    const startedAt = Date.now();
    const r = await engine.reportUsage({ customerId: j.customerId, featureId: j.featureId, value: j.value });
    const doneAt = Date.now();
    return { startedAt, doneAt, currentUsage: r.currentUsage };
  };
}

async function listen(engine: Engine, j: ListenJob): Promise<Prepared> {
  // The view is warm: a check answers from memory until the change feed says otherwise.
  const cold = performance.now();
  const warmUsage = await usageOf(engine, j.customerId, j.featureId);
  const coldCheckMs = Math.round(performance.now() - cold);
  const out: ListenReport = { warmUsage, coldCheckMs, heardAt: null, heardUsage: null, checkedAt: null, checkedUsage: null };
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  engine.addListener('usageUpdated', (e) => {
    if (e.customerId !== j.customerId || e.featureId !== j.featureId || out.heardAt !== null) return;
    out.heardAt = Date.now();
    out.heardUsage = e.currentUsage;
    void usageOf(engine, j.customerId, j.featureId).then(
      (u) => {
        out.checkedAt = Date.now();
        out.checkedUsage = u;
        done();
      },
      (err: unknown) => {
        process.stderr.write(`check failed: ${String(err)}\n`);
        done();
      },
    );
  });
  return async (): Promise<ListenReport> => {
    const timer = setTimeout(done, j.timeoutMs);
    await finished;
    clearTimeout(timer);
    return out;
  };
}

/** Never returns: the parent SIGKILLs the process. */
function churn(engine: Engine, j: ChurnJob): Prepared {
  const loop = async (n: number): Promise<never> => {
    const next = generator(n + 1);
    for (let i = 0; ; i++) {
      const amount = 1 + (next() % 3);
      if (i % 2 === 0) {
        say(`r ${n} ${amount}`);
        const r = await engine.reserveUsage({ customerId: j.customerId, featureId: j.featureId, amount, expiresIn: j.expiresIn });
        say(`R ${n} ${r.reservationId} ${r.granted} ${r.expiresAt.getTime()}`);
      } else {
        say(`c ${n} ${amount}`);
        const r = await engine.consumeUsage({ customerId: j.customerId, featureId: j.featureId, amount });
        say(`C ${n} ${r.granted}`);
      }
    }
  };
  return () => Promise.all(Array.from({ length: j.loops }, (_, n) => loop(n)));
}

/** Handlers of "tell <id> <word> [arg]" lines, by job id (jobs that take commands while they run). */
const commands = new Map<number, (word: string, arg: string | undefined) => void>();

function prepare(engine: Engine, j: WorkerJob, id: number, background: string[]): Prepared | Promise<Prepared> {
  switch (j.mode) {
    case 'outage':
      return outageJob(engine, j, (word, arg) => say(`${word} ${id} ${arg}`), background).then((job) => {
        commands.set(id, job.command);
        return job.run;
      });
    case 'consume':
      return consume(engine, j);
    case 'entities':
      return () => consumeForEntities(engine, j);
    case 'ingest':
      return ingest(engine, j);
    case 'report':
      return report(engine, j);
    case 'listen':
      return listen(engine, j);
    case 'churn':
      return churn(engine, j);
  }
}

/** "go <id>" lines not yet received, by job id. */
const gos = new Map<number, () => void>();
/** "go <id>" lines received before their job was ready. */
const early = new Set<number>();

function waitForGo(id: number): Promise<void> {
  if (early.delete(id)) return Promise.resolve();
  return new Promise<void>((resolve) => gos.set(id, resolve));
}

async function serve(id: number, job: WorkerJob): Promise<void> {
  let engine: Engine | undefined;
  try {
    // A hot row under 8 contenders on 2 busy cores can take a call many retries: a generous budget
    // keeps a slow CI machine from turning contention into STORE_UNAVAILABLE.
    const outage = job.mode === 'outage' ? job : undefined;
    const store = postgresStore({ connectionString: job.url, schema: job.schema, retryTimeoutMs: 60_000, ...(outage ? { reconnectTimeoutMs: outage.reconnectTimeoutMs } : {}) });
    // What the store reports through watchChanges' onError (the follower's LISTEN connection lost,
    // reconnections failing), counted here on the way to the engine's own handler.
    const background: string[] = [];
    const watch = store.watchChanges.bind(store);
    store.watchChanges = (onChange, options) =>
      watch(onChange, {
        onError: (e) => {
          background.push(isTesseraError(e) ? e.code : String(e));
          options?.onError?.(e);
        },
      });
    engine = await createEngine({ store, ...(outage ? { followIntervalMs: outage.followIntervalMs } : {}) });
    const run = await prepare(engine, job, id, background);
    say(`ready ${id}`);
    await waitForGo(id);
    const result = await run();
    await engine.close();
    engine = undefined;
    say(`report ${id} ${JSON.stringify(result)}`);
  } catch (e) {
    await engine?.close().catch(() => undefined);
    say(`error ${id} ${JSON.stringify(e instanceof Error ? (e.stack ?? e.message) : String(e))}`);
  } finally {
    commands.delete(id);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const tell = /^tell (\d+) (\w+)(?: (.*))?$/.exec(line);
  if (tell) {
    commands.get(Number(tell[1]))?.(tell[2]!, tell[3]);
    return;
  }
  const go = /^go (\d+)$/.exec(line);
  if (go) {
    const id = Number(go[1]);
    const resolve = gos.get(id);
    if (resolve) {
      gos.delete(id);
      resolve();
    } else early.add(id);
    return;
  }
  const { id, job } = JSON.parse(line) as { id: number; job: WorkerJob };
  void serve(id, job);
});

// Modules loaded: the parent may count this process as started.
say('up');
