/**
 * `querySubscriptions` as SQL: a `SubscriptionQuery` (filter tree, sort, cursor, limit) compiled
 * with kysely into one SELECT that the database filters, sorts and limits, so a page costs an index
 * range scan rather than loading every subscription. The semantics are those of
 * `runSubscriptionQuery` in @tessera/core (store/subscription-query.ts); the conformance suite
 * compares the two on the same records.
 */
import type { SubscriptionFilter, SubscriptionQuery, SubscriptionStatus } from '@tessera/core';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { SUBSCRIPTION_COLUMNS } from './rows.js';
import type { Database } from './schema.js';
import type { Prepare } from './statements.js';

type Eb = ExpressionBuilder<Database, 'subscriptions'>;
type Operand = Expression<string | number | null>;

/** The column behind each filterable and sortable field other than `status`. */
const COLUMNS = {
  customerId: 'customer_id',
  productId: 'product_id',
  planId: 'plan_id',
  resourceId: 'resource_id',
  billingPeriod: 'billing_period',
  createdAt: 'created_at',
  startDate: 'start_date',
  endDate: 'end_date',
  trialEndDate: 'trial_end_date',
} as const;

const status = (s: SubscriptionStatus) => sql.lit(s);

/**
 * The effective status at `now`, as rules/lifecycle.ts `statusAt` derives it, case for case:
 * stored PAYMENT_PENDING wins; an end date reached (or not after the start: cancelled before it
 * started) is CANCELED or EXPIRED by whether there is a cancellation date; then NOT_STARTED before
 * the start, IN_TRIAL before the trial end, ACTIVE otherwise. `now` is a bound parameter.
 */
export function effectiveStatus(eb: Eb, now: number): Expression<string> {
  const at = eb.val(now);
  return eb
    .case()
    .when('status', '=', status('PAYMENT_PENDING'))
    .then(status('PAYMENT_PENDING'))
    .when(eb.and([eb('end_date', 'is not', null), eb.or([eb(at, '>=', eb.ref('end_date')), eb('end_date', '<=', eb.ref('start_date'))])]))
    .then(eb.case().when('cancellation_date', 'is not', null).then(status('CANCELED')).else(status('EXPIRED')).end())
    .when(eb(at, '<', eb.ref('start_date')))
    .then(status('NOT_STARTED'))
    .when(eb.and([eb('trial_end_date', 'is not', null), eb(at, '<', eb.ref('trial_end_date'))]))
    .then(status('IN_TRIAL'))
    .else(status('ACTIVE'))
    .end() as Expression<string>;
}

/** The SQL value of a field: a column, or the derived status. */
function operand(eb: Eb, field: string, now: number): Operand {
  if (field === 'status') return effectiveStatus(eb, now);
  const column = COLUMNS[field as keyof typeof COLUMNS];
  // The engine validates fields; a store that got an unknown one says so rather than match nothing.
  if (column === undefined) throw new Error(`@tessera/sql: querySubscriptions cannot filter or sort on '${field}'`);
  return eb.ref(column);
}

const COMPARISONS = { eq: '=', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/**
 * A filter as a WHERE expression. SQL NULL already fails =, <, IN...; the cases where the
 * reference lets a null through are written out: `ne` with a string value (a null billing period
 * is "not MONTHLY") and `notIn`. No NOT is ever applied to a comparison, so a NULL result can
 * only ever count as false, as in the reference.
 */
export function filterExpression(eb: Eb, f: SubscriptionFilter, now: number): Expression<SqlBool> {
  if ('and' in f) return eb.and(f.and.map((x) => filterExpression(eb, x, now)));
  if ('or' in f) return eb.or(f.or.map((x) => filterExpression(eb, x, now)));
  const x = operand(eb, f.field, now);
  switch (f.op) {
    case 'in':
      return f.value.length === 0 ? sql.lit(false) : eb(x, 'in', f.value.map((v) => eb.val(v)));
    case 'notIn':
      return f.value.length === 0 ? sql.lit(true) : eb.or([eb(x, 'is', null), eb(x, 'not in', f.value.map((v) => eb.val(v)))]);
    case 'ne':
      // As the reference: a null passes `ne` against a string (billing period) and fails it against an instant.
      return typeof f.value === 'string' ? eb.or([eb(x, 'is', null), eb(x, '<>', eb.val(f.value))]) : eb(x, '<>', eb.val(f.value));
    default:
      return eb(x, COMPARISONS[f.op], eb.val(f.value));
  }
}

/** The SELECT for a query: filter, cursor, ORDER BY the sort field then id ascending, LIMIT. */
export function buildSubscriptionQuery(k: Kysely<Database>, q: SubscriptionQuery) {
  const desc = q.sort.direction === 'DESC';
  return k
    .selectFrom('subscriptions')
    .select(SUBSCRIPTION_COLUMNS)
    .$if(q.filter !== undefined, (b) => b.where((eb) => filterExpression(eb, q.filter!, q.now)))
    .$if(q.after !== undefined, (b) =>
      b.where((eb) => {
        // Strictly after (value, id) in the order of the sort: a value further along, or the same
        // value and a greater id (ids break ties ascending in both directions). The first term is a
        // plain bound on the sort column, so a scan of its (column, id) index starts at the cursor.
        const x = operand(eb, q.sort.field, q.now);
        const { value, id } = q.after!;
        return eb.and([
          eb(x, desc ? '<=' : '>=', eb.val(value)),
          eb.or([eb(x, desc ? '<' : '>', eb.val(value)), eb('id', '>', eb.val(id))]),
        ]);
      }),
    )
    .orderBy((eb) => operand(eb, q.sort.field, q.now), desc ? 'desc' : 'asc')
    .orderBy('id', 'asc')
    .limit(q.limit);
}

/** How many distinct query shapes (SQL texts) keep a prepared statement; beyond it the oldest goes. */
const CACHED_SHAPES = 64;

/**
 * Prepares subscription queries for one connection. Values are bound parameters, so the SQL text
 * depends only on the query's shape (fields, operators, list lengths, sort): each shape is
 * prepared once and reused, as the hot statements in statements.ts are.
 */
export class SubscriptionQueries<Statement> {
  private readonly prepared = new Map<string, Statement>();

  constructor(
    private readonly k: Kysely<Database>,
    private readonly prepare: Prepare<Statement>,
  ) {}

  /** The statement of one page and its arguments; it returns rows in SUBSCRIPTION_COLUMNS order. */
  statement(q: SubscriptionQuery): { statement: Statement; args: readonly unknown[] } {
    const compiled = buildSubscriptionQuery(this.k, q).compile();
    let statement = this.prepared.get(compiled.sql);
    if (statement === undefined) {
      statement = this.prepare(compiled.sql, true);
      if (this.prepared.size >= CACHED_SHAPES) this.prepared.delete(this.prepared.keys().next().value!);
      this.prepared.set(compiled.sql, statement);
    }
    return { statement, args: compiled.parameters };
  }
}
