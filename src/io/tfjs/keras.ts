// Keras layer configs as TF.js writes them: which of our layer options each class carries (snake_case there), initialisers, activations.
import { ACTIVATIONS } from '../../nn/activations.js';
import { initializerName, type InitializerName } from '../../nn/initializers.js';

/** A serialised Keras object: `{ class_name, config }` (Keras 3 adds `module` and `registered_name`). */
export interface KerasObject {
  class_name: string;
  config: Record<string, unknown>;
  [key: string]: unknown;
}

const RECURRENT = ['units', 'activation', 'useBias', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'dropout', 'recurrentDropout', 'returnSequences', 'returnState', 'goBackwards'];
const WINDOW = ['filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer'];

/**
 * Our layer classes that Keras and TF.js share, with the options each carries: our camelCase name is the config key's
 * camelCase form (use_bias ↔ useBias), so one list serves both directions. Subtract is Keras' only: tfjs-layers 4.22
 * has no Subtract class, so it is read, never written.
 */
export const KERAS_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  Dense: ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer'],
  Conv2D: [...WINDOW, 'dilationRate'],
  MaxPooling2D: ['poolSize', 'strides', 'padding'],
  AveragePooling2D: ['poolSize', 'strides', 'padding'],
  Flatten: [],
  Dropout: ['rate'],
  Activation: ['activation'],
  Add: [],
  Subtract: [],
  Multiply: [],
  Average: [],
  Concatenate: ['axis'],
  LayerNormalization: ['axis', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer'],
  Embedding: ['inputDim', 'outputDim', 'embeddingsInitializer', 'maskZero'],
  SimpleRNN: RECURRENT,
  LSTM: [...RECURRENT, 'recurrentActivation', 'unitForgetBias'],
  GRU: [...RECURRENT, 'recurrentActivation', 'resetAfter'],
  Bidirectional: ['mergeMode'],
};

/** The layer classes TF.js export writes. */
export const TFJS_LAYERS = Object.keys(KERAS_OPTIONS).filter((c) => c !== 'Subtract');

/** Classes whose Keras config has `data_format` (channels_last is the only one we run). */
export const CHANNELS_LAST_LAYERS = new Set(['Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten']);

/** 'recurrentKernel' → 'recurrent_kernel'. */
export function snakeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** 'recurrent_kernel' → 'recurrentKernel'. */
export function camelCase(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** True for option names that hold an initialiser. */
export function isInitializerOption(key: string): boolean {
  return key.endsWith('Initializer');
}

/** True for option names that hold an activation. */
export function isActivationOption(key: string): boolean {
  return key === 'activation' || key === 'recurrentActivation';
}

const variance = (scale: number, mode: string, distribution: string): KerasObject => ({ class_name: 'VarianceScaling', config: { scale, mode, distribution, seed: null } });

/** Our initialiser as TF.js serialises it (Glorot, He and LeCun as VarianceScaling, like tfjs-layers' own save). */
export function kerasInitializer(name: InitializerName): KerasObject {
  switch (name) {
    case 'glorot_uniform': return variance(1, 'fan_avg', 'uniform');
    case 'glorot_normal': return variance(1, 'fan_avg', 'normal');
    case 'he_uniform': return variance(2, 'fan_in', 'uniform');
    case 'he_normal': return variance(2, 'fan_in', 'normal');
    case 'lecun_uniform': return variance(1, 'fan_in', 'uniform');
    case 'lecun_normal': return variance(1, 'fan_in', 'normal');
    case 'uniform': return { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } };
    case 'orthogonal': return { class_name: 'Orthogonal', config: { gain: 1, seed: null } };
    case 'zeros': return { class_name: 'Zeros', config: {} };
    case 'ones': return { class_name: 'Ones', config: {} };
  }
}

/**
 * Our name for a serialised Keras initialiser (a string, or `{ class_name, config }` from Keras 2/3 or TF.js), or
 * undefined when we have no equal one (the layer's default is then used: it only matters for training from scratch).
 */
export function ourInitializer(v: unknown): InitializerName | undefined {
  if (typeof v === 'string') return tryName(v);
  if (!v || typeof v !== 'object') return undefined;
  const o = v as KerasObject;
  const c = (o.config ?? {}) as Record<string, unknown>;
  const cls = String(o.class_name);
  if (cls === 'VarianceScaling') {
    const mode = snakeCase(String(c.mode ?? 'fan_in'));
    const dist = snakeCase(String(c.distribution ?? 'truncated_normal'));
    const kind = dist === 'uniform' ? 'uniform' : dist === 'normal' || dist === 'truncated_normal' ? 'normal' : undefined;
    const family = c.scale === 1 && mode === 'fan_avg' ? 'glorot' : c.scale === 2 && mode === 'fan_in' ? 'he' : c.scale === 1 && mode === 'fan_in' ? 'lecun' : undefined;
    return kind && family ? `${family}_${kind}` as InitializerName : undefined;
  }
  if (cls === 'RandomUniform') return (c.minval ?? -0.05) === -0.05 && (c.maxval ?? 0.05) === 0.05 ? 'uniform' : undefined;
  if (cls === 'Orthogonal') return (c.gain ?? 1) === 1 ? 'orthogonal' : undefined;
  return tryName(cls.replace(/^LeCun/, 'Lecun'));
}

function tryName(name: string): InitializerName | undefined {
  try {
    return initializerName(name);
  } catch {
    return undefined;
  }
}

/** A serialised activation's name (a string, null = linear, or Keras 3's `{ class_name, config }`). */
export function activationOf(v: unknown): string {
  if (v === null || v === undefined) return 'linear';
  if (typeof v === 'string') return snakeCase(v);
  const o = v as KerasObject;
  return snakeCase(typeof o.config === 'string' ? o.config : String(o.class_name));
}

/** True for an activation we have. */
export function knownActivation(name: string): boolean {
  return (ACTIVATIONS as readonly string[]).includes(name);
}
