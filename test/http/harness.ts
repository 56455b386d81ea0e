/**
 * Helpers of the sidecar tests: keys, a demo catalog file, the `tessera` CLI as a real child
 * process (through tsx, from the sources), and a small reader of server-sent events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = 'packages/http/src/cli.ts';

export const FULL_KEY = 'full-access-key-0123456789abcdef';
export const READ_KEY = 'read-only-key-0123456789abcdef';

/** A fresh temp folder, removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-http-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes the demo catalog as JSON into `dir` and returns its path. */
export function writeDemoCatalog(dir: string): string {
  const file = join(dir, 'catalog.json');
  writeFileSync(file, JSON.stringify(demoCatalog, null, 2));
  return file;
}

/** The environment of a child process: the parent's without any Tessera setting or key, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // Every option has an environment fallback (TESSERA_DB, PORT...): none may leak in from the runner.
  for (const name of Object.keys(env)) if (name.startsWith('TESSERA_') && name !== 'TESSERA_PG_URL' && name !== 'TESSERA_PG') delete env[name];
  delete env.PORT;
  return { ...env, ...extra };
}

function runTsx(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the CLI to its end. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runTsx(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export interface SidecarProcess {
  url: string;
  /** The line the CLI printed on start. */
  banner: string;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
}

/**
 * Starts `tessera serve` on a free loopback port (`--port 0`) and resolves once it printed its URL.
 * With `addressFlags: false`, no --port / --host: the environment or the defaults decide.
 */
export function startSidecarProcess(
  args: string[],
  env: Record<string, string> = { TESSERA_FULL_ACCESS_KEYS: FULL_KEY, TESSERA_READ_ONLY_KEYS: READ_KEY },
  { addressFlags = true }: { addressFlags?: boolean } = {},
): Promise<SidecarProcess> {
  const child = runTsx(['serve', ...(addressFlags ? ['--port', '0', '--host', '127.0.0.1'] : []), ...args], env);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera serve printed no URL within 20 s; stderr: ${stderr}`));
    }, 20_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited with ${code} before listening; stderr: ${stderr}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /(http:\/\/\S+)/.exec(stdout);
      if (!m || !stdout.includes('\n')) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        banner: stdout.trim(),
        stderr: () => stderr,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Reads server-sent events from a response body, one at a time. */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next event with data (comments and `retry:` blocks skipped); rejects after `timeoutMs`. */
  async next(timeoutMs = 5_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event: SseEvent = { data: '' };
        let hasData = false;
        for (const line of block.split('\n')) {
          const i = line.indexOf(':');
          if (i === 0) continue;
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'data') {
            event.data = hasData ? `${event.data}\n${value}` : value;
            hasData = true;
          } else if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
        }
        if (hasData) return event;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no server-sent event in time');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no server-sent event in time')), left))),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error('the event stream ended');
      this.buffer += this.decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, '\n');
    }
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}
