import type { Compilable, Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Lets `listEvents` (a meter re-aggregating one customer's events of one name over a window, for
 * events that arrive late) find them by range instead of scanning every event. The idempotency
 * key is left out of the index to keep ingest cheap; ties on timestamp are rare and sorted after.
 */
export const eventsByStream: Migration = {
  version: 2,
  name: 'events-by-stream',
  up(db: Kysely<any>): Compilable[] {
    return [db.schema.createIndex('events_by_stream').on('events').columns(['customer_id', 'resource_id', 'event_name', 'timestamp'])];
  },
};
