// The training benchmark's weightshare engine: the Keras MNIST CNN through the model API, Adam, one tidy() per step.
// Shapes: N batch, H×W image, C channels, F filters. x [N,28,28,1] → conv 32 → pool → conv 64 → pool → [N,1600] → 128 → 10.
import { Adam, createModel, getBackend, memory, setThreads, tensor, tidy, type WasmBackend } from '../src/index.js';

/** One engine of the training benchmark, driven batch by batch with plain arrays. */
export interface TrainRunner {
  /** One training step (forward, loss, backward, optimizer update) on x [n,28,28,1] NHWC in [0,1] and int32 labels y [n]; returns the loss. */
  trainStep(x: Float32Array, y: Int32Array): number;
  /** Logits [n,10] of x [n,28,28,1] (forward only). */
  predict(x: Float32Array, n: number): Float32Array;
  /** Facts for the results' notes (backend, threads, SIMD…); may be called after the run for a leak check. */
  describe(): string;
  /** Frees the parameters and optimizer state. */
  dispose(): void;
}

/**
 * The weightshare runner: the reference CNN from the model zoo (`createModel('seed-cnn')`, Keras
 * initialisers, built with `seed`), compiled with Adam lr 1e-3 and sparse categorical cross-entropy,
 * trained with `model.trainOnBatch` — the same code path as `fit` and `weightshare train`. Each step
 * runs in its own tidy(), so the live tensor count stays flat; `describe()` reports it.
 */
export function makeOursRunner(threads: number, seed = 1): TrainRunner {
  setThreads(threads);
  const liveAtStart = memory().tensors;
  const model = createModel('seed-cnn').build(seed);
  model.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy' });
  let liveAfterFirstStep: number | undefined;

  return {
    trainStep(x, y) {
      const loss = tidy(() => model.trainOnBatch(tensor(x, [y.length, 28, 28, 1], 'float32'), tensor(y, [y.length], 'int32')).loss);
      liveAfterFirstStep ??= memory().tensors;
      return loss;
    },
    predict(x, n) {
      let out: Float32Array = new Float32Array(0);
      tidy(() => {
        out = model.call(tensor(x, [n, 28, 28, 1], 'float32'), { training: false, seed: 0, logits: true }).f32();
      });
      return out;
    },
    describe() {
      const be = getBackend() as WasmBackend;
      const simd = 'relaxedSimd' in be ? `, relaxed SIMD ${be.relaxedSimd ? 'yes' : 'no'}` : '';
      const live = memory().tensors;
      const leak = liveAfterFirstStep !== undefined && live !== liveAfterFirstStep ? `; LEAK: ${live - liveAfterFirstStep} tensors gained since step 1` : '';
      return `model API (seed-cnn, trainOnBatch) + Adam, wasm backend ${threads} thread(s)${simd}; ${live - liveAtStart} live tensors after the run (params + Adam slots)${leak}`;
    },
    dispose() {
      model.dispose();
    },
  };
}
