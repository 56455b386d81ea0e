/**
 * The sidecar's OpenAPI 3.1 document, generated from the method table (METHODS): one
 * `POST /v1/<method>` per exposed engine method with its params and result schemas
 * (params.ts, results.ts), the error answers per status from HTTP_STATUS, and the routes that are
 * no engine method (health, metrics, change feed, replica sync). Served at `GET /openapi.json`
 * (packages/http/README.md#openapi).
 */
import { HTTP_STATUS, INTERNAL } from '../errors.js';
import { METHODS, type MethodName } from '../methods.js';
import { MAX_WAIT_MS } from '../server/app.js';
import { MAX_CUSTOMER_PAGE } from '../ui/customers.js';
import { sharedSchemas } from './components.js';
import { anyObject, arr, bool, int, obj, ref, str, type Schema } from './kit.js';
import { METHOD_PARAMS } from './params.js';
import { METHOD_RESULTS } from './results.js';

/** The statuses an error answer may have, each with the codes it carries. */
export const ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 422, 500, 502, 503] as const;

/**
 * The codes each error status carries: the engine's codes by HTTP_STATUS, plus what the sidecar
 * answers itself (403 UNAUTHORIZED for a key that may not call the route, 404 INVALID_ARGUMENT
 * for an unknown method, 413 INVALID_ARGUMENT for a body over the limit).
 */
export function codesByStatus(): Record<number, string[]> {
  const out: Record<number, string[]> = { 403: ['UNAUTHORIZED'], 404: ['INVALID_ARGUMENT'], 413: ['INVALID_ARGUMENT'], 500: [INTERNAL] };
  for (const [code, status] of Object.entries(HTTP_STATUS)) {
    const list = (out[status] ??= []);
    if (!list.includes(code)) list.push(code);
  }
  return out;
}

const WHY: Record<number, string> = {
  400: 'The request is wrong as sent: details.field names what to fix.',
  401: 'No key, or a key the sidecar does not know.',
  403: 'The key may not call this route (a read-only key calling a write method, a metrics key on /v1).',
  404: 'A named thing does not exist (*_NOT_FOUND), or no such method.',
  409: 'The call conflicts with stored state (CONFLICT, CUSTOMER_ID_ARCHIVED).',
  413: 'The body is larger than the sidecar accepts (maxBodyBytes).',
  422: 'Over a usage limit or short of credits (USAGE_LIMIT_EXCEEDED).',
  500: 'An unexpected failure in the sidecar; its log has the cause.',
  502: 'The payment provider did not start a checkout; the subscription is committed: retryCheckout.',
  503: 'The store is unavailable; retry later.',
};

const json = (schema: Schema) => ({ 'application/json': { schema } });
const errorRef = (status: number) => ({ $ref: `#/components/responses/Error${status}` });
const errorsOf = (statuses: readonly number[]) => Object.fromEntries(statuses.map((s) => [String(s), errorRef(s)]));

/** The error responses, one per status, each narrowing the code to what that status carries. */
function errorResponses(): Record<string, unknown> {
  const codes = codesByStatus();
  return Object.fromEntries(
    ERROR_STATUSES.map((status) => [
      `Error${status}`,
      {
        description: WHY[status],
        content: json({ allOf: [ref('ErrorBody')], properties: { error: { properties: { code: { enum: codes[status] } } } } }),
      },
    ]),
  );
}

const CHANGE_ERRORS = [400, 401, 403, 500, 503];

/** Routes that are no engine method. */
function fixedPaths(): Record<string, unknown> {
  const open: unknown[] = [];
  return {
    '/health': {
      get: {
        operationId: 'health',
        tags: ['service'],
        summary: 'Whether the sidecar can serve calls (no key needed; never says why not).',
        security: open,
        responses: {
          200: { description: 'Serving.', content: json(obj({ ok: { const: true }, lastChangeSeq: int, catalogVersion: int })) },
          503: { description: 'Cannot serve calls now; the log has the cause.', content: json(obj({ ok: { const: false }, error: obj({ code: ref('ErrorCode'), message: str }) })) },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        tags: ['service'],
        summary: 'This document (no key needed: it holds the API shape, no data).',
        security: open,
        responses: { 200: { description: 'The OpenAPI 3.1 document.', content: json(anyObject) } },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        tags: ['service'],
        summary: 'Prometheus metrics (a metrics, read-only or full-access key).',
        responses: { 200: { description: 'Prometheus text format 0.0.4.', content: { 'text/plain': { schema: str } } }, 401: errorRef(401) },
      },
    },
    '/v1/changes': {
      get: {
        operationId: 'changes',
        tags: ['change feed'],
        summary: 'Committed changes after `after`, as a long poll: with `wait`, an empty answer waits up to that many ms for a write.',
        parameters: [
          { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10_000 } },
          { name: 'wait', in: 'query', schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS } },
        ],
        responses: { 200: { description: 'Changes in order and the cursor of the next call.', content: json(obj({ changes: arr(ref('Change')), nextAfter: int })) }, ...errorsOf(CHANGE_ERRORS) },
      },
    },
    '/v1/changes/stream': {
      get: {
        operationId: 'changesStream',
        tags: ['change feed'],
        summary: 'Committed changes as server-sent events: `id` is the seq, `data` a Change (#/components/schemas/Change) as JSON; `event: error` with {code, message} on a failure.',
        parameters: [
          { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'string', pattern: '^\\d+$' }, description: 'Sent by a reconnecting EventSource; wins over `after`.' },
          { name: 'customerId', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 255 }, description: 'Only the changes naming this customer.' },
        ],
        responses: { 200: { description: 'An endless event stream.', content: { 'text/event-stream': { schema: str } } }, ...errorsOf(CHANGE_ERRORS) },
      },
    },
    '/ui/api/session': {
      get: {
        operationId: 'uiSession',
        tags: ['dashboard'],
        summary: 'What the presented key may do in the dashboard (`full` or `read`) and the catalog version.',
        responses: { 200: { description: 'The session.', content: json(obj({ access: { enum: ['full', 'read'] }, catalogVersion: int })) }, ...errorsOf([401, 403]) },
      },
    },
    '/ui/api/customers': {
      get: {
        operationId: 'uiCustomers',
        tags: ['dashboard'],
        summary: "Live or archived customers, oldest first, whose id, name or email contains `q` (getCustomers), with the plans they are on; cursor-paged (the dashboard's list).",
        parameters: [
          { name: 'q', in: 'query', schema: { type: 'string', maxLength: 200 } },
          { name: 'archived', in: 'query', schema: { enum: ['true', 'false'] } },
          { name: 'after', in: 'query', schema: { type: 'string' }, description: 'The pageInfo.endCursor of the previous page.' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_CUSTOMER_PAGE } },
        ],
        responses: {
          200: {
            description: 'One page and whether another follows.',
            content: json(
              obj({
                data: arr(obj({ customerId: str, name: { type: ['string', 'null'] }, email: { type: ['string', 'null'] }, archived: bool, planIds: arr(str), createdAt: str })),
                pageInfo: ref('PageInfo'),
              }),
            ),
          },
          ...errorsOf([400, 401, 403]),
        },
      },
    },
    '/v1/replicaSnapshot': {
      post: {
        operationId: 'replicaSnapshot',
        tags: ['replica'],
        summary: 'What a replica (createReplica) starts from: catalog versions and the seq they are as of (records as stored).',
        requestBody: { required: false, content: json(obj({}, { customerIds: bool })) },
        responses: {
          200: { description: 'The snapshot.', content: json(obj({ lastChangeSeq: int, catalogVersions: arr(anyObject) }, { customerIds: arr(str) })) },
          ...errorsOf(CHANGE_ERRORS),
        },
      },
    },
    '/v1/replicaCustomers': {
      post: {
        operationId: 'replicaCustomers',
        tags: ['replica'],
        summary: 'The stored records of some customers, for a replica.',
        requestBody: { required: true, content: json(obj({ customerIds: arr(str) })) },
        responses: { 200: { description: 'The records.', content: json(obj({ customers: arr(anyObject) })) }, ...errorsOf(CHANGE_ERRORS) },
      },
    },
  };
}

/** The error statuses an engine method may answer. */
const METHOD_ERRORS = ERROR_STATUSES;

/** Whether a params schema has required fields (or is no plain object, as reportEvent's): then `{}` will not do. */
const needsBody = (schema: Schema): boolean => (Array.isArray(schema.required) && schema.required.length > 0) || schema.type !== 'object';

/** `POST /v1/<method>` for every method of the table. */
function methodPaths(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    const spec = METHODS[name];
    out[`/v1/${name}`] = {
      post: {
        operationId: name,
        tags: [spec.access === 'read' ? 'read' : 'write'],
        summary: `Engine.${name}, ${spec.access === 'read' ? 'open to read-only and full-access keys' : 'full-access keys only'}.`,
        'x-tessera-access': spec.access,
        // An absent body is `{}`: methods whose params are all optional may be called without one.
        requestBody: { required: needsBody(METHOD_PARAMS[name]), content: json(METHOD_PARAMS[name]) },
        responses: { 200: { description: 'The engine method\'s result as JSON.', content: json(METHOD_RESULTS[name]) }, ...errorsOf(METHOD_ERRORS) },
      },
    };
  }
  return out;
}

let cached: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document of the sidecar, built once from the method table. `version` is the
 * @tessera/http version; servers are left to the caller (the document is served by the sidecar
 * it describes, so relative paths resolve against it).
 */
export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Tessera sidecar',
      version: '0.1.0',
      description:
        'Every exposed engine method as `POST /v1/<method>` with its params as a JSON body; money as decimal strings, instants as ISO 8601 UTC strings. Errors: `{ error: { code, message, details } }`; branch on `code`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearerAuth: [] }, { apiKeyAuth: [] }],
    tags: [
      { name: 'read', description: 'Open to read-only and full-access keys.' },
      { name: 'write', description: 'Full-access keys only.' },
      { name: 'change feed' },
      { name: 'replica' },
      { name: 'dashboard', description: 'The data routes of the dashboard served at /ui (its pages need no document).' },
      { name: 'service' },
    ],
    paths: { ...fixedPaths(), ...methodPaths() },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <key>`' },
        apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      schemas: sharedSchemas([...Object.keys(HTTP_STATUS), INTERNAL].filter((c, i, all) => all.indexOf(c) === i)),
      responses: errorResponses(),
    },
  };
  return cached;
}
