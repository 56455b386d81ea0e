/**
 * Sending one webhook delivery and timing the next attempt (docs/alerts.md#retries). Kept apart
 * from webhooks.ts so that the outbox of provider calls can use it without an import cycle.
 */
import type { ProviderCallRecord } from '../../records.js';
import type { WebhookDelivery, WebhookEventType, WebhookTransport } from './webhook-types.js';

/** The webhook options as the engine keeps them, defaults applied. */
export interface WebhookSettings {
  transport: WebhookTransport;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxAttempts: number;
  leaseMs: number;
  pollMs: number;
}

/** What a webhook call stores as its input: enough to send the same body again after a restart. */
export interface WebhookInput {
  endpoint: string;
  type: WebhookEventType;
  payload: WebhookDelivery['payload'];
}

/**
 * When the next attempt is due after `attempts` failed ones (epoch ms), or null when they are
 * used up. Exponential backoff with "equal jitter": half the doubled wait, plus a random half,
 * so that endpoints coming back are not hit by every delivery at once. `random` is in [0, 1).
 */
export function nextWebhookAttempt(s: Pick<WebhookSettings, 'initialBackoffMs' | 'maxBackoffMs' | 'maxAttempts'>, attempts: number, now: number, random: number): number | null {
  if (attempts >= s.maxAttempts) return null;
  const wait = Math.min(s.maxBackoffMs, s.initialBackoffMs * 2 ** Math.min(attempts - 1, 40));
  return now + Math.ceil(wait / 2 + (wait / 2) * random);
}

/** Sends one delivery of a stored webhook call (outside any transaction). */
export async function sendWebhook(settings: WebhookSettings, call: ProviderCallRecord): Promise<void> {
  const input = call.input as WebhookInput;
  await settings.transport.send({ id: call.entityId, endpoint: input.endpoint, type: input.type, payload: input.payload, attempt: call.attempts });
}

