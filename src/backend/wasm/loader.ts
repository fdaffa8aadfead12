// Finds and compiles the kernel module for this runtime: relaxed SIMD when the runtime has it, else plain SIMD.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

/** The compiled kernel module and which variant it is. */
export interface KernelModule {
  module: WebAssembly.Module;
  relaxed: boolean;
}

let cached: KernelModule | undefined;

function bytes(file: string): Uint8Array<ArrayBuffer> {
  const url = new URL(`../../../kernels/${file}`, import.meta.url);
  try {
    return new Uint8Array(readFileSync(url));
  } catch (e) {
    throw new Error(`weightshare: cannot read the kernel module ${url.pathname} (run \`npm run build:kernels\`): ${(e as Error).message}`);
  }
}

/**
 * Compiles (once) the kernels. Relaxed SIMD is enabled behind a V8 flag in Node 20 and detected by
 * validating the relaxed build; `WEIGHTSHARE_RELAXED_SIMD=0` forces the plain SIMD build.
 */
export function loadKernels(): KernelModule {
  if (cached) return cached;
  let relaxed = false;
  let code: Uint8Array<ArrayBuffer> | undefined;
  if (process.env.WEIGHTSHARE_RELAXED_SIMD !== '0') {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    const r = bytes('weightshare-relaxed.wasm');
    if (WebAssembly.validate(r)) {
      code = r;
      relaxed = true;
    }
  }
  code ??= bytes('weightshare-simd.wasm');
  cached = { module: new WebAssembly.Module(code), relaxed };
  return cached;
}
