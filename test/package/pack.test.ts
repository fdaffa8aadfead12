// The npm package as shipped: `npm pack` contents, sideEffects, declarations readable by TypeScript 5.0, and an install from
// the tarball into an empty project (ESM, require, the CLI, strict type-checks under nodenext and bundler resolution).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>; imports: Record<string, Record<string, string>>;
  bin: Record<string, string>; sideEffects: string[]; files: string[];
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const MB = 1024 * 1024;

let dir = '';
let tarball = '';
let files: string[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-pack-'));
  // --ignore-scripts: pack what `npm run build` left in dist/ (prepack would rebuild it from scratch).
  const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(dir, info.filename);
  files = info.files.map((f) => f.path).sort();
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A package.json target or pattern ('./dist/kernels/*') as a regular expression over packed paths. */
function pattern(target: string): RegExp {
  const body = target.replace(/^\.\//, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+');
  return new RegExp(`^${body}$`);
}

test('npm pack: dist code and declarations, both kernels, mnist-sample, README, LICENSE; no tests, sources or source maps', () => {
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/node.js', 'dist/src/node.d.ts',
    'dist/src/backend/wasm/worker.js', 'dist/src/backend/wasm/worker-node.js', 'dist/src/backend/wasm/platform-browser.js', 'dist/src/backend/wasm/platform-node.js',
    'dist/kernels/weightshare-simd.wasm', 'dist/kernels/weightshare-relaxed.wasm', 'dist/src/cli/main.js',
    'data/mnist-sample/train-images-idx3-ubyte.gz', 'data/mnist-sample/train-labels-idx1-ubyte.gz',
    'data/mnist-sample/t10k-images-idx3-ubyte.gz', 'data/mnist-sample/t10k-labels-idx1-ubyte.gz']) {
    assert.ok(files.includes(f), `${f} is not in the package`);
  }
  const stray = files.filter((f) => /^(test|bench|scripts|src)\/|^dist\/(test|bench)\/|\.map$|(?<!\.d)\.ts$/.test(f));
  assert.deepEqual(stray, [], 'tests, benchmarks, scripts, TypeScript sources and source maps stay out of the package');
});

test('npm pack: every exports, imports and bin target is in the package', () => {
  const targets = [
    ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t))),
    ...Object.values(pkg.imports).flatMap((t) => Object.values(t)),
    ...Object.values(pkg.bin),
  ];
  for (const t of targets) assert.ok(files.some((f) => pattern(t).test(f)), `${t} (package.json) matches no packed file`);
});

test('sideEffects names every packed module with top-level statements (layer and map registrations, worker and CLI entries)', () => {
  const effects = pkg.sideEffects.map(pattern);
  const missing = files.filter((f) => f.endsWith('.js') && !effects.some((p) => p.test(f))).filter((f) => {
    const top = readFileSync(join(repo, f), 'utf8').split('\n')
      .filter((l) => /^[A-Za-z_$]/.test(l) && !/^(export|import|const|let|var|function|class|async function|\/\/|\})\b/.test(l));
    return top.length > 0;
  });
  assert.deepEqual(missing, [], 'modules with top-level statements missing from package.json sideEffects (bundlers would drop them)');
});

test('declarations use nothing newer than TypeScript 5.0 (no generic typed arrays, NoInfer, import attributes, built-in iterator names)', () => {
  const newer = /\b(?:Uint8|Uint8Clamped|Int8|Uint16|Int16|Uint32|Int32|Float32|Float64|BigInt64|BigUint64)Array<|\bArrayBufferView<|\bNoInfer<|\b(?:Array|Map|Set|String|Builtin)Iterator<|\bIteratorObject<|\bFloat16Array\b|\bwith \{ *type:|\bresolution-mode\b/;
  const bad: string[] = [];
  for (const f of files.filter((p) => p.endsWith('.d.ts'))) {
    readFileSync(join(repo, f), 'utf8').split('\n').forEach((l, i) => {
      if (newer.test(l) && !/^\s*(\*|\/\/)/.test(l)) bad.push(`${f}:${i + 1}: ${l.trim()}`);
    });
  }
  assert.deepEqual(bad, []);
});

/** Runs `command` in `cwd`; returns stdout, or fails with the command's output. */
function run(cwd: string, command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEIGHTSHARE_THREADS: '' } });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${x.message}\n${x.stdout ?? ''}${x.stderr ?? ''}`);
  }
}

/** Bytes of all files below `p`. */
function size(p: string): number {
  const s = statSync(p);
  return s.isDirectory() ? readdirSync(p).reduce((a, f) => a + size(join(p, f)), 0) : s.size;
}

const consumerTs = `import * as ws from 'weightshare';
import { loadDataset, saveModel } from 'weightshare/node';
import type { ImageDataset } from 'weightshare/data';
const ds: ImageDataset = loadDataset('mnist-sample');
const m = ws.sequential([ws.layers.flatten({ inputShape: [28, 28, 1] }), ws.layers.dense({ units: 10 })]).build(0);
const b: ws.WasmBackend = await ws.initWasmBackend({ threads: 2, kernelsUrl: 'k/', workerUrl: new URL('file:///w.js') });
const s: Promise<ws.ImageDataset> = ws.fetchMnistSample({ url: 'x/' });
saveModel('m.wsm', m);
console.log(ds.classes, b.threads, s);
`;
const browserTs = `import * as ws from 'weightshare';
const b = await ws.initWasmBackend({ threads: navigator.hardwareConcurrency, kernelsUrl: '/kernels/', workerUrl: '/worker.js' });
const ds = await ws.fetchMnistSample({ url: '/mnist-sample/' });
console.log(b.threads, ds.xTrain.length, ws.matmul(ws.ones([2, 2]), ws.ones([2, 2])).shape);
`;
const consumerJs = `import * as ws from 'weightshare';
import { loadDataset } from 'weightshare/node';
import { createRequire } from 'node:module';
ws.setThreads(2);
const p = ws.tidy(() => Array.from(ws.matmul(ws.ones([64, 64]), ws.ones([64, 32])).data().subarray(0, 2)));
const byUrl = await ws.fetchMnistSample();
const cjs = createRequire(import.meta.url)('weightshare');
console.log(JSON.stringify({ backend: ws.getBackend().name, p, train: loadDataset('mnist-sample').yTrain.length, test: byUrl.yTest.length, cjs: typeof cjs.matmul }));
`;

test('the tarball installs into an empty project (production dependencies only) and runs: ESM, require, CLI, strict TypeScript', { timeout: 180000 }, () => {
  const proj = join(dir, 'consumer');
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run(proj, npm, ['install', tarball, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  const nm = join(proj, 'node_modules');
  const sizes = Object.fromEntries(readdirSync(nm).filter((d) => !d.startsWith('.')).map((d) => [d, size(join(nm, d))]));
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  console.log(`consumer install: ${(total / MB).toFixed(2)} MiB (${Object.entries(sizes).map(([k, v]) => `${k} ${(v / MB).toFixed(2)}`).join(', ')})`);
  assert.ok(sizes.weightshare < 4 * MB, `weightshare itself installs as ${(sizes.weightshare / MB).toFixed(2)} MiB (limit 4 MiB)`);

  writeFileSync(join(proj, 'run.mjs'), consumerJs);
  assert.deepEqual(JSON.parse(run(proj, process.execPath, ['run.mjs'])), { backend: 'wasm', p: [64, 64], train: 8000, test: 2000, cjs: 'function' });
  assert.match(run(proj, process.execPath, [join(nm, '.bin', 'weightshare'), '--help']), /^Usage: weightshare <command>/);

  // Strict type-checks of the installed declarations (skipLibCheck off): a Node project (nodenext) and a browser one (bundler).
  mkdirSync(join(nm, '@types'));
  symlinkSync(join(repo, 'node_modules', '@types', 'node'), join(nm, '@types', 'node'), 'dir');
  writeFileSync(join(proj, 'node.ts'), consumerTs);
  writeFileSync(join(proj, 'browser.ts'), browserTs);
  const common = { strict: true, target: 'es2022', noEmit: true, skipLibCheck: false };
  writeFileSync(join(proj, 'tsconfig.node.json'), JSON.stringify({ compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] }, files: ['node.ts'] }));
  writeFileSync(join(proj, 'tsconfig.browser.json'), JSON.stringify({ compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] }, files: ['browser.ts'] }));
  const tsc = join(repo, 'node_modules', 'typescript', 'lib', 'tsc.js');
  run(proj, process.execPath, [tsc, '-p', 'tsconfig.node.json']);
  run(proj, process.execPath, [tsc, '-p', 'tsconfig.browser.json']);
});
