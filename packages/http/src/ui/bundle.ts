import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The dashboard's browser code: one ES module and one style sheet, as text. */
export interface DashboardAssets {
  js: string;
  css: string;
}

/** Where this module lives: `import.meta.url` in ESM, `__filename` in the CommonJS build. */
const here = (): string => (typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url);

/**
 * Bundles the dashboard's sources (packages/http/dashboard/main.ts with preact, htm and uPlot)
 * with esbuild, minified, in memory. `npm run build` runs it once and writes the result into
 * dist/ui/ (tsup.config.ts); a sidecar running from the sources runs it on the first request for
 * the assets instead (README.md#dashboard). esbuild is loaded only then: the published package
 * never needs it.
 */
export async function bundleDashboard(entry: string): Promise<DashboardAssets> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    write: false,
    outdir: 'out',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js) throw new Error('dashboard bundle: esbuild wrote no JavaScript');
  return { js: js.text, css: css?.text ?? '' };
}

let loading: Promise<DashboardAssets> | undefined;

/**
 * The dashboard's assets: dist/ui/dashboard.{js,css} next to the built package when there,
 * else bundled from the sources once per process. A failure is not cached (the next request tries again).
 */
export function dashboardAssets(): Promise<DashboardAssets> {
  loading ??= (async () => {
    const base = here();
    try {
      const [js, css] = await Promise.all([readFile(new URL('./ui/dashboard.js', base), 'utf8'), readFile(new URL('./ui/dashboard.css', base), 'utf8')]);
      return { js, css };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    // Running from the sources (packages/http/src/ui/bundle.ts): the entry is packages/http/dashboard/main.ts.
    return bundleDashboard(fileURLToPath(new URL('../../dashboard/main.ts', base)));
  })().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
