import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraError, type MeteredEntitlement } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { entitiesCatalog } from './entities-catalog.js';

// Entities against a model (docs/entities.md). 50 runs by default; more locally with
//   FC_NUM_RUNS=1000 npx vitest run test/engine/entities.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 50);

/** Hard limits of the catalog used here: 3 seats, 250 AI messages pooled, 100 per seat. */
const SEATS = 3;
const POOLED = 250;
const PER_SEAT = 100;

/** Four seat entities (one more than there are seats) and an API key that occupies none. */
const SEAT_IDS = ['a', 'b', 'c', 'd'] as const;
const KEY_ID = 'key';
const arbEntity = fc.constantFrom<string>(...SEAT_IDS, KEY_ID);
/** '' is the customer's own usage. */
const arbTarget = fc.constantFrom<string>('', ...SEAT_IDS, KEY_ID);

type Op =
  | { kind: 'create'; entityId: string }
  | { kind: 'delete'; entityId: string }
  | { kind: 'consume'; entityId: string; amount: number; overage: 'REJECT' | 'CAP' }
  | { kind: 'report'; entityId: string; value: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), entityId: arbEntity }),
  fc.record({ kind: fc.constant('delete' as const), entityId: arbEntity }),
  fc.record({ kind: fc.constant('consume' as const), entityId: arbTarget, amount: fc.integer({ min: 0, max: 80 }), overage: fc.constantFrom('REJECT' as const, 'CAP' as const) }),
  fc.record({ kind: fc.constant('report' as const), entityId: arbTarget, value: fc.integer({ min: -30, max: 60 }) }),
);
const arbOps = fc.array(arbOp, { maxLength: 25 });

/** The reference: which entities live, seats taken, and the usage of each cell. */
class Model {
  live = new Set<string>();
  seats = 0;
  /** Usage by cell: '' the pool, else the entity's (deleted entities keep theirs). */
  usage = new Map<string, number>();
  /** Whether reports alone (which record what happened, unbounded) pushed a cell past a limit. */
  overReported = false;

  of(id: string): number {
    return this.usage.get(id) ?? 0;
  }
  isSeat(id: string): boolean {
    return id !== KEY_ID;
  }
  /** What consuming `amount` for `id` may take: room in the pool and in the entity's limit. */
  room(id: string): number {
    const pool = Math.max(0, POOLED - this.of(''));
    return id !== '' && this.isSeat(id) ? Math.min(pool, Math.max(0, PER_SEAT - this.of(id))) : pool;
  }
  /** The error code the call must throw, or undefined after applying it. */
  apply(op: Op): string | undefined {
    switch (op.kind) {
      case 'create':
        if (this.live.has(op.entityId)) return undefined;
        if (this.isSeat(op.entityId)) {
          if (this.seats >= SEATS) return 'USAGE_LIMIT_EXCEEDED';
          this.seats++;
        }
        this.live.add(op.entityId);
        return undefined;
      case 'delete':
        if (!this.live.has(op.entityId)) return 'ENTITY_NOT_FOUND';
        this.live.delete(op.entityId);
        if (this.isSeat(op.entityId)) this.seats--;
        return undefined;
      case 'consume': {
        if (op.entityId !== '' && !this.live.has(op.entityId)) return 'ENTITY_NOT_FOUND';
        const room = this.room(op.entityId);
        if (op.amount > room && op.overage === 'REJECT') return 'USAGE_LIMIT_EXCEEDED';
        this.add(op.entityId, Math.min(op.amount, room));
        return undefined;
      }
      case 'report': {
        if (op.entityId !== '' && !this.live.has(op.entityId)) return 'ENTITY_NOT_FOUND';
        if (this.of(op.entityId) + op.value < 0 || this.of('') + op.value < 0) return 'INVALID_ARGUMENT';
        this.add(op.entityId, op.value);
        if (this.of('') > POOLED || (op.entityId !== '' && this.isSeat(op.entityId) && this.of(op.entityId) > PER_SEAT)) this.overReported = true;
        return undefined;
      }
    }
  }
  private add(id: string, n: number): void {
    if (id !== '') this.usage.set(id, this.of(id) + n);
    this.usage.set('', this.of('') + n);
  }
}

/** Runs on memory now; SQLite once its adapter stores entities. */
const STORES = storeFactories().filter((f) => f.name === 'memory' || f.name === 'sqlite');

for (const factory of STORES) {
  describe(factory.name, () => {
    let env: Awaited<ReturnType<typeof engineOn>>;
    let run = 0;
    beforeAll(async () => {
      env = await engineOn(factory, { catalog: entitiesCatalog({ seats: SEATS, pooled: POOLED, perSeat: PER_SEAT }), start: '2024-03-10T10:00:00Z' });
    });
    afterAll(async () => {
      await env.cleanup();
    });

    const call = (customerId: string, op: Op): Promise<unknown> => {
      const e = env.engine;
      const entity = op.entityId === '' ? {} : { entityId: op.entityId };
      switch (op.kind) {
        case 'create':
          return e.createEntity({ customerId, entityId: op.entityId, ...(op.entityId === KEY_ID ? {} : { featureId: 'seats' }) });
        case 'delete':
          return e.deleteEntity({ customerId, entityId: op.entityId });
        case 'consume':
          return e.consumeUsage({ customerId, featureId: 'ai-messages', amount: op.amount, overage: op.overage, ...entity });
        case 'report':
          return e.reportUsage({ customerId, featureId: 'ai-messages', value: op.value, ...entity });
      }
    };
    const metered = async (customerId: string, featureId: string, entityId?: string) =>
      (await env.engine.getMeteredEntitlement({ customerId, featureId, ...(entityId === undefined ? {} : { entityId }) })) as MeteredEntitlement;

    it('per-entity and pooled usage always equal the model; without over-reports neither limit is exceeded', async () => {
      await fc.assert(
        fc.asyncProperty(arbOps, async (ops) => {
          const customerId = `prop-${++run}`;
          await env.engine.provisionCustomer({ customerId });
          const model = new Model();
          for (const op of ops) {
            const expected = model.apply(op);
            const outcome = await call(customerId, op).then(
              () => undefined,
              (err: unknown) => {
                if (!(err instanceof TesseraError)) throw err;
                return err.code;
              },
            );
            expect(outcome, JSON.stringify(op)).toBe(expected);
            const pooled = await metered(customerId, 'ai-messages');
            expect(pooled.currentUsage).toBe(model.of(''));
            expect((await metered(customerId, 'seats')).currentUsage).toBe(model.seats);
            for (const id of model.live) {
              const own = await metered(customerId, 'ai-messages', id);
              expect(own.entity?.currentUsage).toBe(model.of(id));
              if (!model.overReported) expect(own.entity!.currentUsage).toBeLessThanOrEqual(model.isSeat(id) ? PER_SEAT : POOLED);
            }
            if (!model.overReported) expect(pooled.currentUsage).toBeLessThanOrEqual(POOLED);
          }
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('concurrent consumers on one engine never overshoot the entity limits or the pooled limit', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ entityId: fc.constantFrom('a', 'b', 'c', ''), amount: fc.integer({ min: 1, max: 40 }), cap: fc.boolean() }), { minLength: 1, maxLength: 40 }),
          async (asks) => {
            const customerId = `conc-${++run}`;
            await env.engine.provisionCustomer({ customerId });
            for (const id of ['a', 'b', 'c']) await env.engine.createEntity({ customerId, entityId: id, featureId: 'seats' });
            const results = await Promise.all(
              asks.map((a) =>
                env.engine
                  .consumeUsage({ customerId, featureId: 'ai-messages', amount: a.amount, overage: a.cap ? 'CAP' : 'REJECT', ...(a.entityId === '' ? {} : { entityId: a.entityId }) })
                  .then(
                    (r) => ({ entityId: a.entityId, granted: r.granted }),
                    (err: unknown) => {
                      if (!(err instanceof TesseraError) || err.code !== 'USAGE_LIMIT_EXCEEDED') throw err;
                      return { entityId: a.entityId, granted: 0 };
                    },
                  ),
              ),
            );
            const grantedTo = (id: string) => results.filter((r) => r.entityId === id).reduce((s, r) => s + r.granted, 0);
            const pooled = await metered(customerId, 'ai-messages');
            expect(pooled.currentUsage).toBe(results.reduce((s, r) => s + r.granted, 0));
            expect(pooled.currentUsage).toBeLessThanOrEqual(POOLED);
            for (const id of ['a', 'b', 'c']) {
              const own = await metered(customerId, 'ai-messages', id);
              expect(own.currentUsage).toBe(grantedTo(id));
              expect(own.currentUsage).toBeLessThanOrEqual(PER_SEAT);
            }
          },
        ),
        { numRuns: Math.max(10, Math.floor(NUM_RUNS / 2)) },
      );
    });
  });
}
