import { postgresStore } from '@tessera/postgres';
import { runStoreConformance } from './cases.js';
import { freshSchema, pglitePoolFor } from '../support/pg-stores.js';

// The PostgreSQL store on PGlite (PostgreSQL in WebAssembly, in process), in every run: it is
// what the PostgreSQL tests fall back to where no server can be had, so it must keep passing.
runStoreConformance('postgres on PGlite', () => postgresStore({ pool: pglitePoolFor(freshSchema('pgl')) }));
