// Activation functions by Keras name, and the fused bias + activation every weighted layer ends with.
import type { OutputActivation } from '../backend/backend.js';
import { describeValue } from '../core/errors.js';
import { biasAct, gelu, hardSigmoid, relu, sigmoid, softmax, tanh } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';

/** Keras names of the activations (Keras 3's semantics: hard_sigmoid is clip(x/6 + 1/2, 0, 1), as PyTorch's Hardsigmoid). */
export const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'gelu', 'hard_sigmoid'] as const;
/** One of {@link ACTIVATIONS}. */
export type ActivationName = (typeof ACTIVATIONS)[number];

/**
 * Validates an activation name (null/undefined → 'linear'); throws a RangeError naming the layer, the option (when it is
 * not `activation`) and the allowed names.
 */
export function activationName(name: unknown, where: string, option = 'activation'): ActivationName {
  const n = name ?? 'linear';
  if (typeof n !== 'string') throw new RangeError(`${where}: ${option} must be the name of an activation (one of ${ACTIVATIONS.join(', ')}), got ${describeValue(n)}`);
  if ((ACTIVATIONS as readonly string[]).includes(n)) return n as ActivationName;
  throw new RangeError(`${where}: unknown activation '${n}'${option === 'activation' ? '' : ` for ${option}`} (expected one of ${ACTIVATIONS.join(', ')})`);
}

/** act(x) along the last axis where it matters (softmax). With `logits` set, softmax is skipped (losses fuse it). */
export function activate(x: Tensor, act: ActivationName, logits = false): Tensor {
  switch (act) {
    case 'linear': return x;
    case 'relu': return relu(x);
    case 'sigmoid': return sigmoid(x);
    case 'tanh': return tanh(x);
    case 'gelu': return gelu(x);
    case 'hard_sigmoid': return hardSigmoid(x);
    case 'softmax': return logits ? x : softmax(x, -1);
  }
}

/**
 * True for the activations every fused bias kernel (biasAct, conv2dBiasAct) applies: linear, relu, sigmoid, tanh (their
 * slopes are functions of the output; biasAct also fuses GELU, see {@link biasActivate}).
 */
export function isBiasActivation(act: ActivationName): act is OutputActivation {
  return act === 'linear' || act === 'relu' || act === 'sigmoid' || act === 'tanh';
}

/** act(x + bias) with one fused kernel where the backend has it (linear, relu, sigmoid, tanh, gelu). */
export function biasActivate(x: Tensor, bias: Tensor | undefined, act: ActivationName, logits = false): Tensor {
  if (!bias) return activate(x, act, logits);
  if (isBiasActivation(act) || act === 'gelu') return biasAct(x, bias, act);
  return activate(biasAct(x, bias, 'linear'), act, logits);
}
