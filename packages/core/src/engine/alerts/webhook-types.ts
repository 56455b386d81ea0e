/** The public shapes of webhook delivery (docs/alerts.md#webhooks). */

/** The `type` of a webhook body, one per engine event delivered. */
export type WebhookEventType = 'usage.threshold_reached' | 'credit.balance_low';

/**
 * One delivery of one event to one endpoint. The body to send is `JSON.stringify(payload)`;
 * `id` is the Standard Webhooks `webhook-id`: the event's id, the same for every attempt and
 * every endpoint, so that a receiver de-duplicates on it.
 */
export interface WebhookDelivery {
  id: string;
  endpoint: string;
  type: WebhookEventType;
  /** `{ type, timestamp, data }` as Standard Webhooks suggests; `timestamp` is the event's (ISO 8601). */
  payload: { type: WebhookEventType; timestamp: string; data: Record<string, unknown> };
  /** 1 for the first attempt. */
  attempt: number;
}

/**
 * Where the engine sends alert events as webhooks (`createEngine({ webhooks })`). The engine
 * commits one delivery per event and endpoint in the transaction that decided the event, calls
 * `send` after the commit and again with backoff until it resolves (at least once, across
 * restarts). `@tessera/http` provides a signing transport over HTTP (`httpWebhooks`).
 */
export interface WebhookTransport {
  /** Endpoint names (the URLs, as a rule); a delivery keeps the name it was committed with. */
  readonly endpoints: readonly string[];
  /** Sends one delivery, outside any store transaction; rejects to have it retried. */
  send(delivery: WebhookDelivery): Promise<void>;
}

/** Retry schedule and polling of webhook deliveries (all in ms). */
export interface WebhookRetryOptions {
  /** The wait after the first failure; it doubles per failure, with jitter (default 5,000). */
  initialBackoffMs?: number;
  /** The longest wait between attempts (default 3,600,000: an hour). */
  maxBackoffMs?: number;
  /** Attempts before a delivery is given up as FAILED (default 15: about 10 hours with the defaults). */
  maxAttempts?: number;
  /**
   * How long an attempt holds its delivery (engine clock): another process leaves it alone
   * meanwhile; a process that dies mid-attempt leaves it to the first poll after it (default 60,000).
   */
  leaseMs?: number;
  /** How often the engine looks for due deliveries, real time (default 1,000; 0: only on tick()). */
  pollMs?: number;
}

/** `createEngine({ webhooks })`. */
export interface WebhookOptions extends WebhookRetryOptions {
  transport: WebhookTransport;
}

/** Status of a delivery: waiting for an attempt, received by the endpoint, or given up. */
export type WebhookDeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

/** One delivery as `getWebhookDeliveries` returns it. */
export interface WebhookDeliveryInfo {
  /** The webhook id (the event's id). */
  id: string;
  endpoint: string;
  type: WebhookEventType;
  customerId: string;
  status: WebhookDeliveryStatus;
  /** Attempts started so far. */
  attempts: number;
  /** The message of the last failed attempt; null when none failed or it was delivered. */
  lastError: string | null;
  /** When the next attempt is due (PENDING), else null. */
  nextAttemptAt: Date | null;
  payload: WebhookDelivery['payload'];
  createdAt: Date;
  updatedAt: Date;
}
