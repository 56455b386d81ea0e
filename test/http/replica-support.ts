/**
 * Helpers of the replica tests (replica.test.ts, replica-outbox.test.ts): the catalog with usage
 * and event-metered features, the replica worker as a child process, a dead loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { CatalogDefinition, MeteredEntitlement } from '@tessera/core';
import type { Replica, TesseraClient } from '@tessera/http';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';
import { ROOT } from './harness.js';

/** The demo catalog plus `tokens` (usage reports) and `requests` (metered from `request` events) on every plan. */
export const catalog: CatalogDefinition = {
  ...demoCatalog,
  features: [
    ...demoCatalog.features,
    { id: 'tokens', displayName: 'Tokens', type: 'METERED' },
    { id: 'requests', displayName: 'Requests', type: 'METERED', meter: { eventName: 'request', aggregation: { type: 'COUNT' } } },
  ],
  plans: demoCatalog.plans.map((plan) =>
    plan.id === 'free'
      ? { ...plan, entitlements: [...(plan.entitlements ?? []), { featureId: 'tokens', usageLimit: 1_000_000, resetPeriod: 'MONTH' }, { featureId: 'requests', usageLimit: 1_000_000, resetPeriod: 'MONTH' }] }
      : plan,
  ),
} as CatalogDefinition;

/** Writes `catalog` as JSON into `dir` and returns its path. */
export function writeCatalog(dir: string): string {
  const file = join(dir, 'catalog.json');
  writeFileSync(file, JSON.stringify(catalog));
  return file;
}

/** A loopback port nothing listens on (taken and given back). */
export function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The replica worker as a child process, with its stdout read line by line. */
export class ReplicaWorker {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private stderr = '';
  private readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/http/replica-worker.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let buffer = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves with the first line matching `re`; rejects after `timeoutMs` or when the process exits first. */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit) return hit;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`worker exited before ${re}; stderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`worker printed no ${re} in ${timeoutMs} ms; last lines: ${this.lines.slice(-3).join(' | ')}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Indexes of the writes it acknowledged, in order. */
  acks(): number[] {
    return this.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.split(' ')[1]));
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  exit(): Promise<number | null> {
    return this.exited;
  }
}

export const metered = async (client: TesseraClient | Replica, customerId: string, featureId: string) =>
  ((await client.getMeteredEntitlement({ customerId, featureId })) as MeteredEntitlement).currentUsage;

