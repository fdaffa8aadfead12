// The demo's training run, without the page: the zoo's mlp fitted on mnist-sample, reported as curve points and samples/s (bench/demo.ts runs it in Node).
import * as ws from 'weightshare';
import type { CurvePoint } from './plot.js';

/** Settings of a run (the same in the page and in Node's benchmark). */
export interface TrainSettings {
  model: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** A curve point every this many batches. */
  every: number;
  /** Stop after this many batches (all the epochs when unset). */
  maxBatches?: number;
  /** Whether to score the test set after each epoch and at a stop (default true; the page's warm-up skips it). */
  evaluate?: boolean;
}

/** The panel's defaults: the intrinsic-dimension paper's MLP 784-200-200-10, Adam 1e-3, batch 32 (the CLI's). */
export const DEFAULT_SETTINGS: TrainSettings = { model: 'mlp', epochs: 3, batchSize: 32, learningRate: 1e-3, seed: 0, every: 10 };

/** What a run reports as it goes. */
export interface TrainEvents {
  /** After every `every` batches: the mean loss and accuracy of those batches. */
  onPoint?(p: CurvePoint, samplesPerSecond: number): void | Promise<void>;
  /** After each epoch: the test set's accuracy. */
  onEpoch?(epoch: number, testAccuracy: number): void | Promise<void>;
}

/** How a run ended: its points, its speed (samples/s between the first point and the last) and the test accuracy of its last weights. */
export interface TrainResult {
  points: CurvePoint[];
  samples: number;
  samplesPerSecond: number;
  testAccuracy: number | undefined;
  stopped: boolean;
}

/** A run that can be stopped from outside (the page's Stop button) between two batches. */
export class TrainingRun {
  private model: ws.Model | undefined;
  private stopRequested = false;

  constructor(readonly settings: TrainSettings) {}

  /** Stops the run after the current batch. */
  stop(): void {
    this.stopRequested = true;
    if (this.model) this.model.stopTraining = true;
  }

  /** Trains on `ds` (mnist-sample) on the current backend; the model is disposed at the end. */
  async run(ds: ws.ImageDataset, events: TrainEvents = {}): Promise<TrainResult> {
    const s = this.settings;
    const m = ws.createModel(s.model).build(s.seed);
    this.model = m;
    m.compile({ optimizer: { name: 'adam', learningRate: s.learningRate }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const n = ds.yTrain.length;
    const test = { x: { data: ds.xTest, shape: [ds.yTest.length, ...ds.shape] }, y: { data: ds.yTest, shape: [ds.yTest.length] } };
    const points: CurvePoint[] = [];
    // Running sums at the last point (fit's batch logs are epoch means: loss·seen and accuracy·seen are sums).
    let mark = { seen: 0, loss: 0, correct: 0 };
    let samples = 0;
    let epochSeen = 0;
    let batches = 0;
    let first: { samples: number; t: number } | undefined;
    let speed = 0;
    let testAccuracy: number | undefined;
    let evaluatedAt = -1;
    const self = this;
    try {
      await m.fit({ data: ds.xTrain, shape: [n, ...ds.shape] }, { data: ds.yTrain, shape: [n] }, {
        epochs: s.epochs, batchSize: s.batchSize, seed: s.seed,
        callbacks: [{
          onEpochBegin() {
            mark = { seen: 0, loss: 0, correct: 0 };
            epochSeen = 0;
          },
          async onBatchEnd(step, logs) {
            batches++;
            const seen = logs.samples;
            samples += seen - epochSeen;
            epochSeen = seen;
            if ((step + 1) % s.every === 0) {
              const now = performance.now();
              const p = { samples, loss: (logs.loss * seen - mark.loss) / (seen - mark.seen), accuracy: (logs.accuracy * seen - mark.correct) / (seen - mark.seen) };
              points.push(p);
              if (first) speed = (samples - first.samples) / ((now - first.t) / 1000);
              else first = { samples, t: now };
              mark = { seen, loss: logs.loss * seen, correct: logs.accuracy * seen };
              await events.onPoint?.(p, speed);
            }
            if (self.stopRequested || (s.maxBatches !== undefined && batches >= s.maxBatches)) m.stopTraining = true;
          },
          async onEpochEnd(epoch) {
            if (s.evaluate === false) return;
            testAccuracy = m.evaluate(test.x, test.y, { batchSize: 500 }).accuracy;
            evaluatedAt = samples;
            await events.onEpoch?.(epoch, testAccuracy);
          },
        }],
      });
      // Stopped mid-epoch: the test accuracy of the weights it stopped with.
      if (evaluatedAt !== samples && s.evaluate !== false) testAccuracy = m.evaluate(test.x, test.y, { batchSize: 500 }).accuracy;
    } finally {
      m.dispose();
      this.model = undefined;
    }
    return { points, samples, samplesPerSecond: speed, testAccuracy, stopped: this.stopRequested };
  }
}
