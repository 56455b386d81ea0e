import type { Compilable, Kysely } from 'kysely';
import { initial } from './0001-initial.js';
import { eventsByStream } from './0002-events-by-stream.js';
import { invoicesAndQuery } from './0003-invoices-and-query.js';
import { promotionsAndCredits } from './0004-promotions-and-credits.js';

/** One schema step. `version` is its place in the sequence, 1-based and gapless. */
export interface Migration {
  version: number;
  name: string;
  /**
   * The statements of the step, in order, built with kysely. The runner compiles them and runs
   * them synchronously inside its write transaction (see migrate.ts for why not `.execute()`).
   */
  up(db: Kysely<any>): Compilable[];
}

/**
 * Every migration, oldest first. Append new ones; never edit or reorder a released one: a file
 * already migrated only ever runs the versions above its own.
 */
export const MIGRATIONS: readonly Migration[] = [initial, eventsByStream, invoicesAndQuery, promotionsAndCredits];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;
