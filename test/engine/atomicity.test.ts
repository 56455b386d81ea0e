import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, TesseraError, type CatalogDefinition, type Engine, type Store, type StoreTx, type TesseraErrorCode } from '@tessera/core';
import { demoCatalog, engineOn, storeFactories, type StoreFactory } from './stores.js';
import { rejection } from '../support/rejection.js';

// "A failed call writes nothing" (API.md): for each public write method, one rejected call must
// leave every read and the change feed as they were, through this engine's cache and through a
// fresh engine reading the store itself.

type Env = Awaited<ReturnType<typeof engineOn>>;
type WriteMethod = 'putCustomer' | 'putSubscription' | 'putUsage' | 'putUsages' | 'putIdempotency' | 'appendChange' | 'appendChanges' | 'insertCatalogVersion';
const WRITE_METHODS: readonly WriteMethod[] = [
  'putCustomer',
  'putSubscription',
  'putUsage',
  'putUsages',
  'putIdempotency',
  'appendChange',
  'appendChanges',
  'insertCatalogVersion',
];

/**
 * Wraps a store so that a test can make the n-th call of one transaction method throw, as a
 * disk or network failure would, after the writes that came before it in the same transaction.
 */
function faultyStore(inner: Store) {
  let armed: { method: keyof StoreTx; remaining: number } | undefined;
  /** Writes done in the transaction that failed, before the failure. */
  let writesBeforeFault: string[] = [];
  const wrapTx = (tx: StoreTx): StoreTx => {
    const writes: string[] = [];
    return new Proxy(tx, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (armed && armed.method === prop && --armed.remaining === 0) {
            armed = undefined;
            writesBeforeFault = [...writes];
            throw new Error(`injected store failure in ${String(prop)}`);
          }
          if (WRITE_METHODS.includes(prop as WriteMethod)) writes.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
  const store: Store = {
    get kind() {
      return inner.kind;
    },
    open: () => inner.open(),
    transaction: (mode, fn) => inner.transaction(mode, (tx) => fn(wrapTx(tx))),
    getChanges: (after, limit) => inner.getChanges(after, limit),
    lastChangeSeq: () => inner.lastChangeSeq(),
    close: () => inner.close(),
  };
  return {
    store,
    /** The `nth` call (from 1) of `method` from now on throws. */
    failOn(method: WriteMethod, nth = 1) {
      armed = { method, remaining: nth };
      writesBeforeFault = [];
    },
    get writesBeforeFault() {
      return writesBeforeFault;
    },
  };
}

const settle = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (value) => ({ value }),
    (e: unknown) => ({ error: e instanceof TesseraError ? e.code : String(e) }),
  );

const CUSTOMERS = ['c1', 'c2', 'c3', 'arch', 'new'];
const SUBSCRIPTION_IDS = Array.from({ length: 12 }, (_, i) => `sub_${i + 1}`);

/** Every read the tests compare: customers, subscriptions, entitlements with usage, products. */
async function reads(engine: Engine): Promise<unknown> {
  const out: Record<string, unknown> = { catalogVersion: engine.catalogVersion, products: await engine.getProducts() };
  for (const c of CUSTOMERS) {
    out[c] = {
      customer: await settle(engine.getCustomer(c)),
      active: await settle(engine.getActiveSubscriptions({ customerId: c })),
      entitlements: await settle(engine.getEntitlements(c)),
      apiCalls: await settle(engine.getMeteredEntitlement({ customerId: c, featureId: 'api-calls' })),
      seats: await settle(engine.getMeteredEntitlement({ customerId: c, featureId: 'seats' })),
    };
  }
  for (const id of SUBSCRIPTION_IDS) out[id] = await settle(engine.getSubscription(id));
  return out;
}

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    let faults: ReturnType<typeof faultyStore>;

    beforeEach(async () => {
      const wrapped: StoreFactory = {
        name: factory.name,
        make: () => {
          const made = factory.make();
          faults = faultyStore(made.store);
          return { ...made, store: faults.store };
        },
      };
      env = await engineOn(wrapped);
      const e = env.engine;
      // c1: basic monthly with 2 extra seat packs and some usage; c2: pro trial;
      // c3: a basic cancelled at once (so free now); arch: archived.
      await e.provisionCustomer({
        customerId: 'c1',
        name: 'Ada',
        email: 'ada@example.com',
        subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 2 }] },
      });
      await e.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 40, idempotencyKey: 'seed-1' });
      await e.reportUsage({ customerId: 'c1', featureId: 'seats', value: 3 });
      await e.provisionCustomer({ customerId: 'c2', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' } });
      const { subscription } = await e.provisionCustomer({ customerId: 'c3', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
      await e.cancelSubscription({ subscriptionId: subscription!.id, cancellationTime: 'IMMEDIATE' });
      await e.provisionCustomer({ customerId: 'arch', name: 'Old' });
      await e.archiveCustomer('arch');
      env.clock.advance({ days: 3 });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    /** The change count and every read, through the engine and through a fresh engine on the same store. */
    const snapshot = async () => {
      const fresh = await createEngine({ store: env.store, clock: env.clock });
      return {
        changes: (await env.engine.getChanges({ after: 0, limit: 10000 })).length,
        engine: await reads(env.engine),
        store: await reads(fresh),
      };
    };

    /** Runs `call`, which must fail, and asserts that nothing changed. Returns the error. */
    const expectNoWrite = async (call: () => Promise<unknown>): Promise<unknown> => {
      const before = await snapshot();
      const error = await call().then(
        (v) => {
          throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
        },
        (e: unknown) => e,
      );
      const after = await snapshot();
      expect(after.changes).toBe(before.changes);
      expect(after.engine).toEqual(before.engine);
      expect(after.store).toEqual(before.store);
      expect(after.store).toEqual(after.engine);
      return error;
    };

    const expectCodeNoWrite = async (code: TesseraErrorCode, call: () => Promise<unknown>) => {
      const e = await expectNoWrite(call);
      expect(e).toBeInstanceOf(TesseraError);
      expect((e as TesseraError).code).toBe(code);
    };

    /**
     * A store failure at the n-th `method` call of `call`; `writtenBefore` lists writes that the same
     * call must already have made when it fails (so the test really covers a rollback).
     */
    const expectFaultNoWrite = async (method: WriteMethod, nth: number, call: () => Promise<unknown>, writtenBefore: WriteMethod[]) => {
      const e = await expectNoWrite(async () => {
        faults.failOn(method, nth);
        return call();
      });
      expect(String(e)).toContain('injected store failure');
      expect(faults.writesBeforeFault).toEqual(expect.arrayContaining(writtenBefore));
    };

    it('the baseline the other tests start from', async () => {
      const s = await snapshot();
      expect(s.store).toEqual(s.engine);
      expect((await env.engine.getActiveSubscriptions({ customerId: 'c3' })).map((x) => x.planId)).toEqual(['free']);
    });

    it('the snapshot notices committed writes (so the tests below can fail)', async () => {
      const before = await snapshot();
      await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1 });
      const afterUsage = await snapshot();
      expect(afterUsage.changes).toBe(before.changes + 1);
      expect(afterUsage.store).not.toEqual(before.store);
      expect(afterUsage.engine).not.toEqual(before.engine);
      await env.engine.updateCustomer({ customerId: 'c1', name: 'Grace' });
      expect((await snapshot()).store).not.toEqual(afterUsage.store);
    });

    describe('provisionCustomer', () => {
      it('an archived id (CUSTOMER_ID_ARCHIVED)', async () => {
        await expectCodeNoWrite('CUSTOMER_ID_ARCHIVED', () => env.engine.provisionCustomer({ customerId: 'arch', name: 'New' }));
      });

      it('a new customer with a paid plan but no billing period: the customer is not created', async () => {
        await expectCodeNoWrite('BILLING_PERIOD_REQUIRED', () =>
          env.engine.provisionCustomer({ customerId: 'new', name: 'New', subscriptionParams: { planId: 'basic' } }),
        );
        await rejection(env.engine.getCustomer('new'));
      });

      it('an existing customer with new fields and an unknown plan: the fields stay', async () => {
        await expectCodeNoWrite('PLAN_NOT_FOUND', () =>
          env.engine.provisionCustomer({ customerId: 'c1', name: 'Changed', subscriptionParams: { planId: 'gold' } }),
        );
        expect((await env.engine.getCustomer('c1')).name).toBe('Ada');
      });

      it('a store failure while writing the subscription, after the customer was written', async () => {
        await expectFaultNoWrite(
          'putSubscription',
          1,
          () => env.engine.provisionCustomer({ customerId: 'new', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } }),
          ['putCustomer', 'appendChange'],
        );
      });

      it('a store failure while writing the journey plan of a new customer', async () => {
        await expectFaultNoWrite('putSubscription', 1, () => env.engine.provisionCustomer({ customerId: 'new' }), ['putCustomer', 'appendChange']);
      });
    });

    describe('updateCustomer', () => {
      it('an invalid email', async () => {
        await expectCodeNoWrite('INVALID_ARGUMENT', () => env.engine.updateCustomer({ customerId: 'c1', name: 'X', email: 'bad' }));
      });

      it('an unknown customer', async () => {
        await expectCodeNoWrite('CUSTOMER_NOT_FOUND', () => env.engine.updateCustomer({ customerId: 'new', name: 'X' }));
      });

      it('a store failure after the customer was written', async () => {
        await expectFaultNoWrite('appendChange', 1, () => env.engine.updateCustomer({ customerId: 'c1', name: 'X' }), ['putCustomer']);
      });
    });

    describe('archiveCustomer', () => {
      it('an unknown customer', async () => {
        await expectCodeNoWrite('CUSTOMER_NOT_FOUND', () => env.engine.archiveCustomer('new'));
      });

      it('an archived customer', async () => {
        await expectCodeNoWrite('CUSTOMER_NOT_FOUND', () => env.engine.archiveCustomer('arch'));
      });

      it('a store failure while ending the subscriptions, after the customer was archived', async () => {
        await expectFaultNoWrite('putSubscription', 1, () => env.engine.archiveCustomer('c1'), ['putCustomer']);
        expect((await env.engine.getCustomer('c1')).name).toBe('Ada');
      });
    });

    describe('unarchiveCustomer', () => {
      it('a customer that is not archived', async () => {
        await expectCodeNoWrite('CUSTOMER_NOT_FOUND', () => env.engine.unarchiveCustomer('c1'));
      });

      it('a store failure after the customer was restored', async () => {
        await expectFaultNoWrite('appendChange', 1, () => env.engine.unarchiveCustomer('arch'), ['putCustomer']);
      });
    });

    describe('provisionSubscription', () => {
      it('a paid plan without a billing period', async () => {
        await expectCodeNoWrite('BILLING_PERIOD_REQUIRED', () => env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro' }));
      });

      it('an unknown customer', async () => {
        await expectCodeNoWrite('CUSTOMER_NOT_FOUND', () => env.engine.provisionSubscription({ customerId: 'new', planId: 'free' }));
      });

      it('too many add-ons', async () => {
        await expectCodeNoWrite('ADDON_QUANTITY_EXCEEDED', () =>
          env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 11 }] }),
        );
      });

      it('a store failure writing the new subscription, after the old one was ended', async () => {
        await expectFaultNoWrite(
          'putSubscription',
          2,
          () => env.engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true }),
          ['putSubscription'],
        );
        expect((await env.engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => s.planId)).toEqual(['basic']);
      });
    });

    describe('cancelSubscription', () => {
      it('an unknown subscription', async () => {
        await expectCodeNoWrite('SUBSCRIPTION_NOT_FOUND', () => env.engine.cancelSubscription({ subscriptionId: 'sub_404' }));
      });

      it('a subscription that has already ended (CONFLICT)', async () => {
        const ended = (await env.engine.getChanges({ after: 0, limit: 10000 })).find(
          (c) => c.customerId === 'c3' && c.kind === 'subscription.updated' && (c.payload as { status?: string }).status === 'CANCELED',
        );
        await expectCodeNoWrite('CONFLICT', () => env.engine.cancelSubscription({ subscriptionId: ended!.entityId!, cancellationTime: 'IMMEDIATE' }));
      });

      it('an endDate in the past', async () => {
        const [basic] = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        await expectCodeNoWrite('INVALID_ARGUMENT', () => env.engine.cancelSubscription({ subscriptionId: basic!.id, endDate: '2024-01-01T00:00:00Z' }));
      });

      it('a store failure writing the downgrade plan, after the subscription was ended', async () => {
        const [basic] = await env.engine.getActiveSubscriptions({ customerId: 'c1' });
        await expectFaultNoWrite(
          'putSubscription',
          2,
          () => env.engine.cancelSubscription({ subscriptionId: basic!.id, cancellationTime: 'IMMEDIATE' }),
          ['putSubscription', 'appendChange'],
        );
        expect((await env.engine.getSubscription(basic!.id)).status).toBe('ACTIVE');
      });
    });

    describe('reportUsage', () => {
      it('an unknown feature', async () => {
        await expectCodeNoWrite('FEATURE_NOT_FOUND', () => env.engine.reportUsage({ customerId: 'c1', featureId: 'nope', value: 1 }));
      });

      it('a DELTA below zero', async () => {
        await expectCodeNoWrite('INVALID_ARGUMENT', () => env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: -4 }));
      });

      it('a store failure recording the idempotency key, after the usage was written', async () => {
        const call = () => env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 5, idempotencyKey: 'retry-me' });
        await expectFaultNoWrite('putIdempotency', 1, call, ['putUsages']);
        // The key was not kept: the retry counts.
        expect((await call()).currentUsage).toBe(45);
        expect((await call()).currentUsage).toBe(45);
      });
    });

    describe('reportUsageBulk', () => {
      it('the 3rd item fails (unknown feature) after 2 valid items were written', async () => {
        await expectCodeNoWrite('FEATURE_NOT_FOUND', () =>
          env.engine.reportUsageBulk({
            usages: [
              { customerId: 'c1', featureId: 'api-calls', value: 5, idempotencyKey: 'b-1' },
              { customerId: 'c3', featureId: 'seats', value: 1 },
              { customerId: 'c1', featureId: 'nope', value: 1 },
            ],
          }),
        );
        // The keys of the rolled-back items are free again.
        const [r] = await env.engine.reportUsageBulk({ usages: [{ customerId: 'c1', featureId: 'api-calls', value: 5, idempotencyKey: 'b-1' }] });
        expect(r!.currentUsage).toBe(45);
      });

      it('the 3rd item takes usage below zero after 2 valid items on the same cell', async () => {
        await expectCodeNoWrite('INVALID_ARGUMENT', () =>
          env.engine.reportUsageBulk({
            usages: [
              { customerId: 'c1', featureId: 'seats', value: 2 },
              { customerId: 'c1', featureId: 'seats', value: 1 },
              // 3 + 2 + 1 - 7 = -1
              { customerId: 'c1', featureId: 'seats', value: -7 },
            ],
          }),
        );
      });

      it('an unknown customer after a valid item', async () => {
        await expectCodeNoWrite('CUSTOMER_NOT_FOUND', () =>
          env.engine.reportUsageBulk({
            usages: [
              { customerId: 'c1', featureId: 'api-calls', value: 1 },
              { customerId: 'arch', featureId: 'api-calls', value: 1 },
            ],
          }),
        );
      });

      it('a store failure appending the changes, after the usage cells and idempotency keys were written', async () => {
        await expectFaultNoWrite(
          'appendChanges',
          1,
          () =>
            env.engine.reportUsageBulk({
              // Two cells: a batch writes the cells it touched in one call at its end, then the
              // idempotency keys, then its changes.
              usages: [
                { customerId: 'c1', featureId: 'api-calls', value: 1, idempotencyKey: 'f-1' },
                { customerId: 'c1', featureId: 'seats', value: 1, idempotencyKey: 'f-2' },
              ],
            }),
          ['putUsages', 'putIdempotency', 'putIdempotency'],
        );
      });
    });

    describe('publishCatalog', () => {
      it('an invalid catalog (a plan entitling an unknown feature)', async () => {
        const bad: CatalogDefinition = structuredClone(demoCatalog);
        bad.plans[0]!.entitlements!.push({ featureId: 'teleport', value: 1 });
        await expectCodeNoWrite('INVALID_ARGUMENT', () => env.engine.publishCatalog(bad));
      });

      it('a store failure after the version was inserted', async () => {
        const next: CatalogDefinition = structuredClone(demoCatalog);
        next.plans[0]!.displayName = 'Free forever';
        const version = env.engine.catalogVersion;
        await expectFaultNoWrite('appendChange', 1, () => env.engine.publishCatalog(next), ['insertCatalogVersion']);
        expect(await env.engine.publishCatalog(next)).toEqual({ version: version + 1, changed: true });
      });
    });
  });
}
