import {
  TesseraError,
  type CatalogVersionRecord,
  type CreditGrantRecord,
  type CreditLedgerRecord,
  type CustomerQuery,
  type CustomerRecord,
  type EntityQuery,
  type EntityRecord,
  type EventQuery,
  type HeldReservationsKey,
  type EventRecord,
  type IdempotencyRecord,
  type InvoiceRecord,
  type NewChange,
  type NewCreditLedgerRecord,
  type PromotionalGrantRecord,
  type ProviderCallKind,
  type EntitlementOverrideRecord,
  type ProviderCallRecord,
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
  entityFromRow,
  entityToRow,
  eventFromRow,
  eventToRow,
  idempotencyFromRow,
  idempotencyToRow,
  invoiceFromRow,
  invoiceToRow,
  newChangeToRow,
  newCreditLedgerToRow,
  promotionalGrantFromRow,
  entitlementOverrideFromRow,
  entitlementOverrideToRow,
  promotionalGrantToRow,
  providerCallFromRow,
  providerCallToRow,
  rechargeConfigFromRow,
  rechargeConfigToRow,
  reservationFromRow,
  reservationToRow,
  subscriptionFromRow,
  subscriptionToRow,
  usageFromRow,
  usageKeyArgs,
  usageToRow,
} from './rows.js';
import type { Statements } from './statements.js';
import { isPromise, settle, type Maybe, type SqlExecutor, type TranslateError } from './executor.js';
import { insertCompactEvents, type EventsInTx } from './tx-events.js';
import { eventKeyHash } from './event-keys.js';
import { batchAppendChanges, batchGetCustomers, batchGetIdempotencies, batchGetUsages, batchInsertEvents, batchPutUsages } from './tx-batch.js';

export type { Maybe, SqlExecutor, TranslateError } from './executor.js';

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
    /**
     * The events inserted in the database transaction this runs in, for compact event keys
     * (tx-events.ts): one object per database transaction, shared by the calls a group commit
     * runs in it.
     */
    private readonly events: EventsInTx = { firstId: 0 },
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
    const batch = batchGetCustomers<S>(customerIds, answer);
    return this.op(false, 'getCustomers', batch.run, batch.map);
  }

  putCustomer(r: CustomerRecord): Promise<void> {
    return this.write('putCustomer', (x, s) => x.run(s.putCustomer, customerToRow(r)));
  }

  countCustomers(): Promise<number> {
    return this.count('countCustomers', (x, s) => x.get(s.countCustomers, []));
  }

  queryCustomers(q: CustomerQuery): Promise<CustomerRecord[]> {
    return this.many(
      'queryCustomers',
      (x, s) => {
        const { statement, args } = s.customerQueries.statement(q);
        return x.all(statement, args);
      },
      customerFromRow,
    );
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
    return this.one('getUsage', (x, s) => x.get(s.getUsage, usageKeyArgs(k)), usageFromRow);
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
        (x, s) => settle(keys.map((k) => x.get(s.getUsage, usageKeyArgs(k)))),
        (rows) => rows.map(answer),
      );
    }
    const batch = batchGetUsages<S>(keys, answer);
    return this.op(false, 'getUsages', batch.run, batch.map);
  }

  putUsages(records: readonly UsageRecord[]): Promise<void> {
    const batch = batchPutUsages<S>(records);
    return this.op(true, 'putUsages', batch.run, batch.map);
  }

  listUsage(q: UsageQuery): Promise<UsageRecord[]> {
    const args: unknown[] = [q.customerId];
    if (q.featureId !== undefined) args.push(q.featureId);
    if (q.resourceId !== undefined) args.push(q.resourceId);
    if (q.entityId !== undefined) args.push(q.entityId);
    if (q.to !== undefined) args.push(q.to);
    if (q.from !== undefined) args.push(q.from);
    const filters = {
      featureId: q.featureId !== undefined,
      resourceId: q.resourceId !== undefined,
      entityId: q.entityId !== undefined,
      from: q.from !== undefined,
      to: q.to !== undefined,
    };
    return this.many('listUsage', (x, s) => x.all(s.listUsage(filters), args), usageFromRow);
  }

  addDistinctValue(k: UsageKey, value: string): Promise<boolean> {
    return this.op(
      true,
      'addDistinctValue',
      (x, s) => x.run(s.addDistinctValue, [...usageKeyArgs(k), value]),
      (changes) => changes === 1,
    );
  }

  insertEvents(records: EventRecord[]): Promise<boolean[]> {
    // A key repeated inside the batch is stored by its first copy only: the database skips the
    // later copy as a conflict with the row inserted just before (by this statement or an earlier one).
    const keys = this.s.eventKeys;
    if (keys) return this.op(true, 'insertEvents', (x, s) => insertCompactEvents(x, s, keys, records, this.events), (stored) => stored);
    if (!this.x.roundTrips) {
      return this.op(true, 'insertEvents', (x, s) => x.runEach(s.insertEvent, records.map(eventToRow)), (changes) => changes.map((c) => c === 1));
    }
    const batch = batchInsertEvents<S>(records);
    return this.op(true, 'insertEvents', batch.run, batch.map);
  }

  getEvent(idempotencyKey: string): Promise<EventRecord | undefined> {
    const hash = this.s.eventKeys ? eventKeyHash(idempotencyKey) : 0;
    const args = this.s.eventKeys ? [hash, idempotencyKey, hash, idempotencyKey] : [idempotencyKey];
    return this.one('getEvent', (x, s) => x.get(s.getEvent, args), eventFromRow);
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

  listHeldReservations(k: HeldReservationsKey): Promise<ReservationRecord[]> {
    return this.many(
      'listHeldReservations',
      (x, s) =>
        k.entityId === undefined
          ? x.all(s.listHeldReservationsAnyEntity, [k.customerId, k.resourceId, k.featureId])
          : x.all(s.listHeldReservations, [k.customerId, k.resourceId, k.entityId, k.featureId]),
      reservationFromRow,
    );
  }

  getEntity(customerId: string, entityId: string): Promise<EntityRecord | undefined> {
    return this.one('getEntity', (x, s) => x.get(s.getEntity, [customerId, entityId]), entityFromRow);
  }

  putEntity(r: EntityRecord): Promise<void> {
    return this.write('putEntity', (x, s) => x.run(s.putEntity, entityToRow(r)));
  }

  listEntities(q: EntityQuery): Promise<EntityRecord[]> {
    const args: unknown[] = [q.customerId];
    if (q.featureId !== undefined) args.push(q.featureId);
    if (q.after !== undefined) args.push(q.after);
    args.push(q.limit);
    const filters = { featureId: q.featureId !== undefined, after: q.after !== undefined, includeDeleted: q.includeDeleted === true };
    return this.many('listEntities', (x, s) => x.all(s.listEntities(filters), args), entityFromRow);
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

  listEntitlementOverrides(customerId: string): Promise<EntitlementOverrideRecord[]> {
    return this.many('listEntitlementOverrides', (x, s) => x.all(s.listEntitlementOverrides, [customerId]), entitlementOverrideFromRow);
  }

  putEntitlementOverride(r: EntitlementOverrideRecord): Promise<void> {
    return this.write('putEntitlementOverride', (x, s) => x.run(s.putEntitlementOverride, entitlementOverrideToRow(r)));
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

  getProviderCall(key: string): Promise<ProviderCallRecord | undefined> {
    return this.one('getProviderCall', (x, s) => x.get(s.getProviderCall, [key]), providerCallFromRow);
  }

  putProviderCall(r: ProviderCallRecord): Promise<void> {
    return this.write('putProviderCall', (x, s) => x.run(s.putProviderCall, providerCallToRow(r)));
  }

  listDueProviderCalls(q: { dueAt: number; limit: number; after?: { createdAt: number; key: string } }): Promise<ProviderCallRecord[]> {
    const a = q.after;
    return this.many(
      'listDueProviderCalls',
      (x, s) => (a ? x.all(s.listDueProviderCallsAfter, [q.dueAt, a.createdAt, a.key, q.limit]) : x.all(s.listDueProviderCalls, [q.dueAt, q.limit])),
      providerCallFromRow,
    );
  }

  listProviderCalls(q: { kind: ProviderCallKind; limit: number; after?: { createdAt: number; key: string } }): Promise<ProviderCallRecord[]> {
    const a = q.after;
    return this.many(
      'listProviderCalls',
      (x, s) => (a ? x.all(s.listProviderCallsAfter, [q.kind, a.createdAt, a.key, q.limit]) : x.all(s.listProviderCalls, [q.kind, q.limit])),
      providerCallFromRow,
    );
  }

  getIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.one('getIdempotency', (x, s) => x.get(s.getIdempotency, [scope, key]), idempotencyFromRow);
  }

  getIdempotencies(keys: readonly { scope: string; key: string }[]): Promise<(IdempotencyRecord | undefined)[]> {
    const answer = (row: unknown[] | undefined) => (row === undefined ? undefined : idempotencyFromRow(row));
    if (!this.x.roundTrips) {
      return this.op(false, 'getIdempotencies', (x, s) => settle(keys.map((k) => x.get(s.getIdempotency, [k.scope, k.key]))), (rows) => rows.map(answer));
    }
    const batch = batchGetIdempotencies<S>(keys, answer);
    return this.op(false, 'getIdempotencies', batch.run, batch.map);
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
    const batch = batchAppendChanges<S>(changes, seq);
    return this.op(true, 'appendChanges', batch.run, batch.map);
  }
}
