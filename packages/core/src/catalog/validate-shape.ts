/**
 * The shape checks of a catalog, from the valibot schemas of schema.ts: JSON types, allowed
 * values, and fields the schema does not know (a misspelt `pricePerCredit` would otherwise be
 * ignored and fail later). Internal to the catalog; validate.ts merges these problems with the
 * hand-written rules' (docs/catalog.md#json-schema).
 */
import * as v from 'valibot';
import { catalogSchema } from './schema.js';
import type { Problem } from './validate-context.js';
import { isRecord, keyPath, show } from './validate-context.js';

/** A shape problem, and whether it is an unknown field (which no hand-written rule reports). */
export interface ShapeProblem extends Problem {
  unknownField: boolean;
}

/** Every shape problem of `raw` against the catalog schema. Never throws. */
export function shapeProblems(raw: unknown): ShapeProblem[] {
  const out: ShapeProblem[] = [];
  unknownFields(catalogSchema, raw, '', out);
  const result = v.safeParse(catalogSchema, raw, { abortEarly: false, abortPipeEarly: true });
  for (const issue of result.issues ?? []) {
    // Unknown keys are reported above, all of them (valibot stops at the first of an object).
    if (issue.expected === 'never') continue;
    out.push({ path: issuePath(issue), message: issueMessage(issue), unknownField: false });
  }
  return out;
}

type AnySchema = v.GenericSchema & {
  wrapped?: AnySchema;
  entries?: Record<string, AnySchema>;
  item?: AnySchema;
  value?: AnySchema;
};

/** Walks `input` along `schema` and reports every key a strict object does not declare. */
function unknownFields(schema: AnySchema, input: unknown, path: string, out: ShapeProblem[]): void {
  switch (schema.type) {
    case 'optional':
    case 'nullable':
      if (input !== undefined && input !== null && schema.wrapped) unknownFields(schema.wrapped, input, path, out);
      return;
    case 'strict_object': {
      if (!isRecord(input) || !schema.entries) return;
      const entries = schema.entries;
      for (const key of Object.keys(input)) {
        const at = path === '' ? keyPath('catalog', key).slice('catalog.'.length) : keyPath(path, key);
        const entry = Object.hasOwn(entries, key) ? entries[key] : undefined;
        if (entry) unknownFields(entry, input[key], at, out);
        else out.push({ path: at, message: unknownFieldMessage(key, Object.keys(entries)), unknownField: true });
      }
      return;
    }
    case 'array':
      if (Array.isArray(input) && schema.item) {
        const item = schema.item;
        input.forEach((x, i) => unknownFields(item, x, `${path}[${i}]`, out));
      }
      return;
    case 'record':
      if (isRecord(input) && schema.value) for (const key of Object.keys(input)) unknownFields(schema.value, input[key], keyPath(path, key), out);
      return;
    default:
      return;
  }
}

function unknownFieldMessage(key: string, known: readonly string[]): string {
  const near = closest(key, known);
  const hint = near ? `did you mean "${near}"? ` : '';
  return `unknown field ${show(key)}: ${hint}remove it or fix its name (the fields here: ${known.join(', ')})`;
}

/** The known name nearest to a misspelt one (case-insensitive edit distance at most 2), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Levenshtein distance; keys are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] ?? 3;
}

function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '';
  for (const step of issue.path ?? []) {
    const key = (step as { key?: unknown }).key;
    if (typeof key === 'number') path += `[${key}]`;
    else if (typeof key === 'string') path = path === '' ? key : keyPath(path, key);
  }
  return path === '' ? 'catalog' : path;
}

function issueMessage(issue: v.BaseIssue<unknown>): string {
  const got = `(got ${show(issue.input)})`;
  switch (issue.type) {
    case 'integer':
      return `must be an integer ${got}`;
    case 'min_value':
      return `must be at least ${String(issue.requirement)} ${got}`;
    case 'min_length':
      return `must not be empty ${got}`;
    case 'regex':
      return `must match ${String(issue.requirement)} ${got}`;
    default:
      // A missing key: valibot's `expected` is then the key's name, which the path already says.
      if (issue.input === undefined) return 'is required';
      return `must be ${issue.expected ?? 'something else'} ${got}`;
  }
}
