// Finds and compiles the kernel module for this runtime: relaxed SIMD when the runtime has it, else plain SIMD.
import { fetchBytes, fetchOk, platform, resolveUrl } from './platform.js';

/** @internal The compiled kernel module and which variant it is (internal: declarations name no WebAssembly type, see tsconfig stripInternal). */
export interface KernelModule {
  module: WebAssembly.Module;
  relaxed: boolean;
}

/** Where and how the asynchronous loader finds the kernels. */
export interface KernelSource {
  /**
   * Folder holding weightshare-simd.wasm and weightshare-relaxed.wasm (the package's `dist/kernels/`, also
   * exported as `weightshare/kernels/*`). A string is resolved against the page's address. Default: dist/kernels
   * next to this package's code, written as `new URL('…', import.meta.url)` so that Vite and webpack copy the files.
   */
  kernelsUrl?: string | URL;
  /** false forces the plain-SIMD build (Node: also `WEIGHTSHARE_RELAXED_SIMD=0`). */
  relaxedSimd?: boolean;
}

type KernelFile = 'weightshare-simd.wasm' | 'weightshare-relaxed.wasm';
/** Kernel bytes: always over a plain ArrayBuffer (a fresh copy or a fetched body), as WebAssembly.compile wants. */
type Code = Uint8Array<ArrayBuffer>;

let cached: KernelModule | undefined;

function kernelUrl(file: KernelFile, base?: string | URL): URL {
  if (base !== undefined) {
    const dir = resolveUrl(base);
    return new URL(file, dir.href.endsWith('/') ? dir : `${dir.href}/`);
  }
  // One literal URL per file: bundlers recognise `new URL('literal', import.meta.url)` and emit the file.
  return file === 'weightshare-simd.wasm'
    ? new URL('../../../kernels/weightshare-simd.wasm', import.meta.url)
    : new URL('../../../kernels/weightshare-relaxed.wasm', import.meta.url);
}

function wantRelaxed(src: KernelSource): boolean {
  return src.relaxedSimd !== false && platform.env('WEIGHTSHARE_RELAXED_SIMD') !== '0';
}

function bytes(file: KernelFile): Code {
  const url = kernelUrl(file);
  const read = platform.readSync;
  if (!read) throw new Error('weightshare: the wasm backend cannot start synchronously here; `await initWasmBackend()` first');
  try {
    return read(url) as Code;
  } catch (e) {
    throw new Error(`weightshare: cannot read the kernel module ${url.pathname} (run \`npm run build:kernels\`): ${(e as Error).message}`);
  }
}

/**
 * @internal
 * Compiles (once) the kernels, synchronously (Node only). Relaxed SIMD is enabled behind a V8 flag in
 * Node 20 and detected by validating the relaxed build; `WEIGHTSHARE_RELAXED_SIMD=0` forces the plain SIMD build.
 */
export function loadKernels(): KernelModule {
  if (cached) return cached;
  let relaxed = false;
  let code: Code | undefined;
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

/** What a failed kernel fetch tells the user to set or serve. */
function kernelHint(src: KernelSource): string {
  return src.kernelsUrl === undefined
    ? 'serve the weightshare package\'s dist/kernels/*.wasm and set initWasmBackend({ kernelsUrl }) to the folder that holds them'
    : `kernelsUrl (${String(src.kernelsUrl)}) must be the folder that serves weightshare's dist/kernels/*.wasm`;
}

/** `b` checked to be a wasm module (its magic); otherwise an Error naming the URL, what it starts with, and the hint. */
function wasmBytes(b: Code, url: URL, hint: string): Code {
  if (!(b.length >= 4 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d)) {
    const start = new TextDecoder().decode(b.subarray(0, 24)).replace(/\s+/g, ' ');
    throw new Error(`weightshare: ${url.href} is not a WebAssembly module (it starts with '${start}'): ${hint}`);
  }
  return b;
}

/**
 * Fetches and compiles one kernel file; gives the CompileError when the runtime rejects its code (relaxed SIMD where
 * it is missing). Served as application/wasm over HTTP(S) it compiles while it downloads (`compileStreaming`, off the
 * page's thread); other responses are read whole, checked to be a wasm module and compiled. A failed fetch, or bytes
 * that are not a wasm module, throw an Error naming the URL and the option to set.
 */
async function compileKernel(file: KernelFile, src: KernelSource): Promise<WebAssembly.Module | WebAssembly.CompileError> {
  const url = kernelUrl(file, src.kernelsUrl);
  const hint = kernelHint(src);
  const rejected = (e: unknown): WebAssembly.CompileError => {
    if (e instanceof WebAssembly.CompileError) return e;
    throw e;
  };
  let b: Code;
  if (url.protocol !== 'file:' && typeof WebAssembly.compileStreaming === 'function') {
    const res = await fetchOk(url, hint);
    if (/^application\/wasm\b/i.test(res.headers.get('content-type') ?? '')) return WebAssembly.compileStreaming(res).catch(rejected);
    b = new Uint8Array(await res.arrayBuffer());
  } else {
    b = (await fetchBytes(url, hint)) as Code;
  }
  return WebAssembly.compile(wasmBytes(b, url, hint)).catch(rejected);
}

/**
 * @internal
 * Compiles the kernels without blocking: in Node the synchronous loader (cached); elsewhere the .wasm files are
 * fetched and compiled asynchronously (streaming where the server says application/wasm), relaxed SIMD used when the
 * runtime compiles it.
 */
export async function loadKernelsAsync(src: KernelSource = {}): Promise<KernelModule> {
  if (platform.readSync && src.kernelsUrl === undefined && src.relaxedSimd === undefined) return loadKernels();
  if (wantRelaxed(src)) {
    platform.enableRelaxedSimd?.();
    const module = await compileKernel('weightshare-relaxed.wasm', src);
    if (module instanceof WebAssembly.Module) return { module, relaxed: true };
  }
  const module = await compileKernel('weightshare-simd.wasm', src);
  if (module instanceof WebAssembly.Module) return { module, relaxed: false };
  throw new Error(`weightshare: this runtime cannot compile ${kernelUrl('weightshare-simd.wasm', src.kernelsUrl).href} ` +
    `(it needs WebAssembly SIMD; ${module.message})`);
}
