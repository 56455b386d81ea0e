// The multi-row statements and their per-size caches, split out of statements.ts so the chunked batch SQL is changed in one place.
import { CUSTOMER_COLUMNS, EVENT_COLUMNS, IDEMPOTENCY_COLUMNS, NEW_CHANGE_COLUMNS, USAGE_COLUMNS, USAGE_KEY_COLUMNS } from './rows.js';
import { sql } from 'kysely';
import { param, StatementBuilder } from './statements-builder.js';

/** Most events one INSERT carries: 9 parameters each, well below either database's limit. */
export const EVENT_CHUNK = 100;

/**
 * Most rows one batch statement (getCustomers, getUsages, getIdempotencies, putUsages, appendChanges) carries: at
 * most 14 parameters each, well below either database's limit.
 */
export const BATCH_CHUNK = 100;

export abstract class BatchStatements<Statement> extends StatementBuilder<Statement> {
  private readonly insertEventsBySize = new Map<number, Statement>();
  private readonly getCustomersBySize = new Map<number, Statement>();
  private readonly getUsagesBySize = new Map<number, Statement>();
  private readonly getIdempotenciesBySize = new Map<number, Statement>();
  private readonly putUsagesBySize = new Map<number, Statement>();
  private readonly appendChangesBySize = new Map<number, Statement>();
  /** appendChange and every appendChanges statement built so far. */
  protected readonly changeAppenders = new Set<Statement>();

  /** Notes `statement` as one that appends to the change feed (`appendsChanges`), and returns it. */
  protected appender(statement: Statement): Statement {
    this.changeAppenders.add(statement);
    return statement;
  }

  /**
   * One INSERT of `rows` events (1 to EVENT_CHUNK), skipping keys already stored, returning the
   * keys it stored: one statement (one round trip on PostgreSQL) per chunk instead of one per
   * event. Binds EVENT_COLUMNS row after row. Prepared on first use per size.
   */
  insertEvents(rows: number): Statement {
    let stmt = this.insertEventsBySize.get(rows);
    if (stmt) return stmt;
    const names: string[] = [];
    const values = Array.from({ length: rows }, () => Object.fromEntries(EVENT_COLUMNS.map((c) => (names.push(c), [c, param(c)]))));
    stmt = this.reader(
      this.k
        .insertInto('events')
        .values(values as never)
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returning('idempotency_key'),
      names,
    );
    this.insertEventsBySize.set(rows, stmt);
    return stmt;
  }

  /**
   * One SELECT of the customers whose id is among `rows` ids (1 to BATCH_CHUNK), in no particular
   * order; binds customer_id per id. Prepared on first use per size.
   */
  getCustomers(rows: number): Statement {
    return bySize(this.getCustomersBySize, rows, () =>
      this.reader(
        this.k
          .selectFrom('customers')
          .select(CUSTOMER_COLUMNS)
          .where('customer_id', 'in', Array.from({ length: rows }, () => param('customer_id'))),
        repeat(['customer_id'], rows),
      ),
    );
  }

  /**
   * One SELECT of the usage cells whose key is among `rows` keys (1 to BATCH_CHUNK), in no
   * particular order; binds USAGE_KEY_COLUMNS key after key. A row-value IN list: PostgreSQL only
   * (SQLite takes a subquery on the right of a row-value IN), which is the one dialect that uses it.
   * Prepared on first use per size.
   */
  getUsages(rows: number): Statement {
    return bySize(this.getUsagesBySize, rows, () =>
      this.reader(
        this.k
          .selectFrom('usage')
          .select(USAGE_COLUMNS)
          // Written out: kysely's refTuple and tuple stop at five columns, and the key has six.
          .where(
            sql<boolean>`(${sql.join(USAGE_KEY_COLUMNS.map((c) => sql.ref(c)))}) in (${sql.join(
              Array.from({ length: rows }, () => sql`(${sql.join(USAGE_KEY_COLUMNS.map((c) => param(c)))})`),
            )})`,
          ),
        repeat(USAGE_KEY_COLUMNS, rows),
      ),
    );
  }

  /**
   * One SELECT of the idempotency records whose (scope, key) is among `rows` pairs (1 to
   * BATCH_CHUNK), in no particular order; binds scope and key pair after pair. A row-value IN
   * list, PostgreSQL only, as getUsages. Prepared on first use per size.
   */
  getIdempotencies(rows: number): Statement {
    return bySize(this.getIdempotenciesBySize, rows, () =>
      this.reader(
        this.k
          .selectFrom('idempotency')
          .select(IDEMPOTENCY_COLUMNS)
          .where((eb) => eb(eb.refTuple('scope', 'key'), 'in', Array.from({ length: rows }, () => eb.tuple(param('scope'), param('key'))))),
        repeat(['scope', 'key'], rows),
      ),
    );
  }

  /**
   * One upsert of `rows` usage cells (1 to BATCH_CHUNK) with distinct keys, as `putUsage` row
   * after row; binds USAGE_COLUMNS per row. Prepared on first use per size.
   */
  putUsages(rows: number): Statement {
    return bySize(this.putUsagesBySize, rows, () => this.writer(this.upsert('usage', USAGE_COLUMNS, USAGE_KEY_COLUMNS, rows), repeat(USAGE_COLUMNS, rows)));
  }

  /**
   * One INSERT of `rows` changes (1 to BATCH_CHUNK) returning their seqs (in no guaranteed row
   * order); binds NEW_CHANGE_COLUMNS per row. Prepared on first use per size.
   */
  appendChanges(rows: number): Statement {
    return bySize(this.appendChangesBySize, rows, () => {
      const stmt = this.reader(
        this.k
          .insertInto('changes')
          .values(Array.from({ length: rows }, () => Object.fromEntries(NEW_CHANGE_COLUMNS.map((c) => [c, param(c)]))) as never)
          .returning('seq'),
        repeat(NEW_CHANGE_COLUMNS, rows),
      );
      this.changeAppenders.add(stmt);
      return stmt;
    });
  }

  /**
   * True for a statement that appends to the change log (`appendChange`, or `appendChanges` of
   * any size): what a dialect that signals new changes at commit (PostgreSQL's NOTIFY) looks for.
   */
  appendsChanges(statement: Statement): boolean {
    return this.changeAppenders.has(statement);
  }
}

/** The statement cached in `cache` for `rows` rows, built on first use. */
function bySize<S>(cache: Map<number, S>, rows: number, build: () => S): S {
  let stmt = cache.get(rows);
  if (stmt === undefined) cache.set(rows, (stmt = build()));
  return stmt;
}

/** `names` repeated `rows` times: the parameters of a statement that binds one row after another. */
function repeat(names: readonly string[], rows: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows; i++) out.push(...names);
  return out;
}
