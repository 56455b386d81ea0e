import type { Engine } from '@tessera/core';

/** One row of the dashboard's customer list. */
export interface CustomerRow {
  customerId: string;
  name: string | null;
  email: string | null;
  archived: boolean;
  /** Plan ids of the active and trialing subscriptions (empty for archived customers). */
  planIds: string[];
  createdAt: string;
}

/** A page of `GET /ui/api/customers`: `pageInfo.endCursor` is the `after` of the next page. */
export interface CustomerPage {
  data: CustomerRow[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Largest page the list answers. */
export const MAX_CUSTOMER_PAGE = 200;

/**
 * One page of the dashboard's customer list: `getCustomers` (a range of an index in the store,
 * packages/http/README.md#dashboard) and, for the plan column, one `getSubscriptions` over the
 * page's ids. Nothing is kept between requests. Invalid `q` or `after` throw INVALID_ARGUMENT.
 */
export async function customerPage(engine: Engine, params: { q: string; archived: boolean; after?: string; limit: number }): Promise<CustomerPage> {
  const q = params.q.trim();
  const page = await engine.getCustomers({ archived: params.archived, first: params.limit, ...(q ? { search: q } : {}), ...(params.after ? { after: params.after } : {}) });
  const plans = new Map<string, Set<string>>();
  if (!params.archived && page.data.length > 0) {
    const ids = page.data.map((c) => c.customerId);
    let after: string | undefined;
    do {
      const subs = await engine.getSubscriptions({ filter: { customerId: { in: ids }, status: { in: ['ACTIVE', 'IN_TRIAL'] } }, first: 1000, ...(after ? { after } : {}) });
      for (const s of subs.data) {
        let set = plans.get(s.customerId);
        if (!set) plans.set(s.customerId, (set = new Set()));
        set.add(s.planId);
      }
      after = subs.pageInfo.hasNextPage ? (subs.pageInfo.endCursor ?? undefined) : undefined;
    } while (after);
  }
  return {
    data: page.data.map((c) => ({
      customerId: c.customerId,
      name: c.name,
      email: c.email,
      archived: c.archivedAt !== null,
      planIds: [...(plans.get(c.customerId) ?? [])],
      createdAt: c.createdAt.toISOString(),
    })),
    pageInfo: page.pageInfo,
  };
}
