/**
 * Conformance cases for the outbox of provider calls (docs/providers.md): round trips (JSON input
 * and result, nulls), upsert by key, and the due listing tick() pages through.
 */
import type { ProviderCallRecord } from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import { T0 } from './fixtures.js';

function call(key: string, over: Partial<ProviderCallRecord> = {}): ProviderCallRecord {
  return {
    key,
    kind: 'createCheckout',
    customerId: 'c1',
    entityId: `sub-${key}`,
    input: { customerId: 'c1', subscriptionId: `sub-${key}`, amount: '12.50', currency: 'EUR', options: { nested: [1, 'two', null, { é: true }] } },
    status: 'PENDING',
    result: null,
    attempts: 1,
    notBefore: T0 + 60_000,
    lastError: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

/** Registers the provider-call cases inside the adapter's conformance suite. */
export function providerCallCases({ read, write, test }: Harness): void {
  describe('provider calls', () => {
    test('round-trips a provider call with JSON input and result, and upsert replaces it whole', async () => {
      expect(await read((tx) => tx.getProviderCall('checkout:s1'))).toBeUndefined();
      const pending = call('checkout:s1');
      await write((tx) => tx.putProviderCall(pending));
      expect(await read((tx) => tx.getProviderCall('checkout:s1'))).toEqual(pending);
      const failed = { ...pending, attempts: 2, notBefore: T0 + 5, lastError: 'provider down', updatedAt: T0 + 5 };
      await write((tx) => tx.putProviderCall(failed));
      expect(await read((tx) => tx.getProviderCall('checkout:s1'))).toEqual(failed);
      const done = { ...failed, status: 'DONE' as const, result: { checkoutUrl: 'https://pay.test/s1' }, lastError: null, updatedAt: T0 + 9 };
      await write((tx) => tx.putProviderCall(done));
      expect(await read((tx) => tx.getProviderCall('checkout:s1'))).toEqual(done);
      const delivery = call('invoice:i1', { kind: 'onInvoiceCreated', entityId: 'i1', input: { invoiceId: 'i1' } });
      await write((tx) => tx.putProviderCall(delivery));
      expect(await read((tx) => tx.getProviderCall('invoice:i1'))).toEqual(delivery);
    });

    test('a rolled-back provider call is not stored', async () => {
      await expect(
        write(async (tx) => {
          await tx.putProviderCall(call('checkout:s1'));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await read((tx) => tx.getProviderCall('checkout:s1'))).toBeUndefined();
    });

    test('lists only PENDING calls due at the instant, by (createdAt, key), paged by cursor', async () => {
      // b and a share createdAt: the key breaks the tie. c is held until later; d is done; e is dropped.
      await write(async (tx) => {
        await tx.putProviderCall(call('b', { createdAt: T0, notBefore: T0 }));
        await tx.putProviderCall(call('a', { createdAt: T0, notBefore: T0 - 1 }));
        await tx.putProviderCall(call('c', { createdAt: T0 - 10, notBefore: T0 + 1 }));
        await tx.putProviderCall(call('d', { createdAt: T0 - 20, notBefore: 0, status: 'DONE', result: { checkoutUrl: 'u' } }));
        await tx.putProviderCall(call('e', { createdAt: T0 - 30, notBefore: 0, status: 'DROPPED' }));
        await tx.putProviderCall(call('f', { createdAt: T0 + 10, notBefore: T0 }));
      });
      const keys = (rows: ProviderCallRecord[]) => rows.map((r) => r.key);
      expect(keys(await read((tx) => tx.listDueProviderCalls({ dueAt: T0, limit: 10 })))).toEqual(['a', 'b', 'f']);
      expect(keys(await read((tx) => tx.listDueProviderCalls({ dueAt: T0 + 1, limit: 10 })))).toEqual(['c', 'a', 'b', 'f']);
      const first = await read((tx) => tx.listDueProviderCalls({ dueAt: T0, limit: 2 }));
      expect(keys(first)).toEqual(['a', 'b']);
      const last = first[first.length - 1]!;
      const next = await read((tx) => tx.listDueProviderCalls({ dueAt: T0, limit: 2, after: { createdAt: last.createdAt, key: last.key } }));
      expect(keys(next)).toEqual(['f']);
      expect(await read((tx) => tx.listDueProviderCalls({ dueAt: T0 - 100, limit: 10 }))).toEqual([]);
    });

    test('lists calls of one kind in any status, by (createdAt, key), paged by cursor', async () => {
      await write(async (tx) => {
        await tx.putProviderCall(call('w2', { kind: 'webhook', createdAt: T0, status: 'DONE', result: null }));
        await tx.putProviderCall(call('w1', { kind: 'webhook', createdAt: T0, lastError: 'HTTP 500' }));
        await tx.putProviderCall(call('w0', { kind: 'webhook', createdAt: T0 - 5, status: 'DROPPED' }));
        await tx.putProviderCall(call('x', { kind: 'createCheckout', createdAt: T0 - 50 }));
      });
      const keys = (rows: ProviderCallRecord[]) => rows.map((r) => r.key);
      expect(keys(await read((tx) => tx.listProviderCalls({ kind: 'webhook', limit: 10 })))).toEqual(['w0', 'w1', 'w2']);
      expect(keys(await read((tx) => tx.listProviderCalls({ kind: 'createCheckout', limit: 10 })))).toEqual(['x']);
      const first = await read((tx) => tx.listProviderCalls({ kind: 'webhook', limit: 2 }));
      expect(keys(first)).toEqual(['w0', 'w1']);
      expect(first[1]!.lastError).toBe('HTTP 500');
      const next = await read((tx) => tx.listProviderCalls({ kind: 'webhook', limit: 2, after: { createdAt: T0, key: 'w1' } }));
      expect(keys(next)).toEqual(['w2']);
      expect(await read((tx) => tx.listProviderCalls({ kind: 'onInvoiceCreated', limit: 10 }))).toEqual([]);
    });
  });
}
