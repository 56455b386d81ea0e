import { runStoreConformance } from './cases.js';
import { freshPgStore } from '../support/pg-stores.js';

runStoreConformance('postgres', () => freshPgStore().store);
