// storedPerWeight / storedPerLayer: a model file's bytes per weight and per layer, from the file's own tensor sizes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { modelToCheckpoint } from '../../src/io/model-file.js';
import { storedPerLayer, storedPerWeight } from '../../src/io/stored.js';
import { Dense, Flatten, MaxPooling2D, sequential } from '../../src/nn/index.js';
import { clusterWeights } from '../../src/transforms/index.js';

test('storedPerLayer: per layer with weights, the sum of its weights\' rows, map kinds joined as summary() shows them', () => {
  const m = sequential([
    new MaxPooling2D({ inputShape: [8, 8, 1], poolSize: 2 }), new Flatten(), new Dense({ units: 32, activation: 'relu', name: 'h' }),
    new Dense({ units: 4, activation: 'softmax', name: 'out' }),
  ]).build(3);
  clusterWeights(m, { clusters: 4, prune: 0.5, layers: ['h'] });
  const stored = decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m, { withOptimizer: false }))).stored!;
  const weights = storedPerWeight(m, stored.tensorBytes);
  const layers = storedPerLayer(m, stored.tensorBytes);
  assert.deepEqual(layers.map((l) => [l.layer, l.className, l.kinds, l.elements]), [['h', 'Dense', 'codebook+dense', 16 * 32 + 32], ['out', 'Dense', 'dense', 32 * 4 + 4]]);
  assert.equal(layers[0].bytes, weights[0].bytes + weights[1].bytes);
  // The random kernel at 4 bytes each; the zero bias is all exact halves, stored as float16 (2 bytes each).
  assert.equal(layers[1].bytes, 4 * 32 * 4 + 2 * 4, 'float32 kernel, float16 zero bias');
  assert.equal(layers[1].bitsPerWeight, (8 * layers[1].bytes) / (32 * 4 + 4));
  assert.ok(layers[0].bitsPerWeight < 8, `a pruned 4-centroid codebook and a float32 bias: ${layers[0].bitsPerWeight} bits per weight`);
  assert.equal(layers.reduce((s, l) => s + l.bytes, 0), [...stored.tensorBytes.values()].reduce((a, b) => a + b, 0), 'every tensor byte is some layer\'s');
  m.dispose();
});
