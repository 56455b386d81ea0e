import type { Customer, Engine } from '@tessera/core';

/** One row of the dashboard's customer list. */
export interface CustomerRow {
  customerId: string;
  name: string | null;
  email: string | null;
  archived: boolean;
  /** Plan ids of the active and trialing subscriptions (empty for archived customers). */
  planIds: string[];
  createdAt: string | null;
}

/** A page of `GET /ui/api/customers`. */
export interface CustomerPage {
  data: CustomerRow[];
  /** Rows matching the query and the archived filter, over all pages. */
  total: number;
  offset: number;
  limit: number;
}

/** Largest page the list answers. */
export const MAX_CUSTOMER_PAGE = 200;

/**
 * The customers the dashboard lists and searches. The engine has no "list customers" call, so the
 * ids come from the change feed (every customer write is a change naming its customer) and the
 * records from `getCustomer`: the same reads on SQLite and PostgreSQL. Both are kept in memory and
 * brought up to date from the feed on each query, so a record is read again only after a change
 * to it (packages/http/README.md#dashboard says what this costs).
 */
export class CustomerIndex {
  private cursor = 0;
  private readonly archived = new Map<string, boolean>();
  private readonly records = new Map<string, Customer | null>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly engine: Engine) {}

  /** Reads the changes committed since the last query (one refresh at a time). */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        for (;;) {
          const batch = await this.engine.getChanges({ after: this.cursor, limit: 10_000 });
          for (const c of batch) {
            this.cursor = c.seq;
            if (c.customerId === null) continue;
            if (!this.archived.has(c.customerId)) this.archived.set(c.customerId, false);
            if (c.kind === 'customer.archived') this.archived.set(c.customerId, true);
            else if (c.kind === 'customer.updated') this.archived.set(c.customerId, false);
            // Subscriptions and promotions are part of a customer's record, usage is not.
            if (c.kind.startsWith('customer.') || c.kind.startsWith('subscription.') || c.kind.startsWith('promotion')) this.records.delete(c.customerId);
          }
          if (batch.length < 10_000) break;
        }
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async record(customerId: string): Promise<Customer | null> {
    if (this.records.has(customerId)) return this.records.get(customerId)!;
    let found: Customer | null = null;
    try {
      found = await this.engine.getCustomer(customerId);
    } catch (e) {
      // An archived customer reads as not found; anything else (a store failure) is the caller's.
      if ((e as { code?: string }).code !== 'CUSTOMER_NOT_FOUND') throw e;
    }
    this.records.set(customerId, found);
    return found;
  }

  private row(customerId: string, archived: boolean, c: Customer | null): CustomerRow {
    return {
      customerId,
      name: c?.name ?? null,
      email: c?.email ?? null,
      archived,
      planIds: c ? [...new Set(c.subscriptions.map((s) => s.planId))] : [],
      createdAt: c ? new Date(c.createdAt).toISOString() : null,
    };
  }

  /**
   * Customers sorted by id whose id, name or email contains `q` (case-insensitive), either the
   * live ones or the archived ones, `limit` of them from `offset`.
   */
  async query(params: { q: string; archived: boolean; offset: number; limit: number }): Promise<CustomerPage> {
    await this.refresh();
    const q = params.q.trim().toLowerCase();
    const ids = [...this.archived.entries()]
      .filter(([, archived]) => archived === params.archived)
      .map(([id]) => id)
      .sort();
    const matching: string[] = [];
    for (const id of ids) {
      if (q === '' || id.toLowerCase().includes(q)) {
        matching.push(id);
        continue;
      }
      if (params.archived) continue; // archiving clears name and email
      const c = await this.record(id);
      if (c && ((c.name ?? '').toLowerCase().includes(q) || (c.email ?? '').toLowerCase().includes(q))) matching.push(id);
    }
    const page = matching.slice(params.offset, params.offset + params.limit);
    const data: CustomerRow[] = [];
    for (const id of page) data.push(this.row(id, params.archived, params.archived ? null : await this.record(id)));
    return { data, total: matching.length, offset: params.offset, limit: params.limit };
  }
}
