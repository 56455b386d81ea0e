// How a kysely query becomes a checked prepared statement, split out of statements.ts so it and statements-batch.ts read as lists of statements.
import { sql, type Compilable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Makes a dialect's handle for one compiled statement. `returnsRows` is true for statements whose
 * rows the caller reads (as arrays in column order), false for writes read for their change count.
 * Parameters are positional, in the order the statement's call site binds them.
 */
export type Prepare<H> = (sql: string, returnsRows: boolean) => H;

// A query is built with a marker value per parameter; after compiling, the markers say which
// positional `?` is which, and `prepare` checks that the order is the one the call sites bind.
const MARK = '\u0000tessera-param:';
export const param = <T = string>(name: string): T => `${MARK}${name}` as unknown as T;

export const byKey = <C extends string>(columns: readonly C[]) => columns.map((c) => [c, param(c)] as const);

export abstract class StatementBuilder<Statement> {
  constructor(
    protected readonly k: Kysely<Database>,
    private readonly prepareCompiled: Prepare<Statement>,
  ) {}

  /** INSERT of `rows` rows (binding `columns` row after row) that replaces a row with the same `key`. */
  protected upsert<T extends keyof Database & string>(table: T, columns: readonly string[], key: readonly string[], rows = 1) {
    // The column lists are checked against the table types in rows.ts; kysely cannot type an
    // object built from them, hence the casts.
    const set = Object.fromEntries(columns.filter((c) => !key.includes(c)).map((c) => [c, sql.ref(`excluded.${c}`)]));
    const row = () => Object.fromEntries(columns.map((c) => [c, param(c)]));
    return this.k
      .insertInto(table)
      .values((rows === 1 ? row() : Array.from({ length: rows }, row)) as never)
      .onConflict((oc) => oc.columns(key as never).doUpdateSet(set as never));
  }

  /**
   * Declares `name` as a statement built, compiled and prepared on its first use. A store opens
   * with every statement declared and prepares only those it runs: building all of them with
   * kysely up front was most of a cold start (bench/README.md#cold-start). The getter stays (no
   * redefinition), so the object keeps one shape.
   */
  protected lazy(name: string, build: () => Statement): void {
    let statement: Statement | undefined;
    Object.defineProperty(this, name, { enumerable: true, get: () => (statement ??= build()) });
  }

  protected reader(query: Compilable, params: readonly string[]): Statement {
    return this.prepare(query, params, true);
  }

  protected writer(query: Compilable, params: readonly string[]): Statement {
    return this.prepare(query, params, false);
  }

  private prepare(query: Compilable, params: readonly string[], returnsRows: boolean): Statement {
    const compiled = query.compile();
    const got = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? p.slice(MARK.length) : `literal ${String(p)}`));
    if (got.join(',') !== params.join(',')) {
      throw new Error(`@tessera/sql: statement binds (${got.join(', ')}), expected (${params.join(', ')}): ${compiled.sql}`);
    }
    return this.prepareCompiled(compiled.sql, returnsRows);
  }
}
