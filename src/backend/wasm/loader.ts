// Finds and compiles the kernel module for this runtime: relaxed SIMD when the runtime has it, else plain SIMD.
import { platform } from './platform.js';

/** The compiled kernel module and which variant it is. */
export interface KernelModule {
  module: WebAssembly.Module;
  relaxed: boolean;
}

/** Where and how the asynchronous loader finds the kernels. */
export interface KernelSource {
  /** Folder holding weightshare-{simd,relaxed}.wasm (default: dist/kernels next to this package's code). */
  kernelsUrl?: string | URL;
  /** false forces the plain-SIMD build (Node: also `WEIGHTSHARE_RELAXED_SIMD=0`). */
  relaxedSimd?: boolean;
}

let cached: KernelModule | undefined;

function kernelUrl(file: string, base?: string | URL): URL {
  if (base === undefined) return new URL(`../../../kernels/${file}`, import.meta.url);
  const dir = String(base).endsWith('/') ? base : `${String(base)}/`;
  return new URL(file, new URL(dir, import.meta.url));
}

function wantRelaxed(src: KernelSource): boolean {
  return src.relaxedSimd !== false && platform.env('WEIGHTSHARE_RELAXED_SIMD') !== '0';
}

function bytes(file: string): Uint8Array<ArrayBuffer> {
  const url = kernelUrl(file);
  const read = platform.readSync;
  if (!read) throw new Error('weightshare: the wasm backend cannot start synchronously here; `await initWasmBackend()` first');
  try {
    return read(url);
  } catch (e) {
    throw new Error(`weightshare: cannot read the kernel module ${url.pathname} (run \`npm run build:kernels\`): ${(e as Error).message}`);
  }
}

/**
 * Compiles (once) the kernels, synchronously (Node only). Relaxed SIMD is enabled behind a V8 flag in
 * Node 20 and detected by validating the relaxed build; `WEIGHTSHARE_RELAXED_SIMD=0` forces the plain SIMD build.
 */
export function loadKernels(): KernelModule {
  if (cached) return cached;
  let relaxed = false;
  let code: Uint8Array<ArrayBuffer> | undefined;
  if (wantRelaxed({})) {
    platform.enableRelaxedSimd?.();
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

async function fetchBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === 'file:' && platform.readSync) return platform.readSync(url);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`weightshare: cannot fetch the kernel module ${url.href}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`weightshare: cannot fetch the kernel module ${url.href}: HTTP ${res.status} (run \`npm run build:kernels\`, serve dist/kernels)`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Compiles the kernels without blocking: in Node the synchronous loader (cached); in a browser the
 * .wasm files are fetched and compiled asynchronously, relaxed SIMD used when `WebAssembly.validate` accepts it.
 */
export async function loadKernelsAsync(src: KernelSource = {}): Promise<KernelModule> {
  if (platform.readSync && src.kernelsUrl === undefined && src.relaxedSimd === undefined) return loadKernels();
  if (wantRelaxed(src)) {
    platform.enableRelaxedSimd?.();
    const r = await fetchBytes(kernelUrl('weightshare-relaxed.wasm', src.kernelsUrl));
    if (WebAssembly.validate(r)) return { module: await WebAssembly.compile(r), relaxed: true };
  }
  return { module: await WebAssembly.compile(await fetchBytes(kernelUrl('weightshare-simd.wasm', src.kernelsUrl))), relaxed: false };
}
