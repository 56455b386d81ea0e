import {
  TesseraError,
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
import { toStoreError, type ErrorContext } from './errors.js';
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
import type { Statements } from './statements.js';

/** One transaction's view of the store. Statements run synchronously inside the open SQLite transaction. */
export class SqliteTx implements StoreTx {
  constructor(
    private readonly s: Statements,
    private readonly mode: TransactionMode,
    private readonly state: { open: boolean },
    private readonly ctx: ErrorContext,
  ) {}

  /** Runs one operation after checking the transaction is still usable for it. */
  private op<T>(write: boolean, doing: string, fn: (s: Statements) => T): Promise<T> {
    if (!this.state.open) {
      return Promise.reject(new TesseraError('CONFLICT', `${doing}: store transaction already ended; do not keep tx past its callback`));
    }
    if (write && this.mode === 'read') {
      return Promise.reject(new TesseraError('CONFLICT', `${doing}: write attempted in a read transaction`));
    }
    try {
      return Promise.resolve(fn(this.s));
    } catch (e) {
      return Promise.reject(toStoreError(e, this.ctx, doing));
    }
  }

  listCatalogVersions(): Promise<CatalogVersionRecord[]> {
    return this.op(false, 'listCatalogVersions', (s) => s.listCatalogVersions.all().map(catalogVersionFromRow));
  }

  insertCatalogVersion(r: CatalogVersionRecord): Promise<void> {
    return this.op(true, `insertCatalogVersion(${r.version})`, (s) => void s.insertCatalogVersion.run(catalogVersionToRow(r)));
  }

  getCustomer(customerId: string): Promise<CustomerRecord | undefined> {
    return this.op(false, 'getCustomer', (s) => {
      const row = s.getCustomer.get(customerId);
      return row === undefined ? undefined : customerFromRow(row);
    });
  }

  putCustomer(r: CustomerRecord): Promise<void> {
    return this.op(true, 'putCustomer', (s) => void s.putCustomer.run(customerToRow(r)));
  }

  countCustomers(): Promise<number> {
    return this.op(false, 'countCustomers', (s) => (s.countCustomers.get() as [number])[0]);
  }

  getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    return this.op(false, 'getSubscription', (s) => {
      const row = s.getSubscription.get(id);
      return row === undefined ? undefined : subscriptionFromRow(row);
    });
  }

  listSubscriptionsByCustomer(customerId: string): Promise<SubscriptionRecord[]> {
    return this.op(false, 'listSubscriptionsByCustomer', (s) => s.listSubscriptionsByCustomer.all(customerId).map(subscriptionFromRow));
  }

  putSubscription(r: SubscriptionRecord): Promise<void> {
    return this.op(true, 'putSubscription', (s) => void s.putSubscription.run(subscriptionToRow(r)));
  }

  getUsage(k: UsageKey): Promise<UsageRecord | undefined> {
    return this.op(false, 'getUsage', (s) => {
      const row = s.getUsage.get(k.customerId, k.resourceId, k.featureId, k.windowStart, k.windowEnd);
      return row === undefined ? undefined : usageFromRow(row);
    });
  }

  putUsage(r: UsageRecord): Promise<void> {
    return this.op(true, 'putUsage', (s) => void s.putUsage.run(usageToRow(r)));
  }

  listUsage(q: UsageQuery): Promise<UsageRecord[]> {
    return this.op(false, 'listUsage', (s) => {
      const args: unknown[] = [q.customerId];
      if (q.featureId !== undefined) args.push(q.featureId);
      if (q.resourceId !== undefined) args.push(q.resourceId);
      if (q.to !== undefined) args.push(q.to);
      if (q.from !== undefined) args.push(q.from);
      const stmt = s.listUsage({
        featureId: q.featureId !== undefined,
        resourceId: q.resourceId !== undefined,
        from: q.from !== undefined,
        to: q.to !== undefined,
      });
      return stmt.all(args).map(usageFromRow);
    });
  }

  addDistinctValue(k: UsageKey, value: string): Promise<boolean> {
    return this.op(
      true,
      'addDistinctValue',
      (s) => s.addDistinctValue.run(k.customerId, k.resourceId, k.featureId, k.windowStart, k.windowEnd, value).changes === 1,
    );
  }

  insertEvents(records: EventRecord[]): Promise<boolean[]> {
    // A duplicate inside the batch is caught the same way: the first copy is in the table by the
    // time the second runs.
    return this.op(true, 'insertEvents', (s) => records.map((r) => s.insertEvent.run(eventToRow(r)).changes === 1));
  }

  getEvent(idempotencyKey: string): Promise<EventRecord | undefined> {
    return this.op(false, 'getEvent', (s) => {
      const row = s.getEvent.get(idempotencyKey);
      return row === undefined ? undefined : eventFromRow(row);
    });
  }

  listEvents(q: EventQuery): Promise<EventRecord[]> {
    return this.op(false, 'listEvents', (s) =>
      s.listEvents.all(q.customerId, q.resourceId, q.eventName, q.from, q.to).map(eventFromRow),
    );
  }

  listUnmatchedEvents(limit: number, after?: { receivedAt: number; idempotencyKey: string }): Promise<EventRecord[]> {
    return this.op(false, 'listUnmatchedEvents', (s) =>
      (after ? s.listUnmatchedEventsAfter.all(after.receivedAt, after.idempotencyKey, limit) : s.listUnmatchedEvents.all(limit)).map(
        eventFromRow,
      ),
    );
  }

  getReservation(id: string): Promise<ReservationRecord | undefined> {
    return this.op(false, 'getReservation', (s) => {
      const row = s.getReservation.get(id);
      return row === undefined ? undefined : reservationFromRow(row);
    });
  }

  putReservation(r: ReservationRecord): Promise<void> {
    return this.op(true, 'putReservation', (s) => void s.putReservation.run(reservationToRow(r)));
  }

  listHeldReservations(k: Omit<UsageKey, 'windowStart' | 'windowEnd'>): Promise<ReservationRecord[]> {
    return this.op(false, 'listHeldReservations', (s) =>
      s.listHeldReservations.all(k.customerId, k.resourceId, k.featureId).map(reservationFromRow),
    );
  }

  querySubscriptions(q: SubscriptionQuery): Promise<SubscriptionRecord[]> {
    return this.op(false, 'querySubscriptions', (s) => s.subscriptionQueries.rows(q).map(subscriptionFromRow));
  }

  countPromotionCodeRedemptions(code: string): Promise<number> {
    return this.op(false, 'countPromotionCodeRedemptions', (s) => (s.countPromotionCodeRedemptions.get(code) as [number])[0]);
  }

  insertInvoice(r: InvoiceRecord): Promise<boolean> {
    return this.op(true, `insertInvoice(${r.id})`, (s) => s.insertInvoice.run(invoiceToRow(r)).changes === 1);
  }

  listInvoices(q: { customerId: string; subscriptionId?: string }): Promise<InvoiceRecord[]> {
    return this.op(false, 'listInvoices', (s) =>
      (q.subscriptionId === undefined
        ? s.listInvoices.all(q.customerId)
        : s.listInvoicesOfSubscription.all(q.customerId, q.subscriptionId)
      ).map(invoiceFromRow),
    );
  }

  listPromotionalGrants(customerId: string): Promise<PromotionalGrantRecord[]> {
    return this.op(false, 'listPromotionalGrants', (s) => s.listPromotionalGrants.all(customerId).map(promotionalGrantFromRow));
  }

  putPromotionalGrant(r: PromotionalGrantRecord): Promise<void> {
    return this.op(true, 'putPromotionalGrant', (s) => void s.putPromotionalGrant.run(promotionalGrantToRow(r)));
  }

  listCreditGrants(customerId: string, currencyId?: string): Promise<CreditGrantRecord[]> {
    return this.op(false, 'listCreditGrants', (s) =>
      (currencyId === undefined ? s.listCreditGrants.all(customerId) : s.listCreditGrantsOfCurrency.all(customerId, currencyId)).map(
        creditGrantFromRow,
      ),
    );
  }

  putCreditGrant(r: CreditGrantRecord): Promise<void> {
    return this.op(true, 'putCreditGrant', (s) => void s.putCreditGrant.run(creditGrantToRow(r)));
  }

  appendCreditLedger(entries: NewCreditLedgerRecord[]): Promise<void> {
    // seq is the rowid: each insert gets the largest seq so far + 1 (see migration 0004).
    return this.op(true, 'appendCreditLedger', (s) => {
      for (const e of entries) s.appendCreditLedger.run(newCreditLedgerToRow(e));
    });
  }

  listCreditLedger(q: { customerId: string; currencyId: string; after?: number; limit: number }): Promise<CreditLedgerRecord[]> {
    return this.op(false, 'listCreditLedger', (s) =>
      s.listCreditLedger.all(q.customerId, q.currencyId, q.after ?? 0, q.limit).map(creditLedgerFromRow),
    );
  }

  getRechargeConfig(customerId: string, currencyId: string): Promise<RechargeConfigRecord | undefined> {
    return this.op(false, 'getRechargeConfig', (s) => {
      const row = s.getRechargeConfig.get(customerId, currencyId);
      return row === undefined ? undefined : rechargeConfigFromRow(row);
    });
  }

  putRechargeConfig(r: RechargeConfigRecord): Promise<void> {
    return this.op(true, 'putRechargeConfig', (s) => void s.putRechargeConfig.run(rechargeConfigToRow(r)));
  }

  getIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.op(false, 'getIdempotency', (s) => {
      const row = s.getIdempotency.get(scope, key);
      return row === undefined ? undefined : idempotencyFromRow(row);
    });
  }

  putIdempotency(r: IdempotencyRecord): Promise<void> {
    return this.op(true, 'putIdempotency', (s) => void s.putIdempotency.run(idempotencyToRow(r)));
  }

  appendChange(c: NewChange): Promise<number> {
    // seq is the rowid of an INTEGER PRIMARY KEY AUTOINCREMENT column, so it grows with every
    // insert; writers are serialised (mutex in process, BEGIN IMMEDIATE across processes), so seq
    // order is commit order.
    return this.op(true, 'appendChange', (s) => Number(s.appendChange.run(newChangeToRow(c)).lastInsertRowid));
  }
}
