// `train --l1 / --l2`: Keras kernel regularizers on every layer with a kernel of an unbuilt model.
import type { Model } from '../nn/model.js';
import { modelFromConfig } from '../nn/model.js';
import { regularizer } from '../nn/regularizers.js';
import { UsageError } from './args.js';

/**
 * Sets `kernelRegularizer` { l1, l2 } (penalty l1·Σ|w| + l2·Σw², Keras `L1L2`) on every layer (or sublayer) of an unbuilt
 * model that has a weight of role kernel; the layers are found on a throwaway build of a copy. Nothing happens when
 * both factors are absent or 0; a negative or non-finite factor is a UsageError naming the flag.
 */
export function applyKernelRegularizer(model: Model, l1: number | undefined, l2: number | undefined, command = 'train'): void {
  for (const [flag, v] of [['--l1', l1], ['--l2', l2]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new UsageError(`${flag} must be a finite number ≥ 0 (the penalty's factor), got ${v}`, command);
  }
  if (!l1 && !l2) return;
  const r = regularizer({ kind: l1 && l2 ? 'l1l2' : l1 ? 'l1' : 'l2', l1: l1 ?? 0, l2: l2 ?? 0 }, command);
  const probe = modelFromConfig(model.toJSON()).build();
  const layers = new Set(probe.weights().filter((w) => w.role === 'kernel').map((w) => w.path.slice(0, w.path.lastIndexOf('/'))));
  probe.dispose();
  for (const path of layers) model.getLayer(path).regularizers.kernelRegularizer = r;
}
