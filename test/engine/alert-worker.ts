/**
 * A worker process of alert-workers.test.ts: opens its own engine on a shared SQLite file (the
 * catalog is already stored there) with a webhook transport that never delivers (the deliveries
 * stay in the store for the test to count), waits for "go" on stdin so that all workers start
 * together, reports `count` usages of 1, and prints the thresholds it announced as one JSON line.
 *
 * Usage: node --import tsx test/engine/alert-worker.ts <filename> <customerId> <featureId> <count>
 */
import { createInterface } from 'node:readline';
import { createEngine, type UsageThresholdReachedEvent } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';

const [filename, customerId, featureId, countArg] = process.argv.slice(2);
if (!filename || !customerId || !featureId || !countArg) {
  process.stderr.write('usage: alert-worker.ts <filename> <customerId> <featureId> <count>\n');
  process.exit(2);
}

const engine = await createEngine({
  store: sqliteStore({ filename, busyTimeoutMs: 30_000 }),
  // No network here: every send fails, so each delivery stays PENDING where the test can see it.
  webhooks: { transport: { endpoints: ['https://hooks.invalid/tessera'], send: async () => Promise.reject(new Error('unreachable in this test')) }, pollMs: 0 },
});
const heard: UsageThresholdReachedEvent[] = [];
engine.on('usageThresholdReached', (e) => heard.push(e));
const otherErrors: string[] = [];
engine.on('error', (e) => {
  if (e.source !== 'webhook') otherErrors.push(String((e.error as Error)?.message ?? e.error));
});
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

for (let i = 0; i < Number(countArg); i++) await engine.reportUsage({ customerId, featureId, value: 1 });
await engine.close();
process.stdout.write(`${JSON.stringify({ events: heard.map((e) => ({ id: e.id, threshold: e.threshold, currentUsage: e.currentUsage, windowStart: e.windowStart })), otherErrors })}\n`);
