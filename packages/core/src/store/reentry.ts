/**
 * Which store an `engine.transaction` callback runs inside, so that a call that would open a
 * second transaction on it from inside the callback (an engine method instead of its `tx.*`) fails
 * at once instead of waiting forever for the transaction it runs in
 * (docs/transactions.md#rules-for-the-callback).
 */
import { TesseraError } from '../errors.js';

interface Marker {
  run<R>(store: object, fn: () => R): R;
  getStore(): object | undefined;
}

/**
 * Node's AsyncLocalStorage, found at run time rather than imported: core bundles for a browser with
 * no Node built-in (test/client/bundle.test.ts). Where there is none (a browser, Node before
 * 20.16), the marker is off and a nested call waits, as docs/transactions.md#rules-for-the-callback says.
 */
function newMarker(): Marker | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const hooks = proc?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage?: new () => Marker } | undefined;
  return hooks?.AsyncLocalStorage ? new hooks.AsyncLocalStorage() : undefined;
}

const insideCallback = newMarker();

/** Runs `fn` (an engine.transaction callback) marked as running inside a write transaction of `store`. */
export function runInsideCallback<T>(store: object, fn: () => Promise<T>): Promise<T> {
  return insideCallback ? insideCallback.run(store, fn) : fn();
}

/**
 * Throws CONFLICT when called from inside an engine.transaction callback on `store`: a
 * transaction opened there would wait for the callback's, which waits for it. `doing` names the
 * call for the message. Stores with one writer at a time (memory, SQLite) call it for every
 * transaction; the engine for every write (on any store, a write outside `tx` would not be part of it).
 */
export function refuseInsideCallback(store: object, doing: string): void {
  if (insideCallback?.getStore() !== store) return;
  throw new TesseraError(
    'CONFLICT',
    `${doing}: called on the engine inside its own engine.transaction callback, where it would wait for that transaction (or write outside it); ` +
      'call the tx.* method instead (tx.consumeUsage...), or make the call after engine.transaction resolved',
  );
}
