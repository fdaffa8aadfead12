// The benchmark peers: TF.js with its wasm (XNNPACK) backend, and jax-js on its wasm device.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convOut, randomData, repoRoot, type ConvOp, type ConvShape, type Engine, type GemmShape, type Runner } from './util.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Jax = typeof import('@jax-js/jax');

/** What a peer reports about itself for the results heading. */
export interface PeerInfo {
  engine: Engine;
  note: string;
}

/**
 * TF.js 4.x with `@tensorflow/tfjs-backend-wasm`. In Node the backend hard-codes
 * WASM_HAS_MULTITHREAD_SUPPORT = false (tfjs issue #3830), so XNNPACK runs on one thread whatever
 * `setThreadsCount` says. Its kernels run synchronously when the op is called.
 */
export async function createTfjsWasm(): Promise<PeerInfo> {
  const tf: Tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(2);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
  await tf.ready();
  const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const note = `tfjs-core ${tf.version_core}, tfjs-backend-wasm ${wasm.version_wasm}: ${wasm.getThreadsCount()} XNNPACK thread(s) ` +
    `(multithread support ${multithread ? 'on' : 'off: the backend disables threads under Node'}), SIMD ${simd ? 'on' : 'off'}`;
  const held: { dispose(): void }[] = [];
  const tensor = (shape: number[], seed: number) => {
    const t = tf.tensor(randomData(shape.reduce((a, b) => a * b, 1), seed), shape);
    held.push(t);
    return t;
  };
  const runner = (op: () => { dispose(): void }): Runner => ({ run: () => op().dispose(), dispose: () => undefined });
  const engine: Engine = {
    name: 'tfjs-wasm',
    gemm(s: GemmShape): Runner {
      const a = tensor(s.transA ? [s.k, s.m] : [s.m, s.k], 1);
      const b = tensor(s.transB ? [s.n, s.k] : [s.k, s.n], 2);
      return runner(() => tf.matMul(a, b, s.transA, s.transB));
    },
    conv(s: ConvShape, op: ConvOp): Runner {
      const { oh, ow } = convOut(s);
      const x = tensor([s.n, s.h, s.w, s.c], 3) as import('@tensorflow/tfjs-core').Tensor4D;
      const w = tensor([s.kh, s.kw, s.c, s.f], 4) as import('@tensorflow/tfjs-core').Tensor4D;
      const dy = tensor([s.n, oh, ow, s.f], 5) as import('@tensorflow/tfjs-core').Tensor4D;
      if (op === 'forward') return runner(() => tf.conv2d(x, w, 1, 'valid'));
      if (op === 'grad-input') return runner(() => tf.conv2dTranspose(dy, w, [s.n, s.h, s.w, s.c], 1, 'valid'));
      // No public op: call the kernel tf.grad would use; on wasm this throws "not registered".
      const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [s.kh, s.kw, s.c, s.f] };
      const call = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as { dispose(): void };
      call().dispose();
      return runner(call);
    },
    close() {
      for (const t of held.splice(0)) t.dispose();
    },
  };
  return { engine, note };
}

/** jax-js on its `wasm` device (no worker threads in Node). Its convolutions are NCHW / OIHW, so it gets those layouts. */
export async function createJaxJs(): Promise<PeerInfo> {
  const jax: Jax = await import('@jax-js/jax');
  const { numpy: np, lax } = jax;
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js init('wasm') gave [${devices.join(', ')}]`);
  jax.defaultDevice('wasm');
  type Arr = import('@jax-js/jax').Array;
  const held: Arr[] = [];
  const array = (shape: number[], seed: number): Arr => {
    const a = np.array(randomData(shape.reduce((p, q) => p * q, 1), seed)).reshape(shape);
    held.push(a);
    return a;
  };
  // jax-js is lazy: block until the result exists, then drop it.
  const runner = (op: () => Arr, cleanup: () => void = () => undefined): Runner => ({
    run: async () => {
      const y = op();
      await y.blockUntilReady();
      y.dispose();
    },
    dispose: cleanup,
  });
  const engine: Engine = {
    name: 'jax-js',
    gemm(s: GemmShape): Runner {
      const a = array(s.transA ? [s.k, s.m] : [s.m, s.k], 1);
      const b = array(s.transB ? [s.n, s.k] : [s.k, s.n], 2);
      return runner(() => np.matmul(s.transA ? a.ref.transpose() : a.ref, s.transB ? b.ref.transpose() : b.ref));
    },
    conv(s: ConvShape, op: ConvOp): Runner {
      const { oh, ow } = convOut(s);
      const x = array([s.n, s.c, s.h, s.w], 3);
      const w = array([s.f, s.c, s.kh, s.kw], 4);
      const dy = array([s.n, s.f, oh, ow], 5);
      if (op === 'forward') return runner(() => lax.conv(x.ref, w.ref, [1, 1], 'VALID'));
      // The pullback of the forward conv with respect to one argument, built once and applied each run.
      const [y, pullback] = op === 'grad-input'
        ? jax.vjp((xx: Arr) => lax.conv(xx, w.ref, [1, 1], 'VALID'), [x.ref])
        : jax.vjp((ww: Arr) => lax.conv(x.ref, ww, [1, 1], 'VALID'), [w.ref]);
      y.dispose();
      return runner(() => (pullback(dy.ref) as Arr[])[0], () => pullback.dispose());
    },
    close() {
      for (const a of held.splice(0)) a.dispose();
    },
  };
  const version = (JSON.parse(readFileSync(join(repoRoot(), 'node_modules', '@jax-js', 'jax', 'package.json'), 'utf8')) as { version: string }).version;
  return { engine, note: `jax-js ${version} on its wasm device, one thread (no workers in Node); convolutions run NCHW/OIHW, its native layout` };
}
