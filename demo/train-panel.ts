// The "train in your browser" panel: Start/Stop, a live loss and accuracy curve, speed and test accuracy per epoch.
import type * as ws from 'weightshare';
import { type CurvePoint, drawCurve } from './plot.js';
import { DEFAULT_SETTINGS, TrainingRun } from './train-loop.js';

/** The panel's elements (found by id in the page). */
interface PanelElements {
  start: HTMLButtonElement;
  stop: HTMLButtonElement;
  epochs: HTMLSelectElement;
  curve: SVGSVGElement;
  status: HTMLElement;
  epochsLog: HTMLElement;
}

/** Wires the panel to `ds` (mnist-sample), training on the current backend with `threads` worker threads. */
export class TrainPanel {
  private run: TrainingRun | undefined;
  private warming: { run: TrainingRun; done: Promise<unknown> } | undefined;

  constructor(private readonly e: PanelElements, private readonly ds: ws.ImageDataset, private readonly threads: number) {
    e.start.addEventListener('click', () => void this.start());
    e.stop.addEventListener('click', () => this.run?.stop());
    drawCurve(e.curve, [], this.samplesMax());
    e.start.disabled = false;
    e.status.textContent = `Ready: ${DEFAULT_SETTINGS.model} (784-200-200-10), Adam ${DEFAULT_SETTINGS.learningRate}, batch ${DEFAULT_SETTINGS.batchSize}, ` +
      `on ${threads} thread${threads === 1 ? '' : 's'}.`;
  }

  /**
   * Warms the training path up while the page is idle: `batches` batches of the panel's own run, thrown away. A page
   * starts its kernels as baseline code and the browser compiles the optimised code of the hot ones in the background
   * once they have run a while; a first run clicked on a cold page trained ~15,000 samples/s where the second one in
   * the same page trained 18,000–25,000 (headless Chromium, 2 cores). Clicking Start stops the warm-up at its next
   * batch. Sets `data-warm="yes"` on the curve when it ends.
   */
  warmUp(batches = 250): Promise<unknown> {
    const run = new TrainingRun({ ...DEFAULT_SETTINGS, epochs: 1, maxBatches: batches, evaluate: false });
    const done = run.run(this.ds).catch((err: unknown) => console.error('weightshare demo: warm-up failed', err))
      .finally(() => {
        this.warming = undefined;
        this.e.curve.dataset.warm = 'yes';
      });
    this.warming = { run, done };
    return done;
  }

  private samplesMax(): number {
    return Number(this.e.epochs.value) * this.ds.yTrain.length;
  }

  private async start(): Promise<void> {
    const { e } = this;
    e.start.disabled = true;
    if (this.warming) {
      this.warming.run.stop();
      await this.warming.done;
    }
    const run = new TrainingRun({ ...DEFAULT_SETTINGS, epochs: Number(e.epochs.value) });
    this.run = run;
    e.start.disabled = true;
    e.epochs.disabled = true;
    e.stop.disabled = false;
    e.epochsLog.replaceChildren();
    e.curve.dataset.state = 'training';
    const points: CurvePoint[] = [];
    const samplesMax = this.samplesMax();
    drawCurve(e.curve, points, samplesMax);
    const per = `on ${this.threads} thread${this.threads === 1 ? '' : 's'}`;
    e.status.textContent = `Training ${per}…`;
    try {
      const r = await run.run(this.ds, {
        onPoint: (p, speed) => {
          points.push(p);
          drawCurve(e.curve, points, samplesMax);
          e.status.textContent = `${p.samples.toLocaleString('en-US')} samples: loss ${p.loss.toFixed(3)}, accuracy ${(100 * p.accuracy).toFixed(1)} % ` +
            `(last ${run.settings.every} batches)${speed ? `, ${Math.round(speed).toLocaleString('en-US')} samples/s` : ''} ${per}`;
          if (speed) e.curve.dataset.samplesPerSecond = String(speed);
        },
        onEpoch: (epoch, acc) => {
          const li = document.createElement('li');
          li.textContent = `epoch ${epoch + 1}: test accuracy ${(100 * acc).toFixed(2)} % on ${this.ds.yTest.length.toLocaleString('en-US')} digits`;
          e.epochsLog.append(li);
        },
      });
      e.status.textContent = `${r.stopped ? 'Stopped' : 'Done'} after ${r.samples.toLocaleString('en-US')} samples, ` +
        `${Math.round(r.samplesPerSecond).toLocaleString('en-US')} samples/s ${per}; test accuracy ${(100 * (r.testAccuracy ?? 0)).toFixed(2)} %.`;
      e.curve.dataset.state = r.stopped ? 'stopped' : 'done';
    } catch (err) {
      e.status.textContent = `Training failed: ${(err as Error).message}`;
      e.curve.dataset.state = 'failed';
      console.error(err);
    } finally {
      this.run = undefined;
      e.start.disabled = false;
      e.epochs.disabled = false;
      e.stop.disabled = true;
    }
  }
}
