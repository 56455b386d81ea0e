import { TesseraError } from '../../errors.js';
import type { SubscriptionDateField, SubscriptionFilter, SubscriptionSortField, SubscriptionStringField } from '../../store/store.js';
import type { EngineContext } from '../runtime/context.js';
import { decodeCursor, MAX_ID_LENGTH, Params } from '../runtime/params.js';
import { toSubscription, type Subscription } from './subscription-shape.js';

const STRING_FIELDS: SubscriptionStringField[] = ['customerId', 'productId', 'planId', 'resourceId', 'status', 'billingPeriod'];
const DATE_FIELDS: SubscriptionDateField[] = ['createdAt', 'startDate', 'endDate', 'trialEndDate'];
const SORT_FIELDS: SubscriptionSortField[] = ['createdAt', 'customerId', 'productId', 'resourceId', 'status'];

/** Parameters of `getSubscriptions`. */
export interface GetSubscriptionsParams {
  /** `{ planId: { eq: 'pro' }, createdAt: { gte: date }, or: [...], and: [...] }`. */
  filter?: Record<string, unknown>;
  sort?: { field: SubscriptionSortField; direction?: 'ASC' | 'DESC' };
  first?: number;
  after?: string;
}

function readFilter(value: unknown, path: string): SubscriptionFilter {
  const p = new Params(value, path, [...STRING_FIELDS, ...DATE_FIELDS, 'and', 'or']);
  const parts: SubscriptionFilter[] = [];
  for (const key of Object.keys(p.raw)) {
    if (p.raw[key] === undefined) continue;
    if (key === 'and' || key === 'or') {
      const list = p.optArray(key, (item, itemPath) => readFilter(item, itemPath), 100) ?? [];
      parts.push(key === 'and' ? { and: list } : { or: list });
      continue;
    }
    const isDate = (DATE_FIELDS as string[]).includes(key);
    const ops = new Params(p.raw[key], p.at(key), isDate ? ['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] : ['eq', 'ne', 'in', 'notIn']);
    for (const op of Object.keys(ops.raw)) {
      // An operator given as undefined is absent, as a field given as undefined is.
      if (ops.raw[op] === undefined) continue;
      if (isDate) {
        const ms = ops.optInstant(op)!;
        parts.push({ field: key as SubscriptionDateField, op: op as 'eq', value: ms });
      } else if (op === 'in' || op === 'notIn') {
        const list = ops.optArray(op, (v, vp) => new Params({ v }, vp).id('v'), 1000) ?? [];
        parts.push({ field: key as SubscriptionStringField, op, value: list });
      } else {
        const v = ops.raw[op];
        if (typeof v !== 'string') ops.fail(op, 'must be a string');
        parts.push({ field: key as SubscriptionStringField, op: op as 'eq' | 'ne', value: v as string });
      }
    }
  }
  return parts.length === 1 ? parts[0]! : { and: parts };
}

/**
 * `getSubscriptions`: filtered, sorted, cursor-paged subscriptions, executed in the store. The
 * cursor holds the last row's sort value and id, so paging is stable while rows are inserted.
 * Rows are the lean `Subscription` (no names, prices or invoices): `getSubscription` has the detail.
 */
export async function getSubscriptions(ctx: EngineContext, params: unknown = {}): Promise<{ data: Subscription[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
  const p = new Params(params ?? {}, 'getSubscriptions', ['filter', 'sort', 'first', 'after']);
  const filter = p.raw.filter === undefined ? undefined : readFilter(p.raw.filter, 'getSubscriptions.filter');
  const sortP = p.optObject('sort', ['field', 'direction']);
  const field = sortP?.optEnum('field', SORT_FIELDS) ?? 'createdAt';
  const direction = sortP?.optEnum('direction', ['ASC', 'DESC'] as const) ?? 'ASC';
  const first = p.optNumber('first', { min: 1, integer: true }) ?? 50;
  if (first > 1000) p.fail('first', 'must be at most 1000');
  const afterRaw = p.optId('after');
  let after: { value: string | number; id: string } | undefined;
  if (afterRaw !== undefined) {
    // Every decoded part is type-checked: a crafted cursor reaches the store's query otherwise.
    const decoded = decodeCursor(afterRaw);
    const [f, value, id] = Array.isArray(decoded) && decoded.length === 3 ? (decoded as unknown[]) : [];
    const valueOk = field === 'createdAt' ? Number.isSafeInteger(value) : typeof value === 'string' && value.length <= MAX_ID_LENGTH;
    if (f !== field || typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !valueOk) {
      throw new TesseraError('INVALID_ARGUMENT', 'getSubscriptions.after: not an endCursor of this sort; start again without `after`', { field: 'getSubscriptions.after' });
    }
    after = { value: value as string | number, id: id as string };
  }
  const now = ctx.clock.nowMs();
  const rows = await ctx.store.transaction('read', (tx) =>
    tx.querySubscriptions({ sort: { field, direction }, limit: first + 1, now, ...(filter ? { filter } : {}), ...(after ? { after } : {}) }),
  );
  const page = rows.slice(0, first);
  const data = page.map((s) => toSubscription(s, now));
  const last = page[page.length - 1];
  const lastValue = last ? (field === 'createdAt' ? last.createdAt : field === 'status' ? data[data.length - 1]!.status : last[field]) : null;
  return {
    data,
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: last ? Buffer.from(JSON.stringify([field, lastValue, last.id])).toString('base64url') : null,
    },
  };
}
