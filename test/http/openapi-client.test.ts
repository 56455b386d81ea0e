/**
 * A client generated from the sidecar's OpenAPI document (openapi-typescript types, openapi-fetch
 * requests), calling a live sidecar on 127.0.0.1: what a team without @tessera/client does. The
 * call's types are checked by the typecheck (packages/http/examples/openapi-client/call.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createEngine, memoryStore, testClock, type Engine } from '@tessera/core';
import { serveSidecar, type RunningSidecar } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { apiCallsLeft } from '../../packages/http/examples/openapi-client/call.js';
import { SIDECAR_TYPES_FILE, sidecarApiTypes } from '../../packages/http/scripts/openapi-types.js';
import { FULL_KEY } from './harness.js';

describe('a client generated from the OpenAPI document', () => {
  let engine: Engine;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-31T09:00:00Z') });
    sidecar = await serveSidecar({ engine, fullAccessKeys: [FULL_KEY], port: 0, hostname: '127.0.0.1' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await engine?.close();
  });

  it('has its types generated from the current document (npm run openapi-types)', async () => {
    expect(readFileSync(SIDECAR_TYPES_FILE, 'utf8')).toBe(await sidecarApiTypes());
  });

  it('makes a typed call against a live sidecar and gets the engine\'s answer', async () => {
    await engine.provisionCustomer({ customerId: 'acme' });
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 30 });
    // Free plan: 100 API calls a month, 30 used.
    expect(await apiCallsLeft(sidecar.url, FULL_KEY, 'acme')).toBe(70);
  });

  it('throws with the code of the document\'s error answer', async () => {
    await expect(apiCallsLeft(sidecar.url, 'not-a-key-but-long-enough', 'acme')).rejects.toThrow(/^UNAUTHORIZED: /);
  });
});
