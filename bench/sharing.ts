// Sharing-map overhead (`npm run bench:sharing`): what materialising W = φ(θ) and back-propagating through φ cost in a training step of the reference CNN.
// For each scheme applied to every kernel, times (a) a full training step (forward, loss, backward, Adam) and
// (b) the maps alone: materialize() of every weight plus the backward pass from ∂L/∂W to ∂L/∂θ.
import { Adam, add, createModel, memory, mul, setThreads, sum, tensor, tidy, valueAndGrads } from '../src/index.js';
import { loadDataset } from '../src/data/index.js';
import { applySharing } from '../src/cli/train.js';
import { machine, writeSection } from './util.js';

const ti = process.argv.indexOf('--threads');
const threads = ti > 0 ? Number(process.argv[ti + 1]) : 2;
const quick = process.argv.includes('--quick');
const SCHEMES = ['dense', 'hashed:1/8', 'lowRank:8', 'randomMask:1/8', 'codebook:16'];
setThreads(threads);
const ds = loadDataset('mnist-sample');
const B = 32;
const steps = quick ? 10 : 60;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const rows: string[] = [];
let base: { step: number; maps: number } | undefined;
for (const scheme of SCHEMES) {
  const m = createModel('seed-cnn');
  try {
    if (scheme !== 'dense') applySharing(m, scheme);
    m.build(1);
  } catch (e) {
    rows.push(`| ${scheme} | – | – | – | – | – | skipped: ${(e as Error).message} |`);
    continue;
  }
  m.compile({ optimizer: new Adam(), loss: 'sparse_categorical_crossentropy' });
  const params = m.namedParameters().map((p) => p.param.value);
  const maps = m.weights().map((w) => w.map);
  // ∂L/∂W stand-ins: fixed random tensors of each W's shape, so the maps' backward runs exactly as in training.
  const gW = maps.map((mp, i) => tensor(Float32Array.from({ length: mp.shape.reduce((a, b) => a * b, 1) }, (_, j) => Math.sin(j * 0.37 + i)), mp.shape));
  const stepTimes: number[] = [];
  const mapTimes: number[] = [];
  for (let k = 0; k < steps + 5; k++) {
    const at = (k * B) % 7968;
    const x = tensor(ds.xTrain.subarray(at * 784, (at + B) * 784), [B, 28, 28, 1]);
    const y = tensor(ds.yTrain.subarray(at, at + B), [B], 'int32');
    let t = performance.now();
    tidy(() => { m.trainOnBatch(x, y); });
    const st = performance.now() - t;
    t = performance.now();
    tidy(() => {
      const { value } = valueAndGrads(() => maps.map((mp, i) => sum(mul(mp.materialize(), gW[i]))).reduce((a, b) => add(a, b)), params);
      value.item();
    });
    const mt = performance.now() - t;
    x.dispose();
    y.dispose();
    if (k >= 5) {
      stepTimes.push(st);
      mapTimes.push(mt);
    }
  }
  const s = median(stepTimes);
  const mt = median(mapTimes);
  const free = m.countParams();
  const virtual = maps.reduce((a, mp) => a + mp.stats().virtual, 0);
  base ??= { step: s, maps: mt };
  const extra = mt - base.maps;
  rows.push(`| ${scheme} | ${free.toLocaleString('en-US')} | ${virtual.toLocaleString('en-US')} | ${s.toFixed(2)} | ${(s - base.step).toFixed(2)} | ${extra.toFixed(2)} | ${(100 * Math.max(0, extra) / s).toFixed(1)} % |`);
  gW.forEach((g) => g.dispose());
  m.dispose();
  console.error(rows[rows.length - 1], memory().tensors);
}
const mc = machine();
const text = `## Sharing maps: \`npm run bench:sharing\`

- Command: \`node dist/bench/sharing.js --threads ${threads}${quick ? ' --quick' : ''}\`; ${new Date().toISOString().slice(0, 16)}Z; ${mc.cpu}, ${mc.nproc} cores, Node ${mc.node}
- The reference CNN (seed-cnn) with the scheme on every kernel (biases dense), batch 32, Adam. "Step" = one \`trainOnBatch\`
  (forward, loss, backward, Adam). "Maps" = materialising every weight and back-propagating a fixed ∂L/∂W to θ, timed
  alone, minus the same loop with dense maps (whose φ is the identity), i.e. what φ itself costs per step.
  Medians over ${steps} steps after 5 warm-up steps. Target: maps ≤ 15 % of the step.

| scheme | free parameters | virtual | step ms | step − dense step, ms | maps ms | maps / step |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
console.log(text);
if (!quick) writeSection('bench:sharing', text);
