import type {
  AddonDefinition,
  CatalogDefinition,
  CouponDefinition,
  CreditCurrencyDefinition,
  EntitlementDefinition,
  FeatureDefinition,
  PlanDefinition,
  ProductDefinition,
  PromotionCodeDefinition,
} from './types.js';
import { TesseraError } from '../errors.js';
import type { CatalogIds, DefinitionIds } from './ids.js';
import { CATALOG_JSON_LIMITS, readJsonValue } from '../json-value.js';
import { catalogProblems } from './validate.js';

/**
 * A validated catalog with lookup indexes. Immutable; build one with `defineCatalog`. `Ids` are
 * the ids it declares when they are known at compile time (docs/catalog.md#typed-ids); an engine
 * created from it accepts only those.
 */
export interface Catalog<Ids extends CatalogIds = CatalogIds> {
  /** Types only (never set): carries `Ids` to `createEngine`. */
  readonly '~ids'?: Ids;
  readonly definition: CatalogDefinition;
  readonly features: ReadonlyMap<string, FeatureDefinition>;
  readonly products: ReadonlyMap<string, ProductDefinition>;
  readonly plans: ReadonlyMap<string, PlanDefinition>;
  readonly addons: ReadonlyMap<string, AddonDefinition>;
  readonly coupons: ReadonlyMap<string, CouponDefinition>;
  readonly promotionCodes: ReadonlyMap<string, PromotionCodeDefinition>;
  readonly creditCurrencies: ReadonlyMap<string, CreditCurrencyDefinition>;
  /** Tax rate per country code, as a decimal string fraction. */
  readonly taxRates: ReadonlyMap<string, string>;
  /** The product's plans in their declared order (upgrade = later in this list). */
  plansOfProduct(productId: string): readonly PlanDefinition[];
  /** Position of a plan within its product (0 = lowest). */
  planRank(planId: string): number;
  /** The plan's entitlements with its parents' inherited, the child's overriding per feature. */
  planEntitlements(planId: string): readonly EntitlementDefinition[];
}

/**
 * Validates a catalog declared in code or parsed from JSON and indexes it.
 * Throws `INVALID_ARGUMENT` listing every problem at once in `details.problems`.
 *
 * A catalog written inside the call keeps its ids as literal types (`const` type parameter), so
 * an engine created from it rejects unknown ids at compile time; a `CatalogDefinition` from JSON
 * gives `string` ids.
 */
export function defineCatalog<const D extends CatalogDefinition>(definition: D): Catalog<DefinitionIds<D>>;
export function defineCatalog(input: CatalogDefinition): Catalog {
  // A JSON value first: the definition is stored as JSON and must read back the same.
  const definition = readJsonValue(input, 'catalog', CATALOG_JSON_LIMITS) as unknown as CatalogDefinition;
  return checkedCatalog(definition, true);
}

/**
 * A catalog version read back from a store: validated as `defineCatalog` does, except that fields
 * unknown to this version of Tessera are let through (they were accepted when it was published).
 * Internal (not exported from the package).
 */
export function storedCatalog(definition: CatalogDefinition): Catalog {
  return checkedCatalog(definition, false);
}

function checkedCatalog(definition: CatalogDefinition, unknownFields: boolean): Catalog {
  const problems = catalogProblems(definition, { unknownFields });
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new TesseraError('INVALID_ARGUMENT', `catalog has ${problems.length} problem(s): ${list}`, {
      field: 'catalog',
      problems,
    });
  }
  const copy = structuredClone(definition);
  // Editor metadata, not content: a catalog.json naming its schema publishes the same version.
  delete copy.$schema;
  return indexCatalog(copy);
}

function byId<T extends { id: string }>(items: readonly T[] | undefined): Map<string, T> {
  return new Map((items ?? []).map((i) => [i.id, i]));
}

function indexCatalog(definition: CatalogDefinition): Catalog {
  const plans = byId(definition.plans);
  const byProduct = new Map<string, PlanDefinition[]>();
  const rank = new Map<string, number>();
  for (const plan of definition.plans) {
    const list = byProduct.get(plan.productId) ?? [];
    rank.set(plan.id, list.length);
    list.push(plan);
    byProduct.set(plan.productId, list);
  }
  const inherited = new Map<string, EntitlementDefinition[]>();
  const resolve = (planId: string): EntitlementDefinition[] => {
    const hit = inherited.get(planId);
    if (hit) return hit;
    const plan = plans.get(planId);
    if (!plan) return [];
    const merged = new Map<string, EntitlementDefinition>();
    // Validation rejects parent cycles, so this recursion ends.
    if (plan.parentPlanId) for (const e of resolve(plan.parentPlanId)) merged.set(e.featureId, e);
    for (const e of plan.entitlements ?? []) merged.set(e.featureId, e);
    const list = [...merged.values()];
    inherited.set(planId, list);
    return list;
  };
  const catalog: Catalog = {
    definition,
    features: byId(definition.features),
    products: byId(definition.products),
    plans,
    addons: byId(definition.addons),
    coupons: byId(definition.coupons),
    promotionCodes: new Map((definition.promotionCodes ?? []).map((p) => [p.code, p])),
    creditCurrencies: byId(definition.creditCurrencies),
    taxRates: new Map((definition.taxRates ?? []).map((t) => [t.countryCode, t.rate])),
    plansOfProduct: (productId) => byProduct.get(productId) ?? [],
    planRank: (planId) => rank.get(planId) ?? -1,
    planEntitlements: resolve,
  };
  return catalog;
}
