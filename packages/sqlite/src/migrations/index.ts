import type { Migration } from '@tessera/sql';
import { initial } from './0001-initial.js';
import { eventsByStream } from './0002-events-by-stream.js';
import { invoicesAndQuery } from './0003-invoices-and-query.js';
import { promotionsAndCredits } from './0004-promotions-and-credits.js';
import { providerCalls } from './0005-provider-calls.js';
import { entities } from './0006-entities.js';
import { entitlementOverrides } from './0007-entitlement-overrides.js';
import { compactEventKeys } from './0008-compact-event-keys.js';
import { customersByCreation } from './0009-customers-by-creation.js';

export type { Migration };

/**
 * Every migration, oldest first. Append new ones; never edit or reorder a released one: a file
 * already migrated only ever runs the versions above its own.
 */
export const MIGRATIONS: readonly Migration[] = [initial, eventsByStream, invoicesAndQuery, promotionsAndCredits, providerCalls, entities, entitlementOverrides, compactEventKeys, customersByCreation];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;
