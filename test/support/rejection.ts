import { expect } from 'vitest';
import { TesseraError } from '@tessera/core';

/** The TesseraError a call rejects with (fails the test when it resolves or rejects with something else). */
export async function rejection(call: Promise<unknown>): Promise<TesseraError> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(TesseraError);
  return outcome.error as TesseraError;
}
