import { TesseraError } from '../errors.js';
import { distinctUsageKeys, usageKeyId } from './usage-keys.js';
import { Mutex } from './mutex.js';
import { refuseInsideCallback } from './reentry.js';
import type {
  CatalogVersionRecord,
  ChangeRecord,
  CustomerRecord,
  EntityRecord,
  EventRecord,
  IdempotencyRecord,
  InvoiceRecord,
  CreditGrantRecord,
  CreditLedgerRecord,
  PromotionalGrantRecord,
  EntitlementOverrideRecord,
  ProviderCallRecord,
  RechargeConfigRecord,
  NewChange,
  ReservationRecord,
  SubscriptionRecord,
  UsageRecord,
} from './records.js';
import type { Store, StoreTx, TransactionMode, UsageQuery } from './store.js';
import { runSubscriptionQuery } from './subscription-query.js';
import { runCustomerQuery } from './customer-query.js';

const clone = <T>(v: T): T => structuredClone(v);
/** Ascending order of two strings by code unit, for sorts. */
const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byCreation = <T extends { createdAt: number; id: string }>(list: T[]): T[] =>
  list.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

interface Tables {
  catalogVersions: Map<number, CatalogVersionRecord>;
  customers: Map<string, CustomerRecord>;
  subscriptions: Map<string, SubscriptionRecord>;
  usage: Map<string, UsageRecord>;
  distinct: Map<string, Set<string>>;
  events: Map<string, EventRecord>;
  reservations: Map<string, ReservationRecord>;
  idempotency: Map<string, IdempotencyRecord>;
  invoices: Map<string, InvoiceRecord>;
  promotions: Map<string, PromotionalGrantRecord>;
  overrides: Map<string, EntitlementOverrideRecord>;
  creditGrants: Map<string, CreditGrantRecord>;
  ledger: CreditLedgerRecord[];
  recharge: Map<string, RechargeConfigRecord>;
  providerCalls: Map<string, ProviderCallRecord>;
  entities: Map<string, EntityRecord>;
  changes: ChangeRecord[];
}

/**
 * A store in process memory: for tests, simulations and caches of nothing. Lost on exit.
 * Transactions take turns and roll back through an undo log.
 */
export function memoryStore(): Store {
  const t: Tables = {
    catalogVersions: new Map(),
    customers: new Map(),
    subscriptions: new Map(),
    usage: new Map(),
    distinct: new Map(),
    events: new Map(),
    reservations: new Map(),
    idempotency: new Map(),
    invoices: new Map(),
    promotions: new Map(),
    overrides: new Map(),
    creditGrants: new Map(),
    ledger: [],
    recharge: new Map(),
    providerCalls: new Map(),
    entities: new Map(),
    changes: [],
  };
  const mutex = new Mutex();
  let closed = false;
  // Followers see a change only once its transaction committed.
  let committedChanges = 0;

  const makeTx = (mode: TransactionMode, undo: (() => void)[]): { tx: StoreTx; end: () => void } => {
    let open = true;
    const guard = (write: boolean) => {
      if (!open) throw new TesseraError('CONFLICT', 'store transaction already ended; do not keep tx past its callback');
      if (write && mode === 'read') throw new TesseraError('CONFLICT', 'write attempted in a read transaction');
    };
    const put = <K, V>(map: Map<K, V>, key: K, value: V) => {
      guard(true);
      const had = map.has(key);
      const prev = map.get(key);
      undo.push(() => (had ? map.set(key, prev as V) : map.delete(key)));
      map.set(key, clone(value));
    };
    const get = <K, V>(map: Map<K, V>, key: K): V | undefined => {
      guard(false);
      const v = map.get(key);
      return v === undefined ? undefined : clone(v);
    };
    const tx: StoreTx = {
      async listCatalogVersions() {
        guard(false);
        return [...t.catalogVersions.values()].sort((a, b) => a.version - b.version).map(clone);
      },
      async insertCatalogVersion(r) {
        if (t.catalogVersions.has(r.version)) throw new TesseraError('CONFLICT', `catalog version ${r.version} exists`);
        put(t.catalogVersions, r.version, r);
      },
      async getCustomer(id) {
        return get(t.customers, id);
      },
      async getCustomers(ids) {
        guard(false);
        return ids.map((id) => get(t.customers, id));
      },
      async putCustomer(r) {
        put(t.customers, r.customerId, r);
      },
      async countCustomers() {
        guard(false);
        return t.customers.size;
      },
      async queryCustomers(q) {
        guard(false);
        return runCustomerQuery(t.customers.values(), q).map(clone);
      },
      async getSubscription(id) {
        return get(t.subscriptions, id);
      },
      async listSubscriptionsByCustomer(customerId) {
        guard(false);
        return [...t.subscriptions.values()]
          .filter((s) => s.customerId === customerId)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map(clone);
      },
      async putSubscription(r) {
        put(t.subscriptions, r.id, r);
      },
      async getUsage(k) {
        return get(t.usage, usageKeyId(k));
      },
      async putUsage(r) {
        put(t.usage, usageKeyId(r), r);
      },
      async getUsages(keys) {
        guard(false);
        return keys.map((k) => get(t.usage, usageKeyId(k)));
      },
      async putUsages(records) {
        guard(true);
        const keys = distinctUsageKeys(records);
        records.forEach((r, i) => put(t.usage, keys[i]!, r));
      },
      async listUsage(q: UsageQuery) {
        guard(false);
        return [...t.usage.values()]
          .filter(
            (u) =>
              u.customerId === q.customerId &&
              (q.featureId === undefined || u.featureId === q.featureId) &&
              (q.resourceId === undefined || u.resourceId === q.resourceId) &&
              (q.entityId === undefined || u.entityId === q.entityId) &&
              (q.to === undefined || u.windowStart < q.to) &&
              (q.from === undefined || u.windowEnd > q.from),
          )
          // The order of the SQL stores' listUsage: window, feature, then resource and entity.
          .sort((a, b) => a.windowStart - b.windowStart || order(a.featureId, b.featureId) || order(a.resourceId, b.resourceId) || order(a.entityId, b.entityId))
          .map(clone);
      },
      async addDistinctValue(k, value) {
        guard(true);
        const key = usageKeyId(k);
        let set = t.distinct.get(key);
        if (!set) {
          set = new Set();
          t.distinct.set(key, set);
          const created = set;
          undo.push(() => created.size === 0 && t.distinct.delete(key));
        }
        if (set.has(value)) return false;
        set.add(value);
        const s = set;
        undo.push(() => s.delete(value));
        return true;
      },
      async insertEvents(records: EventRecord[]) {
        guard(true);
        return records.map((r) => {
          if (t.events.has(r.idempotencyKey)) return false;
          put(t.events, r.idempotencyKey, r);
          return true;
        });
      },
      async getEvent(key) {
        return get(t.events, key);
      },
      async listEvents(q) {
        guard(false);
        return [...t.events.values()]
          .filter(
            (e) =>
              e.customerId === q.customerId &&
              e.resourceId === q.resourceId &&
              e.eventName === q.eventName &&
              e.timestamp >= q.from &&
              e.timestamp < q.to,
          )
          .sort((a, b) => a.timestamp - b.timestamp || (a.idempotencyKey < b.idempotencyKey ? -1 : 1))
          .map(clone);
      },
      async listUnmatchedEvents(limit, after) {
        guard(false);
        return [...t.events.values()]
          .filter((e) => e.unmatchedReason !== null)
          .sort((a, b) => a.receivedAt - b.receivedAt || (a.idempotencyKey < b.idempotencyKey ? -1 : 1))
          .filter(
            (e) =>
              !after ||
              e.receivedAt > after.receivedAt ||
              (e.receivedAt === after.receivedAt && e.idempotencyKey > after.idempotencyKey),
          )
          .slice(0, limit)
          .map(clone);
      },
      async getReservation(id) {
        return get(t.reservations, id);
      },
      async putReservation(r) {
        put(t.reservations, r.id, r);
      },
      async listHeldReservations(k) {
        guard(false);
        return [...t.reservations.values()]
          .filter(
            (r) =>
              r.status === 'HELD' && r.customerId === k.customerId && r.resourceId === k.resourceId && (k.entityId === undefined || r.entityId === k.entityId) && r.featureId === k.featureId,
          )
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
          .map(clone);
      },
      async getEntity(customerId, entityId) {
        return get(t.entities, `${customerId}\u0000${entityId}`);
      },
      async putEntity(r) {
        put(t.entities, `${r.customerId}\u0000${r.entityId}`, r);
      },
      async listEntities(q) {
        guard(false);
        return [...t.entities.values()]
          .filter(
            (e) =>
              e.customerId === q.customerId &&
              (q.featureId === undefined || e.featureId === q.featureId) &&
              (q.includeDeleted === true || e.deletedAt === null) &&
              (q.after === undefined || e.entityId > q.after),
          )
          .sort((a, b) => order(a.entityId, b.entityId))
          .slice(0, q.limit)
          .map(clone);
      },
      async querySubscriptions(q) {
        guard(false);
        return runSubscriptionQuery([...t.subscriptions.values()], q).map(clone);
      },
      async countPromotionCodeRedemptions(code) {
        guard(false);
        let n = 0;
        for (const s of t.subscriptions.values()) if (s.promotionCode === code) n++;
        return n;
      },
      async insertInvoice(r) {
        guard(true);
        const key = `${r.customerId}\u0000${r.dedupeKey}`;
        if (t.invoices.has(key)) return false;
        for (const i of t.invoices.values()) if (i.id === r.id) throw new TesseraError('CONFLICT', `invoice id ${r.id} exists`);
        put(t.invoices, key, r);
        return true;
      },
      async listInvoices(q) {
        guard(false);
        return [...t.invoices.values()]
          .filter((i) => i.customerId === q.customerId && (q.subscriptionId === undefined || i.subscriptionId === q.subscriptionId))
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map(clone);
      },
      async listPromotionalGrants(customerId) {
        guard(false);
        return byCreation([...t.promotions.values()].filter((g) => g.customerId === customerId)).map(clone);
      },
      async putPromotionalGrant(r) {
        put(t.promotions, r.id, r);
      },
      async listEntitlementOverrides(customerId) {
        guard(false);
        return byCreation([...t.overrides.values()].filter((o) => o.customerId === customerId)).map(clone);
      },
      async putEntitlementOverride(r) {
        put(t.overrides, r.id, r);
      },
      async listCreditGrants(customerId, currencyId) {
        guard(false);
        return byCreation([...t.creditGrants.values()].filter((g) => g.customerId === customerId && (currencyId === undefined || g.currencyId === currencyId))).map(clone);
      },
      async putCreditGrant(r) {
        put(t.creditGrants, r.id, r);
      },
      async appendCreditLedger(entries) {
        guard(true);
        for (const e of entries) {
          t.ledger.push({ ...clone(e), seq: t.ledger.length + 1 });
          undo.push(() => t.ledger.pop());
        }
      },
      async listCreditLedger(q) {
        guard(false);
        return t.ledger
          .filter((e) => e.customerId === q.customerId && e.currencyId === q.currencyId && e.seq > (q.after ?? 0))
          .slice(0, q.limit)
          .map(clone);
      },
      async getRechargeConfig(customerId, currencyId) {
        return get(t.recharge, `${customerId}\u0000${currencyId}`);
      },
      async putRechargeConfig(r) {
        put(t.recharge, `${r.customerId}\u0000${r.currencyId}`, r);
      },
      async getProviderCall(key) {
        return get(t.providerCalls, key);
      },
      async putProviderCall(r) {
        put(t.providerCalls, r.key, r);
      },
      async listDueProviderCalls(q) {
        guard(false);
        const after = q.after;
        return [...t.providerCalls.values()]
          .filter((c) => c.status === 'PENDING' && c.notBefore <= q.dueAt)
          .filter((c) => !after || c.createdAt > after.createdAt || (c.createdAt === after.createdAt && c.key > after.key))
          .sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
          .slice(0, q.limit)
          .map(clone);
      },
      async listProviderCalls(q) {
        guard(false);
        const after = q.after;
        return [...t.providerCalls.values()]
          .filter((c) => c.kind === q.kind)
          .filter((c) => !after || c.createdAt > after.createdAt || (c.createdAt === after.createdAt && c.key > after.key))
          .sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
          .slice(0, q.limit)
          .map(clone);
      },
      async getIdempotency(scope, key) {
        return get(t.idempotency, `${scope}\u0000${key}`);
      },
      async getIdempotencies(keys) {
        guard(false);
        return keys.map((k) => get(t.idempotency, `${k.scope}\u0000${k.key}`));
      },
      async putIdempotency(r) {
        put(t.idempotency, `${r.scope}\u0000${r.key}`, r);
      },
      async appendChange(c: NewChange) {
        guard(true);
        const seq = t.changes.length + 1;
        t.changes.push({ ...clone(c), seq });
        undo.push(() => t.changes.pop());
        return seq;
      },
      async appendChanges(changes) {
        guard(true);
        return changes.map((c) => {
          const seq = t.changes.length + 1;
          t.changes.push({ ...clone(c), seq });
          undo.push(() => t.changes.pop());
          return seq;
        });
      },
    };
    return { tx, end: () => (open = false) };
  };

  return {
    kind: 'memory',
    async open() {},
    transaction<T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new TesseraError('STORE_UNAVAILABLE', 'the memory store is closed'));
      // One transaction at a time: one asked for inside engine.transaction's callback would wait for it forever.
      try {
        refuseInsideCallback(this, `a ${mode} transaction`);
      } catch (e) {
        return Promise.reject(e);
      }
      return mutex.run(async () => {
        const undo: (() => void)[] = [];
        const { tx, end } = makeTx(mode, undo);
        try {
          const result = await fn(tx);
          end();
          committedChanges = t.changes.length;
          return result;
        } catch (e) {
          end();
          for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
          throw e;
        }
      });
    },
    async getChanges(after, limit) {
      const from = Math.max(0, after);
      return t.changes.slice(from, Math.min(committedChanges, from + limit)).map(clone);
    },
    async lastChangeSeq() {
      return committedChanges;
    },
    async close() {
      closed = true;
    },
  };
}
