/**
 * Helpers of the OpenAPI tests: the sidecar's document compiled with ajv (2020-12, the dialect of
 * OpenAPI 3.1), and a check that a real answer matches what the document says for its route and
 * status.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import type { CatalogDefinition } from '@tessera/core';
import { openApiDocument } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>;
  components: { responses: Record<string, { content: Record<string, unknown> }> };
};

export const doc = openApiDocument() as unknown as Doc;

// Formats are left to the patterns the document also gives (DateTime, Money); strict off because
// the schemas sit inside an OpenAPI document (info, paths... are no JSON Schema keywords).
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(doc, 'openapi');

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The JSON pointer of the schema of `path`'s answer with `status`, failing when the document has none. */
function schemaPointer(path: string, verb: string, status: number, contentType: string): string {
  const op = doc.paths[path]?.[verb];
  expect(op, `${verb.toUpperCase()} ${path} is in the document`).toBeDefined();
  const response = op!.responses[String(status)];
  expect(response, `${verb.toUpperCase()} ${path} documents status ${status}`).toBeDefined();
  const base = response!.$ref
    ? `${response!.$ref.replace(/^#/, '')}`
    : `/paths/${escape(path)}/${verb}/responses/${status}`;
  const content = response!.$ref ? doc.components.responses[response!.$ref.split('/').at(-1)!]!.content : response!.content!;
  expect(Object.keys(content), `${verb.toUpperCase()} ${path} ${status} content type`).toContain(contentType);
  return `openapi#${base}/content/${escape(contentType)}/schema`;
}

/** Fails unless `body` is valid against the document's schema for `path`, `verb` and `status`. */
export function expectConforms(path: string, verb: string, status: number, body: unknown, contentType = 'application/json'): void {
  const pointer = schemaPointer(path, verb, status, contentType);
  const validate = ajv.getSchema(pointer);
  expect(validate, pointer).toBeDefined();
  const ok = validate!(body);
  expect(ok ? [] : validate!.errors, `${verb.toUpperCase()} ${path} ${status}: ${JSON.stringify(body).slice(0, 400)}`).toEqual([]);
}

/** Whether `body` is valid against the request body schema of `POST <path>`. */
export function requestAccepts(path: string, body: unknown): { ok: boolean; errors: unknown } {
  const validate = ajv.getSchema(`openapi#/paths/${escape(path)}/post/requestBody/content/application~1json/schema`);
  expect(validate, `POST ${path} has a request body schema`).toBeDefined();
  const ok = validate!(body) as boolean;
  return { ok, errors: validate!.errors };
}

/** Fails unless `body` is valid against `#/components/schemas/<name>`. */
export function expectComponent(name: string, body: unknown): void {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`)!;
  expect(validate(body) ? [] : validate.errors, name).toEqual([]);
}

/**
 * The demo catalog plus what the other methods need: a credit currency, a coupon and promotion
 * code, a meter, and a per-entity limit (each seat 50 API calls a month on the basic plan).
 */
export const conformanceCatalog: CatalogDefinition = {
  ...demoCatalog,
  plans: demoCatalog.plans.map((plan) =>
    plan.id === 'basic'
      ? { ...plan, entitlements: plan.entitlements!.map((e) => (e.featureId === 'api-calls' ? { ...e, perEntity: { featureId: 'seats', usageLimit: 50 } } : e)) }
      : plan,
  ),
  features: [...demoCatalog.features, { id: 'jobs', displayName: 'Jobs', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'COUNT' } } }],
  coupons: [{ id: 'launch', name: 'Launch', type: 'PERCENTAGE', value: '10', durationInMonths: 3 }],
  promotionCodes: [{ code: 'HELLO', couponId: 'launch' }],
  creditCurrencies: [{ id: 'ai-credits', displayName: 'AI credits', unitPrice: { amount: '0.01', currency: 'USD' } }],
};
