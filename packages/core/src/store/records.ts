/** The records a store keeps live in ../records.ts, shared by every layer; re-exported here for adapters. */
export * from '../records.js';
