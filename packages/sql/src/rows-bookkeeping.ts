/** Row mappings of the store's own records: catalog versions, idempotency records and the change log; see rows.ts for how records map to rows. */
import type {
  CatalogVersionRecord,
  ChangeRecord,
  IdempotencyRecord,
  NewChange,
  ProviderCallRecord,
} from '@tessera/core';
import { type Columns, json, parse } from './rows-encoding.js';

export const CATALOG_VERSION_COLUMNS = ['version', 'published_at', 'definition', 'plan_versions', 'addon_versions'] as const satisfies Columns<'catalog_versions'>;
type CatalogVersionRow = [number, number, string, string, string];

export function catalogVersionToRow(r: CatalogVersionRecord): CatalogVersionRow {
  return [r.version, r.publishedAt, json(r.definition), json(r.planVersions), json(r.addonVersions)];
}

export function catalogVersionFromRow(row: unknown): CatalogVersionRecord {
  const [version, publishedAt, definition, planVersions, addonVersions] = row as CatalogVersionRow;
  const at = String(version);
  return {
    version,
    publishedAt,
    definition: parse(definition, 'catalog_versions', at, 'definition'),
    planVersions: parse(planVersions, 'catalog_versions', at, 'plan_versions'),
    addonVersions: parse(addonVersions, 'catalog_versions', at, 'addon_versions'),
  };
}

export const IDEMPOTENCY_COLUMNS = ['scope', 'key', 'result', 'created_at'] as const satisfies Columns<'idempotency'>;
type IdempotencyRow = [string, string, string | null, number];

export function idempotencyToRow(r: IdempotencyRecord): IdempotencyRow {
  // SQL NULL stands for `undefined`, so a stored JSON `null` still reads back as null.
  return [r.scope, r.key, r.result === undefined ? null : json(r.result), r.createdAt];
}

export function idempotencyFromRow(row: unknown): IdempotencyRecord {
  const [scope, key, result, createdAt] = row as IdempotencyRow;
  return { scope, key, result: result === null ? undefined : parse(result, 'idempotency', `${scope}/${key}`, 'result'), createdAt };
}

/** Inserted columns of a change; `seq` is assigned by SQLite. */
export const NEW_CHANGE_COLUMNS = ['at', 'kind', 'customer_id', 'entity_id', 'payload'] as const satisfies Columns<'changes'>;
type NewChangeRow = [number, string, string | null, string | null, string | null];

export function newChangeToRow(c: NewChange): NewChangeRow {
  return [c.at, c.kind, c.customerId, c.entityId, c.payload === undefined ? null : json(c.payload)];
}

export const CHANGE_COLUMNS = ['seq', ...NEW_CHANGE_COLUMNS] as const satisfies Columns<'changes'>;
type ChangeRow = [number, number, string, string | null, string | null, string | null];

export function changeFromRow(row: unknown): ChangeRecord {
  const [seq, at, kind, customerId, entityId, payload] = row as ChangeRow;
  return { seq, at, kind: kind as ChangeRecord['kind'], customerId, entityId, payload: payload === null ? undefined : parse(payload, 'changes', String(seq), 'payload') };
}

export const PROVIDER_CALL_COLUMNS = [
  'key',
  'kind',
  'customer_id',
  'entity_id',
  'input',
  'status',
  'result',
  'attempts',
  'not_before',
  'last_error',
  'created_at',
  'updated_at',
] as const satisfies Columns<'provider_calls'>;
type ProviderCallRow = [string, string, string, string, string, string, string | null, number, number, string | null, number, number];

export function providerCallToRow(r: ProviderCallRecord): ProviderCallRow {
  return [
    r.key,
    r.kind,
    r.customerId,
    r.entityId,
    json(r.input ?? null),
    r.status,
    r.result === null || r.result === undefined ? null : json(r.result),
    r.attempts,
    r.notBefore,
    r.lastError,
    r.createdAt,
    r.updatedAt,
  ];
}

export function providerCallFromRow(row: unknown): ProviderCallRecord {
  const [key, kind, customerId, entityId, input, status, result, attempts, notBefore, lastError, createdAt, updatedAt] = row as ProviderCallRow;
  return {
    key,
    kind: kind as ProviderCallRecord['kind'],
    customerId,
    entityId,
    input: parse(input, 'provider_calls', key, 'input'),
    status: status as ProviderCallRecord['status'],
    result: result === null ? null : parse(result, 'provider_calls', key, 'result'),
    attempts: Number(attempts),
    notBefore: Number(notBefore),
    lastError,
    createdAt: Number(createdAt),
    updatedAt: Number(updatedAt),
  };
}
