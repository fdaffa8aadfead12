// TF.js in the tests: tfjs-core with its CPU backend and tfjs-layers, with the chained tensor methods (x.flatten(), …)
// that tfjs-layers calls registered (the union package @tensorflow/tfjs does this; the core's Node bundle does not).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

/** The chained methods that call the op of the same name with the tensor first: x.m(...a) = tf.m(x, ...a). */
const SAME_NAME = [
  'abs', 'acos', 'acosh', 'add', 'all', 'any', 'argMax', 'argMin', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'batchToSpaceND', 'batchNorm',
  'broadcastTo', 'cast', 'ceil', 'clipByValue', 'conv1d', 'conv2d', 'cos', 'cosh', 'cumprod', 'cumsum', 'depthToSpace', 'div', 'divNoNan', 'dot',
  'elu', 'equal', 'erf', 'euclideanNorm', 'exp', 'expandDims', 'expm1', 'floor', 'floorDiv', 'gather', 'greater', 'greaterEqual', 'isFinite',
  'isInf', 'isNaN', 'leakyRelu', 'less', 'lessEqual', 'log', 'log1p', 'logSigmoid', 'logSoftmax', 'logSumExp', 'logicalAnd', 'logicalNot',
  'logicalOr', 'logicalXor', 'matMul', 'max', 'maximum', 'mean', 'min', 'minimum', 'mirrorPad', 'mod', 'mul', 'neg', 'norm', 'notEqual', 'oneHot',
  'onesLike', 'pad', 'pow', 'prelu', 'prod', 'reciprocal', 'relu', 'relu6', 'reshape', 'reverse', 'round', 'rsqrt', 'selu', 'sigmoid', 'sign',
  'sin', 'sinh', 'slice', 'softmax', 'softplus', 'spaceToBatchND', 'split', 'sqrt', 'square', 'squaredDifference', 'squeeze', 'step',
  'stridedSlice', 'sub', 'sum', 'tan', 'tanh', 'tile', 'topk', 'transpose', 'unique', 'unstack', 'zerosLike',
] as const;

type Method = (this: tf.Tensor, ...a: unknown[]) => unknown;
const proto = tf.Tensor.prototype as unknown as Record<string, Method>;
const ops = tf as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of SAME_NAME) proto[name] ??= function (...a) { return ops[name](this, ...a); };
const extra: Record<string, Method> = {
  flatten() { return tf.reshape(this, [this.size]); },
  as1D() { return tf.reshape(this, [this.size]); },
  asScalar() { return tf.reshape(this, []); },
  as2D(...s) { return tf.reshape(this, s as number[]); },
  as3D(...s) { return tf.reshape(this, s as number[]); },
  as4D(...s) { return tf.reshape(this, s as number[]); },
  as5D(...s) { return tf.reshape(this, s as number[]); },
  asType(dtype) { return tf.cast(this, dtype as tf.DataType); },
  toFloat() { return tf.cast(this, 'float32'); },
  toInt() { return tf.cast(this, 'int32'); },
  toBool() { return tf.cast(this, 'bool'); },
  reshapeAs(x) { return tf.reshape(this, (x as tf.Tensor).shape); },
  where(condition, x) { return tf.where(condition as tf.Tensor, this, x as tf.Tensor); },
  concat(x, axis) { return tf.concat([this, ...(x instanceof tf.Tensor ? [x] : x as tf.Tensor[])], axis as number); },
  stack(x, axis) { return tf.stack([this, ...(x instanceof tf.Tensor ? [x] : x as tf.Tensor[])], axis as number); },
};
for (const [name, f] of Object.entries(extra)) proto[name] ??= f;

// Warnings only (the 'running in Node.js' banner); numbers are unaffected.
tf.enableProdMode();
await tf.setBackend('cpu');

export { tf, tfl };
