// The optimizer base: dedupes parameters by identity, keeps per-parameter state, updates in place.
import { keep, tidy } from '../core/engine.js';
import { fmt, ShapeError } from '../core/errors.js';
import { add, zerosLike } from '../core/ops/index.js';
import { shapesEqual } from '../core/shape.js';
import { assign, type Tensor } from '../core/tensor.js';

/** A serialisable optimizer description: `name` plus its hyperparameters (see {@link createOptimizer}). */
export interface OptimizerConfig {
  name: string;
  learningRate?: number;
  [key: string]: number | string | boolean | undefined;
}

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

  constructor(public learningRate: number) {
    positive('learningRate', learningRate);
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
    this.iterations++;
    for (const [p, gs] of grouped) {
      tidy(() => {
        const g = gs.reduce((a, b) => add(a, b));
        const s = this.stateOf(p);
        s.step++;
        this.apply(p, g, s);
      });
    }
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

/** Throws a RangeError unless `v` is a finite number > 0. */
export function positive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`optimizer: ${name} must be a finite number > 0, got ${v}`);
}

/** Throws a RangeError unless 0 ≤ v < 1. */
export function unitInterval(name: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new RangeError(`optimizer: ${name} must be in [0, 1), got ${v}`);
}
