// The most float32 arithmetic a wasm engine can do on this machine: a tiny module, assembled here byte by byte, whose
// loop runs twelve independent chains of f32x4 multiply-adds on registers (no memory traffic), so nothing but the
// engine's SIMD width, the core's multiply-add pipes and their latency bound it. Twelve chains hide the latency of
// two pipes (4 cycles × 2 pipes = 8 in flight) and still fit x86-64's 16 vector registers; more spill (measured:
// 4 chains 28, 8 chains 52, 12 chains 56, 14 chains 30 GFLOP/s on one Zen 5 core).
// `fmaPeak(threads)` runs it on that many threads at once (worker_threads) and returns GFLOP/s in all: the ceiling of
// any kernel of ours, the GEMMs included (they use the same instruction).
import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';

const CHAINS = 12;

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function f32(v: number): number[] {
  return [...new Uint8Array(new Float32Array([v]).buffer)];
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/**
 * The module: export `peak(n: i32) → f32` runs n iterations of CHAINS multiply-adds a_i = a_i·m + c (one f32x4
 * relaxed_madd each, or f32x4.mul then f32x4.add when `fused` is false) and returns a lane of their sum (so nothing
 * is dead code).
 */
export function peakModule(fused: boolean): Uint8Array<ArrayBuffer> {
  const SIMD = 0xfd;
  const splat = [SIMD, ...leb(0x13)], add = [SIMD, ...leb(0xe4)], mul = [SIMD, ...leb(0xe6)], madd = [SIMD, ...leb(0x105)];
  const get = (i: number): number[] => [0x20, ...leb(i)], set = (i: number): number[] => [0x21, ...leb(i)];
  const m = CHAINS + 1, c = CHAINS + 2; // locals: 0 = n, 1..CHAINS = chains, then m and c
  const code: number[] = [];
  for (let i = 1; i <= CHAINS; i++) code.push(0x43, ...f32(1 + i / 64), ...splat, ...set(i));
  code.push(0x43, ...f32(0.999), ...splat, ...set(m), 0x43, ...f32(0.001), ...splat, ...set(c));
  code.push(0x02, 0x40, 0x03, 0x40, ...get(0), 0x45, 0x0d, 0x01); // block, loop, br_if (n == 0) out
  for (let i = 1; i <= CHAINS; i++) {
    code.push(...(fused ? [...get(i), ...get(m), ...get(c), ...madd] : [...get(i), ...get(m), ...mul, ...get(c), ...add]), ...set(i));
  }
  code.push(...get(0), 0x41, 0x01, 0x6b, ...set(0), 0x0c, 0x00, 0x0b, 0x0b); // n -= 1; br loop; end; end
  code.push(...get(1));
  for (let i = 2; i <= CHAINS; i++) code.push(...get(i), ...add);
  code.push(SIMD, ...leb(0x1f), 0x00, 0x0b); // f32x4.extract_lane 0; end
  const body = [1, ...leb(CHAINS + 2), 0x7b, ...code]; // one run of CHAINS + 2 v128 locals
  const name = [...new TextEncoder().encode('peak')];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...leb(name.length), ...name, 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** Whether this engine validates relaxed SIMD (Node 20: behind a V8 flag, set here as our wasm loader sets it). */
export function hasRelaxedSimd(): boolean {
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch { /* not V8 */ }
  return WebAssembly.validate(peakModule(true));
}

/** GFLOP/s of one `peak` run of `iterations` iterations after a warm-up (2 flops per lane per multiply-add). */
export function runPeak(bytes: Uint8Array<ArrayBuffer>, iterations: number): number {
  const peak = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.peak as (n: number) => number;
  peak(1e6);
  const t0 = performance.now();
  peak(iterations);
  const s = (performance.now() - t0) / 1000;
  return (iterations * CHAINS * 4 * 2) / s / 1e9;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
require('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
const peak = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes)).exports.peak;
peak(1e6);
parentPort.once('message', () => {
  const t0 = performance.now();
  peak(workerData.iterations);
  parentPort.postMessage((workerData.iterations * ${CHAINS} * 8) / ((performance.now() - t0) / 1000) / 1e9);
});
parentPort.postMessage('ready');
`;

/**
 * The machine's wasm SIMD multiply-add ceiling on `threads` threads at once (each its own worker, started together once
 * all are compiled and warm): GFLOP/s summed over the threads, the best of `repeats` runs, and each thread's figures.
 */
export async function fmaPeak(threads: number, opts: { fused?: boolean; iterations?: number; repeats?: number } = {}): Promise<{ gflops: number; perThread: number[]; fused: boolean }> {
  const fused = opts.fused ?? hasRelaxedSimd();
  const bytes = peakModule(fused);
  const iterations = opts.iterations ?? 5e7;
  let best = { gflops: 0, perThread: [] as number[] };
  for (let r = 0; r < (opts.repeats ?? 3); r++) {
    const ws = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, workerData: { bytes, iterations } }));
    try {
      await Promise.all(ws.map((w) => new Promise((ok, fail) => { w.once('message', ok); w.once('error', fail); })));
      const results = ws.map((w) => new Promise<number>((ok, fail) => { w.once('message', ok); w.once('error', fail); }));
      for (const w of ws) w.postMessage('go');
      const perThread = await Promise.all(results);
      const gflops = perThread.reduce((a, b) => a + b, 0);
      if (gflops > best.gflops) best = { gflops, perThread };
    } finally {
      await Promise.all(ws.map((w) => w.terminate()));
    }
  }
  return { ...best, fused };
}
