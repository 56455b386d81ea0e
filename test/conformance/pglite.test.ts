import { postgresStore } from '@tessera/postgres';
import { beforeAll } from 'vitest';
import { runStoreConformance } from './cases.js';
import { freshSchema, pglitePoolFor, sharedPglite } from '../support/pg-stores.js';

// Started once for the file, before the cases: it takes seconds.
beforeAll(() => sharedPglite().then(() => undefined), 120_000);

// The PostgreSQL store on PGlite (PostgreSQL in WebAssembly, in process), in every run: it is
// what the PostgreSQL tests fall back to where no server can be had, so it must keep passing.
runStoreConformance('postgres on PGlite', () => postgresStore({ pool: pglitePoolFor(freshSchema('pgl')) }));
