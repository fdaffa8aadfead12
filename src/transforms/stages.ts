// What the compression pipelines share: their data, the bits a model stores, and its evaluate / train-a-stage steps.
import { ArgumentError, describeValue } from '../core/errors.js';
import { evaluationBatchSize } from '../nn/eval-batch.js';
import { type Model, requireModel } from '../nn/model.js';
import type { Optimizer } from '../optim/index.js';
import type { Callback, Data } from '../nn/training.js';
import { createOptimizer } from '../optim/index.js';

/**
 * The data of a compression pipeline: training samples (for the retraining and fine-tuning) and test samples (for the
 * accuracy after each stage); `x` is one Data per model input (or one Data), as for `fit`.
 */
export interface CompressData {
  train: { x: Data | readonly Data[]; y: Data };
  test: { x: Data | readonly Data[]; y: Data };
}

/** Loss and accuracy on the test samples. */
export interface StageResult {
  loss: number;
  accuracy: number;
  /** The model's own other metrics (a language model's bits_per_char or perplexity), when it has any. */
  metrics?: Record<string, number>;
}

/** loss and accuracy of logs, and the model's other metrics (`samples` and the like left out) when there are any. */
export function stageResult(logs: Record<string, number>, own: readonly string[]): StageResult {
  const others = own.filter((k) => k !== 'accuracy' && logs[k] !== undefined);
  return { loss: logs.loss, accuracy: logs.accuracy, ...(others.length ? { metrics: Object.fromEntries(others.map((k) => [k, logs[k]])) } : {}) };
}

/** A training stage's progress: its start (settings) and each epoch's end, for the phase `P` it belongs to. */
export type TrainEvent<P extends string> =
  | { kind: 'trainBegin'; phase: P; epochs: number; learningRate: number; batchSize: number; samples: number }
  | { kind: 'epochEnd'; phase: P; epoch: number; epochs: number; seconds: number; loss: number; accuracy: number; metrics?: Record<string, number> };

/**
 * Bits stored by all the model's weights, and 32 bits per element of every W (the float32 original) but a tied one
 * (`--tied`: the decoder's kernel is the embedding table, stored once in the original too).
 */
export function modelSizes(m: Model): { bits: number; float32Bits: number } {
  let bits = 0, virtual = 0;
  for (const w of m.weights()) {
    const s = w.map.stats();
    bits += s.bits;
    if (w.map.kind !== 'tied') virtual += s.virtual;
  }
  return { bits, float32Bits: 32 * virtual };
}

/**
 * The hooks of a compression pipeline: `onProgress` hears each stage as it ends; once `signal` is aborted (Ctrl-C on the
 * command line) every training phase stops after its current batch and later ones are skipped, while the steps that do
 * not train (pruning, clustering) still run, so the pipeline ends with a compressed model, fine-tuned less.
 */
export interface PipelineHooks<E> {
  onProgress?: (e: E) => void;
  signal?: AbortSignal;
}

/** Refuses data that is not { train: { x, y }, test: { x, y } }, naming the missing part (it failed deep inside as a TypeError). */
function checkCompressData(who: string, data: unknown): void {
  const form = 'data must be { train: { x, y }, test: { x, y } }';
  if (data === null || typeof data !== 'object') throw new ArgumentError(who, `${form}, got ${describeValue(data)}`);
  for (const split of ['train', 'test'] as const) {
    const d = (data as Record<string, unknown>)[split];
    if (d === null || typeof d !== 'object') throw new ArgumentError(who, `${form}: data.${split} is ${describeValue(d)}`);
    for (const k of ['x', 'y'] as const) {
      if ((d as Record<string, unknown>)[k] === undefined || (d as Record<string, unknown>)[k] === null) throw new ArgumentError(who, `${form}: data.${split}.${k} is missing`);
    }
  }
}

/**
 * The two steps of a pipeline on a compiled model: `evaluate()` the test samples (batches of evaluationBatchSize(model,
 * 256): 256, fewer where one layer would not fit), and `train` a phase for some epochs with a fresh Adam at
 * `learningRate` (the model's loss settings and metrics kept, accuracy measured besides; shuffled with `seed`, extra
 * `callbacks` after the progress one), then evaluate; an aborted `signal` stops it after the current batch (or skips
 * it). Throws naming `who` when the model is not compiled.
 */
export function stageRunner<P extends string>(
  who: string, model: Model, data: CompressData, o: { batchSize: number; seed: number }, emit: (e: TrainEvent<P>) => void, signal?: AbortSignal,
): { evaluate: () => StageResult; train: (phase: P, epochs: number, learningRate: number, callbacks?: Callback[]) => Promise<StageResult> } {
  requireModel(who, model);
  checkCompressData(who, data);
  const base = model.compileConfig();
  if (!base) throw new Error(`${who}: model '${model.name}' is not compiled; compile it with its loss first`);
  // The model's own loss settings (ignoreClass, several outputs' losses and weights) and metrics stay: the pipeline's
  // reports need accuracy, which is added while it measures and removed after, so a saved file keeps the metrics it
  // was trained with (a language model its bits per character or perplexity).
  const compileWith = (optimizer: Optimizer, metrics: string[]): void => void model.compile({
    optimizer, loss: base.losses ?? base.loss, fromLogits: base.fromLogits, metrics,
    ...(base.lossWeights ? { lossWeights: base.lossWeights } : {}), ...(base.ignoreClass !== undefined ? { ignoreClass: base.ignoreClass } : {}),
  });
  const measured = base.metrics.includes('accuracy') ? base.metrics : [...base.metrics, 'accuracy'];
  const withAccuracy = <R>(run: () => R): R => {
    if (measured === base.metrics) return run();
    const optimizer = model.optimizer!;
    compileWith(optimizer, measured);
    try {
      return run();
    } finally {
      compileWith(optimizer, base.metrics);
    }
  };
  const evaluate = (): StageResult => withAccuracy(() => {
    const r = model.evaluate(data.test.x, data.test.y, { batchSize: evaluationBatchSize(model, 256) });
    return stageResult(r, base.metrics);
  });
  const samples = data.train.y.shape[0];
  const train = async (phase: P, epochs: number, learningRate: number, callbacks: Callback[] = []): Promise<StageResult> => {
    // Accuracy is measured during the phase too (its epochs report it); evaluate() then leaves the model's own metrics.
    compileWith(createOptimizer({ name: 'adam', learningRate }), measured);
    if (signal?.aborted) return evaluate();
    emit({ kind: 'trainBegin', phase, epochs, learningRate, batchSize: o.batchSize, samples });
    let start = performance.now();
    await model.fit(data.train.x, data.train.y, {
      epochs, batchSize: o.batchSize, seed: o.seed, shuffle: true,
      callbacks: [{
        onEpochBegin: () => void (start = performance.now()),
        onEpochEnd: (epoch, logs) => emit({ kind: 'epochEnd', phase, epoch: epoch + 1, epochs, seconds: (performance.now() - start) / 1000, ...stageResult(logs, base.metrics) }),
        onBatchEnd: () => void (signal?.aborted && (model.stopTraining = true)),
      }, ...callbacks],
    });
    return evaluate();
  };
  return { evaluate, train };
}
