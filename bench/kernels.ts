// Kernel benchmark (`npm run bench:kernels`): GEMM and conv2d GFLOP/s of our wasm backend at 1 and 2 threads beside TF.js-wasm and jax-js.
import type { Backend, Buf, Conv2DParams } from '../src/backend/backend.js';
import { createJaxJs, createTfjsWasm, type PeerInfo } from './peers.js';
import {
  convFlops, convOut, gemmFlops, machine, randomData, reason, timeMedian, writeSection,
  type ConvOp, type ConvShape, type Engine, type GemmShape, type Runner,
} from './util.js';

const BATCH = 32;
const LAYER1: ConvShape = { label: 'conv1 x[32,28,28,1] w[3,3,1,32]', n: BATCH, h: 28, w: 28, c: 1, f: 32, kh: 3, kw: 3 };
const LAYER2: ConvShape = { label: 'conv2 x[32,13,13,32] w[3,3,32,64]', n: BATCH, h: 13, w: 13, c: 32, f: 64, kh: 3, kw: 3 };

/** The im2col GEMM of a stride-1 valid conv: [N·OH·OW, KH·KW·C]·[KH·KW·C, F]. */
function im2colGemm(s: ConvShape, name: string): GemmShape {
  const { oh, ow } = convOut(s);
  const m = s.n * oh * ow, k = s.kh * s.kw * s.c;
  return { label: `${name} im2col [${m},${k}]·[${k},${s.f}]`, m, n: s.f, k, transA: false, transB: false };
}

const GEMMS: GemmShape[] = [
  ...[256, 512, 1024].map((d) => ({ label: `${d}²`, m: d, n: d, k: d, transA: false, transB: false })),
  { label: 'dense1 fwd [32,1600]·[1600,128]', m: 32, n: 128, k: 1600, transA: false, transB: false },
  { label: 'dense1 dX [32,128]·Wᵀ[128,1600]', m: 32, n: 1600, k: 128, transA: false, transB: true },
  { label: 'dense1 dW Xᵀ[1600,32]·[32,128]', m: 1600, n: 128, k: 32, transA: true, transB: false },
  { label: 'dense2 fwd [32,128]·[128,10]', m: 32, n: 10, k: 128, transA: false, transB: false },
  im2colGemm(LAYER1, 'conv1'),
  im2colGemm(LAYER2, 'conv2'),
];
const CONVS: ConvShape[] = [LAYER1, LAYER2];
const CONV_OPS: ConvOp[] = ['forward', 'grad-input', 'grad-filter'];
const PEER_NAMES = ['tfjs-wasm', 'jax-js'] as const;

interface Row {
  shape: string;
  op: string;
  flops: number;
  gemm?: GemmShape;
  conv?: ConvShape;
  convOp?: ConvOp;
}
const ROWS: Row[] = [
  ...GEMMS.map((g) => ({ shape: g.label, op: `gemm${g.transA || g.transB ? ` ${g.transA ? 'T' : 'N'}${g.transB ? 'T' : 'N'}` : ''}`, flops: gemmFlops(g), gemm: g })),
  ...CONVS.flatMap((c) => CONV_OPS.map((op) => ({ shape: c.label, op: `conv2d ${op}`, flops: convFlops(c), conv: c, convOp: op }))),
];

/** Spot-checks 16 entries of a result against a direct dot product; returns a problem or undefined. */
function spotCheck(got: Float32Array, entry: (i: number) => [number, number]): string | undefined {
  for (let t = 0; t < 16; t++) {
    const i = Math.floor(((t * 2654435761) % 4294967296) / 4294967296 * got.length);
    const [exp, mag] = entry(i);
    if (!(Math.abs(got[i] - exp) <= 1e-3 * mag + 1e-5)) return `wrong result at ${i}: ${got[i]} vs ${exp}`;
  }
  return undefined;
}

/** Our wasm backend as a benchmark engine; each runner checks its own output once after warming up. */
function oursEngine(be: Backend, name: string): Engine {
  const bufs: Buf[] = [];
  const upload = (data: Float32Array): Buf => {
    const b = be.alloc(data.length, 'float32');
    be.write(b, data);
    bufs.push(b);
    return b;
  };
  const checked = (run: () => void, out: Buf, n: number, entry: (i: number) => [number, number]): Runner => {
    run();
    const problem = spotCheck(be.read(out, 'float32', n) as Float32Array, entry);
    if (problem) throw new Error(problem);
    return { run, dispose: () => undefined };
  };
  return {
    name,
    gemm(s) {
      const A = randomData(s.m * s.k, 1), B = randomData(s.k * s.n, 2);
      const a = upload(A), b = upload(B), c = upload(new Float32Array(s.m * s.n));
      const p = { batch: 1, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB, strideA: 0, strideB: 0, strideC: 0, accumulate: false };
      return checked(() => be.gemm(a, b, c, p), c, s.m * s.n, (idx) => {
        const i = Math.floor(idx / s.n), j = idx % s.n;
        let sum = 0, mag = 0;
        for (let q = 0; q < s.k; q++) {
          const v = (s.transA ? A[q * s.m + i] : A[i * s.k + q]) * (s.transB ? B[j * s.k + q] : B[q * s.n + j]);
          sum += v;
          mag += Math.abs(v);
        }
        return [sum, mag];
      });
    },
    conv(s, op) {
      const { oh, ow } = convOut(s);
      const p: Conv2DParams = { n: s.n, h: s.h, w: s.w, c: s.c, f: s.f, kh: s.kh, kw: s.kw, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0, oh, ow };
      const X = randomData(s.n * s.h * s.w * s.c, 3), W = randomData(s.kh * s.kw * s.c * s.f, 4), DY = randomData(s.n * oh * ow * s.f, 5);
      const x = upload(X), w = upload(W), dy = upload(DY);
      const xi = (n: number, y: number, xx: number, c: number) => ((n * s.h + y) * s.w + xx) * s.c + c;
      const wi = (ky: number, kx: number, c: number, f: number) => ((ky * s.kw + kx) * s.c + c) * s.f + f;
      const yi = (n: number, y: number, xx: number, f: number) => ((n * oh + y) * ow + xx) * s.f + f;
      let sum = 0, mag = 0;
      const add = (v: number) => { sum += v; mag += Math.abs(v); };
      const done = (): [number, number] => { const r: [number, number] = [sum, mag]; sum = 0; mag = 0; return r; };
      if (op === 'forward') {
        const y = upload(new Float32Array(s.n * oh * ow * s.f));
        return checked(() => be.conv2d(x, w, y, p), y, s.n * oh * ow * s.f, (i) => {
          const f = i % s.f, ox = Math.floor(i / s.f) % ow, oy = Math.floor(i / s.f / ow) % oh, n = Math.floor(i / s.f / ow / oh);
          for (let ky = 0; ky < s.kh; ky++) for (let kx = 0; kx < s.kw; kx++) for (let c = 0; c < s.c; c++) add(X[xi(n, oy + ky, ox + kx, c)] * W[wi(ky, kx, c, f)]);
          return done();
        });
      }
      if (op === 'grad-input') {
        const dx = upload(new Float32Array(s.n * s.h * s.w * s.c));
        return checked(() => be.conv2dGradInput(dy, w, dx, p), dx, s.n * s.h * s.w * s.c, (i) => {
          const c = i % s.c, ix = Math.floor(i / s.c) % s.w, iy = Math.floor(i / s.c / s.w) % s.h, n = Math.floor(i / s.c / s.w / s.h);
          for (let ky = 0; ky < s.kh; ky++) for (let kx = 0; kx < s.kw; kx++) {
            const oy = iy - ky, ox = ix - kx;
            if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) for (let f = 0; f < s.f; f++) add(DY[yi(n, oy, ox, f)] * W[wi(ky, kx, c, f)]);
          }
          return done();
        });
      }
      const dw = upload(new Float32Array(s.kh * s.kw * s.c * s.f));
      return checked(() => be.conv2dGradFilter(x, dy, dw, p), dw, s.kh * s.kw * s.c * s.f, (i) => {
        const f = i % s.f, c = Math.floor(i / s.f) % s.c, kx = Math.floor(i / s.f / s.c) % s.kw, ky = Math.floor(i / s.f / s.c / s.kw);
        for (let n = 0; n < s.n; n++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) add(X[xi(n, oy + ky, ox + kx, c)] * DY[yi(n, oy, ox, f)]);
        return done();
      });
    },
    close() {
      for (const b of bufs.splice(0)) be.free(b);
    },
  };
}

/** A column of results: GFLOP/s per row, or the reason it is missing. */
type Column = (number | string)[];

async function measure(engine: Engine, log: (s: string) => void): Promise<Column> {
  const col: Column = [];
  for (const row of ROWS) {
    let r: Runner | undefined;
    try {
      r = row.gemm ? engine.gemm(row.gemm) : engine.conv(row.conv!, row.convOp!);
      const s = await timeMedian(r);
      col.push(row.flops / s / 1e9);
      log(`  ${engine.name.padEnd(12)} ${row.op.padEnd(19)} ${row.shape.padEnd(40)} ${(row.flops / s / 1e9).toFixed(2).padStart(7)} GFLOP/s`);
    } catch (e) {
      col.push(reason(e));
      log(`  ${engine.name.padEnd(12)} ${row.op.padEnd(19)} ${row.shape.padEnd(40)} n/a: ${reason(e)}`);
    } finally {
      r?.dispose();
    }
  }
  engine.close();
  return col;
}

const missing = (why: string): Column => ROWS.map(() => why);

async function main(): Promise<void> {
  const log = (s: string) => console.error(s);
  const started = performance.now();
  const notes: string[] = [];
  const ours: Column[] = [];
  let relaxed: boolean | string = 'unknown';
  for (const threads of [1, 2]) {
    try {
      const { createWasmBackend } = await import('../src/backend/wasm/wasm.js');
      const be = createWasmBackend({ threads });
      relaxed = be.relaxedSimd;
      log(`ours: wasm backend, ${be.threads} thread(s), relaxed SIMD ${be.relaxedSimd ? 'yes' : 'no'}`);
      try {
        ours.push(await measure(oursEngine(be, `ours ${threads}T`), log));
      } finally {
        be.dispose();
      }
    } catch (e) {
      notes.push(`ours ${threads}T unavailable: ${reason(e)}`);
      ours.push(missing(reason(e)));
    }
  }
  const peers: Column[] = [];
  for (const [name, make] of [[PEER_NAMES[0], createTfjsWasm], [PEER_NAMES[1], createJaxJs]] as const) {
    let info: PeerInfo | undefined;
    try {
      info = await make();
      notes.push(info.note);
      log(`${name}: ${info.note}`);
    } catch (e) {
      notes.push(`${name} unavailable: ${reason(e)}`);
      peers.push(missing(reason(e)));
      continue;
    }
    peers.push(await measure(info.engine, log));
  }

  // The table; cells that failed show n/a with a footnote holding the reason.
  const reasons: string[] = [];
  const cell = (v: number | string): string => {
    if (typeof v === 'number') return v.toFixed(2);
    let k = reasons.indexOf(v);
    if (k < 0) k = reasons.push(v) - 1;
    return `n/a [${k + 1}]`;
  };
  const lines = [
    '| shape | op | ours 1T | ours 2T | tfjs-wasm | jax-js | ours 2T / best peer |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  ROWS.forEach((row, i) => {
    const rates = peers.map((c) => (typeof c[i] === 'number' ? (c[i] as number) : 0));
    const best = Math.max(...rates);
    const o2 = ours[1][i];
    const ratio = typeof o2 === 'number' && best > 0 ? `${(o2 / best).toFixed(2)}× (${PEER_NAMES[rates.indexOf(best)]})` : '–';
    lines.push(`| ${row.shape} | ${row.op} | ${cell(ours[0][i])} | ${cell(o2)} | ${cell(peers[0][i])} | ${cell(peers[1][i])} | ${ratio} |`);
  });
  const m = machine();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const body = [
    '## Kernels: `npm run bench:kernels`',
    '',
    `- Date: ${date}; wall time ${((performance.now() - started) / 1000).toFixed(0)} s`,
    `- Machine: nproc ${m.nproc}, ${m.cpu}, Node ${m.node}`,
    `- Our relaxed-SIMD module used: ${relaxed === true ? 'yes' : relaxed === false ? 'no (plain SIMD build)' : relaxed}`,
    '- GFLOP/s (higher is better), median of timed runs after warm-up; FLOPs = 2·M·N·K (GEMM), 2·N·OH·OW·F·KH·KW·C (each conv pass); batch 32, stride 1, valid.',
    '- Our results are spot-checked against direct dot products before timing; the last column divides ours 2T by the faster peer that ran (named).',
    ...notes.map((n) => `- ${n}`),
    '',
    ...lines,
    ...(reasons.length ? ['', ...reasons.map((r, k) => `[${k + 1}] ${r}`)] : []),
  ].join('\n');
  console.log(body);
  const file = writeSection('bench:kernels', body);
  log(`written to ${file}`);
}

await main();
