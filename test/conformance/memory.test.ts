import { memoryStore } from '@tessera/core';
import { runStoreConformance } from './cases.js';

runStoreConformance('memory', () => memoryStore());
