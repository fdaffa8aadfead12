// Tape benchmark (`npm run bench:tape`): forward and backward time of a T-step loop over x[T,32,128] (x[t] by slice or unstack) beside TF.js-wasm.
// Each step: h = h + tanh(x[t]) with h [32,128]; loss = sum(h). Linear cost shows as a flat time per step.
import { add, memory, reshape, setThreads, slice, sum, tanh, tidy, unstack, valueAndGrads, zeros, randomUniform, type Tensor } from '../src/index.js';
import { registerTfjsGradients } from './train-tfjs.js';
import { loadavg } from 'node:os';
import { machine, reason, writeSection } from './util.js';

const B = 32, H = 128;
const STEPS = [16, 32, 64, 128, 256, 512];
const ti = process.argv.indexOf('--threads');
const threads = ti > 0 ? Number(process.argv[ti + 1]) : 2;
setThreads(threads);

/** Median of the values. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs `once` (returning [forward ms, backward ms]) after three warm-ups, until ~0.6 s or 25 runs (at least 5); medians. */
function time(once: () => [number, number]): [number, number] {
  for (let i = 0; i < 3; i++) once();
  const f: number[] = [], b: number[] = [];
  const start = performance.now();
  while (f.length < 5 || (f.length < 25 && performance.now() - start < 600)) {
    const [tf, tb] = once();
    f.push(tf);
    b.push(tb);
  }
  return [median(f), median(b)];
}

/** One forward + backward pass of the loop on our wasm backend; returns [forward ms, backward ms] and checks ∂L/∂x. */
function ours(x: Tensor, by: 'slice' | 'unstack', check: boolean): [number, number] {
  const T = x.shape[0];
  return tidy(() => {
    const t0 = performance.now();
    let t1 = t0;
    const { grads } = valueAndGrads(() => {
      const xs = by === 'unstack' ? unstack(x) : Array.from({ length: T }, (_, t) => reshape(slice(x, [t, 0, 0], [1, -1, -1]), [B, H]));
      let h = zeros([B, H]);
      for (const xt of xs) h = add(h, tanh(xt));
      const loss = sum(h);
      t1 = performance.now();
      return loss;
    }, [x]);
    const t2 = performance.now();
    if (check) {
      // ∂L/∂x = 1 − tanh²(x), element by element.
      const xd = x.f32(), gd = grads[0].f32();
      for (let i = 0; i < xd.length; i += 997) {
        const want = 1 - Math.tanh(xd[i]) ** 2;
        if (Math.abs(gd[i] - want) > 1e-5) throw new Error(`${by} T=${T}: wrong gradient at ${i}: ${gd[i]} vs ${want}`);
      }
    }
    return [t1 - t0, t2 - t1] as [number, number];
  });
}

type Tf = typeof import('@tensorflow/tfjs-core');

/** TF.js-wasm: forward alone, and forward + backward through tf.grad; returns [forward ms, backward ms]. */
function peer(tf: Tf, x: import('@tensorflow/tfjs-core').Tensor3D): [number, number] {
  const T = x.shape[0];
  const loss = (u: import('@tensorflow/tfjs-core').Tensor) => {
    let h: import('@tensorflow/tfjs-core').Tensor = tf.zeros([B, H]);
    for (let t = 0; t < T; t++) h = tf.add(h, tf.tanh(tf.reshape(tf.slice(u, [t, 0, 0], [1, -1, -1]), [B, H])));
    return tf.sum(h);
  };
  const t0 = performance.now();
  tf.tidy(() => loss(x).dataSync());
  const t1 = performance.now();
  tf.tidy(() => tf.grad(loss)(x).dataSync());
  const t2 = performance.now();
  return [t1 - t0, t2 - t1 - (t1 - t0)];
}

const t0 = performance.now();
const load = loadavg()[0];
let tf: Tf | undefined;
let peerInfo: string;
try {
  tf = await import('@tensorflow/tfjs-core');
  await registerTfjsGradients();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
  await tf.ready();
  peerInfo = `tfjs-core ${tf.version_core}, tfjs-backend-wasm ${wasm.version_wasm} (one XNNPACK thread under Node): tf.slice in the loop, gradients by tf.grad`;
} catch (e) {
  peerInfo = `tfjs-wasm unavailable: ${reason(e)}`;
  tf = undefined;
}

const us = (ms: number, T: number): string => ((ms * 1000) / T).toFixed(1);
const rows: string[] = [];
let peerFailure = '';
for (const T of STEPS) {
  const x = randomUniform([T, B, H], { seed: T, min: -2, max: 2 });
  ours(x, 'slice', true);
  ours(x, 'unstack', true);
  const [sf, sb] = time(() => ours(x, 'slice', false));
  const [uf, ub] = time(() => ours(x, 'unstack', false));
  let peerCells = 'n/a | n/a';
  if (tf) {
    const tfx = tf.tensor3d(x.f32(), [T, B, H]);
    try {
      const [pf, pb] = time(() => peer(tf!, tfx));
      peerCells = `${us(pf, T)} | ${us(pb, T)}`;
    } catch (e) {
      // A wasm trap (its memory is exhausted by the T full-size pads) leaves the peer unusable: stop running it.
      peerCells = `n/a [1] | n/a [1]`;
      peerFailure = `[1] tfjs-wasm failed at T = ${T}: ${reason(e)}`;
      tf = undefined;
    }
    tfx.dispose();
  }
  x.dispose();
  const row = `| ${T} | ${sf.toFixed(2)} | ${sb.toFixed(2)} | ${us(sf, T)} | ${us(sb, T)} | ${us(uf, T)} | ${us(ub, T)} | ${peerCells} |`;
  console.log(row);
  rows.push(row);
}
const leak = memory().tensors;

const m = machine();
const body = `## Tape: \`npm run bench:tape\`

- Command: \`node dist/bench/tape.js --threads ${threads}\`; date ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; wall time ${Math.round((performance.now() - t0) / 1000)} s
- Machine: nproc ${m.nproc}, ${m.cpu}, Node ${m.node}; our wasm backend, ${threads} thread(s)
- Loop: x [T,32,128]; each step h = h + tanh(x[t]) with h [32,128] (x[t] by \`slice\` + reshape, or one \`unstack\`); loss = sum(h);
  forward = building the loss on the tape, backward = the rest of \`valueAndGrads\` (∂L/∂x checked against 1 − tanh²x first).
  Medians of 5–25 runs after three warm-ups. Linear cost shows as a flat µs/step; ${leak} tensors left alive after the run.
  The machine is shared: 1-minute load average ${load.toFixed(1)} at the start, so single figures move by 2× or more.
- Peer: ${peerInfo} (its slice gradient is a full-size pad per step).

| T | slice fwd ms | slice bwd ms | slice fwd µs/step | slice bwd µs/step | unstack fwd µs/step | unstack bwd µs/step | tfjs-wasm fwd µs/step | tfjs-wasm bwd µs/step |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
${peerFailure ? `\n${peerFailure}\n` : ''}`;
console.log(`wrote ${writeSection('bench:tape', body)}`);
