// The recurrent layers' base (Keras RNN): options, shapes, initial states, masks, dropout, per-step recurrent kernels, and the two ways to run a cell.
//
// Legend: N batch, T time steps, F input features, U units, G gates per step (SimpleRNN 1, LSTM 4, GRU 3),
// S per-step recurrent kernels (option `steps`).
import { OUTPUT_ACTIVATIONS, type OutputActivation, RNN_GATES, type RnnCell } from '../../backend/backend.js';
import { fmt, quote } from '../../core/errors.js';
import {
  biasAct, concat, dense, gather, greaterEqual, lookupOf, matmul, mul, randomUniform, reshape, rnnSequence, slice, stack, tensor, unstack, where, zeros,
} from '../../core/ops/index.js';
import { mixSeed, type Random } from '../../core/random.js';
import { type Shape, shapesEqual } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { activate, type ActivationName, activationName } from '../activations.js';
import { fansOf, initialize, initializerName, type InitializerName } from '../initializers.js';
import type { MapSpec } from '../../sharing/registry.js';
import { boolOption, batchShape, type CallContext, intOption, Layer, type LayerOptions } from '../layer.js';

/** Options every recurrent layer takes (Keras names and defaults). */
export interface RecurrentOptions extends LayerOptions {
  /** Size of the state and of the output. */
  units: number;
  /** The cell's activation (default 'tanh'; null = linear). */
  activation?: ActivationName | null;
  useBias?: boolean;
  /** Default 'glorot_uniform' over the whole kernel [F, G·U]. */
  kernelInitializer?: string;
  /** Default 'orthogonal'. */
  recurrentInitializer?: string;
  /** Default 'zeros'. */
  biasInitializer?: string;
  /** Fraction of the input features dropped while training: one mask per sequence, the same at every step. */
  dropout?: number;
  /** Fraction of the state dropped in the recurrent product while training, one mask per sequence and gate. */
  recurrentDropout?: number;
  /** Output the whole sequence [N, T, U] instead of the last output [N, U] (default false). */
  returnSequences?: boolean;
  /** Output the final states too: [output, h] (LSTM [output, h, c]) (default false). */
  returnState?: boolean;
  /** Process the sequence from its end; the sequence output is then in that (reversed) order, as in Keras. */
  goBackwards?: boolean;
  /** At masked steps output zeros instead of the previous output (default false; Bidirectional sets it). */
  zeroOutputForMask?: boolean;
  /**
   * 2 (default): one fused op runs the whole sequence (SimpleRNN, LSTM, GRU with resetAfter, activations linear, relu,
   * sigmoid or tanh); 1: one small op per gate and step (Keras implementation 1, also its per-gate dropout masks).
   * A recurrentDropout > 0 selects 1, as Keras does.
   */
  implementation?: 1 | 2;
  /**
   * S per-step recurrent kernels instead of one: the recurrentKernel becomes [S, U, G·U], step k of the loop (the k-th
   * position processed, masked or not, from the end with goBackwards) multiplies h by kernel min(k, S − 1), so steps
   * S − 1, S, S + 1, … all use the last one and any sequence length runs. The input kernel and the bias stay shared.
   * How the S kernels share their numbers is the recurrentKernel's map, set by {@link timeSharing} (or by
   * `maps.recurrentKernel`; dense, the default, is untied). Selects implementation 1 (the fused op takes one kernel).
   */
  steps?: number;
  /**
   * How the recurrent kernel is shared across time: 'shared' (default without `steps`) one kernel [U, G·U] at every
   * step, the plain layer; 'untied' (default with `steps`) S free kernels, θ [S, U, G·U]; { rank: r } partly shared,
   * kernel k = W + A_k·B_k with one W [U, G·U] and per step A_k [U, r], B_k [r, G·U] (the map 'lowRankDelta';
   * r = 0 is 'shared' seen step by step, r = U can reach 'untied'). Every choice starts from the same kernel at every
   * step: the 'shared' layer's initial W, so the three are the same function at initialisation (with the same seed).
   * 'untied' and { rank } need `steps`; they set the recurrentKernel's map, so `maps.recurrentKernel` must not be given too.
   */
  timeSharing?: TimeSharing;
}

/** How a recurrent layer's kernel is shared across time steps (see {@link RecurrentOptions.timeSharing}). */
export type TimeSharing = 'shared' | 'untied' | { rank: number };

/** The effective weights of one call. */
export interface CellWeights {
  /** [F, G·U] */
  kernel: Tensor;
  /** [U, G·U] */
  recurrent: Tensor;
  bias?: Tensor;
}

/** The recurrent state between steps: h, and LSTM's cell c. */
export interface CellState {
  h: Tensor;
  c?: Tensor;
}

/**
 * Keras' RNN over a cell: inputs [N, T, F] (float32) and optionally initial states ([x, h0] or, for LSTM, [x, h0, c0],
 * each [N, U]; Keras initial_state), outputs [N, U] or [N, T, U] (returnSequences) followed by the final states
 * (returnState). The input projection x·W + b of all T steps is one GEMM [N·T, F]·[F, G·U]; the steps then add h·U
 * and apply the cell, either as one fused op for the whole sequence (`rnnSequence`, implementation 2) or as a loop of
 * small ops (implementation 1). A mask in `ctx.masks[0]` ([N, T], 0 = padding) skips steps: the state is carried over
 * and the output repeats the previous one (zeros with zeroOutputForMask; zeros before the first real step).
 */
export abstract class Recurrent extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerName;
  readonly recurrentInitializer: InitializerName;
  readonly biasInitializer: InitializerName;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly zeroOutputForMask: boolean;
  readonly implementation: 1 | 2;
  /** Number S of per-step recurrent kernels (undefined: one kernel shared by every step). */
  readonly steps: number | undefined;
  /** The fused op's cell. */
  protected abstract readonly cell: RnnCell;
  /** Names of the states, in the order of initial states and returned states. */
  protected abstract readonly stateNames: readonly string[];

  constructor(o: RecurrentOptions, name: string) {
    super(o);
    const where = `layer '${o.name ?? name}'`;
    this.units = intOption(o.name ?? name, 'units', o.units);
    this.activation = activationName(o.activation === undefined ? 'tanh' : o.activation, where);
    this.useBias = boolOption(o.name ?? name, 'useBias', o.useBias, true);
    this.kernelInitializer = initializerName(o.kernelInitializer ?? 'glorot_uniform', where, 'kernelInitializer');
    this.recurrentInitializer = initializerName(o.recurrentInitializer ?? 'orthogonal', where, 'recurrentInitializer');
    this.biasInitializer = initializerName(o.biasInitializer ?? 'zeros', where, 'biasInitializer');
    this.dropout = rate(where, 'dropout', o.dropout);
    this.recurrentDropout = rate(where, 'recurrentDropout', o.recurrentDropout);
    this.returnSequences = boolOption(o.name ?? name, 'returnSequences', o.returnSequences, false);
    this.returnState = boolOption(o.name ?? name, 'returnState', o.returnState, false);
    this.goBackwards = boolOption(o.name ?? name, 'goBackwards', o.goBackwards, false);
    this.zeroOutputForMask = boolOption(o.name ?? name, 'zeroOutputForMask', o.zeroOutputForMask, false);
    if (o.implementation !== undefined && o.implementation !== 1 && o.implementation !== 2) {
      throw new RangeError(`${where}: implementation must be 1 or 2, got ${quote(o.implementation)}`);
    }
    this.steps = o.steps === undefined ? undefined : intOption(o.name ?? name, 'steps', o.steps);
    const map = timeSharingMap(where, o.timeSharing, this.steps);
    if (map) {
      if (this.mapSpecs.recurrentKernel !== undefined) {
        throw new RangeError(`${where}: timeSharing ${JSON.stringify(o.timeSharing)} sets the recurrentKernel's map, and maps.recurrentKernel is given too; give one (steps with maps.recurrentKernel shares the per-step kernels by any scheme)`);
      }
      if (map !== 'dense') this.mapSpecs.recurrentKernel = map;
    }
    this.implementation = this.recurrentDropout > 0 || this.steps !== undefined ? 1 : o.implementation ?? 2;
  }

  /** Number of states (and of initial states it takes): 1, or 2 for LSTM (h, c). */
  get stateCount(): number {
    return this.stateNames.length;
  }

  /** Gates per step (G): the kernels are [F, G·U] and [U, G·U]. */
  get gates(): number {
    return RNN_GATES[this.cell];
  }

  outputShape(s: Shape): number[] {
    return this.outputShapes([s])[0];
  }

  override outputShapes(shapes: readonly Shape[]): number[][] {
    const [seq, ...init] = shapes;
    if (seq.length !== 2 || seq[0] < 1) throw this.shapeError(`needs inputs [N, T, features] with T ≥ 1, got ${batchShape(seq)}`);
    const states = this.stateNames;
    if (init.length !== 0 && init.length !== states.length) {
      throw this.shapeError(`takes the sequence and optionally ${states.length} initial state${states.length > 1 ? 's' : ''} (${states.join(', ')}), got ${shapes.length} inputs: ${shapes.map((s) => batchShape(s)).join(', ')}`);
    }
    init.forEach((s, k) => {
      if (s.length !== 1 || s[0] !== this.units) throw this.shapeError(`initial state ${states[k]} must be ${batchShape([this.units])}, got ${batchShape(s)}`);
    });
    const out = this.returnSequences ? [seq[0], this.units] : [this.units];
    return this.returnState ? [out, ...states.map(() => [this.units])] : [out];
  }

  /**
   * The weights see only the features (and the states' shapes), not the length: the layer serves sequences of any length
   * (with per-step kernels, steps past the last kernel use the last one, as at any length).
   */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(shapes.map((s, i) => (i === 0 ? s.slice(1) : s)));
  }

  protected override createWeights(s: Shape, rng: Random): void {
    const gu = this.gates * this.units;
    this.addWeight('kernel', [s[1], gu], this.kernelInitializer, rng, { role: 'kernel' });
    const rec = [this.units, gu];
    if (this.steps === undefined) this.addWeight('recurrentKernel', rec, this.recurrentInitializer, rng, { role: 'recurrentKernel' });
    else {
      // Per-step kernels start as S copies of the one kernel the plain layer would draw (same seed, same fans); θ of
      // any other shape (a map's: lowRankDelta's base [U, G·U], hashed buckets) is drawn as that kernel would be.
      const init = this.recurrentInitializer;
      const fans = fansOf(rec);
      const stacked = [this.steps, ...rec];
      const perStep = (shape: Shape, seed: number): Tensor => {
        if (!shapesEqual(shape, stacked)) return initialize(init, shape, seed, fans);
        const one = initialize(init, rec, seed, fans);
        const v = one.f32();
        one.dispose();
        const all = new Float32Array(v.length * this.steps!);
        for (let k = 0; k < this.steps!; k++) all.set(v, k * v.length);
        return tensor(all, stacked);
      };
      this.addWeight('recurrentKernel', stacked, init, rng, { role: 'recurrentKernel', fans, init: perStep });
    }
    if (this.useBias) this.createBias(rng);
  }

  /** Adds the bias (shape and initialiser are the cell's: Keras' LSTM unit forget bias, GRU's two rows). */
  protected createBias(rng: Random): void {
    this.addWeight('bias', [this.gates * this.units], this.biasInitializer, rng, { role: 'bias' });
  }

  /** The bias added to the input projection x·W ([G·U]), if any. */
  protected inputBias(w: CellWeights): Tensor | undefined {
    return w.bias;
  }

  /** GRU with resetAfter: the bias added to h·U before the reset gate ([G·U]). */
  protected recurrentBias(_w: CellWeights): Tensor | undefined {
    return undefined;
  }

  /** Whether the fused op can run this configuration (its activations; GRU: resetAfter). */
  protected fusable(): boolean {
    return isFusedActivation(this.activation);
  }

  /** One step of the cell as small ops: from the input projection pt [N, G·U] and the state, the next state. */
  protected abstract step(pt: Tensor, state: CellState, w: CellWeights, rec: RecurrentProduct): CellState;

  /** act(x) with the layer's activation. */
  protected act(x: Tensor): Tensor {
    return activate(x, this.activation);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    return this.callAll([x], ctx)[0];
  }

  override callAll(xs: readonly Tensor[], ctx: CallContext): Tensor[] {
    const [x, ...init] = xs;
    const shapes = xs.map((t) => t.shape.slice(1));
    if (x.rank !== 3) throw this.shapeError(`needs inputs [N, T, features], got ${fmt(x.shape)}`);
    this.outputShapes(shapes);
    const [n, t] = x.shape;
    for (const s of init) {
      if (s.shape[0] !== n) throw this.shapeError(`initial states must have the batch size ${n} of the sequence ${fmt(x.shape)}, got ${fmt(s.shape)}`);
    }
    const mask = ctx.masks?.[0];
    if (mask && (mask.rank !== 2 || mask.shape[0] !== n || mask.shape[1] !== t || mask.dtype !== 'float32')) {
      throw this.shapeError(`a mask for inputs ${fmt(x.shape)} must be float32 [${n}, ${t}], got ${mask.dtype} ${fmt(mask.shape)}`);
    }
    const w: CellWeights = { kernel: this.w('kernel'), recurrent: this.w('recurrentKernel'), bias: this.useBias ? this.w('bias') : undefined };
    const perGate = this.implementation === 1;
    const drop = (what: string, rateOf: number, shape: number[], count: number): Tensor[] | undefined =>
      ctx.training && rateOf > 0
        ? Array.from({ length: count }, (_, g) => dropMask(shape, rateOf, mixSeed(ctx.seed, `${ctx.path ?? this.name}:${what}:${g}`)))
        : undefined;
    const proj = this.project(x, w, drop('dropout', this.dropout, [n, x.shape[2]], perGate ? this.gates : 1));
    const state: CellState = {
      h: init[0] ?? zeros([n, this.units]),
      c: this.cell === 'lstm' ? init[1] ?? zeros([n, this.units]) : undefined,
    };
    const recMasks = drop('recurrentDropout', this.recurrentDropout, [n, this.units], this.gates);
    const { y, final } = !perGate && this.fusable()
      ? this.fused(proj, w, state, mask)
      : this.composed(proj.ids ? gather(proj.p, proj.ids, 0) : proj.p, w, state, mask, this.recurrentProducts(w.recurrent, recMasks));
    const out = this.returnSequences ? y : reshape(slice(y, [0, t - 1, 0], [n, 1, this.units]), [n, this.units]);
    return this.returnState ? [out, final.h, ...(final.c ? [final.c] : [])] : [out];
  }

  /**
   * Keras compute_mask: the input's mask goes on with the sequence output (returnSequences), else none; the states
   * carry none. One entry per output.
   */
  override computeMask(_inputs: readonly Tensor[], masks: readonly (Tensor | undefined)[] | undefined): (Tensor | undefined)[] {
    const out = this.returnSequences ? masks?.[0] : undefined;
    return this.returnState ? [out, ...this.stateNames.map(() => undefined)] : [out];
  }

  /**
   * x·W + b for every step as one GEMM ([N·T, F]·[F, G·U]) giving p [N, T, G·U]; with per-gate dropout masks one GEMM
   * per gate. When x is an Embedding's lookup table[ids] with fewer table rows than N·T, p is the table's projection
   * [V, G·U] instead, looked up by `ids` [N, T].
   */
  private project(x: Tensor, w: CellWeights, masks: Tensor[] | undefined): { p: Tensor; ids?: Tensor } {
    const [n, t, f] = x.shape;
    const gu = this.gates * this.units;
    const b = this.inputBias(w);
    if (!masks) {
      const look = lookupOf(x);
      return look && look.table.shape[0] < n * t ? { p: dense(look.table, w.kernel, b), ids: look.ids } : { p: dense(x, w.kernel, b) };
    }
    const rows = (m: Tensor): Tensor => reshape(mul(x, reshape(m, [n, 1, f])), [n * t, f]);
    let p = masks.length > 1
      ? concat(masks.map((m, g) => matmul(rows(m), slice(w.kernel, [0, g * this.units], [f, this.units]))), 1)
      : matmul(rows(masks[0]), w.kernel);
    if (b) p = biasAct(p, b, 'linear');
    return { p: reshape(p, [n, t, gu]) };
  }

  /** The whole sequence as one rnnSequence op. */
  private fused(proj: { p: Tensor; ids?: Tensor }, w: CellWeights, s: CellState, mask: Tensor | undefined): { y: Tensor; final: CellState } {
    const r = rnnSequence(proj.p, w.recurrent, s.h, {
      cell: this.cell, activation: this.activation as OutputActivation, recurrentActivation: this.gateActivation() as OutputActivation | undefined,
      reverse: this.goBackwards, zeroOutputForMask: this.zeroOutputForMask, c0: s.c, recurrentBias: this.recurrentBias(w), mask, ids: proj.ids,
    });
    return { y: r.y, final: { h: r.h, c: r.c } };
  }

  /** The gates' activation (Keras recurrent_activation; SimpleRNN has no gates). */
  protected gateActivation(): ActivationName | undefined {
    return undefined;
  }

  /**
   * The recurrent product of step k of the loop: one for all steps, or with `steps` one per per-step kernel (views of
   * the [S, U, G·U] kernel, made when first needed), step k ≥ S taking the last.
   */
  private recurrentProducts(kernel: Tensor, masks: Tensor[] | undefined): (k: number) => RecurrentProduct {
    if (this.steps === undefined) {
      const rec = new RecurrentProduct(kernel, this.units, masks);
      return () => rec;
    }
    let kernels: Tensor[] | undefined;
    const recs: RecurrentProduct[] = [];
    return (k) => {
      const s = Math.min(k, this.steps! - 1);
      kernels ??= unstack(kernel, 0);
      return (recs[s] ??= new RecurrentProduct(kernels[s], this.units, masks));
    };
  }

  /** The loop of small ops (implementation 1, activations the fused op lacks, per-step kernels); `rec(k)` serves step k. */
  private composed(p: Tensor, w: CellWeights, s: CellState, mask: Tensor | undefined, rec: (k: number) => RecurrentProduct): { y: Tensor; final: CellState } {
    const [n, t, gu] = p.shape;
    const ys: Tensor[] = [];
    let state = s;
    let prev: Tensor | number = 0;
    for (let k = 0; k < t; k++) {
      const tau = this.goBackwards ? t - 1 - k : k;
      const next = this.step(reshape(slice(p, [0, tau, 0], [n, 1, gu]), [n, gu]), state, w, rec(k));
      let out = next.h;
      if (mask) {
        const m = reshape(slice(mask, [0, tau], [n, 1]), [n, 1]);
        state = { h: where(m, next.h, state.h), c: next.c && where(m, next.c, state.c!) };
        out = where(m, next.h, this.zeroOutputForMask ? 0 : prev);
      } else state = next;
      ys.push(out);
      prev = out;
    }
    return { y: stack(ys, 1), final: state };
  }

  protected override codeOptions(): readonly string[] {
    return ['timeSharing']; // written as the recurrentKernel's map
  }

  protected config(): Record<string, unknown> {
    return {
      units: this.units, activation: this.activation, useBias: this.useBias, kernelInitializer: this.kernelInitializer,
      recurrentInitializer: this.recurrentInitializer, biasInitializer: this.biasInitializer, dropout: this.dropout,
      recurrentDropout: this.recurrentDropout, returnSequences: this.returnSequences, returnState: this.returnState,
      goBackwards: this.goBackwards, zeroOutputForMask: this.zeroOutputForMask, implementation: this.implementation,
      ...(this.steps !== undefined ? { steps: this.steps } : {}),
    };
  }
}

/** Options of the gated cells (LSTM, GRU). */
export interface GatedRecurrentOptions extends RecurrentOptions {
  /** The gates' activation (default 'sigmoid'; null = linear). */
  recurrentActivation?: ActivationName | null;
}

/** A recurrent layer with gates (LSTM, GRU): their activation is Keras' recurrent_activation. */
export abstract class GatedRecurrent extends Recurrent {
  readonly recurrentActivation: ActivationName;

  constructor(o: GatedRecurrentOptions, name: string) {
    super(o, name);
    this.recurrentActivation = activationName(o.recurrentActivation === undefined ? 'sigmoid' : o.recurrentActivation, `layer '${o.name ?? name}'`, 'recurrentActivation');
  }

  /** recurrentActivation(z). */
  protected gate(z: Tensor): Tensor {
    return activate(z, this.recurrentActivation);
  }

  protected override fusable(): boolean {
    return super.fusable() && isFusedActivation(this.recurrentActivation);
  }

  protected override gateActivation(): ActivationName {
    return this.recurrentActivation;
  }

  protected override config(): Record<string, unknown> {
    return { ...super.config(), recurrentActivation: this.recurrentActivation };
  }
}

/**
 * h·U for one step in the composed loop: one GEMM, or with recurrent dropout one per gate on (h ⊙ mask_g) (Keras
 * implementation 1). The per-gate slices of U are cut once per call.
 */
export class RecurrentProduct {
  private readonly blocks: Tensor[] = [];

  constructor(readonly kernel: Tensor, readonly units: number, readonly masks: Tensor[] | undefined) {}

  /** U's columns of gate g, [U, U]. */
  block(g: number): Tensor {
    return (this.blocks[g] ??= slice(this.kernel, [0, g * this.units], [this.units, this.units]));
  }

  /** h (⊙ the gate's dropout mask) for gate g. */
  input(h: Tensor, g: number): Tensor {
    return this.masks ? mul(h, this.masks[g]) : h;
  }

  /** [N, k·U]: h·U for the first `gates` gates (default all). */
  of(h: Tensor, gates = this.kernel.shape[1] / this.units): Tensor {
    if (!this.masks && gates * this.units === this.kernel.shape[1]) return matmul(h, this.kernel);
    return concat(Array.from({ length: gates }, (_, g) => matmul(this.input(h, g), this.block(g))), 1);
  }
}

/** True for the activations the fused recurrence implements (the bias activations whose slope is a function of their output). */
export function isFusedActivation(a: ActivationName): boolean {
  return (OUTPUT_ACTIVATIONS as readonly string[]).includes(a);
}

/** An inverted-dropout keep mask: 1/(1 − rate) with probability 1 − rate, else 0. */
function dropMask(shape: number[], r: number, seed: number): Tensor {
  return mul(greaterEqual(randomUniform(shape, { seed }), r), 1 / (1 - r));
}

/**
 * The recurrentKernel's map spec for a timeSharing option ('dense' for 'untied'; undefined: none asked), checked
 * against `steps`: 'shared' takes no steps, 'untied' and { rank } need them.
 */
function timeSharingMap(where: string, ts: unknown, steps: number | undefined): MapSpec | undefined {
  if (ts === undefined) return undefined;
  const rank = typeof ts === 'object' && ts !== null ? (ts as { rank?: unknown }).rank : undefined;
  if (ts !== 'shared' && ts !== 'untied' && !(typeof rank === 'number' && Number.isInteger(rank) && rank >= 0)) {
    throw new RangeError(`${where}: timeSharing must be 'shared', 'untied' or { rank: r } with an integer r ≥ 0, got ${quote(ts)}`);
  }
  if (ts === 'shared') {
    if (steps !== undefined) throw new RangeError(`${where}: timeSharing 'shared' keeps one recurrent kernel, so it takes no steps (got steps ${steps}); { rank: 0 } shares one kernel as ${steps} per-step views`);
    return undefined;
  }
  if (steps === undefined) throw new RangeError(`${where}: timeSharing ${JSON.stringify(ts)} needs steps: S, the number of per-step recurrent kernels`);
  return ts === 'untied' ? 'dense' : { kind: 'lowRankDelta', rank };
}

function rate(where: string, option: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new RangeError(`${where}: ${option} must be in [0, 1), got ${quote(v)}`);
  return v;
}
