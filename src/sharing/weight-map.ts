// The sharing contract: a WeightMap turns free parameters θ into an effective weight W = φ(θ).
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';

/** A free parameter: a kept tensor the optimizer updates in place, and its name inside its map ('' for a map's only one). */
export class Parameter {
  constructor(
    /** The values; its identity is the parameter's identity (optimizer state and dedup key). */
    readonly value: Tensor,
    /** Name within the owning map, e.g. '' (dense), 'theta', 'u'. */
    readonly name = '',
  ) {}
}

/** What a map stores against what the layer sees. */
export interface WeightMapStats {
  /** Elements of the effective weight W. */
  virtual: number;
  /** Free parameters θ (trained numbers). */
  free: number;
  /** Bits needed to store the map (θ at 32 bits plus any indices); seeds are free. */
  bits: number;
}

/** A map's serialisable recipe: `kind` plus its settings (seeds, sizes); θ is saved separately as named tensors. */
export interface WeightMapConfig {
  kind: string;
  [key: string]: unknown;
}

/** φ: free parameters θ ─► effective weight W. Layers ask for W through `materialize(map)` of `cache.ts` (once per forward pass). */
export interface WeightMap {
  readonly kind: string;
  /** Shape of W. */
  readonly shape: Shape;
  /** θ, each exactly once. */
  parameters(): Parameter[];
  /** W = φ(θ), differentiable through the tape. The caller owns the result only if it is not one of θ (use tidy). */
  materialize(): Tensor;
  stats(): WeightMapStats;
  toJSON(): WeightMapConfig;
  /**
   * Fixed state that is not trained but defines the map (e.g. a codebook's int32 `assign` and its pruning
   * `mask`), by name; model files store them as `maps/<layer>/<weight>/<name>` and write them back on load.
   * Optional: maps whose state is θ plus seeds have none.
   */
  buffers?(): Map<string, Tensor>;
  /** Checks values about to be written into buffer `name` (from a file): a description of the first bad value, or undefined. */
  checkBuffer?(name: string, data: Float32Array | Int32Array): string | undefined;
  /** Frees θ. */
  dispose(): void;
}
