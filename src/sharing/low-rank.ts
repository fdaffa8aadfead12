// Low-rank factorisation: W = U·V with W viewed as a matrix [rows, cols] (cols = its last axis, unless the layer says otherwise).
import { quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { matmul, reshape, truncatedNormal, zeros } from '../core/ops/index.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { type MapConfig, type MapContext, numberOption, registerMap, SharingError } from './registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/**
 * W = reshape(U [rows, r] · V [r, cols]) with [rows, cols] W's matrix view (by default cols = W's last axis). Stores r·(rows + cols)
 * numbers instead of rows·cols. U and V start from truncated normals scaled so that W has the
 * variance the layer's initialiser would give it; a weight whose initialiser gives 0 starts with V = 0 (W = 0 still,
 * and trainable).
 */
export class LowRankMap implements WeightMap {
  readonly kind = 'lowRank';
  readonly shape: Shape;
  readonly rank: number;
  private readonly u: Parameter;
  private readonly v: Parameter;

  constructor(shape: Shape, rank: number, u: Tensor, v: Tensor) {
    this.shape = [...shape];
    this.rank = rank;
    this.u = new Parameter(keep(u), 'u');
    this.v = new Parameter(keep(v), 'v');
  }

  parameters(): Parameter[] {
    return [this.u, this.v];
  }

  materialize(): Tensor {
    return reshape(matmul(this.u.value, this.v.value), this.shape);
  }

  stats(): WeightMapStats {
    const free = this.u.value.size + this.v.value.size;
    return { virtual: sizeOf(this.shape), free, bits: 32 * free };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'lowRank', rank: this.rank };
  }

  dispose(): void {
    this.u.value.dispose();
    this.v.value.dispose();
  }
}

/** Rows and columns of W's matrix view. */
export function matrixView(shape: Shape): [number, number] {
  const cols = shape.length ? shape[shape.length - 1] : 1;
  return [cols === 0 ? 0 : sizeOf(shape) / cols, cols];
}

/** Builds a low-rank map from { rank } (1 ≤ rank ≤ min(rows, cols)) over the weight's matrix view (`ctx.matrix`, else {@link matrixView}). */
export function lowRankFromConfig(c: MapConfig, ctx: MapContext): LowRankMap {
  const [rows, cols] = ctx.matrix ?? matrixView(ctx.shape);
  const r = numberOption(c, ctx, 'lowRank', 'rank');
  if (!Number.isInteger(r) || r < 1 || r > Math.min(rows, cols)) {
    throw new SharingError(ctx, 'lowRank', `rank must be an integer in [1, ${Math.min(rows, cols)}] for a [${rows}, ${cols}] weight, got ${quote(c.rank)}`);
  }
  if (ctx.restoring) return new LowRankMap(ctx.shape, r, zeros([rows, r]), zeros([r, cols])); // U and V come from the file
  // Var(W) = r·Var(U)·Var(V); take Var(U) = Var(V) = √(Var(W)/r), Var(W) measured on a draw from the layer's initialiser.
  const w = ctx.init(ctx.shape, ctx.seed);
  const d = w.f32();
  w.dispose();
  let s2 = 0;
  for (const x of d) s2 += x * x;
  const varW = d.length ? s2 / d.length : 0;
  if (varW === 0) {
    // A weight that starts at 0 (a bias, a zeros initialiser): U and V both 0 would give every gradient 0, and W would
    // never move. As LoRA starts its update: U random (scaled as its fan-in, rows), V = 0, so W = U·V = 0 and ∂L/∂V = Uᵀ·∂L/∂W.
    const u = truncatedNormal([rows, r], { seed: ctx.seed ^ 0x1234567, stddev: 1 / Math.sqrt(Math.max(1, rows)) / 0.87962566103423978 });
    return new LowRankMap(ctx.shape, r, u, zeros([r, cols]));
  }
  const sd = Math.pow(varW / r, 0.25);
  const u = truncatedNormal([rows, r], { seed: ctx.seed ^ 0x1234567, stddev: sd / 0.87962566103423978 });
  const v = truncatedNormal([r, cols], { seed: ctx.seed ^ 0x7654321, stddev: sd / 0.87962566103423978 });
  return new LowRankMap(ctx.shape, r, u, v);
}

registerMap('lowRank', lowRankFromConfig, ['rank']);
