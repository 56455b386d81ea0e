import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Finds the TypeScript code blocks of the docs and groups them into programs.
 *
 * The convention (also written at the top of snippets.test.ts): a ```ts or ```typescript block
 * runs as a package user would write it. An HTML comment on the line(s) just before the fence
 * changes that:
 *
 *   <!-- snippet: continues -->                  the block runs after the previous block of the
 *                                                same file, as one program (shared variables)
 *   <!-- snippet: setup=NAME -->                 the program starts with the prelude NAME
 *                                                (test/docs/preludes.ts): what the reader is
 *                                                assumed to have (a catalog, an engine...)
 *   <!-- snippet: typecheck-only (REASON) -->    only typechecked (strict), never run; the
 *                                                reason (a server it needs...) is required
 *
 * Items combine with `;`: `<!-- snippet: typecheck-only (needs a PostgreSQL server); setup=catalog -->`.
 */

/** One fenced TypeScript block of a doc. */
export interface Snippet {
  /** Path relative to the repository root, e.g. `packages/core/README.md`. */
  file: string;
  /** 1-based line of the first code line (the line after the fence). */
  line: number;
  code: string;
  continues: boolean;
  setup: string | null;
  /** Why the block is only typechecked; null when it runs. */
  typecheckOnly: string | null;
}

/** Blocks run or typechecked together: a first block and the ones that continue it. */
export interface SnippetProgram {
  /** `file:line` of the first block, used as the program's name. */
  id: string;
  file: string;
  setup: string | null;
  typecheckOnly: string | null;
  snippets: Snippet[];
}

/** The docs held to the test: the root README, every package README and every core docs page. */
export function findDocFiles(root: string): string[] {
  const files = [join(root, 'README.md')];
  const packages = join(root, 'packages');
  for (const pkg of readdirSync(packages).sort()) {
    const readme = join(packages, pkg, 'README.md');
    if (existsSync(readme)) files.push(readme);
    const docs = join(packages, pkg, 'docs');
    if (existsSync(docs)) {
      for (const page of readdirSync(docs).sort()) if (page.endsWith('.md')) files.push(join(docs, page));
    }
  }
  return files.map((f) => relative(root, f));
}

const MARKER = /^<!--\s*snippet:(.*)-->\s*$/;

/** Parses a marker's items; throws on an item it does not know, so a typo is not a silent run. */
function parseMarker(text: string, where: string): Pick<Snippet, 'continues' | 'setup' | 'typecheckOnly'> {
  const out = { continues: false, setup: null as string | null, typecheckOnly: null as string | null };
  for (const raw of text.split(';')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === 'continues') out.continues = true;
    else if (item.startsWith('setup=')) out.setup = item.slice('setup='.length).trim();
    else if (item.startsWith('typecheck-only')) {
      const reason = /^typecheck-only\s*\((.+)\)$/.exec(item)?.[1]?.trim();
      if (!reason) throw new Error(`${where}: typecheck-only needs a reason in parentheses: ${item}`);
      out.typecheckOnly = reason;
    } else throw new Error(`${where}: unknown snippet marker item "${item}"`);
  }
  return out;
}

/** The ```ts / ```typescript blocks of one markdown text, with their markers. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  let i = 0;
  while (i < lines.length) {
    const fence = /^(\s*)(`{3,})(ts|typescript)\s*$/.exec(lines[i]!);
    if (!fence) {
      i++;
      continue;
    }
    // The marker is the closest non-blank line above the fence, if it is a snippet comment.
    let j = i - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const marker = j >= 0 ? MARKER.exec(lines[j]!.trim()) : null;
    const where = `${file}:${i + 1}`;
    const start = i + 1;
    const close = new RegExp(`^\\s*${fence[2]}\\s*$`);
    let end = start;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`${where}: code block never closed`);
    snippets.push({
      file,
      line: start + 1,
      code: lines.slice(start, end).join('\n'),
      ...(marker ? parseMarker(marker[1]!, where) : { continues: false, setup: null, typecheckOnly: null }),
    });
    i = end + 1;
  }
  return snippets;
}

/** Groups a file's snippets into programs; a continuing block inherits its program's setup and mode. */
export function toPrograms(snippets: Snippet[]): SnippetProgram[] {
  const programs: SnippetProgram[] = [];
  for (const s of snippets) {
    const last = programs.at(-1);
    if (s.continues) {
      if (!last || last.file !== s.file) throw new Error(`${s.file}:${s.line}: "continues" but no earlier block in the file`);
      if (s.setup) throw new Error(`${s.file}:${s.line}: a continuing block takes its program's setup`);
      // A program runs only if every block of it can run.
      if (s.typecheckOnly) last.typecheckOnly ??= s.typecheckOnly;
      last.snippets.push(s);
    } else {
      programs.push({ id: `${s.file}:${s.line}`, file: s.file, setup: s.setup, typecheckOnly: s.typecheckOnly, snippets: [s] });
    }
  }
  return programs;
}

/** Every program of the docs under `root`. */
export function loadPrograms(root: string): SnippetProgram[] {
  return findDocFiles(root).flatMap((file) => toPrograms(extractSnippets(file, readFileSync(join(root, file), 'utf8'))));
}
