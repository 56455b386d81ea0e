/**
 * Model-based testing of an engine: fast-check generates sequences of commands (provision a
 * customer, provision or cancel a subscription, report usage, check an entitlement, advance the
 * clock, tick), runs each on the model (model.ts) and on a real engine, and compares. On a
 * mismatch fast-check shrinks the sequence to a short one and `checkEngineAgainstModel` throws
 * it, readable command by command.
 */
import fc from 'fast-check';
import {
  createEngine,
  defineCatalog,
  isTesseraError,
  testClock,
  type BillingPeriod,
  type Catalog,
  type CatalogDefinition,
  type Duration,
  type Engine,
  type Store,
  type TestClock,
} from '@tessera/core';
import { weighted } from './choice.js';
import { describe } from './invariant-error.js';
import { CatalogModel, cancel, check, emptyModel, provision, provisionsNow, report, type EngineModel } from './model.js';

/** The engine methods the model compares (an `Engine`, or a wrapper of yours around one). */
export type ModelEngine = Pick<
  Engine,
  'provisionCustomer' | 'provisionSubscription' | 'cancelSubscription' | 'getActiveSubscriptions' | 'getEntitlement' | 'reportUsage' | 'tick'
>;

/** The system under test in each run. */
export interface ModelReal {
  engine: ModelEngine;
  clock: TestClock;
}

type Cmd = fc.AsyncCommand<EngineModel, ModelReal>;

/** A mismatch between the model and the engine, raised inside a command. */
class ModelMismatch extends Error {
  override readonly name = 'ModelMismatch';
}

const when = (ms: number): string => new Date(ms).toISOString();

function mismatch(command: string, m: EngineModel, what: string, expected: unknown, seen: unknown): never {
  throw new ModelMismatch(`${command} at ${when(m.now)}: ${what}\n  expected: ${describe(expected)}\n  seen:     ${describe(seen)}`);
}

async function outcome<T>(run: () => Promise<T>): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: await run() };
  } catch (e) {
    if (isTesseraError(e)) return { error: e.code };
    throw e;
  }
}

class ProvisionCustomer implements Cmd {
  constructor(readonly customerId: string) {}
  check = (): boolean => true;
  async run(m: EngineModel, r: ModelReal): Promise<void> {
    await r.engine.provisionCustomer({ customerId: this.customerId, subscriptionParams: null });
    if (!m.customers.has(this.customerId)) m.customers.set(this.customerId, { sub: null, usage: new Map(), keys: new Map() });
  }
  toString = (): string => `provisionCustomer(${this.customerId})`;
}

class ProvisionSubscription implements Cmd {
  constructor(
    readonly cm: CatalogModel,
    readonly customerId: string,
    readonly planId: string,
    readonly billingPeriod: BillingPeriod | null,
    readonly units: number,
  ) {}
  check = (m: Readonly<EngineModel>): boolean => {
    const c = m.customers.get(this.customerId);
    return c !== undefined && provisionsNow(this.cm, c, this.planId);
  };
  async run(m: EngineModel, r: ModelReal): Promise<void> {
    const quantities = this.cm.quantities(this.planId, this.billingPeriod, this.units);
    const billable = Object.entries(quantities).map(([featureId, quantity]) => ({ featureId, quantity }));
    const params = {
      customerId: this.customerId,
      planId: this.planId,
      skipTrial: true,
      ...(this.billingPeriod ? { billingPeriod: this.billingPeriod } : {}),
      ...(billable.length > 0 ? { billableFeatures: billable } : {}),
    };
    const result = await r.engine.provisionSubscription(params);
    provision(this.cm, m, this.customerId, this.planId, this.billingPeriod, quantities);
    if (result.subscription.planId !== this.planId || result.subscription.status !== 'ACTIVE') {
      mismatch(String(this), m, 'the subscription must start now', { planId: this.planId, status: 'ACTIVE' }, { planId: result.subscription.planId, status: result.subscription.status });
    }
  }
  toString = (): string => `provisionSubscription(${this.customerId}, ${this.planId}${this.billingPeriod ? `, ${this.billingPeriod}` : ''}, ${this.units} units)`;
}

class CancelSubscription implements Cmd {
  constructor(
    readonly cm: CatalogModel,
    readonly customerId: string,
  ) {}
  check = (m: Readonly<EngineModel>): boolean => m.customers.get(this.customerId)?.sub != null;
  async run(m: EngineModel, r: ModelReal): Promise<void> {
    const active = await r.engine.getActiveSubscriptions({ customerId: this.customerId });
    const expected = m.customers.get(this.customerId)!.sub!.planId;
    if (active.length !== 1 || active[0]!.planId !== expected) mismatch(String(this), m, 'active subscriptions before cancelling', [expected], active.map((s) => s.planId));
    await r.engine.cancelSubscription({ subscriptionId: active[0]!.id, cancellationTime: 'IMMEDIATE' });
    cancel(this.cm, m, this.customerId);
  }
  toString = (): string => `cancelSubscription(${this.customerId}, IMMEDIATE)`;
}

class ReportUsage implements Cmd {
  constructor(
    readonly cm: CatalogModel,
    readonly customerId: string,
    readonly featureId: string,
    readonly behavior: 'DELTA' | 'SET',
    readonly value: number,
    readonly key: string | undefined,
  ) {}
  check = (m: Readonly<EngineModel>): boolean => m.customers.has(this.customerId);
  async run(m: EngineModel, r: ModelReal): Promise<void> {
    const seen = await outcome(() =>
      r.engine.reportUsage({
        customerId: this.customerId,
        featureId: this.featureId,
        value: this.value,
        updateBehavior: this.behavior,
        ...(this.key === undefined ? {} : { idempotencyKey: this.key }),
      }),
    );
    const expected = report(this.cm, m, { customerId: this.customerId, featureId: this.featureId, value: this.value, behavior: this.behavior, key: this.key });
    if ('error' in expected || 'error' in seen) {
      if (!('error' in expected) || !('error' in seen) || expected.error !== seen.error) mismatch(String(this), m, 'reportUsage outcome', expected, seen);
      return;
    }
    const got = seen.ok;
    const want = { currentUsage: expected.currentUsage, usagePeriodStart: expected.window ? when(expected.window.start) : null, usagePeriodEnd: expected.window ? when(expected.window.end) : null };
    const have = { currentUsage: got.currentUsage, usagePeriodStart: got.usagePeriodStart?.toISOString() ?? null, usagePeriodEnd: got.usagePeriodEnd?.toISOString() ?? null };
    if (describe(want) !== describe(have)) mismatch(String(this), m, 'the usage after the report', want, have);
  }
  toString = (): string => `reportUsage(${this.customerId}, ${this.featureId}, ${this.behavior} ${this.value}${this.key ? `, key ${this.key}` : ''})`;
}

/** Compares the active subscriptions and every feature the model covers, each checked with `requestedUsage`. */
class Check implements Cmd {
  constructor(
    readonly cm: CatalogModel,
    readonly customerId: string,
    readonly requestedUsage: number,
  ) {}
  check = (): boolean => true;
  async run(m: EngineModel, r: ModelReal): Promise<void> {
    const c = m.customers.get(this.customerId);
    const active = await outcome(() => r.engine.getActiveSubscriptions({ customerId: this.customerId }));
    const wantPlans = c ? (c.sub ? [c.sub.planId] : []) : { error: 'CUSTOMER_NOT_FOUND' };
    const havePlans = 'error' in active ? { error: active.error } : active.ok.map((s) => s.planId);
    if (describe(wantPlans) !== describe(havePlans)) mismatch(String(this), m, 'active subscriptions', wantPlans, havePlans);
    for (const { id: featureId } of this.cm.features) {
      const predicted = check(this.cm, m, this.customerId, featureId, this.requestedUsage);
      const expected: Record<string, unknown> = { ...predicted };
      if (predicted.usagePeriodStart !== undefined) expected.usagePeriodStart = when(predicted.usagePeriodStart);
      if (predicted.usagePeriodEnd !== undefined) expected.usagePeriodEnd = when(predicted.usagePeriodEnd);
      const e = await r.engine.getEntitlement({ customerId: this.customerId, featureId, options: { requestedUsage: this.requestedUsage } });
      const seen: Record<string, unknown> = {};
      const raw = e as unknown as Record<string, unknown>;
      for (const key of Object.keys(expected)) {
        const v = raw[key];
        seen[key] = v instanceof Date ? v.toISOString() : v;
      }
      if (describe(expected) !== describe(seen)) mismatch(String(this), m, `the entitlement to ${featureId}`, expected, seen);
    }
  }
  toString = (): string => `check(${this.customerId}, requestedUsage ${this.requestedUsage})`;
}

class Advance implements Cmd {
  constructor(readonly by: Duration) {}
  check = (): boolean => true;
  async run(m: EngineModel, r: ModelReal): Promise<void> {
    m.now = r.clock.advance(this.by).getTime();
  }
  toString = (): string => `advance(${describe(this.by)})`;
}

class Tick implements Cmd {
  check = (): boolean => true;
  async run(_m: EngineModel, r: ModelReal): Promise<void> {
    await r.engine.tick();
  }
  toString = (): string => 'tick()';
}

/** Options of `checkEngineAgainstModel`. */
export interface ModelCheckOptions {
  /** Your catalog; the model covers one product of it (see model.ts). */
  catalog: Catalog | CatalogDefinition;
  /** A fresh, empty store for each run (a memory store, or an SQLite file of its own). */
  store: () => Store | Promise<Store>;
  /** Runs; default the TESSERA_MODEL_RUNS environment variable, else 100. */
  numRuns?: number;
  /** Most commands per run; default 40. */
  maxCommands?: number;
  /** Replays a failure (both printed with it). */
  seed?: number;
  path?: string;
  /** The product to model; default the first one with plans and without multipleSubscriptions. */
  productId?: string;
  /** Customers the commands pick from ('c1'...); default 2. */
  customers?: number;
  /** The clock's start; default 2024-01-31T00:00:00Z (a month end). */
  start?: Date | string;
  /** Wraps each engine before the commands use it: to check a layer of yours in front of the engine. */
  wrap?: (engine: Engine, clock: TestClock) => ModelEngine;
}

/** What a passing check covered. */
export interface ModelCheckReport {
  numRuns: number;
  productId: string;
  /** Features compared after each step. */
  features: string[];
  /** Features left out, with why. */
  skipped: { featureId: string; reason: string }[];
}

/** The engine and the model disagreed: `commands` is the shrunk sequence, `message` says where and how. */
export class ModelCheckError extends Error {
  override readonly name = 'ModelCheckError';
  constructor(
    message: string,
    readonly commands: string[],
    readonly seed: number,
    readonly path: string,
  ) {
    super(message);
  }
}

const ADVANCES: readonly Duration[] = [{ days: 1 }, { months: 1 }, { hours: 1 }, { days: 10 }, { days: 31 }, { months: 1 }, { days: 16 }, { months: 2 }];

function commandArbitrary(cm: CatalogModel, customers: readonly string[]): fc.Arbitrary<Cmd> {
  const customer = fc.constantFrom(...customers);
  const plan = fc.integer({ min: 0, max: cm.plans.length - 1 });
  const arbs: fc.WeightedArbitrary<Cmd>[] = [
    { arbitrary: customer.map((c): Cmd => new ProvisionCustomer(c)), weight: 3 },
    {
      arbitrary: fc.record({ c: customer, p: plan, period: fc.nat(1), units: fc.nat(12) }).map(({ c, p, period, units }): Cmd => {
        const planId = cm.plans[p]!.id;
        const periods = cm.periods(planId);
        return new ProvisionSubscription(cm, c, planId, periods[period % periods.length] ?? null, units);
      }),
      weight: 4,
    },
    { arbitrary: customer.map((c): Cmd => new CancelSubscription(cm, c)), weight: 1 },
    {
      arbitrary: fc
        .record({ c: customer, r: weighted<number>([[0, 3], [1, 3], [10, 1], [100, 1], [1000, 1]]) })
        .map(({ c, r }): Cmd => new Check(cm, c, r)),
      weight: 4,
    },
    { arbitrary: fc.nat(ADVANCES.length - 1).map((i): Cmd => new Advance(ADVANCES[i]!)), weight: 2 },
    { arbitrary: fc.constant<Cmd>(new Tick()), weight: 1 },
  ];
  if (cm.metered.length > 0) {
    arbs.push({
      arbitrary: fc
        .record({
          c: customer,
          f: fc.nat(),
          set: weighted([[false, 3], [true, 1]]),
          value: weighted<number>([[1, 4], [5, 2], [100, 1], [-1, 1], [-5, 1], [1000, 1]]),
          key: weighted<string | undefined>([[undefined, 2], ['k1', 1], ['k2', 1], ['k3', 1]]),
        })
        .map(({ c, f, set, value, key }): Cmd => new ReportUsage(cm, c, cm.metered[f % cm.metered.length]!.id, set ? 'SET' : 'DELTA', set ? Math.abs(value) : value, key)),
      weight: 5,
    });
  }
  return fc.oneof(...arbs);
}

/**
 * Runs random command sequences on a fresh engine (on a fresh store from `store`, with a test
 * clock) and on the model, comparing after every step: provisioning results, active
 * subscriptions, entitlement checks (access, denial reason, value, limit, usage, window) and
 * usage reports (current usage, window, idempotent replays, refusals). Resolves with what it
 * covered; on a mismatch throws a `ModelCheckError` with the shrunk sequence, the mismatch, and
 * the seed and path to replay it.
 *
 * ```ts
 * await checkEngineAgainstModel({ catalog: myCatalog, store: () => memoryStore(), numRuns: 100 });
 * ```
 */
export async function checkEngineAgainstModel(options: ModelCheckOptions): Promise<ModelCheckReport> {
  const definition = 'definition' in options.catalog ? options.catalog.definition : defineCatalog(options.catalog).definition;
  const cm = new CatalogModel(definition, options.productId);
  const customers = Array.from({ length: Math.max(1, options.customers ?? 2) }, (_, i) => `c${i + 1}`);
  const numRuns = options.numRuns ?? (Number(process.env.TESSERA_MODEL_RUNS) || 100);
  const start = options.start ?? '2024-01-31T00:00:00Z';
  const property = fc.asyncProperty(fc.commands([commandArbitrary(cm, customers)], { maxCommands: options.maxCommands ?? 40, size: 'max' }), async (cmds) => {
    const clock = testClock(start);
    let n = 0;
    const engine = await createEngine({ store: await options.store(), catalog: definition, clock, followIntervalMs: 0, newId: (prefix) => `${prefix}_${++n}` });
    try {
      const real: ModelReal = { engine: options.wrap ? options.wrap(engine, clock) : engine, clock };
      await fc.asyncModelRun(() => ({ model: emptyModel(clock.nowMs()), real }), cmds);
    } finally {
      await engine.close();
    }
  });
  const params: fc.Parameters<[Iterable<Cmd>]> = { numRuns };
  if (options.seed !== undefined) params.seed = options.seed;
  if (options.path !== undefined) params.path = options.path;
  const details = await fc.check(property, params);
  if (details.failed) {
    // Commands skipped by their precondition did not run; fast-check marks the others.
    const commands = details.counterexample ? [...details.counterexample[0]].filter((c) => (c as { hasRan?: boolean }).hasRan !== false).map(String) : [];
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new ModelCheckError(
      `the engine disagrees with the model after ${commands.length} command(s) (product "${cm.product.id}", seed ${details.seed}, path "${details.counterexamplePath}"):\n` +
        commands.map((c, i) => `  ${i + 1}. ${c}`).join('\n') +
        `\n${cause}\n\n${fc.defaultReportMessage(details) ?? ''}`,
      commands,
      details.seed,
      details.counterexamplePath ?? '',
    );
  }
  return { numRuns: details.numRuns, productId: cm.product.id, features: cm.features.map((f) => f.id), skipped: [...cm.skipped] };
}
