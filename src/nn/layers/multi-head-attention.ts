// MultiHeadAttention: Keras 3's multi-head scaled dot-product attention, with its weight layout, masks and dropout.
import { quote } from '../../core/errors.js';
import { attentionWithScores, broadcastTo, concat, dense, expandDims, maskedSoftmax, matmul, mul, packedAttentionWithScores, reshape, transpose } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { initializerName, type InitializerName } from '../initializers.js';
import { boolOption, batchShape, type CallContext, intOption, Layer, type LayerOptions, registerLayer } from '../layer.js';
import { Dropout } from './dropout.js';

/** Options of {@link MultiHeadAttention} (Keras names). */
export interface MultiHeadAttentionOptions extends LayerOptions {
  /** Number of attention heads H. */
  numHeads: number;
  /** Size of each head for query and key (Dk). */
  keyDim: number;
  /** Size of each head for value (Dv; default keyDim). */
  valueDim?: number;
  /** Dropout rate on the attention probabilities, in training only (default 0). */
  dropout?: number;
  /** Biases in the four projections (default true). */
  useBias?: boolean;
  /** Output features (default: the query's last dimension); a number or a one-element list, as Keras' `output_shape`. */
  outputShape?: number | readonly number[] | null;
  /** Initialiser of the four kernels (default 'glorot_uniform', with Keras' fans of the rank-3 kernels, see the class). */
  kernelInitializer?: string;
  biasInitializer?: string;
  /**
   * Each query step attends only to value steps at or before it (Keras' `use_causal_mask`, which Keras takes at call
   * time; a graph layer fixes it here). Default false.
   */
  useCausalMask?: boolean;
  /**
   * Also return the attention scores (Keras' `return_attention_scores`, which Keras takes at call time): the layer then
   * has two outputs, [output, scores] with scores [batch, heads, Tq, Tv] the softmax probabilities (0 where masked,
   * before dropout); use `applyAll`. Default false.
   */
  returnAttentionScores?: boolean;
}

/**
 * One of the attention's projections (Keras builds them as EinsumDense sublayers): x [..., ...in] · kernel [...in,
 * ...units] + bias [...units] → [..., ...units], contracting the last `contracted` axes of x: one for query, key and value
 * ([dim] → [heads, keyDim]), two for the output ([heads, valueDim] → [outDim]). A low-rank map sees the kernel as the
 * matrix [Π in, Π units] it multiplies by.
 */
class Projection extends Layer {
  readonly className = 'EinsumDense';
  readonly defaultName = 'einsum_dense';
  /** Output axes; the attention sets the output projection's at build, when the query's width is known. */
  units: number[];

  constructor(units: number[], readonly contracted: number, readonly useBias: boolean, readonly kernelInitializer: InitializerName, readonly biasInitializer: InitializerName) {
    super();
    this.units = units;
  }

  outputShape(s: Shape): number[] {
    return [...s.slice(0, s.length - this.contracted), ...this.units];
  }

  protected override createWeights(s: Shape, rng: Random): void {
    const inner = s.slice(s.length - this.contracted);
    const k = inner.reduce((a, b) => a * b, 1);
    const m = this.units.reduce((a, b) => a * b, 1);
    // Keras' fans of a rank-3 kernel [a, b, c]: fanIn = a·b, fanOut = a·c (fansOf's receptive-field rule), as EinsumDense's.
    this.addWeight('kernel', [...inner, ...this.units], this.kernelInitializer, rng, { role: 'kernel', matrix: [k, m] });
    if (this.useBias) this.addWeight('bias', this.units, this.biasInitializer, rng, { role: 'bias' });
  }

  /** The kernel as the matrix [Π in, Π units] it multiplies by, and the bias [Π units] (undefined without one). */
  matrices(): [Tensor, Tensor | undefined] {
    const kernel = this.w('kernel');
    const m = this.units.reduce((a, b) => a * b, 1);
    return [reshape(kernel, [kernel.size / m, m]), this.useBias ? reshape(this.w('bias'), [m]) : undefined];
  }

  call(x: Tensor, _ctx: CallContext): Tensor {
    const lead = x.shape.slice(0, x.rank - this.contracted);
    const kernel = this.w('kernel');
    const m = this.units.reduce((a, b) => a * b, 1);
    const k = kernel.size / m;
    const y = dense(reshape(x, [...lead, k]), reshape(kernel, [k, m]), this.useBias ? reshape(this.w('bias'), [m]) : undefined);
    return reshape(y, [...lead, ...this.units]);
  }

  protected config(): Record<string, unknown> {
    return { units: this.units, contracted: this.contracted };
  }
}

/**
 * Multi-head attention (Vaswani et al. 2017) as Keras 3's `MultiHeadAttention`: inputs `x` (self-attention: query =
 * value = key), `[query, value]` or `[query, value, key]`, query [N, Tq, dq], value [N, Tv, dv], key [N, Tv, dk];
 * output [N, Tq, outDim].
 *
 * Q = query·Wq + bq [N, Tq, H, Dk], K = key·Wk + bk [N, Tv, H, Dk], V = value·Wv + bv [N, Tv, H, Dv]; per head
 * P = softmax(Q·Kᵀ/√Dk) [N, H, Tq, Tv], dropout on P in training, O = P·V; output = O·Wo + bo, Wo [H, Dv, outDim].
 *
 * Weights as Keras names and shapes them: `query/kernel` [dq, H, Dk], `query/bias` [H, Dk], `key/…` [dk, H, Dk],
 * `value/…` [dv, H, Dv] and [H, Dv], `attention_output/kernel` [H, Dv, outDim], `attention_output/bias` [outDim]. The
 * kernels' glorot fans are Keras' for these rank-3 shapes (fanIn = dq·H, fanOut = dq·Dk for the query kernel), not
 * those of their matrix views; sharing maps reach them by path (`maps: { 'query/kernel': 'lowRank:8' }`), a low-rank map
 * factorising the matrix [dq, H·Dk] (and [H·Dv, outDim]).
 *
 * Masks, as Keras' `_compute_attention_mask`: query step i may attend to value step j when the query's Keras mask holds
 * at i, the value's and the key's at j, and j ≤ i under `useCausalMask` (with one input, its mask is the query's and the
 * value's). Keras' masked Softmax adds −1e9 to masked scores before the softmax and multiplies the probabilities by the
 * mask after it: masked steps get exactly 0, and a query step with no step to attend to gets zeros, so its output is the
 * output bias. Here scaling, masks and softmax are one fused op ({@link maskedSoftmax}) with the same values; the
 * causal mask is a flag of it, never a tensor. Without masks and dropout (the language models' case) the whole of
 * softmax(Q·Kᵀ/√Dk)·V is one fused op ({@link attention}) on the projections' [N, T, H, D] layout, and self-attention
 * projects Q, K and V with one GEMM ({@link packedAttention}): the same values, the weights unchanged. The output carries
 * the query's mask.
 */
export class MultiHeadAttention extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly className = 'MultiHeadAttention';
  readonly defaultName = 'multi_head_attention';
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  /** Output features when given (else the query's last dimension). */
  readonly outputDim: number | undefined;
  readonly kernelInitializer: InitializerName;
  readonly biasInitializer: InitializerName;
  readonly useCausalMask: boolean;
  readonly returnAttentionScores: boolean;
  private readonly query: Projection;
  private readonly key: Projection;
  private readonly value: Projection;
  private readonly output: Projection;
  private readonly drop: Dropout | undefined;

  constructor(o: MultiHeadAttentionOptions) {
    super(o);
    const name = o.name ?? 'multi_head_attention';
    const where = `layer '${name}'`;
    this.numHeads = intOption(name, 'numHeads', o.numHeads);
    this.keyDim = intOption(name, 'keyDim', o.keyDim);
    this.valueDim = o.valueDim === undefined || o.valueDim === null ? this.keyDim : intOption(name, 'valueDim', o.valueDim);
    this.dropout = o.dropout ?? 0;
    if (!(typeof this.dropout === 'number' && this.dropout >= 0 && this.dropout < 1)) throw new RangeError(`${where}: dropout must be in [0, 1), got ${quote(o.dropout)}`);
    this.useBias = boolOption(name, 'useBias', o.useBias, true);
    if (typeof this.useBias !== 'boolean') throw new RangeError(`${where}: useBias must be true or false, got ${quote(o.useBias)}`);
    this.useCausalMask = boolOption(name, 'useCausalMask', o.useCausalMask, false);
    if (typeof this.useCausalMask !== 'boolean') throw new RangeError(`${where}: useCausalMask must be true or false, got ${quote(o.useCausalMask)}`);
    this.returnAttentionScores = boolOption(name, 'returnAttentionScores', o.returnAttentionScores, false);
    if (typeof this.returnAttentionScores !== 'boolean') throw new RangeError(`${where}: returnAttentionScores must be true or false, got ${quote(o.returnAttentionScores)}`);
    const out = o.outputShape;
    if (out === undefined || out === null) this.outputDim = undefined;
    else if (Array.isArray(out) && out.length !== 1) throw new RangeError(`${where}: outputShape must be a positive integer or a list of one, got ${quote(out)}`);
    else this.outputDim = intOption(name, 'outputShape', Array.isArray(out) ? out[0] : out);
    this.kernelInitializer = initializerName(o.kernelInitializer ?? 'glorot_uniform', where, 'kernelInitializer');
    this.biasInitializer = initializerName(o.biasInitializer ?? 'zeros', where, 'biasInitializer');
    const proj = (units: number[], contracted: number): Projection => new Projection(units, contracted, this.useBias, this.kernelInitializer, this.biasInitializer);
    this.query = this.addLayer('query', proj([this.numHeads, this.keyDim], 1));
    this.key = this.addLayer('key', proj([this.numHeads, this.keyDim], 1));
    this.value = this.addLayer('value', proj([this.numHeads, this.valueDim], 1));
    this.output = this.addLayer('attention_output', proj([], 2));
    this.drop = this.dropout > 0 ? this.addLayer('dropout', new Dropout({ rate: this.dropout })) : undefined;
  }

  /** The output carries the query's mask (see {@link computeMask}); the scores carry none. */
  override get supportsMasking(): boolean {
    return true;
  }

  outputShape(s: Shape): number[] {
    return this.outputShapes([s])[0];
  }

  /** [Tq, outDim] for query [Tq, dq], value [Tv, dv] and key [Tv, dk] (per sample). */
  override outputShapes(shapes: readonly Shape[]): number[][] {
    if (shapes.length < 1 || shapes.length > 3) {
      throw this.shapeError(`takes one input (self-attention) or [query, value] or [query, value, key], got ${shapes.length} inputs${shapes.length ? `: ${shapes.map((s) => batchShape(s)).join(', ')}` : ''}`);
    }
    const names = ['query', 'value', 'key'];
    shapes.forEach((s, i) => {
      if (s.length !== 2) throw this.shapeError(`needs ${names[i]} inputs of rank 3 [batch, time, features], got ${names[i]} ${batchShape(s)}`);
    });
    if (shapes.length === 3 && shapes[1][0] !== shapes[2][0]) {
      throw this.shapeError(`value and key need the same number of time steps, got value ${batchShape(shapes[1])} and key ${batchShape(shapes[2])}`);
    }
    const out = [shapes[0][0], this.outputDim ?? shapes[0][1]];
    return this.returnAttentionScores ? [out, [this.numHeads, shapes[0][0], (shapes[1] ?? shapes[0])[0]]] : [out];
  }

  /** The projections see the features only: one layer attends over sequences of any lengths. */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(shapes.map((s) => s[s.length - 1]));
  }

  protected override createWeights(s: Shape, rng: Random, shapes: readonly Shape[]): void {
    const [q, v = q, k = v] = shapes;
    this.buildLayer(this.query, q, rng);
    this.buildLayer(this.key, k, rng);
    this.buildLayer(this.value, v, rng);
    this.output.units = [this.outputDim ?? s[1]];
    this.buildLayer(this.output, [s[0], this.numHeads, this.valueDim], rng);
    if (this.drop) this.buildLayer(this.drop, [this.numHeads, s[0], v[0]], rng);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    return this.callAll([x], ctx)[0];
  }

  override callAll(xs: readonly Tensor[], ctx: CallContext): Tensor[] {
    const [query, value = query, key = value] = xs;
    const names = ['query', 'value', 'key'];
    const built = this.inputShapes;
    xs.forEach((t, i) => {
      if (t.rank !== 3 || (built && built[i] && t.shape[2] !== built[i][1])) {
        throw this.shapeError(`needs ${names[i]} [batch, time, ${built?.[i]?.[1] ?? 'features'}], got ${names[i]} [${t.shape.join(', ')}]`);
      }
    });
    if (key.shape[1] !== value.shape[1] || key.shape[0] !== query.shape[0] || value.shape[0] !== query.shape[0]) {
      throw this.shapeError(`needs query, value and key of one batch size and value and key of one length, got query [${query.shape.join(', ')}], value [${value.shape.join(', ')}], key [${key.shape.join(', ')}]`);
    }
    const [n, tq] = query.shape;
    const tv = value.shape[1];
    const mask = this.attentionMask(xs.length, ctx.masks, n, tq, tv);
    const scale = 1 / Math.sqrt(this.keyDim);
    if (!mask && !(this.drop && ctx.training)) {
      // Without masks or dropout on the probabilities: one fused attention op over the projections' [N, T, H, D] layout
      // (no head transposes), and for self-attention one projection GEMM of the three kernels side by side.
      let o: Tensor, scores: Tensor;
      if (xs.length === 1 && this.valueDim === this.keyDim) {
        const [wq, bq] = this.query.matrices();
        const [wk, bk] = this.key.matrices();
        const [wv, bv] = this.value.matrices();
        const qkv = dense(query, concat([wq, wk, wv], 1), bq && bk && bv ? concat([bq, bk, bv], 0) : undefined);
        [o, scores] = packedAttentionWithScores(reshape(qkv, [n, tq, 3, this.numHeads, this.keyDim]), { scale, causal: this.useCausalMask });
      } else {
        [o, scores] = attentionWithScores(this.callLayer(this.query, query, ctx), this.callLayer(this.key, key, ctx), this.callLayer(this.value, value, ctx), { scale, causal: this.useCausalMask });
      }
      const y = this.callLayer(this.output, o, ctx);
      return this.returnAttentionScores ? [y, scores] : [y];
    }
    // Q [N, H, Tq, Dk], K [N, H, Tv, Dk], V [N, H, Tv, Dv].
    const heads = (t: Tensor): Tensor => transpose(t, [0, 2, 1, 3]);
    const q = heads(this.callLayer(this.query, query, ctx));
    const k = heads(this.callLayer(this.key, key, ctx));
    const v = heads(this.callLayer(this.value, value, ctx));
    const scores = maskedSoftmax(matmul(q, k, false, true), { scale, causal: this.useCausalMask, mask });
    const p = this.drop ? this.callLayer(this.drop, scores, ctx) : scores;
    // O [N, H, Tq, Dv] → [N, Tq, H, Dv], contracted over [H, Dv] by the output projection.
    const y = this.callLayer(this.output, transpose(matmul(p, v), [0, 2, 1, 3]), ctx);
    return this.returnAttentionScores ? [y, scores] : [y]; // Keras returns the scores before dropout
  }

  /** Given false in code, the option is written as its absence (files written before it existed load unchanged). */
  protected override codeOptions(): readonly string[] {
    return ['returnAttentionScores'];
  }

  /**
   * Keras' `_compute_attention_mask` but for the causal part: 1 where query step i may attend to value step j as far as
   * the inputs' masks say, float32 [N, Tq, Tv] (the query's mask [N, Tq, 1] · the value's [N, 1, Tv] · the key's
   * [N, 1, Tv]), or undefined when no input has a mask.
   */
  private attentionMask(inputs: number, masks: CallContext['masks'], n: number, tq: number, tv: number): Tensor | undefined {
    const parts: Tensor[] = [];
    const qm = masks?.[0];
    const vm = inputs > 1 ? masks?.[1] : qm;
    const km = inputs > 2 ? masks?.[2] : undefined;
    const check = (m: Tensor, what: string, t: number): Tensor => {
      if (m.rank !== 2 || m.shape[0] !== n || m.shape[1] !== t) throw this.shapeError(`the ${what}'s mask must be [${n}, ${t}], got [${m.shape.join(', ')}]`);
      return m;
    };
    if (qm) parts.push(expandDims(check(qm, 'query', tq), 2));
    if (vm) parts.push(expandDims(check(vm, 'value', tv), 1));
    if (km) parts.push(expandDims(check(km, 'key', tv), 1));
    return parts.length ? broadcastTo(parts.slice(1).reduce((a, m) => mul(a, m), parts[0]), [n, tq, tv]) : undefined;
  }

  protected config(): Record<string, unknown> {
    return {
      numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim, dropout: this.dropout, useBias: this.useBias,
      outputShape: this.outputDim ?? null, kernelInitializer: this.kernelInitializer, biasInitializer: this.biasInitializer,
      useCausalMask: this.useCausalMask, ...(this.returnAttentionScores ? { returnAttentionScores: true } : {}),
    };
  }
}

registerLayer('MultiHeadAttention', (c) => new MultiHeadAttention(c as unknown as MultiHeadAttentionOptions));
