// A crash-test worker (app-transaction-crash.test.ts): creates projects in engine.transaction,
// some rolled back, then SIGKILLs itself at a point picked from its seed — inside a transaction
// (after the application's insert, after the consumption) or just after a commit.
import { openApp } from './app-tx-fixture.js';
import { dieNow, seededRandom } from '../support/workers.js';

const [filename, customerId, worker, seedArg] = process.argv.slice(2) as [string, string, string, string];
const random = seededRandom(seedArg);
const die = dieNow;

const app = await openApp(filename, false);
const killAt = 2 + Math.floor(random() * 15);
const where = (['after-insert', 'after-consume', 'after-commit'] as const)[Math.floor(random() * 3)]!;
for (let i = 0; ; i++) {
  const rollback = random() < 0.3;
  const killing = i === killAt;
  await app.engine
    .transaction(async (tx) => {
      await app.kysely.insertInto('projects').values({ id: `${worker}-${i}`, customer_id: customerId, name: 'p' }).execute();
      if (killing && where === 'after-insert') die();
      await tx.consumeUsage({ customerId, featureId: 'projects', amount: 1 });
      if (killing && where === 'after-consume') die();
      if (rollback) throw new Error('rolled back on purpose');
    })
    .catch((e: unknown) => {
      if ((e as Error).message !== 'rolled back on purpose') throw e;
    });
  if (killing) die();
}
