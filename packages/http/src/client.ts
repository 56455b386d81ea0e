import { createClient as createFetchClient, isTesseraError as isClientError, type ClientOptions, type TesseraClient } from '@tessera/client';
import { TesseraError } from '@tessera/core';

/** The engine's TesseraError for the client's (same code, message and details); anything else as is. */
function engineError(e: unknown): unknown {
  return isClientError(e) && !(e instanceof TesseraError) ? new TesseraError(e.code, e.message, e.details) : e;
}

/**
 * `@tessera/client`'s typed client, throwing `@tessera/core`'s TesseraError: a server that has the
 * engine loaded anyway gets errors that `instanceof TesseraError` recognises, like the engine's
 * own. The client package itself never loads the engine (see its README).
 */
export function createClient(options: ClientOptions): TesseraClient {
  let client: TesseraClient;
  try {
    client = createFetchClient(options);
  } catch (e) {
    throw engineError(e);
  }
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)) {
    wrapped[name] = (...args: unknown[]) =>
      fn(...args).catch((e: unknown) => {
        throw engineError(e);
      });
  }
  return wrapped as TesseraClient;
}
