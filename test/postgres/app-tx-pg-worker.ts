// A crash-test worker (app-transaction-crash.test.ts) on PostgreSQL: creates projects with
// engine.transaction (a row through tx.db and one `projects` unit), some rolled back, until the
// quota refuses them, and SIGKILLs itself at a point picked from its seed: inside a transaction
// (after the application's insert, after the consumption) or just after a commit.
import type { Kysely } from 'kysely';
import type { TesseraError } from '@tessera/core';
import { openPgApp, type AppDb } from './app-tx-pg-fixture.js';
import { dieNow, seededRandom } from '../support/workers.js';

const [url, schema, customerId, worker, seedArg] = process.argv.slice(2) as [string, string, string, string, string];
const random = seededRandom(seedArg);
const die = dieNow;

// The catalog (and its limit) is the one the test published.
const app = await openPgApp(url, schema, undefined);
const killAt = 4 + Math.floor(random() * 16);
const where = (['after-insert', 'after-consume', 'after-commit'] as const)[Math.floor(random() * 3)]!;
for (let i = 0; ; i++) {
  const rollback = random() < 0.3;
  const killing = i === killAt;
  await app.engine
    .transaction(async (tx) => {
      await (tx.db as Kysely<AppDb>).insertInto('projects').values({ id: `${worker}-${i}`, customer_id: customerId, name: 'p' }).execute();
      if (killing && where === 'after-insert') die();
      await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
      if (killing && where === 'after-consume') die();
      if (rollback) throw new Error('rolled back on purpose');
    })
    .catch((e: unknown) => {
      if ((e as Error).message !== 'rolled back on purpose' && (e as TesseraError).code !== 'USAGE_LIMIT_EXCEEDED') throw e;
    });
  if (killing) die();
}
