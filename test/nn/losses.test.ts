// Losses over [..., C] with sample weights, masks and ignoreClass: float64 references computed here (PyTorch ignore_index / Keras sum_over_batch_size semantics), finite-difference gradients, bit-identity of the [B, C] path, and errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/core/engine.js';
import { DTypeError, IndexError, ShapeError } from '../../src/core/errors.js';
import { logSoftmax, mean, mul, neg, oneHot, softmax, softmaxCrossEntropy, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { getLoss } from '../../src/nn/index.js';
import { checkGradients } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/random.js';

const B = 3, T = 4, C = 5;
const logitsV = new Rng(11).uniforms(B * T * C, -3, 3);
// Labels with padding id 0 in some positions (a padded batch of sequences).
const labelsV = [2, 4, 1, 0, 3, 3, 0, 0, 1, 2, 4, 0];
const L = (): Tensor => tensor(Float32Array.from(logitsV), [B, T, C]);
const Y = (): Tensor => tensor(Int32Array.from(labelsV), [B, T], 'int32');
const W = (v: number[], shape: number[]): Tensor => tensor(Float32Array.from(v), shape);
const run = (f: () => Tensor): number => tidy(() => f().item());

/** −log softmax(logits[i])[label] in float64. */
function ce64(i: number, label: number): number {
  const row = Array.from(logitsV.subarray(i * C, (i + 1) * C), Number);
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return lse - row[label];
}
/** softmax(logits[i]) in float64. */
function probs64(i: number): number[] {
  const row = Array.from(logitsV.subarray(i * C, (i + 1) * C), Number);
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
/** Σ w·ce / (number of positions that count), PyTorch ignore_index with weights as Keras. */
function reference(weight: (i: number) => number, counts: (i: number) => boolean): number {
  let s = 0, n = 0;
  for (let i = 0; i < B * T; i++) if (counts(i)) { s += weight(i) * ce64(i, labelsV[i]); n++; }
  return n ? s / n : 0;
}
const close = (got: number, want: number, what: string, tol = 2e-6): void =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} want ${want}`);

describe('sparse cross-entropy over [B, T, C]', () => {
  const sce = getLoss('sparse_categorical_crossentropy', { fromLogits: true });
  const padded = getLoss('sparse_categorical_crossentropy', { fromLogits: true, ignoreClass: 0 });
  const padProbs = getLoss('sparse_categorical_crossentropy', { ignoreClass: 0 });

  test('unweighted: the mean over all B·T positions', () => {
    close(run(() => sce.compute(L(), Y())), reference(() => 1, () => true), 'from logits');
    close(run(() => softmaxCrossEntropy(L(), Y())), reference(() => 1, () => true), 'op');
  });

  test('ignoreClass 0: the mean over the non-padding positions only (PyTorch ignore_index), from logits and from probabilities', () => {
    const want = reference(() => 1, (i) => labelsV[i] !== 0);
    assert.ok(Math.abs(want - reference(() => 1, () => true)) > 1e-3, 'the padding changes the value');
    close(run(() => padded.compute(L(), Y())), want, 'from logits');
    close(run(() => padProbs.compute(softmax(L()), Y())), want, 'from probabilities', 1e-5);
  });

  test('sample weights [B] and [B, T]: Σ w·loss over counted positions / their number (Keras sum_over_batch_size)', () => {
    const wb = [0.5, 2, 1];
    const wt = Array.from({ length: B * T }, (_, i) => (i % 3) * 0.75);
    const counts = (i: number): boolean => labelsV[i] !== 0;
    close(run(() => padded.compute(L(), Y(), true, { sampleWeight: W(wb, [B]) })), reference((i) => wb[Math.floor(i / T)], counts), 'per sample');
    close(run(() => padded.compute(L(), Y(), true, { sampleWeight: W(wt, [B, T]) })), reference((i) => wt[i], counts), 'per position');
    close(run(() => sce.compute(L(), Y(), true, { sampleWeight: W(wb, [B]) })), reference((i) => wb[Math.floor(i / T)], () => true), 'no mask: divides by all positions');
    close(run(() => padProbs.compute(softmax(L()), Y(), false, { sampleWeight: W(wt, [B, T]) })), reference((i) => wt[i], counts), 'from probabilities', 1e-5);
  });

  test('a mask [B, T] or [B] divides by the positions it keeps', () => {
    const m = [1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0];
    close(run(() => sce.compute(L(), Y(), true, { mask: W(m, [B, T]) })), reference(() => 1, (i) => m[i] === 1), 'mask [B, T]');
    close(run(() => sce.compute(L(), Y(), true, { mask: W([1, 0, 1], [B]) })), reference(() => 1, (i) => Math.floor(i / T) !== 1), 'mask [B]');
    const none = run(() => sce.compute(L(), Y(), true, { mask: W([0, 0, 0], [B]) }));
    assert.ok(none === 0, `nothing counts: 0 (Keras), not NaN; got ${none}`);
  });

  test('gradients of the masked and weighted losses match finite differences', () => {
    const wt = W(Array.from({ length: B * T }, (_, i) => 0.25 + (i % 4) * 0.5), [B, T]);
    checkGradients('ignoreClass, weights [B, T], from logits', (x) => padded.compute(x, Y(), true, { sampleWeight: wt }), [L()], { maxCoords: 60 });
    checkGradients('mask, from logits', (x) => sce.compute(x, Y(), true, { mask: W([1, 0, 1], [B]) }), [L()], { maxCoords: 60 });
    const p = tidy(() => softmax(L()));
    checkGradients('ignoreClass, weights [B], from probabilities', (x) => padProbs.compute(x, Y(), false, { sampleWeight: W([0.5, 2, 1], [B]) }), [p], { eps: 1e-3, maxCoords: 60 });
  });

  test('the gradient of the padded loss is zero at padding positions and the mean of the rest elsewhere', () => {
    tidy(() => {
      const x = L();
      const g = valueAndGrads(() => padded.compute(x, Y()), [x]).grads[0].f32();
      const valid = labelsV.filter((v) => v !== 0).length;
      for (let i = 0; i < B * T; i++) {
        const p = probs64(i);
        for (let j = 0; j < C; j++) {
          const want = labelsV[i] === 0 ? 0 : (p[j] - (j === labelsV[i] ? 1 : 0)) / valid;
          assert.ok(Math.abs(g[i * C + j] - want) < 1e-6, `d/dx[${i},${j}] ${g[i * C + j]} want ${want}`);
        }
      }
    });
  });

  test('a label outside [0, C) is allowed only where it does not count (e.g. ignoreClass −100)', () => {
    const y = (): Tensor => tensor(Int32Array.from(labelsV.map((v) => (v === 0 ? -100 : v))), [B, T], 'int32');
    const ignore = getLoss('sparse_categorical_crossentropy', { fromLogits: true, ignoreClass: -100 });
    close(run(() => ignore.compute(L(), y())), reference(() => 1, (i) => labelsV[i] !== 0), 'ignore -100');
    assert.throws(() => run(() => sce.compute(L(), y())), (e: Error) => e instanceof IndexError && /sparse_categorical_crossentropy: label -100 at position 3 of labels \[3,4\] is outside \[0, 5\) \(predictions \[3,4,5\]\)/.test(e.message));
  });
});

describe('the [B, C] path is unchanged', () => {
  test('unweighted rank-2 cross-entropy is bit-identical to the one-hot formula, value and gradient', () => {
    tidy(() => {
      const x = tensor(new Rng(3).uniforms(8 * 10, -4, 4), [8, 10]);
      const y = tensor(new Rng(4).ints(8, 0, 9), [8], 'int32');
      const old = (v: Tensor): Tensor => neg(mean(sum(mul(logSoftmax(v), oneHot(y, 10)), 1)));
      const a = valueAndGrads(() => getLoss('sparse_categorical_crossentropy', { fromLogits: true }).compute(x, y), [x]);
      const b = valueAndGrads(() => old(x), [x]);
      assert.equal(a.value.item(), b.value.item());
      assert.deepEqual(a.grads[0].f32(), b.grads[0].f32());
    });
  });
});

describe('categorical cross-entropy and MSE over [..., C]', () => {
  const soft = Array.from({ length: B * T * C }, (_, k) => ((k * 7) % C === 1 ? 0.6 : 0.1));
  const S = (): Tensor => W(soft, [B, T, C]);
  const cat64 = (i: number): number => {
    const p = probs64(i);
    return -p.reduce((s, pj, j) => s + soft[i * C + j] * Math.log(pj), 0);
  };

  test('categorical over [B, T, C] with weights [B, T]: Σ w·loss / B·T', () => {
    const wt = Array.from({ length: B * T }, (_, i) => (i % 2) + 0.5);
    let want = 0;
    for (let i = 0; i < B * T; i++) want += wt[i] * cat64(i);
    want /= B * T;
    close(run(() => getLoss('categorical_crossentropy', { fromLogits: true }).compute(L(), S(), true, { sampleWeight: W(wt, [B, T]) })), want, 'from logits');
    close(run(() => getLoss('categorical_crossentropy').compute(softmax(L()), S(), false, { sampleWeight: W(wt, [B, T]) })), want, 'from probabilities', 1e-5);
    checkGradients('categorical weighted', (x) => getLoss('categorical_crossentropy', { fromLogits: true }).compute(x, S(), true, { sampleWeight: W(wt, [B, T]) }), [L()], { maxCoords: 60 });
  });

  test('MSE over any shape; weights [B] broadcast; mask [B, T] divides by the kept elements', () => {
    const p = new Rng(5).uniforms(B * T * C, -1, 1), t = new Rng(6).uniforms(B * T * C, -1, 1);
    const P = (): Tensor => W(Array.from(p), [B, T, C]), Tg = (): Tensor => W(Array.from(t), [B, T, C]);
    const mse = getLoss('mse');
    const wb = [1, 0, 3];
    const m = [1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1];
    let plain = 0, weighted = 0, masked = 0, kept = 0;
    for (let k = 0; k < p.length; k++) {
      const d2 = (p[k] - t[k]) ** 2;
      plain += d2;
      weighted += wb[Math.floor(k / (T * C))] * d2;
      if (m[Math.floor(k / C)]) { masked += d2; kept++; }
    }
    close(run(() => mse.compute(P(), Tg())), plain / p.length, 'plain');
    close(run(() => mse.compute(P(), Tg(), false, { sampleWeight: W(wb, [B]) })), weighted / p.length, 'weights [B]');
    close(run(() => mse.compute(P(), Tg(), false, { mask: W(m, [B, T]) })), masked / kept, 'mask [B, T]');
    checkGradients('mse weighted', (x) => mse.compute(x, Tg(), false, { sampleWeight: W(wb, [B]) }), [P()], { maxCoords: 60 });
  });
});

describe('bad input names the loss and both shapes', () => {
  const sce = getLoss('sparse_categorical_crossentropy', { fromLogits: true });
  const probe = (f: () => unknown, cls: new (...a: never[]) => Error, re: RegExp): void =>
    assert.throws(() => tidy(() => { f(); }), (e: Error) => e instanceof cls && re.test(e.message), re.source);

  test('weights or mask of the wrong shape', () => {
    probe(() => sce.compute(L(), Y(), true, { sampleWeight: W([1, 2], [2]) }), ShapeError,
      /^sparse_categorical_crossentropy: sample weights \[2\] do not fit positions \[3,4\]: expected \[3\] or \[3,4\]$/);
    probe(() => sce.compute(L(), Y(), true, { mask: W(new Array(15).fill(1), [3, 5]) }), ShapeError,
      /^sparse_categorical_crossentropy: mask \[3,5\] do not fit positions \[3,4\]/);
    probe(() => getLoss('mse').compute(L(), L(), false, { sampleWeight: W([1, 2, 3, 4], [4]) }), ShapeError,
      /^mean_squared_error: sample weights \[4\] do not fit positions \[3,4,5\]/);
  });

  test('labels of the wrong shape, dtype or range; predictions and targets that differ', () => {
    probe(() => sce.compute(L(), tensor(Int32Array.from([1, 2, 3]), [3], 'int32')), ShapeError,
      /^sparse_categorical_crossentropy: .*predictions \[3,4,5\] need labels \[3,4\], got \[3\]/);
    probe(() => getLoss('sparse_categorical_crossentropy').compute(softmax(L()), W(labelsV, [B, T])), DTypeError, /sparse_categorical_crossentropy/);
    probe(() => sce.compute(L(), tensor(Int32Array.from(labelsV.map((v, i) => (i === 5 ? 7 : v))), [B, T], 'int32')), IndexError,
      /^sparse_categorical_crossentropy: label 7 at position 5 of labels \[3,4\] is outside \[0, 5\) \(predictions \[3,4,5\]\)$/);
    probe(() => getLoss('categorical_crossentropy').compute(L(), W(new Array(12).fill(0), [B, T])), ShapeError,
      /^categorical_crossentropy: predictions \[3,4,5\] and targets \[3,4\] differ in shape$/);
  });

  test('ignoreClass is for the sparse cross-entropy only', () => {
    assert.throws(() => getLoss('categorical_crossentropy', { ignoreClass: 0 }), /categorical_crossentropy.*ignoreClass/);
    assert.throws(() => getLoss('mse', { ignoreClass: 0 }), RangeError);
    assert.throws(() => getLoss('sparse_categorical_crossentropy', { ignoreClass: 0.5 }), RangeError);
  });
});
