import { TesseraError } from '../../errors.js';
import { isWellFormed } from '../../json-value.js';
import type { CustomerRecord } from '../../records.js';
import { customerFields, type CustomerFields } from './customers.js';
import type { EngineContext } from '../runtime/context.js';
import { decodeCursor, MAX_ID_LENGTH, Params } from '../runtime/params.js';

/** Longest `search` of `getCustomers`: the longest name a customer can have. */
export const MAX_CUSTOMER_SEARCH = 500;

/** Parameters of `getCustomers`. */
export interface GetCustomersParams {
  /**
   * Customers whose id, name or email contains this text; A-Z match either case, every other
   * character (`%` and `_` included) only itself. Absent or '': every customer.
   */
  search?: string;
  /** true: the archived customers only; false (default): the others only. */
  archived?: boolean;
  /** Page size, 1 to 1000 (default 50). */
  first?: number;
  /** The `pageInfo.endCursor` of the previous page. */
  after?: string;
}

/** A customer as `getCustomers` lists it: the record, without the subscriptions and promotions `getCustomer` adds. */
export interface CustomerSummary extends CustomerFields {
  /** When it was archived; null for a live customer (archiving clears name and email). */
  archivedAt: Date | null;
}

function toSummary(rec: CustomerRecord): CustomerSummary {
  return { ...customerFields(rec), archivedAt: rec.archivedAt === null ? null : new Date(rec.archivedAt) };
}

/**
 * `getCustomers`: customers ordered by creation (then id), live or archived, optionally those whose
 * id, name or email contains `search`, cursor-paged in the store. The cursor holds the last row's
 * createdAt and id, so paging is stable while customers are added. Throws INVALID_ARGUMENT.
 */
export async function getCustomers(ctx: EngineContext, params: unknown = {}): Promise<{ data: CustomerSummary[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
  const p = new Params(params ?? {}, 'getCustomers', ['search', 'archived', 'first', 'after']);
  const raw = p.optString('search', MAX_CUSTOMER_SEARCH);
  const search: string | undefined = raw === null ? p.fail('search', 'must be a string; omit it to list every customer') : raw;
  if (search !== undefined) {
    // No stored id, name or email holds a control character that a search would need (and
    // PostgreSQL refuses NUL in text): refusing them keeps every store's answer the same.
    for (let i = 0; i < search.length; i++) {
      const c = search.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) p.fail('search', 'must not contain control characters');
    }
    if (!isWellFormed(search)) p.fail('search', 'must not contain a lone surrogate (malformed UTF-16)');
  }
  const archived = p.optBoolean('archived') ?? false;
  const first = p.optNumber('first', { min: 1, integer: true }) ?? 50;
  if (first > 1000) p.fail('first', 'must be at most 1000');
  const afterRaw = p.optId('after');
  let after: { createdAt: number; customerId: string } | undefined;
  if (afterRaw !== undefined) {
    // Every decoded part is type-checked: a crafted cursor reaches the store's query otherwise.
    const decoded = decodeCursor(afterRaw);
    const [createdAt, id] = Array.isArray(decoded) && decoded.length === 2 ? (decoded as unknown[]) : [];
    if (!Number.isSafeInteger(createdAt) || typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new TesseraError('INVALID_ARGUMENT', 'getCustomers.after: not an endCursor of getCustomers; start again without `after`', { field: 'getCustomers.after' });
    }
    after = { createdAt: createdAt as number, customerId: id as string };
  }
  const rows = await ctx.store.transaction('read', (tx) =>
    tx.queryCustomers({ archived, limit: first + 1, ...(search ? { search } : {}), ...(after ? { after } : {}) }),
  );
  const page = rows.slice(0, first);
  const last = page[page.length - 1];
  return {
    data: page.map(toSummary),
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: last ? Buffer.from(JSON.stringify([last.createdAt, last.customerId])).toString('base64url') : null,
    },
  };
}
