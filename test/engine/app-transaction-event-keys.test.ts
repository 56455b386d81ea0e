import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { tempDir } from './stores.js';
import { openApp, type App } from './app-tx-fixture.js';

// Compact event keys (SQLite v8, packages/sql/src/tx-events.ts) inside engine.transaction on the
// application's connection, with Tessera's tables under the prefix 'tessera_': the store keeps
// hints of recent event ids in memory, and a rollback (the application's, or to its own savepoint)
// makes a hint name an id that is gone or given to another key. Every key must still be stored
// exactly once.

class Boom extends Error {}

describe('idempotency keys of events inside engine.transaction on SQLite (table prefix)', () => {
  let dir: ReturnType<typeof tempDir>;
  let app: App;
  /** A second engine on the same file, through a connection of its own. */
  let other: Engine;
  let n = 0;
  const event = (idempotencyKey: string, customerId = 'c1') => ({ customerId, eventName: 'page_view', idempotencyKey });
  const rowsWithKey = (key: string) => (app.db.prepare('select count(*) as n from tessera_events where idempotency_key = ?').get(key) as { n: number }).n;
  const fresh = () => `k${++n}`;

  beforeAll(async () => {
    dir = tempDir();
    const filename = join(dir.dir, 'app.db');
    app = await openApp(filename);
    other = await createEngine({ store: sqliteStore({ filename, tablePrefix: 'tessera_' }), followIntervalMs: 0 });
    await app.engine.provisionCustomer({ customerId: 'c1' });
    await app.engine.reportEvent(event('warm-up'));
  });
  afterAll(async () => {
    await other.close();
    await app.close();
    dir.cleanup();
  });

  it('a key reported in a transaction the callback rolled back is accepted once afterwards, on either connection', async () => {
    const [a, b] = [fresh(), fresh()];
    await expect(
      app.engine.transaction(async (tx) => {
        expect((await tx.reportEvent([event(a), event(b)])).accepted).toBe(2);
        throw new Boom();
      }),
    ).rejects.toBeInstanceOf(Boom);
    expect([rowsWithKey(a), rowsWithKey(b)]).toEqual([0, 0]);
    // Another key takes the rolled-back id of `a`, through the other connection: the hint for `a` then names another key's row.
    const c = fresh();
    expect((await other.reportEvent(event(c))).accepted).toBe(1);
    expect((await app.engine.reportEvent(event(a))).accepted).toBe(1);
    expect((await other.reportEvent(event(b))).accepted).toBe(1);
    for (const engine of [app.engine, other]) {
      const again = await engine.reportEvent([event(a), event(b), event(c)]);
      expect([again.accepted, again.duplicates]).toEqual([0, 3]);
    }
    expect([rowsWithKey(a), rowsWithKey(b), rowsWithKey(c)]).toEqual([1, 1, 1]);
  });

  it("a key whose event the application rolled back to its own savepoint is stored again in the same transaction, once", async () => {
    const [a, b] = [fresh(), fresh()];
    await app.engine.transaction(async (tx) => {
      app.db.exec('SAVEPOINT app_step');
      expect((await tx.reportEvent(event(a))).accepted).toBe(1);
      app.db.exec('ROLLBACK TO app_step');
      app.db.exec('RELEASE app_step');
      // `b` takes the id `a` had; `a` is new again, then a duplicate within the transaction.
      expect((await tx.reportEvent(event(b))).accepted).toBe(1);
      const r = await tx.reportEvent([event(a), event(a)]);
      expect([r.accepted, r.duplicates]).toEqual([1, 1]);
    });
    for (const engine of [app.engine, other]) {
      const again = await engine.reportEvent([event(a), event(b)]);
      expect([again.accepted, again.duplicates]).toEqual([0, 2]);
    }
    expect([rowsWithKey(a), rowsWithKey(b)]).toEqual([1, 1]);
  });

  it('a failed engine call inside the callback rolls back its events with the transaction; the key is accepted once later', async () => {
    const a = fresh();
    await expect(
      app.engine.transaction(async (tx) => {
        await tx.reportEvent(event(a));
        // Refused (the customer does not exist): the transaction fails as a whole.
        await tx.consumeUsage({ customerId: 'nobody', featureId: 'projects', amount: 1 });
      }),
    ).rejects.toMatchObject({ code: 'CUSTOMER_NOT_FOUND' });
    expect(rowsWithKey(a)).toBe(0);
    expect((await app.engine.reportEvent(event(a))).accepted).toBe(1);
    expect((await other.reportEvent(event(a))).duplicates).toBe(1);
    expect(rowsWithKey(a)).toBe(1);
  });
});
