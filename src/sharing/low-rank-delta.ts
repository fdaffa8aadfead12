// A stack of S matrices sharing one base plus a low-rank delta each: W[s] = W₀ + A[s]·B[s] (partial sharing across time or depth).
//
// Legend: S slices (a recurrent layer's per-step weight sets), R × C each slice's matrix view, r the rank of each delta.
import { quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { add, broadcastTo, matmul, reshape, truncatedNormal, zeros } from '../core/ops/index.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { matrixView } from './low-rank.js';
import { initialTheta, type MapConfig, type MapContext, numberOption, registerMap, SharingError } from './registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/**
 * W [S, ...] with slice s = W₀ + A[s]·B[s]: one shared base W₀ (the slice's shape, viewed as a matrix [R, C] over its
 * last axis) and per slice a rank-r correction, A [S, R, r], B [S, r, C]. Rank 0 stores W₀ alone (every slice equal:
 * full sharing); as r grows the slices come apart (r = min(R, C) can reach any S untied matrices, with more numbers
 * than they have). Stores R·C + S·r·(R + C) numbers instead of S·R·C.
 *
 * W₀ is the layer's initialiser's draw for one slice; B starts at zero, so every slice starts equal to W₀ (the
 * network starts as its fully shared twin); A starts from a truncated normal of standard deviation 1/√r, so a step
 * of size η on each entry of B (Adam's) moves a slice's entries by about η whatever r.
 */
export class LowRankDeltaMap implements WeightMap {
  readonly kind = 'lowRankDelta';
  readonly shape: Shape;
  readonly rank: number;
  private readonly base: Parameter;
  private readonly a: Parameter | undefined;
  private readonly b: Parameter | undefined;

  /** base: one slice's shape (shape without its first axis); a [S, R, r], b [S, r, C] when rank > 0. */
  constructor(shape: Shape, rank: number, base: Tensor, a?: Tensor, b?: Tensor) {
    this.shape = [...shape];
    this.rank = rank;
    this.base = new Parameter(keep(base), 'base');
    this.a = a && new Parameter(keep(a), 'a');
    this.b = b && new Parameter(keep(b), 'b');
  }

  parameters(): Parameter[] {
    return this.a && this.b ? [this.base, this.a, this.b] : [this.base];
  }

  materialize(): Tensor {
    const [, ...slice] = this.shape;
    if (!this.a || !this.b) return broadcastTo(reshape(this.base.value, [1, ...slice]), this.shape);
    const [rows, cols] = matrixView(slice);
    return reshape(add(reshape(this.base.value, [1, rows, cols]), matmul(this.a.value, this.b.value)), this.shape);
  }

  stats(): WeightMapStats {
    const free = this.parameters().reduce((n, p) => n + p.value.size, 0);
    return { virtual: sizeOf(this.shape), free, bits: 32 * free };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'lowRankDelta', rank: this.rank };
  }

  dispose(): void {
    for (const p of this.parameters()) p.value.dispose();
  }
}

/** Builds a low-rank-delta map from { rank } (0 ≤ rank ≤ min(R, C)) for a weight of rank ≥ 2. */
export function lowRankDeltaFromConfig(c: MapConfig, ctx: MapContext): LowRankDeltaMap {
  if (ctx.shape.length < 2) {
    throw new SharingError(ctx, 'lowRankDelta', `needs a stack of matrices [S, …] (rank ≥ 2), got a weight of shape [${ctx.shape.join(',')}]`);
  }
  const [s, ...slice] = ctx.shape;
  const [rows, cols] = matrixView(slice);
  const r = numberOption(c, ctx, 'lowRankDelta', 'rank');
  if (!Number.isInteger(r) || r < 0 || r > Math.min(rows, cols)) {
    throw new SharingError(ctx, 'lowRankDelta', `rank must be an integer in [0, ${Math.min(rows, cols)}] for slices [${rows}, ${cols}], got ${quote(c.rank)}`);
  }
  const base = initialTheta(ctx, slice, ctx.seed);
  if (r === 0) return new LowRankDeltaMap(ctx.shape, 0, base);
  // 0.8796… is the standard deviation of a unit normal truncated at ±2: divide by it to get sd 1/√r.
  const a = ctx.restoring ? zeros([s, rows, r]) : truncatedNormal([s, rows, r], { seed: ctx.seed ^ 0x2545f491, stddev: 1 / Math.sqrt(r) / 0.87962566103423978 });
  return new LowRankDeltaMap(ctx.shape, r, base, a, zeros([s, r, cols]));
}

registerMap('lowRankDelta', lowRankDeltaFromConfig, ['rank']);
