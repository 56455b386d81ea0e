/**
 * Docs that run: every ```ts / ```typescript block of README.md, packages/*\/README.md and
 * packages/*\/docs/*.md is typechecked (strict, the repository's tsconfig and its paths) and, unless
 * marked, run, as a package user would write it (imports from '@tessera/...', which the vitest
 * aliases and tsconfig paths map to the sources).
 *
 * The convention, an HTML comment on the line before the fence (items joined with `;`):
 *   <!-- snippet: continues -->               runs after the previous block of the same file, as one program
 *   <!-- snippet: setup=NAME -->              starts with the prelude NAME from test/docs/preludes.ts
 *                                             (the catalog, engine or subscription the text assumes)
 *   <!-- snippet: typecheck-only (REASON) --> typechecked, not run; the reason is required
 *                                             (a server it needs, a test runner of its own...)
 * An unmarked block must run: there is no way to skip one silently. Programs are written to
 * test/docs/.tmp/ (git-ignored, so bare imports resolve from the repository) and run in process,
 * one at a time, each in its own temporary working directory (they create SQLite files), within
 * RUN_TIMEOUT_MS; a prelude that starts a server (setup=sidecar) pushes its stop function on
 * globalThis.__snippetCleanup, run after the program. Blocks that need a server should read its URL
 * from the environment (`process.env.TESSERA_URL ?? 'http://...'`), as a deployment would, so the
 * prelude can point them at one it started.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrograms, type SnippetProgram } from './extract.js';
import { PRELUDES } from './preludes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'test/docs/.tmp');
const RUN_TIMEOUT_MS = 20_000;

/**
 * pino is shown in operating.md but is not a dependency of the repository: the typecheck sees a
 * declaration of the part the docs use (its default export is a logger of the shape Tessera takes).
 */
const AMBIENT = `
declare module 'pino' {
  import type { Logger } from '@tessera/core';
  export default function pino(): Logger;
}
`;

interface Written {
  program: SnippetProgram;
  path: string;
  /** Where each block starts in the written file (0-based line), to map diagnostics back to the doc. */
  segments: { start: number; file: string; line: number }[];
  preludeLines: number;
}

function slug(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, '-');
}

function write(program: SnippetProgram): Written {
  const prelude = program.setup ? PRELUDES[program.setup] : '';
  if (prelude === undefined) throw new Error(`${program.id}: no prelude named "${program.setup}" in test/docs/preludes.ts`);
  const parts = [`// ${program.id}${program.setup ? ` (setup=${program.setup})` : ''}`, prelude];
  let lineNo = parts.join('\n').split('\n').length;
  const segments: Written['segments'] = [];
  for (const s of program.snippets) {
    parts.push(`// ---- ${s.file}:${s.line}`);
    lineNo += 1;
    segments.push({ start: lineNo, file: s.file, line: s.line });
    parts.push(s.code);
    lineNo += s.code.split('\n').length;
  }
  parts.push('export {};', '');
  const path = join(OUT, `${slug(program.id)}.ts`);
  writeFileSync(path, parts.join('\n'));
  return { program, path, segments, preludeLines: segments[0]!.start };
}

/** Where a diagnostic's line (0-based, in the written file) is in the docs. */
function docPosition(w: Written, line: number): string {
  let at = `prelude ${w.program.setup ?? ''} (line ${line + 1} of ${w.path})`;
  for (const seg of w.segments) if (line >= seg.start) at = `${seg.file}:${seg.line + (line - seg.start)}`;
  return at;
}

function typecheck(written: Written[]): string[] {
  const configFile = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  const ambient = join(OUT, 'ambient.d.ts');
  writeFileSync(ambient, AMBIENT);
  const program = ts.createProgram({
    rootNames: [...written.map((w) => w.path), ambient],
    options: { ...parsed.options, strict: true, noEmit: true },
  });
  const problems: string[] = [];
  for (const w of written) {
    const sf = program.getSourceFile(w.path)!;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const { line } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
      problems.push(`${docPosition(w, line)}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return problems;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const programs = loadPrograms(ROOT);
let written: Written[] = [];
const cwd = process.cwd();

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  written = programs.map(write);
});

afterAll(() => {
  process.chdir(cwd);
  rmSync(OUT, { recursive: true, force: true });
});

describe('the docs’ TypeScript blocks', () => {
  it('are found in every doc, each either run or typecheck-only with a reason', () => {
    const listing = programs.map((p) => {
      const blocks = p.snippets.map((s) => `${s.line}`).join('+');
      return `${p.typecheckOnly ? `typecheck-only (${p.typecheckOnly})` : 'run'}  ${p.file}:${blocks}${p.setup ? `  setup=${p.setup}` : ''}`;
    });
    console.log(`${programs.length} programs from ${programs.reduce((n, p) => n + p.snippets.length, 0)} blocks:\n${listing.join('\n')}`);
    const files = new Set(programs.map((p) => p.file));
    for (const doc of ['README.md', 'packages/core/README.md', 'packages/http/README.md', 'packages/core/docs/catalog.md']) {
      expect(files).toContain(doc);
    }
    expect(programs.filter((p) => !p.typecheckOnly).length).toBeGreaterThan(programs.length / 2);
  });

  it('typecheck under strict TypeScript with the repository’s paths', () => {
    expect(typecheck(written)).toEqual([]);
  }, 90_000);

  for (const program of programs.filter((p) => !p.typecheckOnly)) {
    it(`runs ${program.id}${program.setup ? ` (setup=${program.setup})` : ''}`, async () => {
      const w = written.find((x) => x.program === program)!;
      const dir = mkdtempSync(join(tmpdir(), 'tessera-snippet-'));
      // A prelude that starts something (a sidecar) registers how to stop it here.
      const cleanup: (() => Promise<void>)[] = [];
      (globalThis as unknown as { __snippetCleanup: typeof cleanup }).__snippetCleanup = cleanup;
      const env = { ...process.env };
      process.chdir(dir);
      try {
        await withTimeout(import(/* @vite-ignore */ w.path), RUN_TIMEOUT_MS, program.id);
      } catch (e) {
        throw new Error(`${program.id} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      } finally {
        for (const stop of cleanup.reverse()) await stop();
        process.env = env;
        process.chdir(cwd);
        rmSync(dir, { recursive: true, force: true });
      }
    }, RUN_TIMEOUT_MS + 5_000);
  }
});
