import { mkdir, writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { bundleDashboard } from './packages/http/src/ui/bundle';

// One build per package: ESM + CJS + .d.ts, dependencies left external. The declarations of a
// package need those of the packages it imports, so `npm run build` builds them one at a time
// in dependency order (TESSERA_PACKAGE names the one to build; all of them when unset).
const order = ['core', 'client', 'sql', 'sqlite', 'postgres', 'http', 'testing', 'openfeature'];
const only = process.env.TESSERA_PACKAGE;
const packages = only ? order.filter((p) => p === only) : order;

export default defineConfig(
  packages.map((name) => ({
    name,
    entry: { index: `packages/${name}/src/index.ts`, ...(name === 'http' ? { cli: 'packages/http/src/cli.ts' } : {}) },
    outDir: `packages/${name}/dist`,
    format: ['esm', 'cjs'],
    // The client's declarations carry the engine types it names (inlined from core's), so the
    // client installs alone: no dependency, not even for types.
    dts: { compilerOptions: { paths: {} }, ...(name === 'client' ? { resolve: ['@tessera/core', 'mitt'] } : {}) },
    tsconfig: 'tsconfig.json',
    sourcemap: true,
    clean: true,
    target: 'node20',
    // The client imports nothing at run time; its declarations inline core's (dts.resolve above).
    external: name === 'client' ? [] : [/^@tessera\//, 'better-sqlite3', 'pg', 'kysely', 'decimal.js', 'mitt', 'valibot', /^hono(\/|$)/, /^@hono\//, 'fast-check', /^@opentelemetry\//, /^@openfeature\//, 'esbuild'],
    // The sidecar's dashboard, bundled once into dist/ui/ (packages/http/README.md#dashboard): the
    // published package serves these files and never needs esbuild.
    ...(name === 'http'
      ? {
          onSuccess: async () => {
            const { js, css } = await bundleDashboard('packages/http/dashboard/main.ts');
            await mkdir('packages/http/dist/ui', { recursive: true });
            await Promise.all([writeFile('packages/http/dist/ui/dashboard.js', js), writeFile('packages/http/dist/ui/dashboard.css', css)]);
          },
        }
      : {}),
  })),
);
