/**
 * One call through a client generated from the sidecar's OpenAPI document: types by
 * openapi-typescript (sidecar-api.d.ts, `npm run openapi-types`), requests by openapi-fetch.
 * What a team without `@tessera/client` writes; other languages follow the same steps with their
 * own generator (packages/http/README.md#openapi).
 */
import createClient from 'openapi-fetch';
import type { paths } from './sidecar-api.js';

/** How many API calls `customerId` has left this month, asked of the sidecar at `baseUrl` with `key`. */
export async function apiCallsLeft(baseUrl: string, key: string, customerId: string): Promise<number | null> {
  const sidecar = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${key}` } });
  const { data, error } = await sidecar.POST('/v1/getMeteredEntitlement', { body: { customerId, featureId: 'api-calls' } });
  // `error` is typed from the document's error answers: branch on its code.
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  // `data` is MeteredEntitlement: usageLimit is number | null (null when unlimited).
  return data.usageLimit === null ? null : data.usageLimit - data.currentUsage;
}
