/**
 * What processes.test.ts asks of pg-worker.ts and what the worker answers, one line each way:
 *
 *   parent -> worker   {"id":1,"job":{...}}   open an engine for the job and prepare it
 *   worker -> parent   ready 1                 the engine is open (listen: and listening)
 *   parent -> worker   go 1                    start (all workers of a test at once)
 *   worker -> parent   report 1 {...}          the job's report (JSON); the engine is closed
 *   worker -> parent   error 1 "message"       the job failed (JSON string); the engine is closed
 *   parent -> worker   tell 1 <word> [arg]     a command for a running job (outage: beacon <n>, stop)
 *   worker -> parent   <word> 1 [arg]          what a running job says meanwhile (outage: heard <n>, wrote <n>)
 *
 * A worker serves jobs one after another until its stdin ends, so that the tests do not pay a
 * process start (about 2 s of CPU under tsx) per job. Kept apart from the worker so that the
 * test can import the types without running a worker.
 */

/** Where a worker's engine lives: the run's server, one schema of it. */
interface Target {
  /** Connection string; carries `?application_name=<tag>` so the test can find the worker's backends. */
  url: string;
  schema: string;
  customerId: string;
}

/** consumeUsage in a loop (1 ms apart) until the quota is gone. */
export interface ConsumeJob extends Target {
  mode: 'consume';
  featureId: string;
  overage: 'REJECT' | 'CAP';
  seed: number;
}

/** consumeUsage for random entities of the customer until the pooled limit is reached (test/support/entity-consume-loop.ts). */
export interface EntitiesJob extends Target {
  mode: 'entities';
  featureId: string;
  entityIds: string[];
  pooledLimit: number;
  overage: 'REJECT' | 'CAP';
  seed: number;
}

/** reportEvent of the same keys as every other worker, in this worker's own order and batch size. */
export interface IngestJob extends Target {
  mode: 'ingest';
  eventName: string;
  keys: number;
  batchSize: number;
  seed: number;
}

/** Process A: one reportUsage on "go". */
export interface ReportJob extends Target {
  mode: 'report';
  featureId: string;
  value: number;
}

/** Processes B..H: a warm view, a usageUpdated listener, a check once it is heard. */
export interface ListenJob extends Target {
  mode: 'listen';
  featureId: string;
  /** Gives up after this long without hearing it (then reports heardAt: null). */
  timeoutMs: number;
}

/**
 * reserveUsage and consumeUsage in `loops` concurrent tight loops until killed. Prints, with
 * synchronous writes, `<kind-lowercase> <loop> <amount>` before each call and, once its promise
 * resolved, `R <loop> <reservationId> <amount> <expiresAtMs>` or `C <loop> <granted>`.
 */
export interface ChurnJob extends Target {
  mode: 'churn';
  featureId: string;
  loops: number;
  expiresIn: number;
}

/**
 * outage.test.ts: from "go" until "tell <id> stop", a loop of keyed consumeUsage (REJECT, until the
 * quota is gone), keyed reportUsage (value 1) and a check answered from the view, taking each
 * STORE_UNAVAILABLE as a caller would: pause, then the same call with the same key. On
 * "tell <id> beacon <n>": reportUsage of 1 on `beaconFeatureId` (key beacon-<n>), then prints
 * "wrote <id> <n>". Prints "heard <id> <usage>" for each usageUpdated of `beaconFeatureId`.
 */
export interface OutageJob extends Target {
  mode: 'outage';
  /** Consumed with overage REJECT against its hard limit. */
  featureId: string;
  /** Reported with a key per call, value 1. */
  reportFeatureId: string;
  beaconFeatureId: string;
  /** A non-metered feature: its check is answered from the cached view. */
  checkFeatureId: string;
  /** This worker's number, in its idempotency keys. */
  worker: number;
  seed: number;
  /** The store's reconnectTimeoutMs: small, so that calls during an outage fail rather than wait. */
  reconnectTimeoutMs: number;
  /** The engine's followIntervalMs: large, so that only LISTEN (and its reconnection) brings changes soon. */
  followIntervalMs: number;
}

export type WorkerJob = ConsumeJob | EntitiesJob | IngestJob | ReportJob | ListenJob | ChurnJob | OutageJob;

export interface ConsumeReport {
  granted: number;
  calls: number;
  refusals: number;
}

export interface IngestReport {
  accepted: number;
  duplicates: number;
  batches: number;
  /** Date.now() before the first batch and after the last one resolved. */
  startedAt: number;
  endedAt: number;
}

export interface ReportReport {
  /** Date.now() just before the call and just after its promise resolved. */
  startedAt: number;
  doneAt: number;
  currentUsage: number;
}

export interface ListenReport {
  /** The check's usage before anything happened (the view was warm from then on). */
  warmUsage: number;
  /** How long that first (cold) check took, in ms: what a check after an invalidation costs. */
  coldCheckMs: number;
  /** Date.now() in the usageUpdated listener; null when nothing came within timeoutMs. */
  heardAt: number | null;
  heardUsage: number | null;
  /** Date.now() once the check made after hearing it resolved, and the usage it showed. */
  checkedAt: number | null;
  checkedUsage: number | null;
}

export interface OutageReport {
  /** Units granted by acknowledged consumeUsage calls (each key counted once). */
  granted: number;
  consumeCalls: number;
  /** reportUsage calls acknowledged, value 1 each, distinct keys. */
  reported: number;
  /** Calls that failed with STORE_UNAVAILABLE (and were made again with the same key). */
  unavailable: number;
  /** Of those, how many said the outcome of their COMMIT was unknown. */
  unknownOutcome: number;
  /** Checks of checkFeatureId answered, and the errors of those that were not. */
  checks: number;
  checkErrors: string[];
  /** Errors of any other kind than STORE_UNAVAILABLE and USAGE_LIMIT_EXCEEDED ("code: message"). */
  unexpected: string[];
  /** Codes of the errors the store reported through watchChanges' onError (nobody's call saw them). */
  backgroundErrors: string[];
}
