/**
 * The README's first command runs this: a small catalog, customers in an embedded SQLite file,
 * checks, usage up to a limit, an upgrade, and a restart that finds everything still there.
 * Time comes from a test clock so that the output is the same on every run.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createEngine, testClock, type Entitlement } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

const file = process.env.TESSERA_DEMO_DB ?? join(tmpdir(), 'tessera-demo.db');
for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });

const clock = testClock('2024-01-31T09:00:00Z');
const day = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : 'never');
const say = (s: string) => console.log(s);
const verdict = (e: Entitlement) => (e.hasAccess ? 'yes' : `no (${e.accessDeniedReason})`);

say(`Tessera demo: state in ${file}, clock at ${day(clock.now())} UTC\n`);
let engine = await createEngine({ store: sqliteStore({ filename: file }), catalog: demoCatalog, clock });

say(`1. Published catalog version ${engine.catalogVersion}:`);
for (const product of await engine.getProducts()) {
  say(`   product "${product.displayName}" with plans ${product.plans.map((p) => p.displayName).join(' < ')}`);
}

say('\n2. Provisioning customers');
const { subscription: acmeSub } = await engine.provisionCustomer({ customerId: 'acme', name: 'Acme Corp', email: 'ops@acme.test' });
say(`   acme signed up and got the product's default plan: ${acmeSub?.planId} (${acmeSub?.status})`);
await engine.provisionCustomer({
  customerId: 'globex',
  name: 'Globex',
  subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 2 }] },
});
say('   globex subscribed to basic, monthly, with 2 x "5 extra seats"');

say('\n3. Checking entitlements');
const sso = await engine.getBooleanEntitlement({ customerId: 'acme', featureId: 'sso' });
say(`   may acme use single sign-on?        ${verdict(sso)}`);
const projects = await engine.getNumericEntitlement({ customerId: 'acme', featureId: 'projects' });
say(`   how many projects may acme create?  ${projects.type === 'NUMERIC' ? projects.value : '-'}`);
const parquet = await engine.getEnumEntitlement({ customerId: 'acme', featureId: 'export', options: { requestedValues: ['parquet'] } });
say(`   may acme export parquet?            ${verdict(parquet)}`);
const seats = await engine.getMeteredEntitlement({ customerId: 'globex', featureId: 'seats' });
if (seats.type === 'METERED') say(`   how many seats has globex?          ${seats.usageLimit} (5 from basic + 2 x 5 from the add-on)`);

say('\n4. acme calls the API in batches of 30 (free plan: 100 calls a month)');
for (let batch = 1; ; batch++) {
  const check = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls', options: { requestedUsage: 30 } });
  if (check.type !== 'METERED') break;
  if (!check.hasAccess) {
    say(`   batch ${batch}: asked for 30 more with ${check.currentUsage}/${check.usageLimit} used: denied (${check.accessDeniedReason})`);
    break;
  }
  const after = await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 30, idempotencyKey: `acme-batch-${batch}` });
  say(`   batch ${batch}: allowed, usage now ${after.currentUsage}/${check.usageLimit} for ${day(after.usagePeriodStart)} .. ${day(after.usagePeriodEnd)}`);
}
const retry = await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 30, idempotencyKey: 'acme-batch-1' });
const now = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' });
say(`   a retry of batch 1 (same idempotency key) returns its first result (${retry.currentUsage}) and counts nothing: usage is still ${now.type === 'METERED' ? now.currentUsage : '-'}`);

say('\n5. acme upgrades to pro (14-day trial)');
const up = await engine.provisionSubscription({ customerId: 'acme', planId: 'pro', billingPeriod: 'MONTHLY' });
say(`   pro subscription ${up.subscription.status}, trial ends ${day(up.subscription.trialEndDate)}`);
const afterUp = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls', options: { requestedUsage: 30 } });
if (afterUp.type === 'METERED') {
  say(`   usage carried over: ${afterUp.currentUsage}/${afterUp.usageLimit}, 30 more calls? ${verdict(afterUp)}`);
}
say(`   single sign-on now?                 ${verdict(await engine.getBooleanEntitlement({ customerId: 'acme', featureId: 'sso' }))}`);

say('\n6. A month passes (no background job: the window is computed from the clock)');
clock.advance({ months: 1 });
const next = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' });
if (next.type === 'METERED') say(`   on ${day(clock.now())}: api-calls ${next.currentUsage}/${next.usageLimit} in ${day(next.usagePeriodStart)} .. ${day(next.usagePeriodEnd)}`);
const active = await engine.getActiveSubscriptions({ customerId: 'acme' });
say(`   acme's active subscriptions: ${active.map((s) => `${s.planId} (${s.status})`).join(', ')}`);

say('\n7. Restart: close the engine and open the same file again');
await engine.close();
engine = await createEngine({ store: sqliteStore({ filename: file }), clock });
const again = await engine.getCustomer('globex');
say(`   globex is still there: ${again.name}, plan ${again.subscriptions[0]?.planId}, ${again.subscriptions[0]?.addons[0]?.quantity} add-ons`);
const changes = await engine.getChanges({ after: 0, limit: 10_000 });
say(`   the change feed holds ${changes.length} committed writes, last seq ${changes.at(-1)?.seq}`);
await engine.close();
say('\nDone.');
