#!/usr/bin/env node
// The `tessera` command. A committed file rather than dist/cli.js itself, so that npm links the
// bin at install time in the repository too, before anything is built (see packages/http/README.md).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (existsSync(cli)) {
  await import(cli.href);
} else {
  process.stderr.write('tessera: @tessera/http is not built; run `npm run build` in the repository first\n');
  process.exitCode = 1;
}
