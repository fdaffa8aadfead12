// `weightshare eval | predict | summary`: use a saved model on a test set, on images (PNG or IDX), or describe it.
import { extname, resolve } from 'node:path';
import { decode as decodeJpeg } from 'jpeg-js';
import { DataError, readIdx, readSource } from '../data/idx.js';
import { FASHION_MNIST_CLASS_NAMES } from '../data/datasets.js';
import { readPng, toGrayscale } from '../data/png.js';
import { splitData } from '../data/dataset.js';
import { loadCheckpoint, loadModel } from '../io/files.js';
import { modelFromCheckpoint } from '../io/model-file.js';
import { storedPerWeight } from '../io/stored.js';
import { argmax, softmax } from '../core/ops/index.js';
import { thousands } from '../nn/summary.js';
import { UNK_ID } from '../data/tokenizer.js';
import { evaluationBatchSize } from '../nn/eval-batch.js';
import { defineCommand, type ParsedArgs, UsageError } from './args.js';
import { applyThreads, checkFits, CliError, COMMON_FLAGS, DATA_FLAGS, type Io, LOAD_FLAGS, loadOptions, percent, requireSamples, warnIfDataChanged } from './common.js';
import { defaultTextMetrics, readModelDataset, savedModelData, textRecordOf } from './text.js';
import { describeRate } from './train.js';

export const evalSpec = defineCommand({
  name: 'eval',
  summary: 'Evaluate a saved model on a test set (default: the dataset it was trained on)',
  positionals: [{ name: 'model', required: true, description: 'Model file written by `weightshare train`' }],
  flags: {
    dataset: { ...DATA_FLAGS.dataset, default: undefined, description: 'Dataset (default: the one the model was trained on)' },
    data: DATA_FLAGS.data,
    'batch-size': { type: 'int', default: 256, min: 1, description: 'Samples per batch (default 256; fewer where one layer\'s share of a batch would pass 1 GiB: long sequences, large vocabularies)' },
    'test-limit': { type: 'int', min: 1, description: 'Evaluate on the first N test samples only' },
    confusion: { type: 'boolean', description: 'Also print the confusion matrix (rows: true class, columns: predicted) and each class\'s recall (classifiers only)' },
    ...LOAD_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['weightshare eval seed-cnn-mnist-sample.wsm', 'weightshare eval seed-cnn-mnist-sample.wsm --confusion', 'weightshare eval lenet5.wsm --dataset mnist --data ~/mnist --json'],
});

export const predictSpec = defineCommand({
  name: 'predict',
  summary: 'Classify images: a PNG or JPEG file (any size, converted to the model\'s size in grey, e.g. 28×28) or an IDX image file [N,H,W]',
  positionals: [
    { name: 'model', required: true, description: 'Model file written by `weightshare train`' },
    { name: 'input', required: true, description: 'A .png or .jpg image or an IDX images file (raw or .gz)' },
  ],
  flags: {
    top: { type: 'int', default: 1, min: 1, description: 'Show the k most likely classes (at most the model\'s classes)' },
    limit: { type: 'int', min: 1, description: 'Classify only the first N images of an IDX file' },
    invert: { type: 'string', default: 'auto', choices: ['auto', 'yes', 'no'], description: 'PNG and JPEG: invert grey levels (auto: when the border is light, since digits are light on dark)' },
    ...LOAD_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['weightshare predict seed-cnn-mnist-sample.wsm digit.png', 'weightshare predict model.wsm t10k-images-idx3-ubyte.gz --limit 5 --json'],
});

export const summarySpec = defineCommand({
  name: 'summary',
  summary: 'Print a saved model\'s layers, output shapes, parameter counts and training record',
  positionals: [{ name: 'model', required: true, description: 'Model file' }],
  flags: { ...LOAD_FLAGS, json: COMMON_FLAGS.json, verbose: COMMON_FLAGS.verbose },
  examples: ['weightshare summary seed-cnn-mnist-sample.wsm'],
});

/** Runs `weightshare eval`. */
export function evalCommand(a: ParsedArgs<typeof evalSpec>, io: Io): number {
  applyThreads(a.flags.threads);
  const file = a.positionals.model;
  const { model, meta, tokenizer } = loadModel(file, loadOptions(a.flags));
  const text = textRecordOf(model, meta.training, tokenizer);
  // A text model is scored by its own metrics (bits per character, perplexity) even when its file compiled others (compress: accuracy).
  const wanted = text ? defaultTextMetrics(text) : ['accuracy'];
  if (!model.loss || (text && !wanted.every((w) => model.metrics.some((m) => m.name === w)))) {
    const kept = model.metrics.map((m) => m.name).filter((m) => !wanted.includes(m));
    // A model ending without a softmax (a PyTorch export's last Linear) outputs logits: the loss takes them as such.
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', fromLogits: model.finalActivation() !== 'softmax', metrics: [...kept, ...wanted] });
  }
  const { name, dir } = savedModelData(a.flags, meta.training, 'eval', text);
  const ds = readModelDataset(file, name, dir, text, tokenizer, { limit: 1, testLimit: a.flags.testLimit, verb: 'evaluated', command: 'evaluate', model });
  warnIfDataChanged(io.err, meta.training, dir, 'the scores are not on the data it was trained and tested on');
  const t0 = performance.now();
  checkFits(model, ds);
  const n = requireSamples(ds, 'test', 'evaluate');
  const test = splitData(ds, 'test');
  const batchSize = a.given.has('batch-size') ? a.flags.batchSize : evaluationBatchSize(model, a.flags.batchSize);
  const r = model.evaluate(test.x, test.y, { batchSize });
  let confusion: number[][] | undefined;
  if (a.flags.confusion) {
    if (test.y.shape.length !== 1) throw new UsageError(`--confusion is for classifiers (one label per sample); ${file} predicts a label per position (${ds.name} labels [${test.y.shape.join(', ')}])`, 'eval');
    const probs = model.predict(test.x, { batchSize });
    const predicted = argmax(probs);
    confusion = confusionMatrix(predicted.data(), test.y.data, probs.shape[1]);
    predicted.dispose();
    probs.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  // A language model scored on other text than it was trained on: say how much of it its vocabulary does not cover.
  const own = meta.training?.dataset === name && (dir === undefined || (meta.training.dataDir !== undefined && resolve(dir) === meta.training.dataDir));
  if (text?.task === 'language-model' && tokenizer && !own) {
    const ids = test.y.data;
    let unknown = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] === UNK_ID) unknown++;
    if (unknown > 0) io.err.write(`note: ${percent(unknown / ids.length)} of the test tokens are <unk> (outside the model's ${thousands(tokenizer.vocabSize)}-token vocabulary, which was built on other text); they are scored as the token <unk>\n`);
  }
  const names = ds.classNames ?? (ds.name === 'fashion-mnist' ? FASHION_MNIST_CLASS_NAMES : undefined);
  if (a.flags.json) io.out.write(JSON.stringify({ model: a.positionals.model, dataset: ds.name, samples: n, ...r, ...(confusion ? { confusion, recall: confusion.map(recallOf) } : {}), seconds }, null, 2) + '\n');
  else {
    const shown = Object.entries(r).filter(([k]) => k !== 'loss').map(([k, v]) => ` - ${k} ${k.endsWith('accuracy') ? percent(v) : v.toFixed(4)}`);
    io.out.write(`${ds.name} test set (${thousands(n)} samples${text ? ` of ${ds.shape[0]} tokens` : ''}): loss ${r.loss.toFixed(4)}${shown.join('')}\n`);
    if (confusion) io.out.write(formatConfusion(confusion, names));
  }
  return 0;
}

/** counts[true][predicted] over samples, from each sample's predicted class (the argmax of its probabilities) and label. */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    if (!(t >= 0 && t < classes)) throw new CliError(`--confusion: label ${t} of test sample ${i} is not a class of this model (0–${classes - 1})`);
    m[t][predicted[i]]++;
  }
  return m;
}

/** The share of a class's samples predicted as it (null for a class with no samples). */
const recallOf = (row: number[], c: number): number | null => {
  const total = row.reduce((s, v) => s + v, 0);
  return total === 0 ? null : row[c] / total;
};

/** The matrix as a table: a header of predicted classes, a row per true class with its counts and recall. */
function formatConfusion(m: number[][], names?: readonly string[]): string {
  const label = (c: number): string => (names ? `${c} ${names[c]}` : String(c));
  const first = Math.max('true \\ predicted'.length, ...m.map((_, c) => label(c).length));
  const width = Math.max(...m.flat().map((v) => String(v).length), ...m.map((_, c) => String(c).length));
  const lines = [`${'true \\ predicted'.padEnd(first)}  ${m.map((_, c) => String(c).padStart(width)).join(' ')}   recall`];
  m.forEach((row, c) => {
    const r = recallOf(row, c);
    lines.push(`${label(c).padEnd(first)}  ${row.map((v) => String(v).padStart(width)).join(' ')}   ${r === null ? '—' : percent(r)}`);
  });
  return lines.join('\n') + '\n';
}

/** The images of `input` as values in [0, 1] for a model taking greyscale images `shape` = [H, W, 1]. */
function readImages(input: string, shape: number[], limit: number | undefined, invert: 'auto' | 'yes' | 'no'): Float32Array {
  const [H, W, channels] = shape;
  if (shape.length !== 3 || channels !== 1) throw new CliError(`predict reads greyscale images for a model taking [H, W, 1]; this model takes [${shape.join(', ')}]`);
  const bytes = readSource(input, input);
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const inv = { invert: invert === 'auto' ? 'auto' as const : invert === 'yes' };
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if ((isPng || isJpeg) && limit !== undefined) throw new UsageError(`--limit ${limit}: ${input} is one image; --limit takes the first N images of an IDX file`, 'predict');
  if (isPng) return toGrayscale(readPng(bytes, { name: input }), W, H, inv);
  if (isJpeg) return toGrayscale(readJpeg(bytes, input), W, H, inv);
  const ext = extname(input).toLowerCase();
  if (ext === '.png') throw new DataError(input, 'has a .png name but is not a PNG file (bad signature at byte offset 0)');
  if (ext === '.jpg' || ext === '.jpeg') throw new DataError(input, `has a ${ext} name but is not a JPEG file (no FF D8 FF start of image at byte offset 0)`);
  const idx = readIdx(bytes, { name: input });
  const [n, h, w] = idx.shape;
  if (idx.dtype !== 'uint8' || idx.shape.length !== 3 || h !== H || w !== W) {
    throw new DataError(input, `expected uint8 images [N, ${H}, ${W}] (the model takes [${shape.join(', ')}]), found ${idx.dtype} [${idx.shape.join(', ')}]`);
  }
  const count = Math.min(n, limit ?? n);
  const x = new Float32Array(count * H * W);
  for (let i = 0; i < x.length; i++) x[i] = idx.data[i] / 255;
  return x;
}

/** Largest JPEG predict decodes, in megapixels (a bigger one is refused before decoding). */
const JPEG_MAX_MEGAPIXELS = 16;

/** A baseline or progressive JPEG as RGBA pixels (jpeg-js); errors name the file. */
function readJpeg(bytes: Uint8Array, name: string): { width: number; height: number; channels: 4; data: Uint8Array } {
  try {
    const img = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: JPEG_MAX_MEGAPIXELS, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, channels: 4, data: img.data };
  } catch (e) {
    throw new DataError(name, `is not a JPEG this reader can decode: ${(e as Error).message ?? e}`);
  }
}

/** Runs `weightshare predict`. */
export function predictCommand(a: ParsedArgs<typeof predictSpec>, io: Io): number {
  applyThreads(a.flags.threads);
  const { model, meta } = loadModel(a.positionals.model, loadOptions(a.flags));
  const shape = model.inputShape;
  const x = readImages(a.positionals.input, shape, a.flags.limit, a.flags.invert);
  const n = x.length / (shape[0] * shape[1]);
  if (n === 0) throw new CliError(`${a.positionals.input}: holds no images: nothing to classify`);
  const outShape = model.outputShape;
  if (outShape.length !== 1 || outShape[0] < 2) {
    throw new CliError(`${a.positionals.model}: outputs [${outShape.join(', ')}] per image, not scores of 2 or more classes: predict shows a classifier's most likely classes`);
  }
  if (a.flags.top > outShape[0]) throw new UsageError(`--top ${a.flags.top}: the model has ${outShape[0]} classes`, 'predict');
  const scores = model.predict({ data: x, shape: [n, ...shape] }, { batchSize: 256 });
  // A model ending without a softmax (a PyTorch export's last Linear) gives logits: shown as the softmax's probabilities.
  const logits = model.finalActivation() !== 'softmax';
  const probs = logits ? softmax(scores) : scores;
  const p = probs.f32();
  probs.dispose();
  if (logits) {
    scores.dispose();
    io.err.write(`note: ${a.positionals.model} ends without a softmax: its scores are shown as the softmax's probabilities\n`);
  }
  const classes = p.length / n;
  const names = meta.training?.dataset === 'fashion-mnist' ? FASHION_MNIST_CLASS_NAMES : undefined;
  const results = Array.from({ length: n }, (_, i) => {
    const row = Array.from(p.subarray(i * classes, (i + 1) * classes));
    const order = row.map((v, c) => [c, v] as const).sort((u, v) => v[1] - u[1]).slice(0, a.flags.top);
    return order.map(([c, v]) => ({ class: c, ...(names ? { name: names[c] } : {}), probability: v }));
  });
  if (a.flags.json) io.out.write(JSON.stringify({ model: a.positionals.model, input: a.positionals.input, predictions: results }, null, 2) + '\n');
  else {
    results.forEach((r, i) => {
      const text = r.map((c) => `${c.class}${c.name ? ` (${c.name})` : ''} ${percent(c.probability)}`).join(', ');
      io.out.write(n === 1 ? `${text}\n` : `${i}: ${text}\n`);
    });
  }
  return 0;
}

/** "File: …" — the file's size and what takes it: weights, map state (codebook codes, masks), optimizer state, header. */
function fileLine(stored: { fileBytes: number; tensorBytes: Map<string, number> }): string {
  const parts: [string, string, number][] = [
    ['weights/', 'weights', 0], ['maps/', 'map state', 0], ['optimizer/', 'optimizer state', 0], ['best/', 'early stopping\'s best weights', 0],
  ];
  let tensors = 0;
  for (const [name, n] of stored.tensorBytes) {
    tensors += n;
    const p = parts.find(([prefix]) => name.startsWith(prefix));
    if (p) p[2] += n;
  }
  const size = (n: number): string => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(2)} MiB`);
  const shown = parts.filter(([, , n]) => n > 0).map(([, what, n]) => `${what} ${size(n)}`);
  return `File: ${size(stored.fileBytes)} (${[...shown, `header ${size(stored.fileBytes - tensors)}`].join(', ')})`;
}

/** The table of {@link storedPerWeight}: one row per weight, then the total. */
function storedTable(rows: ReturnType<typeof storedPerWeight>): string {
  const size = (n: number): string => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
  const total = rows.reduce((a, r) => ({ elements: a.elements + r.elements, bytes: a.bytes + r.bytes }), { elements: 0, bytes: 0 });
  const all = [...rows, { path: 'total', ...total, bitsPerWeight: (8 * total.bytes) / Math.max(1, total.elements) }];
  const w = Math.max(...all.map((r) => r.path.length));
  const cells = all.map((r) => [r.path.padEnd(w), thousands(r.elements).padStart(11), size(r.bytes).padStart(10), r.bitsPerWeight.toFixed(2).padStart(6)]);
  return ['Stored weights (bytes in the file, bits per element of W):', ...cells.map((c) => `  ${c[0]}  ${c[1]} elements  ${c[2]}  ${c[3]} bits/weight`)].join('\n');
}

/** Runs `weightshare summary`. */
export function summaryCommand(a: ParsedArgs<typeof summarySpec>, io: Io): number {
  const contents = loadCheckpoint(a.positionals.model, { lazy: true });
  const { model, meta, tokenizer } = modelFromCheckpoint(contents, a.positionals.model, loadOptions(a.flags));
  const t = meta.training;
  if (a.flags.json) {
    io.out.write(JSON.stringify({
      model: a.positionals.model, name: model.name, parameters: model.countParams(), inputShape: model.inputShape, outputShape: model.outputShape,
      layers: model.graph.map((g) => ({ name: g.layer.name, className: g.layer.className, outputShape: g.output.shape, parameters: g.layer.countParams() })),
      compile: meta.compile, training: t ? { ...t, history: t.history.history } : undefined,
      ...(contents.stored ? { fileBytes: contents.stored.fileBytes, stored: storedPerWeight(model, contents.stored.tensorBytes) } : {}),
      ...(tokenizer ? { tokenizer: { kind: tokenizer.kind, vocabSize: tokenizer.vocabSize } } : {}),
    }, null, 2) + '\n');
    return 0;
  }
  io.out.write(model.summary() + '\n');
  if (contents.stored) io.out.write(fileLine(contents.stored) + '\n' + storedTable(storedPerWeight(model, contents.stored.tensorBytes)) + '\n');
  if (meta.compile) io.out.write(`Compiled: ${meta.compile.optimizer.name} (lr ${describeRate(meta.compile.optimizer)}), loss ${meta.compile.loss}, metrics ${meta.compile.metrics.join(', ') || 'none'}\n`);
  if (tokenizer) {
    const text = t?.text;
    io.out.write(`Tokenizer: ${tokenizer.kind} level, ${thousands(tokenizer.vocabSize)} tokens (ids 0 <pad>, 1 <unk>${tokenizer.kind === 'word' ? ', 2 <eos>' : ''})` +
      (text ? `; ${text.task === 'classifier' ? `texts of ${text.maxLen} tokens` : `windows of ${text.bptt} tokens`}` : '') + '\n');
  }
  if (t) {
    const h = t.history.history;
    const last = (k: string): number | undefined => h[k]?.[h[k].length - 1];
    // Only metrics recorded at every epoch line up with the loss: one compiled for some epochs only (compress recompiles
    // with accuracy, a resumed run then trains on) has fewer values, and its last is not the last epoch's.
    const shown = Object.keys(h).filter((k) => k !== 'loss' && !k.startsWith('val_') && h[k].length === h.loss?.length).map((k) => `, ${k} ${k.endsWith('accuracy') ? percent(last(k)!) : last(k)!.toFixed(4)}`);
    io.out.write(`Trained: ${t.epoch}/${t.epochs} epochs${t.step ? ` + ${String(t.step)} batches` : ''} on ${t.dataset === 'text' && t.dataDir ? t.dataDir : t.dataset ?? '?'}, batch ${t.batchSize}, seed ${t.seed}` +
      (last('loss') !== undefined ? `; last epoch: loss ${last('loss')!.toFixed(4)}${shown.join('')}` : '') + '\n');
  }
  return 0;
}
