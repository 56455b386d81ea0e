/**
 * The ids a catalog declares, as types: what lets `engine.getEntitlement({ featureId: 'api-cals' })`
 * fail to compile when the catalog was declared in code. docs/catalog.md#typed-ids.
 */
import type { CatalogDefinition } from './types.js';

/**
 * The ids of each kind that an engine's params accept. `string` for every kind (the default) when
 * the catalog's ids are not known at compile time: a catalog loaded from JSON, or a stored one.
 */
export interface CatalogIds {
  feature: string;
  plan: string;
  addon: string;
  product: string;
  coupon: string;
  creditCurrency: string;
}

/** The `id`s of a list's items, as a union of literals (`string` when the list is not a literal). */
type IdsOfList<L> = L extends readonly { readonly id: infer I extends string }[] ? I : never;

/** The ids of the list under `key`; `never` when a literal catalog leaves the list out. */
type IdsAt<D, K extends string> = D extends { readonly [P in K]?: infer L } ? IdsOfList<Exclude<L, undefined>> : never;

/**
 * The ids a catalog declares: literal unions for a catalog written inside `defineCatalog({ ... })`,
 * `string` for a `CatalogDefinition` typed as such (from JSON). Takes a definition or the
 * `Catalog` that `defineCatalog` returns: `createClient<CatalogIdsOf<typeof catalog>>(...)`.
 */
export type CatalogIdsOf<D extends CatalogDefinition | { readonly '~ids'?: CatalogIds }> = '~ids' extends keyof D
  ? Extract<D[keyof D & '~ids'], CatalogIds>
  : DefinitionIds<D>;

/** The ids a catalog definition declares (what `defineCatalog` returns its `Catalog` with). */
export type DefinitionIds<D> = Expanded<{
  feature: IdsAt<D, 'features'>;
  plan: IdsAt<D, 'plans'>;
  addon: IdsAt<D, 'addons'>;
  product: IdsAt<D, 'products'>;
  coupon: IdsAt<D, 'coupons'>;
  creditCurrency: IdsAt<D, 'creditCurrencies'>;
}>;

// Resolved to a plain object so that hovers show `{ feature: "sso" | "seats"; ... }` rather than
// `CatalogIdsOf<{ ...the whole catalog literal... }>`.
type Expanded<T> = T extends infer O ? { [K in keyof O]: O[K] } : never;
