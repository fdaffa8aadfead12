// Random-subspace training (Li et al., ICLR 2018): θ_full = θ₀ + P·d, one trained vector d shared by every weight's map.
import { quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { add, fwht, gather, matmul, mul, pad, reshape, scatterAdd, slice, tensor, zeros } from '../core/ops/index.js';
import { Random } from '../core/random.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { hash32, type MapConfig, type MapContext, registerMap, SharingError } from './registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/** How P [D, dim] is made: a dense Gaussian matrix, a very sparse ±√s matrix, or stacked Fastfood transforms. */
export const PROJECTIONS = ['dense', 'sparse', 'fastfood'] as const;
export type Projection = (typeof PROJECTIONS)[number];

/** Largest dense P (D·dim float32) we agree to materialise. */
export const DENSE_LIMIT_BYTES = 64 * 2 ** 20;

/** Rows of P generated together by the sparse projection (so P does not depend on how D is split into weights). */
const SPARSE_CHUNK = 4096;

/** What every subspace map of one model shares: the size of d, the projection, its seed and D. */
export interface SubspaceSettings {
  dim: number;
  projection: Projection;
  seed: number;
  /** D: the number of elements of all weights together (rows of P). */
  total: number;
}

/** The rows [offset, offset + n) of P, as something that computes P_rows · d differentiably. */
interface Rows {
  /** P_rows · d, [n]. */
  apply(d: Tensor): Tensor;
  /** Index and value tensors held (for stats: they are recomputed from the seed, never saved). */
  dispose(): void;
}

/** Smallest power of 2 ≥ n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Dense P: entries N(0, 1/D), each row from its own seeded stream, so columns have norm ≈ 1 and are nearly orthogonal. */
function denseRows(s: SubspaceSettings, offset: number, n: number): Rows {
  const p = new Float32Array(n * s.dim);
  const sd = 1 / Math.sqrt(s.total);
  for (let i = 0; i < n; i++) {
    const rng = new Random(hash32(offset + i, s.seed ^ 0x0de05e11));
    for (let j = 0; j < s.dim; j++) p[i * s.dim + j] = rng.normal() * sd;
  }
  const m = keep(tensor(p, [n, s.dim]));
  return {
    apply: (d) => reshape(matmul(m, reshape(d, [s.dim, 1])), [n]),
    dispose: () => m.dispose(),
  };
}

/**
 * Very sparse P (Li, Hastie & Church 2006, s = √D): each entry is ±√(s/D) with probability 1/(2s) each, else 0,
 * so columns have norm ≈ 1. Non-zeros are drawn by geometric skips over fixed chunks of rows and kept as COO
 * (row, column, value); P_rows·d = scatterAdd(values·d[columns], rows).
 */
export function sparseEntries(s: SubspaceSettings, offset: number, n: number): { rows: Int32Array; cols: Int32Array; vals: Float32Array } {
  const sp = Math.sqrt(s.total);
  const prob = 1 / sp;
  const v = Math.sqrt(sp / s.total);
  const logq = Math.log1p(-prob);
  const rows: number[] = [], cols: number[] = [], vals: number[] = [];
  const c0 = Math.floor(offset / SPARSE_CHUNK), c1 = Math.floor((offset + n - 1) / SPARSE_CHUNK);
  for (let c = c0; n > 0 && c <= c1; c++) {
    const r0 = c * SPARSE_CHUNK;
    const cells = Math.min(SPARSE_CHUNK, s.total - r0) * s.dim;
    const rng = new Random(hash32(c, s.seed ^ 0x5a125e00));
    for (let q = -1; ;) {
      q += prob >= 1 ? 1 : 1 + Math.floor(Math.log(1 - rng.uniform()) / logq);
      if (q >= cells) break;
      const sign = rng.nextUint32() & 1 ? 1 : -1;
      const r = r0 + Math.floor(q / s.dim);
      if (r < offset || r >= offset + n) continue;
      rows.push(r - offset);
      cols.push(q % s.dim);
      vals.push(sign * v);
    }
  }
  return { rows: Int32Array.from(rows), cols: Int32Array.from(cols), vals: Float32Array.from(vals) };
}

function sparseRows(s: SubspaceSettings, offset: number, n: number): Rows {
  const e = sparseEntries(s, offset, n);
  if (e.rows.length === 0) return { apply: () => zeros([n]), dispose: () => {} };
  const rows = keep(tensor(e.rows, [e.rows.length], 'int32'));
  const cols = keep(tensor(e.cols, [e.cols.length], 'int32'));
  const vals = keep(tensor(e.vals, [e.vals.length]));
  return {
    apply: (d) => scatterAdd(mul(gather(d, cols), vals), rows, n),
    dispose: () => [rows, cols, vals].forEach((t) => t.dispose()),
  };
}

/** One Fastfood block's random diagonals (B ±1, G Gaussian) and permutation Π, from the seed and the block index. */
export function fastfoodBlock(seed: number, block: number, size: number): { b: Float32Array; perm: Int32Array; g: Float32Array } {
  const rng = new Random(hash32(block, seed ^ 0x0fa57f00));
  const b = new Float32Array(size), g = new Float32Array(size), perm = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    b[i] = rng.nextUint32() & 1 ? 1 : -1;
    g[i] = rng.normal();
    perm[i] = i;
  }
  for (let i = size - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return { b, perm, g };
}

/**
 * Fastfood P (Le, Sarlós & Smola 2013), as in Li et al.'s code: d is zero-padded to L = 2^⌈log₂ dim⌉ and
 * ⌈D/L⌉ blocks V_k = c_k·H·G_k·Π_k·H·B_k [L, L] are stacked and cut to D rows; c_k = √(L/D)/√(L·‖G_k‖²)
 * makes each column's squared norm L/D per block (exactly), ≈ 1 over all of P. O(L log L) per block, O(L) memory.
 * A map computes only the blocks that cover its rows.
 */
function fastfoodRows(s: SubspaceSettings, offset: number, n: number): Rows {
  const size = nextPow2(s.dim);
  const b0 = Math.floor(offset / size), b1 = Math.floor((offset + n - 1) / size);
  const nb = b1 - b0 + 1;
  const bs = new Float32Array(nb * size), gs = new Float32Array(nb * size), ps = new Int32Array(nb * size);
  for (let k = 0; k < nb; k++) {
    const { b, perm, g } = fastfoodBlock(s.seed, b0 + k, size);
    let g2 = 0;
    for (const x of g) g2 += x * x;
    const c = Math.sqrt(size / s.total) / Math.sqrt(size * g2);
    for (let i = 0; i < size; i++) {
      bs[k * size + i] = b[i];
      gs[k * size + i] = g[i] * c;
      ps[k * size + i] = k * size + perm[i];
    }
  }
  const bt = keep(tensor(bs, [nb, size])), gt = keep(tensor(gs, [nb, size])), pt = keep(tensor(ps, [nb * size], 'int32'));
  return {
    apply: (d) => {
      const x = reshape(size > s.dim ? pad(d, [[0, size - s.dim]]) : d, [1, size]);
      const hb = reshape(fwht(mul(x, bt)), [nb * size]);
      const v = reshape(fwht(mul(reshape(gather(hb, pt), [nb, size]), gt)), [nb * size]);
      return slice(v, [offset - b0 * size], [n]);
    },
    dispose: () => [bt, gt, pt].forEach((t) => t.dispose()),
  };
}

/** Rows [offset, offset + n) of the projection the settings describe. */
export function projectionRows(s: SubspaceSettings, offset: number, n: number): Rows {
  return s.projection === 'dense' ? denseRows(s, offset, n) : s.projection === 'sparse' ? sparseRows(s, offset, n) : fastfoodRows(s, offset, n);
}

/**
 * One weight of a subspace-trained model: W = reshape(θ₀ + P_rows·d), with θ₀ this weight's (frozen) draw from
 * the layer's initialiser and P_rows its block of rows of the model-wide P. Every map of the model holds the
 * same Parameter d (the first map owns it, the others name it by `owner`), so the optimizer steps d once with
 * the summed gradient. θ₀ and P are recomputed from the seeds; only d is saved.
 */
export class SubspaceMap implements WeightMap {
  readonly kind = 'subspace';
  readonly shape: Shape;
  private readonly theta0: Tensor;
  private readonly rows: Rows;

  constructor(
    shape: Shape,
    readonly settings: SubspaceSettings,
    /** First row of P for this weight. */
    readonly offset: number,
    theta0: Tensor,
    private readonly d: Parameter,
    /** 'layer/weight' of the map owning d; undefined when this map owns it. */
    readonly owner: string | undefined,
  ) {
    this.shape = [...shape];
    this.theta0 = keep(reshape(theta0, [sizeOf(shape)]));
    if (this.theta0 !== theta0) theta0.dispose();
    this.rows = projectionRows(settings, offset, sizeOf(shape));
  }

  /** The shared trained vector d [dim]. */
  get param(): Parameter {
    return this.d;
  }

  parameters(): Parameter[] {
    return [this.d];
  }

  materialize(): Tensor {
    return reshape(add(this.theta0, this.rows.apply(this.d.value)), this.shape);
  }

  stats(): WeightMapStats {
    const free = this.owner === undefined ? this.settings.dim : 0;
    return { virtual: sizeOf(this.shape), free, bits: 32 * free };
  }

  toJSON(): WeightMapConfig {
    const { dim, projection, seed, total } = this.settings;
    return { kind: 'subspace', dim, projection, seed, total, offset: this.offset, ...(this.owner !== undefined ? { owner: this.owner } : {}) };
  }

  dispose(): void {
    this.theta0.dispose();
    this.rows.dispose();
    if (this.owner === undefined && !this.d.value.isDisposed) this.d.value.dispose();
  }
}

/**
 * Elements a subspace map of `n` rows allocates besides W and θ₀, from its config before any is made: its projection
 * (dense P: n·dim; sparse: three arrays of about n·dim/√D non-zeros; Fastfood: three tables of L = 2^⌈log₂ dim⌉ per
 * block its rows touch) and, for the owner, d [dim]. Loaders count it against their limits: a file of a few hundred
 * bytes may ask for a dim of 2^27. A config these settings refuse counts 0 (the build names the problem).
 */
export function subspaceElements(c: Record<string, unknown>, n: number): number {
  const total = Number(c.total), dim = Number(c.dim), offset = Number(c.offset ?? 0);
  if (![total, dim, offset].every(Number.isSafeInteger) || dim < 1 || dim > total || n < 1) return 0;
  const own = c.owner === undefined ? dim : 0;
  const projection = c.projection ?? 'fastfood';
  if (projection === 'dense') return own + n * dim;
  if (projection === 'sparse') return own + Math.ceil((3 * n * dim) / Math.sqrt(total));
  const size = nextPow2(dim);
  return own + 3 * size * (Math.floor((offset + n - 1) / size) - Math.floor(offset / size) + 1);
}

/** Checks a subspace spec's model-wide settings; `where` names the layer and weight (or the model) in errors. */
export function checkSubspaceSettings(c: Record<string, unknown>, where: { layer: string; weight: string }): SubspaceSettings {
  for (const k of ['total', 'dim', 'seed', 'offset'] as const) {
    if (c[k] !== undefined && typeof c[k] !== 'number') throw new SharingError(where, 'subspace', `${k} must be a number, got ${quote(c[k])}`);
  }
  for (const k of ['projection', 'owner'] as const) {
    if (c[k] !== undefined && typeof c[k] !== 'string') throw new SharingError(where, 'subspace', `${k} must be a string, got ${quote(c[k])}`);
  }
  const total = Number(c.total);
  if (!Number.isInteger(total) || total < 1) throw new SharingError(where, 'subspace', `total (D, the model's parameter count) must be an integer ≥ 1, got ${quote(c.total)}`);
  const dim = Number(c.dim);
  if (!Number.isInteger(dim) || dim < 1 || dim > total) {
    throw new SharingError(where, 'subspace', `dim must be an integer in [1, ${total}] (at most D = ${total}, the model's parameters), got ${quote(c.dim)}`);
  }
  const projection = String(c.projection ?? 'fastfood') as Projection;
  if (!PROJECTIONS.includes(projection)) throw new SharingError(where, 'subspace', `projection must be one of ${PROJECTIONS.join(', ')}, got ${quote(c.projection)}`);
  if (projection === 'dense' && total * dim * 4 > DENSE_LIMIT_BYTES) {
    throw new SharingError(where, 'subspace', `a dense projection of D = ${total} by dim = ${dim} needs ${((total * dim * 4) / 2 ** 20).toFixed(0)} MiB ` +
      `(limit ${DENSE_LIMIT_BYTES / 2 ** 20} MiB): use projection 'sparse' or 'fastfood', or a smaller dim`);
  }
  const seed = Number(c.seed ?? 0);
  if (!(Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new SharingError(where, 'subspace', `seed must be an integer in [0, 2³²), got ${quote(c.seed)}`);
  return { dim, projection, seed: seed >>> 0, total };
}

/**
 * Builds a subspace map from { dim, projection, seed, total, offset, owner? }. Written by {@link subspace}
 * (src/transforms/subspace.ts), which lays the model's weights out along P's rows.
 */
export function subspaceFromConfig(c: MapConfig, ctx: MapContext): SubspaceMap {
  const s = checkSubspaceSettings(c, ctx);
  const n = sizeOf(ctx.shape);
  const offset = Number(c.offset ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || offset + n > s.total) {
    throw new SharingError(ctx, 'subspace', `offset must be an integer in [0, ${s.total - n}] (rows of P for this weight's ${n} elements), got ${quote(c.offset)}`);
  }
  let d: Parameter;
  const owner = c.owner === undefined ? undefined : String(c.owner);
  if (owner !== undefined) {
    // The model's resolver finds the owner in an earlier layer, or earlier in this one (its siblings).
    const src = ctx.resolve?.(owner);
    if (!(src instanceof SubspaceMap)) throw new SharingError(ctx, 'subspace', `owner '${owner}' is not a subspace weight of an earlier layer of this model`);
    const t = src.settings;
    if (t.dim !== s.dim || t.projection !== s.projection || t.seed !== s.seed || t.total !== s.total) {
      throw new SharingError(ctx, 'subspace', `settings differ from those of its owner '${owner}' (dim ${t.dim}, ${t.projection}, seed ${t.seed}, D ${t.total})`);
    }
    d = src.param;
  } else {
    d = new Parameter(keep(zeros([s.dim])), 'd');
  }
  return new SubspaceMap(ctx.shape, s, offset, ctx.init(ctx.shape, ctx.seed), d, owner);
}

registerMap('subspace', subspaceFromConfig, ['dim', 'projection', 'seed', 'total', 'offset', 'owner']);
