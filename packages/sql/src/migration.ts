import type { Compilable, Kysely } from 'kysely';

/** One schema step of a dialect. `version` is its place in the sequence, 1-based and gapless. */
export interface Migration {
  version: number;
  name: string;
  /**
   * The statements of the step, in order, built with kysely. The dialect's runner compiles them
   * and runs them inside its migration transaction.
   */
  up(db: Kysely<any>): Compilable[];
}
