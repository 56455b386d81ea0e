/**
 * The sidecar and its client in one script: an engine on a temp SQLite file served on a free
 * loopback port, then a provisioning, checks, usage, an error and the change feed through the
 * typed client. Run it with `npx tsx packages/http/examples/demo.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, isTesseraError } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createClient, serveSidecar } from '@tessera/http';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-sidecar-demo-'));
const fullKey = randomBytes(24).toString('hex');
const readKey = randomBytes(24).toString('hex');

const engine = await createEngine({ store: sqliteStore({ filename: join(dir, 'billing.db') }), catalog: demoCatalog });
const sidecar = await serveSidecar({ engine, fullAccessKeys: [fullKey], readOnlyKeys: [readKey], port: 0 });
console.log(`sidecar on ${sidecar.url}`);

const admin = createClient({ url: sidecar.url, apiKey: fullKey }); // may write
const app = createClient({ url: sidecar.url, apiKey: readKey }); // checks only

const { subscription } = await admin.provisionCustomer({ customerId: 'acme', name: 'Acme Corp' });
console.log(`acme is on ${subscription?.planId}, since ${subscription?.startDate.toISOString()}`); // a Date again

const { lastChangeSeq } = await app.health();
const polled = app.changes({ after: lastChangeSeq, wait: 5_000 }); // answers at the next write

await admin.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 30, idempotencyKey: 'req-1' });
const check = await app.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls', options: { requestedUsage: 80 } });
console.log(`80 more API calls? ${check.hasAccess ? 'yes' : `no (${check.accessDeniedReason})`}`);

const { changes } = await polled;
console.log(`the long poll woke with ${changes.length} change(s): ${changes.map((c) => c.kind).join(', ')}`);

try {
  await app.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 });
} catch (e) {
  if (isTesseraError(e)) console.log(`a read-only key cannot write: ${e.code}`);
}
try {
  await app.getCustomer('nobody');
} catch (e) {
  if (isTesseraError(e)) console.log(`unknown customer: ${e.code} (${e.message})`);
}

await sidecar.close();
await engine.close();
rmSync(dir, { recursive: true, force: true });
