// The Layer base class: shape inference, weights held as sharing maps, config for saving, and the class registry.
import { ShapeError, fmt } from '../core/errors.js';
import { Random } from '../core/random.js';
import { shapesEqual, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import '../sharing/index.js';
import { createMap, type MapSpec, parseMapSpec } from '../sharing/registry.js';
import type { Parameter, WeightMap } from '../sharing/weight-map.js';
import { type Fans, fansOf, initialize, type InitializerName } from './initializers.js';
import type { WeightRole } from './weight-role.js';

/** What a layer's forward pass may depend on besides its input. */
export interface CallContext {
  /** Training mode (Dropout is active only then). */
  training: boolean;
  /** Seed of this step's randomness; layers mix in their own name. */
  seed: number;
  /** Set on the model's last layer when the loss wants logits: a final softmax is skipped. */
  logits?: boolean;
}

/** Options every layer takes. */
export interface LayerOptions {
  /** Unique name within the model (Keras style: 'dense', 'dense_1', … when omitted). */
  name?: string;
  /** Seed of this layer's initialisers (default: derived from the model's seed and the layer's position). */
  seed?: number;
  /** Per-sample input shape, for the first layer of a `sequential` model (Keras `inputShape`). */
  inputShape?: readonly number[];
  /** How each weight is shared, by weight name: `{ kernel: 'hashed:1/8' }` (default: 'dense', W = θ). */
  maps?: Record<string, MapSpec>;
}

/** Finds a weight's map by 'layer/weight' among the layers built so far (for tying). */
export type MapResolver = (path: string) => WeightMap | undefined;

/** A layer's serialised form: its registered class name and its config (JSON). */
export interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
}

/** A named weight of a layer: `conv2d/kernel`. */
export interface NamedWeight {
  layer: Layer;
  /** 'kernel', 'bias', … */
  name: string;
  /** What the weight is for (decides whether transforms share or compress it). */
  role: WeightRole;
  map: WeightMap;
}

/** How {@link Layer.addWeight} declares a weight: its role, and the fans its initialiser uses when not W's own. */
export interface WeightOptions {
  role: WeightRole;
  fans?: Fans;
}

/** A placeholder in a functional model: a model input or a layer's output, with its per-sample shape. */
export class SymbolicTensor {
  constructor(
    /** Per-sample shape (no batch axis). */
    readonly shape: readonly number[],
    /** The layer that produces it (undefined for a model input). */
    readonly layer: Layer | undefined,
    /** The layer's input (undefined for a model input). */
    readonly input: SymbolicTensor | undefined,
    readonly name = '',
  ) {}
}

/** A model input of the given per-sample shape (Keras `Input(shape=...)`). */
export function input(o: { shape: readonly number[]; name?: string }): SymbolicTensor {
  for (const d of o.shape) if (!Number.isInteger(d) || d < 1) throw new RangeError(`input: shape must hold positive integers, got [${o.shape.join(',')}]`);
  return new SymbolicTensor([...o.shape], undefined, undefined, o.name ?? 'input');
}

/** A layer: maps a batch [N, ...inputShape] to [N, ...outputShape], asking its maps for its weights. */
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
  /** Per-sample input shape, set by build. */
  inputShape: number[] | undefined;
  private readonly maps = new Map<string, WeightMap>();
  private readonly roles = new Map<string, WeightRole>();
  /** The sharing spec of each weight, as given (a built layer stores its maps' full configs instead). */
  readonly mapSpecs: Record<string, MapSpec>;
  private resolver: MapResolver | undefined;

  constructor(o: LayerOptions = {}) {
    this.name = o.name ?? '';
    this.seed = o.seed;
    this.declaredInputShape = o.inputShape ? [...o.inputShape] : undefined;
    this.inputShape = undefined;
    this.mapSpecs = { ...(o.maps ?? {}) };
    for (const s of Object.values(this.mapSpecs)) parseMapSpec(s);
  }

  /** True once the weights exist. */
  get built(): boolean {
    return this.inputShape !== undefined;
  }

  /** Creates the weights for a per-sample input shape (once; a second call must agree on the shape). */
  build(inputShape: Shape, seed: number, resolve?: MapResolver): void {
    if (this.inputShape) {
      if (!shapesEqual(this.inputShape, inputShape)) {
        throw new ShapeError(this.name, `layer '${this.name}' was built for inputs ${fmt(this.inputShape)} but now gets ${fmt(inputShape)}`);
      }
      return;
    }
    this.outputShape(inputShape);
    this.resolver = resolve;
    try {
      this.createWeights(inputShape, new Random(this.seed ?? seed));
      const unknown = Object.keys(this.mapSpecs).filter((k) => !this.maps.has(k));
      if (unknown.length) {
        throw new RangeError(`layer '${this.name}': maps name ${unknown.map((k) => `'${k}'`).join(', ')}, but its weights are ${[...this.maps.keys()].join(', ') || 'none'}`);
      }
    } catch (e) {
      for (const m of this.maps.values()) m.dispose();
      this.maps.clear();
      this.roles.clear();
      throw e;
    } finally {
      this.resolver = undefined;
    }
    this.inputShape = [...inputShape];
  }

  /** Connects the layer in a functional model: checks the shape and returns the symbolic output. */
  apply(x: SymbolicTensor): SymbolicTensor {
    return new SymbolicTensor(this.outputShape(x.shape), this, x);
  }

  /** Subclasses create their weights here with {@link addWeight}. */
  protected createWeights(_inputShape: Shape, _rng: Random): void {}

  /**
   * Adds a weight of shape `shape` with its `role`, held by the map its spec asks for (default dense), with θ drawn
   * from `init` (using W's fans, or `o.fans`) and a seed from `rng`.
   */
  protected addWeight(name: string, shape: Shape, init: InitializerName, rng: Random, o: WeightOptions): WeightMap {
    const f = o.fans ?? fansOf(shape);
    const map = createMap(this.mapSpecs[name], {
      layer: this.name || this.defaultName, weight: name, shape, initializer: init, seed: rng.nextUint32(),
      init: (s, seed) => initialize(init, s, seed, f), resolve: this.resolver,
    });
    this.maps.set(name, map);
    this.roles.set(name, o.role);
    return map;
  }

  /** The map of a weight (throws naming the layer if it does not exist). */
  weight(name: string): WeightMap {
    const m = this.maps.get(name);
    if (!m) throw new Error(`layer '${this.name}' has no weight '${name}' (built: ${this.built})`);
    return m;
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

  /** The layer's weights in creation order. */
  weights(): NamedWeight[] {
    return [...this.maps].map(([name, map]) => ({ layer: this, name, role: this.roles.get(name)!, map }));
  }

  /** Free parameters of all weights (each once). */
  parameters(): Parameter[] {
    const seen = new Set<Parameter>();
    for (const m of this.maps.values()) for (const p of m.parameters()) seen.add(p);
    return [...seen];
  }

  /** Number of free parameters. */
  countParams(): number {
    return this.parameters().reduce((s, p) => s + p.value.size, 0);
  }

  /** Per-sample output shape for a per-sample input shape; throws a ShapeError naming the layer when the input does not fit. */
  abstract outputShape(inputShape: Shape): number[];

  /** The forward pass on a batch [N, ...inputShape]. */
  abstract call(x: Tensor, ctx: CallContext): Tensor;

  /** The layer's own settings (JSON); `name`, `seed`, `inputShape` are added by {@link toJSON}. */
  protected abstract config(): Record<string, unknown>;

  /** Registered class name + config: enough, with the weights, to rebuild the layer. */
  toJSON(): LayerSpec {
    const c: Record<string, unknown> = { name: this.name, ...this.config() };
    const maps: Record<string, unknown> = {};
    for (const [k, m] of this.maps) if (m.kind !== 'dense') maps[k] = m.toJSON();
    for (const [k, s] of Object.entries(this.mapSpecs)) if (!this.maps.has(k)) maps[k] = parseMapSpec(s);
    if (Object.keys(maps).length) c.maps = maps;
    if (this.seed !== undefined) c.seed = this.seed;
    if (this.declaredInputShape) c.inputShape = this.declaredInputShape;
    return { className: this.className, config: c };
  }

  /** A ShapeError prefixed with the layer's name. */
  protected shapeError(message: string): ShapeError {
    return new ShapeError(`layer '${this.name || this.defaultName}' (${this.className})`, message);
  }

  /** Frees the weights. */
  dispose(): void {
    for (const m of this.maps.values()) m.dispose();
    this.maps.clear();
    this.roles.clear();
    this.inputShape = undefined;
  }
}

type LayerFactory = (config: Record<string, unknown>) => Layer;
const registry = new Map<string, LayerFactory>();

/** Registers a layer class under its Keras class name, so saved models can be rebuilt. */
export function registerLayer(className: string, factory: LayerFactory): void {
  registry.set(className, factory);
}

/** Rebuilds a layer (unbuilt, no weights yet) from its spec. */
export function layerFromSpec(spec: LayerSpec): Layer {
  const f = registry.get(spec.className);
  if (!f) throw new Error(`unknown layer class '${spec.className}' (known: ${[...registry.keys()].join(', ')})`);
  return f(spec.config);
}

/** Checks an integer option (≥ min) of a layer. */
export function intOption(layer: string, option: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`layer '${layer}': ${option} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** Normalises a number or [h, w] pair option. */
export function pairOption(layer: string, option: string, v: unknown, min = 1): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2) throw new RangeError(`layer '${layer}': ${option} must be a number or a pair [h, w], got ${JSON.stringify(v)}`);
  return [intOption(layer, option, pair[0], min), intOption(layer, option, pair[1], min)];
}
