// Compiles the AssemblyScript kernels (src/kernels) into two wasm binaries: 128-bit SIMD, and SIMD + relaxed SIMD.
// Every top-level file of src/kernels is an entry (its exports are the module's); src/kernels/lib holds helpers.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const out = join(root, 'dist', 'kernels');
mkdirSync(out, { recursive: true });

const dir = join(root, 'src', 'kernels');
const entries = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort().map((f) => join(dir, f));
const common = [
  ...entries,
  '-O3', '--noAssert', '--runtime', 'stub',
  '--importMemory', '--sharedMemory', '--initialMemory', '256', '--maximumMemory', '65536',
];
const variants = [
  { file: 'weightshare-simd.wasm', features: 'simd,threads' },
  { file: 'weightshare-relaxed.wasm', features: 'simd,relaxed-simd,threads' },
];
for (const v of variants) {
  execFileSync(process.execPath, [asc, ...common, '--enable', v.features, '-o', join(out, v.file)], { stdio: 'inherit' });
  console.log(`built dist/kernels/${v.file}`);
}
