/**
 * The change seqs an engine appended itself and the feed has not shown yet, kept ascending so
 * that every operation is O(1) amortised: an engine appends thousands of seqs a second (a bulk
 * write appends one per cell), and a Set pruned by iteration cost a sixth of a bulk write.
 */
export class OwnSeqs {
  private seqs: number[] = [];
  /** seqs[head...] are remembered; those before are forgotten, and dropped by compact(). */
  private head = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.seqs.length - this.head;
  }

  /** Remembers a seq; past `max`, forgets the oldest. */
  add(seq: number): void {
    const a = this.seqs;
    if (a.length === this.head || a[a.length - 1]! < seq) a.push(seq);
    else {
      // Out of order: where one engine's transactions commit side by side (PostgreSQL).
      let lo = this.head;
      let hi = a.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid]! < seq) lo = mid + 1;
        else hi = mid;
      }
      if (a[lo] !== seq) a.splice(lo, 0, seq);
    }
    if (this.size > this.max) this.head++;
    this.compact();
  }

  /**
   * Whether the feed's next change `seq` is one of ours. Feeds show seqs ascending and never go
   * back, so ours below it will never show (rolled back) and are forgotten too.
   */
  take(seq: number): boolean {
    this.forgetBelow(seq);
    const own = this.head < this.seqs.length && this.seqs[this.head] === seq;
    if (own) this.head++;
    this.compact();
    return own;
  }

  /**
   * Whether every seq in (after, upTo] is one of ours: the feed then holds nothing of anyone else
   * up to `upTo`, whether or not our transactions holding them have committed yet.
   */
  fills(after: number, upTo: number): boolean {
    this.forgetBelow(after + 1);
    const n = upTo - after;
    const a = this.seqs;
    // Ascending and distinct: n of them from after + 1 end at upTo exactly when none is missing.
    return n > 0 && this.head + n <= a.length && a[this.head] === after + 1 && a[this.head + n - 1] === upTo;
  }

  /** Forgets every seq at or below `seq` (the feed read past them). */
  passed(seq: number): void {
    this.forgetBelow(seq + 1);
    this.compact();
  }

  private forgetBelow(seq: number): void {
    const a = this.seqs;
    while (this.head < a.length && a[this.head]! < seq) this.head++;
  }

  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}
