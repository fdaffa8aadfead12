// Models and sharing shared by the ONNX export and import tests: kernels replaced by maps, a graph of every exported layer, a recurrent stack.
import { truncatedNormal } from '../../src/core/ops/index.js';
import { input, layers, type Model, model } from '../../src/nn/index.js';
import { HashedMap } from '../../src/sharing/hashed.js';
import { LowRankMap, matrixView } from '../../src/sharing/low-rank.js';
import { clusterWeights } from '../../src/transforms/cluster.js';

/** The ways {@link share} shares a model's kernels. */
export type Sharing = 'plain' | 'hashed' | 'lowRank' | 'codebook' | 'pruned-codebook';

/** Replaces every kernel of a built model by the given kind of map (fitted or drawn). */
export function share(m: Model, kind: Sharing): void {
  if (kind === 'codebook' || kind === 'pruned-codebook') {
    clusterWeights(m, { clusters: 16, ...(kind === 'pruned-codebook' ? { prune: 0.8 } : {}) });
    return;
  }
  let seed = 1;
  for (const w of m.weights()) {
    if (w.role !== 'kernel' || kind === 'plain') continue;
    const shape = w.map.shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const sd = Math.sqrt(2 / matrixView(shape)[0]);
    if (kind === 'hashed') {
      const k = Math.max(1, Math.ceil(n / 8));
      w.layer.replaceWeight(w.name, new HashedMap(shape, k, seed++, true, truncatedNormal([k], { seed: seed++, stddev: sd })));
    } else {
      const [rows, cols] = matrixView(shape);
      const r = Math.min(4, rows, cols);
      const u = truncatedNormal([rows, r], { seed: seed++, stddev: Math.sqrt(sd / Math.sqrt(r)) });
      const v = truncatedNormal([r, cols], { seed: seed++, stddev: Math.sqrt(sd / Math.sqrt(r)) });
      w.layer.replaceWeight(w.name, new LowRankMap(shape, r, u, v));
    }
  }
}

/**
 * A built graph over 28×28×1 images with strided 'same' conv and pools, concatenation, dropout, gelu, a decoder tied to its
 * encoder transposed (tied:enc/kernel:T), a layer used twice, layer norm, Add, Subtract, Multiply, Average.
 */
export function everythingModel(): Model {
  const x = input({ shape: [28, 28, 1] });
  const c = layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }).apply(x);
  const p = layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(c);
  const q = layers.maxPooling2d({ poolSize: 2, padding: 'same' }).apply(c);
  const cat = layers.concatenate().apply([layers.activation({ activation: 'sigmoid' }).apply(p), layers.dropout({ rate: 0.5 }).apply(q)]);
  const f = layers.flatten().apply(cat);
  const enc = layers.dense({ units: 32, activation: 'gelu', name: 'enc' }).apply(f);
  const dec = layers.dense({ units: f.shape[0], name: 'dec', maps: { kernel: 'tied:enc/kernel:T' } }).apply(enc);
  const shared = layers.dense({ units: 32, activation: 'relu', name: 'shared' });
  const a = shared.apply(enc);
  const b = shared.apply(layers.layerNormalization({ name: 'ln' }).apply(enc));
  const merged = layers.average().apply([layers.add().apply([a, b]), layers.subtract().apply([a, b]), layers.multiply().apply([a, b])]);
  const out = layers.dense({ units: 10, activation: 'softmax', name: 'head' }).apply(layers.concatenate().apply([merged, layers.dense({ units: 8 }).apply(dec)]));
  return model({ inputs: x, outputs: out, name: 'everything' }).build(3);
}

/**
 * A built recurrent stack on ids [6] (vocabulary 12): LSTM with returnState and a codebook kernel, GRU with reset after and
 * before (relu), a goBackwards LSTM, Bidirectional GRU (ave) and SimpleRNN (concat, returnState), a goBackwards SimpleRNN
 * with a hashed recurrent kernel.
 */
export function recurrentModel(): Model {
  const ids = input({ shape: [6], dtype: 'int32' });
  const e = layers.embedding({ inputDim: 12, outputDim: 5 }).apply(ids);
  const [seq, h, c] = layers.lstm({ units: 7, returnSequences: true, returnState: true, maps: { kernel: 'codebook:8' } }).applyAll(e);
  const g1 = layers.gru({ units: 6, returnSequences: true }).apply(seq);
  const g2 = layers.gru({ units: 5, resetAfter: false, returnSequences: true, activation: 'relu' }).apply(g1);
  const back = layers.lstm({ units: 3, goBackwards: true, returnSequences: true }).apply(g2);
  const bi = layers.bidirectional({ layer: layers.gru({ units: 4, returnSequences: true }), mergeMode: 'ave' }).apply(back);
  const [bc, ...states] = layers.bidirectional({ layer: layers.simpleRNN({ units: 3, returnState: true }) }).applyAll(bi);
  const r = layers.simpleRNN({ units: 4, goBackwards: true, maps: { recurrentKernel: 'hashed:1/2' } }).apply(g2);
  const out = layers.dense({ units: 3, activation: 'softmax' }).apply(layers.concatenate().apply([r, h, c, bc, ...states]));
  return model({ inputs: ids, outputs: out }).build(2);
}
