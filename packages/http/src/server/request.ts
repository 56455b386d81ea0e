// Reading a request for the sidecar: its body within a size limit, as JSON, and the key it presents.
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { TesseraErrorDetails } from '@tessera/core';
import type { WireErrorCode } from '../errors.js';
import { presentedKey } from './keys.js';

/** A failure the sidecar answers itself, before or around the engine call. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: WireErrorCode,
    message: string,
    readonly details: TesseraErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const tooLarge = (max: number) =>
  new HttpFailure(413, 'INVALID_ARGUMENT', `body: larger than ${max} bytes; send less per call (e.g. split a bulk report)`, { field: 'body', maxBytes: max });

/** Node's request under @hono/node-server (`c.env.incoming`); absent under `app.request()` and other runtimes. */
type NodeIncoming = IncomingMessage | undefined;
export const incomingOf = (c: Context): NodeIncoming => (c.env as Partial<HttpBindings> | undefined)?.incoming;

/**
 * The body as text, refusing more than `max` bytes without reading it whole. Under node:http it
 * reads the IncomingMessage itself: asking the Request for its text would make @hono/node-server
 * build a full WHATWG Request and stream, which costs more than the rest of a check.
 */
export async function readBodyText(c: Context, max: number): Promise<string> {
  const incoming = incomingOf(c);
  const declared = incoming ? incoming.headers['content-length'] : c.req.raw.headers.get('content-length');
  // HTTP framing holds a body to its declared length, so a declared length within the limit is enough.
  if (declared != null && Number(declared) > max) throw tooLarge(max);
  if (incoming) return readIncoming(incoming, max);
  const req = c.req.raw;
  if (declared != null) return req.text();
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** A node:http request's body as text, refusing more than `max` bytes (the declared length is checked by the caller). */
export function readIncoming(incoming: IncomingMessage, max: number): Promise<string> {
  if (incoming.readableEnded) return Promise.resolve('');
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (err: unknown, text?: string) => {
      incoming.off('data', onData).off('end', onEnd).off('error', done);
      if (err) reject(err);
      else resolve(text!);
    };
    // What is left of a refused body is drained by @hono/node-server once the answer is sent.
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) done(tooLarge(max));
      else chunks.push(chunk);
    };
    const onEnd = () => done(null, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, total).toString('utf8'));
    incoming.on('data', onData).on('end', onEnd).on('error', done);
  });
}

/** The JSON body, `{}` when empty. */
export async function readJsonBody(c: Context, max: number): Promise<unknown> {
  return parseJsonBody(await readBodyText(c, max));
}

/** A body's text as JSON, `{}` when empty. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpFailure(400, 'INVALID_ARGUMENT', `body: not valid JSON (${(e as Error).message}); send the method's params object as JSON`, { field: 'body' });
  }
}

/** The key a request presents, read from node's headers when there (cheaper than building a Headers). */
export function keyOf(c: Context): string | null {
  const incoming = incomingOf(c);
  return incoming ? keyOfIncoming(incoming) : presentedKey(c.req.raw.headers);
}

export function keyOfIncoming(incoming: IncomingMessage): string | null {
  const { authorization, 'x-api-key': apiKey } = incoming.headers;
  return presentedKey({ get: (name: string) => (name === 'authorization' ? (authorization ?? null) : typeof apiKey === 'string' ? apiKey : null) });
}
