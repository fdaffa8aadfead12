// Tests of the progress reporter with a fake stream and clock: rendering, throttling, non-TTY silence, epoch lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatEpochLine, formatThousands, ProgressBar, ProgressLogger, type ProgressStream } from '../../src/nn/progress.js';

/** A stream that records writes, and a clock the test moves by hand (milliseconds). */
function fakes(isTTY = true, columns?: number): { stream: ProgressStream & { writes: string[] }; clock: { t: number }; now: () => number } {
  const writes: string[] = [];
  const clock = { t: 1000 };
  return { stream: { writes, isTTY, columns, write: (s: string) => writes.push(s) }, clock, now: () => clock.t };
}

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(7), '0:07');
  assert.equal(formatDuration(6.6), '0:07');
  assert.equal(formatDuration(62), '1:02');
  assert.equal(formatDuration(3723), '1:02:03');
  assert.equal(formatDuration(36000), '10:00:00');
  assert.equal(formatDuration(-3), '0:00');
  assert.equal(formatDuration(Infinity), '?:??');
});

test('formatThousands', () => {
  assert.equal(formatThousands(1234), '1,234');
  assert.equal(formatThousands(1234567.8), '1,234,568');
  assert.equal(formatThousands(999), '999');
  assert.equal(formatThousands(-12345), '-12,345');
});

test('formatEpochLine is Keras-like and omits missing fields', () => {
  assert.equal(
    formatEpochLine({ epoch: 3, epochs: 10, seconds: 12.34, samplesPerSec: 1234.4, loss: 0.23451, accuracy: 0.93124, valLoss: 0.1234, valAccuracy: 0.96 }),
    'Epoch 3/10 - 12.3s - 1,234 samples/s - loss: 0.2345 - accuracy: 0.9312 - val_loss: 0.1234 - val_accuracy: 0.9600',
  );
  assert.equal(formatEpochLine({ epoch: 1, epochs: 2, seconds: 75, loss: 1 }), 'Epoch 1/2 - 1:15 - loss: 1.0000');
});

test('render draws the bar, counts, metrics and ETA', () => {
  const { stream, clock, now } = fakes();
  const bar = new ProgressBar({ total: 250, epoch: 3, epochs: 10, stream, now });
  clock.t += 120 * 28; // 120 steps in 3.36 s → 130 steps left ≈ 3.64 s
  assert.equal(
    bar.render(120, { loss: 0.23451, accuracy: 0.93124, samplesPerSec: 1234 }),
    'Epoch 3/10  [=========>..........]  120/250  loss 0.2345  acc 0.9312  1,234 samples/s  ETA 0:04',
  );
  assert.equal(bar.render(0), 'Epoch 3/10  [>...................]    0/250');
  assert.equal(bar.render(250), 'Epoch 3/10  [====================]  250/250');
});

test('TTY: redraws in place with \\r, throttled to the interval, last step always drawn, padding over longer lines', () => {
  const { stream, clock, now } = fakes();
  const bar = new ProgressBar({ total: 10, epoch: 1, epochs: 1, stream, now, width: 10 });
  bar.update(1, { loss: 12.5 });
  assert.equal(stream.writes.length, 1);
  assert.ok(stream.writes[0].startsWith('\rEpoch 1/1  [=>........]   1/10  loss 12.5000  ETA 0:00'));
  clock.t += 50;
  bar.update(2);
  assert.equal(stream.writes.length, 1, 'throttled');
  clock.t += 60;
  bar.update(3);
  assert.equal(stream.writes.length, 2);
  const prevLen = stream.writes[0].length - 1;
  assert.equal(stream.writes[1].length - 1, prevLen, 'shorter line padded with spaces to clear the previous one');
  clock.t += 1;
  bar.update(10);
  assert.equal(stream.writes.length, 3, 'last step drawn despite the throttle');
  bar.finish('Epoch 1/1 - 0.1s - loss: 0.5000');
  const last = stream.writes[3];
  assert.match(last, /^\r +\rEpoch 1\/1 - 0\.1s - loss: 0\.5000\n$/);
  bar.update(10);
  bar.finish('again');
  assert.equal(stream.writes.length, 4, 'nothing after finish');
  assert.ok(stream.writes.every((w) => !w.slice(0, -1).includes('\n')), 'bar writes never contain a newline');
});

test('TTY: lines are truncated to the terminal width; minIntervalMs 0 draws every step', () => {
  const { stream, now } = fakes(true, 30);
  const bar = new ProgressBar({ total: 5, epoch: 1, epochs: 9, stream, now, minIntervalMs: 0 });
  for (let s = 1; s <= 5; s++) bar.update(s, { loss: 1, accuracy: 0.5 });
  assert.equal(stream.writes.length, 5);
  assert.ok(stream.writes.every((w) => w.length <= 30));
});

test('non-TTY: nothing per step, only the final line', () => {
  const { stream, now } = fakes(false);
  const bar = new ProgressBar({ total: 3, epoch: 2, epochs: 5, stream, now });
  for (let s = 1; s <= 3; s++) bar.update(s, { loss: 0.1 });
  assert.deepEqual(stream.writes, []);
  bar.finish('Epoch 2/5 - 1.0s');
  assert.deepEqual(stream.writes, ['Epoch 2/5 - 1.0s\n']);
});

test('isTTY option overrides the stream, and total is validated', () => {
  const { stream, now } = fakes(true);
  const bar = new ProgressBar({ total: 2, epoch: 1, epochs: 1, stream, now, isTTY: false });
  bar.update(2);
  assert.deepEqual(stream.writes, []);
  assert.throws(() => new ProgressBar({ total: 0, epoch: 1, epochs: 1, stream }), /total must be a positive integer, got 0/);
});

test("fit({ verbose }) prints the CLI's epoch lines to stderr (2: lines only; 1: bar on a TTY too; 0: nothing)", async (t) => {
  const { createModel } = await import('../../src/nn/index.js');
  const { loadDataset } = await import('../../src/data/index.js');
  const ds = loadDataset('mnist-sample');
  const x = { data: ds.xTrain.subarray(0, 128 * 784), shape: [128, 784] }, y = { data: ds.yTrain.subarray(0, 128), shape: [128] };
  const written: string[] = [];
  t.mock.method(process.stderr, 'write', (s: string) => { written.push(s); return true; });
  const m = createModel('mlp', { inputShape: [784] }).build(0);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const h = await m.fit(x, y, { epochs: 2, batchSize: 32, verbose: 2, validationSplit: 0.25 });
  assert.equal(written.length, 2, written.join(''));
  written.forEach((line, e) => {
    assert.match(line, new RegExp(`^Epoch ${e + 1}/2 - \\d+\\.\\ds - [\\d,]+ samples/s - loss: ${h.history.loss[e].toFixed(4)} - accuracy: ${h.history.accuracy[e].toFixed(4)} - val_loss: ${h.history.val_loss[e].toFixed(4)} - val_accuracy: [\\d.]+\\n$`));
  });
  written.length = 0;
  await m.fit(x, y, { epochs: 1, batchSize: 32 });
  assert.deepEqual(written, []);
  await assert.rejects(m.fit(x, y, { epochs: 1, verbose: 3 as 1 }), /fit: verbose must be 0, 1 or 2, got 3/);
  m.dispose();
});

test('ProgressLogger draws the bar on a TTY stream and counts only the batches this run trained after a mid-epoch resume', () => {
  const out: string[] = [];
  let clock = 0;
  const p = new ProgressLogger({ stream: { write: (s: string) => { out.push(s); }, isTTY: true }, now: () => clock });
  p.onTrainBegin({ epochs: 3, stepsPerEpoch: 4, initialEpoch: 1, skippedSamples: 64 });
  p.onEpochBegin(1);
  clock = 1000;
  p.onBatchEnd(2, { loss: 0.5, accuracy: 0.75, samples: 96 });
  clock = 2000;
  p.onBatchEnd(3, { loss: 0.25, accuracy: 0.8, samples: 128 });
  p.onEpochEnd(1, { loss: 0.25, accuracy: 0.8 });
  assert.match(out[0], /^\rEpoch 2\/3  \[===============>....\]  3\/4  loss 0\.5000  acc 0\.7500  32 samples\/s  ETA 0:00/);
  assert.equal(out.at(-1)!.split('\r').at(-1), 'Epoch 2/3 - 2.0s - 32 samples/s - loss: 0.2500 - accuracy: 0.8000\n');
  assert.equal(p.samples, 64);
  assert.equal(p.trainSeconds, 2);
});
