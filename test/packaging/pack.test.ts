/**
 * Every package as a user gets it: packed with `npm pack`, installed from the tarballs into a
 * project outside the repository, then used from ESM, CommonJS, the `tessera` bin and strict
 * TypeScript under moduleResolution node16, nodenext and bundler (and a browser setup with the
 * client alone).
 *
 * Builds only what is stale (a package whose dist is older than its sources, and the client when
 * core was rebuilt, since it inlines core's declarations): `npm run build` of everything takes
 * minutes on a busy machine. The install prefers the npm cache (--prefer-offline), scripts off;
 * better-sqlite3's native module is copied from the repository's build instead of compiled again.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_CHECK, CJS_SCRIPT, CTS_CHECK, ESM_SCRIPT, TS_CHECK, tsconfig, type Setup } from './fixtures.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** In build order (the declarations of each need those of the ones before). */
const PACKAGES = ['core', 'client', 'sql', 'sqlite', 'postgres', 'http', 'testing', 'openfeature'];
const timings: Record<string, number> = {};

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    timings[what] = Date.now() - start;
  }
}

/** Newest modification time under `dir` (0 when missing). */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) max = Math.max(max, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return max;
}

async function buildStale(): Promise<string[]> {
  const built: string[] = [];
  for (const p of PACKAGES) {
    const dist = join(ROOT, 'packages', p, 'dist', 'index.js');
    const stale = !existsSync(dist) || statSync(dist).mtimeMs < newest(join(ROOT, 'packages', p, 'src')) || (p === 'client' && built.includes('core'));
    if (!stale) continue;
    await run(process.execPath, [join(ROOT, 'node_modules/tsup/dist/cli-default.js')], { cwd: ROOT, env: { ...process.env, TESSERA_PACKAGE: p } });
    built.push(p);
  }
  return built;
}

/** The version of `name` installed in the repository. */
const repoVersion = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let project: string;
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: { ...process.env, npm_config_update_notifier: 'false' } });
const node = (args: string[], env: Record<string, string> = {}) => run(process.execPath, args, { cwd: project, env: { ...process.env, ...env } });

beforeAll(async () => {
  await timed('build', buildStale);
  project = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  const packed = await timed('pack', () => npm(['pack', '--pack-destination', tarballs, '--json', '--ignore-scripts', ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`])], ROOT));
  const files = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]).map((t) => ({ tarball: join(tarballs, t.filename), files: t.files.map((f) => f.path) }));
  expect(files).toHaveLength(PACKAGES.length);
  for (const { files: inside } of files) {
    expect(inside).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']));
    // Nothing but what users need: no sources, tests, examples or docs drafts.
    expect(inside.filter((f) => !/^(dist\/|bin\/tessera\.js$|catalog\.schema\.json$|package\.json$|README\.md$|LICENSE$)/.test(f))).toEqual([]);
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tessera-user', private: true, type: 'module' }));
  // The tools at the repository's versions, so the npm cache has them.
  const pinned = ['fast-check', '@types/node', 'typescript', '@openfeature/server-sdk', '@openfeature/core'].map((name) => `${name}@${repoVersion(name)}`);
  await timed('install', () => npm(['install', '--prefer-offline', '--ignore-scripts', ...files.map((f) => f.tarball), ...pinned], project));
  // Install scripts are off: better-sqlite3's native module comes from the repository's build.
  const release = join('build', 'Release', 'better_sqlite3.node');
  mkdirSync(join(project, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
  copyFileSync(join(ROOT, 'node_modules/better-sqlite3', release), join(project, 'node_modules/better-sqlite3', release));
}, 600_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
  console.log(`packaging test timings (ms): ${JSON.stringify(timings)}`);
});

describe('the packed packages, installed from their tarballs', () => {
  it('install with no dependency left out and none extra: the client alone has none', async () => {
    const { stdout } = await npm(['ls', '--all', '--json'], project);
    const tree = JSON.parse(stdout) as { dependencies: Record<string, { dependencies?: Record<string, unknown> }> };
    expect(tree.dependencies['@tessera/client']!.dependencies ?? {}).toEqual({});
    expect(existsSync(join(project, 'node_modules/date-fns'))).toBe(false);
  });

  it('run from ESM: a SQLite engine served by the sidecar, called by both clients', async () => {
    writeFileSync(join(project, 'esm.mjs'), ESM_SCRIPT);
    const { stdout } = await timed('esm', () => node(['esm.mjs']));
    expect(JSON.parse(stdout)).toEqual({
      usage: 3,
      usageDate: true,
      money: '0.3',
      clientError: [true, 'TesseraError'],
      httpError: [true, true],
      others: ['function', 'function', 'function', 2],
      // The OpenFeature provider on the sidecar client: 100 calls, 3 used.
      flag: [97, 'TARGETING_MATCH'],
      version: '0.1.0',
    });
  });

  it('run from CommonJS', async () => {
    writeFileSync(join(project, 'cjs.cjs'), CJS_SCRIPT);
    const { stdout } = await timed('cjs', () => node(['cjs.cjs']));
    expect(JSON.parse(stdout)).toEqual({ access: true, flag: true, money: '3.3', offline: true, others: ['function', 'function', 'function', 'function'] });
  });

  it('the tessera bin runs: --version, migrate on a SQLite file, serve --help', async () => {
    const bin = join(project, 'node_modules/.bin/tessera');
    const version = await run(bin, ['--version'], { cwd: project });
    expect(version.stdout).toBe('0.1.0\n');
    const migrate = await run(bin, ['migrate'], { cwd: project, env: { ...process.env, TESSERA_DB: 'bin.db' } });
    expect(migrate.stdout).toMatch(/^tessera migrate: bin\.db migrated from schema version 0 to \d+\n$/);
    const help = await run(bin, ['serve', '--help'], { cwd: project });
    expect(help.stdout).toMatch(/^Usage: tessera serve/);
    // The store adapters are optional peers: without the one --db needs, one line says what to install.
    const sqlite = join(project, 'node_modules/@tessera/sqlite');
    renameSync(sqlite, `${sqlite}-away`);
    try {
      const missing = await run(bin, ['migrate', '--db', 'other.db'], { cwd: project }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
      expect(missing).toEqual({ code: 1, stderr: expect.stringMatching(/^tessera: a SQLite file needs @tessera\/sqlite, which is not installed: npm install @tessera\/sqlite .*\n$/) });
    } finally {
      renameSync(`${sqlite}-away`, sqlite);
    }
  });

  it('typechecks with tsc --strict under node16, nodenext, bundler, and in a browser setup', async () => {
    const tsc = join(project, 'node_modules/typescript/bin/tsc');
    const check = async (setup: Setup): Promise<string> => {
      const dir = join(project, `ts-${setup}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(dir, 'check.ts'), TS_CHECK);
      writeFileSync(join(dir, 'check.cts'), CTS_CHECK);
      writeFileSync(join(dir, 'browser.ts'), BROWSER_CHECK);
      writeFileSync(join(dir, 'tsconfig.json'), tsconfig(setup));
      return timed(`tsc ${setup}`, () =>
        run(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
          () => '',
          (e: { stdout?: string }) => e.stdout || String(e),
        ),
      );
    };
    // Four independent programs: side by side rather than one after the other.
    const setups = ['node16', 'nodenext', 'bundler', 'browser'] satisfies Setup[];
    const errors = await Promise.all(setups.map(check));
    expect(Object.fromEntries(setups.map((s, i) => [s, errors[i]]))).toEqual({ node16: '', nodenext: '', bundler: '', browser: '' });
  }, 180_000);
});
