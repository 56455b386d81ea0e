/** The writes the replica worker records (test/http/replica-worker.ts), shared with the test that checks their sum. */

/** Writes come in runs of this many of one kind, so that deliveries batch. */
export const RUN = 50;
/** Write `i` is a usage report of `tokens` or a `request` event. */
export const kindOf = (i: number): 'usage' | 'event' => (Math.floor(i / RUN) % 2 === 0 ? 'usage' : 'event');
/** What write `i` adds: 1 + i % 5 tokens, or 1 request. */
export const valueOf = (i: number): number => (kindOf(i) === 'usage' ? 1 + (i % 5) : 1);
