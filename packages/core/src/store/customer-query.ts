import type { CustomerRecord } from './records.js';
import type { CustomerQuery } from './store.js';

/**
 * Lower-cases the ASCII letters A-Z and leaves every other character as it is: the case folding of
 * customer search, the one that SQLite's lower() and PostgreSQL's lower() on a "C"-collated column
 * both apply, so every store matches the same customers (packages/core/README.md#listing-customers).
 */
export function foldAsciiCase(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Whether a customer's id, name or email contains `search` (folded by foldAsciiCase on both sides). */
export function matchesCustomerSearch(c: CustomerRecord, search: string): boolean {
  const q = foldAsciiCase(search);
  return [c.customerId, c.name, c.email].some((v) => v !== null && foldAsciiCase(v).includes(q));
}

const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The reference semantics of `CustomerQuery` over records in memory: the memory store runs it, SQL
 * adapters must agree with it (the conformance suite compares them). Ids compare by UTF-16 code
 * unit, as SQL's byte order does except between characters above U+FFFF and U+E000..U+FFFF.
 */
export function runCustomerQuery(customers: Iterable<CustomerRecord>, q: CustomerQuery): CustomerRecord[] {
  const { after, search } = q;
  const out: CustomerRecord[] = [];
  for (const c of customers) {
    if ((c.archivedAt !== null) !== q.archived) continue;
    if (after && (c.createdAt < after.createdAt || (c.createdAt === after.createdAt && c.customerId <= after.customerId))) continue;
    if (search !== undefined && search !== '' && !matchesCustomerSearch(c, search)) continue;
    out.push(c);
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || order(a.customerId, b.customerId)).slice(0, q.limit);
}
