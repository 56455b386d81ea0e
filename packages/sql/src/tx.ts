import {
  TesseraError,
  invalidArgument,
  type CatalogVersionRecord,
  type CreditGrantRecord,
  type CreditLedgerRecord,
  type CustomerRecord,
  type EventQuery,
  type EventRecord,
  type IdempotencyRecord,
  type InvoiceRecord,
  type NewChange,
  type NewCreditLedgerRecord,
  type PromotionalGrantRecord,
  type RechargeConfigRecord,
  type ReservationRecord,
  type StoreTx,
  type SubscriptionQuery,
  type SubscriptionRecord,
  type TransactionMode,
  type UsageKey,
  type UsageQuery,
  type UsageRecord,
} from '@tessera/core';
import {
  catalogVersionFromRow,
  catalogVersionToRow,
  creditGrantFromRow,
  creditGrantToRow,
  creditLedgerFromRow,
  customerFromRow,
  customerToRow,
  eventFromRow,
  eventToRow,
  idempotencyFromRow,
  idempotencyToRow,
  invoiceFromRow,
  invoiceToRow,
  newChangeToRow,
  newCreditLedgerToRow,
  promotionalGrantFromRow,
  promotionalGrantToRow,
  rechargeConfigFromRow,
  rechargeConfigToRow,
  reservationFromRow,
  reservationToRow,
  subscriptionFromRow,
  subscriptionToRow,
  usageFromRow,
  usageToRow,
} from './rows.js';
import { BATCH_CHUNK, EVENT_CHUNK, type Statements } from './statements.js';

/** A result a dialect gives now (SQLite runs statements synchronously) or later (PostgreSQL). */
export type Maybe<T> = T | Promise<T>;

/**
 * How a dialect runs one prepared statement inside the transaction it has open. Rows come back
 * as arrays in the statement's column order, with the values the row mappers expect (numbers for
 * integer columns, strings for text).
 */
export interface SqlExecutor<S> {
  all(statement: S, args: readonly unknown[]): Maybe<unknown[][]>;
  get(statement: S, args: readonly unknown[]): Maybe<unknown[] | undefined>;
  /** Runs a write; resolves to the number of rows it changed. */
  run(statement: S, args: readonly unknown[]): Maybe<number>;
  /** Runs a write once per argument list, in order; the rows each run changed. */
  runEach(statement: S, argsList: readonly (readonly unknown[])[]): Maybe<number[]>;
  /**
   * Runs an INSERT into a table keyed by an integer rowid and returns the rowid it gave, where
   * the driver reports it without a RETURNING clause (SQLite); absent elsewhere.
   */
  insertId?(statement: S, args: readonly unknown[]): number;
  /**
   * True where each statement costs a round trip to a server (PostgreSQL): batches are then sent
   * as multi-row statements. False where statements run in process (SQLite), for which a prepared
   * one-row statement per row measured faster than a multi-row one.
   */
  readonly roundTrips: boolean;
}

/** Turns a driver's error into the TesseraError callers branch on (or returns it unchanged). */
export type TranslateError = (e: unknown, doing: string) => unknown;

const isPromise = <T>(x: Maybe<T>): x is Promise<T> => typeof (x as { then?: unknown } | null)?.then === 'function';

/** The results together: at once when every one is there now (SQLite), else as one promise. */
const settle = <T>(xs: Maybe<T>[]): Maybe<T[]> => (xs.some(isPromise) ? Promise.all(xs) : (xs as T[]));

/** `run` on each run of at most BATCH_CHUNK items, in order; the executor sends them one after another. */
const inChunks = <T, R>(items: readonly T[], run: (chunk: T[]) => Maybe<R>): Maybe<R[]> => {
  const out: Maybe<R>[] = [];
  for (let i = 0; i < items.length; i += BATCH_CHUNK) out.push(run(items.slice(i, i + BATCH_CHUNK)));
  return settle(out);
};

/** A usage key as one string, for matching rows to keys and finding repeats (ids hold no NUL, as in the memory store). */
const usageKeyString = (k: UsageKey): string => `${k.customerId}\u0000${k.resourceId}\u0000${k.featureId}\u0000${k.windowStart}\u0000${k.windowEnd}`;
const rowKeyString = (row: unknown[]): string => `${row[0]}\u0000${row[1]}\u0000${row[2]}\u0000${row[3]}\u0000${row[4]}`;

/**
 * One transaction's view of a SQL store: each StoreTx operation as a prepared statement and a row
 * mapping, the same for every dialect. The dialect's executor runs the statements inside the
 * transaction the dialect opened; `state.open` turns false when it ends.
 */
export class SqlTx<S> implements StoreTx {
  constructor(
    private readonly s: Statements<S>,
    private readonly x: SqlExecutor<S>,
    private readonly mode: TransactionMode,
    private readonly state: { open: boolean },
    private readonly translate: TranslateError,
  ) {}

  /**
   * Runs one operation after checking the transaction is still usable for it, then maps its result.
   * A synchronous result is mapped at once, so a SQLite operation costs no extra turn of the microtask queue.
   */
  private op<R, T>(write: boolean, doing: string, run: (x: SqlExecutor<S>, s: Statements<S>) => Maybe<R>, map: (r: R) => T): Promise<T> {
    if (!this.state.open) {
      return Promise.reject(new TesseraError('CONFLICT', `${doing}: store transaction already ended; do not keep tx past its callback`));
    }
    if (write && this.mode === 'read') {
      return Promise.reject(new TesseraError('CONFLICT', `${doing}: write attempted in a read transaction`));
    }
    try {
      const r = run(this.x, this.s);
      if (!isPromise(r)) return Promise.resolve(map(r));
      return r.then(map, (e: unknown) => {
        throw this.translate(e, doing);
      });
    } catch (e) {
      return Promise.reject(this.translate(e, doing));
    }
  }

  private one<T>(doing: string, run: (x: SqlExecutor<S>, s: Statements<S>) => Maybe<unknown[] | undefined>, from: (row: unknown) => T): Promise<T | undefined> {
    return this.op(false, doing, run, (row) => (row === undefined ? undefined : from(row)));
  }

  private many<T>(doing: string, run: (x: SqlExecutor<S>, s: Statements<S>) => Maybe<unknown[][]>, from: (row: unknown) => T): Promise<T[]> {
    return this.op(false, doing, run, (rows) => rows.map(from));
  }

  private write(doing: string, run: (x: SqlExecutor<S>, s: Statements<S>) => Maybe<number>): Promise<void> {
    return this.op(true, doing, run, () => undefined);
  }

  private count(doing: string, run: (x: SqlExecutor<S>, s: Statements<S>) => Maybe<unknown[] | undefined>): Promise<number> {
    return this.op(false, doing, run, (row) => Number((row as [number])[0]));
  }

  listCatalogVersions(): Promise<CatalogVersionRecord[]> {
    return this.many('listCatalogVersions', (x, s) => x.all(s.listCatalogVersions, []), catalogVersionFromRow);
  }

  insertCatalogVersion(r: CatalogVersionRecord): Promise<void> {
    return this.write(`insertCatalogVersion(${r.version})`, (x, s) => x.run(s.insertCatalogVersion, catalogVersionToRow(r)));
  }

  getCustomer(customerId: string): Promise<CustomerRecord | undefined> {
    return this.one('getCustomer', (x, s) => x.get(s.getCustomer, [customerId]), customerFromRow);
  }

  getCustomers(customerIds: readonly string[]): Promise<(CustomerRecord | undefined)[]> {
    const answer = (row: unknown[] | undefined) => (row === undefined ? undefined : customerFromRow(row));
    if (!this.x.roundTrips) {
      return this.op(false, 'getCustomers', (x, s) => settle(customerIds.map((id) => x.get(s.getCustomer, [id]))), (rows) => rows.map(answer));
    }
    const ids = [...new Set(customerIds)];
    return this.op(
      false,
      'getCustomers',
      (x, s) => inChunks(ids, (chunk) => x.all(s.getCustomers(chunk.length), chunk)),
      (results) => {
        const byId = new Map<unknown, unknown[]>();
        for (const rows of results) for (const row of rows) byId.set(row[0], row);
        // Mapped per answer, so that a repeated id gets its own copy.
        return customerIds.map((id) => answer(byId.get(id)));
      },
    );
  }

  putCustomer(r: CustomerRecord): Promise<void> {
    return this.write('putCustomer', (x, s) => x.run(s.putCustomer, customerToRow(r)));
  }

  countCustomers(): Promise<number> {
    return this.count('countCustomers', (x, s) => x.get(s.countCustomers, []));
  }

  getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    return this.one('getSubscription', (x, s) => x.get(s.getSubscription, [id]), subscriptionFromRow);
  }

  listSubscriptionsByCustomer(customerId: string): Promise<SubscriptionRecord[]> {
    return this.many('listSubscriptionsByCustomer', (x, s) => x.all(s.listSubscriptionsByCustomer, [customerId]), subscriptionFromRow);
  }

  putSubscription(r: SubscriptionRecord): Promise<void> {
    return this.write('putSubscription', (x, s) => x.run(s.putSubscription, subscriptionToRow(r)));
  }

  getUsage(k: UsageKey): Promise<UsageRecord | undefined> {
    return this.one('getUsage', (x, s) => x.get(s.getUsage, [k.customerId, k.resourceId, k.featureId, k.windowStart, k.windowEnd]), usageFromRow);
  }

  putUsage(r: UsageRecord): Promise<void> {
    return this.write('putUsage', (x, s) => x.run(s.putUsage, usageToRow(r)));
  }

  getUsages(keys: readonly UsageKey[]): Promise<(UsageRecord | undefined)[]> {
    const answer = (row: unknown[] | undefined) => (row === undefined ? undefined : usageFromRow(row));
    if (!this.x.roundTrips) {
      return this.op(
        false,
        'getUsages',
        (x, s) => settle(keys.map((k) => x.get(s.getUsage, [k.customerId, k.resourceId, k.featureId, k.windowStart, k.windowEnd]))),
        (rows) => rows.map(answer),
      );
    }
    const distinct = new Map<string, UsageKey>();
    for (const k of keys) distinct.set(usageKeyString(k), k);
    return this.op(
      false,
      'getUsages',
      (x, s) =>
        inChunks([...distinct.values()], (chunk) =>
          x.all(
            s.getUsages(chunk.length),
            chunk.flatMap((k) => [k.customerId, k.resourceId, k.featureId, k.windowStart, k.windowEnd]),
          ),
        ),
      (results) => {
        const byKey = new Map<string, unknown[]>();
        for (const rows of results) for (const row of rows) byKey.set(rowKeyString(row), row);
        return keys.map((k) => answer(byKey.get(usageKeyString(k))));
      },
    );
  }

  putUsages(records: readonly UsageRecord[]): Promise<void> {
    return this.op(
      true,
      'putUsages',
      (x, s) => {
        const keyed = records.map((r) => ({ key: usageKeyString(r), r }));
        const seen = new Set<string>();
        for (const [i, { key, r }] of keyed.entries()) {
          if (seen.has(key)) {
            const { customerId, resourceId, featureId, windowStart, windowEnd } = r;
            throw invalidArgument(`records[${i}]`, 'repeats the key of an earlier record (the keys must be distinct)', {
              value: { customerId, resourceId, featureId, windowStart, windowEnd },
            });
          }
          seen.add(key);
        }
        if (!x.roundTrips) return x.runEach(s.putUsage, records.map(usageToRow));
        // In key order (the keys being distinct, the outcome is the same): batches that share cells
        // then lock them in one order and wait for each other instead of deadlocking.
        keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        return inChunks(keyed, (chunk) => x.run(s.putUsages(chunk.length), chunk.flatMap((k) => usageToRow(k.r))));
      },
      () => undefined,
    );
  }

  listUsage(q: UsageQuery): Promise<UsageRecord[]> {
    const args: unknown[] = [q.customerId];
    if (q.featureId !== undefined) args.push(q.featureId);
    if (q.resourceId !== undefined) args.push(q.resourceId);
    if (q.to !== undefined) args.push(q.to);
    if (q.from !== undefined) args.push(q.from);
    const filters = { featureId: q.featureId !== undefined, resourceId: q.resourceId !== undefined, from: q.from !== undefined, to: q.to !== undefined };
    return this.many('listUsage', (x, s) => x.all(s.listUsage(filters), args), usageFromRow);
  }

  addDistinctValue(k: UsageKey, value: string): Promise<boolean> {
    return this.op(
      true,
      'addDistinctValue',
      (x, s) => x.run(s.addDistinctValue, [k.customerId, k.resourceId, k.featureId, k.windowStart, k.windowEnd, value]),
      (changes) => changes === 1,
    );
  }

  insertEvents(records: EventRecord[]): Promise<boolean[]> {
    // A key repeated inside the batch is stored by its first copy only: the database skips the
    // later copy as a conflict with the row inserted just before (by this statement or an earlier one).
    if (!this.x.roundTrips) {
      return this.op(true, 'insertEvents', (x, s) => x.runEach(s.insertEvent, records.map(eventToRow)), (changes) => changes.map((c) => c === 1));
    }
    // Chunks of EVENT_CHUNK rows, each one INSERT ... ON CONFLICT DO NOTHING RETURNING the keys it
    // stored, in key order: batches that share keys then lock them in one order and wait for each
    // other, where batch order made concurrent writers deadlock (stable, so a repeated key's first
    // copy stays first).
    const ordered = records.map((r, i) => ({ r, i })).sort((a, b) => (a.r.idempotencyKey < b.r.idempotencyKey ? -1 : a.r.idempotencyKey > b.r.idempotencyKey ? 1 : a.i - b.i));
    return this.op(
      true,
      'insertEvents',
      (x, s) => {
        const chunks: Maybe<unknown[][]>[] = [];
        for (let i = 0; i < ordered.length; i += EVENT_CHUNK) {
          const chunk = ordered.slice(i, i + EVENT_CHUNK).map((o) => o.r);
          chunks.push(x.all(s.insertEvents(chunk.length), chunk.flatMap(eventToRow)));
        }
        return Promise.all(chunks);
      },
      (results) => {
        const stored = new Set<unknown>();
        for (const rows of results) for (const row of rows) stored.add(row[0]);
        // The first copy of a stored key is the one that was stored.
        return records.map((r) => stored.delete(r.idempotencyKey));
      },
    );
  }

  getEvent(idempotencyKey: string): Promise<EventRecord | undefined> {
    return this.one('getEvent', (x, s) => x.get(s.getEvent, [idempotencyKey]), eventFromRow);
  }

  listEvents(q: EventQuery): Promise<EventRecord[]> {
    return this.many('listEvents', (x, s) => x.all(s.listEvents, [q.customerId, q.resourceId, q.eventName, q.from, q.to]), eventFromRow);
  }

  listUnmatchedEvents(limit: number, after?: { receivedAt: number; idempotencyKey: string }): Promise<EventRecord[]> {
    return this.many(
      'listUnmatchedEvents',
      (x, s) => (after ? x.all(s.listUnmatchedEventsAfter, [after.receivedAt, after.idempotencyKey, limit]) : x.all(s.listUnmatchedEvents, [limit])),
      eventFromRow,
    );
  }

  getReservation(id: string): Promise<ReservationRecord | undefined> {
    return this.one('getReservation', (x, s) => x.get(s.getReservation, [id]), reservationFromRow);
  }

  putReservation(r: ReservationRecord): Promise<void> {
    return this.write('putReservation', (x, s) => x.run(s.putReservation, reservationToRow(r)));
  }

  listHeldReservations(k: Omit<UsageKey, 'windowStart' | 'windowEnd'>): Promise<ReservationRecord[]> {
    return this.many('listHeldReservations', (x, s) => x.all(s.listHeldReservations, [k.customerId, k.resourceId, k.featureId]), reservationFromRow);
  }

  querySubscriptions(q: SubscriptionQuery): Promise<SubscriptionRecord[]> {
    return this.many(
      'querySubscriptions',
      (x, s) => {
        const { statement, args } = s.subscriptionQueries.statement(q);
        return x.all(statement, args);
      },
      subscriptionFromRow,
    );
  }

  countPromotionCodeRedemptions(code: string): Promise<number> {
    return this.count('countPromotionCodeRedemptions', (x, s) => x.get(s.countPromotionCodeRedemptions, [code]));
  }

  insertInvoice(r: InvoiceRecord): Promise<boolean> {
    return this.op(true, `insertInvoice(${r.id})`, (x, s) => x.run(s.insertInvoice, invoiceToRow(r)), (changes) => changes === 1);
  }

  listInvoices(q: { customerId: string; subscriptionId?: string }): Promise<InvoiceRecord[]> {
    return this.many(
      'listInvoices',
      (x, s) =>
        q.subscriptionId === undefined ? x.all(s.listInvoices, [q.customerId]) : x.all(s.listInvoicesOfSubscription, [q.customerId, q.subscriptionId]),
      invoiceFromRow,
    );
  }

  listPromotionalGrants(customerId: string): Promise<PromotionalGrantRecord[]> {
    return this.many('listPromotionalGrants', (x, s) => x.all(s.listPromotionalGrants, [customerId]), promotionalGrantFromRow);
  }

  putPromotionalGrant(r: PromotionalGrantRecord): Promise<void> {
    return this.write('putPromotionalGrant', (x, s) => x.run(s.putPromotionalGrant, promotionalGrantToRow(r)));
  }

  listCreditGrants(customerId: string, currencyId?: string): Promise<CreditGrantRecord[]> {
    return this.many(
      'listCreditGrants',
      (x, s) => (currencyId === undefined ? x.all(s.listCreditGrants, [customerId]) : x.all(s.listCreditGrantsOfCurrency, [customerId, currencyId])),
      creditGrantFromRow,
    );
  }

  putCreditGrant(r: CreditGrantRecord): Promise<void> {
    return this.write('putCreditGrant', (x, s) => x.run(s.putCreditGrant, creditGrantToRow(r)));
  }

  appendCreditLedger(entries: NewCreditLedgerRecord[]): Promise<void> {
    // seq is assigned by the database on insert (a rowid on SQLite, an identity column on
    // PostgreSQL), so entries inserted in order get increasing seqs.
    return this.op(true, 'appendCreditLedger', (x, s) => x.runEach(s.appendCreditLedger, entries.map(newCreditLedgerToRow)), () => undefined);
  }

  listCreditLedger(q: { customerId: string; currencyId: string; after?: number; limit: number }): Promise<CreditLedgerRecord[]> {
    return this.many('listCreditLedger', (x, s) => x.all(s.listCreditLedger, [q.customerId, q.currencyId, q.after ?? 0, q.limit]), creditLedgerFromRow);
  }

  getRechargeConfig(customerId: string, currencyId: string): Promise<RechargeConfigRecord | undefined> {
    return this.one('getRechargeConfig', (x, s) => x.get(s.getRechargeConfig, [customerId, currencyId]), rechargeConfigFromRow);
  }

  putRechargeConfig(r: RechargeConfigRecord): Promise<void> {
    return this.write('putRechargeConfig', (x, s) => x.run(s.putRechargeConfig, rechargeConfigToRow(r)));
  }

  getIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.one('getIdempotency', (x, s) => x.get(s.getIdempotency, [scope, key]), idempotencyFromRow);
  }

  putIdempotency(r: IdempotencyRecord): Promise<void> {
    return this.write('putIdempotency', (x, s) => x.run(s.putIdempotency, idempotencyToRow(r)));
  }

  appendChange(c: NewChange): Promise<number> {
    // The database assigns seq on insert and the statement returns it. How seq order relates to
    // commit order is the dialect's business (packages/postgres/README.md#the-change-feed-seq-order-without-skipping).
    const insertId = this.x.insertId;
    if (insertId) return this.op(true, 'appendChange', (x, s) => insertId(s.insertChange, newChangeToRow(c)), (seq) => seq);
    return this.op(true, 'appendChange', (x, s) => x.get(s.appendChange, newChangeToRow(c)), (row) => Number((row as [number])[0]));
  }

  appendChanges(changes: readonly NewChange[]): Promise<number[]> {
    const seq = (row: unknown) => Number((row as [number])[0]);
    const insertId = this.x.insertId;
    if (insertId) return this.op(true, 'appendChanges', (x, s) => changes.map((c) => insertId(s.insertChange, newChangeToRow(c))), (seqs) => seqs);
    if (!this.x.roundTrips) {
      return this.op(true, 'appendChanges', (x, s) => settle(changes.map((c) => x.get(s.appendChange, newChangeToRow(c)))), (rows) => rows.map(seq));
    }
    // One statement per chunk, the chunks sent in order. The identity column numbers a statement's
    // rows in VALUES order, but RETURNING promises no row order: each chunk's seqs are sorted.
    return this.op(
      true,
      'appendChanges',
      (x, s) => inChunks(changes, (chunk) => x.all(s.appendChanges(chunk.length), chunk.flatMap(newChangeToRow))),
      (results) => results.flatMap((rows) => rows.map(seq).sort((a, b) => a - b)),
    );
  }
}
