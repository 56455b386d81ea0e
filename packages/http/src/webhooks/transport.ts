/**
 * The HTTP transport of the engine's webhooks (docs/alerts.md#webhooks): each delivery is a POST
 * of its JSON body, signed the Standard Webhooks way, that succeeds on a 2xx answer within the
 * timeout. Anything else rejects, and the engine retries with backoff from its durable outbox.
 */
import { TesseraError, type WebhookDelivery, type WebhookTransport } from '@tessera/core';
import { signWebhook, webhookSecretKey } from './signature.js';

/** One endpoint: its URL, and its own secret when it does not use the shared one. */
export interface WebhookEndpoint {
  url: string;
  secret?: string;
}

/** Options of `httpWebhooks`. */
export interface HttpWebhooksOptions {
  /** Where to POST; each event goes to every endpoint (a URL string uses the shared `secret`). */
  endpoints: readonly (string | WebhookEndpoint)[];
  /** The shared signing secret, `whsec_<base64>` (TESSERA_WEBHOOK_SECRET for the sidecar). */
  secret?: string;
  /** How long one attempt may take, ms (default 10,000); a slower answer counts as a failure. */
  timeoutMs?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Now in epoch ms, for `webhook-timestamp` (default Date.now; a test clock in tests). */
  now?: () => number;
}

const invalid = (field: string, message: string) => new TesseraError('INVALID_ARGUMENT', `httpWebhooks.${field}: ${message}`, { field });

/**
 * A webhook transport for `createEngine({ webhooks: { transport: httpWebhooks({...}) } })`.
 * Throws INVALID_ARGUMENT for a URL that is not http(s), an endpoint listed twice, or a missing
 * or malformed secret.
 */
export function httpWebhooks(options: HttpWebhooksOptions): WebhookTransport {
  const list = options.endpoints;
  if (!Array.isArray(list) || list.length === 0) throw invalid('endpoints', 'must list at least one endpoint URL');
  const secrets = new Map<string, string>();
  list.forEach((raw, i) => {
    const e: WebhookEndpoint = typeof raw === 'string' ? { url: raw } : raw;
    let url: URL;
    try {
      url = new URL(e.url);
    } catch {
      throw invalid(`endpoints[${i}]`, `${JSON.stringify(e.url)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`endpoints[${i}]`, 'must be an http:// or https:// URL');
    if (secrets.has(e.url)) throw invalid(`endpoints[${i}]`, `${e.url} is listed twice`);
    const secret = e.secret ?? options.secret;
    if (secret === undefined) throw invalid('secret', `endpoint ${e.url} has no secret: pass secret (whsec_...) or give the endpoint its own`);
    webhookSecretKey(secret);
    secrets.set(e.url, secret);
  });
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw invalid('timeoutMs', 'must be a whole number of ms >= 1');
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  return {
    endpoints: [...secrets.keys()],
    async send(d: WebhookDelivery): Promise<void> {
      const secret = secrets.get(d.endpoint);
      // A delivery committed for an endpoint since removed from the configuration fails (and is
      // retried until its attempts run out) rather than going to a URL nobody configured now.
      if (secret === undefined) throw new Error(`endpoint ${d.endpoint} is no longer configured`);
      const body = JSON.stringify(d.payload);
      const timestamp = Math.floor(now() / 1000);
      let res: Response;
      try {
        res = await doFetch(d.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'tessera-webhooks',
            'webhook-id': d.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(secret, d.id, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
      } catch (e) {
        const err = e as Error;
        if (err.name === 'TimeoutError') throw new Error(`no answer from ${d.endpoint} within ${timeoutMs} ms`);
        throw new Error(`POST ${d.endpoint} failed: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`);
      }
      // The answer's body is read (bounded) for the error, and always consumed so the socket is freed.
      const text = await res.text().catch(() => '');
      if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status} from ${d.endpoint}${text ? `: ${text.slice(0, 200)}` : ''}`);
    },
  };
}
