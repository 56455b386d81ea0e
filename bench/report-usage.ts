/**
 * Measure 2: single `reportUsage` calls, awaited one after another, on a SQLite file.
 *
 * 1,000 customers (views warm), a DELTA of 1 on the monthly METERED feature, round robin over the
 * customers, each call awaited before the next is made; durability 'normal' (the default), then
 * with an idempotency key, then 'full', for information. Each call is one store transaction:
 * read the customer, read and upsert the usage cell, append a change (and with a key, look the
 * key up and store it).
 *
 * Baseline, taking turns with the engine in the same process, on a file with the same schema
 * and pragmas (raw-sqlite.ts): raw better-sqlite3 prepared statements writing the same rows, one
 * transaction per usage: BEGIN IMMEDIATE, upsert the usage cell, insert the change row (and the
 * idempotency row when keyed), COMMIT. Also shown: the machine's floor, one single-row insert per
 * transaction, and the engine with 16 callers in flight at once (group commit shares one SQLite
 * transaction between them).
 */
import { join } from 'node:path';
import { sqliteStore, type SqliteDurability } from '@tessera/sqlite';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, tempDir, type Figure } from './harness.js';
import { rawDb, txStatements, usageStatements } from './raw-sqlite.js';

const CUSTOMERS = 1_000;
const BATCH = 100;
const CONCURRENCY = 16;
const TARGET = 20_000;
const dir = tempDir();
const figures: Figure[] = [];
let files = 0;
const ids = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i));

async function engineCase(durability: SqliteDurability, keyed: boolean) {
  const engine = await benchEngine(sqliteStore({ filename: join(dir, `usage-${++files}.db`), durability }));
  await provisionCustomers(engine, 0, CUSTOMERS);
  for (const id of ids) await engine.getEntitlement({ customerId: id, featureId: 'api-calls' });
  let at = 0;
  let key = 0;
  const one = () => {
    const customerId = ids[at]!;
    if (++at === CUSTOMERS) at = 0;
    return engine.reportUsage(
      keyed ? { customerId, featureId: 'api-calls', value: 1, idempotencyKey: `k-${++key}` } : { customerId, featureId: 'api-calls', value: 1 },
    );
  };
  const sequential = async () => {
    for (let j = 0; j < BATCH; j++) await one();
  };
  const concurrent = async () => {
    const worker = async (i: number) => {
      // BATCH calls in all, shared out: 100 over 16 callers is 7 for the first four, 6 for the rest.
      for (let j = i; j < BATCH; j += CONCURRENCY) await one();
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)));
  };
  return { engine, sequential, concurrent };
}

async function rawCase(durability: SqliteDurability, keyed: boolean) {
  const db = await rawDb(join(dir, `raw-${++files}.db`), durability);
  const tx = txStatements(db);
  const s = usageStatements(db);
  const single = db.prepare('insert into changes (at, kind, customer_id, entity_id, payload) values (?, ?, ?, ?, ?)');
  let at = 0;
  let key = 0;
  const sameRows = () => {
    for (let j = 0; j < BATCH; j++) {
      const now = Date.now();
      const id = ids[at]!;
      if (++at === CUSTOMERS) at = 0;
      tx.begin();
      s.upsertUsage.run(id, '', 'api-calls', 0, 1, 1, now);
      s.appendChange.run(now, 'usage.updated', id, 'api-calls', '{"resourceId":"","windowStart":0,"windowEnd":1,"value":1}');
      if (keyed) s.putIdempotency.run(`reportUsage:${id}`, `k-${++key}`, '{"currentUsage":1}', now);
      tx.commit();
    }
  };
  const oneInsert = () => {
    for (let j = 0; j < BATCH; j++) {
      tx.begin();
      single.run(Date.now(), 'x', null, null, null);
      tx.commit();
    }
  };
  return { db, sameRows, oneInsert };
}

for (const [durability, keyed] of [['normal', false], ['normal', true], ['full', false]] as const) {
  const name = `reportUsage, awaited one by one, durability '${durability}'${keyed ? ', idempotency key' : ''}`;
  log(`  ${name}...`);
  const e = await engineCase(durability, keyed);
  const raw = await rawCase(durability, keyed);
  const primary = durability === 'normal' && !keyed;
  const opts = durability === 'full' ? { samples: 3, warmupMs: 100 } : {};
  const r = await compare(
    [
      { name: 'engine', batch: e.sequential, ops: BATCH },
      { name: 'raw', batch: raw.sameRows, ops: BATCH },
      ...(primary
        ? [
            { name: 'floor', batch: raw.oneInsert, ops: BATCH },
            { name: 'concurrent', batch: e.concurrent, ops: BATCH },
          ]
        : []),
    ],
    opts,
  );
  figures.push({
    measure: name,
    result: r.engine!,
    unit: 'calls/s',
    baseline: { name: 'raw better-sqlite3, same rows, one transaction each', result: r.raw! },
    ratio: 'ratio',
    ...(primary ? { target: '>= 20,000/s', met: r.engine! >= TARGET } : { target: 'information' }),
    ...(primary ? { notes: `machine floor, raw 1-row insert per transaction: ${fmt(r.floor!)}/s` } : {}),
  });
  if (primary) {
    figures.push({
      measure: `reportUsage, ${CONCURRENCY} callers in flight, durability 'normal'`,
      result: r.concurrent!,
      unit: 'calls/s',
      baseline: { name: 'raw better-sqlite3, same rows, one transaction each', result: r.raw! },
      ratio: 'ratio',
      target: 'information',
    });
  }
  await e.engine.close();
  raw.db.close();
}
report(figures);
