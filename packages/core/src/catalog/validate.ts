import type { CatalogDefinition } from './types.js';

/** One thing wrong in a catalog: where (a dotted path such as `plans[2].entitlements[0].usageLimit`) and what to fix. */
export interface CatalogProblem {
  path: string;
  message: string;
}

/** Every problem in a catalog definition (empty when valid). Pure; never throws. */
export function validateCatalog(def: CatalogDefinition): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  if (!def || typeof def !== 'object') return [{ path: 'catalog', message: 'must be an object' }];
  return problems;
}
