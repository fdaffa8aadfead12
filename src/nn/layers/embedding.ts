// Embedding: int32 token ids [N, ...] → rows of a table [N, ..., outputDim] (Keras' Embedding), with an optional padding mask.
import { DTypeError, fmt, IndexError, quote } from '../../core/errors.js';
import { cast, gather, notEqual } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import { type Shape, unravel } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { initializerName, type InitializerName } from '../initializers.js';
import { type CallContext, intOption, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Options of {@link Embedding} (Keras names). */
export interface EmbeddingOptions extends LayerOptions {
  /** Size of the vocabulary: ids lie in [0, inputDim) (with `maskZero`, id 0 is padding, so vocabulary + 1). */
  inputDim: number;
  /** Size of each embedding vector E. */
  outputDim: number;
  /** Initialiser of the table (default 'uniform', Keras' U(−0.05, 0.05)). */
  embeddingsInitializer?: string;
  /** Id 0 is padding: the output carries the mask ids ≠ 0, which the loss, the metrics and recurrent layers honour (default false). */
  maskZero?: boolean;
}

/**
 * Looks up rows of the table `embeddings` [V, E] (V = inputDim, E = outputDim; role `embedding`, so every sharing
 * scheme and the compress transforms apply): int32 ids [N, ...] → [N, ..., E]. The gradient adds each position's
 * output gradient into its id's row (scatter-add; repeated ids accumulate). Ids outside [0, V) throw, naming the layer,
 * the id and its position. With `maskZero` the output carries the Keras mask ids ≠ 0 (float32 [N, ...]).
 *
 * Tied output embeddings (Press & Wolf 2017): a Dense whose kernel [E, V] is this table transposed, one θ counted,
 * stored and stepped once, its gradient the sum of both uses:
 * ```ts
 * const ids = input({ shape: [T], dtype: 'int32' });
 * const h = layers.embedding({ inputDim: V, outputDim: E, name: 'embedding' }).apply(ids);
 * const logits = layers.dense({ units: V, maps: { kernel: 'tied:embedding/embeddings:T' } }).apply(h);
 * // = maps: { kernel: { kind: 'tied', to: 'embedding/embeddings', transpose: true } }
 * ```
 */
export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly defaultName = 'embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: InitializerName;
  readonly maskZero: boolean;

  constructor(o: EmbeddingOptions) {
    // A first layer of a sequential model takes ids: its input is int32 unless said otherwise.
    super({ ...o, inputDType: o.inputDType ?? (o.inputShape ? 'int32' : undefined) });
    const name = o.name ?? 'embedding';
    this.inputDim = intOption(name, 'inputDim', o.inputDim);
    this.outputDim = intOption(name, 'outputDim', o.outputDim);
    this.embeddingsInitializer = initializerName(o.embeddingsInitializer ?? 'uniform', `layer '${name}'`, 'embeddingsInitializer');
    if (o.maskZero !== undefined && typeof o.maskZero !== 'boolean') throw new RangeError(`layer '${name}': maskZero must be true or false, got ${quote(o.maskZero)}`);
    this.maskZero = o.maskZero ?? false;
  }

  outputShape(s: Shape): number[] {
    return [...s, this.outputDim];
  }

  override outputDType(inputs: readonly ('float32' | 'int32')[]): 'float32' | 'int32' {
    if (inputs[0] !== 'int32') throw this.dtypeError(inputs[0]);
    return 'float32';
  }

  override inputIdLimit(input: number): number | undefined {
    return input === 0 ? this.inputDim : undefined;
  }

  /** The table does not depend on the ids' shape: one Embedding serves id sequences of any length. */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return `${shapes.length}`;
  }

  protected override createWeights(_s: Shape, rng: Random): void {
    this.addWeight('embeddings', [this.inputDim, this.outputDim], this.embeddingsInitializer, rng, { role: 'embedding' });
  }

  call(x: Tensor, _ctx: CallContext): Tensor {
    if (x.dtype !== 'int32') throw this.dtypeError(x.dtype);
    try {
      return gather(this.w('embeddings'), x, 0);
    } catch (e) {
      if (!(e instanceof IndexError) || e.position === undefined) throw e;
      throw new IndexError(`layer '${this.name || this.defaultName}' (Embedding)`,
        `token id ${e.value} at [${unravel(e.position, x.shape).join(', ')}] of its input ${fmt(x.shape)} is outside [0, ${this.inputDim}) (inputDim ${this.inputDim})`, e.value, e.position);
    }
  }

  /** With `maskZero`: ids ≠ 0 as float32 1/0, shaped like the ids. */
  override computeMask(inputs: readonly Tensor[]): (Tensor | undefined)[] | undefined {
    return this.maskZero ? [notEqual(cast(inputs[0], 'float32'), 0)] : undefined;
  }

  protected config(): Record<string, unknown> {
    return { inputDim: this.inputDim, outputDim: this.outputDim, embeddingsInitializer: this.embeddingsInitializer, maskZero: this.maskZero };
  }

  private dtypeError(got: string): DTypeError {
    return new DTypeError(`layer '${this.name || this.defaultName}' (Embedding)`, `takes int32 token ids, got a ${got} input (declare it: input({ shape, dtype: 'int32' }), or inputDType: 'int32')`);
  }
}

registerLayer('Embedding', (c) => new Embedding(c as unknown as EmbeddingOptions));
