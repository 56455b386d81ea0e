import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TesseraError, type Entitlement, type Subscription, type TesseraErrorCode } from '@tessera/core';
import { describeSpan, overlappingPaidSpans } from './in-force.js';
import { pricingCatalog, pricingCatalogV2 } from './pricing-catalog.js';
import { engineOn, storeFactories } from './stores.js';

// Random lifecycles: provisioning, updates, cancellations, dropped scheduled updates, catalog
// migrations and clock jumps of days to months, with invariants checked after every step.
// Each run drives a whole engine, so the default is moderate; run more locally with
//   FC_NUM_RUNS=500 npx vitest run test/engine/lifecycle.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 25);
const fcOptions = { numRuns: NUM_RUNS };

const CUSTOMERS = ['c0', 'c1', 'c2'] as const;
const RESOURCES = ['w1', 'w2'] as const;
type AppPlan = 'free' | 'team' | 'pro' | 'premium';
type Period = 'MONTHLY' | 'ANNUALLY';

/** One step of a lifecycle. `pick` chooses among the customer's subscriptions (modulo their number). */
type Op =
  | { kind: 'provision'; customer: number; plan: AppPlan; billingPeriod: Period; skipTrial: boolean; seats: number; storage: number }
  | { kind: 'workspace'; customer: number; resource: number; plan: 'ws-free' | 'ws-paid'; billingPeriod: Period }
  | { kind: 'update'; customer: number; pick: number; seats: number; storage: number; billingPeriod: Period | undefined }
  | { kind: 'cancel'; customer: number; pick: number; timing: 'IMMEDIATE' | 'END_OF_BILLING_PERIOD' | undefined }
  | { kind: 'cancelScheduled'; customer: number; pick: number }
  | { kind: 'migrate'; customer: number; pick: number; time: 'IMMEDIATE' | 'END_OF_BILLING_PERIOD' }
  | { kind: 'publishV2' }
  | { kind: 'advance'; days: number; months: number };

const arbCustomer = fc.nat({ max: CUSTOMERS.length - 1 });
const arbPeriod = fc.constantFrom<Period>('MONTHLY', 'ANNUALLY');

/** Lifecycle steps, clock jumps weighted so that periods, trials and scheduled changes come due. */
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('provision' as const),
      customer: arbCustomer,
      plan: fc.constantFrom<AppPlan>('free', 'team', 'pro', 'premium'),
      billingPeriod: arbPeriod,
      skipTrial: fc.boolean(),
      seats: fc.integer({ min: 1, max: 5 }),
      storage: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('workspace' as const),
      customer: arbCustomer,
      resource: fc.nat({ max: RESOURCES.length - 1 }),
      plan: fc.constantFrom('ws-free' as const, 'ws-paid' as const),
      billingPeriod: arbPeriod,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      customer: arbCustomer,
      pick: fc.nat(),
      seats: fc.integer({ min: 1, max: 5 }),
      storage: fc.integer({ min: 0, max: 3 }),
      billingPeriod: fc.option(arbPeriod, { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      customer: arbCustomer,
      pick: fc.nat(),
      timing: fc.option(fc.constantFrom('IMMEDIATE' as const, 'END_OF_BILLING_PERIOD' as const), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelScheduled' as const), customer: arbCustomer, pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('migrate' as const),
      customer: arbCustomer,
      pick: fc.nat(),
      time: fc.constantFrom('IMMEDIATE' as const, 'END_OF_BILLING_PERIOD' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'publishV2' as const }) },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 20 }), months: fc.constant(0) }),
      fc.record({ kind: fc.constant('advance' as const), days: fc.constant(0), months: fc.integer({ min: 1, max: 3 }) }),
    ),
  },
);

const arbLifecycle: fc.Arbitrary<Op[]> = fc.array(arbOp, { minLength: 1, maxLength: 25 });

/** Refusals a random step may legitimately meet (an ended subscription, a price the plan lacks...). */
const EXPECTED_REFUSALS: TesseraErrorCode[] = ['CONFLICT', 'PRICE_NOT_FOUND', 'PLAN_NOT_FOUND', 'ADDON_NOT_COMPATIBLE', 'ADDON_QUANTITY_EXCEEDED'];

const SEAT_PLANS = new Set(['team', 'pro']);
const STORAGE_PLANS = new Set(['team', 'pro']);

/** What a lazy read and a read after tick() must agree on (everything but updatedAt). */
function readable(s: Subscription) {
  const { updatedAt: _updated, latestInvoice: _invoice, ...rest } = s;
  return rest;
}

/**
 * The reference model of entitlements (docs/conventions.md#combining-sources): per product and
 * resource the trialling plan is in force where there is one, else the active ones; a plan
 * inherits its parent's entitlements (the child overriding per feature); add-ons add their
 * limits times their quantity; numeric values take the highest, unlimited wins.
 */
interface Digest {
  sso: boolean;
  projects: number | 'unlimited' | null;
  seats: number | null;
  storage: number | null;
}

function planGrants(planId: string, planVersion: number): { sso?: boolean; projects?: number | 'unlimited'; seats?: number; storage?: number } {
  switch (planId) {
    case 'free':
      return { projects: 3, seats: 1, storage: 5 };
    case 'team':
      return { projects: planVersion >= 2 ? 15 : 10, seats: 100, storage: 50 };
    case 'pro':
      return { sso: true, projects: 'unlimited', seats: 100, storage: 200 };
    case 'premium':
      return { sso: true, projects: 'unlimited', seats: 100, storage: 1000 };
    case 'ws-free':
      return { projects: 1 };
    case 'ws-paid':
      return { projects: 5 };
    default:
      throw new Error(`no model for plan ${planId}`);
  }
}

function expectedDigest(active: readonly Subscription[], resourceId: string | null): Digest {
  const relevant = active.filter((s) => s.resourceId === null || s.resourceId === resourceId);
  const groups = new Map<string, Subscription[]>();
  for (const s of relevant) {
    const key = `${s.productId}/${s.resourceId ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const digest: Digest = { sso: false, projects: null, seats: null, storage: null };
  for (const subs of groups.values()) {
    const trialling = subs.filter((s) => s.status === 'IN_TRIAL');
    for (const s of trialling.length > 0 ? trialling : subs) {
      const g = planGrants(s.planId, s.planVersion);
      // Seats bought per unit are the seats entitlement, in place of the plan's own 100
      // (docs/conventions.md#billable-quantities).
      const bought = SEAT_PLANS.has(s.planId) ? s.billableFeatures.find((b) => b.featureId === 'seats') : undefined;
      if (bought) g.seats = bought.quantity;
      if (g.sso) digest.sso = true;
      if (g.projects !== undefined) {
        const p = digest.projects;
        digest.projects = p === 'unlimited' || g.projects === 'unlimited' ? 'unlimited' : Math.max(p ?? 0, g.projects);
      }
      if (g.seats !== undefined) digest.seats = (digest.seats ?? 0) + g.seats;
      let storage = g.storage;
      for (const a of s.addons) if (a.addonId === 'extra-storage') storage = (storage ?? 0) + 10 * a.quantity;
      if (storage !== undefined) digest.storage = (digest.storage ?? 0) + storage;
    }
  }
  return digest;
}

function actualDigest(entitlements: readonly Entitlement[]): Digest {
  const byId = new Map(entitlements.filter((e) => e.hasAccess).map((e) => [e.featureId, e as Entitlement & Record<string, unknown>]));
  const projects = byId.get('projects');
  return {
    sso: byId.has('sso'),
    projects: projects === undefined ? null : projects.isUnlimited ? 'unlimited' : (projects.value as number),
    seats: (byId.get('seats')?.usageLimit as number | undefined) ?? null,
    storage: (byId.get('storage-gb')?.usageLimit as number | undefined) ?? null,
  };
}

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    it(
      'after every step: at most one ACTIVE subscription per customer, product and resource, and at no instant (past or scheduled) two non-trial ones; tick twice equals once; lazy reads equal reads after tick; entitlements come from the active subscriptions',
      { timeout: 300_000 },
      async () => {
        await fc.assert(
          fc.asyncProperty(arbLifecycle, async (ops) => {
            const env = await engineOn(factory, { catalog: pricingCatalog, start: '2024-01-31T10:00:00Z' });
            const { engine, clock } = env;
            try {
              await engine.provisionCustomer({ customerId: 'c0' });
              await engine.provisionCustomer({ customerId: 'c1', billingInfo: { billingCountryCode: 'DE' } });
              await engine.provisionCustomer({ customerId: 'c2', couponId: 'ten-forever' });

              /** The customer's subscriptions that have not ended, oldest first. */
              const live = async (customer: number): Promise<Subscription[]> =>
                (await engine.getSubscriptions({ filter: { customerId: { eq: CUSTOMERS[customer]! }, status: { notIn: ['CANCELED', 'EXPIRED'] } }, first: 1000 })).data;

              const step = async (op: Op): Promise<void> => {
                switch (op.kind) {
                  case 'provision': {
                    const paid = op.plan !== 'free';
                    await engine.provisionSubscription({
                      customerId: CUSTOMERS[op.customer]!,
                      planId: op.plan,
                      ...(paid ? { billingPeriod: op.billingPeriod } : {}),
                      skipTrial: op.skipTrial,
                      ...(SEAT_PLANS.has(op.plan) ? { billableFeatures: [{ featureId: 'seats', quantity: op.seats }] } : {}),
                      ...(STORAGE_PLANS.has(op.plan) && op.storage > 0 ? { addons: [{ addonId: 'extra-storage', quantity: op.storage }] } : {}),
                    });
                    return;
                  }
                  case 'workspace':
                    await engine.provisionSubscription({
                      customerId: CUSTOMERS[op.customer]!,
                      planId: op.plan,
                      resourceId: RESOURCES[op.resource]!,
                      ...(op.plan === 'ws-paid' ? { billingPeriod: op.billingPeriod } : {}),
                    });
                    return;
                  case 'update': {
                    const subs = await live(op.customer);
                    const sub = subs[op.pick % Math.max(subs.length, 1)];
                    if (!sub) return;
                    await engine.updateSubscription({
                      subscriptionId: sub.id,
                      ...(SEAT_PLANS.has(sub.planId) ? { billableFeatures: [{ featureId: 'seats', quantity: op.seats }] } : {}),
                      ...(STORAGE_PLANS.has(sub.planId) ? { addons: op.storage > 0 ? [{ addonId: 'extra-storage', quantity: op.storage }] : [] } : {}),
                      ...(sub.billingPeriod !== null && op.billingPeriod ? { billingPeriod: op.billingPeriod } : {}),
                      metadata: { step: 'update' },
                    });
                    return;
                  }
                  case 'cancel': {
                    const subs = await live(op.customer);
                    const sub = subs[op.pick % Math.max(subs.length, 1)];
                    if (sub) await engine.cancelSubscription({ subscriptionId: sub.id, ...(op.timing ? { cancellationTime: op.timing } : {}) });
                    return;
                  }
                  case 'cancelScheduled': {
                    const subs = await live(op.customer);
                    const sub = subs[op.pick % Math.max(subs.length, 1)];
                    if (sub) await engine.cancelSubscriptionScheduledUpdates({ subscriptionId: sub.id });
                    return;
                  }
                  case 'migrate': {
                    const subs = await live(op.customer);
                    const sub = subs[op.pick % Math.max(subs.length, 1)];
                    if (sub) await engine.migrateSubscriptionToLatest({ subscriptionId: sub.id, subscriptionMigrationTime: op.time });
                    return;
                  }
                  case 'publishV2':
                    await engine.publishCatalog(pricingCatalogV2);
                    return;
                  case 'advance':
                    clock.advance({ days: op.days, months: op.months });
                    return;
                }
              };

              const reads = async () => {
                const out: { active: ReturnType<typeof readable>[]; entitlements: Entitlement[][]; known: boolean[] }[] = [];
                for (const customerId of CUSTOMERS) {
                  const active = (await engine.getActiveSubscriptions({ customerId })).map(readable);
                  const entitlements: Entitlement[][] = [await engine.getEntitlements({ customerId })];
                  const known: boolean[] = [];
                  for (const resourceId of RESOURCES) {
                    entitlements.push(await engine.getEntitlements({ customerId, resourceId }));
                    // A resource no subscription ever named is unknown: checks deny (CustomerResourceNotFound).
                    known.push((await engine.getSubscriptions({ filter: { customerId: { eq: customerId }, resourceId: { eq: resourceId } }, first: 1 })).data.length > 0);
                  }
                  out.push({ active, entitlements, known });
                }
                return out;
              };

              for (const [index, op] of ops.entries()) {
                let where = `step ${index} ${JSON.stringify(op)}`;
                try {
                  await step(op);
                } catch (e) {
                  if (!(e instanceof TesseraError) || !EXPECTED_REFUSALS.includes(e.code)) {
                    throw new Error(`${where}: unexpected ${e instanceof TesseraError ? e.code : ''} ${(e as Error).message}`, { cause: e });
                  }
                }
                where += ` (now ${clock.now().toISOString()})`;

                // A lazy read at t equals the same read after tick() at t.
                const lazy = await reads();
                await engine.tick();
                const second = await engine.tick();
                expect(second, `${where}: a second tick materialised more`).toMatchObject({ statusesChanged: 0, invoicesCreated: 0, updatesApplied: 0 });
                const ticked = await reads();
                expect(ticked, `${where}: read after tick`).toEqual(lazy);

                for (const [i, customerId] of CUSTOMERS.entries()) {
                  const { active, entitlements, known } = ticked[i]!;
                  // At no instant, past or scheduled, two non-trial subscriptions of one product and resource are active.
                  const all = (await engine.getSubscriptions({ filter: { customerId: { eq: customerId } }, first: 1000 })).data;
                  const overlaps = overlappingPaidSpans(all).map(([a, b]) => `${describeSpan(a)} and ${describeSpan(b)}`);
                  expect(overlaps, `${where}: ${customerId} has two non-trial subscriptions active at once`).toEqual([]);
                  // At most one ACTIVE (non-trial) subscription per product and resource.
                  const perSlot = new Map<string, number>();
                  for (const s of active) {
                    if (s.status !== 'ACTIVE') continue;
                    const slot = `${s.productId}/${s.resourceId ?? ''}`;
                    perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
                  }
                  for (const [slot, n] of perSlot) expect(n, `${where}: ${customerId} has ${n} ACTIVE subscriptions in ${slot}`).toBeLessThanOrEqual(1);
                  // Entitlements come from the subscriptions active at t.
                  const subs = active as unknown as Subscription[];
                  expect(actualDigest(entitlements[0]!), `${where}: ${customerId} entitlements`).toEqual(expectedDigest(subs, null));
                  // Invoices never ask for less than nothing, and their lines add up.
                  for (const invoice of await engine.getInvoices({ customerId })) {
                    const cents = (v: string) => Math.round(Number(v) * 100);
                    expect(cents(invoice.total), `${where}: invoice ${invoice.id}`).toBeGreaterThanOrEqual(0);
                    const lines = invoice.lines.reduce((sum, l) => sum + cents(l.amount), 0);
                    expect(lines, `${where}: lines of invoice ${invoice.id}`).toBe(cents(invoice.total) - cents(invoice.excessCredit));
                  }
                  for (const [r, resourceId] of RESOURCES.entries()) {
                    const expected = known[r] ? expectedDigest(subs, resourceId) : { sso: false, projects: null, seats: null, storage: null };
                    expect(actualDigest(entitlements[r + 1]!), `${where}: ${customerId}/${resourceId} entitlements`).toEqual(expected);
                  }
                }
              }
            } finally {
              await env.cleanup();
            }
          }),
          fcOptions,
        );
      },
    );
  });
}

// One customer's `app` product only: provisioning (trials or not, up and down), cancellations,
// dropped scheduled updates and days passing, so that trials, conversions and scheduled
// downgrades meet far more often than in the whole lifecycle above. The rule it checks
// (docs/conventions.md#one-subscription-in-force) is decided in the engine, not the store, so it
// runs on the memory store.
//
// Why 200 runs: the whole lifecycle above met its counterexample (premium paid, a pro trial that
// converts, then free) about once in 3,000 runs, so its 25 runs caught it with probability
// 1-(1-1/3000)^25 = 0.8%. On the engine before the fix, this property failed in 97 of 2,000 runs
// (p = 4.9%, measured once with fc.sample, seed 1), the first failures being that counterexample;
// 200 runs catch it with probability 1-(1-0.049)^200 = 99.995%, in about 3 s here (14 ms a run).
// Run more locally (20,000 runs passed after the fix, in about 5 minutes):
//   FC_SLOT_RUNS=20000 npx vitest run test/engine/lifecycle.property.test.ts -t "one product"
const SLOT_RUNS = Number(process.env.FC_SLOT_RUNS ?? 200);

type SlotOp =
  | { kind: 'provision'; plan: AppPlan; billingPeriod: Period; skipTrial: boolean }
  | { kind: 'cancel'; pick: number; timing: 'IMMEDIATE' | 'END_OF_BILLING_PERIOD' | undefined }
  | { kind: 'cancelScheduled'; pick: number }
  | { kind: 'advance'; days: number };

const arbSlotOp: fc.Arbitrary<SlotOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('provision' as const),
      plan: fc.constantFrom<AppPlan>('free', 'team', 'pro', 'premium'),
      billingPeriod: arbPeriod,
      skipTrial: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      pick: fc.nat(),
      timing: fc.option(fc.constantFrom('IMMEDIATE' as const, 'END_OF_BILLING_PERIOD' as const), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelScheduled' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 20 }) }) },
);

const arbSlotLifecycle: fc.Arbitrary<SlotOp[]> = fc.array(arbSlotOp, { minLength: 1, maxLength: 12 });

describe('memory, one product of one customer', () => {
  it('at no instant two non-trial subscriptions of one product and resource are active', { timeout: 300_000 }, async () => {
    const memory = storeFactories().find((f) => f.name === 'memory')!;
    await fc.assert(
      fc.asyncProperty(arbSlotLifecycle, async (ops) => {
        const env = await engineOn(memory, { catalog: pricingCatalog, start: '2024-01-31T10:00:00Z' });
        const { engine, clock } = env;
        try {
          await engine.provisionCustomer({ customerId: 'c0' });
          const all = async () => (await engine.getSubscriptions({ filter: { customerId: { eq: 'c0' } }, first: 1000 })).data;
          const live = async () => (await all()).filter((s) => s.status !== 'CANCELED' && s.status !== 'EXPIRED');
          for (const [index, op] of ops.entries()) {
            try {
              if (op.kind === 'provision') {
                await engine.provisionSubscription({
                  customerId: 'c0',
                  planId: op.plan,
                  ...(op.plan !== 'free' ? { billingPeriod: op.billingPeriod } : {}),
                  ...(SEAT_PLANS.has(op.plan) ? { billableFeatures: [{ featureId: 'seats', quantity: 1 }] } : {}),
                  skipTrial: op.skipTrial,
                });
              } else if (op.kind === 'cancel') {
                const subs = await live();
                const sub = subs[op.pick % Math.max(subs.length, 1)];
                if (sub) await engine.cancelSubscription({ subscriptionId: sub.id, ...(op.timing ? { cancellationTime: op.timing } : {}) });
              } else if (op.kind === 'cancelScheduled') {
                const subs = await live();
                const sub = subs[op.pick % Math.max(subs.length, 1)];
                if (sub) await engine.cancelSubscriptionScheduledUpdates({ subscriptionId: sub.id });
              } else {
                clock.advance({ days: op.days });
              }
            } catch (e) {
              if (!(e instanceof TesseraError) || !EXPECTED_REFUSALS.includes(e.code)) throw e;
            }
            const overlaps = overlappingPaidSpans(await all()).map(([a, b]) => `${describeSpan(a)} and ${describeSpan(b)}`);
            expect(overlaps, `step ${index} ${JSON.stringify(op)} (now ${clock.now().toISOString()})`).toEqual([]);
          }
        } finally {
          await env.cleanup();
        }
      }),
      { numRuns: SLOT_RUNS },
    );
  });
});
