// Learning-rate schedules (Keras' LearningRateSchedule semantics): the rate of each update from the update's index.
import { quote } from '../core/errors.js';

/** Keras' `CosineDecay`: from the base rate (or, after a linear warm-up, `warmupTarget`) down to `alpha`·that over `decaySteps`, then flat. */
export interface CosineDecayConfig {
  name: 'cosine_decay';
  /** Updates over which the rate decays (> 0). */
  decaySteps: number;
  /** Floor, as a fraction of the decayed-from rate (default 0). */
  alpha?: number;
  /** Linear warm-up updates from the base rate to `warmupTarget` before the decay (default 0: none). */
  warmupSteps?: number;
  /** The rate reached at the end of the warm-up (required when warmupSteps > 0). */
  warmupTarget?: number;
}

/** Keras' `ExponentialDecay`: base · decayRate^(step / decaySteps) (the exponent floored when `staircase`). */
export interface ExponentialDecayConfig {
  name: 'exponential_decay';
  decaySteps: number;
  decayRate: number;
  staircase?: boolean;
}

/** A serialisable learning-rate schedule; the base rate is the optimizer's `learningRate`. */
export type ScheduleConfig = CosineDecayConfig | ExponentialDecayConfig;

export const SCHEDULE_NAMES = ['cosine_decay', 'exponential_decay'] as const;

function finite(where: string, key: string, v: unknown, min: number, strict: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (strict ? !(v > min) : !(v >= min))) {
    throw new RangeError(`${where}: ${key} must be a finite number ${strict ? '>' : '≥'} ${min}, got ${quote(v)}`);
  }
  return v;
}

/** Checks a schedule config (unknown names and keys, ranges) and returns a normalised copy. */
export function checkSchedule(c: unknown): ScheduleConfig {
  const where = 'learning-rate schedule';
  if (!c || typeof c !== 'object') throw new TypeError(`${where}: expected { name: ${SCHEDULE_NAMES.map((n) => `'${n}'`).join(' | ')}, … }, got ${quote(c)}`);
  const o = c as Record<string, unknown>;
  const allowed: Record<string, readonly string[]> = {
    cosine_decay: ['name', 'decaySteps', 'alpha', 'warmupSteps', 'warmupTarget'],
    exponential_decay: ['name', 'decaySteps', 'decayRate', 'staircase'],
  };
  const keys = allowed[String(o.name)];
  if (!keys) throw new RangeError(`${where}: unknown schedule '${String(o.name)}' (expected one of ${SCHEDULE_NAMES.join(', ')})`);
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new RangeError(`${where} '${String(o.name)}' has no option '${k}' (options: ${keys.slice(1).join(', ')})`);
  const decaySteps = finite(where, 'decaySteps', o.decaySteps, 0, true);
  if (o.name === 'exponential_decay') {
    if (o.staircase !== undefined && typeof o.staircase !== 'boolean') throw new TypeError(`${where}: staircase must be true or false, got ${quote(o.staircase)}`);
    return { name: 'exponential_decay', decaySteps, decayRate: finite(where, 'decayRate', o.decayRate, 0, true), staircase: o.staircase === true };
  }
  const alpha = o.alpha === undefined ? 0 : finite(where, 'alpha', o.alpha, 0, false);
  if (alpha > 1) throw new RangeError(`${where}: alpha must be in [0, 1], got ${alpha}`);
  const warmupSteps = o.warmupSteps === undefined ? 0 : finite(where, 'warmupSteps', o.warmupSteps, 0, false);
  if (!Number.isInteger(warmupSteps)) throw new RangeError(`${where}: warmupSteps must be an integer, got ${warmupSteps}`);
  const out: CosineDecayConfig = { name: 'cosine_decay', decaySteps, alpha };
  if (warmupSteps > 0) {
    out.warmupSteps = warmupSteps;
    out.warmupTarget = finite(where, 'warmupTarget', o.warmupTarget, 0, true);
  } else if (o.warmupTarget !== undefined) {
    throw new RangeError(`${where}: warmupTarget needs warmupSteps > 0`);
  }
  return out;
}

/**
 * The rate of update number `step` (0 for the first update, as Keras counts `optimizer.iterations`) with base
 * rate `base`. Keras' formulas, computed in float64.
 */
export function scheduledRate(base: number, s: ScheduleConfig, step: number): number {
  if (s.name === 'exponential_decay') {
    const p = step / s.decaySteps;
    return base * Math.pow(s.decayRate, s.staircase ? Math.floor(p) : p);
  }
  const warm = s.warmupSteps ?? 0;
  if (warm > 0 && step < warm) return base + (s.warmupTarget! - base) * (step / warm);
  const top = warm > 0 ? s.warmupTarget! : base;
  const t = Math.min(step - warm, s.decaySteps) / s.decaySteps;
  const alpha = s.alpha ?? 0;
  return top * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * t)) + alpha);
}
