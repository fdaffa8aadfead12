// The training benchmark's TF.js engines: the same CNN with tfjs-core ops on the cpu (pure JS) or wasm (XNNPACK) backend.
// Shapes: x [N,28,28,1] NHWC, filters [KH,KW,C,F], dense kernels [in,out], as in bench/train-ours.ts.
import { register } from 'node:module';
import type { TrainRunner } from './train-ours.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type T = import('@tensorflow/tfjs-core').Tensor;
type T4 = import('@tensorflow/tfjs-core').Tensor4D;
type T2 = import('@tensorflow/tfjs-core').Tensor2D;

/**
 * Registers TF.js's own gradient functions. tfjs-core's Node bundle (its `main`) leaves them out (the
 * `@tensorflow/tfjs` union package adds them), and its ESM `dist/register_all_gradients.js` imports
 * extension-less paths, so a resolve hook appends `.js` for them. The gradients land in the global
 * registry the bundle's engine reads (at the cost of a second copy of tfjs-core's modules in memory).
 */
export async function registerTfjsGradients(): Promise<void> {
  const hook = `export async function resolve(s, c, next) {
    try { return await next(s, c); } catch (e) {
      if (/^\\.\\.?\\//.test(s) && c.parentURL?.includes('/@tensorflow/tfjs-core/dist/')) return next(s + '.js', c);
      throw e;
    }
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const specifier = '@tensorflow/tfjs-core/dist/register_all_gradients.js';
  await import(specifier);
}

/**
 * A TF.js runner on `backend`. Layers are written as tfjs-layers writes them: fused conv2d / matMul with
 * bias and activation, maxPool, softmax cross-entropy on one-hot labels, `tf.train.adam(1e-3)` applied to
 * the gradients from `tf.variableGrads`. In Node the wasm backend runs one XNNPACK thread whatever
 * `threads` says, and has no Conv2DBackpropFilter kernel, so its trainStep throws.
 */
export async function makeTfjsRunner(backend: 'cpu' | 'wasm', threads: number, seed = 1): Promise<TrainRunner> {
  const tf: Tf = await import('@tensorflow/tfjs-core');
  await registerTfjsGradients();
  let info: string;
  if (backend === 'cpu') {
    const cpu = await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") returned false');
    info = `tfjs-core ${tf.version_core} (+ its ESM gradients), tfjs-backend-cpu ${cpu.version_cpu}: plain JavaScript kernels, one thread`;
  } else {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    const multi = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    info = `tfjs-core ${tf.version_core} (+ its ESM gradients), tfjs-backend-wasm ${wasm.version_wasm}: XNNPACK, ${multi ? wasm.getThreadsCount() : 1} thread(s)` +
      `${multi ? '' : ' (the backend disables threads under Node)'}, SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}`;
  }
  await tf.ready();

  const glorot = (shape: number[], s: number) => {
    const field = shape.length === 4 ? shape[0] * shape[1] : 1;
    const limit = Math.sqrt(6 / (field * shape[shape.length - 2] + field * shape[shape.length - 1]));
    return tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', s));
  };
  const w1 = glorot([3, 3, 1, 32], seed), b1 = tf.variable(tf.zeros([32]));
  const w2 = glorot([3, 3, 32, 64], seed + 1), b2 = tf.variable(tf.zeros([64]));
  const w3 = glorot([1600, 128], seed + 2), b3 = tf.variable(tf.zeros([128]));
  const w4 = glorot([128, 10], seed + 3), b4 = tf.variable(tf.zeros([10]));
  const vars = [w1, b1, w2, b2, w3, b3, w4, b4];
  const opt = tf.train.adam(1e-3);

  /** Logits [N,10] of x [N,28,28,1]. */
  const forward = (x: T4): T2 => {
    let h = tf.fused.conv2d({ x, filter: w1 as T4, strides: 1, pad: 'valid', bias: b1, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h, filter: w2 as T4, strides: 1, pad: 'valid', bias: b2, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    const d = tf.fused.matMul({ a: tf.reshape(h, [x.shape[0], 1600]), b: w3 as T2, bias: b3, activation: 'relu' });
    return tf.fused.matMul({ a: d, b: w4 as T2, bias: b4 }) as T2;
  };

  return {
    trainStep(x, y) {
      return tf.tidy(() => {
        const xt = tf.tensor4d(x, [y.length, 28, 28, 1]);
        const labels = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, forward(xt)) as import('@tensorflow/tfjs-core').Scalar, vars);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        return value.dataSync()[0];
      });
    },
    predict(x, n) {
      return tf.tidy(() => forward(tf.tensor4d(x, [n, 28, 28, 1])).dataSync() as Float32Array);
    },
    describe() {
      return info;
    },
    dispose() {
      opt.dispose();
      for (const v of vars) (v as T).dispose();
    },
  };
}
