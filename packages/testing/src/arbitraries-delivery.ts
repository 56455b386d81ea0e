/**
 * fast-check arbitraries of how the same writes can arrive: in another order, cut into other
 * batches. Properties such as "any order or batching of the same events gives the same usage"
 * compare a delivery in order with one of these.
 */
import fc from 'fast-check';

/**
 * The same `items`, permuted and cut into consecutive non-empty batches (every item exactly once,
 * none lost or repeated). Shrinks toward the items in their order, in one batch.
 * Example: arbReorderedBatches(['a', 'b', 'c']) may give [['c'], ['a', 'b']].
 */
export function arbReorderedBatches<T>(items: readonly T[]): fc.Arbitrary<T[][]> {
  const n = items.length;
  // The order as a Lehmer code: the k-th item delivered is the choice[k]-th of those left. Built
  // from integers that shrink to 0, so a failure shrinks deterministically toward the given order.
  const choices = Array.from({ length: n }, (_, k) => fc.integer({ min: 0, max: n - 1 - k }));
  return fc
    .record({
      choice: fc.tuple(...choices),
      // cuts[k]: a batch ends after the k-th item delivered.
      cuts: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    })
    .map(({ choice, cuts }) => {
      const left = [...items];
      const batches: T[][] = [];
      let batch: T[] = [];
      for (let k = 0; k < n; k++) {
        batch.push(left.splice(choice[k]!, 1)[0]!);
        if (cuts[k] || k === n - 1) {
          batches.push(batch);
          batch = [];
        }
      }
      return batches;
    });
}
