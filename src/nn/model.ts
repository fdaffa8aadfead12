// Model and Sequential: the layer graph, compile, weights by name, summary and config; training lives in training.ts, rebuilding from a config in model-config.ts.
import { ArgumentError, checkOptions, describeValue, fmt, quote, ShapeError, StateError } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { noteInPlaceWrite, type Tensor } from '../core/tensor.js';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../optim/index.js';
import type { Parameter, WeightMap } from '../sharing/weight-map.js';
import { mixSeed } from '../core/random.js';
import { type GraphNode, runGraph, traceGraph } from './graph.js';
import { batchShape, type CallContext, input as makeInput, Layer, type MaskedOutputs, type NamedWeight, SymbolicTensor } from './layer.js';
import type { ModelConfig, TensorRef } from './model-config.js';
import { getLoss, type Loss } from './losses.js';
import { getMetric, type Metric } from './metrics.js';
import { formatSummary } from './summary.js';
import {
  type Data, evaluate, type EvaluateOptions, fit, type FitOptions, type History, type Logs, notWhileFitting, predict, predictAll, trainOnBatch, type TrainOnBatchOptions,
} from './training.js';

export type { GraphNode } from './graph.js';

/** Options of {@link Model.compile} (Keras names). */
export interface CompileOptions {
  /** An optimizer, its Keras name ('adam', 'sgd', 'adamw') or a config `{ name, learningRate, … }`. */
  optimizer: Optimizer | string | OptimizerConfig;
  /**
   * A loss name ('sparse_categorical_crossentropy', 'categorical_crossentropy', 'mean_squared_error') or a Loss; for a
   * model with several outputs, one for all of them or one per output (Keras): the model's loss is their weighted sum.
   */
  loss: string | Loss | readonly (string | Loss)[];
  /** Weights of the outputs' losses in that sum (default 1 each). */
  lossWeights?: readonly number[];
  /** Metric names: 'accuracy', 'sparse_top_k_categorical_accuracy' / 'top_k_categorical_accuracy' ('top_k_accuracy'), 'perplexity', 'bits_per_char'. */
  metrics?: string[];
  /** The predictions are logits (no softmax at the end); default false. */
  fromLogits?: boolean;
  /** Sparse cross-entropy: labels of this class (e.g. padding 0) count neither in the loss nor in the metrics (Keras `ignore_class`). */
  ignoreClass?: number;
}

/** The serialisable form of a model's compile settings. */
export interface CompileConfig {
  optimizer: OptimizerConfig;
  loss: string;
  fromLogits: boolean;
  metrics: string[];
  ignoreClass?: number;
  /** With several outputs: each output's loss and its weight. */
  losses?: string[];
  lossWeights?: number[];
}

export type { InputConfig, ModelConfig, NodeConfig, TensorRef } from './model-config.js';
export { modelFromConfig, visitWeightShapes } from './model-config.js';

/**
 * A model: a graph of layer applications from one or several inputs to one or several outputs (residual
 * connections, merges; a layer applied at several places keeps one set of weights). Build it with {@link sequential}
 * or {@link model}.
 */
export class Model {
  readonly className: 'Model' | 'Sequential' = 'Model';
  name: string;
  /** Set by a callback to end `fit` after the current batch. */
  stopTraining = false;
  protected nodes: GraphNode[] = [];
  protected inputSyms: SymbolicTensor[] = [];
  protected outputSyms: SymbolicTensor[] = [];
  private builtSeed: number | undefined;
  private wasDisposed = false;
  /** Set by compile. */
  optimizer: Optimizer | undefined;
  /** The loss of the (first) output. */
  loss: Loss | undefined;
  /** One loss per output and its weight in the total (set by compile). */
  losses: Loss[] = [];
  lossWeights: number[] = [];
  /** The metrics; with several outputs, each metric once per output (`output` says which), named `<layer>_<metric>`. */
  metrics: Metric[] = [];
  private metricNames: string[] = [];

  constructor(o: { inputs?: SymbolicTensor | readonly SymbolicTensor[]; outputs?: SymbolicTensor | readonly SymbolicTensor[]; name?: string } = {}) {
    this.name = o.name ?? 'model';
    if (o.inputs && o.outputs) this.setGraph(toList(o.inputs, 'inputs'), toList(o.outputs, 'outputs'));
    else if (o.inputs || o.outputs) throw new Error(`model '${this.name}': give both inputs and outputs`);
  }

  /** Traces the graph from `outputs` back to `inputs` (see traceGraph) and names the layers. */
  protected setGraph(inputs: SymbolicTensor[], outputs: SymbolicTensor[]): void {
    // Keras refuses it too ("inputs are redundant"): the second array would be ignored.
    const twice = inputs.find((t, i) => inputs.indexOf(t) !== i);
    if (twice) throw new Error(`model '${this.name}': input '${twice.name}' is listed twice among the inputs; give each input once`);
    this.nodes = traceGraph(this.name, inputs, outputs);
    this.inputSyms = inputs;
    this.outputSyms = outputs;
    this.nameLayers();
  }

  /**
   * Every layer at one path, every weight path once: a file stores weights by path, so a layer both at the top and inside
   * a block (saved once, wanted twice when loaded) or a layer named 'a/b' beside a block 'a' holding 'b' (two weights at
   * one path: the file keeps one) would not load back as the model it was.
   */
  private checkLayerPaths(): void {
    const seen = new Map<Layer, string>();
    const walk = (ls: readonly Layer[], prefix: string): void => {
      for (const l of ls) {
        const path = `${prefix}${l.name}`;
        const before = seen.get(l);
        if (before !== undefined && before !== path) {
          throw new Error(`model '${this.name}': layer '${before}' is also used as '${path}'; a layer cannot be shared across a block's boundary (share the block, or tie the weight with maps: { kernel: 'tied:${before}/kernel' })`);
        }
        if (before !== undefined) continue;
        seen.set(l, path);
        walk(l.sublayers(), `${path}/`);
      }
    };
    walk(this.layers, '');
    const paths = new Set<string>();
    for (const w of this.collectWeights()) {
      if (paths.has(w.path)) throw new Error(`model '${this.name}': two weights have the path '${w.path}' (a layer name holding '/' meets a block's sublayer); rename the layer`);
      paths.add(w.path);
    }
  }

  /** Gives unnamed layers Keras names (dense, dense_1, …) and checks names are unique (inputs included). */
  protected nameLayers(): void {
    const used = new Map<string, Layer | SymbolicTensor>();
    for (const t of this.inputSyms) used.set(t.name, t);
    for (const l of this.layers) if (l.name) {
      const other = used.get(l.name);
      if (other && other !== l) throw new Error(`model '${this.name}': two different ${other instanceof Layer ? 'layers are' : 'things (an input and a layer) are'} named '${l.name}'`);
      used.set(l.name, l);
    }
    const counts = new Map<string, number>();
    for (const l of this.layers) if (!l.name) {
      let k = counts.get(l.defaultName) ?? 0;
      let name: string;
      do name = k === 0 ? l.defaultName : `${l.defaultName}_${k}`, k++;
      while (used.has(name));
      counts.set(l.defaultName, k);
      l.name = name;
      used.set(name, l);
    }
  }

  /** The distinct layers, in order of first use. */
  get layers(): Layer[] {
    return [...new Set(this.nodes.map((n) => n.layer))];
  }

  /** The layer of that name, or a sublayer by path (`block/dense`); throws listing the names. */
  getLayer(name: string): Layer {
    if (typeof name !== 'string') throw new ArgumentError('getLayer', `takes a layer name (a string, 'block/dense' for a sublayer), got ${describeValue(name)}`);
    const [top, ...rest] = name.split('/');
    let l = this.layers.find((x) => x.name === top);
    if (!l) throw new Error(`model '${this.name}' has no layer '${top}' (layers: ${this.layers.map((x) => x.name).join(', ')})`);
    for (const part of rest) {
      const sub: Layer | undefined = l.sublayers().find((x) => x.name === part);
      if (!sub) throw new Error(`layer '${l.name}' of model '${this.name}' has no sublayer '${part}' (sublayers: ${l.sublayers().map((x) => x.name).join(', ') || 'none'})`);
      l = sub;
    }
    return l;
  }

  /** The model's inputs (symbolic). */
  get inputs(): readonly SymbolicTensor[] {
    return this.inputSyms;
  }

  /** The model's outputs (symbolic). */
  get outputs(): readonly SymbolicTensor[] {
    return this.outputSyms;
  }

  /** Per-sample shape of the (first) input. */
  get inputShape(): number[] {
    if (!this.inputSyms.length) throw new Error(`model '${this.name}' has no input shape yet: give the first layer an inputShape`);
    return [...this.inputSyms[0].shape];
  }

  /** Per-sample shape of the (first) output. */
  get outputShape(): number[] {
    return this.outputSyms.length ? [...this.outputSyms[0].shape] : this.inputShape;
  }

  /** The graph's layer applications in a topological order. */
  get graph(): readonly GraphNode[] {
    return this.nodes;
  }

  /**
   * The layers that read a model input as token ids (an Embedding: see Layer.inputIdLimit), with the input's index and
   * the ids they take, [0, limit): what fit checks a batch's ids against, and saveModel a tokenizer's vocabulary.
   */
  idReaders(): { input: number; layer: Layer; limit: number }[] {
    const out: { input: number; layer: Layer; limit: number }[] = [];
    for (const n of this.nodes) n.inputs.forEach((t, k) => {
      const input = this.inputSyms.indexOf(t);
      const limit = input >= 0 ? n.layer.inputIdLimit(k) : undefined;
      if (limit !== undefined) out.push({ input, layer: n.layer, limit });
    });
    return out;
  }

  /** True when the graph is a plain chain: one input, one output, each node taking the previous node's only output. */
  get isChain(): boolean {
    if (this.inputSyms.length !== 1 || this.outputSyms.length !== 1) return false;
    let prev = this.inputSyms[0];
    for (const n of this.nodes) {
      if (n.inputs.length !== 1 || n.outputs.length !== 1 || n.input !== prev) return false;
      prev = n.output;
    }
    return prev === this.outputSyms[0];
  }

  get built(): boolean {
    return this.builtSeed !== undefined;
  }

  /** True after {@link dispose}: the weights are freed and every use (build, fit, evaluate, predict, …) throws a StateError. */
  get disposed(): boolean {
    return this.wasDisposed;
  }

  /**
   * Creates every layer's weights. Each layer without its own seed gets one derived from `seed` and its
   * name, so the same seed gives the same weights (default seed 0).
   */
  build(seed = 0): this {
    if (this.wasDisposed) throw new StateError(`model '${this.name}'`, 'was disposed (its weights are freed); create or load the model again to use it');
    if (this.builtSeed !== undefined) return this;
    // The weights made so far: every built layer's, and those the layer building now has made (a subspace map's
    // siblings find their owner in it); a later layer has none yet.
    const resolve = (path: string): WeightMap | undefined => {
      const i = path.indexOf('/');
      const l = this.layers.find((x) => x.name === path.slice(0, i));
      return l?.weights().find((w) => w.path === path.slice(i + 1))?.map;
    };
    // A failed build frees what it made: the layers built by this call (earlier ones already hold weights).
    const fresh = new Set(this.nodes.map((n) => n.layer).filter((l) => !l.built));
    try {
      for (const n of this.nodes) n.layer.build(n.inputs.map((s) => s.shape), n.layer.seed ?? mixSeed(seed, n.layer.name), resolve);
      this.checkLayerPaths();
    } catch (e) {
      for (const l of fresh) if (l.built) l.dispose();
      throw e;
    }
    this.builtSeed = seed;
    return this;
  }

  /** The weights, each distinct map once, named by path: `layer/weight` (e.g. `conv2d/kernel`), `block/query/kernel` inside a layer made of layers. */
  weights(): (NamedWeight & { path: string })[] {
    this.requireBuilt('weights');
    return this.collectWeights();
  }

  /** Every layer's weights, each map once, by path: {@link weights} without its build check (a build checks them). */
  private collectWeights(): (NamedWeight & { path: string })[] {
    const seen = new Set<unknown>();
    const out: (NamedWeight & { path: string })[] = [];
    for (const l of this.layers) for (const w of l.weights()) {
      if (seen.has(w.map)) continue;
      seen.add(w.map);
      out.push({ ...w, path: `${l.name}/${w.path}` });
    }
    return out;
  }

  /** The free parameters, each once, with unique names (`conv2d/kernel`, or `layer/weight/param` for maps with several). */
  namedParameters(): { name: string; param: Parameter }[] {
    const seen = new Set<Parameter>();
    const out: { name: string; param: Parameter }[] = [];
    for (const w of this.weights()) for (const p of w.map.parameters()) {
      if (seen.has(p)) continue;
      seen.add(p);
      out.push({ name: p.name ? `${w.path}/${p.name}` : w.path, param: p });
    }
    return out;
  }

  /** The maps' fixed non-trained state (see WeightMap.buffers), each distinct map once, named `layer/weight/buffer`. */
  namedBuffers(): { name: string; tensor: Tensor; map: WeightMap; key: string }[] {
    const out: { name: string; tensor: Tensor; map: WeightMap; key: string }[] = [];
    for (const w of this.weights()) for (const [k, t] of w.map.buffers?.() ?? []) out.push({ name: `${w.path}/${k}`, tensor: t, map: w.map, key: k });
    return out;
  }

  /** Number of free parameters (shared ones counted once). */
  countParams(): number {
    return this.namedParameters().reduce((s, p) => s + p.param.value.size, 0);
  }

  /**
   * The forward pass on a batch [N, ...inputShape] (or one batch per input, in the order of the model's inputs);
   * returns the output batch. Checks the input shapes and names the model when they do not fit. For a model with
   * several outputs use {@link callAll}.
   */
  call(x: Tensor | readonly Tensor[], ctx: CallContext = { training: false, seed: 0 }): Tensor {
    if (this.outputSyms.length > 1) throw new Error(`model '${this.name}' has ${this.outputSyms.length} outputs: use callAll`);
    return this.callAll(x, ctx)[0];
  }

  /** The forward pass, returning one batch per output. */
  callAll(x: Tensor | readonly Tensor[], ctx: CallContext = { training: false, seed: 0 }): Tensor[] {
    return this.callWithMasks(x, ctx).outputs;
  }

  /**
   * The forward pass, returning one batch per output and each output's Keras mask (undefined where it has none, e.g.
   * [N, T] from an Embedding with `maskZero` through layers that keep it): fit and evaluate weigh the loss and metrics
   * of a masked output by it.
   */
  callWithMasks(x: Tensor | readonly Tensor[], ctx: CallContext = { training: false, seed: 0 }): MaskedOutputs {
    this.requireBuilt('call');
    const xs = x instanceof Array ? x : [x as Tensor];
    if (xs.length !== this.inputSyms.length) {
      throw new ShapeError(`model '${this.name}'`, `has ${this.inputSyms.length} inputs (${this.inputSyms.map((s) => `'${s.name}' ${batchShape(s.shape)}`).join(', ')}) but got ${xs.length} tensors`);
    }
    xs.forEach((t, i) => {
      const s = this.inputSyms[i];
      if (t.rank !== s.shape.length + 1 || !shapesEqual(t.shape.slice(1), s.shape)) throw this.inputShapeError(i, fmt(t.shape));
      if (t.dtype !== s.dtype) throw new ShapeError(`model '${this.name}'`, `input '${s.name}' must be ${s.dtype}, got a ${t.dtype} tensor ${fmt(t.shape)}`);
    });
    return runGraph(this.nodes, this.inputSyms, this.outputSyms, xs, ctx, this.outputSyms.length === 1 ? this.outputNode() : undefined);
  }

  /** The node of this graph that makes `t` (undefined for a model input). */
  producer(t: SymbolicTensor): GraphNode | undefined {
    return t.node ? this.nodes.find((n) => n.outputs.includes(t)) : undefined;
  }

  /** Where `t` comes from in this graph: [layer, node (its use in the graph), output], or [input name, 0, 0] (Keras' inbound refs). */
  tensorRef(t: SymbolicTensor): TensorRef {
    const n = this.producer(t);
    return n ? [n.layer.name, n.application, t.index] : [t.name, 0, 0];
  }

  /** The error for input `i` given data of shape `got`: the expected shape, the input's name and the layers that take it. */
  inputShapeError(i: number, got: string): ShapeError {
    const s = this.inputSyms[i];
    const users = this.nodes.filter((n) => n.inputs.includes(s)).map((n) => `'${n.layer.name}'`).join(', ');
    return new ShapeError(`model '${this.name}'`, `expects inputs [N, ${s.shape.join(', ')}], got ${got} (${this.inputSyms.length > 1 ? `input '${s.name}', ` : ''}input of layer ${users})`);
  }

  /** The node that makes the (first) output. */
  private outputNode(): GraphNode | undefined {
    return this.producer(this.outputSyms[0]);
  }

  /**
   * The activation that makes the (first) output: the last layer's, looking back through Dropout (the identity at
   * inference) and into a Block's own graph; undefined when that layer has none to tell (an Add, an attention). A
   * softmax there that {@link endsInSoftmax} does not see (inside a Block, before a Dropout) means the output is
   * probabilities even when the model is run for logits.
   */
  finalActivation(): string | undefined {
    let sym = this.outputSyms[0];
    for (let hops = 0; sym && hops <= this.nodes.length; hops++) {
      const n = this.producer(sym);
      if (!n) return undefined;
      if (n.layer.className === 'Dropout') {
        sym = n.input;
        continue;
      }
      const l = n.layer as Layer & { activation?: unknown; finalActivation?: () => string | undefined };
      if (typeof l.activation === 'string') return l.activation;
      return typeof l.finalActivation === 'function' ? l.finalActivation() : undefined;
    }
    return undefined;
  }

  /** True when the (single) output is made by a layer ending in softmax, so a cross-entropy can be computed from its logits. */
  endsInSoftmax(): boolean {
    const n = this.outputNode();
    if (!n || n.outputs.length !== 1 || this.outputSyms.length !== 1) return false;
    return (n.layer as Layer & { activation?: string }).activation === 'softmax';
  }

/** Sets the optimizer, loss and metrics for fit/evaluate (Keras `compile`). */
  compile(o: CompileOptions): this {
    notWhileFitting(this, 'compile');
    if (o === null || typeof o !== 'object') throw new ArgumentError('compile', `takes { optimizer, loss, metrics? }, got ${describeValue(o)}`);
    checkOptions('compile', o, ['optimizer', 'loss', 'lossWeights', 'metrics', 'fromLogits', 'ignoreClass'], {
      learningRate: "give it to the optimizer: optimizer: { name: 'adam', learningRate }",
      clipnorm: "gradient clipping is an optimizer option: optimizer: { name: 'adam', clipnorm } (or globalClipnorm)",
      clipNorm: "gradient clipping is an optimizer option: optimizer: { name: 'adam', clipnorm } (or globalClipnorm)",
      globalClipnorm: "gradient clipping is an optimizer option: optimizer: { name: 'adam', globalClipnorm }",
      schedule: "a learning-rate schedule is an optimizer option: optimizer: { name: 'adam', schedule }",
    });
    if (o.loss === undefined) throw new ArgumentError('compile', 'loss is missing (e.g. \'sparse_categorical_crossentropy\')');
    const names = o.metrics ?? [];
    if (!Array.isArray(names) || names.some((m) => typeof m !== 'string')) {
      throw new ArgumentError('compile', `metrics must be a list of metric names (e.g. ['accuracy']), got ${Array.isArray(names) ? JSON.stringify(names) : describeValue(names)}`);
    }
    const n = Math.max(1, this.outputSyms.length);
    const specs = Array.isArray(o.loss) ? (o.loss as readonly (string | Loss)[]) : [o.loss as string | Loss];
    if (specs.length !== 1 && specs.length !== n) throw new RangeError(`model '${this.name}' has ${n} outputs but compile got ${specs.length} losses (give one, or one per output)`);
    const losses = Array.from({ length: n }, (_, i) => {
      const spec = specs[specs.length === 1 ? 0 : i];
      if (typeof spec === 'string') return getLoss(spec, { fromLogits: o.fromLogits, ignoreClass: o.ignoreClass });
      if (spec === null || typeof spec !== 'object' || typeof (spec as Loss).compute !== 'function') {
        throw new ArgumentError('compile', `loss must be a loss name or a Loss, got ${describeValue(spec)}`);
      }
      return spec;
    });
    const weights = o.lossWeights === undefined ? losses.map(() => 1) : Array.isArray(o.lossWeights) ? [...o.lossWeights] : [];
    if (weights.length !== n || weights.some((w) => typeof w !== 'number' || !Number.isFinite(w) || w < 0)) {
      throw new RangeError(`model '${this.name}': lossWeights must be ${n} finite numbers ≥ 0 (one per output), got ${quote(o.lossWeights)}`);
    }
    // Outputs are named by the layer that makes them; a layer making several outputs (one layer applied at several
    // places) gives its later ones `_1`, `_2`, … as Keras does, so that no output's metrics overwrite another's.
    const bases = this.outputSyms.map((s, i) => this.producer(s)?.layer.name ?? `output_${i}`);
    const outNames: string[] = [];
    for (const base of bases) {
      let name = base;
      for (let k = 1; outNames.includes(name) || (name !== base && bases.includes(name)); k++) name = `${base}_${k}`;
      outNames.push(name);
    }
    const outName = (i: number): string => outNames[i];
    const metrics: Metric[] = n === 1
      ? names.map((m) => getMetric(m, losses[0].name))
      : losses.flatMap((l, i) => names.map((m): Metric => {
        const mt = getMetric(m, l.name);
        return { name: `${outName(i)}_${mt.name}`, output: i, update: mt.update, result: mt.result };
      }));
    const opt: Optimizer = isOptimizer(o.optimizer) ? o.optimizer : createOptimizer(o.optimizer);
    if (this.optimizer && this.optimizer !== opt) this.optimizer.dispose();
    this.optimizer = opt;
    this.loss = losses[0];
    this.losses = losses;
    this.lossWeights = weights;
    this.metrics = metrics;
    this.metricNames = n === 1 ? metrics.map((m) => m.name) : [...names];
    return this;
  }

  /** The compile settings as JSON (for checkpoints). */
  compileConfig(): CompileConfig | undefined {
    if (!this.optimizer || !this.loss) return undefined;
    const ignore = this.loss.ignoreClass;
    const several = this.losses.length > 1 ? { losses: this.losses.map((l) => l.name), lossWeights: [...this.lossWeights] } : {};
    return {
      optimizer: this.optimizer.toJSON(), loss: this.loss.name, fromLogits: this.loss.fromLogits, metrics: [...this.metricNames],
      ...(ignore !== undefined ? { ignoreClass: ignore } : {}), ...several,
    };
  }

  /** The weights' values by name (copies). */
  getWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const { name, param } of this.namedParameters()) out.set(name, param.value.f32());
    return out;
  }

  /** Overwrites weights by name; every given name must exist with the right size. */
  setWeights(values: ReadonlyMap<string, Float32Array> | Record<string, Float32Array>): void {
    if (values === null || typeof values !== 'object') throw new ArgumentError('setWeights', `takes a Map or an object of weight name → Float32Array, got ${describeValue(values)}`);
    const params = new Map(this.namedParameters().map((p) => [p.name, p.param]));
    const entries = values instanceof Map ? [...values] : Object.entries(values);
    for (const [name, v] of entries) {
      const p = params.get(name);
      if (!p) throw new Error(`model '${this.name}' has no weight '${name}' (weights: ${[...params.keys()].join(', ')})`);
      if (v.length !== p.value.size) throw new ShapeError(`setWeights`, `weight '${name}' has shape ${fmt(p.value.shape)} (${p.value.size} values) but ${v.length} values were given`);
      p.value.backend.write(p.value.buf, v);
      noteInPlaceWrite();
    }
  }

  /** Trains the model (Keras `fit`; `x` is one Data per model input and `y` one per output, or one Data each); async so that progress output and signals can run between batches. */
  fit(x: Data | readonly Data[], y: Data | readonly Data[], o: FitOptions = {}): Promise<History> {
    return fit(this, x, y, o);
  }

  /** One optimizer step on one batch (Keras `trainOnBatch`); returns the batch's loss and metrics. */
  trainOnBatch(x: Data | readonly Data[], y: Data | readonly Data[], o: TrainOnBatchOptions = {}): Logs {
    return trainOnBatch(this, x, y, o);
  }

  /** Mean loss and metrics over (x, y) (Keras `evaluate`). */
  evaluate(x: Data | readonly Data[], y: Data | readonly Data[], o: EvaluateOptions = {}): Logs {
    return evaluate(this, x, y, o);
  }

  /** Outputs for every sample, [N, ...outputShape] (Keras `predict`). */
  predict(x: Data | readonly Data[], o: { batchSize?: number } = {}): Tensor {
    return predict(this, x, o);
  }

  /** Outputs for every sample, one tensor per model output. */
  predictAll(x: Data | readonly Data[], o: { batchSize?: number } = {}): Tensor[] {
    return predictAll(this, x, o);
  }

  /** Layers, output shapes and parameter counts as a printable table (Keras `summary`). */
  summary(): string {
    return formatSummary(this);
  }

  /** The model's config (layers + node graph), without weights. */
  toJSON(): ModelConfig {
    return {
      className: this.className,
      name: this.name,
      inputShape: this.inputShape,
      inputs: this.inputSyms.map((t) => ({ name: t.name, shape: [...t.shape], ...(t.dtype !== 'float32' ? { dtype: t.dtype } : {}) })),
      layers: this.layers.map((l) => l.toJSON()),
      graph: this.nodes.map((n) => ({ layer: n.layer.name, inbound: n.inputs.map((t) => this.tensorRef(t)) })),
      outputs: this.outputSyms.map((t) => this.tensorRef(t)),
    };
  }

  /** Frees weights and optimizer state; the model cannot be used after (a StateError says so). Calling it again does nothing. */
  dispose(): void {
    if (this.wasDisposed) return;
    for (const l of this.layers) l.dispose();
    this.optimizer?.dispose();
    this.builtSeed = undefined;
    this.wasDisposed = true;
  }

  protected requireBuilt(what: string): void {
    if (!this.nodes.length) throw new Error(`model '${this.name}': ${what} needs at least one layer`);
    if (this.builtSeed === undefined) this.build();
  }
}

function toList(t: SymbolicTensor | readonly SymbolicTensor[], what: string): SymbolicTensor[] {
  const list = t instanceof SymbolicTensor ? [t] : Array.isArray(t) ? [...t as readonly SymbolicTensor[]] : undefined;
  const at = list ? list.findIndex((x) => !(x instanceof SymbolicTensor)) : -1;
  if (!list || at >= 0) throw new ArgumentError('model', `${what} must be symbolic tensors (from input() and layers' apply), or arrays of them, got ${describeValue(list ? list[at] : t)}`);
  return list;
}

function isOptimizer(o: Optimizer | string | OptimizerConfig): o is Optimizer {
  return typeof o === 'object' && typeof (o as Optimizer).step === 'function';
}

/** A linear stack of layers (Keras `Sequential`); the first layer needs `inputShape` (or pass it to sequential()). */
export class Sequential extends Model {
  override readonly className = 'Sequential' as const;

  constructor(layerList: Layer[] = [], o: { name?: string; inputShape?: readonly number[]; inputDType?: 'float32' | 'int32' } = {}) {
    super({ name: o.name ?? 'sequential' });
    if (o.inputShape) this.inputSyms = [makeInput({ shape: o.inputShape, dtype: o.inputDType })];
    for (const l of layerList) this.add(l);
  }

  /** Appends a layer (Keras `add`); its input shape must fit the previous output. */
  add(layer: Layer): this {
    if (this.built) throw new Error(`model '${this.name}': cannot add layers after it was built`);
    if (!this.inputSyms.length) {
      if (!layer.declaredInputShape) throw new Error(`model '${this.name}': the first layer needs an inputShape (e.g. { inputShape: [28, 28, 1] })`);
      this.inputSyms = [makeInput({ shape: layer.declaredInputShape, dtype: layer.declaredInputDType })];
    }
    const prev = this.nodes.length ? this.nodes[this.nodes.length - 1].output : this.inputSyms[0];
    const out = layer.apply(prev);
    const application = this.nodes.filter((n) => n.layer === layer).length;
    this.nodes.push({ layer, application, inputs: [prev], outputs: [out], input: prev, output: out });
    this.outputSyms = [out];
    this.nameLayers();
    return this;
  }
}

/** A linear stack of layers: `sequential([layers.dense({ units: 10, inputShape: [784] })])`. */
export function sequential(layerList: Layer[] = [], o: { name?: string; inputShape?: readonly number[]; inputDType?: 'float32' | 'int32' } = {}): Sequential {
  if (!Array.isArray(layerList)) throw new ArgumentError('sequential', `takes an array of layers, got ${describeValue(layerList)}`);
  return new Sequential(layerList, o);
}

/**
 * Refuses an argument that is not a model (a plain object, a layer, null), naming the function `fn`: it failed deep
 * inside (reading 'build' of null). A model from another copy of the library passes by its shape.
 */
export function requireModel(fn: string, m: unknown): asserts m is Model {
  const like = m as Partial<Model> | null | undefined;
  if (m instanceof Model || (typeof like?.weights === 'function' && typeof like?.toJSON === 'function' && Array.isArray(like?.layers))) return;
  throw new ArgumentError(fn, `takes a model (createModel, sequential or model), got ${describeValue(m)}`);
}

/**
 * A functional model from its inputs and outputs (Keras `Model(inputs, outputs)`): one symbolic tensor or an array
 * of each. Every layer applied on the way from the inputs to the outputs belongs to the model.
 */
export function model(o: { inputs: SymbolicTensor | readonly SymbolicTensor[]; outputs: SymbolicTensor | readonly SymbolicTensor[]; name?: string }): Model {
  checkOptions('model', o, ['inputs', 'outputs', 'name']);
  // Without them it made an empty model that failed later, far from here.
  if (!o.inputs || !o.outputs) throw new ArgumentError('model', `needs inputs and outputs (symbolic tensors from input() and layers' apply), got ${o.inputs ? 'no outputs' : 'no inputs'}`);
  return new Model(o);
}
