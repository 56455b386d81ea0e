/**
 * What processes.test.ts asks of pg-worker.ts and what the worker answers, one line each way:
 *
 *   parent -> worker   {"id":1,"job":{...}}   open an engine for the job and prepare it
 *   worker -> parent   ready 1                 the engine is open (listen: and listening)
 *   parent -> worker   go 1                    start (all workers of a test at once)
 *   worker -> parent   report 1 {...}          the job's report (JSON); the engine is closed
 *   worker -> parent   error 1 "message"       the job failed (JSON string); the engine is closed
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

export type WorkerJob = ConsumeJob | IngestJob | ReportJob | ListenJob | ChurnJob;

export interface ConsumeReport {
  granted: number;
  calls: number;
  refusals: number;
}

export interface IngestReport {
  accepted: number;
  duplicates: number;
  batches: number;
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
