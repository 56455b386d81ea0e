/**
 * A FIFO async lock. Stores use it so that concurrent engine calls in one process take turns
 * at the transaction, as a database connection requires.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private held = false;

  /** Runs `fn` once every earlier holder has finished; resolves or rejects with its result. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      this.held = true;
      try {
        return await fn();
      } finally {
        this.held = false;
      }
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** True while a holder runs. */
  get isHeld(): boolean {
    return this.held;
  }
}
