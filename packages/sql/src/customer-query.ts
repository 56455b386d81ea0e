/**
 * `queryCustomers` as SQL: one SELECT per page that the database filters, orders and limits, so a
 * page of the live (or archived) customers is a range scan of a partial index on (created_at,
 * customer_id) rather than a read of every customer. The semantics are those of `runCustomerQuery`
 * in @tessera/core (store/customer-query.ts); the conformance suite compares the two.
 */
import { foldAsciiCase, type CustomerQuery } from '@tessera/core';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { CUSTOMER_COLUMNS } from './rows.js';
import type { Database } from './schema.js';
import type { Prepare } from './statements-builder.js';

type Eb = ExpressionBuilder<Database, 'customers'>;

/**
 * The LIKE pattern "contains `search`": ASCII-folded as the reference folds it, with `!` escaping
 * the pattern's own characters (`%`, `_`, `!`) so they match literally. `!` rather than a backslash:
 * a backslash in a string literal is read differently by PostgreSQL with standard_conforming_strings off.
 */
export function containsPattern(search: string): string {
  return `%${foldAsciiCase(search).replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/**
 * `lower(column) LIKE pattern ESCAPE '!'`. lower() folds A-Z only on SQLite (without ICU) and on
 * PostgreSQL's "C"-collated columns (every text column of its schema): the fold the reference does.
 * A null name or email makes the comparison null, which fails, as in the reference.
 */
function contains(eb: Eb, column: 'customer_id' | 'name' | 'email', pattern: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${eb.ref(column)}) like ${eb.val(pattern)} escape '!'`;
}

/** The SELECT of one page: archived or not, after the cursor, the search, ORDER BY created_at, customer_id, LIMIT. */
export function buildCustomerQuery(k: Kysely<Database>, q: CustomerQuery) {
  const search = q.search === undefined || q.search === '' ? undefined : containsPattern(q.search);
  return k
    .selectFrom('customers')
    .select(CUSTOMER_COLUMNS)
    .where('archived_at', q.archived ? 'is not' : 'is', null)
    .$if(q.after !== undefined, (b) =>
      b.where((eb) => {
        // Strictly after (createdAt, customerId); the first term bounds the index scan's start.
        const { createdAt, customerId } = q.after!;
        return eb.and([eb('created_at', '>=', createdAt), eb.or([eb('created_at', '>', createdAt), eb('customer_id', '>', customerId)])]);
      }),
    )
    .$if(search !== undefined, (b) => b.where((eb) => eb.or([contains(eb, 'customer_id', search!), contains(eb, 'name', search!), contains(eb, 'email', search!)])))
    .orderBy('created_at', 'asc')
    .orderBy('customer_id', 'asc')
    .limit(q.limit);
}

/**
 * Prepares customer pages for one connection: values are bound parameters, so there are at most
 * eight SQL texts (archived or not, with or without a cursor, with or without a search), each
 * prepared once.
 */
export class CustomerQueries<Statement> {
  private readonly prepared = new Map<string, Statement>();

  constructor(
    private readonly k: Kysely<Database>,
    private readonly prepare: Prepare<Statement>,
  ) {}

  /** The statement of one page and its arguments; it returns rows in CUSTOMER_COLUMNS order. */
  statement(q: CustomerQuery): { statement: Statement; args: readonly unknown[] } {
    const compiled = buildCustomerQuery(this.k, q).compile();
    let statement = this.prepared.get(compiled.sql);
    if (statement === undefined) {
      statement = this.prepare(compiled.sql, true);
      this.prepared.set(compiled.sql, statement);
    }
    return { statement, args: compiled.parameters };
  }
}
