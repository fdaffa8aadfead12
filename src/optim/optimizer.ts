// The optimizer base: dedupes parameters by identity, keeps per-parameter state, updates in place.
import { keep, tidy } from '../core/engine.js';
import { fmt, ShapeError } from '../core/errors.js';
import { add, div, maximum, mul, sqrt, sum, zerosLike } from '../core/ops/index.js';
import { shapesEqual } from '../core/shape.js';
import { assign, noteInPlaceWrite, type Tensor } from '../core/tensor.js';
import { checkSchedule, type ScheduleConfig, scheduledRate } from './schedule.js';

/** A serialisable optimizer description: `name` plus its hyperparameters (see {@link createOptimizer}). */
export interface OptimizerConfig {
  name: string;
  learningRate?: number;
  schedule?: ScheduleConfig;
  [key: string]: number | string | boolean | ScheduleConfig | undefined;
}

/** Options every optimizer takes (Keras names): gradient clipping and a learning-rate schedule. */
export interface CommonOptimizerOptions {
  /** Clip the gradients together so that their global L2 norm is at most this (Keras' `global_clipnorm`, `tf.clip_by_global_norm`). */
  globalClipnorm?: number;
  /** Clip each parameter's gradient to this L2 norm on its own (Keras' `clipnorm`). */
  clipnorm?: number;
  /** A learning-rate schedule over updates (the base rate is `learningRate`), see {@link ScheduleConfig}. */
  schedule?: ScheduleConfig;
}

/** The keys of {@link CommonOptimizerOptions}, accepted by every optimizer config. */
export const COMMON_OPTIMIZER_KEYS = ['globalClipnorm', 'clipnorm', 'schedule'] as const;

/**
 * An optimizer's state, enough to resume exactly: the number of `step` calls, each parameter's own
 * step count (used for bias correction) and its slots, named `${paramName}/${slot}` (e.g. `0/m`).
 */
export interface OptimizerState {
  iterations: number;
  steps: Record<string, number>;
  slots: Record<string, Float32Array>;
}

/** Per-parameter state: the slot tensors (kept, owned by the optimizer) and how often it was stepped. */
export interface ParamState {
  step: number;
  slots: Record<string, Tensor>;
}

/**
 * Base class of the optimizers. `step(params, grads)` updates each parameter in place (see {@link assign}),
 * so parameters keep their identity. A tensor listed several times (a shared parameter) is stepped once,
 * with the sum of its gradients. State is keyed by the tensor object; temporaries are freed each step.
 * Slot tensors are owned by the optimizer: call {@link Optimizer.dispose} when done with it.
 */
export abstract class Optimizer {
  /** The registered (Keras) name: 'sgd', 'adam', 'adamw'. */
  abstract readonly name: string;
  /** Number of `step` calls so far. */
  iterations = 0;
  private readonly state = new Map<Tensor, ParamState>();
  readonly globalClipnorm?: number;
  readonly clipnorm?: number;
  readonly schedule?: ScheduleConfig;
  /** The learning rate of the update in progress (the schedule's value at it, else `learningRate`). */
  protected rate: number;

  constructor(public learningRate: number, o: CommonOptimizerOptions = {}) {
    positive('learningRate', learningRate);
    // A norm is computed in float32: a bound above its largest value would overflow to Infinity (and NaN updates).
    for (const [k, v] of [['globalClipnorm', o.globalClipnorm], ['clipnorm', o.clipnorm]] as const) {
      if (v === undefined) continue;
      positive(k, v);
      if (v > F32_MAX) throw new RangeError(`optimizer: ${k} must be at most ${F32_MAX} (float32's largest), got ${v}`);
    }
    this.globalClipnorm = o.globalClipnorm;
    this.clipnorm = o.clipnorm;
    if (o.schedule !== undefined) this.schedule = checkSchedule(o.schedule);
    this.rate = learningRate;
  }

  /** Replaces the learning-rate schedule (checked as the constructor checks it), e.g. to stretch a decay over a run given more updates. */
  setSchedule(schedule: ScheduleConfig): void {
    (this as { schedule?: ScheduleConfig }).schedule = checkSchedule(schedule);
  }

  /** The learning rate the next update will use (the schedule's value at `iterations`, else `learningRate`). */
  currentLearningRate(): number {
    return this.schedule ? scheduledRate(this.learningRate, this.schedule, this.iterations) : this.learningRate;
  }

  /** The common options as they appear in {@link toJSON} (only those set). */
  protected commonJSON(): Partial<OptimizerConfig> {
    const out: Partial<OptimizerConfig> = {};
    if (this.globalClipnorm !== undefined) out.globalClipnorm = this.globalClipnorm;
    if (this.clipnorm !== undefined) out.clipnorm = this.clipnorm;
    if (this.schedule) out.schedule = { ...this.schedule };
    return out;
  }

  /** Names of the per-parameter slots this optimizer keeps (e.g. ['m', 'v']). */
  protected abstract slotNames(): readonly string[];

  /** The new value of `p` given its summed gradient `g`; update slots in place with assign(). `s.step` is already incremented. */
  protected abstract update(p: Tensor, g: Tensor, s: ParamState): Tensor;

  /** Updates `p` in place; the default assigns {@link update}'s result, fused optimizers override it. */
  protected apply(p: Tensor, g: Tensor, s: ParamState): void {
    assign(p, this.update(p, g, s));
  }

  /** The hyperparameters, as accepted by {@link createOptimizer}. */
  abstract toJSON(): OptimizerConfig;

  /** Applies one update to every distinct parameter; `grads[i]` is the gradient of `params[i]`. */
  step(params: readonly Tensor[], grads: readonly Tensor[]): void {
    if (params.length !== grads.length) {
      throw new ShapeError(`${this.name}.step`, `${params.length} parameters but ${grads.length} gradients`);
    }
    const grouped = new Map<Tensor, Tensor[]>();
    params.forEach((p, i) => {
      const g = grads[i];
      p.check(`${this.name}.step`);
      g.check(`${this.name}.step`);
      if (!shapesEqual(p.shape, g.shape)) {
        throw new ShapeError(`${this.name}.step`, `parameter ${i} has shape ${fmt(p.shape)} but its gradient ${fmt(g.shape)}`);
      }
      const list = grouped.get(p);
      if (list) list.push(g);
      else grouped.set(p, [g]);
    });
    this.rate = this.currentLearningRate();
    this.iterations++;
    if (this.globalClipnorm === undefined) {
      for (const [p, gs] of grouped) {
        tidy(() => this.stepOne(p, this.clipOne(gs.reduce((a, b) => add(a, b)))));
      }
      return;
    }
    tidy(() => {
      // Keras' global clipping: every g times clip / max(‖all g‖₂, clip), the factor computed on the backend (no read-back).
      const entries = [...grouped].map(([p, gs]) => [p, this.clipOne(gs.reduce((a, b) => add(a, b)))] as const);
      const squares = entries.map(([, g]) => sum(mul(g, g)));
      const norm = sqrt(squares.reduce((a, b) => add(a, b)));
      const factor = div(this.globalClipnorm!, maximum(norm, this.globalClipnorm!));
      for (const [p, g] of entries) tidy(() => this.stepOne(p, mul(g, factor)));
    });
  }

  /** `g` clipped to `clipnorm` on its own when that is set: g · clip / max(‖g‖₂, clip). */
  private clipOne(g: Tensor): Tensor {
    if (this.clipnorm === undefined) return g;
    return mul(g, div(this.clipnorm, maximum(sqrt(sum(mul(g, g))), this.clipnorm)));
  }

  private stepOne(p: Tensor, g: Tensor): void {
    const s = this.stateOf(p);
    s.step++;
    noteInPlaceWrite();
    this.apply(p, g, s);
  }

  /** The state of `p`, created with zero slots on first use. */
  private stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      const slots: Record<string, Tensor> = {};
      for (const n of this.slotNames()) slots[n] = keep(zerosLike(p));
      s = { step: 0, slots };
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * A copy of the state of `params` (in that order), named by `names` (default: positions '0', '1', …).
   * Parameters never stepped are left out.
   */
  getState(params: readonly Tensor[], names: readonly string[] = params.map((_, i) => String(i))): OptimizerState {
    checkNames(params, names);
    const out: OptimizerState = { iterations: this.iterations, steps: {}, slots: {} };
    params.forEach((p, i) => {
      const s = this.state.get(p);
      if (!s) return;
      out.steps[names[i]] = s.step;
      for (const [k, t] of Object.entries(s.slots)) out.slots[`${names[i]}/${k}`] = t.f32();
    });
    return out;
  }

  /**
   * Replaces the state of `params` with `state` (as made by {@link getState} with the same names), so the
   * next step continues exactly. Parameters absent from `state` start fresh. Existing state of other
   * tensors is dropped.
   */
  setState(state: OptimizerState, params: readonly Tensor[], names: readonly string[] = params.map((_, i) => String(i))): void {
    checkNames(params, names);
    this.dispose();
    this.iterations = state.iterations;
    params.forEach((p, i) => {
      const step = state.steps[names[i]];
      if (step === undefined || this.state.has(p)) return;
      const slots: Record<string, Tensor> = {};
      for (const n of this.slotNames()) {
        const v = state.slots[`${names[i]}/${n}`];
        if (!v || v.length !== p.size) {
          for (const t of Object.values(slots)) t.dispose();
          throw new ShapeError(`${this.name}.setState`, `slot '${names[i]}/${n}' missing or not of ${p.size} elements for parameter ${fmt(p.shape)}`);
        }
        const t = keep(zerosLike(p));
        t.backend.write(t.buf, v);
        slots[n] = t;
      }
      this.state.set(p, { step, slots });
    });
  }

  /** Frees all state (the optimizer stays usable and starts fresh). */
  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.slots)) t.dispose();
    this.state.clear();
    this.iterations = 0;
  }
}

function checkNames(params: readonly Tensor[], names: readonly string[]): void {
  if (names.length !== params.length) throw new ShapeError('optimizer state', `${params.length} parameters but ${names.length} names`);
}

/** The largest float32. */
const F32_MAX = 3.4028234663852886e38;

/** Throws a RangeError unless `v` is a finite number > 0. */
export function positive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`optimizer: ${name} must be a finite number > 0, got ${v}`);
}

/** Throws a RangeError unless 0 ≤ v < 1. */
export function unitInterval(name: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new RangeError(`optimizer: ${name} must be in [0, 1), got ${v}`);
}
