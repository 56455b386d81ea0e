/**
 * What the catalog validators share: the problem list, the id indexes built in the first pass,
 * and the checks on single values. Internal to the catalog; not exported from the package.
 *
 * The validators take `unknown` rather than the declared types because a catalog parsed from
 * JSON can hold anything, and validation must report, never throw.
 */
import { isCurrencyCode } from './currencies.js';
import type { FeatureType } from './types.js';
import { FEATURE_TYPES } from './types.js';

export type Rec = Record<string, unknown>;

/** One declared item found by its id, with where it was declared (`plans[2]`). */
export interface Entry {
  item: Rec;
  path: string;
  index: number;
}

/** One thing wrong: where, and what to fix. */
export interface Problem {
  path: string;
  message: string;
}

/** The problem list and the id indexes (first declaration wins; duplicates are reported). */
export interface Ctx {
  problems: Problem[];
  features: Map<string, Entry>;
  products: Map<string, Entry>;
  plans: Map<string, Entry>;
  addons: Map<string, Entry>;
  coupons: Map<string, Entry>;
  creditCurrencies: Map<string, Entry>;
}

export function newContext(): Ctx {
  return {
    problems: [],
    features: new Map(),
    products: new Map(),
    plans: new Map(),
    addons: new Map(),
    coupons: new Map(),
    creditCurrencies: new Map(),
  };
}

export function report(ctx: Ctx, path: string, message: string): void {
  ctx.problems.push({ path, message });
}

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as a message quotes it: `"pro"`, `12`, `null`, or `nothing`. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return typeof v;
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof v;
  }
}

/** `path.key`, or `path["odd key"]` when the key is not a plain word (keeps paths unambiguous). */
export function keyPath(path: string, key: string): string {
  return /^[A-Za-z0-9_$-]+$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

export function isDecimal(v: unknown): v is string {
  return typeof v === 'string' && DECIMAL.test(v);
}

function isNegative(d: string): boolean {
  return d.startsWith('-') && /[1-9]/.test(d);
}

function isZero(d: string): boolean {
  return !/[1-9]/.test(d);
}

export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

export function isPositiveInteger(v: unknown): v is number {
  return isInteger(v) && v > 0;
}

export function isNonNegativeInteger(v: unknown): v is number {
  return isInteger(v) && v >= 0;
}

export function isFiniteNonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * Checks a money amount: a decimal string such as "12.50", not negative (`positive`: above zero).
 * Returns it when valid. `required` reports a missing one.
 */
export function checkAmount(
  ctx: Ctx,
  v: unknown,
  path: string,
  opts: { required: boolean; positive?: boolean },
): string | undefined {
  if (v === undefined) {
    if (opts.required) report(ctx, path, 'is required: give a decimal string such as "12.50"');
    return undefined;
  }
  if (!isDecimal(v)) {
    report(ctx, path, `must be a decimal string such as "12.50" (got ${show(v)})`);
    return undefined;
  }
  if (isNegative(v)) {
    report(ctx, path, `must not be negative (got ${show(v)})`);
    return undefined;
  }
  if (opts.positive && isZero(v)) {
    report(ctx, path, `must be greater than zero (got ${show(v)})`);
    return undefined;
  }
  return v;
}

/** Checks a currency: a supported 3-letter uppercase ISO-4217 code. Returns it when valid. */
export function checkCurrency(ctx: Ctx, v: unknown, path: string, required = true): string | undefined {
  if (v === undefined) {
    if (required) report(ctx, path, 'is required: give a 3-letter ISO-4217 currency code such as "USD"');
    return undefined;
  }
  if (typeof v === 'string' && v !== v.toUpperCase() && isCurrencyCode(v.toUpperCase())) {
    report(ctx, path, `must be uppercase: write "${v.toUpperCase()}" (got ${show(v)})`);
    return undefined;
  }
  if (typeof v !== 'string' || !/^[A-Z]{3}$/.test(v)) {
    report(ctx, path, `must be a 3-letter uppercase ISO-4217 currency code such as "USD" (got ${show(v)})`);
    return undefined;
  }
  if (!isCurrencyCode(v)) {
    report(ctx, path, `"${v}" is not a supported ISO-4217 currency code`);
    return undefined;
  }
  return v;
}

/**
 * Checks that `obj[key]` is one of `allowed` (or absent when not `required`). Returns it when valid.
 */
export function checkOneOf<T extends string>(
  ctx: Ctx,
  obj: Rec,
  key: string,
  path: string,
  allowed: readonly T[],
  required: boolean,
): T | undefined {
  const v = obj[key];
  const at = `${path}.${key}`;
  if (v === undefined) {
    if (required) report(ctx, at, `is required: one of ${allowed.join(', ')}`);
    return undefined;
  }
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    report(ctx, at, `must be one of ${allowed.join(', ')} (got ${show(v)})`);
    return undefined;
  }
  return v as T;
}

/** Checks optional plain fields: strings, booleans and `metadata` (an object of strings). */
export function checkPlainFields(
  ctx: Ctx,
  obj: Rec,
  path: string,
  fields: { strings?: readonly string[]; booleans?: readonly string[]; metadata?: boolean },
): void {
  for (const key of fields.strings ?? []) {
    const v = obj[key];
    if (v !== undefined && typeof v !== 'string') report(ctx, `${path}.${key}`, `must be a string (got ${show(v)})`);
  }
  for (const key of fields.booleans ?? []) {
    const v = obj[key];
    if (v !== undefined && typeof v !== 'boolean') report(ctx, `${path}.${key}`, `must be true or false (got ${show(v)})`);
  }
  if (fields.metadata && obj.metadata !== undefined) {
    const m = obj.metadata;
    if (!isRecord(m)) report(ctx, `${path}.metadata`, 'must be an object of string values');
    else
      for (const [k, v] of Object.entries(m))
        if (typeof v !== 'string') report(ctx, keyPath(`${path}.metadata`, k), `must be a string (got ${show(v)})`);
  }
}

/**
 * `obj[key]` as a list: reports a missing required list or a value that is not an array, and
 * returns `[]` then so callers can go on.
 */
export function listField(ctx: Ctx, obj: Rec, key: string, path: string, required: boolean): unknown[] {
  const v = obj[key];
  const at = path === '' ? key : `${path}.${key}`;
  if (v === undefined) {
    if (required) report(ctx, at, 'is required: give an array (it may be empty)');
    return [];
  }
  if (!Array.isArray(v)) {
    report(ctx, at, `must be an array (got ${show(v)})`);
    return [];
  }
  return v;
}

/**
 * Checks a reference `obj[key]` to an id in `index` (`what` names the kind in messages).
 * Returns the referenced entry when it resolves.
 */
export function checkRef(
  ctx: Ctx,
  obj: Rec,
  key: string,
  path: string,
  index: ReadonlyMap<string, Entry>,
  what: string,
  required: boolean,
): Entry | undefined {
  return checkRefValue(ctx, obj[key], `${path}.${key}`, index, what, required);
}

/** Like `checkRef`, for a value already taken out (an element of an id list). */
export function checkRefValue(
  ctx: Ctx,
  v: unknown,
  at: string,
  index: ReadonlyMap<string, Entry>,
  what: string,
  required: boolean,
): Entry | undefined {
  if (v === undefined) {
    if (required) report(ctx, at, `is required: give the id of a ${what}`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') {
    report(ctx, at, `must be the id of a ${what} (got ${show(v)})`);
    return undefined;
  }
  const entry = index.get(v);
  if (!entry) report(ctx, at, `unknown ${what} "${v}": declare it or fix the id`);
  return entry;
}

/**
 * Checks a list of ids (`compatibleAddonIds`, `dependencies`): an array, each a known id, none
 * twice. Returns the entries that resolve, with the path of each element.
 */
export function checkRefList(
  ctx: Ctx,
  obj: Rec,
  key: string,
  path: string,
  index: ReadonlyMap<string, Entry>,
  what: string,
): { entry: Entry; path: string }[] {
  const out: { entry: Entry; path: string }[] = [];
  const seen = new Set<string>();
  listField(ctx, obj, key, path, false).forEach((v, i) => {
    const at = `${path}.${key}[${i}]`;
    if (typeof v === 'string' && seen.has(v)) {
      report(ctx, at, `"${v}" is listed twice: remove the repetition`);
      return;
    }
    if (typeof v === 'string') seen.add(v);
    const entry = checkRefValue(ctx, v, at, index, what, true);
    if (entry) out.push({ entry, path: at });
  });
  return out;
}

/** The feature's type when the feature declares a valid one. */
export function featureTypeOf(feature: Entry | undefined): FeatureType | undefined {
  const t = feature?.item.type;
  return typeof t === 'string' && (FEATURE_TYPES as readonly string[]).includes(t) ? (t as FeatureType) : undefined;
}

/**
 * The cycles of a directed graph: its strongly connected components with more than one node,
 * or one node pointing to itself (Tarjan). Each cycle once, members in `nodes` order.
 */
export function findCycles(nodes: readonly string[], next: (node: string) => readonly string[]): string[][] {
  const order = new Map(nodes.map((n, i) => [n, i]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  // Recursion depth is bounded by the number of plans or add-ons, which stays small.
  const visit = (n: string): void => {
    index.set(n, counter);
    low.set(n, counter);
    counter++;
    stack.push(n);
    onStack.add(n);
    for (const m of next(n)) {
      if (!order.has(m)) continue;
      if (!index.has(m)) {
        visit(m);
        low.set(n, Math.min(low.get(n) ?? 0, low.get(m) ?? 0));
      } else if (onStack.has(m)) {
        low.set(n, Math.min(low.get(n) ?? 0, index.get(m) ?? 0));
      }
    }
    if (low.get(n) !== index.get(n)) return;
    const component: string[] = [];
    for (;;) {
      const m = stack.pop();
      if (m === undefined) break;
      onStack.delete(m);
      component.push(m);
      if (m === n) break;
    }
    if (component.length > 1 || next(n).includes(n)) {
      cycles.push(component.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)));
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return cycles.sort((a, b) => (order.get(a[0] ?? '') ?? 0) - (order.get(b[0] ?? '') ?? 0));
}
