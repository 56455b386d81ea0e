import { defineCatalog, storedCatalog, type Catalog } from '../../catalog/catalog.js';
import type { CatalogDefinition, CouponDefinition, PlanDefinition, ProductDefinition } from '../../catalog/types.js';
import { nextCatalogVersion } from '../../catalog/versions.js';
import { TesseraError } from '../../errors.js';
import type { CatalogVersionRecord } from '../../records.js';
import { write, type EngineContext, type PublishedCatalog } from './context.js';

/** Accepts a validated catalog or a definition (validated here). */
export function toCatalog(input: Catalog | CatalogDefinition): Catalog {
  if (input && typeof input === 'object' && 'plansOfProduct' in input && typeof input.plansOfProduct === 'function') return input;
  return defineCatalog(input as CatalogDefinition);
}

/** Indexes a stored version. Versions were validated when published. */
export function publishedFrom(record: CatalogVersionRecord): PublishedCatalog {
  return { record, catalog: storedCatalog(record.definition) };
}

/**
 * `publishCatalog`: validates and publishes a new version when anything changed; subscriptions
 * keep the version they were sold under. Returns the version now in force.
 */
export async function publishCatalog(ctx: EngineContext, input: Catalog | CatalogDefinition): Promise<{ version: number; changed: boolean }> {
  const catalog = toCatalog(input);
  return write(ctx, async (fx) => {
    const versions = await fx.tx.listCatalogVersions();
    const previous = versions[versions.length - 1];
    const { record, changed } = nextCatalogVersion(previous, catalog.definition, fx.now);
    // Versions another engine published since this one read the store (engines starting side by
    // side on a fresh store: the first publishes, the others find nothing changed) become known
    // here, or this engine would have no catalog at all.
    const unknown = versions.filter((v) => !ctx.catalogs.has(v.version));
    if (unknown.length > 0) fx.after(() => unknown.forEach((v) => ctx.catalogs.has(v.version) || ctx.addCatalog(publishedFrom(v))));
    if (!changed) return { version: previous!.version, changed: false };
    await fx.tx.insertCatalogVersion(record);
    await fx.change('catalog.published', null, String(record.version), { version: record.version });
    fx.after(() => {
      ctx.addCatalog({ record, catalog });
      ctx.views.clear();
    });
    fx.emit('catalogPublished', { version: record.version, at: new Date(fx.now) });
    return { version: record.version, changed: true };
  });
}

/** A product with its plans in order, as `getProducts` returns it. */
export interface Product extends ProductDefinition {
  plans: (PlanDefinition & { version: number })[];
}

/** `getProducts`: the latest catalog's products, each with its plans in upgrade order. */
export function getProducts(ctx: EngineContext): Product[] {
  const { catalog, record } = ctx.latest();
  return [...catalog.products.values()].map((p) => ({
    ...structuredClone(p),
    plans: catalog.plansOfProduct(p.id).map((plan) => ({ ...structuredClone(plan), version: record.planVersions[plan.id] ?? 1 })),
  }));
}

/** `getCoupons`: the latest catalog's coupons. */
export function getCoupons(ctx: EngineContext): CouponDefinition[] {
  return [...ctx.latest().catalog.coupons.values()].map((c) => structuredClone(c));
}

/** Throws when no catalog has ever been published. */
export function requireLatest(catalogs: Map<number, PublishedCatalog>): PublishedCatalog {
  let best: PublishedCatalog | undefined;
  for (const c of catalogs.values()) if (!best || c.record.version > best.record.version) best = c;
  if (!best) {
    throw new TesseraError('INVALID_ARGUMENT', 'catalog: none published yet; pass `catalog` to createEngine or call publishCatalog', {
      field: 'catalog',
    });
  }
  return best;
}
