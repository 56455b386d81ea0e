/** What the row mappings share: the column-list type and the JSON encoding of object columns. */
import type { Database } from './schema.js';

export type Columns<T extends keyof Database> = readonly (keyof Database[T] & string)[];

export const json = (v: unknown): string => JSON.stringify(v);
export const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
export const parse = <T>(text: string): T => JSON.parse(text) as T;
export const parseOrNull = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
