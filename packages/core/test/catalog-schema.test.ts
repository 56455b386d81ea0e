import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createEngine, defineCatalog, isTesseraError, memoryStore, validateCatalog, type CatalogDefinition } from '@tessera/core';
import { demoCatalog } from '../examples/demo-catalog.js';
import { pricingCatalog } from '../../../test/engine/pricing-catalog.js';
import { creditsCatalog } from '../../../test/engine/credits-catalog.js';
import { catalogSchema } from '../src/catalog/schema.js';
import { CATALOG_SCHEMA_FILE, catalogJsonSchemaText } from '../scripts/catalog-schema.js';

const catalogs: [string, CatalogDefinition][] = [
  ['demo', demoCatalog],
  ['pricing', pricingCatalog],
  ['credits', creditsCatalog],
];
const copy = (c: CatalogDefinition): CatalogDefinition => structuredClone(c);
const withCredits = () => copy(creditsCatalog) as CatalogDefinition & { creditCurrencies: Record<string, unknown>[] };

describe('unknown catalog fields', () => {
  it('are an error with their path (a misspelt pricePerCredit is no longer ignored)', () => {
    const c = withCredits();
    c.creditCurrencies[0]!.pricePerCredit = '0.01';
    const problems = validateCatalog(c);
    expect(problems.map((p) => p.path)).toEqual(['creditCurrencies[0].pricePerCredit']);
    expect(problems[0]?.message).toContain('unknown field "pricePerCredit"');
    expect(problems[0]?.message).toContain('displayName, unitPrice');
    let caught: unknown;
    try {
      defineCatalog(c);
    } catch (e) {
      caught = e;
    }
    expect(isTesseraError(caught, 'INVALID_ARGUMENT')).toBe(true);
    if (isTesseraError(caught)) expect(caught.details.problems?.[0]?.path).toBe('creditCurrencies[0].pricePerCredit');
  });

  it('are all reported, at any depth, with a suggestion for a near miss', () => {
    const c = copy(pricingCatalog) as unknown as Record<string, any>;
    c.version = 2;
    c.features[0].descripton = 'x';
    c.plans[1].entitlements = [{ featureId: c.features[0].id, usageLimt: 5 }];
    const price = c.plans.find((p: any) => (p.prices ?? []).some((x: any) => x.countryOverrides)).prices.find((x: any) => x.countryOverrides);
    const country = Object.keys(price.countryOverrides)[0]!;
    price.countryOverrides[country].ammount = '1';
    const problems = validateCatalog(c as CatalogDefinition);
    const unknown = problems.filter((p) => p.message.startsWith('unknown field'));
    expect(unknown.map((p) => p.path).sort()).toEqual(
      [
        'version',
        'features[0].descripton',
        `plans[1].entitlements[0].usageLimt`,
        `${pathOf(c, price)}.countryOverrides.${country}.ammount`,
      ].sort(),
    );
    expect(unknown.find((p) => p.path.endsWith('usageLimt'))?.message).toContain('did you mean "usageLimit"?');
    expect(unknown.find((p) => p.path.endsWith('ammount'))?.message).toContain('did you mean "amount"?');
  });

  it('accepts "$schema" at the top (a catalog.json naming its schema) and any metadata keys', () => {
    const c = copy(demoCatalog);
    c.$schema = './node_modules/@tessera/core/catalog.schema.json';
    c.features[0]!.metadata = { 'any key': 'x', another: 'y' };
    expect(validateCatalog(c)).toEqual([]);
  });

  it('still load from a version stored before they were refused; a new catalog naming its $schema publishes no new version', async () => {
    const store = memoryStore();
    await store.open();
    const old = withCredits();
    old.creditCurrencies[0]!.pricePerCredit = '0.01';
    await store.transaction('write', (tx) => tx.insertCatalogVersion({ version: 1, publishedAt: 0, definition: old, planVersions: {}, addonVersions: {} }));
    const engine = await createEngine({ store });
    expect(engine.catalogVersion).toBe(1);
    // Publishing it again is refused now, with the path.
    await expect(engine.publishCatalog(old)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { problems: [{ path: 'creditCurrencies[0].pricePerCredit' }] } });
    const fixed = copy(creditsCatalog);
    expect(await engine.publishCatalog(fixed)).toEqual({ version: 2, changed: true });
    expect(await engine.publishCatalog({ ...copy(creditsCatalog), $schema: './catalog.schema.json' })).toEqual({ version: 2, changed: false });
    await engine.close();
  });

  it('reports a wrong value once where a hand-written rule and the schema both see it', () => {
    const c = copy(demoCatalog) as unknown as Record<string, any>;
    c.features[0].metadata = { tier: 3 };
    const problems = validateCatalog(c as CatalogDefinition);
    expect(problems.map((p) => p.path)).toEqual(['features[0].metadata.tier']);
    expect(problems[0]?.message).toBe('must be a string (got 3)');
  });

  it('reports a shape problem that no hand-written rule names', () => {
    // Without a valid type the coupon rules say nothing about `value`; the schema still requires it.
    const c = copy(pricingCatalog) as unknown as Record<string, any>;
    c.coupons[0] = { id: c.coupons[0].id };
    expect(validateCatalog(c as CatalogDefinition)).toEqual([
      { path: 'coupons[0].type', message: expect.stringContaining('is required') },
      { path: 'coupons[0].value', message: 'is required' },
    ]);
  });
});

describe('the catalog JSON Schema', () => {
  it('is up to date with the schemas validateCatalog uses (regenerate: npm run catalog-schema)', () => {
    expect(readFileSync(CATALOG_SCHEMA_FILE, 'utf8')).toBe(catalogJsonSchemaText());
  });

  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(CATALOG_SCHEMA_FILE, 'utf8')) as object);

  it.each(catalogs)('accepts the %s catalog, as validateCatalog does', (_, catalog) => {
    expect(validateCatalog(catalog)).toEqual([]);
    expect(validate(JSON.parse(JSON.stringify(catalog))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects what editors should flag: an unknown field, a wrong type, a value not allowed', () => {
    const unknownField = withCredits();
    unknownField.creditCurrencies[0]!.pricePerCredit = '0.01';
    expect(validate(unknownField)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'additionalProperties', params: { additionalProperty: 'pricePerCredit' } });

    const badType = copy(demoCatalog) as unknown as Record<string, any>;
    badType.features[0].type = 'BOOL';
    expect(validate(badType)).toBe(false);
    expect(validateCatalog(badType as CatalogDefinition).map((p) => p.path)).toEqual(['features[0].type']);

    const badAmount = copy(pricingCatalog) as unknown as Record<string, any>;
    const price = badAmount.plans.flatMap((p: any) => p.prices ?? []).find((p: any) => p.amount !== undefined);
    price.amount = 12.5;
    expect(validate(badAmount)).toBe(false);
  });
});

describe('the declared types and the schemas', () => {
  it('describe the same catalog (a field added to one and not the other fails to compile)', () => {
    expectTypeOf<v.InferInput<typeof catalogSchema>>().toEqualTypeOf<CatalogDefinition>();
  });
});

/** The dotted path of `target` inside `root`, found by identity. */
function pathOf(root: unknown, target: unknown, path = ''): string {
  if (root === target) return path;
  if (Array.isArray(root)) {
    for (let i = 0; i < root.length; i++) {
      const p = pathOf(root[i], target, `${path}[${i}]`);
      if (p) return p;
    }
  } else if (typeof root === 'object' && root !== null) {
    for (const [k, val] of Object.entries(root)) {
      const p = pathOf(val, target, path === '' ? k : `${path}.${k}`);
      if (p) return p;
    }
  }
  return '';
}
