/**
 * Small builders of JSON Schema (2020-12, the dialect of OpenAPI 3.1) so the per-method schemas
 * read as the engine's types do. Plain objects: the document is JSON.
 */

/** A JSON Schema object. */
export type Schema = Record<string, unknown>;

/** A reference to `#/components/schemas/<name>`. */
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

export const str: Schema = { type: 'string' };
/** An id: a non-empty string (the engine caps its length). */
export const id: Schema = { type: 'string', minLength: 1 };
export const int: Schema = { type: 'integer' };
export const num: Schema = { type: 'number' };
export const bool: Schema = { type: 'boolean' };
/** Any JSON object (records passed through as stored). */
export const anyObject: Schema = { type: 'object' };

export const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
export const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
export const oneOfValues = (...values: readonly (string | number)[]): Schema => ({ enum: [...values] });
export const dict = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });

/**
 * An object: `required` and `optional` properties. Results are open (`additionalProperties`
 * unset) so that a field added to a result is not a breaking change; params are closed because
 * the engine rejects unknown fields (INVALID_ARGUMENT naming the field).
 */
export function obj(required: Record<string, Schema>, optional: Record<string, Schema> = {}, closed = false): Schema {
  const out: Schema = { type: 'object', properties: { ...required, ...optional } };
  const names = Object.keys(required);
  if (names.length > 0) out.required = names;
  if (closed) out.additionalProperties = false;
  return out;
}

/** A params object of an engine method (closed: unknown fields are rejected). */
export const params = (required: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema => obj(required, optional, true);
