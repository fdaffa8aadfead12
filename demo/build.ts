// Builds the demo into a folder of static files: the page and weightshare's worker bundled by esbuild (README's recipe), the kernels, mnist-sample and the models beside them.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (this file runs as dist/demo/build.js). */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Where `npm run demo` writes the site. */
export const DEFAULT_OUT = join(REPO, 'dist', 'demo-site');

/** A built site: its folder, its files and their bytes, and how long the build took. */
export interface BuiltDemo {
  out: string;
  files: { path: string; bytes: number }[];
  ms: number;
}

/** Files copied as they are: [from (in the repository), to (in the site), which names]. */
const COPIED: [string, string, (name: string) => boolean][] = [
  ['demo', '.', (n) => n === 'index.html' || n === 'style.css'],
  ['dist/kernels', 'kernels', (n) => n.endsWith('.wasm')],
  ['data/mnist-sample', 'mnist-sample', (n) => n.endsWith('.gz')],
  ['demo/models', 'models', (n) => n.endsWith('.wsm')],
];

/**
 * Writes the site to `out` (emptied first): app.js (demo/app.ts and the library, one ES module) and worker.js
 * (`weightshare/worker`) by esbuild, then index.html, style.css, kernels/*.wasm, mnist-sample/*.gz and models/*.wsm.
 * Needs `npm run build` first (the kernels and the compiled library) and esbuild (a devDependency).
 */
export async function buildDemo(out: string = DEFAULT_OUT): Promise<BuiltDemo> {
  const t0 = performance.now();
  if (!existsSync(join(REPO, 'dist', 'kernels'))) throw new Error(`${join(REPO, 'dist', 'kernels')} is missing: run \`npm run build\` first`);
  const esbuild = await import('esbuild');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    absWorkingDir: REPO, entryPoints: { app: 'demo/app.ts', worker: 'weightshare/worker' }, bundle: true, format: 'esm',
    platform: 'browser', target: 'es2022', outdir: out, minify: true, keepNames: true, sourcemap: 'linked', logLevel: 'warning',
  });
  for (const [from, to, take] of COPIED) {
    const src = join(REPO, from);
    mkdirSync(join(out, to), { recursive: true });
    for (const name of readdirSync(src).filter(take)) cpSync(join(src, name), join(out, to, name));
  }
  const files = readdirSync(out, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(out, p)).isFile())
    .map((p) => ({ path: p, bytes: statSync(join(out, p)).size }))
    .sort((a, b) => a.path.localeCompare(b.path));
  return { out: relative(process.cwd(), out) || '.', files, ms: performance.now() - t0 };
}
