import { defineConfig } from 'tsup';

// One build per package: ESM + CJS + .d.ts, dependencies left external. The declarations of a
// package need those of the packages it imports, so `npm run build` builds them one at a time
// in dependency order (TESSERA_PACKAGE names the one to build; all of them when unset).
const order = ['core', 'sql', 'sqlite', 'postgres', 'http', 'testing'];
const only = process.env.TESSERA_PACKAGE;
const packages = only ? order.filter((p) => p === only) : order;

export default defineConfig(
  packages.map((name) => ({
    name,
    entry: { index: `packages/${name}/src/index.ts`, ...(name === 'http' ? { cli: 'packages/http/src/cli.ts' } : {}) },
    outDir: `packages/${name}/dist`,
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { paths: {} } },
    tsconfig: 'tsconfig.json',
    sourcemap: true,
    clean: true,
    target: 'node20',
    external: [/^@tessera\//, 'better-sqlite3', 'pg', 'kysely', 'decimal.js', 'date-fns', 'mitt', 'valibot', /^hono(\/|$)/, /^@hono\//, 'fast-check', /^@opentelemetry\//],
  })),
);
