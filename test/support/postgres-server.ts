/**
 * A real PostgreSQL server for tests and benchmarks, with nothing to set up by hand:
 * TESSERA_PG_URL when set, otherwise a throwaway cluster in a temp dir, started from
 * the locally installed server binaries and deleted again on stop().
 */
import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** Connection string, e.g. postgres://postgres@127.0.0.1:54321/postgres. */
  url: string;
  kind: 'external' | 'throwaway';
  /** Server version, e.g. "15.18". */
  version: string;
  /** Stops the throwaway cluster and deletes its files; does nothing for an external server. Idempotent. */
  stop(): Promise<void>;
}

const SERVER_BINARIES = ['initdb', 'pg_ctl', 'postgres'] as const;
/** Distro packages (Debian/Ubuntu) keep the server binaries off PATH, one dir per major version. */
const VERSIONED_BIN_ROOT = '/usr/lib/postgresql';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function holdsServerBinaries(dir: string): boolean {
  return SERVER_BINARIES.every((bin) => isExecutable(join(dir, bin)));
}

/** The bin dir holding initdb, pg_ctl and postgres: from PATH first, then the newest /usr/lib/postgresql/<v>/bin. */
export function findPostgresBinaries(): string | undefined {
  for (const entry of (process.env.PATH ?? '').split(delimiter)) {
    if (!entry) continue;
    const initdb = join(entry, 'initdb');
    if (!isExecutable(initdb)) continue;
    // Prefer the real install dir over a dir of symlinks: it surely holds the matching pg_ctl and postgres.
    let real: string | undefined;
    try {
      real = dirname(realpathSync(initdb));
    } catch {
      real = undefined;
    }
    for (const dir of [real, entry]) if (dir && holdsServerBinaries(dir)) return dir;
  }
  let versions: string[];
  try {
    versions = readdirSync(VERSIONED_BIN_ROOT);
  } catch {
    return undefined;
  }
  const newestFirst = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of newestFirst) {
    const dir = join(VERSIONED_BIN_ROOT, v, 'bin');
    if (holdsServerBinaries(dir)) return dir;
  }
  return undefined;
}

/** A throwaway cluster a test stops and starts again itself (a server restart, a crash). */
export interface RestartablePostgres extends PostgresServer {
  kind: 'throwaway';
  /** `pg_ctl stop -m <mode>`, waiting until the server is down: 'fast' ends sessions cleanly, 'immediate' is a crash (recovery on start). */
  shutdown(mode: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port, waiting until it accepts connections. */
  start(): Promise<void>;
}

/**
 * A throwaway cluster of the caller's own, whatever TESSERA_PG_URL says: for tests that stop and
 * restart the server, which must never be the run's shared one. Undefined without server binaries.
 * `durable`: as for startPostgres; without it commits still reach the OS before they are
 * acknowledged (synchronous_commit stays on), so an immediate shutdown loses nothing acknowledged.
 */
export async function startRestartablePostgres(opts: { durable?: boolean } = {}): Promise<RestartablePostgres | undefined> {
  const bin = findPostgresBinaries();
  if (!bin) return undefined;
  return (await startThrowaway(bin, opts.durable === true, true)) as RestartablePostgres;
}

/** TESSERA_PG_URL when set (kind 'external', stop() does nothing); otherwise a throwaway cluster when the server binaries are installed; undefined when neither. */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<PostgresServer | undefined> {
  const external = process.env.TESSERA_PG_URL;
  if (external) return connectExternal(external);
  const bin = findPostgresBinaries();
  if (!bin) return undefined;
  return startThrowaway(bin, opts.durable === true);
}

async function connectExternal(url: string): Promise<PostgresServer> {
  // Ask the server for its version: that also fails fast, with a clear message, on a wrong URL.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  let version: string;
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    version = (rows[0]?.server_version ?? '').split(' ')[0] ?? '';
  } catch (err) {
    throw new Error(`TESSERA_PG_URL is set but the server at ${describeUrl(url)} is not usable: ${String(err)}`, {
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
  return { url, kind: 'external', version, stop: async () => undefined };
}

/** host:port/db of a connection string, without the password, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

interface RunAs {
  /** Wraps a command so it runs as the `postgres` OS user when we are root (initdb and pg_ctl refuse root). */
  wrap(cmd: string, args: string[]): [string, string[]];
  owner?: { uid: number; gid: number };
}

async function runAsForCurrentUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { wrap: (cmd, args) => [cmd, args] };
  let uid: number;
  let gid: number;
  try {
    uid = Number((await run('id', ['-u', 'postgres'])).trim());
    gid = Number((await run('id', ['-g', 'postgres'])).trim());
  } catch (err) {
    throw new Error(
      'Running as root, and PostgreSQL refuses to run as root, but there is no `postgres` OS user to run it as. ' +
        'Create one (useradd --system postgres) or set TESSERA_PG_URL.',
      { cause: err },
    );
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find(isExecutable);
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    runuser
      ? [runuser, ['-u', 'postgres', '--', cmd, ...args]]
      : ['su', ['postgres', '-s', '/bin/sh', '-c', [cmd, ...args].map(shellQuote).join(' ')]];
  return { wrap, owner: { uid, gid } };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        const output = `${stdout}${stderr}`.trim();
        const how = err.killed ? 'timed out' : `exited with ${err.code ?? err.signal}`;
        reject(new Error(`${[cmd, ...args].map(shellQuote).join(' ')} ${how}${output ? `\n${output}` : ''}`));
      } else resolve(stdout);
    });
  });
}

/** A TCP port that is free right now; the server may still lose a race for it, so startThrowaway retries. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function logTail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** Postmaster pid from the data dir's lock file, for the signal fallback when pg_ctl cannot stop it. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function startThrowaway(bin: string, durable: boolean, restartable = false): Promise<PostgresServer | RestartablePostgres> {
  const runAs = await runAsForCurrentUser();
  const root = await mkdtemp(join(tmpdir(), 'tessera-pg-'));
  // The data dir is a child so initdb creates it with the 0700 mode postgres insists on.
  const dataDir = join(root, 'data');
  const logFile = join(root, 'log');
  // cwd for our commands: under runuser the postgres user may not be allowed into ours.
  const exec = (cmd: string, args: string[]) => run(...runAs.wrap(join(bin, cmd), args), root);

  const discard = async () => {
    if (existsSync(join(dataDir, 'postmaster.pid'))) await stopCluster(exec, dataDir).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };

  try {
    if (runAs.owner) chownSync(root, runAs.owner.uid, runAs.owner.gid);
    const [versionOut] = await Promise.all([
      run(join(bin, 'postgres'), ['--version']),
      exec('initdb', ['-D', dataDir, '--auth=trust', '-U', 'postgres', '--encoding=UTF8', '--no-locale', '--no-sync']).catch(
        (err: Error) => {
          const hint = runAs.owner ? `\n(the postgres OS user must be able to reach ${root}; set TMPDIR to move it)` : '';
          throw new Error(`${err.message}${hint}`);
        },
      ),
    ]);
    const version = /\(PostgreSQL\)\s+(\S+)/.exec(versionOut)?.[1] ?? versionOut.trim();

    const settings = ['listen_addresses=127.0.0.1', 'max_connections=200'];
    // A restartable cluster keeps synchronous_commit: its tests crash the server, not the OS.
    if (!durable) settings.push('fsync=off', ...(restartable ? [] : ['synchronous_commit=off']), 'full_page_writes=off');
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      // pg_ctl hands -o to /bin/sh, hence the quoting.
      const serverOpts = ['-p', String(port), '-k', root, ...settings.flatMap((s) => ['-c', s])].map(shellQuote).join(' ');
      try {
        await exec('pg_ctl', ['-D', dataDir, '-w', '-t', '30', '-l', logFile, 'start', '-o', serverOpts]);
      } catch (err) {
        const log = await logTail(logFile);
        await stopCluster(exec, dataDir).catch(() => undefined);
        // Another process may have taken the port between freePort() and the server binding it.
        if (attempt < 3 && /could not bind|already in use/i.test(log)) continue;
        throw new Error(`${(err as Error).message}\n--- server log (tail) ---\n${log}`);
      }
      const server = throwawayServer(`postgres://postgres@127.0.0.1:${port}/postgres`, version, exec, root, dataDir);
      if (!restartable) return server;
      return {
        ...server,
        kind: 'throwaway',
        shutdown: async (mode: 'fast' | 'immediate') => {
          await exec('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
        },
        start: async () => {
          try {
            await exec('pg_ctl', ['-D', dataDir, '-w', '-t', '30', '-l', logFile, 'start', '-o', serverOpts]);
          } catch (err) {
            throw new Error(`${(err as Error).message}\n--- server log (tail) ---\n${await logTail(logFile)}`, { cause: err });
          }
        },
      } satisfies RestartablePostgres;
    }
  } catch (err) {
    await discard();
    throw new Error(`Could not start a throwaway PostgreSQL cluster from ${bin}: ${(err as Error).message}`, { cause: err });
  }
}

function throwawayServer(
  url: string,
  version: string,
  exec: (cmd: string, args: string[]) => Promise<string>,
  root: string,
  dataDir: string,
): PostgresServer {
  // Safety net for a test run that exits without calling stop(): never leave a server behind.
  const onExit = () => {
    const pid = postmasterPid(dataDir);
    if (pid !== undefined && isAlive(pid)) {
      try {
        process.kill(pid, 'SIGQUIT'); // immediate shutdown
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | undefined;
  return {
    url,
    kind: 'throwaway',
    version,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', onExit);
        try {
          await stopCluster(exec, dataDir);
        } finally {
          await rm(root, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}

/** Immediate shutdown (no checkpoint: the data is thrown away); falls back to signals if pg_ctl fails. */
async function stopCluster(exec: (cmd: string, args: string[]) => Promise<string>, dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  try {
    await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    return;
  } catch (err) {
    if (pid === undefined || !isAlive(pid)) return;
    process.kill(pid, 'SIGQUIT');
    for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      throw new Error(`PostgreSQL (pid ${pid}) did not stop; killed it`, { cause: err });
    }
  }
}
