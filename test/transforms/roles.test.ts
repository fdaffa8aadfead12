// Weights declare roles: a custom layer whose kernel-like weight is named 'w' is found by --sharing, pruning, clustering and stripping with no edit elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/core/engine.js';
import { matmul, mul, tensor } from '../../src/core/ops/index.js';
import type { Random } from '../../src/core/random.js';
import type { Shape } from '../../src/core/shape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { applySharing } from '../../src/cli/train.js';
import { type CallContext, Dense, Flatten, Layer, type LayerOptions, registerLayer, sequential, type Sequential } from '../../src/nn/index.js';
import { isShareable, SHAREABLE_ROLES } from '../../src/nn/weight-role.js';
import { CodebookMap, PrunedMap, SharingError } from '../../src/sharing/index.js';
import { clusterWeights, pruneWeights, shareableWeights, stripSharing } from '../../src/transforms/index.js';
import { Rng } from '../helpers/random.js';

/** y = (x·w) ⊙ scale: a kernel-like weight under another name than 'kernel', and a norm-like scale that stays plain. */
class ScaledProjection extends Layer {
  readonly className = 'ScaledProjection';
  readonly defaultName = 'scaled_projection';
  constructor(readonly units: number, o: LayerOptions = {}) {
    super(o);
  }

  outputShape(s: Shape): number[] {
    return [this.units];
  }

  protected override createWeights(s: Shape, rng: Random): void {
    this.addWeight('w', [s[0], this.units], 'glorot_uniform', rng, { role: 'kernel' });
    this.addWeight('scale', [this.units], 'ones', rng, { role: 'gamma' });
  }

  call(x: Tensor, _ctx: CallContext): Tensor {
    return mul(matmul(x, this.weight('w').materialize()), this.weight('scale').materialize());
  }

  protected config(): Record<string, unknown> {
    return { units: this.units };
  }
}
registerLayer('ScaledProjection', (c) => new ScaledProjection(c.units as number, c as LayerOptions));

/** The model's outputs on `x` as a plain array (temporaries freed). */
function outputs(m: Sequential, x: Tensor): Float32Array {
  let y: Float32Array = new Float32Array(0);
  tidy(() => void (y = m.call(x).f32()));
  return y;
}

const build = (): Sequential => sequential([
  new Flatten({ inputShape: [6, 6, 1] }),
  new ScaledProjection(12, { name: 'proj' }),
  new Dense({ units: 3, activation: 'softmax', name: 'out' }),
]);

test('roles: which are shareable; weights() carries each weight\'s role', () => {
  assert.deepEqual(SHAREABLE_ROLES, ['kernel', 'recurrentKernel', 'embedding']);
  assert.ok(!isShareable('bias') && !isShareable('gamma') && isShareable('embedding'));
  const m = build().build(1);
  assert.deepEqual(m.weights().map((w) => `${w.path}:${w.role}`), ['proj/w:kernel', 'proj/scale:gamma', 'out/kernel:kernel', 'out/bias:bias']);
  assert.deepEqual(shareableWeights(m, undefined, 'codebook').map((w) => w.path), ['proj/w', 'out/kernel']);
  assert.deepEqual(shareableWeights(m, ['out', 'proj'], 'codebook').map((w) => w.path), ['out/kernel', 'proj/w']);
  // A role survives replacing the weight's map.
  pruneWeights(m, { prune: 0.5, layers: ['proj'] });
  assert.equal(m.weights()[0].role, 'kernel');
  m.dispose();
});

test('prune, cluster and strip find a custom layer\'s kernel-like weight by its role, not its name', () => {
  const m = build().build(2);
  const x = tensor(new Rng(3).normals(5 * 36, 1), [5, 6, 6, 1]);
  const y0 = outputs(m, x);
  const pr = pruneWeights(m, { prune: (w) => (w.layer.name === 'proj' ? 0.5 : 0) });
  assert.deepEqual(pr.map((r) => [r.path, r.pruned]), [['proj/w', 216]]);
  assert.ok(m.getLayer('proj').weight('w') instanceof PrunedMap);
  assert.equal(m.getLayer('proj').weight('scale').kind, 'dense');
  const cr = clusterWeights(m, { clusters: 4 });
  assert.deepEqual(cr.map((r) => [r.path, r.clusters, r.pruned]), [['proj/w', 4, 216], ['out/kernel', 4, 0]]);
  assert.ok(m.getLayer('proj').weight('w') instanceof CodebookMap);
  assert.equal(m.getLayer('proj').weight('scale').kind, 'dense', 'a gamma is never clustered');
  assert.deepEqual(m.toJSON().layers[1].config.maps, { w: m.getLayer('proj').weight('w').toJSON() });
  const yc = outputs(m, x);
  assert.deepEqual(stripSharing(m), ['proj/w', 'out/kernel']);
  assert.deepEqual(outputs(m, x), yc, 'stripping keeps the outputs');
  assert.notDeepEqual(yc, y0, 'clustering changed the weights');
  // Errors name the weight by its own name.
  clusterWeights(m, { clusters: 4, layers: ['proj'] });
  assert.throws(() => clusterWeights(m, { clusters: 4, layers: ['proj'] }),
    (e: Error) => e instanceof SharingError && /^layer 'proj' w, scheme 'codebook': only a dense kernel can be clustered, this one is 'codebook'/.test(e.message));
  x.dispose();
  m.dispose();
});

test('--sharing: one scheme for every shareable weight, or per layer, reaches the custom layer\'s \'w\' and not its scale', () => {
  const m = build();
  applySharing(m, 'hashed:1/4');
  assert.deepEqual(m.getLayer('proj').mapSpecs, { w: 'hashed:1/4' });
  assert.deepEqual(m.getLayer('out').mapSpecs, { kernel: 'hashed:1/4' });
  m.build(0);
  assert.equal(m.getLayer('proj').weight('w').kind, 'hashed');
  assert.equal(m.getLayer('proj').weight('scale').kind, 'dense');
  m.dispose();
  const p = build();
  applySharing(p, 'proj=lowRank:2,proj/scale=hashed:buckets=3');
  assert.deepEqual(p.getLayer('proj').mapSpecs, { w: 'lowRank:2', scale: 'hashed:buckets=3' });
  assert.deepEqual(p.getLayer('out').mapSpecs, {});
  assert.throws(() => applySharing(build(), 'proj/kernel=hashed:1/2'), /--sharing: no weight 'proj\/kernel' \(weights there: proj\/w, proj\/scale\)/);
});
