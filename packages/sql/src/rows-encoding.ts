/** What the row mappings share: the column-list type and the JSON encoding of object columns. */
import { TesseraError } from '@tessera/core';
import type { Database } from './schema.js';

export type Columns<T extends keyof Database> = readonly (keyof Database[T] & string)[];

export const json = (v: unknown): string => JSON.stringify(v);
export const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
/**
 * A JSON column's value. A column that does not parse (or is not text) throws STORE_CORRUPT naming
 * the table, the row's key and the column, so only calls that read that row fail.
 */
export function parse<T>(text: string, table: string, key: string, column: string): T {
  try {
    if (typeof text !== 'string') throw new TypeError('not text');
    return JSON.parse(text) as T;
  } catch {
    throw new TesseraError('STORE_CORRUPT', `stored ${table} row "${key}" has a damaged ${column} column (not JSON); restore the row from a backup`, {
      table,
      key,
      column,
    });
  }
}

/** `parse` of a nullable JSON column. */
export const parseOrNull = <T>(text: string | null, table: string, key: string, column: string): T | null =>
  text === null ? null : parse<T>(text, table, key, column);
