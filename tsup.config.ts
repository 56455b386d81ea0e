import { defineConfig } from 'tsup';

// One build per package: ESM + CJS + .d.ts, dependencies left external.
const packages = ['core', 'sqlite'];

export default defineConfig(
  packages.map((name) => ({
    name,
    entry: { index: `packages/${name}/src/index.ts` },
    outDir: `packages/${name}/dist`,
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { paths: {} } },
    tsconfig: 'tsconfig.json',
    sourcemap: true,
    clean: true,
    target: 'node20',
    external: [/^@tessera\//, 'better-sqlite3', 'kysely', 'decimal.js', 'date-fns', 'mitt'],
  })),
);
