// Bidirectional: a recurrent layer run forwards and a copy run backwards over the same sequence, outputs merged (Keras).
import { quote } from '../../core/errors.js';
import { add, concat, gather, mul, tensor } from '../../core/ops/index.js';
import { mixSeed, type Random } from '../../core/random.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { batchShape, type CallContext, Layer, type LayerOptions, type LayerSpec, layerFromSpec, registerLayer } from '../layer.js';
import { Recurrent } from './recurrent.js';

/** How the two directions' outputs are combined (Keras merge_mode); null keeps both as separate outputs. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave', null];

/** Options of {@link Bidirectional} (Keras names). */
export interface BidirectionalOptions extends LayerOptions {
  /** The recurrent layer (SimpleRNN, LSTM, GRU) or its saved spec; it is recreated from its config, not reused. */
  layer: Recurrent | LayerSpec;
  /** Default 'concat'. */
  mergeMode?: MergeMode;
  /** The backward layer (default: a copy of `layer` with goBackwards flipped); must differ from it in goBackwards. */
  backwardLayer?: Recurrent | LayerSpec;
}

/**
 * Keras Bidirectional. Sublayers `forward_<name>` and `backward_<name>` (weights `bidirectional/forward_lstm/kernel`, …)
 * both read the whole sequence; with returnSequences the backward output is flipped back in time before merging, so
 * step t of both halves belongs to input time t, and masked steps output zeros (zeroOutputForMask is set, as Keras
 * does). Outputs: the merged output (mergeMode null: the forward and the backward output), then with returnState the
 * forward layer's states and the backward layer's. Initial states: the forward layer's, then the backward layer's.
 */
export class Bidirectional extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly className = 'Bidirectional';
  readonly defaultName = 'bidirectional';
  readonly mergeMode: MergeMode;
  readonly forwardLayer: Recurrent;
  readonly backwardLayer: Recurrent;

  constructor(o: BidirectionalOptions) {
    super(o);
    const where = `layer '${o.name ?? 'bidirectional'}' (Bidirectional)`;
    const mode = o.mergeMode === undefined ? 'concat' : o.mergeMode;
    if (!MERGE_MODES.includes(mode)) throw new RangeError(`${where}: mergeMode must be one of 'concat', 'sum', 'mul', 'ave' or null, got ${quote(o.mergeMode)}`);
    this.mergeMode = mode;
    if (!o.layer || typeof o.layer !== 'object') throw new TypeError(`${where}: needs a recurrent layer, got ${quote(o.layer)}`);
    // Keras recreates both directions from configs: `forward_<name>` as given, `backward_<name>` with goBackwards
    // flipped (and its own seed); both output zeros at masked steps when they return sequences.
    const spec = specOf(o.layer);
    if (!spec || typeof spec.className !== 'string' || !spec.config || typeof spec.config !== 'object') {
      throw new TypeError(`${where}: needs a recurrent layer or its spec ({ className, config }), got ${quote(o.layer)}`);
    }
    const zero = { zeroOutputForMask: spec.config.returnSequences === true };
    const seed = spec.config.seed;
    this.forwardLayer = this.addLayer(...recreate(where, spec, 'forward_', zero));
    this.backwardLayer = this.addLayer(...recreate(where, o.backwardLayer ? specOf(o.backwardLayer) : spec, 'backward_', o.backwardLayer ? zero : {
      ...zero, goBackwards: spec.config.goBackwards !== true, ...(typeof seed === 'number' ? { seed: mixSeed(seed, 'backward') } : {}),
    }));
    const f = this.forwardLayer;
    const b = this.backwardLayer;
    if (f.goBackwards === b.goBackwards) throw new RangeError(`${where}: the forward and backward layers must differ in goBackwards, both have ${f.goBackwards}`);
    for (const k of ['returnSequences', 'returnState'] as const) {
      if (f[k] !== b[k]) throw new RangeError(`${where}: the forward and backward layers must agree on ${k}, got ${f[k]} and ${b[k]}`);
    }
  }

  get returnSequences(): boolean {
    return this.forwardLayer.returnSequences;
  }

  get returnState(): boolean {
    return this.forwardLayer.returnState;
  }

  outputShape(s: Shape): number[] {
    return this.outputShapes([s])[0];
  }

  override outputShapes(shapes: readonly Shape[]): number[][] {
    const [seq, ...init] = shapes;
    const kf = this.forwardLayer.stateCount;
    const k = kf + this.backwardLayer.stateCount;
    if (init.length !== 0 && init.length !== k) {
      throw this.shapeError(`takes the sequence and optionally ${k} initial states (the forward layer's ${kf}, then the backward layer's), got ${shapes.length} inputs: ${shapes.map((s) => batchShape(s)).join(', ')}`);
    }
    const [of, ...sf] = this.forwardLayer.outputShapes([seq, ...init.slice(0, kf)]);
    const [ob, ...sb] = this.backwardLayer.outputShapes([seq, ...init.slice(kf)]);
    const last = of.length - 1;
    if (this.mergeMode !== null && (this.mergeMode === 'concat' ? of.slice(0, last) : of).some((d, i) => d !== ob[i])) {
      throw this.shapeError(`mergeMode '${this.mergeMode}' cannot merge the forward output ${batchShape(of)} with the backward output ${batchShape(ob)}`);
    }
    const merged = this.mergeMode === 'concat' ? [[...of.slice(0, last), of[last] + ob[last]]] : this.mergeMode === null ? [of, ob] : [of];
    return [...merged, ...sf, ...sb];
  }

  /** What its two recurrent layers' weights see: the features, not the length. */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return this.forwardLayer.weightShapeKey([shapes[0]]) + this.backwardLayer.weightShapeKey([shapes[0]]) + JSON.stringify(shapes.slice(1));
  }

  protected override createWeights(_s: Shape, rng: Random, shapes: readonly Shape[]): void {
    const k = this.forwardLayer.stateCount;
    this.buildLayer(this.forwardLayer, [shapes[0], ...shapes.slice(1, 1 + k)], rng);
    this.buildLayer(this.backwardLayer, [shapes[0], ...shapes.slice(1 + k)], rng);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    return this.callAll([x], ctx)[0];
  }

  override callAll(xs: readonly Tensor[], ctx: CallContext): Tensor[] {
    const [x, ...init] = xs;
    const k = init.length ? this.forwardLayer.stateCount : 0;
    const run = (l: Recurrent, states: readonly Tensor[]): Tensor[] => this.callLayerAll(l, [x, ...states], ctx, ctx.masks && [ctx.masks[0]]);
    const [yf, ...sf] = run(this.forwardLayer, init.slice(0, k));
    let [yb, ...sb] = run(this.backwardLayer, init.slice(k));
    if (this.returnSequences) {
      const t = x.shape[1];
      yb = gather(yb, tensor(Int32Array.from({ length: t }, (_, i) => t - 1 - i), [t], 'int32'), 1);
    }
    const m = this.mergeMode;
    const merged = m === 'concat' ? [concat([yf, yb], -1)] : m === 'sum' ? [add(yf, yb)] : m === 'mul' ? [mul(yf, yb)]
      : m === 'ave' ? [mul(add(yf, yb), 0.5)] : [yf, yb];
    return [...merged, ...sf, ...sb];
  }

  /** Keras compute_mask: with returnSequences the input mask goes on with each sequence output; states carry none. */
  override computeMask(_inputs: readonly Tensor[], masks: readonly (Tensor | undefined)[] | undefined): (Tensor | undefined)[] {
    const seq = this.returnSequences ? masks?.[0] : undefined;
    const outs = this.mergeMode === null ? [seq, seq] : [seq];
    const states = this.returnState ? this.forwardLayer.stateCount + this.backwardLayer.stateCount : 0;
    return [...outs, ...new Array<undefined>(states).fill(undefined)];
  }

  protected config(): Record<string, unknown> {
    const strip = (l: Layer): LayerSpec => {
      const { maps: _maps, ...config } = l.toJSON().config;
      return { className: l.className, config };
    };
    return { layer: strip(this.forwardLayer), backwardLayer: strip(this.backwardLayer), mergeMode: this.mergeMode };
  }
}

registerLayer('Bidirectional', (c) => new Bidirectional(c as unknown as BidirectionalOptions));

/** A layer's spec (a layer's own config when given the layer). */
function specOf(l: Layer | LayerSpec): LayerSpec {
  if (!(l instanceof Layer)) return l;
  l.checkGivenOptions(); // rebuilt from its config, the wrapped layer is never applied itself: its options are checked here
  return l.toJSON();
}

/** [name, layer]: the recurrent layer of `spec` with `patch` applied, named `<prefix><its name>`. */
function recreate(where: string, spec: LayerSpec, prefix: string, patch: Record<string, unknown>): [string, Recurrent] {
  if (!spec || typeof spec.className !== 'string' || !spec.config) throw new TypeError(`${where}: needs a recurrent layer or its spec, got ${quote(spec)}`);
  // Checked before the layer is rebuilt with the recurrent-only options of `patch` (which another layer would refuse).
  if (!(layerFromSpec(spec) instanceof Recurrent)) throw new TypeError(`${where}: wraps a recurrent layer (SimpleRNN, LSTM, GRU), got ${spec.className}`);
  const base = String(spec.config.name || layerFromSpec(spec).defaultName).replace(/^(forward|backward)_/, '');
  const made = layerFromSpec({ className: spec.className, config: { ...spec.config, ...patch, name: `${prefix}${base}` } });
  if (!(made instanceof Recurrent)) throw new TypeError(`${where}: wraps a recurrent layer (SimpleRNN, LSTM, GRU), got ${spec.className}`);
  return [made.name, made];
}
