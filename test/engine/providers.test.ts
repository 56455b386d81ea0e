/**
 * Payment and billing providers are called outside store transactions (docs/providers.md): a slow
 * provider holds no write lock, a failed call leaves a documented retryable state that tick() or
 * retryCheckout completes with the same idempotency key, a PostgreSQL serialization retry never
 * calls a provider twice, and a call a crash interrupted is resumed after its lease.
 */
import { performance } from 'node:perf_hooks';
import {
  createEngine,
  testClock,
  TesseraError,
  type BillingProvider,
  type EngineErrorEvent,
  type Invoice,
  type PaymentProvider,
  type Store,
  type TestClock,
} from '@tessera/core';
import { afterEach, describe, expect, it } from 'vitest';
import { demoCatalog, storeFactories, type StoreFactory } from './stores.js';

type CheckoutInput = Parameters<PaymentProvider['createCheckout']>[0];

const START = '2024-03-01T10:00:00Z';
/** The lease an attempt holds its call for (PROVIDER_CALL_LEASE_MS), plus a second. */
const PAST_LEASE = 61_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A payment provider that records every call and answers by idempotency key, as Stripe does: a
 * repeated key gets the checkout made for it the first time. `behave` can delay or fail a call.
 */
function recordingPayments(behave: (input: CheckoutInput, n: number) => Promise<void> | void = () => {}) {
  const calls: CheckoutInput[] = [];
  const sessions = new Map<string, string>();
  const provider: PaymentProvider = {
    async createCheckout(input) {
      calls.push(input);
      await behave(input, calls.length);
      let url = sessions.get(input.idempotencyKey);
      if (!url) sessions.set(input.idempotencyKey, (url = `https://pay.test/session/${sessions.size + 1}`));
      return { checkoutUrl: url };
    },
  };
  return { provider, calls, sessions };
}

async function open(
  factory: StoreFactory | { store: Store; reopen: (() => Store) | null; cleanup: () => void },
  opts: { payments?: PaymentProvider; billing?: BillingProvider; clock?: TestClock; idPrefix?: string } = {},
) {
  const made = 'make' in factory ? factory.make() : factory;
  const clock = opts.clock ?? testClock(START);
  let n = 0;
  const errors: EngineErrorEvent[] = [];
  const engine = await createEngine({
    store: made.store,
    catalog: demoCatalog,
    clock,
    newId: (prefix) => `${opts.idPrefix ?? ''}${prefix}_${++n}`,
    ...(opts.payments ? { paymentProvider: opts.payments } : {}),
    ...(opts.billing ? { billingProvider: opts.billing } : {}),
    // A logger that keeps quiet: the `error` listener below is how the tests hear reports.
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  engine.on('error', (e) => errors.push(e));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await engine.close();
  };
  cleanups.push(async () => {
    await close();
    made.cleanup();
  });
  return { engine, clock, errors, reopen: made.reopen, close };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const factory = (name: string) => storeFactories().find((f) => f.name === name)!;

describe('a slow payment provider holds no write lock (SQLite: one writer)', () => {
  it("keeps another customer's reportUsage well under the provider's 2 s", async () => {
    const called = deferred();
    const payments = recordingPayments(async () => {
      called.resolve();
      await sleep(2000);
    });
    const { engine } = await open(factory('sqlite'), { payments: payments.provider });
    await engine.provisionCustomer({ customerId: 'payer' });
    await engine.provisionCustomer({ customerId: 'other' });
    await engine.reportUsage({ customerId: 'other', featureId: 'api-calls', value: 1 });

    const started = performance.now();
    const provisioning = engine.provisionSubscription({ customerId: 'payer', planId: 'basic', billingPeriod: 'MONTHLY' });
    await called.promise;
    const t0 = performance.now();
    const usage = await engine.reportUsage({ customerId: 'other', featureId: 'api-calls', value: 1 });
    const otherMs = performance.now() - t0;
    const result = await provisioning;
    const provisionMs = performance.now() - started;
    console.log(`slow provider: other customer's reportUsage took ${otherMs.toFixed(1)} ms while a 2 s checkout was in flight (provisioning took ${provisionMs.toFixed(0)} ms)`);

    expect(usage.currentUsage).toBe(2);
    expect(otherMs).toBeLessThan(500);
    // The provisioning itself waited for the provider, and got its URL.
    expect(provisionMs).toBeGreaterThanOrEqual(1900);
    expect(result).toMatchObject({ status: 'PAYMENT_REQUIRED', checkoutUrl: 'https://pay.test/session/1' });
  });
});

for (const f of storeFactories()) {
  describe(`providers outside transactions (${f.name})`, () => {
    it('a failed checkout throws PAYMENT_PROVIDER_FAILED, leaves the subscription PAYMENT_PENDING, and tick() completes it with the same key', async () => {
      const payments = recordingPayments((_, n) => {
        if (n === 1) throw new Error('provider down');
      });
      const { engine, errors } = await open(f, { payments: payments.provider });
      await engine.provisionCustomer({ customerId: 'c1' });
      const failure = await engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TesseraError);
      const err = failure as TesseraError;
      expect(err.code).toBe('PAYMENT_PROVIDER_FAILED');
      const subscriptionId = err.details.subscriptionId as string;
      expect(err.details).toMatchObject({ retryable: true, idempotencyKey: `checkout:${subscriptionId}` });
      // The provider's message is the cause, not the message a client may see.
      expect(err.message).not.toContain('provider down');
      expect((err.cause as Error).message).toBe('provider down');
      expect(errors.map((e) => [e.source, e.method, e.customerId])).toEqual([['paymentProvider', 'createCheckout', 'c1']]);

      const pending = await engine.getSubscription(subscriptionId);
      expect(pending.status).toBe('PAYMENT_PENDING');
      expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => s.planId)).toEqual(['free']);

      const ticked = await engine.tick();
      expect(ticked).toMatchObject({ providerCallsRetried: 1, providerCallsFailed: 0 });
      expect(payments.calls.map((c) => [c.subscriptionId, c.idempotencyKey, c.amount])).toEqual([
        [subscriptionId, `checkout:${subscriptionId}`, '20.00'],
        [subscriptionId, `checkout:${subscriptionId}`, '20.00'],
      ]);
      // The URL obtained by tick() is committed: retryCheckout answers it without a third call.
      expect(await engine.retryCheckout({ subscriptionId })).toEqual({ subscriptionId, checkoutUrl: 'https://pay.test/session/1' });
      expect(payments.calls).toHaveLength(2);
      expect((await engine.tick()).providerCallsRetried).toBe(0);

      // Paid: the checkout is no longer wanted, and retryCheckout says so.
      await engine.confirmPayment({ subscriptionId });
      await expect(engine.retryCheckout({ subscriptionId })).rejects.toMatchObject({ code: 'CONFLICT' });
    });

    it('retryCheckout calls the provider again with the same key after a failure', async () => {
      const payments = recordingPayments((_, n) => {
        if (n <= 2) throw new Error(`down ${n}`);
      });
      const { engine, errors } = await open(f, { payments: payments.provider });
      await engine.provisionCustomer({ customerId: 'c1' });
      const err = (await engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' }).catch((e: unknown) => e)) as TesseraError;
      const subscriptionId = err.details.subscriptionId as string;
      await expect(engine.retryCheckout({ subscriptionId })).rejects.toMatchObject({ code: 'PAYMENT_PROVIDER_FAILED', details: { subscriptionId } });
      expect(await engine.retryCheckout({ subscriptionId })).toEqual({ subscriptionId, checkoutUrl: 'https://pay.test/session/1' });
      expect(new Set(payments.calls.map((c) => c.idempotencyKey))).toEqual(new Set([`checkout:${subscriptionId}`]));
      expect(payments.calls).toHaveLength(3);
      expect(errors).toHaveLength(2);
      await expect(engine.retryCheckout({ subscriptionId: 'nope' })).rejects.toMatchObject({ code: 'SUBSCRIPTION_NOT_FOUND' });
    });

    it('provisionCustomer with a paid plan makes the checkout after its commit; a failure is reported, not thrown, and retryCheckout completes it', async () => {
      const payments = recordingPayments((_, n) => {
        if (n === 1) throw new Error('provider down');
      });
      const { engine, errors } = await open(f, { payments: payments.provider });
      const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
      expect(subscription!.status).toBe('PAYMENT_PENDING');
      expect(payments.calls.map((c) => c.idempotencyKey)).toEqual([`checkout:${subscription!.id}`]);
      expect(errors.map((e) => [e.source, e.customerId])).toEqual([['paymentProvider', 'c1']]);
      expect(await engine.retryCheckout({ subscriptionId: subscription!.id })).toEqual({ subscriptionId: subscription!.id, checkoutUrl: 'https://pay.test/session/1' });
      expect(payments.calls).toHaveLength(2);
      expect((await engine.tick()).providerCallsRetried).toBe(0);
    });

    it('an estimate never calls a provider', async () => {
      const payments = recordingPayments();
      const delivered: Invoice[] = [];
      const { engine } = await open(f, { payments: payments.provider, billing: { onInvoiceCreated: (i) => void delivered.push(i) } });
      await engine.provisionCustomer({ customerId: 'c1' });
      const estimate = await engine.estimateSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' });
      expect(estimate.total).toBe('50.00');
      expect(payments.calls).toHaveLength(0);
      expect((await engine.tick()).providerCallsRetried).toBe(0);
      expect(payments.calls).toHaveLength(0);
      expect(delivered).toHaveLength(0);
    });

    it('a provider whose answer was lost (it threw after doing its work) is resumed by tick() under the same key: one checkout', async () => {
      // The provider creates the session, then the connection drops before the answer arrives.
      const payments = recordingPayments();
      let lose = true;
      const lossy: PaymentProvider = {
        async createCheckout(input) {
          const answer = await payments.provider.createCheckout(input);
          if (lose) {
            lose = false;
            throw new Error('socket hang up');
          }
          return answer;
        },
      };
      const { engine } = await open(f, { payments: lossy });
      await engine.provisionCustomer({ customerId: 'c1' });
      const err = (await engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' }).catch((e: unknown) => e)) as TesseraError;
      expect(err.code).toBe('PAYMENT_PROVIDER_FAILED');
      const subscriptionId = err.details.subscriptionId as string;
      expect((await engine.tick()).providerCallsRetried).toBe(1);
      // Two calls, one key, so one session on the provider's side.
      expect(payments.calls.map((c) => c.idempotencyKey)).toEqual([`checkout:${subscriptionId}`, `checkout:${subscriptionId}`]);
      expect(payments.sessions.size).toBe(1);
      expect(await engine.retryCheckout({ subscriptionId })).toEqual({ subscriptionId, checkoutUrl: 'https://pay.test/session/1' });
      expect(payments.calls).toHaveLength(2);
    });

    it('delivers each invoice to the billing provider at least once: a failed delivery is made again by tick() with the same invoice id', async () => {
      const delivered: Invoice[] = [];
      let failuresLeft = 1;
      const billing: BillingProvider = {
        onInvoiceCreated(invoice) {
          delivered.push(invoice);
          if (failuresLeft-- > 0) return Promise.reject(new Error('billing down'));
          return undefined;
        },
      };
      const { engine, errors, clock } = await open(f, { billing });
      await engine.provisionCustomer({ customerId: 'c1' });
      const sub = await engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
      const invoiceId = sub.subscription.latestInvoice!.id;
      await expect.poll(() => errors.length).toBe(1);
      expect(errors[0]).toMatchObject({ source: 'billingProvider', method: 'onInvoiceCreated', customerId: 'c1' });

      expect(await engine.tick()).toMatchObject({ providerCallsRetried: 1, providerCallsFailed: 0 });
      expect(delivered.map((i) => i.id)).toEqual([invoiceId, invoiceId]);
      expect(delivered[1]).toEqual(delivered[0]);
      expect((await engine.tick()).providerCallsRetried).toBe(0);

      // A renewal invoice issued by tick() is delivered after its commit, once.
      clock.advance({ months: 1 });
      const renewal = await engine.tick();
      expect(renewal.invoicesCreated).toBe(1);
      await expect.poll(() => delivered.length).toBe(3);
      expect(delivered[2]!.kind).toBe('RENEWAL');
      clock.advance(PAST_LEASE);
      expect((await engine.tick()).providerCallsRetried).toBe(0);
      expect(delivered).toHaveLength(3);
    });
  });
}

for (const name of ['sqlite', 'postgres']) {
  describe(`a crash between the steps (${name}: the store reopened by another engine)`, () => {
    it('a checkout committed PENDING is made by the next engine once the lease ran out, never beside the first', async () => {
      const made = factory(name).make();
      // The first process commits the pending checkout, calls the provider, and never hears back.
      const hung = deferred();
      const reached = deferred();
      const first = await open(made, {
        payments: {
          async createCheckout() {
            reached.resolve();
            await hung.promise;
            throw new Error('process died');
          },
        },
      });
      await first.engine.provisionCustomer({ customerId: 'c1' });
      const abandoned = first.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' }).catch((e: unknown) => e);
      await reached.promise;
      const [sub] = (await first.engine.getSubscriptions({})).data.filter((s) => s.status === 'PAYMENT_PENDING');
      expect(sub).toBeDefined();

      const payments = recordingPayments();
      const clock = testClock(START);
      const second = await open({ store: made.reopen!(), reopen: null, cleanup: () => {} }, { payments: payments.provider, clock, idPrefix: 'b_' });
      // Within the lease the call belongs to the first process: no second call beside it.
      expect((await second.engine.tick()).providerCallsRetried).toBe(0);
      expect(payments.calls).toHaveLength(0);
      clock.advance(PAST_LEASE);
      expect((await second.engine.tick()).providerCallsRetried).toBe(1);
      expect(payments.calls.map((c) => [c.subscriptionId, c.idempotencyKey])).toEqual([[sub!.id, `checkout:${sub!.id}`]]);
      expect(await second.engine.retryCheckout({ subscriptionId: sub!.id })).toEqual({ subscriptionId: sub!.id, checkoutUrl: 'https://pay.test/session/1' });

      // The first process's late failure changes nothing: the call is settled.
      hung.resolve();
      expect(await abandoned).toMatchObject({ code: 'PAYMENT_PROVIDER_FAILED' });
      clock.advance(PAST_LEASE);
      expect((await second.engine.tick()).providerCallsRetried).toBe(0);
      expect(await second.engine.retryCheckout({ subscriptionId: sub!.id })).toEqual({ subscriptionId: sub!.id, checkoutUrl: 'https://pay.test/session/1' });
      expect(payments.calls).toHaveLength(1);
    });

    it('an invoice whose delivery was cut short is delivered by the next engine after the lease, with the same id', async () => {
      const made = factory(name).make();
      const hung = deferred();
      const reached = deferred();
      const first = await open(made, {
        billing: {
          async onInvoiceCreated() {
            reached.resolve();
            await hung.promise;
          },
        },
      });
      await first.engine.provisionCustomer({ customerId: 'c1', billingInfo: { hasPaymentMethod: true } });
      const sub = await first.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
      await reached.promise;

      const delivered: Invoice[] = [];
      const clock = testClock(START);
      const second = await open({ store: made.reopen!(), reopen: null, cleanup: () => {} }, { billing: { onInvoiceCreated: (i) => void delivered.push(i) }, clock, idPrefix: 'b_' });
      expect((await second.engine.tick()).providerCallsRetried).toBe(0);
      clock.advance(PAST_LEASE);
      expect((await second.engine.tick()).providerCallsRetried).toBe(1);
      expect(delivered.map((i) => i.id)).toEqual([sub.subscription.latestInvoice!.id]);
      hung.resolve();
      await first.close();
      clock.advance(PAST_LEASE);
      expect((await second.engine.tick()).providerCallsRetried).toBe(0);
      expect(delivered).toHaveLength(1);
    });
  });
}

describe('PostgreSQL serialization retries never call a provider twice', () => {
  it('counts one checkout per committed subscription while conflicting writes on one customer force retries', async () => {
    const made = factory('postgres').make();
    let runs = 0;
    let transactions = 0;
    let enqueued = 0;
    // Counts how often the store runs a write callback: more runs than transactions are retries.
    const inner = made.store;
    const counting: Store = {
      get kind() {
        return inner.kind;
      },
      get concurrentWrites() {
        return inner.concurrentWrites;
      },
      open: () => inner.open(),
      close: () => inner.close(),
      getChanges: (after, limit) => inner.getChanges(after, limit),
      lastChangeSeq: () => inner.lastChangeSeq(),
      ...(inner.watchChanges ? { watchChanges: (cb: () => void) => inner.watchChanges!(cb) } : {}),
      transaction(mode, fn) {
        if (mode === 'read') return inner.transaction(mode, fn);
        transactions++;
        return inner.transaction(mode, (tx) => {
          runs++;
          // Pending checkouts committed or rolled back: more than were provisioned means a
          // provisioning transaction itself ran again.
          const putProviderCall: typeof tx.putProviderCall = (r) => {
            if (r.kind === 'createCheckout' && r.attempts === 1 && r.status === 'PENDING') enqueued++;
            return tx.putProviderCall(r);
          };
          return fn(
            new Proxy(tx, {
              get(t, prop) {
                if (prop === 'putProviderCall') return putProviderCall;
                const v = Reflect.get(t, prop) as unknown;
                return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
              },
            }),
          );
        });
      },
    };
    const payments = recordingPayments();
    const { engine } = await open({ store: counting, reopen: null, cleanup: made.cleanup }, { payments: payments.provider });
    expect(engine).toBeDefined();
    await engine.provisionCustomer({ customerId: 'c1' });

    const provisioned: string[] = [];
    for (let round = 0; round < 8 && enqueued === provisioned.length; round++) {
      const results = await Promise.all([
        ...Array.from({ length: 6 }, () => engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' })),
        ...Array.from({ length: 6 }, (_, i) => engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1, idempotencyKey: `r${round}-${i}` })),
      ]);
      for (const r of results) if ('checkoutUrl' in r && r.checkoutUrl) provisioned.push(r.id);
    }
    const retries = runs - transactions;
    console.log(
      `postgres: ${transactions} write transactions, ${retries} serialization retries, ${enqueued - provisioned.length} of them provisionings; ` +
        `${payments.calls.length} checkouts for ${provisioned.length} subscriptions`,
    );
    expect(enqueued).toBeGreaterThan(provisioned.length);

    const pending = (await engine.getSubscriptions({})).data.filter((s) => s.status === 'PAYMENT_PENDING').map((s) => s.id);
    expect(new Set(pending)).toEqual(new Set(provisioned));
    // One call per committed subscription, none for a run that was rolled back and run again.
    expect(payments.calls.map((c) => c.subscriptionId).sort()).toEqual([...provisioned].sort());
    expect((await engine.tick()).providerCallsRetried).toBe(0);
    expect(payments.calls).toHaveLength(provisioned.length);
  });
});
