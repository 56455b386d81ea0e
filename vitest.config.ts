import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@tessera/core': src('core'),
      '@tessera/client': src('client'),
      '@tessera/sqlite': src('sqlite'),
      '@tessera/sql': src('sql'),
      '@tessera/postgres': src('postgres'),
      '@tessera/http': src('http'),
      '@tessera/testing': src('testing'),
      '@tessera/openfeature': src('openfeature'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/setup/postgres.ts'],
    testTimeout: 30_000,
    // Opening a store runs in hooks; PGlite (the PostgreSQL fallback) takes seconds to start on a busy machine.
    hookTimeout: 60_000,
    // expect.poll waits for something another process or a browser does: its default second is
    // shorter than a loaded CI machine takes to answer (the dashboard's cancel round trip missed it).
    expect: { poll: { timeout: 15_000 } },
    pool: 'forks',
    benchmark: {
      include: ['bench/**/*.bench.ts'],
    },
  },
});
