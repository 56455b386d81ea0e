/**
 * Measure 3: `reportUsageBulk` of 1,000 usages on a SQLite file (durability 'normal').
 *
 * 1,000 customers (views warm); each call reports a DELTA of 1 on the monthly METERED feature
 * for every one of them, so one call is one transaction holding 1,000 usage cell upserts and
 * 1,000 change rows. Calls are awaited one after another.
 *
 * Baseline, taking turns with the engine in the same process, on a file with the same schema and
 * pragmas: raw better-sqlite3 prepared statements writing the same rows (1,000 usage upserts and
 * 1,000 change inserts) in one transaction.
 */
import { join } from 'node:path';
import type { ReportUsageParams } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, report, tempDir } from './harness.js';
import { rawDb, txStatements, usageStatements } from './raw-sqlite.js';

const ROWS = 1_000;
const TARGET = 200_000;
const dir = tempDir();
const ids = Array.from({ length: ROWS }, (_, i) => customerId(i));

const engine = await benchEngine(sqliteStore({ filename: join(dir, 'bulk.db') }));
await provisionCustomers(engine, 0, ROWS);
for (const id of ids) await engine.getEntitlement({ customerId: id, featureId: 'api-calls' });
const usages: ReportUsageParams[] = ids.map((id) => ({ customerId: id, featureId: 'api-calls', value: 1 }));

const db = await rawDb(join(dir, 'raw.db'));
const tx = txStatements(db);
const s = usageStatements(db);
const payload = '{"resourceId":"","windowStart":0,"windowEnd":1,"value":1}';

const r = await compare([
  { name: 'engine', batch: () => engine.reportUsageBulk({ usages }), ops: ROWS },
  {
    name: 'raw',
    batch: () => {
      const now = Date.now();
      tx.begin();
      for (const id of ids) {
        s.upsertUsage.run(id, '', 'api-calls', 0, 1, 1, now);
        s.appendChange.run(now, 'usage.updated', id, 'api-calls', payload);
      }
      tx.commit();
    },
    ops: ROWS,
  },
]);
await engine.close();
db.close();

report([
  {
    measure: 'reportUsageBulk, 1,000 usages per call',
    result: r.engine!,
    unit: 'rows/s',
    baseline: { name: 'raw better-sqlite3, same rows, 1,000 per transaction', result: r.raw! },
    ratio: 'ratio',
    target: '>= 200,000 rows/s',
    met: r.engine! >= TARGET,
  },
]);
