// Model and Sequential: the layer graph, compile, weights by name, summary and config; training lives in training.ts.
import { fmt, ShapeError } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../optim/index.js';
import type { Parameter, WeightMap } from '../sharing/weight-map.js';
import { mixSeed } from '../core/random.js';
import { type CallContext, input as makeInput, Layer, type LayerSpec, layerFromSpec, type NamedWeight, SymbolicTensor } from './layer.js';
import { getLoss, type Loss } from './losses.js';
import { getMetric, type Metric } from './metrics.js';
import { formatSummary } from './summary.js';
import { type Data, evaluate, type EvaluateOptions, fit, type FitOptions, type History, type Logs, predict, trainOnBatch } from './training.js';

/** One application of a layer in the graph. */
export interface GraphNode {
  layer: Layer;
  input: SymbolicTensor;
  output: SymbolicTensor;
}

/** Options of {@link Model.compile} (Keras names). */
export interface CompileOptions {
  /** An optimizer, its Keras name ('adam', 'sgd', 'adamw') or a config `{ name, learningRate, … }`. */
  optimizer: Optimizer | string | OptimizerConfig;
  /** A loss name ('sparse_categorical_crossentropy', 'categorical_crossentropy', 'mean_squared_error') or a Loss. */
  loss: string | Loss;
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
}

/** A model's config: its layers and how they connect (layer names along the chain), enough with the weights to rebuild it. */
export interface ModelConfig {
  className: 'Model' | 'Sequential';
  name: string;
  inputShape: number[];
  layers: LayerSpec[];
  /** The layer names applied in order from the input to the output (a layer may appear several times: reuse). */
  graph: string[];
}

/**
 * A model: a chain of layer applications from one input to one output (layers may be reused at several
 * depths; their weights are then shared). Build it with {@link sequential} or {@link model}.
 */
export class Model {
  readonly className: 'Model' | 'Sequential' = 'Model';
  name: string;
  /** Set by a callback to end `fit` after the current batch. */
  stopTraining = false;
  protected nodes: GraphNode[] = [];
  protected inputSym: SymbolicTensor | undefined;
  private builtSeed: number | undefined;
  /** Set by compile. */
  optimizer: Optimizer | undefined;
  loss: Loss | undefined;
  metrics: Metric[] = [];

  constructor(o: { inputs?: SymbolicTensor; outputs?: SymbolicTensor; name?: string } = {}) {
    this.name = o.name ?? 'model';
    if (o.inputs && o.outputs) this.setGraph(o.inputs, o.outputs);
    else if (o.inputs || o.outputs) throw new Error(`model '${this.name}': give both inputs and outputs`);
  }

  /** Walks back from `outputs` to `inputs` and records the chain of layer applications. */
  protected setGraph(inputs: SymbolicTensor, outputs: SymbolicTensor): void {
    const chain: GraphNode[] = [];
    let s: SymbolicTensor | undefined = outputs;
    while (s && s !== inputs) {
      if (!s.layer || !s.input) throw new Error(`model '${this.name}': the outputs do not come from the given inputs`);
      chain.push({ layer: s.layer, input: s.input, output: s });
      s = s.input;
    }
    if (s !== inputs) throw new Error(`model '${this.name}': the outputs do not come from the given inputs`);
    this.inputSym = inputs;
    this.nodes = chain.reverse();
    this.nameLayers();
  }

  /** Gives unnamed layers Keras names (dense, dense_1, …) and checks names are unique. */
  protected nameLayers(): void {
    const used = new Map<string, Layer>();
    for (const l of this.layers) if (l.name) {
      const other = used.get(l.name);
      if (other && other !== l) throw new Error(`model '${this.name}': two different layers are named '${l.name}'`);
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

  /** The layer of that name (throws listing the names). */
  getLayer(name: string): Layer {
    const l = this.layers.find((x) => x.name === name);
    if (!l) throw new Error(`model '${this.name}' has no layer '${name}' (layers: ${this.layers.map((x) => x.name).join(', ')})`);
    return l;
  }

  /** Per-sample input shape. */
  get inputShape(): number[] {
    if (!this.inputSym) throw new Error(`model '${this.name}' has no input shape yet: give the first layer an inputShape`);
    return [...this.inputSym.shape];
  }

  /** Per-sample output shape. */
  get outputShape(): number[] {
    return this.nodes.length ? [...this.nodes[this.nodes.length - 1].output.shape] : this.inputShape;
  }

  /** The graph's layer applications in order. */
  get graph(): readonly GraphNode[] {
    return this.nodes;
  }

  get built(): boolean {
    return this.builtSeed !== undefined;
  }

  /**
   * Creates every layer's weights. Each layer without its own seed gets one derived from `seed` and its
   * name, so the same seed gives the same weights (default seed 0).
   */
  build(seed = 0): this {
    if (this.builtSeed !== undefined) return this;
    const resolve = (path: string): WeightMap | undefined => {
      const i = path.lastIndexOf('/');
      const l = this.layers.find((x) => x.name === path.slice(0, i));
      return l?.built ? l.weights().find((w) => w.name === path.slice(i + 1))?.map : undefined;
    };
    for (const n of this.nodes) n.layer.build(n.input.shape, n.layer.seed ?? mixSeed(seed, n.layer.name), resolve);
    this.builtSeed = seed;
    return this;
  }

  /** The weights, each distinct map once, named `layer/weight` (e.g. `conv2d/kernel`). */
  weights(): (NamedWeight & { path: string })[] {
    this.requireBuilt('weights');
    const seen = new Set<unknown>();
    const out: (NamedWeight & { path: string })[] = [];
    for (const l of this.layers) for (const w of l.weights()) {
      if (seen.has(w.map)) continue;
      seen.add(w.map);
      out.push({ ...w, path: `${l.name}/${w.name}` });
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

  /** The forward pass on a batch [N, ...inputShape]; checks the input shape and names the model when it does not fit. */
  call(x: Tensor, ctx: CallContext = { training: false, seed: 0 }): Tensor {
    this.requireBuilt('call');
    const want = this.inputShape;
    if (x.rank !== want.length + 1 || !shapesEqual(x.shape.slice(1), want)) {
      throw new ShapeError(`model '${this.name}'`, `expects inputs [N, ${want.join(', ')}], got ${fmt(x.shape)} (input of layer '${this.nodes[0]?.layer.name}')`);
    }
    let y = x;
    const last = this.nodes.length - 1;
    this.nodes.forEach((n, i) => {
      y = n.layer.call(y, i === last ? ctx : { ...ctx, logits: false });
    });
    return y;
  }

  /** True when the last layer ends in softmax, so a cross-entropy can be computed from its logits. */
  endsInSoftmax(): boolean {
    const last = this.nodes[this.nodes.length - 1]?.layer as (Layer & { activation?: string }) | undefined;
    return last?.activation === 'softmax';
  }

  /** Sets the optimizer, loss and metrics for fit/evaluate (Keras `compile`). */
  compile(o: CompileOptions): this {
    const loss = typeof o.loss === 'string' ? getLoss(o.loss, { fromLogits: o.fromLogits, ignoreClass: o.ignoreClass }) : o.loss;
    const metrics = (o.metrics ?? []).map((m) => getMetric(m, loss.name));
    const opt: Optimizer = isOptimizer(o.optimizer) ? o.optimizer : createOptimizer(o.optimizer);
    if (this.optimizer && this.optimizer !== opt) this.optimizer.dispose();
    this.optimizer = opt;
    this.loss = loss;
    this.metrics = metrics;
    return this;
  }

  /** The compile settings as JSON (for checkpoints). */
  compileConfig(): CompileConfig | undefined {
    if (!this.optimizer || !this.loss) return undefined;
    const ignore = this.loss.ignoreClass;
    return { optimizer: this.optimizer.toJSON(), loss: this.loss.name, fromLogits: this.loss.fromLogits, metrics: this.metrics.map((m) => m.name), ...(ignore !== undefined ? { ignoreClass: ignore } : {}) };
  }

  /** The weights' values by name (copies). */
  getWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const { name, param } of this.namedParameters()) out.set(name, param.value.f32());
    return out;
  }

  /** Overwrites weights by name; every given name must exist with the right size. */
  setWeights(values: ReadonlyMap<string, Float32Array> | Record<string, Float32Array>): void {
    const params = new Map(this.namedParameters().map((p) => [p.name, p.param]));
    const entries = values instanceof Map ? [...values] : Object.entries(values);
    for (const [name, v] of entries) {
      const p = params.get(name);
      if (!p) throw new Error(`model '${this.name}' has no weight '${name}' (weights: ${[...params.keys()].join(', ')})`);
      if (v.length !== p.value.size) throw new ShapeError(`setWeights`, `weight '${name}' has shape ${fmt(p.value.shape)} (${p.value.size} values) but ${v.length} values were given`);
      p.value.backend.write(p.value.buf, v);
    }
  }

  /** Trains the model (Keras `fit`); async so that progress output and signals can run between batches. */
  fit(x: Data, y: Data, o: FitOptions = {}): Promise<History> {
    return fit(this, x, y, o);
  }

  /** One optimizer step on one batch (Keras `trainOnBatch`); returns the batch's loss and metrics. */
  trainOnBatch(x: Tensor, y: Tensor, o: { seed?: number } = {}): Logs {
    return trainOnBatch(this, x, y, o);
  }

  /** Mean loss and metrics over (x, y) (Keras `evaluate`). */
  evaluate(x: Data, y: Data, o: EvaluateOptions = {}): Logs {
    return evaluate(this, x, y, o);
  }

  /** Outputs for every sample, [N, ...outputShape] (Keras `predict`). */
  predict(x: Data, o: { batchSize?: number } = {}): Tensor {
    return predict(this, x, o);
  }

  /** Layers, output shapes and parameter counts as a printable table (Keras `summary`). */
  summary(): string {
    return formatSummary(this);
  }

  /** The model's config (layers + graph), without weights. */
  toJSON(): ModelConfig {
    return {
      className: this.className,
      name: this.name,
      inputShape: this.inputShape,
      layers: this.layers.map((l) => l.toJSON()),
      graph: this.nodes.map((n) => n.layer.name),
    };
  }

  /** Frees weights and optimizer state. */
  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.optimizer?.dispose();
    this.builtSeed = undefined;
  }

  protected requireBuilt(what: string): void {
    if (!this.nodes.length) throw new Error(`model '${this.name}': ${what} needs at least one layer`);
    if (this.builtSeed === undefined) this.build();
  }
}

function isOptimizer(o: Optimizer | string | OptimizerConfig): o is Optimizer {
  return typeof o === 'object' && typeof (o as Optimizer).step === 'function';
}

/** A linear stack of layers (Keras `Sequential`); the first layer needs `inputShape` (or pass it to sequential()). */
export class Sequential extends Model {
  override readonly className = 'Sequential' as const;
  private readonly stack: Layer[] = [];

  constructor(layerList: Layer[] = [], o: { name?: string; inputShape?: readonly number[] } = {}) {
    super({ name: o.name ?? 'sequential' });
    if (o.inputShape) this.inputSym = makeInput({ shape: o.inputShape });
    for (const l of layerList) this.add(l);
  }

  /** Appends a layer (Keras `add`); its input shape must fit the previous output. */
  add(layer: Layer): this {
    if (this.built) throw new Error(`model '${this.name}': cannot add layers after it was built`);
    if (!this.inputSym) {
      if (!layer.declaredInputShape) throw new Error(`model '${this.name}': the first layer needs an inputShape (e.g. { inputShape: [28, 28, 1] })`);
      this.inputSym = makeInput({ shape: layer.declaredInputShape });
    }
    const prev = this.nodes.length ? this.nodes[this.nodes.length - 1].output : this.inputSym;
    this.stack.push(layer);
    this.nodes.push({ layer, input: prev, output: layer.apply(prev) });
    this.nameLayers();
    return this;
  }
}

/** A linear stack of layers: `sequential([layers.dense({ units: 10, inputShape: [784] })])`. */
export function sequential(layerList: Layer[] = [], o: { name?: string; inputShape?: readonly number[] } = {}): Sequential {
  return new Sequential(layerList, o);
}

/** A functional model from an input and an output (Keras `Model(inputs, outputs)`). */
export function model(o: { inputs: SymbolicTensor; outputs: SymbolicTensor; name?: string }): Model {
  return new Model(o);
}

/** Rebuilds a model (unbuilt, weights not yet created) from its config. */
export function modelFromConfig(c: ModelConfig): Model {
  if (c.className !== 'Model' && c.className !== 'Sequential') throw new Error(`unknown model class '${String(c.className)}'`);
  const byName = new Map<string, Layer>();
  for (const spec of c.layers) byName.set(String(spec.config.name), layerFromSpec(spec));
  const chain = c.graph.map((n) => {
    const l = byName.get(n);
    if (!l) throw new Error(`model config: graph names layer '${n}' that is not among its layers`);
    return l;
  });
  if (c.className === 'Sequential') return new Sequential(chain, { name: c.name, inputShape: c.inputShape });
  const inp = makeInput({ shape: c.inputShape });
  let s = inp;
  for (const l of chain) s = l.apply(s);
  return new Model({ inputs: inp, outputs: s, name: c.name });
}
