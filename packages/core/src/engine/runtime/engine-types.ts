// The option and parameter types Engine's signatures name, split out of engine.ts so the facade reads as its list of methods.
import type { Catalog } from '../../catalog/catalog.js';
import type { CatalogIds } from '../../catalog/ids.js';
import type { CatalogDefinition } from '../../catalog/types.js';
import type { Clock } from '../../clock.js';
import type { EngineEventName, EngineEvents } from '../../events.js';
import type { Store } from '../../store/store.js';
import type { BillingProvider } from '../billing/billing.js';
import type { OverageMode } from '../usage/consumption.js';
import type { Fallback } from '../checks/offline.js';
import type { PaymentProvider } from '../billing/payments.js';
import type { EventLimits } from '../usage/raw-events.js';
import type { Logger } from '../../logger.js';
import type { TelemetryOptions } from './telemetry.js';
import type { WebhookOptions } from '../alerts/webhook-types.js';

/** Options of `createEngine`. `Ids`: the catalog's ids, taken from a `defineCatalog` result. */
export interface EngineOptions<Ids extends CatalogIds = CatalogIds> {
  /** Where state lives: `memoryStore()` or an adapter such as `sqliteStore({ filename })`. Left out only with `offline: true`. */
  store?: Store;
  /** Published on start when it differs from the latest stored version. Optional once one is stored. */
  catalog?: Catalog<Ids> | CatalogDefinition;
  /** Time source; `systemClock` by default, `testClock()` in tests. */
  clock?: Clock;
  /** Bounds of the in-memory view that answers checks. */
  cache?: { maxCustomers?: number };
  /** Id generator for subscriptions and reservations; random UUIDs by default. */
  newId?: (prefix: string) => string;
  /** Collects payment for paid subscriptions of customers without a payment method (none by default); called outside transactions, docs/providers.md. */
  paymentProvider?: PaymentProvider;
  /** Told about every invoice after it committed, at least once (none by default); docs/providers.md. */
  billingProvider?: BillingProvider;
  /**
   * How often to read the change feed for writes by other processes on the same store, in ms
   * (their customers' views are dropped and listeners told). Default 200 for shared stores
   * (anything but memory); 0 turns it off. This is the staleness bound of checks across processes
   * while the store answers; while it is unreachable, checks answer from the view as of the last
   * successful read of the feed (docs/conventions.md#several-processes-on-one-store).
   */
  followIntervalMs?: number;
  /** No store: checks answer from `fallback` (isFallback: true); every other call fails with OFFLINE. */
  offline?: boolean;
  /** Check answers by feature id when offline or when the store is unavailable. */
  fallback?: Fallback;
  /** Raw event limits: future skew, how late an event still counts, batch size (docs/metering.md). */
  events?: Partial<EventLimits>;
  /**
   * How long after a usage window closed a report stamped in it is still counted, ms (default 35
   * days). Later, `reportUsage` refuses it (INVALID_ARGUMENT, `details.reason: 'LATE_USAGE'`) and
   * `reportEvent` stores the event as TOO_LATE, uncounted (docs/metering.md#late-usage).
   */
  lateUsageGraceMs?: number;
  /**
   * Receives every failure no caller sees (listeners, the follower, providers), with a structured
   * context; pino and console fit. Without one, and without an `error` listener, such failures
   * go to console.error (docs/operating.md#errors).
   */
  logger?: Logger;
  /**
   * OpenTelemetry spans and metrics (docs/operating.md#traces). By default they are on when
   * `@opentelemetry/api` is installed, and cost nothing until an SDK registers; `false` turns them
   * off. Checks are counted, not traced, whatever this says.
   */
  telemetry?: TelemetryOptions | false;
  /**
   * Sends `usageThresholdReached` and `creditBalanceLow` as webhooks through `transport`
   * (`httpWebhooks` from @tessera/http signs and posts them), from a durable outbox, with
   * backoff and jitter (docs/alerts.md#webhooks). None by default.
   */
  webhooks?: WebhookOptions;
}

/** Parameters shared by `consumeUsage` and `reserveUsage`. */
export interface ConsumeUsageParams<Ids extends CatalogIds = CatalogIds> {
  customerId: string;
  featureId: Ids['feature'];
  amount: number;
  resourceId?: string;
  /** The entity the quota is for (docs/entities.md): it must fit the entity's limit and the pooled one. */
  entityId?: string;
  overage?: OverageMode;
  idempotencyKey?: string;
}

export type Handler<K extends EngineEventName> = (event: EngineEvents[K]) => void;
