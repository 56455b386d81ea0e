/**
 * Generates packages/core/catalog.schema.json, the JSON Schema of a catalog file, from the valibot
 * schemas that validateCatalog checks shapes with (src/catalog/schema.ts). Run after changing
 * them: `npm run catalog-schema`. test/catalog-schema.test.ts fails while the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import {
  addonSchema,
  catalogSchema,
  couponSchema,
  creditCurrencySchema,
  entitlementSchema,
  featureSchema,
  planSchema,
  priceSchema,
  productSchema,
  promotionCodeSchema,
  taxRateSchema,
} from '../src/catalog/schema.js';

/** Where the generated schema lives (the package exports it as `@tessera/core/catalog.schema.json`). */
export const CATALOG_SCHEMA_FILE = fileURLToPath(new URL('../catalog.schema.json', import.meta.url));

/** The catalog's JSON Schema (draft-07, which editors support best), as the file holds it. */
export function catalogJsonSchemaText(): string {
  const schema = toJsonSchema(catalogSchema, {
    target: 'draft-07',
    // Named definitions keep the file readable and each shape written once.
    definitions: {
      feature: featureSchema,
      entitlement: entitlementSchema,
      price: priceSchema,
      product: productSchema,
      plan: planSchema,
      addon: addonSchema,
      coupon: couponSchema,
      promotionCode: promotionCodeSchema,
      taxRate: taxRateSchema,
      creditCurrency: creditCurrencySchema,
    },
  });
  const { $schema, ...rest } = schema;
  const withId = {
    $schema,
    title: 'Tessera catalog',
    description: 'Features, products, plans, add-ons, coupons, promotion codes, tax rates and credit currencies, as defineCatalog takes them. Cross-references (ids that must exist) are checked by validateCatalog, not by this schema.',
    ...rest,
  };
  return `${JSON.stringify(withId, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CATALOG_SCHEMA_FILE, catalogJsonSchemaText());
  console.log(`wrote ${CATALOG_SCHEMA_FILE}`);
}
