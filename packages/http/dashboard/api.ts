/** Calls to the sidecar, each carrying the key the tab signed in with. */

/** A refused call: the sidecar's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let apiKey = '';
/** Sets the key every call carries (main.ts, once). */
export function useKey(key: string): void {
  apiKey = key;
}

const headers = (): Record<string, string> => ({ authorization: `Bearer ${apiKey}` });

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'INTERNAL', body?.error?.message ?? `the sidecar answered ${res.status}`);
  return body as T;
}

/** `POST /v1/<method>` with `params` as the body: the client's route. */
export async function call<T = unknown>(method: string, params: unknown = {}): Promise<T> {
  const res = await fetch(`/v1/${method}`, { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify(params) });
  return answer<T>(res);
}

/** `GET <path>` (the dashboard's own /ui/api routes). */
export async function get<T = unknown>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: headers() }));
}

/** One change of the feed (`engine.getChanges`). */
export interface Change {
  seq: number;
  at: number;
  kind: string;
  customerId: string | null;
  entityId: string | null;
  payload: unknown;
}

/**
 * Follows `GET /v1/changes/stream` (server-sent events). EventSource cannot send a header, so the
 * stream is read with fetch; on a broken connection it resumes after the last seq it saw.
 * Returns a function that stops it.
 */
export function followChanges(params: { after: number; customerId?: string }, onChange: (c: Change) => void, onState: (state: string) => void): () => void {
  const stop = new AbortController();
  let after = params.after;
  const run = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        const qs = new URLSearchParams({ after: String(after) });
        if (params.customerId) qs.set('customerId', params.customerId);
        const res = await fetch(`/v1/changes/stream?${qs}`, { headers: headers(), signal: stop.signal });
        if (!res.ok || !res.body) throw await answer(res).catch((e: unknown) => e);
        onState('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trimStart())
              .join('\n');
            if (data === '' || /^event: *error/m.test(block)) continue;
            const change = JSON.parse(data) as Change;
            after = change.seq;
            onChange(change);
          }
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        onState(`reconnecting (${(e as Error).message ?? e})`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => stop.abort();
}
