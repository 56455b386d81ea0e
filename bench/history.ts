/**
 * Measure 5: the cost of a metered check that reads usage from the store does not depend on how
 * many events are stored.
 *
 * Two SQLite files, each with the same 1,000 customers. Both get 1,000 events through
 * `reportEvent` (so the usage cells of the meter-fed `tokens` feature exist, in the right
 * windows); the large one then gets 999,000 more events written through the store's own
 * `insertEvents` (a second connection, 10,000 per transaction, with the usage cells raised to
 * match), which is much faster than metering them one by one. A check is
 * `getEntitlement({ featureId: 'tokens' })` on an engine whose view holds one customer
 * (`cache.maxCustomers: 1`) while the checks cycle through all 1,000 customers: every check
 * misses the view and reads the customer, its subscriptions, the usage cell and its held
 * reservations from the store. Each check is awaited before the next.
 *
 * Result: checks/s with 1,000,000 events stored; baseline: checks/s with 1,000 events stored,
 * the two taking turns in the same process. Target: the cost ratio (baseline / result) <= 1.5.
 */
import { join } from 'node:path';
import type { Engine, EventRecord, UsageKey } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, tempDir, timed } from './harness.js';

const CUSTOMERS = 1_000;
const SMALL = 1_000;
const LARGE = 1_000_000;
const PER_TX = 10_000;
const BATCH = 100;
const dir = tempDir();
const ids = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i));

/** A file with CUSTOMERS customers and SMALL metered events, one per customer. */
async function seed(filename: string): Promise<void> {
  const engine = await benchEngine(sqliteStore({ filename }));
  await provisionCustomers(engine, 0, CUSTOMERS);
  await engine.reportEvent(ids.map((id, i) => ({ customerId: id, eventName: 'request', idempotencyKey: `seed-${i}`, dimensions: { tokens: 1 } })));
  await engine.close();
}

/** Adds `count` events spread over the customers through the store, raising the usage cells to match. */
async function addHistory(filename: string, count: number): Promise<void> {
  const store = sqliteStore({ filename });
  await store.open();
  const now = Date.now();
  // The cells the seed events created: (tokens, requests) per customer, in the current window.
  const cells = await store.transaction('read', async (tx) => {
    const out: UsageKey[] = [];
    for (const id of ids) for (const u of await tx.listUsage({ customerId: id })) out.push(u);
    return out;
  });
  for (let done = 0; done < count; done += PER_TX) {
    const n = Math.min(PER_TX, count - done);
    const records: EventRecord[] = [];
    for (let i = 0; i < n; i++) {
      records.push({
        idempotencyKey: `hist-${String(done + i).padStart(9, '0')}`,
        customerId: ids[(done + i) % CUSTOMERS]!,
        eventName: 'request',
        resourceId: '',
        entityId: '',
        dimensions: { tokens: 1 },
        timestamp: now,
        receivedAt: now,
        unmatchedReason: null,
      });
    }
    await store.transaction('write', async (tx) => {
      await tx.insertEvents(records);
      // Each customer got n / CUSTOMERS events of 1 token: both cells grow by that much.
      for (const key of cells) {
        const rec = (await tx.getUsage(key))!;
        const k = n / CUSTOMERS;
        await tx.putUsage({ ...rec, value: rec.value + k, count: rec.count + k, sum: rec.sum + k, updatedAt: now });
      }
    });
  }
  await store.close();
}

function coldChecks(engine: Engine) {
  let at = 0;
  const params = ids.map((id) => ({ customerId: id, featureId: 'tokens' }));
  return async () => {
    for (let j = 0; j < BATCH; j++) {
      const e = await engine.getEntitlement(params[at]!);
      if (!e.hasAccess) throw new Error(`check denied: ${e.accessDeniedReason}`);
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

const small = join(dir, 'small.db');
const large = join(dir, 'large.db');
const setup = await timed(async () => {
  await seed(small);
  await seed(large);
  await addHistory(large, LARGE - SMALL);
});
log(`  setup: ${fmt(SMALL)} and ${fmt(LARGE)} events stored in ${(setup.ms / 1000).toFixed(1)} s`);

const smallEngine = await benchEngine(sqliteStore({ filename: small }), { maxCustomers: 1 });
const largeEngine = await benchEngine(sqliteStore({ filename: large }), { maxCustomers: 1 });
const check = await largeEngine.getEntitlement({ customerId: ids[0]!, featureId: 'tokens' });
if (check.type !== 'METERED' || check.currentUsage !== LARGE / CUSTOMERS) throw new Error(`unexpected usage ${JSON.stringify(check)}`);

const r = await compare([
  { name: 'large', batch: coldChecks(largeEngine), ops: BATCH },
  { name: 'small', batch: coldChecks(smallEngine), ops: BATCH },
]);
await smallEngine.close();
await largeEngine.close();

const costRatio = r.small! / r.large!;
report([
  {
    measure: 'metered check missing the view (usage read from the store), 1,000,000 events stored',
    result: r.large!,
    unit: 'checks/s',
    baseline: { name: 'the same with 1,000 events stored', result: r.small! },
    ratio: 'slowdown',
    target: 'cost ratio <= 1.5',
    met: costRatio <= 1.5,
    notes: `setup ${(setup.ms / 1000).toFixed(0)} s`,
  },
]);
