// The optimizers and the factory that builds one from a Keras name or a config.
import { Adam, ADAM_KEYS } from './adam.js';
import { AdamW, ADAMW_KEYS } from './adamw.js';
import { COMMON_OPTIMIZER_KEYS, type Optimizer, type OptimizerConfig } from './optimizer.js';
import { SGD, SGD_KEYS } from './sgd.js';

export { Optimizer } from './optimizer.js';
export type { CommonOptimizerOptions, OptimizerConfig, OptimizerState, ParamState } from './optimizer.js';
export { checkSchedule, scheduledRate, SCHEDULE_NAMES, type CosineDecayConfig, type ExponentialDecayConfig, type ScheduleConfig } from './schedule.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, type AdamOptions } from './adam.js';
export { AdamW, type AdamWOptions } from './adamw.js';

const KEYS: Record<string, readonly string[]> = { sgd: SGD_KEYS, adam: ADAM_KEYS, adamw: ADAMW_KEYS };

/**
 * Builds an optimizer from a Keras name ('sgd', 'adam', 'adamw'; case-insensitive, Keras defaults) or from
 * a config such as `{ name: 'sgd', learningRate: 0.1, momentum: 0.9 }` (what `toJSON()` returns).
 * Unknown names and unknown keys throw.
 */
export function createOptimizer(spec: string | OptimizerConfig): Optimizer {
  const config: OptimizerConfig = typeof spec === 'string' ? { name: spec } : spec;
  const name = String(config.name).toLowerCase();
  const keys = KEYS[name] ? [...KEYS[name], ...COMMON_OPTIMIZER_KEYS] : undefined;
  if (!keys) throw new Error(`createOptimizer: unknown optimizer '${config.name}' (expected one of ${Object.keys(KEYS).join(', ')})`);
  const { name: _ignored, ...rest } = config;
  for (const k of Object.keys(rest)) {
    if (!keys.includes(k)) throw new Error(`createOptimizer: '${name}' has no option '${k}' (options: ${keys.join(', ')})`);
  }
  const o = rest as Record<string, never>;
  if (name === 'sgd') return new SGD(o);
  if (name === 'adam') return new Adam(o);
  return new AdamW(o);
}
