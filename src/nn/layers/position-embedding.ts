// PositionEmbedding: a learned table of one vector per position, broadcast over the batch (keras_hub's PositionEmbedding).
import { broadcastTo, slice } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { initializerName, type InitializerName } from '../initializers.js';
import { batchShape, type CallContext, intOption, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Options of {@link PositionEmbedding} (keras_hub names). */
export interface PositionEmbeddingOptions extends LayerOptions {
  /** Longest sequence L the table covers: inputs may have T ≤ L steps. */
  sequenceLength: number;
  /** Initialiser of the table (default 'glorot_uniform', keras_hub's). */
  initializer?: string;
}

/**
 * The table `embeddings` [L, D] (L = sequenceLength, D = the input's last axis; role `embedding`, so every sharing
 * scheme applies): for inputs [N, ..., T, D] the output is the table's first T rows broadcast to the input's shape. It
 * does not read the input's values, only its shape; add it to the token embedding with `layers.add()`:
 * ```ts
 * const h = layers.embedding({ inputDim: V, outputDim: D }).apply(ids);                  // [N, T, D]
 * const x = layers.add().apply([h, layers.positionEmbedding({ sequenceLength: T }).apply(h)]);
 * ```
 */
export class PositionEmbedding extends Layer {
  readonly className = 'PositionEmbedding';
  readonly defaultName = 'position_embedding';
  readonly sequenceLength: number;
  readonly initializer: InitializerName;

  constructor(o: PositionEmbeddingOptions) {
    super(o);
    const name = o.name ?? 'position_embedding';
    this.sequenceLength = intOption(name, 'sequenceLength', o.sequenceLength);
    this.initializer = initializerName(o.initializer ?? 'glorot_uniform', `layer '${name}'`, 'initializer');
  }

  outputShape(s: Shape): number[] {
    if (s.length < 2) throw this.shapeError(`needs inputs [N, ..., T, D] (steps, features), got ${batchShape(s)}`);
    const t = s[s.length - 2];
    if (t > this.sequenceLength) throw this.shapeError(`inputs ${batchShape(s)} have ${t} steps, more than its sequenceLength ${this.sequenceLength}`);
    return [...s];
  }

  /** The table is sliced to each input's length: one layer serves sequences of any length up to sequenceLength. */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(shapes.map((s) => [s.length, s[s.length - 1]]));
  }

  protected override createWeights(s: Shape, rng: Random): void {
    this.addWeight('embeddings', [this.sequenceLength, s[s.length - 1]], this.initializer, rng, { role: 'embedding' });
  }

  call(x: Tensor, _ctx: CallContext): Tensor {
    const [t, d] = x.shape.slice(-2);
    const table = this.w('embeddings');
    return broadcastTo(t === this.sequenceLength ? table : slice(table, [0, 0], [t, d]), x.shape);
  }

  protected config(): Record<string, unknown> {
    return { sequenceLength: this.sequenceLength, initializer: this.initializer };
  }
}

registerLayer('PositionEmbedding', (c) => new PositionEmbedding(c as unknown as PositionEmbeddingOptions));
