/**
 * Standard Webhooks signatures (the scheme Svix and Stripe-like receivers verify): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}` with the secret's bytes, sent base64 as
 * `webhook-signature: v1,<sig>`; the secret is written `whsec_<base64 bytes>`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { TesseraError } from '@tessera/core';

const PREFIX = 'whsec_';

/** The secret's key bytes; throws INVALID_ARGUMENT for anything but `whsec_` + base64 of 16 to 128 bytes. */
export function webhookSecretKey(secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(PREFIX)) {
    throw new TesseraError('INVALID_ARGUMENT', 'webhook secret: must be "whsec_" followed by base64 (generateWebhookSecret() makes one)', { field: 'secret' });
  }
  const b64 = secret.slice(PREFIX.length);
  const key = Buffer.from(b64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.length < 16 || key.length > 128) {
    throw new TesseraError('INVALID_ARGUMENT', 'webhook secret: the part after "whsec_" must be base64 of 16 to 128 random bytes', { field: 'secret' });
  }
  return key;
}

/** A new random secret, `whsec_` + base64 of 32 bytes. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`. `timestamp` in seconds. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', webhookSecretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** Headers as node:http, fetch's Headers, or a plain object give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  return Array.isArray(v) ? v[0] : v;
}

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300), against replays. */
  toleranceSeconds?: number;
  /** Now, epoch ms (default Date.now()). */
  now?: number;
}

const unauthorized = (why: string) => new TesseraError('UNAUTHORIZED', `webhook: ${why}`);

/**
 * Verifies a webhook as received (the raw body, before any JSON parsing) and returns its parsed
 * body. Throws TesseraError UNAUTHORIZED when a header is missing, the timestamp is outside the
 * tolerance, or no `v1` signature matches; INVALID_ARGUMENT for a malformed secret.
 */
export function verifyWebhook<T = unknown>(secret: string, headers: WebhookHeaders, body: string | Uint8Array, options: VerifyWebhookOptions = {}): T {
  const key = webhookSecretKey(secret);
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) throw unauthorized('webhook-id, webhook-timestamp and webhook-signature headers are required');
  if (!/^\d{1,12}$/.test(ts)) throw unauthorized('webhook-timestamp must be whole seconds since the epoch');
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - Number(ts)) > tolerance) throw unauthorized(`webhook-timestamp is more than ${tolerance} s from now (a replay, or a clock off)`);
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${text}`).digest();
  // Several signatures may be sent (secret rotation): any v1 that matches will do.
  for (const part of sigs.split(' ')) {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    const given = Buffer.from(sig, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return JSON.parse(text) as T;
  }
  throw unauthorized('no v1 signature matches (wrong secret, or the body was changed)');
}
