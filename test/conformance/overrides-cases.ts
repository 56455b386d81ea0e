/**
 * Conformance cases for entitlement overrides (docs/overrides.md): round trips of every field
 * (the JSON entitlement, the reason, nulls), upserts by id, ordering, isolation between customers,
 * rollback, and refusal inside a read transaction.
 */
import type { EntitlementOverrideRecord, StoreTx } from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import { DAY, T0, expectCode } from './fixtures.js';

/** An override of c1's site-1 with every field set, a nested entitlement and a reason outside ASCII. */
function override(id: string, over: Partial<EntitlementOverrideRecord> = {}): EntitlementOverrideRecord {
  return {
    id,
    customerId: 'c1',
    resourceId: 'site-1',
    featureId: 'api-calls',
    entitlement: { featureId: 'api-calls', usageLimit: 1_000_000, hasSoftLimit: true, resetPeriod: 'MONTH', resetPeriodConfiguration: { monthlyAccordingTo: 'START_OF_THE_MONTH' } },
    startDate: T0,
    endDate: T0 + 90 * DAY,
    reason: 'Enterprise-Vertrag № 42 — "1M calls"',
    removedAt: T0 + 10 * DAY,
    createdAt: T0,
    ...over,
  };
}

/** A customer-level override with every nullable field null and a minimal entitlement. */
const bareOverride = (id: string, over: Partial<EntitlementOverrideRecord> = {}): EntitlementOverrideRecord =>
  override(id, { resourceId: '', featureId: 'sso', entitlement: { featureId: 'sso' }, endDate: null, reason: null, removedAt: null, ...over });

/** Registers the override cases inside the adapter's conformance suite. */
export function overrideCases({ read, write, test }: Harness): void {
  describe('entitlement overrides', () => {
    test('round-trips overrides with every field, the JSON entitlement and nulls; upsert replaces by id', async () => {
      expect(await read((tx) => tx.listEntitlementOverrides('c1'))).toEqual([]);
      await write(async (tx) => {
        await tx.putEntitlementOverride(override('o1'));
        await tx.putEntitlementOverride(bareOverride('o2', { createdAt: T0 + 1 }));
      });
      expect(await read((tx) => tx.listEntitlementOverrides('c1'))).toEqual([override('o1'), bareOverride('o2', { createdAt: T0 + 1 })]);
      const replaced = override('o1', { removedAt: null, entitlement: { featureId: 'api-calls', isUnlimited: true }, reason: 'renewed' });
      await write((tx) => tx.putEntitlementOverride(replaced));
      expect(await read((tx) => tx.listEntitlementOverrides('c1'))).toEqual([replaced, bareOverride('o2', { createdAt: T0 + 1 })]);
    });

    test('lists a customer\'s overrides oldest first (createdAt, then id), and only theirs', async () => {
      await write(async (tx) => {
        await tx.putEntitlementOverride(override('o-b', { createdAt: T0 + 2 }));
        await tx.putEntitlementOverride(override('o-c', { createdAt: T0 + 1 }));
        await tx.putEntitlementOverride(override('o-a', { createdAt: T0 + 1 }));
        await tx.putEntitlementOverride(override('o-x', { customerId: 'c2', createdAt: T0 }));
      });
      expect((await read((tx) => tx.listEntitlementOverrides('c1'))).map((o) => o.id)).toEqual(['o-a', 'o-c', 'o-b']);
      expect((await read((tx) => tx.listEntitlementOverrides('c2'))).map((o) => o.id)).toEqual(['o-x']);
      expect(await read((tx) => tx.listEntitlementOverrides('c3'))).toEqual([]);
    });

    test('a transaction that throws leaves no override behind, and sees its own writes before', async () => {
      await write((tx) => tx.putEntitlementOverride(override('o1')));
      const snapshot = (tx: StoreTx) => Promise.all([tx.listEntitlementOverrides('c1'), tx.listEntitlementOverrides('c2')]);
      const before = await read(snapshot);
      const boom = new Error('boom');
      await expect(
        write(async (tx) => {
          await tx.putEntitlementOverride(override('o1', { removedAt: T0 + 2 * DAY }));
          await tx.putEntitlementOverride(bareOverride('o2', { customerId: 'c2' }));
          expect((await tx.listEntitlementOverrides('c2')).map((o) => o.id)).toEqual(['o2']);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await read(snapshot)).toEqual(before);
    });

    test('putEntitlementOverride in a read transaction rejects with CONFLICT and writes nothing', async () => {
      await read((tx) => expectCode('CONFLICT', () => tx.putEntitlementOverride(override('o1'))));
      expect(await read((tx) => tx.listEntitlementOverrides('c1'))).toEqual([]);
    });
  });
}
