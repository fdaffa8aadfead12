// The Layer base class: shape inference, weights held as sharing maps, config for saving, and the class registry.
import { describeValue, DTypeError, fmt, gib, quote, ShapeError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { shapesEqual, type Shape, sizeOf } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import '../sharing/index.js';
import { materialize } from '../sharing/cache.js';
import { createMap, type MapSpec, parseMapSpec } from '../sharing/registry.js';
import type { Parameter, WeightMap } from '../sharing/weight-map.js';
import { type Fans, fansOf, initialize, type InitializerName } from './initializers.js';
import { penalty, type Regularizer, REGULARIZER_OPTIONS, type RegularizerOption, type RegularizerSpec, regularizer } from './regularizers.js';
import type { WeightRole } from './weight-role.js';

/** What a layer's forward pass may depend on besides its input. */
export interface CallContext {
  /** Training mode (Dropout is active only then). */
  training: boolean;
  /** Seed of this step's randomness; layers mix in {@link CallContext.path} (or their name). */
  seed: number;
  /** Set on the model's output layer when the loss wants logits: a final softmax is skipped. */
  logits?: boolean;
  /**
   * Where this application of the layer sits: its name for the first use in a model, `name#k` for its k-th reuse,
   * `parent/child` inside a layer made of layers. Layers that draw random numbers (Dropout) mix it into the seed, so
   * every application draws its own mask.
   */
  path?: string;
  /**
   * Keras masks of the inputs, one per input (undefined where an input has none; the field is absent when no input has
   * one): float32 [N, T] — the input's shape without its last (feature) axis — 1 at a real step, 0 at padding. The
   * graph runner sets it from the producers' {@link Layer.computeMask} (e.g. an Embedding with `maskZero`); recurrent
   * layers skip the masked steps.
   */
  masks?: readonly (Tensor | undefined)[];
}

/** What {@link Layer.callWithMasks} returns: one batch per output and the outputs' masks (undefined: none). */
export interface MaskedOutputs {
  outputs: Tensor[];
  masks: readonly (Tensor | undefined)[] | undefined;
}

/** Options every layer takes. */
export interface LayerOptions {
  /** Unique name within the model (Keras style: 'dense', 'dense_1', … when omitted). */
  name?: string;
  /** Seed of this layer's initialisers (default: derived from the model's seed and the layer's position). */
  seed?: number;
  /** Per-sample input shape, for the first layer of a `sequential` model (Keras `inputShape`). */
  inputShape?: readonly number[];
  /** Element type of that input: 'float32' (default) or 'int32' (token ids, for a first layer that takes them). */
  inputDType?: 'float32' | 'int32';
  /**
   * How each weight is shared, by weight name: `{ kernel: 'hashed:1/8' }` (default: 'dense', W = θ). A layer made of
   * layers takes its sublayers' weights by path: `{ 'query/kernel': 'lowRank:8' }`.
   */
  maps?: Record<string, MapSpec>;
  /**
   * Keras weight regularizers: a penalty l1·Σ|w| + l2·Σw² on the layer's weights of that role (kernel, bias,
   * recurrent kernel, embeddings), added to the loss in fit and evaluate: `'l2'` (0.01), `'l2:0.0001'`, `{ l1: 1e-5 }`.
   */
  kernelRegularizer?: RegularizerSpec;
  biasRegularizer?: RegularizerSpec;
  recurrentRegularizer?: RegularizerSpec;
  embeddingsRegularizer?: RegularizerSpec;
}

/** Finds a weight's map by 'layer/weight' (or 'layer/sublayer/…/weight') among the layers built so far (for tying). */
export type MapResolver = (path: string) => WeightMap | undefined;

/** A layer's serialised form: its registered class name and its config (JSON). */
export interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
}

/** A named weight of a layer: `conv2d/kernel`. */
export interface NamedWeight {
  /** The layer that owns the weight (a sublayer for a weight of a layer made of layers). */
  layer: Layer;
  /** 'kernel', 'bias', … (the name within its owning layer). */
  name: string;
  /** What the weight is for (decides whether transforms share or compress it). */
  role: WeightRole;
  map: WeightMap;
  /** Path below the layer `weights()` was asked: 'kernel', or 'attention/query/kernel' for a sublayer's weight. */
  path: string;
}

let nextSymbolic = 1;

/** One application of a layer in a graph: the symbolic tensors it takes and the ones it makes. */
export interface LayerNode {
  readonly layer: Layer;
  /** Which application of the layer this is (Keras' node index). */
  readonly index: number;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
}

/** How {@link Layer.addWeight} declares a weight: its role, and the fans its initialiser uses when not W's own. */
export interface WeightOptions {
  role: WeightRole;
  fans?: Fans;
  /** Draws θ of a shape instead of the named initialiser (e.g. LSTM's unit forget bias); the name is still saved. */
  init?: (shape: Shape, seed: number) => Tensor;
  /** W's matrix view [rows, cols] when it is not [elements / last axis, last axis] (what a low-rank map factorises). */
  matrix?: readonly [number, number];
}

/** A placeholder in a functional model: a model input or a layer's output, with its per-sample shape. */
export class SymbolicTensor {
  /** Creation order: a producer is always created before what it makes, so sorting by it is a topological order. */
  readonly id = nextSymbolic++;
  constructor(
    /** Per-sample shape (no batch axis). */
    readonly shape: readonly number[],
    /** The application that makes it (undefined for a model input). */
    readonly node: LayerNode | undefined,
    /** Which of the node's outputs it is. */
    readonly index = 0,
    /** The input's name (model inputs only); an unnamed input() is 'input', made unique by the model it enters (input_1, …). */
    public name = '',
    /** Element type: 'float32', or 'int32' for token ids. */
    readonly dtype: 'float32' | 'int32' = 'float32',
  ) {}
  /** Whether input() chose the name (none was given): a model may then rename it to keep its inputs' names distinct. */
  defaultName = false;

  /** The layer that produces it (undefined for a model input). */
  get layer(): Layer | undefined {
    return this.node?.layer;
  }

  /** Keras' way to name it: `dense[0][0]` (layer, node, output), or the input's name. */
  describe(): string {
    return this.node ? `${this.node.layer.name || this.node.layer.defaultName}[${this.node.index}][${this.index}]` : this.name;
  }
}

/** A model input of the given per-sample shape (Keras `Input(shape=...)`); `dtype: 'int32'` for token ids. */
export function input(o: { shape: readonly number[]; name?: string; dtype?: 'float32' | 'int32' }): SymbolicTensor {
  if (o === null || typeof o !== 'object' || !Array.isArray(o.shape)) throw new TypeError(`input: takes { shape, name?, dtype? } with the per-sample shape as a list, e.g. input({ shape: [28, 28, 1] }), got ${describeValue(o)}`);
  for (const d of o.shape) if (!Number.isInteger(d) || d < 1) throw new RangeError(`input: shape must hold positive integers (no batch axis: it is added), got ${quote(o.shape)}`);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw new RangeError(`input: name must be a non-empty string, got ${quote(o.name)}`);
  if (o.dtype !== undefined && o.dtype !== 'float32' && o.dtype !== 'int32') throw new RangeError(`input: dtype must be 'float32' or 'int32', got ${quote(o.dtype)}`);
  const t = new SymbolicTensor([...o.shape], undefined, 0, o.name ?? 'input', o.dtype ?? 'float32');
  t.defaultName = o.name === undefined;
  return t;
}

/** `(None, 3, 4)`: a per-sample shape with the batch axis, as Keras prints it. */
export function batchShape(s: readonly number[]): string {
  return `(None, ${s.join(', ')})`;
}

/**
 * A layer: maps a batch [N, ...inputShape] (or several) to [N, ...outputShape] (or several), asking its maps for its
 * weights. A layer may own sublayers ({@link Layer.addLayer}); their weights are named by path.
 */
export abstract class Layer {
  /** The Keras class name, e.g. 'Dense'; the key of the registry. */
  abstract readonly className: string;
  /** Keras' default name stem, e.g. 'dense', 'max_pooling2d'. */
  abstract readonly defaultName: string;
  name: string;
  /** Seed given by the user (else the model assigns one at build). */
  readonly seed: number | undefined;
  /** The per-sample input shape given at construction, if any. */
  readonly declaredInputShape: number[] | undefined;
  /** The input element type given at construction, if any. */
  readonly declaredInputDType: 'float32' | 'int32' | undefined;
  /**
   * True for a layer that computes on features (the built-in Dense, convolutions, recurrent, normalisation, attention,
   * pooling, merge, activation and dropout layers): it refuses int32 inputs when the graph is built, naming itself.
   * False by default, so a custom layer takes any input unless it says otherwise (or overrides {@link outputDType}).
   */
  protected readonly floatInputsOnly: boolean = false;
  /** Per-sample input shapes, set by build (one per input). */
  inputShapes: number[][] | undefined;
  private readonly maps = new Map<string, WeightMap>();
  private readonly roles = new Map<string, WeightRole>();
  private readonly children = new Map<string, Layer>();
  /** The layer this one is a sublayer of (set by {@link addLayer}). */
  private parent: Layer | undefined;
  /** The sharing spec of each weight, as given (a built layer stores its maps' full configs instead). */
  readonly mapSpecs: Record<string, MapSpec>;
  private resolver: MapResolver | undefined;
  /** Input shapes of the first application (a layer with weights must get the same shapes at every use). */
  private appliedShapes: number[][] | undefined;
  /** How many times {@link applyAll} connected the layer (the next node's index). */
  private applications = 0;
  /** The regularizers given, by option (kernelRegularizer, …). */
  readonly regularizers: Partial<Record<RegularizerOption, Regularizer>> = {};
  /** The option keys given to the constructor (checked against the layer's config at its first application). */
  private givenOptions: string[];

  constructor(o: LayerOptions = {}) {
    this.givenOptions = o !== null && typeof o === 'object' ? Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined) : [];
    const bad = (option: string, want: string, v: unknown): never => {
      throw new RangeError(`layer '${typeof o.name === 'string' ? o.name : ''}': ${option} must be ${want}, got ${quote(v)}`);
    };
    if (o.name !== undefined && typeof o.name !== 'string') bad('name', 'a string', o.name);
    if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0)) bad('seed', 'a non-negative integer', o.seed);
    if (o.inputShape !== undefined && !(Array.isArray(o.inputShape) && o.inputShape.every((d) => Number.isSafeInteger(d) && d >= 1))) {
      bad('inputShape', 'a list of positive integers', o.inputShape);
    }
    if (o.maps !== undefined && (typeof o.maps !== 'object' || o.maps === null || Array.isArray(o.maps))) bad('maps', 'an object { weight: spec }', o.maps);
    this.name = o.name ?? '';
    this.seed = o.seed;
    this.declaredInputShape = o.inputShape ? [...o.inputShape] : undefined;
    if (o.inputDType !== undefined && o.inputDType !== 'float32' && o.inputDType !== 'int32') bad('inputDType', "'float32' or 'int32'", o.inputDType);
    this.declaredInputDType = o.inputDType;
    this.inputShapes = undefined;
    this.mapSpecs = { ...(o.maps ?? {}) };
    // Errors name the layer, or its class while it has no name yet ("Dense layer maps.kernel: …").
    const who = typeof o.name === 'string' && o.name ? `layer '${o.name}'` : `${new.target.name} layer`;
    for (const [w, s] of Object.entries(this.mapSpecs)) {
      try {
        parseMapSpec(s);
      } catch (e) {
        throw new RangeError(`${who} maps.${w}: ${(e as Error).message.replace(/^sharing: /, '')}`);
      }
    }
    for (const k of Object.keys(REGULARIZER_OPTIONS) as RegularizerOption[]) {
      if (o[k] !== undefined) this.regularizers[k] = regularizer(o[k]!, `${who} ${k}`);
    }
  }

  /**
   * Refuses an option given in code that the layer does not have (its config does not write it back): a Keras option this
   * library does not implement (stateful, attentionAxes, …) or a misspelt one would otherwise be ignored without a
   * word. Runs once, at the first application (the subclass has set its fields by then), or when a wrapper (Bidirectional)
   * takes the layer's config; layerFromSpec checks files the same way.
   */
  checkGivenOptions(): void {
    const written = this.toJSON().config;
    const code = this.codeOptions();
    const unknown = this.givenOptions.filter((k) => !(k in written) && !BASE_OPTIONS.includes(k) && !(k in REGULARIZER_OPTIONS) && !code.includes(k));
    if (unknown.length) { // kept: every later use fails the same way
      throw new LayerConfigError(`layer '${this.name || this.defaultName}' (${this.className}): unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}, which this library does not implement or which is misspelt (options: ${[...new Set([...Object.keys(written), ...code, ...BASE_OPTIONS])].join(', ')})`);
    }
    this.givenOptions = [];
  }

  /** Options taken in code that the config writes in another form (a Block's inputs and outputs as its graph). */
  protected codeOptions(): readonly string[] {
    return [];
  }

  /** Where the layer sits: its name, or `parent/name` for a sublayer (the prefix of its weights' paths in a model). */
  get path(): string {
    return this.parent ? `${this.parent.path}/${this.name}` : this.name || this.defaultName;
  }

  /** Per-sample shape of the (first) input, set by build. */
  get inputShape(): number[] | undefined {
    return this.inputShapes?.[0];
  }

  /** True once the weights exist. */
  get built(): boolean {
    return this.inputShapes !== undefined;
  }

  /**
   * True for layers without weights whose behaviour does not depend on the input shape they were first used with
   * (Flatten, Activation, pooling, merges): they may be applied to inputs of different shapes.
   */
  get stateless(): boolean {
    return false;
  }

  /**
   * What of the per-sample input shapes the weights depend on, as a key: a layer used at several places (one set of
   * weights) takes at each use any inputs whose key equals its first use's. By default the whole shapes; layers whose
   * weights see only the features override it, so that, as in Keras, one Embedding, Dense, recurrent, normalisation or
   * attention layer serves sequences of different lengths (a seq2seq model's shared embedding).
   */
  weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(shapes);
  }

  /** Whether a second use with `shapes` fits the weights built for (or first applied to) `first`. */
  private fits(first: readonly Shape[], shapes: readonly Shape[]): boolean {
    return this.stateless || sameShapes(first, shapes) || (first.length === shapes.length && this.weightShapeKey(first) === this.weightShapeKey(shapes));
  }

  /**
   * Creates the weights (and builds the sublayers) for per-sample input shapes — one shape, or one per input — once;
   * a second call must agree on the shapes (on their {@link weightShapeKey}) unless the layer is {@link stateless}.
   */
  build(inputShape: Shape | readonly Shape[], seed: number, resolve?: MapResolver): void {
    const shapes = asShapeList(inputShape);
    if (this.inputShapes) {
      if (!this.fits(this.inputShapes, shapes)) {
        throw new ShapeError(this.name, `layer '${this.name}' was built for inputs ${shapes.length > 1 ? this.inputShapes.map((s) => fmt(s)).join(', ') : fmt(this.inputShapes[0])} but now gets ${shapes.map((s) => fmt(s)).join(', ')}`);
      }
      return;
    }
    this.outputShapes(shapes);
    this.resolver = resolve;
    try {
      this.createWeights(shapes[0], new Random(this.seed ?? seed), shapes);
      // Specs of sublayers' weights ('query/kernel') went to the sublayers in addLayer: what is left names nothing.
      const unknown = Object.keys(this.mapSpecs).filter((k) => !this.maps.has(k));
      if (unknown.length) {
        const subs = this.children.size ? `; sublayers: ${[...this.children.keys()].join(', ')}` : '';
        throw new RangeError(`layer '${this.name}': maps name ${unknown.map((k) => `'${k}'`).join(', ')}, but its weights are ${[...this.maps.keys()].join(', ') || 'none'}${subs}`);
      }
      for (const k of Object.keys(this.regularizers) as RegularizerOption[]) {
        if (![...this.roles.values()].includes(REGULARIZER_OPTIONS[k])) {
          throw new RangeError(`layer '${this.name}' (${this.className}): ${k} is set but the layer has no weight of role ${REGULARIZER_OPTIONS[k]} (weights: ${[...this.maps.keys()].join(', ') || 'none'})`);
        }
      }
    } catch (e) {
      this.disposeWeights();
      throw e;
    } finally {
      this.resolver = undefined;
    }
    this.inputShapes = shapes.map((s) => [...s]);
  }

  /**
   * Connects the layer in a functional model: checks the shapes and returns the symbolic output. Takes one symbolic
   * tensor or, for merge layers, an array; throws if the layer makes several outputs (use {@link applyAll}).
   */
  apply(x: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor {
    const outs = this.applyAll(x);
    if (outs.length !== 1) throw new Error(`layer '${this.name || this.defaultName}' (${this.className}) makes ${outs.length} outputs: use applyAll`);
    return outs[0];
  }

  /** Like {@link apply}, returning every output of the layer. */
  applyAll(x: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor[] {
    if (this.applications === 0) this.checkGivenOptions();
    const xs = x instanceof SymbolicTensor ? [x] : Array.isArray(x) ? [...x as readonly SymbolicTensor[]] : [];
    if (xs.length === 0 || xs.some((t) => !(t instanceof SymbolicTensor))) {
      throw new TypeError(`layer '${this.name || this.defaultName}' (${this.className}): apply takes a symbolic tensor (from input() or another layer's apply) or an array of them`);
    }
    const shapes = xs.map((t) => t.shape);
    const at = `node ${this.applications} of layer '${this.name || this.defaultName}', inputs from ${xs.map((t) => t.describe()).join(', ')}`;
    if (this.appliedShapes && !this.fits(this.appliedShapes, shapes)) {
      throw this.shapeError(`is applied again to inputs ${shapes.map((s) => batchShape(s)).join(', ')}, but its first use took ${this.appliedShapes.map((s) => batchShape(s)).join(', ')} (${at}; a layer reused at several places keeps one set of weights, so every use needs inputs those weights fit)`);
    }
    let outShapes: number[][];
    try {
      outShapes = this.outputShapes(shapes);
    } catch (e) {
      if (e instanceof ShapeError) throw new ShapeError(`layer '${this.name || this.defaultName}' (${this.className})`, `${e.message.replace(/^.*?: /, '')} (${at})`);
      throw e;
    }
    this.appliedShapes ??= shapes.map((s) => [...s]);
    const node: { layer: Layer; index: number; inputs: SymbolicTensor[]; outputs: SymbolicTensor[] } = { layer: this, index: this.applications++, inputs: xs, outputs: [] };
    node.outputs = outShapes.map((s, i) => new SymbolicTensor(s, node, i, '', this.outputDType(xs.map((t) => t.dtype), i)));
    return node.outputs;
  }

  /**
   * Element type of output `index` for inputs of these types (float32 unless a layer says otherwise); a layer that
   * cannot take these types throws here, so the error comes when the graph is built: one that computes on features
   * ({@link floatInputsOnly}) refuses int32 inputs.
   */
  outputDType(inputs: readonly ('float32' | 'int32')[], _index: number): 'float32' | 'int32' {
    const i = this.floatInputsOnly ? inputs.indexOf('int32') : -1;
    if (i >= 0) {
      throw new DTypeError(`layer '${this.name || this.defaultName}' (${this.className})`,
        `takes float32 inputs, got int32${inputs.length > 1 ? ` (input ${i})` : ''}; token ids go through an Embedding first`);
    }
    return 'float32';
  }

  /**
   * Call before allocating a constant tensor of the layer's own in {@link createWeights} (sized by the config, so a
   * loader must see it): the loader's guard may refuse it; false in a shapes-only build, where it must not be made.
   */
  protected mayAllocateConstant(name: string, shape: Shape): boolean {
    weightGuard?.constant?.(`${this.path}/${name}`, shape);
    return !weightGuard?.shapesOnly;
  }

  /** Subclasses create their weights (with {@link addWeight}) and sublayers (with {@link buildLayer}) here. */
  protected createWeights(_inputShape: Shape, _rng: Random, _inputShapes: readonly Shape[]): void {}

  /**
   * Adds a weight of shape `shape` with its `role`, held by the map its spec asks for (default dense), with θ drawn
   * from `init` (using W's fans, or `o.fans`) and a seed from `rng`.
   */
  protected addWeight(name: string, shape: Shape, init: InitializerName, rng: Random, o: WeightOptions): WeightMap {
    if (this.maps.has(name) || this.children.has(name)) throw new Error(`layer '${this.name}': a weight or sublayer '${name}' exists already`);
    const f = o.fans ?? fansOf(shape);
    const guard = weightGuard;
    guard?.before(`${this.path}/${name}`, shape, this.mapSpecs[name]);
    if (guard?.shapesOnly) {
      const stand = shapeOnlyMap(shape);
      this.maps.set(name, stand);
      this.roles.set(name, o.role);
      return stand;
    }
    let map: WeightMap;
    try {
      map = createMap(this.mapSpecs[name], {
        layer: this.path, weight: name, shape, initializer: init, seed: rng.nextUint32(),
        init: o.init ?? ((s, seed) => initialize(init, s, seed, f)), resolve: this.resolver, ...(o.matrix ? { matrix: o.matrix } : {}),
        ...(guard?.restoring ? { restoring: true } : {}),
      });
    } catch (e) {
      // A weight too large for memory: name it (a bare "Invalid typed array length" says nothing of the layer).
      if (e instanceof Error && (e.name === 'WasmOutOfMemoryError' || (e instanceof RangeError && /Invalid typed array length|Array buffer allocation failed|more than a tensor can hold/.test(e.message)))) {
        const n = sizeOf(shape);
        throw new RangeError(`layer '${this.name || this.defaultName}' (${this.className}): weight '${name}' of shape ${fmt(shape)} has ${n.toLocaleString('en-US')} values (${gib(n * 4)} as float32), too many to allocate (${e.message})`);
      }
      throw e;
    }
    this.maps.set(name, map);
    this.roles.set(name, o.role);
    guard?.after(`${this.path}/${name}`, map);
    return map;
  }

  /**
   * Makes `layer` a sublayer named `name` (call it in the constructor): its weights become this layer's
   * `name/…`, this layer's map specs for `name/…` go to it, and it is saved as part of this layer's config
   * (so the constructor must recreate it from the config). Returns the sublayer.
   */
  protected addLayer<L extends Layer>(name: string, layer: L): L {
    if (!name || name.includes('/')) throw new RangeError(`layer '${this.name || this.defaultName}': a sublayer name must be non-empty without '/', got '${name}'`);
    if (this.children.has(name)) throw new Error(`layer '${this.name || this.defaultName}': two sublayers are named '${name}'`);
    layer.name = name;
    layer.parent = this;
    const prefix = `${name}/`;
    for (const [k, v] of Object.entries(this.mapSpecs)) {
      if (!k.startsWith(prefix)) continue;
      layer.takeMapSpec(k.slice(prefix.length), v);
      delete this.mapSpecs[k];
    }
    this.children.set(name, layer);
    return layer;
  }

  /**
   * Takes the spec of a weight by path: on to the sublayer the path starts with when that sublayer exists already
   * (a layer made of layers adds them in its constructor, before its parent hands it specs), else as its own.
   */
  private takeMapSpec(path: string, spec: MapSpec): void {
    const i = path.indexOf('/');
    const child = i > 0 ? this.children.get(path.slice(0, i)) : undefined;
    if (child) child.takeMapSpec(path.slice(i + 1), spec);
    else if (path in this.mapSpecs) {
      throw new RangeError(`layer '${this.path}' ${path}: two map specs, ${quote(this.mapSpecs[path])} (its own) and ${quote(spec)} (from '${this.parent?.path ?? ''}'); give one`);
    } else this.mapSpecs[path] = spec;
  }

  /** Builds a sublayer for these input shapes (call it from {@link createWeights}); its seed comes from `rng`. */
  protected buildLayer(layer: Layer, inputShape: Shape | readonly Shape[], rng: Random): void {
    const seed = rng.nextUint32();
    layer.build(inputShape, layer.seed ?? seed, this.resolver && ((p) => this.resolver!(p)));
  }

  /**
   * Runs a sublayer on one tensor inside this layer's call: its context path is `<this path>/<name>`; `masks` are the
   * sublayer's input masks (a wrapper hands its own `ctx.masks` on when the sublayer takes the same steps).
   */
  protected callLayer(layer: Layer, x: Tensor | readonly Tensor[], ctx: CallContext, masks?: readonly (Tensor | undefined)[]): Tensor {
    if (x instanceof Array) {
      const ys = this.callLayerAll(layer, x, ctx, masks);
      if (ys.length !== 1) throw new Error(`layer '${layer.name}' makes ${ys.length} outputs: use callLayerAll`);
      return ys[0];
    }
    return layer.call(x as Tensor, this.subContext(layer, ctx, masks));
  }

  /** Like {@link callLayer}, returning every output of the sublayer; `masks` are its inputs' masks (see CallContext). */
  protected callLayerAll(layer: Layer, xs: readonly Tensor[], ctx: CallContext, masks?: readonly (Tensor | undefined)[]): Tensor[] {
    return layer.callAll(xs, this.subContext(layer, ctx, masks));
  }

  /** A sublayer's context: this call's mode and seed, the path `<this path>/<name>`, and the given input masks. */
  private subContext(layer: Layer, ctx: CallContext, masks?: readonly (Tensor | undefined)[]): CallContext {
    return { training: ctx.training, seed: ctx.seed, path: `${ctx.path ?? this.name}/${layer.name}`, ...(masks?.some((m) => m) ? { masks } : {}) };
  }

  /** The sublayers, in the order they were added. */
  sublayers(): Layer[] {
    return [...this.children.values()];
  }

  /** The map of a weight (throws naming the layer if it does not exist). */
  weight(name: string): WeightMap {
    const m = this.maps.get(name);
    if (!m) throw new Error(`layer '${this.name}' has no weight '${name}' (built: ${this.built})`);
    return m;
  }

  /**
   * The effective weight W of `name` for this forward pass: materialised once per model call even when the layer is
   * applied many times (see `sharing/cache.ts`), differentiable.
   */
  protected w(name: string): Tensor {
    return materialize(this.weight(name));
  }

  /**
   * Replaces the map of an existing weight of a built layer (e.g. clustering a trained kernel); the shapes
   * must agree. The old map is not disposed (the caller may still read it). The layer's spec follows the new map.
   */
  replaceWeight(name: string, map: WeightMap): void {
    const old = this.weight(name);
    if (old.shape.length !== map.shape.length || old.shape.some((d, i) => d !== map.shape[i])) {
      throw new ShapeError(`layer '${this.name}'`, `replacing weight '${name}' [${old.shape.join(',')}] by a map of shape [${map.shape.join(',')}]`);
    }
    this.maps.set(name, map);
    if (map.kind === 'dense') delete this.mapSpecs[name];
    else this.mapSpecs[name] = map.toJSON() as MapSpec;
  }

  /** The layer's weights in creation order, then each sublayer's (named by path: `query/kernel`). */
  weights(): NamedWeight[] {
    const own = [...this.maps].map(([name, map]) => ({ layer: this as Layer, name, role: this.roles.get(name)!, map, path: name }));
    const sub = [...this.children].flatMap(([cn, c]) => c.weights().map((w) => ({ ...w, path: `${cn}/${w.path}` })));
    return [...own, ...sub];
  }

  /** Free parameters of all weights, the sublayers' included (each once). */
  parameters(): Parameter[] {
    const seen = new Set<Parameter>();
    for (const w of this.weights()) for (const p of w.map.parameters()) seen.add(p);
    return [...seen];
  }

  /**
   * The regularizers' penalties on this layer's own weights and its sublayers' (Keras `layer.losses`), as scalar
   * tensors on the tape; W is the forward pass's (see `sharing/cache.ts`).
   */
  regularizationLosses(): Tensor[] {
    const out: Tensor[] = [];
    for (const k of Object.keys(this.regularizers) as RegularizerOption[]) {
      for (const [name, role] of this.roles) if (role === REGULARIZER_OPTIONS[k]) out.push(penalty(this.regularizers[k]!, this.w(name)));
    }
    for (const c of this.children.values()) out.push(...c.regularizationLosses());
    return out;
  }

  /** Number of free parameters. */
  countParams(): number {
    return this.parameters().reduce((s, p) => s + p.value.size, 0);
  }

  /** Per-sample output shape for a per-sample input shape; throws a ShapeError naming the layer when the input does not fit. */
  abstract outputShape(inputShape: Shape): number[];

  /** Per-sample output shapes for the input shapes (one per input); layers with several inputs or outputs override it. */
  outputShapes(inputShapes: readonly Shape[]): number[][] {
    if (inputShapes.length !== 1) throw this.shapeError(`takes one input, got ${inputShapes.length}: ${inputShapes.map((s) => batchShape(s)).join(', ')}`);
    return [this.outputShape(inputShapes[0])];
  }

  /** The forward pass on a batch [N, ...inputShape]. */
  abstract call(x: Tensor, ctx: CallContext): Tensor;

  /** The forward pass on one batch per input, returning one batch per output; layers with several inputs or outputs override it. */
  callAll(xs: readonly Tensor[], ctx: CallContext): Tensor[] {
    if (xs.length !== 1) throw this.shapeError(`takes one input, got ${xs.length}`);
    return [this.call(xs[0], ctx)];
  }

  /**
   * True for layers that hand their (first) input's mask on unchanged (Keras `supports_masking`): Dense, Dropout,
   * Activation, LayerNormalization. Default false: a mask reaching the layer goes no further (Keras' default for
   * layers that do not support masking, e.g. Flatten, Conv2D, pooling).
   */
  get supportsMasking(): boolean {
    return false;
  }

  /**
   * The masks of the outputs (Keras `compute_mask`): one per output (undefined where an output has none), or undefined
   * for none, from the inputs and their masks (undefined where an input has none). Default: the first input's mask for
   * the first output when {@link supportsMasking}, else none. Embedding with `maskZero` makes one (ids ≠ 0), merge
   * layers combine their inputs' masks, a recurrent layer hands its input's mask on only with `returnSequences`.
   */
  computeMask(_inputs: readonly Tensor[], masks: readonly (Tensor | undefined)[]): (Tensor | undefined)[] | undefined {
    return this.supportsMasking && masks[0] ? [masks[0]] : undefined;
  }

  /**
   * The forward pass with masks, as the graph runner calls it: {@link callAll} with the input masks in `ctx.masks`
   * (only when some input has one), then {@link computeMask}. A layer whose output masks come out of the computation
   * itself (a Block's inner graph) overrides it.
   */
  callWithMasks(xs: readonly Tensor[], masks: readonly (Tensor | undefined)[], ctx: CallContext): MaskedOutputs {
    const c: CallContext = masks.some((m) => m) ? { ...ctx, masks } : ctx;
    return { outputs: this.callAll(xs, c), masks: this.computeMask(xs, masks) };
  }

  /**
   * For an int32 input of indices into a table of this layer (Embedding's token ids): the table's size, so that fit,
   * evaluate and predict check the data against [0, size) before running; undefined for other inputs.
   */
  inputIdLimit(_input: number): number | undefined {
    return undefined;
  }

  /**
   * This layer and `next` run as one (`next` taking this layer's only output, which nothing else uses), giving next's
   * output as the two calls would to the bit, or undefined (the default) when the layer has no such fusion. The layer
   * graph asks it, e.g. to run a convolution and the max pooling after it in one pass.
   */
  fusedWith(_next: Layer): ((x: Tensor, ctx: CallContext) => Tensor) | undefined {
    return undefined;
  }

  /** The layer's own settings (JSON); `name`, `seed`, `inputShape` are added by {@link toJSON}. */
  protected abstract config(): Record<string, unknown>;

  /** The maps of this layer's and its sublayers' non-dense weights, by path (as `maps` in the config). */
  private mapConfigs(): Record<string, unknown> {
    const maps: Record<string, unknown> = {};
    for (const [k, m] of this.maps) if (m.kind !== 'dense') maps[k] = m.toJSON();
    for (const [k, s] of Object.entries(this.mapSpecs)) if (!this.maps.has(k)) maps[k] = parseMapSpec(s);
    for (const [cn, c] of this.children) for (const [k, v] of Object.entries(c.mapConfigs())) maps[`${cn}/${k}`] = v;
    return maps;
  }

  /** Registered class name + config: enough, with the weights, to rebuild the layer. */
  toJSON(): LayerSpec {
    const c: Record<string, unknown> = { name: this.name, ...this.config() };
    const maps = this.mapConfigs();
    if (Object.keys(maps).length) c.maps = maps;
    for (const [k, r] of Object.entries(this.regularizers)) c[k] = { kind: r.kind, l1: r.l1, l2: r.l2 };
    if (this.seed !== undefined) c.seed = this.seed;
    if (this.declaredInputShape) c.inputShape = this.declaredInputShape;
    if (this.declaredInputDType) c.inputDType = this.declaredInputDType;
    return { className: this.className, config: c };
  }

  /** A ShapeError prefixed with the layer's name. */
  protected shapeError(message: string): ShapeError {
    return new ShapeError(`layer '${this.name || this.defaultName}' (${this.className})`, message);
  }

  private disposeWeights(): void {
    for (const m of this.maps.values()) m.dispose();
    this.maps.clear();
    this.roles.clear();
    for (const c of this.children.values()) c.dispose();
  }

  /** Frees the weights (the sublayers' too). */
  dispose(): void {
    this.disposeWeights();
    this.inputShapes = undefined;
  }
}

function asShapeList(s: Shape | readonly Shape[]): number[][] {
  return s.length > 0 && Array.isArray(s[0]) ? (s as readonly Shape[]).map((x) => [...x]) : [[...(s as Shape)]];
}

function sameShapes(a: readonly Shape[], b: readonly Shape[]): boolean {
  return a.length === b.length && a.every((s, i) => shapesEqual(s, b[i]));
}

type LayerFactory = (config: Record<string, unknown>) => Layer;
const registry = new Map<string, LayerFactory>();

/** Registers a layer class under its Keras class name, so saved models can be rebuilt. */
export function registerLayer(className: string, factory: LayerFactory): void {
  registry.set(className, factory);
}

/** A layer config (from a file) with an option the layer does not know or of the wrong type; the message names the layer and the option. */
export class LayerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayerConfigError';
  }
}

/** JSON kind of a value, for comparing a config with the one the rebuilt layer writes. */
function jsonKind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : typeof v === 'boolean' ? 'true or false' : `a ${typeof v}`;
}

/**
 * Rebuilds a layer (unbuilt, no weights yet) from its spec, strictly: the layer's constructor checks each option's
 * range, and every option given must be one the rebuilt layer writes back in its own config (its `toJSON`), with a
 * value of the same JSON kind (a number may stand for a pair [h, w]; null for an option whose default is null) — so a
 * misspelt option (`ctivation`) or a wrong type (`useBias: "false"`) is a {@link LayerConfigError} naming both, never a
 * default silently taken.
 */
export function layerFromSpec(spec: LayerSpec): Layer {
  const f = registry.get(spec.className);
  if (!f) throw new Error(`unknown layer class '${spec.className}' (known: ${[...registry.keys()].join(', ')})`);
  const layer = f(spec.config);
  const written = layer.toJSON().config;
  const where = `layer '${layer.name || layer.defaultName}' (${spec.className})`;
  for (const [k, v] of Object.entries(spec.config)) {
    if (BASE_OPTIONS.includes(k) && !(k in written)) continue; // checked by the Layer constructor, written back only when set
    if (!(k in written)) {
      throw new LayerConfigError(`${where}: unknown option '${k}' (options: ${[...new Set([...Object.keys(written), ...BASE_OPTIONS])].join(', ')})`);
    }
    const w = written[k], kv = jsonKind(v), kw = jsonKind(w);
    if (kv !== kw && !(kv === 'a number' && kw === 'a list') && !(kv === 'null' && w === null)) {
      throw new LayerConfigError(`${where}: option '${k}' must be ${kw}, got ${quote(v)}`);
    }
  }
  return layer;
}

/** Options every layer takes (written back only when set). */
const BASE_OPTIONS = ['name', 'seed', 'inputShape', 'inputDType', 'maps'];

/** Checks a loader makes of each weight of a layer it rebuilds, before and after the weight's map is created. */
export interface WeightGuard {
  /** Before the map of weight `path` (`layer/…/weight`; W of `shape`, shared per `spec`) allocates anything: throws to refuse it. */
  before(path: string, shape: Shape, spec: MapSpec | undefined): void;
  /** Once the map exists (it is disposed with the layer if this throws); not called when `shapesOnly`. */
  after(path: string, map: WeightMap): void;
  /**
   * A build that only learns the weights' shapes: `before` sees every weight, and each gets a stand-in map holding its
   * shape and nothing else (no θ, no map state), so that a loader can check what a config asks for in total before
   * allocating any of it; layers skip their own constants too. The model built so is for that only: dispose it.
   */
  shapesOnly?: boolean;
  /**
   * The build is a model file's: every weight's θ and map state will be overwritten from the file, so maps skip what
   * only shapes their initial values (drawing θ, fitting k-means; see MapContext.restoring).
   */
  restoring?: boolean;
  /** Before a layer allocates a constant of its own (`layer/…/name`, not a weight and not in the file: LocallyConnected2D's patch filter): throws to refuse it. */
  constant?(path: string, shape: Shape): void;
}

/** The stand-in map of a shapes-only build (see {@link WeightGuard.shapesOnly}): W's shape, nothing allocated. */
function shapeOnlyMap(shape: Shape): WeightMap {
  const none = (): never => { throw new Error('a shapes-only build (WeightGuard.shapesOnly) holds no weights'); };
  return { kind: 'shape-only', shape: [...shape], parameters: () => [], materialize: none, stats: () => ({ virtual: sizeOf(shape), free: 0, bits: 0 }), toJSON: none, dispose() {} };
}

let weightGuard: WeightGuard | undefined;

/** Runs `f` (e.g. a model's build) with `guard` consulted at every weight a layer adds; synchronous, not reentrant across awaits. */
export function withWeightGuard<T>(guard: WeightGuard, f: () => T): T {
  const previous = weightGuard;
  weightGuard = guard;
  try {
    return f();
  } finally {
    weightGuard = previous;
  }
}

/** Checks an integer option (≥ min) of a layer. */
export function intOption(layer: string, option: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`layer '${layer}': ${option} must be an integer ≥ ${min}, got ${quote(v)}`);
  return v;
}

/** Checks a boolean option of a layer (absent: `dflt`). */
export function boolOption(layer: string, option: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new RangeError(`layer '${layer}': ${option} must be true or false, got ${quote(v)}`);
  return v;
}

/** Normalises a number or [h, w] pair option. */
export function pairOption(layer: string, option: string, v: unknown, min = 1): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2) throw new RangeError(`layer '${layer}': ${option} must be a number or a pair [h, w], got ${quote(v)}`);
  return [intOption(layer, option, pair[0], min), intOption(layer, option, pair[1], min)];
}
