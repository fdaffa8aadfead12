// `weightshare compress`: Deep Compression or soft weight-sharing (transforms/) on a saved model: flags in, progress and sizes out.
import { loadModel, saveModel } from '../io/files.js';
import type { CompressRecord } from '../io/training-state.js';
import { thousands } from '../nn/summary.js';
import { evaluationBatchSize } from '../nn/eval-batch.js';
import { indexBits } from '../sharing/codebook.js';
import { KMEANS_INITS } from '../sharing/kmeans.js';
import { type ClusteredWeight, halfBiases, halfCentroids } from '../transforms/cluster.js';
import {
  deepCompress, type DeepCompressEvent, type DeepCompressOptions, type DeepCompressReport, deepCompressSettings, NothingToCompressError,
} from '../transforms/deep-compression.js';
import { type SoftSharingEvent, type SoftSharingOptions, softSharingSettings, softWeightSharing } from '../transforms/soft-sharing.js';
import { sparseVariationalDropout, type VariationalDropoutEvent, type VariationalDropoutOptions, variationalDropoutSettings } from '../transforms/variational-dropout.js';
import { modelSizes, type StageResult, stageResult, type TrainEvent } from '../transforms/stages.js';
import { namesLayer } from '../transforms/select.js';
import { MAX_COMPONENTS } from '../transforms/mixture-prior.js';
import { defineCommand, type ParsedArgs, UsageError } from './args.js';
import { splitData } from '../data/dataset.js';
import { applyThreads, checkFits, CliError, COMMON_FLAGS, DATA_FLAGS, holdingOutputs, type Io, LOAD_FLAGS, loadOptions, percent, refuseInputAsOutput, requireSamples, signalStatus, warnIfDataChanged, WRITE_FLAGS } from './common.js';
import { defaultTextMetrics, readModelDataset, savedModelData, textRecordOf } from './text.js';
import { formatEpochLine } from '../nn/progress.js';

export const compressSpec = defineCommand({
  name: 'compress',
  summary: 'Compress a saved model\'s kernels into per-layer (pruned) codebooks: Deep Compression or soft weight-sharing; save',
  description:
    'Each selected kernel becomes W = [centroids, 0][codes]: the smallest --prune fraction of its weights is zeroed for good (code K),\n' +
    'the rest clustered by 1-D k-means into --clusters centroids (--conv-clusters for Conv2D/LocallyConnected2D). Only the centroids\n' +
    'are then fine-tuned (Adam) on the dataset the model was trained on. Sizes printed: 32 bits per centroid, ⌈log2 K⌉ bits per index\n' +
    'and, when pruned, a 1-bit-per-weight mask with indices for the surviving weights only; other weights (biases) at 32 bits; then\n' +
    'the file written, where the codes are stored as Huffman-coded gaps and indices (no optimizer state: the file is for shipping).\n' +
    'With --prune-finetune-epochs N (Deep Compression\'s three stages), the kernels are first pruned by magnitude into W = θ ⊙ mask\n' +
    '(--prune, --conv-prune for convolutions), the whole network is retrained N epochs with the masks fixed (Adam, --prune-lr),\n' +
    'then the survivors of each kernel are clustered (the codebook keeps the mask) and the centroids fine-tuned as above.\n' +
    'With --method prune-schedule the retraining prunes gradually instead: masks of the smallest magnitudes tighten from\n' +
    '--initial-sparsity to each kernel\'s --prune fraction between --begin-step and --end-step (TF-MOT PolynomialDecay).\n' +
    'With --method soft-sharing (Ullrich et al. 2017), the network is instead retrained --epochs with a Gaussian mixture prior over\n' +
    'its kernels (--components J, a zero component of proportion --pi0, loss + τ/N·(−log prior), --tau), components closer than\n' +
    '--merge-threshold (symmetric KL) are merged, and each weight is set to the mean of its most responsible component (the zero\n' +
    'component prunes): the same pruned-codebook file. --finetune-epochs then fine-tunes the centroids (default 0 for this method).\n' +
    'With --method variational-dropout (sparse variational dropout, Molchanov et al. 2017), the network is retrained --epochs with\n' +
    'noisy weights θ + σ·ε and loss + --kl-weight/N·KL (a log-uniform prior), weights whose log α = log σ² − log θ² exceeds\n' +
    '--threshold are pruned, the survivors optionally retrained with the masks fixed (--prune-finetune-epochs), then clustered\n' +
    '(--clusters) and fine-tuned: the same pruned-codebook file.',
  positionals: [{ name: 'model', required: true, description: 'Model file written by `weightshare train`' }],
  flags: {
    method: { type: 'string', default: 'deep-compression', choices: ['deep-compression', 'prune-schedule', 'soft-sharing', 'variational-dropout'], description: 'Deep Compression (prune at once, retrain, cluster), the same with gradual pruning during the retraining, soft weight-sharing (a learned mixture prior), or sparse variational dropout (learned per-weight noise prunes)' },
    clusters: { type: 'int', default: 16, min: 2, description: 'Centroids per kernel (Dense: 32 = 5-bit in Deep Compression)' },
    'conv-clusters': { type: 'int', min: 2, description: 'Centroids per Conv2D/LocallyConnected2D kernel (default: --clusters; Deep Compression: 256)' },
    prune: { type: 'number', default: 0, min: 0, description: 'Fraction in [0, 1) of each kernel\'s smallest-magnitude weights set to zero for good' },
    'conv-prune': { type: 'number', min: 0, description: 'Pruned fraction of Conv2D/LocallyConnected2D kernels (default: --prune; Deep Compression: 0.34–0.66)' },
    'layer-prune': { type: 'list', metavar: 'layer=f,…', description: 'Pruned fractions of single layers (or sublayers by path: block/dense=0.5), overriding --prune / --conv-prune (e.g. dense=0.92,dense_1=0.91,dense_2=0.74, Han et al.\'s LeNet-300-100)' },
    'prune-finetune-epochs': { type: 'int', default: 0, min: 0, description: 'Epochs of retraining the surviving weights (masks fixed) after pruning, before clustering (0: prune and cluster in one shot; variational-dropout: after its log α pruning, default 0)' },
    'prune-lr': { type: 'number', above: 0, description: 'Adam learning rate of that retraining (default: --lr; variational-dropout: --weight-lr)' },
    'initial-sparsity': { type: 'number', default: 0, min: 0, description: 'prune-schedule: sparsity at --begin-step, in [0, 1); it grows to each kernel\'s --prune (TF-MOT PolynomialDecay, power 3)' },
    'begin-step': { type: 'int', default: 0, min: 0, description: 'prune-schedule: first optimizer step at which masks are updated' },
    'end-step': { type: 'int', min: 0, description: 'prune-schedule: step at which the final sparsity is reached (default: ¾ of the retraining\'s steps)' },
    'prune-frequency': { type: 'int', default: 100, min: 1, description: 'prune-schedule: masks are updated every this many steps' },
    init: { type: 'string', default: 'linear', choices: KMEANS_INITS, description: 'k-means initialisation' },
    layers: { type: 'list', metavar: 'a,b', description: 'Layers whose kernel-like weights to compress (default: every weight of role kernel, recurrentKernel or embedding)' },
    components: { type: 'int', default: 16, min: 2, max: MAX_COMPONENTS, description: 'soft-sharing: mixture components J, the zero component included (16: 4-bit indices)' },
    pi0: { type: 'number', default: 0.99, description: 'soft-sharing: the zero component\'s fixed mixing proportion π₀, in (0, 1)' },
    tau: { type: 'number', default: 0.003, min: 0, description: 'soft-sharing: weight τ of the prior; the loss adds τ/N·(−log p(w) − log p(λ)), N training samples' },
    epochs: { type: 'int', default: 10, min: 0, description: 'soft-sharing, variational-dropout: epochs of retraining with the prior' },
    'weight-lr': { type: 'number', default: 5e-4, above: 0, description: 'soft-sharing, variational-dropout: Adam learning rate of the weights (and log σ²) while retraining' },
    'kl-weight': { type: 'number', default: 1, min: 0, description: 'variational-dropout: weight of the KL term (1: the ELBO, KL/N per sample)' },
    'kl-warmup': { type: 'int', default: 0, min: 0, description: 'variational-dropout: epochs over which the KL weight ramps up from 0' },
    threshold: { type: 'number', default: 3, description: 'variational-dropout: log α above which a weight is pruned (3: dropout rate above 0.95)' },
    'layer-kl-weight': { type: 'list', metavar: 'layer=w,…', description: 'variational-dropout: KL weights of single layers (or sublayers by path), overriding --kl-weight (e.g. conv2d_1=0.25: prune that layer less)' },
    'layer-threshold': { type: 'list', metavar: 'layer=t,…', description: 'variational-dropout: log α thresholds of single layers (or sublayers by path), overriding --threshold' },
    'mean-lr': { type: 'number', default: 1e-4, above: 0, description: 'soft-sharing: Adam learning rate of the components\' means' },
    'variance-lr': { type: 'number', default: 3e-3, above: 0, description: 'soft-sharing: Adam learning rate of their log precisions' },
    'mixing-lr': { type: 'number', default: 3e-3, above: 0, description: 'soft-sharing: Adam learning rate of their mixing logits' },
    prior: { type: 'string', default: 'model', choices: ['model', 'layer'], description: 'soft-sharing: one prior over all kernels (the paper) or one per kernel' },
    'merge-threshold': { type: 'number', default: 0.1, min: 0, description: 'soft-sharing: components whose symmetric KL divergence is below this are merged before quantising' },
    'finetune-epochs': { type: 'int', default: 2, min: 0, description: 'Epochs of fine-tuning the centroids after clustering (0: none; soft-sharing: default 0)' },
    lr: { type: 'number', default: 1e-4, above: 0, description: 'Adam learning rate of the fine-tuning' },
    'batch-size': { type: 'int', min: 1, description: 'Fine-tuning batch size (default: the model\'s training batch size, else 32)' },
    seed: { type: 'int', default: 0, description: 'Seed of the k-means initialisation (random, kmeans++) and of the fine-tuning shuffle' },
    dataset: { ...DATA_FLAGS.dataset, default: undefined, description: 'Dataset (default: the one the model was trained on)' },
    data: DATA_FLAGS.data,
    limit: { type: 'int', min: 1, description: 'Fine-tune on the first N training samples only (default: the training run\'s limit)' },
    'test-limit': { type: 'int', min: 1, description: 'Evaluate on the first N test samples only' },
    'bias-bits': { type: 'string', default: '32', choices: ['16', '32'], description: 'Store the plain biases at 16 bits: rounded to half precision at the end (after --centroid-bits; the accuracy after it is printed), then stored exactly' },
    'centroid-bits': { type: 'string', default: '32', choices: ['16', '32'], description: 'Store the centroids at 16 bits: rounded to half precision at the end (the accuracy after it is printed), then stored exactly' },
    ship: { type: 'boolean', description: 'Write a file for shipping: no training record (history, how it was compressed) and no compile settings in the header, and the header deflated (format 3, which builds before it cannot read); eval/compress then need --dataset' },
    out: { type: 'string', short: 'o', metavar: 'file', description: 'Compressed model file (default: <model>-compressed.wsm); locked while the command runs, a symbolic link is followed' },
    ...WRITE_FLAGS,
    ...LOAD_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'weightshare compress lenet-300-100.wsm --clusters 32 --prune 0.9 --out lenet-300-100-dc.wsm',
    'weightshare compress lenet5.wsm --clusters 32 --conv-clusters 256 --finetune-epochs 2 --json',
    'weightshare compress lenet-300-100.wsm --prune 0.92 --prune-finetune-epochs 4 --prune-lr 1e-3 --clusters 32 --out lenet-300-100-dc.wsm',
    'weightshare compress lenet-300-100.wsm --method soft-sharing --components 16 --pi0 0.99 --tau 0.003 --epochs 10 --out lenet-300-100-sws.wsm',
  ],
});

const kib = (bytes: number): string => (bytes / 1024).toFixed(1);

/** "3.2× smaller", or "1.4× larger" when the ratio is below 1 (a file that grew: tiny layers, headers). */
function sizeRatio(ratio: number): string {
  return ratio >= 1 || ratio === 0 ? `${ratio.toFixed(1)}× smaller` : `${(1 / ratio).toFixed(1)}× larger`;
}

/** Runs `weightshare compress`: parses the flags, calls {@link deepCompress} and prints its progress and report; returns the exit code. */
export function compressCommand(a: ParsedArgs<typeof compressSpec>, io: Io): Promise<number> {
  const stop = new Interruption(io);
  return holdingOutputs(a.flags.force, (hold) => runCompress(a, io, hold, stop)).finally(() => stop.dispose());
}

/**
 * Ctrl-C (SIGINT) or a polite stop (SIGTERM) during compress: once a training phase has begun, it stops after the
 * current batch, later training is skipped, the steps that do not train still run, and the model is written as
 * compressed so far (its record says where training stopped); before any training, or at a second signal, it exits at
 * once (nothing written: writes are atomic). Exit status 128 + the signal's number either way.
 */
class Interruption {
  private readonly abort = new AbortController();
  sig: 'SIGINT' | 'SIGTERM' | undefined;
  /** The training phase under way ('fine-tuning the centroids', its epochs and those done), once one began. */
  phase: { name: string; epochs: number; done: number } | undefined;
  /** Where training stopped, as the record and the messages say it. */
  at: string | undefined;
  private readonly handler = (sig: 'SIGINT' | 'SIGTERM'): void => {
    const p = this.phase;
    if (this.sig || !p) process.exit(signalStatus(sig));
    this.sig = sig;
    // Between phases (a phase's epochs all done, clustering under way): no batch to finish, later training skipped.
    const within = p.done < p.epochs;
    this.at = within ? `${p.name}, in epoch ${p.done + 1} of ${p.epochs}` : `after ${p.name}`;
    this.abort.abort();
    const stops = within ? `${p.name} stops after this batch (epoch ${p.done + 1} of ${p.epochs})` : 'no further training';
    this.io.err.write(`\n${sig === 'SIGINT' ? 'interrupted' : 'SIGTERM'}: ${stops} and the model is written as compressed so far (${sig === 'SIGINT' ? 'Ctrl-C' : 'a signal'} again to quit without writing)\n`);
  };

  constructor(private readonly io: Io) {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}

async function runCompress(a: ParsedArgs<typeof compressSpec>, io: Io, hold: (path: string) => void, stop: Interruption): Promise<number> {
  const f = a.flags;
  applyThreads(f.threads);
  const file = a.positionals.model;
  const out = f.out ?? file.replace(/(\.wsm)?$/, '-compressed.wsm');
  hold(out);
  const { model, meta, tokenizer } = loadModel(file, loadOptions(f));
  const t = meta.training;
  const text = textRecordOf(model, t, tokenizer);
  const { name, dir } = savedModelData(f, t, 'compress', text);
  refuseInputAsOutput(out, [['--data', f.data]], 'compress');
  const ds = readModelDataset(file, name, dir, text, tokenizer, { limit: f.limit ?? t?.limit, testLimit: f.testLimit ?? t?.testLimit, verb: 'compressed', command: 'compress', model });
  warnIfDataChanged(io.err, t, dir, 'the compressed model is fine-tuned and scored on other data than it was trained on');
  checkFits(model, ds);
  const nTrain = requireSamples(ds, 'train', 'fine-tune on'), nTest = requireSamples(ds, 'test', 'score the compression on');
  // A file without compile settings (--ship) gets its task's; the pipelines measure accuracy besides the model's own
  // metrics, which the compressed file keeps (a language model's bits per character or perplexity).
  if (!model.loss) model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', fromLogits: model.finalActivation() !== 'softmax', metrics: text ? defaultTextMetrics(text) : ['accuracy'] });
  const msg = (s: string): void => void io.err.write(s + '\n');
  // A language model's score is its loss in bits per character or perplexity (next-token accuracy shown beside).
  const lm = text?.task === 'language-model' ? text.level : undefined;
  const score = (r: { accuracy?: number; loss: number }): string => {
    const acc = (what: string): string => (r.accuracy === undefined ? '' : ` (next-${what} accuracy ${percent(r.accuracy)})`);
    return lm === 'char' ? `${(r.loss / Math.LN2).toFixed(4)} bits per character${acc('character')}`
      : lm === 'word' ? `perplexity ${Math.exp(r.loss).toFixed(2)}${acc('word')}`
      : `accuracy ${percent(r.accuracy ?? NaN)}, loss ${r.loss.toFixed(4)}`;
  };

  const batchSize = f.batchSize ?? t?.batchSize ?? 32;
  const data = { train: splitData(ds, 'train'), test: splitData(ds, 'test') };
  const what = { retrain: 'retraining the surviving weights (masks fixed)', finetune: 'fine-tuning the centroids' } as const;
  let float32Bits = 0;
  /** The progress lines every method shares: the model before, training stages, codebooks. */
  const common = (e: TrainEvent<string> | { kind: 'original'; result: StageResult; float32Bits: number }, phases: Record<string, string>): void => {
    switch (e.kind) {
      case 'original':
        float32Bits = e.float32Bits;
        return msg(`${file}: ${model.name} on ${ds.name} (${thousands(nTest)} test samples): ${score(e.result)}`);
      case 'trainBegin':
        stop.phase = { name: phases[e.phase], epochs: e.epochs, done: 0 };
        return msg(`${phases[e.phase]}: ${e.epochs} epochs on ${thousands(e.samples)} samples, Adam lr ${e.learningRate}, batch ${e.batchSize}`);
      case 'epochEnd':
        if (stop.phase) stop.phase.done = e.epoch;
        return msg(formatEpochLine({ epoch: e.epoch, epochs: e.epochs, seconds: e.seconds, samplesPerSec: nTrain / Math.max(e.seconds, 1e-9), loss: e.loss, accuracy: e.accuracy, metrics: e.metrics }));
    }
  };
  const codebooks = (weights: ClusteredWeight[], after: string, r: StageResult): void => {
    for (const w of weights) {
      const pruned = w.pruned ? `, ${(100 * w.pruned / w.weights).toFixed(1)} % pruned (1-bit mask, indices for the ${thousands(w.weights - w.pruned)} kept)` : '';
      msg(`${w.path}: ${thousands(w.weights)} weights → ${w.clusters} centroids + ${indexBits(w.clusters)}-bit indices${pruned}: ${sizeRatio(w.bitsBefore / w.bitsAfter)}`);
    }
    msg(`${after}: ${score(r)}`);
  };
  let done: { bits: { float32: number; before: number; after: number }; ratio: number; settings: CompressRecord; json: Record<string, unknown> };
  try {
    done = f.method === 'soft-sharing' ? await softSharing() : f.method === 'variational-dropout' ? await variationalDropout() : await deepCompression();
  } catch (e) {
    if (e instanceof NothingToCompressError) throw new CliError(`${file}: no kernel to compress (${e.found || 'the model has no kernels'}); compress clusters and prunes plain (dense) kernels`);
    throw e;
  }
  if (f.centroidBits === '16') {
    const h = halfCentroids(model);
    const logs = model.evaluate(data.test.x, data.test.y, { batchSize: evaluationBatchSize(model, 256) });
    const result = stageResult(logs, model.compileConfig()?.metrics ?? []);
    const after = modelSizes(model).bits;
    msg(`centroids rounded to 16 bits (${h.weights.length} codebooks, largest change ${h.maxChange.toExponential(2)}): ${score(result)}`);
    done = {
      ...done, bits: { ...done.bits, after }, ratio: done.bits.float32 / after, settings: { ...done.settings, centroidBits: 16 },
      json: { ...done.json, centroidBits: 16, halfCentroids: { weights: h.weights, maxChange: h.maxChange, result } },
    };
  }
  if (f.biasBits === '16') {
    const h = halfBiases(model);
    const logs = model.evaluate(data.test.x, data.test.y, { batchSize: evaluationBatchSize(model, 256) });
    const result = stageResult(logs, model.compileConfig()?.metrics ?? []);
    msg(`biases rounded to 16 bits (${h.weights.length} biases, largest change ${h.maxChange.toExponential(2)}): ${score(result)}`);
    done = { ...done, settings: { ...done.settings, biasBits: 16 }, json: { ...done.json, biasBits: 16, halfBiases: { weights: h.weights, maxChange: h.maxChange, result } } };
  }
  if (stop.at) done = { ...done, settings: { ...done.settings, interrupted: stop.at } };
  const { bits, ratio, settings } = done;
  msg(`size: ${thousands(bits.before)} bits (${kib(bits.before / 8)} KiB) → ${thousands(bits.after)} bits (${kib(bits.after / 8)} KiB): ` +
    `${sizeRatio(ratio)} than float32 before entropy coding`);

  // The compressed model is for shipping: its optimizer state (the fine-tuning's Adam slots) is not kept; with --ship
  // neither are its compile settings and training record, and its header is compressed (format 3).
  const fileBytes = saveModel(out, model, {
    ship: f.ship, training: t && !f.ship ? { ...t, compress: settings } : undefined, initSeed: meta.initSeed, withOptimizer: false, tokenizer, force: f.force,
  });
  const fileRatio = bits.float32 / 8 / fileBytes;
  msg(`Saved ${out}: ${kib(fileBytes)} KiB on disk, ${sizeRatio(fileRatio)} than the float32 weights (${kib(bits.float32 / 8)} KiB)`);
  if (f.json) io.out.write(JSON.stringify({ model: file, out, dataset: ds.name, testSamples: nTest, settings, ...done.json, bits, ratio, fileBytes, fileRatio }, null, 2) + '\n');
  if (stop.sig) {
    msg(`training was stopped (${stop.at}): ${out} holds the model compressed with less training than asked`);
    return signalStatus(stop.sig);
  }
  return 0;

  /** A `layer=value,…` flag as a record: every name a layer (or sublayer path) of the model, every value `ok`. */
  function byLayerFlag(flag: string, items: readonly string[] | undefined, what: string, ok: (v: number) => boolean): Record<string, number> {
    const out: Record<string, number> = {};
    for (const item of items ?? []) {
      const [name, value] = item.split('=');
      const v = Number(value);
      if (!name || value === undefined || value.trim() === '' || !ok(v)) throw new UsageError(`--${flag}: expected layer=${what}, got '${item}'`, 'compress');
      if (!namesLayer(model, name)) {
        throw new UsageError(`--${flag}: unknown layer '${name}' (layers: ${model.layers.map((l) => l.name).join(', ')}; a sublayer by path, e.g. block/dense)`, 'compress');
      }
      out[name] = v;
    }
    return out;
  }

  /** ' (conv2d_1 0.25, dense 0.5)' for per-layer overrides, '' for none. */
  function perLayer(byName: Readonly<Record<string, number>>): string {
    const e = Object.entries(byName);
    return e.length ? ` (${e.map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
  }

  async function deepCompression(): Promise<typeof done> {
    const layerPrune = byLayerFlag('layer-prune', f.layerPrune, 'fraction with a fraction in [0, 1)', (v) => v >= 0 && v < 1);
    const options: DeepCompressOptions = {
      clusters: f.clusters, convClusters: f.convClusters, prune: f.prune, convPrune: f.convPrune, layerPrune, pruneFinetuneEpochs: f.pruneFinetuneEpochs,
      pruneLr: f.pruneLr, init: f.init, layers: f.layers, finetuneEpochs: f.finetuneEpochs, lr: f.lr, batchSize, seed: f.seed,
      ...(f.method === 'prune-schedule' ? { pruneSchedule: { initialSparsity: f.initialSparsity, beginStep: f.beginStep, endStep: f.endStep, frequency: f.pruneFrequency } } : {}),
    };
    if (f.method === 'prune-schedule' && f.pruneFinetuneEpochs === 0) throw new UsageError('--method prune-schedule prunes while retraining: give --prune-finetune-epochs N (N ≥ 1)', 'compress');
    for (const [flag, v] of [['initial-sparsity', f.initialSparsity], ['prune', f.prune], ['conv-prune', f.convPrune]] as const) {
      if (v !== undefined && !(v < 1)) throw new UsageError(`--${flag} must be a fraction in [0, 1), got ${v}`, 'compress');
    }
    const s = deepCompressSettings(options);
    const onProgress = (e: DeepCompressEvent): void => {
      switch (e.kind) {
        case 'pruned':
          if (s.pruneSchedule) msg('gradual pruning reached:');
          for (const r of e.weights) {
            msg(`${r.path}: ${thousands(r.weights)} weights, ${(100 * r.pruned / r.weights).toFixed(1)} % pruned (${thousands(r.weights - r.pruned)} kept + 1-bit mask): ${sizeRatio(r.bitsBefore / r.bitsAfter)}`);
          }
          return msg(`after ${s.pruneSchedule ? 'pruning while retraining' : 'pruning'}: ${score(e.result)} (${sizeRatio(float32Bits / e.bits)} than float32)`);
        case 'retrained':
          // With a schedule the pruning happened during the retraining: 'pruned' already gave this result.
          return s.pruneSchedule ? undefined : msg(`after retraining: ${score(e.result)}`);
        case 'clustered':
          return codebooks(e.weights, 'after clustering', e.result);
        case 'finetuned':
          return msg(`after fine-tuning: ${score(e.result)}`);
        default:
          return common(e, s.pruneSchedule ? { ...what, retrain: 'retraining while pruning gradually (the masks tighten on a schedule)' } : what);
      }
    };
    const r: DeepCompressReport = await deepCompress(model, data, options, { onProgress, signal: stop.signal });
    const settings: CompressRecord = {
      ...(f.method === 'prune-schedule' ? { method: 'prune-schedule', pruneSchedule: { ...s.pruneSchedule } } : {}), clusters: s.clusters, convClusters: s.convClusters, prune: s.prune, convPrune: s.convPrune,
      ...(Object.keys(s.layerPrune).length ? { layerPrune: { ...s.layerPrune } } : {}), pruneFinetuneEpochs: s.pruneFinetuneEpochs, pruneLr: s.pruneLr,
      init: s.init, layers: f.layers, finetuneEpochs: s.finetuneEpochs, lr: s.lr, seed: s.seed, from: file,
    };
    return { bits: r.bits, ratio: r.ratio, settings, json: { layers: r.layers, before: r.before, ...(r.pruning ? { pruning: r.pruning } : {}), clustered: r.clustered, finetuned: r.finetuned } };
  }

  async function variationalDropout(): Promise<typeof done> {
    const options: VariationalDropoutOptions = {
      epochs: f.epochs, lr: f.weightLr, klWeight: f.klWeight, klWarmup: f.klWarmup, threshold: f.threshold, clusters: f.clusters, convClusters: f.convClusters, layers: f.layers,
      layerKlWeight: byLayerFlag('layer-kl-weight', f.layerKlWeight, 'weight with a weight ≥ 0', (v) => Number.isFinite(v) && v >= 0),
      layerThreshold: byLayerFlag('layer-threshold', f.layerThreshold, 'threshold with a finite threshold', Number.isFinite),
      pruneFinetuneEpochs: f.pruneFinetuneEpochs, pruneLr: f.pruneLr,
      finetuneEpochs: f.finetuneEpochs, finetuneLr: f.lr, batchSize, seed: f.seed,
    };
    const s = variationalDropoutSettings(options);
    const phases = { retrain: 'retraining with sparse variational dropout', masked: what.retrain, finetune: 'fine-tuning the centroids' };
    const onProgress = (e: VariationalDropoutEvent): void => {
      switch (e.kind) {
        case 'original':
          common(e, phases);
          return msg(`variational dropout over ${thousands(e.elements)} kernel weights: KL weight ${s.klWeight}${perLayer(s.layerKlWeight)}${s.klWarmup ? ` (ramped over ${s.klWarmup} epochs)` : ''}, ` +
            `pruned where log α > ${s.threshold}${perLayer(s.layerThreshold)}`);
        case 'sparsified':
          for (const w of e.weights) msg(`${w.path}: ${thousands(w.weights)} weights, ${(100 * w.pruned / w.weights).toFixed(1)} % pruned (mean log α ${w.meanLogAlpha.toFixed(2)})`);
          return msg(`after pruning at log α > ${s.threshold}: ${score(e.result)}`);
        case 'masked':
          return msg(`after retraining: ${score(e.result)}`);
        case 'clustered':
          return codebooks(e.weights, 'after clustering', e.result);
        case 'finetuned':
          return msg(`after fine-tuning: ${score(e.result)}`);
        default:
          return common(e, phases);
      }
    };
    const r = await sparseVariationalDropout(model, data, options, { onProgress, signal: stop.signal });
    const settings: CompressRecord = {
      method: 'variational-dropout', clusters: s.clusters, ...(s.convClusters !== s.clusters ? { convClusters: s.convClusters } : {}), layers: f.layers,
      ...(s.pruneFinetuneEpochs ? { pruneFinetuneEpochs: s.pruneFinetuneEpochs, pruneLr: s.pruneLr } : {}), finetuneEpochs: s.finetuneEpochs, lr: s.finetuneLr, seed: s.seed, from: file,
      variationalDropout: {
        epochs: s.epochs, lr: s.lr, klWeight: s.klWeight, klWarmup: s.klWarmup, threshold: s.threshold,
        ...(Object.keys(s.layerKlWeight).length ? { layerKlWeight: { ...s.layerKlWeight } } : {}), ...(Object.keys(s.layerThreshold).length ? { layerThreshold: { ...s.layerThreshold } } : {}),
      },
    };
    return { bits: r.bits, ratio: r.ratio, settings, json: { layers: r.layers, before: r.before, sparsity: r.sparsity, sparsified: r.sparsified, ...(s.pruneFinetuneEpochs ? { masked: r.masked } : {}), clustered: r.clustered, finetuned: r.finetuned } };
  }

  async function softSharing(): Promise<typeof done> {
    const options: SoftSharingOptions = {
      components: f.components, pi0: f.pi0, tau: f.tau, epochs: f.epochs, lr: f.weightLr, meanLr: f.meanLr, varianceLr: f.varianceLr, mixingLr: f.mixingLr,
      prior: f.prior, mergeThreshold: f.mergeThreshold, layers: f.layers, finetuneEpochs: a.given.has('finetune-epochs') ? f.finetuneEpochs : 0, finetuneLr: f.lr,
      batchSize, seed: f.seed,
    };
    const s = softSharingSettings(options);
    const phases = { retrain: 'retraining with the mixture prior', finetune: 'fine-tuning the centroids' };
    const onProgress = (e: SoftSharingEvent): void => {
      switch (e.kind) {
        case 'original':
          common(e, phases);
          return msg(`mixture prior over ${thousands(e.elements)} kernel weights: ${s.components} components (zero component π₀ ${s.pi0}), τ ${s.tau}, ${s.prior === 'model' ? 'one prior for the model' : 'one prior per kernel'}`);
        case 'retrained': {
          const m = e.merged.map((p) => p.means.length);
          msg(`after retraining: ${score(e.result)}; components after merging: ${m.join(', ')} (of ${s.components})`);
          if (e.merged.length === 1) msg(`  means: ${e.merged[0].means.map((v) => v.toFixed(3)).join(' ')}`);
          return;
        }
        case 'quantized':
          return codebooks(e.weights, 'after quantising to the component means', e.result);
        case 'finetuned':
          return msg(`after fine-tuning: ${score(e.result)}`);
        default:
          return common(e, phases);
      }
    };
    const r = await softWeightSharing(model, data, options, { onProgress, signal: stop.signal });
    const settings: CompressRecord = {
      method: 'soft-sharing', layers: f.layers, finetuneEpochs: s.finetuneEpochs, lr: s.finetuneLr, seed: s.seed, from: file,
      softSharing: { components: s.components, pi0: s.pi0, tau: s.tau, epochs: s.epochs, lr: s.lr, meanLr: s.meanLr, varianceLr: s.varianceLr, mixingLr: s.mixingLr, prior: s.prior, mergeThreshold: s.mergeThreshold },
    };
    return { bits: r.bits, ratio: r.ratio, settings, json: { layers: r.layers, before: r.before, retrained: r.retrained, quantized: r.quantized, finetuned: r.finetuned, prior: r.merged } };
  }
}
