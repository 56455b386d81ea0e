import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, testClock, testPaymentProvider, type Engine, type EngineTransaction, type Store } from '@tessera/core';
import { onPglite } from '../support/pg-stores.js';
import { rejection } from '../support/rejection.js';
import { demoCatalog, storeFactories } from './stores.js';

// tx.provisionSubscription (docs/transactions.md#subscriptions) on every store: the subscription
// commits or rolls back with the application's row, and the payment provider's checkout is made
// only after the commit (never inside the store transaction), its URL through checkout.url().

class Boom extends Error {}

/** The application's own row, on the transaction's connection (none on the memory store). */
function insertOrder(kind: string, tx: EngineTransaction, id: string): Promise<unknown> {
  if (kind === 'sqlite') return Promise.resolve((tx.db as BetterSqlite3.Database).prepare('insert into orders (id) values (?)').run(id));
  if (kind === 'postgres') return (tx.db as Kysely<{ orders: { id: string } }>).insertInto('orders').values({ id }).execute();
  return Promise.resolve();
}

for (const factory of storeFactories()) {
  // tx.db is kysely over pg: PGlite's pool answers rows as arrays (docs/transactions.md#postgresql).
  if (factory.name === 'postgres' && onPglite()) continue;
  describe(`tx.provisionSubscription on ${factory.name}`, () => {
    let engine: Engine;
    let store: Store;
    let cleanup: () => void;
    const payments = testPaymentProvider();
    let n = 0;
    /** The application's orders, counted through a transaction of the engine's store (what committed). */
    const orders = (): Promise<number> =>
      factory.name === 'memory'
        ? Promise.resolve(0)
        : engine.transaction(async (tx) => {
            if (factory.name === 'sqlite') return (tx.db as BetterSqlite3.Database).prepare('select count(*) as n from orders').get() as { n: number };
            return (await (tx.db as Kysely<{ orders: { id: string } }>).selectFrom('orders').select((e) => e.fn.countAll<string>().as('n')).executeTakeFirstOrThrow());
          }).then((r) => Number(r.n));

    beforeAll(async () => {
      const made = factory.make();
      store = made.store;
      cleanup = made.cleanup;
      engine = await createEngine({ store, catalog: demoCatalog, clock: testClock('2024-01-31T10:00:00Z'), paymentProvider: payments, logger: { debug() {}, info() {}, warn() {}, error() {} } });
      if (factory.name === 'sqlite') await engine.transaction(async (tx) => (tx.db as BetterSqlite3.Database).exec('create table orders (id text primary key)'));
      if (factory.name === 'postgres') await engine.transaction(async (tx) => (tx.db as Kysely<never>).schema.createTable('orders').addColumn('id', 'text', (c) => c.primaryKey()).execute());
    });
    afterAll(async () => {
      await engine.close();
      cleanup();
    });

    it('commits with the row; the checkout is made after the commit and its URL comes from checkout.url()', async () => {
      const customerId = `c${++n}`;
      await engine.provisionCustomer({ customerId });
      const before = payments.checkouts.length;
      const ordersBefore = await orders();
      let early: unknown;
      const provisioned = await engine.transaction(async (tx) => {
        await insertOrder(factory.name, tx, `order-${customerId}`);
        const p = await tx.provisionSubscription({ customerId, planId: 'basic', billingPeriod: 'MONTHLY' });
        expect(p.status).toBe('PAYMENT_REQUIRED');
        expect(p.subscription.status).toBe('PAYMENT_PENDING');
        expect(payments.checkouts.length).toBe(before);
        early = await p.checkout!.url().catch((e: unknown) => e);
        return p;
      });
      expect((early as { code?: string }).code).toBe('CONFLICT');
      expect('checkoutUrl' in provisioned).toBe(false);
      const url = await provisioned.checkout!.url();
      expect(url).toBe(`https://checkout.example.test/${encodeURIComponent(provisioned.id)}`);
      expect(payments.checkouts.slice(before).map((c) => c.subscriptionId)).toEqual([provisioned.id]);
      // The same call, not a second one.
      expect(await provisioned.checkout!.url()).toBe(url);
      expect(payments.checkouts.length).toBe(before + 1);
      expect((await engine.getSubscription(provisioned.id)).status).toBe('PAYMENT_PENDING');
      expect(await orders()).toBe(ordersBefore + (factory.name === 'memory' ? 0 : 1));
    });

    it('rolls back with the row: no subscription, no checkout', async () => {
      const customerId = `c${++n}`;
      await engine.provisionCustomer({ customerId });
      const before = payments.checkouts.length;
      const ordersBefore = await orders();
      let pending: Awaited<ReturnType<EngineTransaction['provisionSubscription']>> | undefined;
      const thrown = await engine
        .transaction(async (tx) => {
          await insertOrder(factory.name, tx, `order-${customerId}`);
          pending = await tx.provisionSubscription({ customerId, planId: 'basic', billingPeriod: 'MONTHLY' });
          throw new Boom('the application changed its mind');
        })
        .catch((e: unknown) => e);
      expect(thrown).toBeInstanceOf(Boom);
      expect((await rejection(pending!.checkout!.url())).code).toBe('CONFLICT');
      expect((await rejection(engine.getSubscription(pending!.id))).code).toBe('SUBSCRIPTION_NOT_FOUND');
      expect(payments.checkouts.length).toBe(before);
      expect(await orders()).toBe(ordersBefore);
    });

    it('a free plan and a cancellation in one transaction; checks see them after the commit', async () => {
      const customerId = `c${++n}`;
      await engine.provisionCustomer({ customerId, subscriptionParams: null });
      expect(await engine.getActiveSubscriptions({ customerId })).toEqual([]);
      const id = await engine.transaction(async (tx) => {
        const p = await tx.provisionSubscription({ customerId, planId: 'free' });
        expect(p.status).toBe('SUCCESS');
        expect(p.checkout).toBeUndefined();
        // Not committed: the engine's reads answer from what was (on PostgreSQL; one writer at a
        // time elsewhere, where a read waits for the transaction: docs/transactions.md).
        if (factory.name === 'postgres') expect(await engine.getActiveSubscriptions({ customerId })).toEqual([]);
        return p.id;
      });
      expect((await engine.getActiveSubscriptions({ customerId })).map((s) => s.id)).toEqual([id]);
      await engine.transaction(async (tx) => {
        await tx.cancelSubscription({ subscriptionId: id, cancellationTime: 'IMMEDIATE' });
      });
      expect(await engine.getActiveSubscriptions({ customerId })).toEqual([]);
    });

    it('tx.provisionCustomer makes the checkouts of its subscription after the commit', async () => {
      const customerId = `c${++n}`;
      const before = payments.checkouts.length;
      await engine.transaction(async (tx) => {
        const { subscription } = await tx.provisionCustomer({ customerId, subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
        expect(subscription?.status).toBe('PAYMENT_PENDING');
        expect(payments.checkouts.length).toBe(before);
      });
      await expect.poll(() => payments.checkouts.length).toBe(before + 1);
      expect(payments.checkouts[before]!.customerId).toBe(customerId);
    });
  });
}
