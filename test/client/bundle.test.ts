// @tessera/client bundles for a browser: esbuild, platform browser, from the sources. A Node
// built-in anywhere in what it loads (node:crypto, fs, events...) or any package at all (the
// client has no dependencies: the engine's types are erased) fails the build or this test.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bundles `entry` for the browser; returns the bare imports it met (packages, built-ins) and the code. */
async function bundleForBrowser(entry: string): Promise<{ imports: string[]; builtins: string[]; code: string }> {
  const imports: string[] = [];
  const builtins: string[] = [];
  const record: Plugin = {
    name: 'record-imports',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        imports.push(args.path);
        if (NODE_BUILTINS.has(args.path) || args.path.startsWith('node:')) builtins.push(`${args.path} (from ${args.importer.replace(ROOT, '')})`);
        return undefined;
      });
    },
  };
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    tsconfig: 'tsconfig.json',
    plugins: [record],
  });
  return { imports, builtins, code: result.outputFiles[0]!.text };
}

describe('@tessera/client in a browser bundle', () => {
  it('bundles with no Node built-in and no dependency, not even the engine', async () => {
    const { imports, builtins, code } = await bundleForBrowser('packages/client/src/index.ts');
    expect(builtins).toEqual([]);
    expect(imports).toEqual([]);
    expect(code).toContain('createClient');
    // Nothing of the engine came along (its entry point and its decimal arithmetic).
    expect(code).not.toContain('createEngine');
    expect(code).not.toMatch(/decimal/i);
  });

  it('core bundles for a browser too: no Node built-in (ids come from Web Crypto)', async () => {
    const { builtins, imports } = await bundleForBrowser('packages/core/src/index.ts');
    expect(builtins).toEqual([]);
    // Only the packages core declares (its dependencies and its optional OpenTelemetry peer).
    expect(new Set(imports)).toEqual(new Set(['decimal.js', 'mitt', 'valibot', '@opentelemetry/api']));
  });

  it('catches a Node built-in when one is there (the check itself works)', async () => {
    const failed = await bundleForBrowser('packages/http/src/index.ts').then(
      (r) => r.builtins,
      (e: { errors?: { text: string }[] }) => (e.errors ?? []).map((x) => x.text),
    );
    expect(failed.length).toBeGreaterThan(0);
  });
});
