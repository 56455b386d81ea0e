import type { Migration } from '@tessera/sql';
import { initial } from './0001-initial.js';
import { fillfactor } from './0002-fillfactor.js';
import { providerCalls } from './0003-provider-calls.js';
import { entities } from './0004-entities.js';
import { entitlementOverrides } from './0005-entitlement-overrides.js';
import { customersByCreation } from './0006-customers-by-creation.js';

/**
 * Every PostgreSQL migration, oldest first. Append new ones; never edit or reorder a released one.
 * Version 1 is the SQLite schema at v4 in one step; later versions need not line up with SQLite's.
 */
export const MIGRATIONS: readonly Migration[] = [initial, fillfactor, providerCalls, entities, entitlementOverrides, customersByCreation];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;
