// Block: a graph of layers used as one layer (Keras' functional model as a layer), so a block reused N times keeps one θ.
import { DTypeError, quote, ShapeError } from '../../core/errors.js';
import type { Random } from '../../core/random.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { runGraph } from '../graph.js';
import { batchShape, type CallContext, Layer, type LayerOptions, type LayerSpec, type MaskedOutputs, registerLayer, type SymbolicTensor } from '../layer.js';
import { Model, type ModelConfig, modelFromConfig } from '../model.js';

/** Options of {@link Block}: the inner graph from its inputs to its outputs (as for `model()`), or its saved config. */
export interface BlockOptions extends LayerOptions {
  inputs?: SymbolicTensor | readonly SymbolicTensor[];
  outputs?: SymbolicTensor | readonly SymbolicTensor[];
  /** The inner graph's config (how a saved block is rebuilt). */
  graph?: ModelConfig;
}

/**
 * A layer made of layers: the graph between `inputs` and `outputs` (symbolic tensors of a fresh `input()`), applied
 * as one layer. Its sublayers are the graph's layers, their weights named `block/dense/kernel`; applying the block at
 * several places shares all of them (ALBERT-style sharing across depth); Dropout inside draws a different mask at each
 * use. `maps: { 'dense/kernel': 'hashed:1/4' }` shares a sublayer's weight.
 */
export class Block extends Layer {
  readonly className = 'Block';
  readonly defaultName = 'block';
  private readonly inner: Model;

  constructor(o: BlockOptions) {
    super(o);
    const name = o.name ?? 'block';
    if (o.graph) {
      const g = o.graph;
      if (!g || typeof g !== 'object' || g.className !== 'Model') throw new RangeError(`layer '${name}' (Block): graph must be a Model config, got ${quote(g)}`);
      this.inner = modelFromConfig(g);
    } else if (o.inputs && o.outputs) this.inner = new Model({ inputs: o.inputs, outputs: o.outputs, name });
    else throw new RangeError(`layer '${name}' (Block): give inputs and outputs (symbolic tensors of its inner graph)`);
    for (const l of this.inner.layers) this.addLayer(l.name, l);
  }

  /** The inner graph (its layers are this layer's sublayers); exporters walk it. */
  get innerModel(): Model {
    return this.inner;
  }

  /**
   * Per-sample shapes of the inner graph's outputs for the block's input shapes `shapes`, and each inner node's
   * {@link Layer.weightShapeKey} there: the inner graph's own shapes, or others its layers' weights fit (sequences of
   * another length, as each Dense, recurrent, normalisation or attention layer alone takes). Throws naming the inner
   * layer that cannot take them.
   */
  private propagate(shapes: readonly Shape[]): { outputs: number[][]; keys: string[] } {
    const ins = this.inner.inputs;
    if (shapes.length !== ins.length || shapes.some((s, i) => s.length !== ins[i].shape.length)) {
      throw this.shapeError(`takes ${ins.map((t) => batchShape(t.shape)).join(', ')}, got ${shapes.map((s) => batchShape(s)).join(', ')}`);
    }
    const at = new Map<SymbolicTensor, number[]>();
    ins.forEach((t, i) => at.set(t, [...shapes[i]]));
    const keys: string[] = [];
    for (const n of this.inner.graph) {
      const own = n.inputs.map((t) => t.shape), got = n.inputs.map((t) => at.get(t)!);
      const inner = `inner layer '${n.layer.name}' (${n.layer.className})`;
      const key = n.layer.stateless ? '' : n.layer.weightShapeKey(got);
      if (!n.layer.stateless && key !== n.layer.weightShapeKey(own)) {
        throw this.shapeError(`takes ${ins.map((t) => batchShape(t.shape)).join(', ')} or inputs its layers' weights fit; at ${shapes.map((s) => batchShape(s)).join(', ')} its ${inner} would get ${got.map((s) => batchShape(s)).join(', ')}, which its weights (built for ${own.map((s) => batchShape(s)).join(', ')}) do not fit`);
      }
      let outs: number[][];
      try {
        outs = n.layer.outputShapes(got);
      } catch (e) {
        if (e instanceof ShapeError) throw this.shapeError(`at ${shapes.map((s) => batchShape(s)).join(', ')}: its ${inner} cannot take ${got.map((s) => batchShape(s)).join(', ')}: ${e.message.replace(/^.*?: /, '')}`);
        throw e;
      }
      n.outputs.forEach((t, i) => at.set(t, outs[i]));
      keys.push(key);
    }
    return { outputs: this.inner.outputs.map((t) => at.get(t)!), keys };
  }

  /** The inner layers' weight keys at these shapes: a block fits any inputs its layers' weights fit. */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(this.propagate(shapes).keys);
  }

  outputShape(s: Shape): number[] {
    return this.outputShapes([s])[0];
  }

  override outputShapes(shapes: readonly Shape[]): number[][] {
    const ins = this.inner.inputs;
    if (shapes.length === ins.length && shapes.every((s, i) => s.length === ins[i].shape.length && s.every((d, k) => d === ins[i].shape[k]))) {
      return this.inner.outputs.map((t) => [...t.shape]);
    }
    return this.propagate(shapes).outputs;
  }

  /** The inner graph's output types; inputs must have the types of its inputs (int ids into an inner Dense failed at predict, naming matmul). */
  override outputDType(inputs: readonly ('float32' | 'int32')[], index: number): 'float32' | 'int32' {
    const ins = this.inner.inputs;
    const i = inputs.findIndex((t, k) => ins[k] !== undefined && t !== ins[k].dtype);
    if (i >= 0) {
      throw new DTypeError(`layer '${this.name || this.defaultName}' (Block)`,
        `its input${ins.length > 1 ? ` ${i}` : ''} '${ins[i].name}' is ${ins[i].dtype}, got ${inputs[i]}${inputs[i] === 'int32' ? '; token ids go through an Embedding first' : ''}`);
    }
    return this.inner.outputs[index].dtype;
  }

  protected override createWeights(_s: Shape, rng: Random): void {
    for (const n of this.inner.graph) this.buildLayer(n.layer, n.inputs.map((t) => t.shape), rng);
  }

  /** The activation making the block's (first) output, as {@link Model.finalActivation} finds it in its graph. */
  finalActivation(): string | undefined {
    return this.inner.finalActivation();
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    return this.callAll([x], ctx)[0];
  }

  override callAll(xs: readonly Tensor[], ctx: CallContext): Tensor[] {
    return this.callWithMasks(xs, ctx.masks ?? [], ctx).outputs;
  }

  /** Runs the inner graph with the block's input masks; its outputs' masks are those the inner graph makes. */
  override callWithMasks(xs: readonly Tensor[], masks: readonly (Tensor | undefined)[], ctx: CallContext): MaskedOutputs {
    return runGraph(this.inner.graph, this.inner.inputs, this.inner.outputs, xs, { training: ctx.training, seed: ctx.seed, masks }, undefined, ctx.path ?? this.name);
  }

  protected override codeOptions(): readonly string[] {
    return ['inputs', 'outputs']; // written as the graph
  }

  protected config(): Record<string, unknown> {
    const g = this.inner.toJSON();
    // The sublayers' maps travel in this layer's `maps` (by path), not twice.
    const layers: LayerSpec[] = g.layers.map((s) => {
      const { maps: _maps, ...config } = s.config;
      return { className: s.className, config };
    });
    return { graph: { ...g, layers } };
  }
}

registerLayer('Block', (c) => new Block(c as BlockOptions));
