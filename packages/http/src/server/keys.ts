import { createHash, timingSafeEqual } from 'node:crypto';
import { TesseraError } from '@tessera/core';

/** What a presented key grants: every method, read methods, or `GET /metrics` only. */
export type KeyAccess = 'full' | 'read' | 'metrics';

/** Keys shorter than this are refused: an API key must not be guessable. */
export const MIN_KEY_LENGTH = 16;

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** Digests of presented keys remembered at most; the map is emptied when full (deployments have a few keys). */
const DIGEST_CACHE = 64;

/**
 * The sidecar's API keys. Keys are compared as SHA-256 digests with `timingSafeEqual`, against
 * every configured key without stopping at a match, so the time taken tells nothing about a
 * key's content or which key matched.
 */
export class KeyRing {
  private readonly entries: { digest: Buffer; access: KeyAccess }[] = [];
  /**
   * Digests of recently presented keys, known or not: hashing is most of a check's cost, and a
   * client sends the same key with every request. The comparison below stays constant-time.
   */
  private readonly digests = new Map<string, Buffer>();

  constructor(fullAccessKeys: readonly string[], readOnlyKeys: readonly string[], metricsKeys: readonly string[] = []) {
    const seen = new Set<string>();
    const add = (keys: readonly string[] | undefined, access: KeyAccess, field: string) => {
      if (keys === undefined) return;
      if (!Array.isArray(keys)) throw new TesseraError('INVALID_ARGUMENT', `${field}: must be an array of strings`, { field });
      keys.forEach((key, i) => {
        if (typeof key !== 'string' || key.length < MIN_KEY_LENGTH || /\s|,/.test(key)) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `${field}[${i}]: an API key must be a string of at least ${MIN_KEY_LENGTH} characters without spaces or commas (e.g. \`openssl rand -hex 24\`)`,
            { field: `${field}[${i}]` },
          );
        }
        if (seen.has(key)) throw new TesseraError('INVALID_ARGUMENT', `${field}[${i}]: the same key is given twice (full access, read-only and metrics keys are exclusive)`, { field: `${field}[${i}]` });
        seen.add(key);
        this.entries.push({ digest: digest(key), access });
      });
    };
    add(fullAccessKeys, 'full', 'fullAccessKeys');
    add(readOnlyKeys, 'read', 'readOnlyKeys');
    const apiKeys = this.entries.length;
    add(metricsKeys, 'metrics', 'metricsKeys');
    if (apiKeys === 0) {
      throw new TesseraError('INVALID_ARGUMENT', 'fullAccessKeys: give at least one API key (fullAccessKeys or readOnlyKeys); the sidecar never runs open', { field: 'fullAccessKeys' });
    }
  }

  /** The access `key` grants, or null for no or an unknown key. */
  check(key: string | null): KeyAccess | null {
    if (key === null || key.length === 0) return null;
    let d = this.digests.get(key);
    if (d === undefined) {
      d = digest(key);
      if (this.digests.size >= DIGEST_CACHE) this.digests.clear();
      this.digests.set(key, d);
    }
    let access: KeyAccess | null = null;
    for (const e of this.entries) if (timingSafeEqual(d, e.digest)) access = e.access;
    return access;
  }
}

/** The key a request presents: `Authorization: Bearer <key>`, else `x-api-key: <key>`. */
export function presentedKey(headers: Pick<Headers, 'get'>): string | null {
  const auth = headers.get('authorization');
  if (auth !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  return headers.get('x-api-key');
}
