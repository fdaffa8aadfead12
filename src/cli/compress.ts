// `weightshare compress`: Deep Compression's pruning + k-means weight sharing + fine-tuning on a saved model.
import { loadModel, saveModel } from '../io/files.js';
import type { Model } from '../nn/model.js';
import { thousands } from '../nn/summary.js';
import { createOptimizer } from '../optim/index.js';
import { indexBits } from '../sharing/codebook.js';
import { type ClusterOptions, clusterWeights, planClusters, planPrune, type PruneOptions, pruneWeights } from '../sharing/cluster.js';
import { KMEANS_INITS } from '../sharing/kmeans.js';
import { defineCommand, type ParsedArgs, UsageError } from './args.js';
import { sampleCount, splitData } from '../data/dataset.js';
import { applyThreads, checkFits, CliError, COMMON_FLAGS, DATA_FLAGS, type Io, percent, readDataset } from './common.js';
import { formatEpochLine } from './progress.js';

export const compressSpec = defineCommand({
  name: 'compress',
  summary: 'Prune (and retrain) and cluster a saved model\'s kernels into per-layer codebooks (Deep Compression), fine-tune the centroids, save',
  description:
    'Each selected kernel becomes W = [centroids, 0][codes]: the smallest --prune fraction of its weights is zeroed for good (code K),\n' +
    'the rest clustered by 1-D k-means into --clusters centroids (--conv-clusters for Conv2D/LocallyConnected2D). Only the centroids\n' +
    'are then fine-tuned (Adam) on the dataset the model was trained on. Sizes printed: 32 bits per centroid, ⌈log2 K⌉ bits per index\n' +
    'and, when pruned, a 1-bit-per-weight mask with indices for the surviving weights only; other weights (biases) at 32 bits; then\n' +
    'the file written, where the codes are stored as Huffman-coded gaps and indices (no optimizer state: the file is for shipping).\n' +
    'With --prune-finetune-epochs N (Deep Compression\'s three stages), the kernels are first pruned by magnitude into W = θ ⊙ mask\n' +
    '(--prune, --conv-prune for convolutions), the whole network is retrained N epochs with the masks fixed (Adam, --prune-lr),\n' +
    'then the survivors of each kernel are clustered (the codebook keeps the mask) and the centroids fine-tuned as above.',
  positionals: [{ name: 'model', required: true, description: 'Model file written by `weightshare train`' }],
  flags: {
    clusters: { type: 'int', default: 16, min: 2, description: 'Centroids per kernel (Dense: 32 = 5-bit in Deep Compression)' },
    'conv-clusters': { type: 'int', min: 2, description: 'Centroids per Conv2D/LocallyConnected2D kernel (default: --clusters; Deep Compression: 256)' },
    prune: { type: 'number', default: 0, min: 0, description: 'Fraction in [0, 1) of each kernel\'s smallest-magnitude weights set to zero for good' },
    'conv-prune': { type: 'number', min: 0, description: 'Pruned fraction of Conv2D/LocallyConnected2D kernels (default: --prune; Deep Compression: 0.34–0.66)' },
    'layer-prune': { type: 'list', metavar: 'layer=f,…', description: 'Pruned fractions of single layers, overriding --prune / --conv-prune (e.g. dense=0.92,dense_1=0.91,dense_2=0.74, Han et al.\'s LeNet-300-100)' },
    'prune-finetune-epochs': { type: 'int', default: 0, min: 0, description: 'Epochs of retraining the surviving weights (masks fixed) after pruning, before clustering (0: prune and cluster in one shot)' },
    'prune-lr': { type: 'number', description: 'Adam learning rate of that retraining (default: --lr)' },
    init: { type: 'string', default: 'linear', choices: KMEANS_INITS, description: 'k-means initialisation' },
    layers: { type: 'list', metavar: 'a,b', description: 'Layers whose kernel to compress (default: every Dense, Conv2D, LocallyConnected2D)' },
    'finetune-epochs': { type: 'int', default: 2, min: 0, description: 'Epochs of fine-tuning the centroids after clustering (0: none)' },
    lr: { type: 'number', default: 1e-4, description: 'Adam learning rate of the fine-tuning' },
    'batch-size': { type: 'int', min: 1, description: 'Fine-tuning batch size (default: the model\'s training batch size, else 32)' },
    seed: { type: 'int', default: 0, description: 'Seed of the k-means initialisation (random, kmeans++) and of the fine-tuning shuffle' },
    dataset: { ...DATA_FLAGS.dataset, default: undefined, description: 'Dataset (default: the one the model was trained on)' },
    data: DATA_FLAGS.data,
    limit: { type: 'int', min: 1, description: 'Fine-tune on the first N training samples only (default: the training run\'s limit)' },
    'test-limit': { type: 'int', min: 1, description: 'Evaluate on the first N test samples only' },
    out: { type: 'string', short: 'o', metavar: 'file', description: 'Compressed model file (default: <model>-compressed.wsm)' },
    ...COMMON_FLAGS,
  },
  examples: [
    'weightshare compress lenet-300-100.wsm --clusters 32 --prune 0.9 --out lenet-300-100-dc.wsm',
    'weightshare compress lenet5.wsm --clusters 32 --conv-clusters 256 --finetune-epochs 2 --json',
    'weightshare compress lenet-300-100.wsm --prune 0.92 --prune-finetune-epochs 4 --prune-lr 1e-3 --clusters 32 --out lenet-300-100-dc.wsm',
  ],
});

/** Bits stored by all the model's weights, and 32 bits per element of W (the float32 original). */
function sizes(m: Model): { bits: number; float32Bits: number } {
  let bits = 0, virtual = 0;
  for (const w of m.weights()) {
    const s = w.map.stats();
    bits += s.bits;
    virtual += s.virtual;
  }
  return { bits, float32Bits: 32 * virtual };
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(1);

/** Runs `weightshare compress`; returns the exit code. */
export async function compressCommand(a: ParsedArgs<typeof compressSpec>, io: Io): Promise<number> {
  const f = a.flags;
  applyThreads(f.threads);
  const file = a.positionals.model;
  const { model, meta } = loadModel(file);
  const t = meta.training;
  const name = f.dataset ?? t?.dataset ?? 'mnist-sample';
  const dir = f.data ?? (f.dataset ? undefined : t?.dataDir);
  const ds = readDataset(name, dir, f.limit ?? (t?.limit as number | undefined), f.testLimit);
  checkFits(model, ds);
  const lossName = model.loss?.name ?? 'sparse_categorical_crossentropy';
  const fromLogits = model.loss?.fromLogits ?? false;
  const ignoreClass = model.loss?.ignoreClass;
  if (!model.loss) model.compile({ optimizer: 'adam', loss: lossName, metrics: ['accuracy'] });
  const { x: xTest, y: yTest } = splitData(ds, 'test');
  const nTrain = sampleCount(ds, 'train'), nTest = sampleCount(ds, 'test');
  const evaluate = (): { loss: number; accuracy: number } => {
    const r = model.evaluate(xTest, yTest, { batchSize: 256 });
    return { loss: r.loss, accuracy: r.accuracy };
  };
  const msg = (s: string): void => void io.err.write(s + '\n');

  const convClusters = f.convClusters ?? f.clusters;
  const convPrune = f.convPrune ?? f.prune;
  const perLayer = new Map<string, number>();
  for (const item of f.layerPrune ?? []) {
    const [name, value] = item.split('=');
    const v = Number(value);
    if (!name || value === undefined || !(v >= 0 && v < 1)) throw new UsageError(`--layer-prune: expected layer=fraction with a fraction in [0, 1), got '${item}'`, 'compress');
    if (!model.layers.some((l) => l.name === name)) throw new UsageError(`--layer-prune: unknown layer '${name}' (layers: ${model.layers.map((l) => l.name).join(', ')})`, 'compress');
    perLayer.set(name, v);
  }
  const pruneOf = (l: { className: string; name: string }): number => perLayer.get(l.name) ?? (l.className === 'Dense' ? f.prune : convPrune);
  const staged = f.pruneFinetuneEpochs > 0;
  const options: ClusterOptions = {
    clusters: (l) => (l.className === 'Dense' ? f.clusters : convClusters), init: f.init, prune: pruneOf, layers: f.layers, seed: f.seed,
  };
  const pruneOptions: PruneOptions = { prune: pruneOf, layers: f.layers };
  // Bad options fail here, before any work (the clusters are checked against the weights that pruning keeps).
  if (staged) planPrune(model, pruneOptions);
  if (planClusters(model, options).length === 0) {
    const kinds = model.weights().filter((w) => w.path.endsWith('/kernel')).map((w) => `${w.path} is '${w.map.kind}'`);
    throw new CliError(`${file}: no kernel to compress (${kinds.join(', ') || 'the model has no kernels'}); compress clusters and prunes plain (dense) kernels`);
  }
  const before = evaluate();
  const size0 = sizes(model);
  msg(`${file}: ${model.name} on ${ds.name} (${thousands(nTest)} test samples): accuracy ${percent(before.accuracy)}, loss ${before.loss.toFixed(4)}`);

  const batchSize = f.batchSize ?? t?.batchSize ?? 32;
  const fineTune = async (epochs: number, lr: number, what: string): Promise<{ loss: number; accuracy: number }> => {
    model.compile({ optimizer: createOptimizer({ name: 'adam', learningRate: lr }), loss: lossName, fromLogits, ignoreClass, metrics: ['accuracy'] });
    msg(`${what}: ${epochs} epochs on ${thousands(nTrain)} samples, Adam lr ${lr}, batch ${batchSize}`);
    let start = performance.now();
    const train = splitData(ds, 'train');
    await model.fit(train.x, train.y, {
      epochs, batchSize, seed: f.seed, shuffle: true,
      callbacks: [{
        onEpochBegin: () => void (start = performance.now()),
        onEpochEnd: (epoch, logs) => {
          const secs = (performance.now() - start) / 1000;
          msg(formatEpochLine({ epoch: epoch + 1, epochs, seconds: secs, samplesPerSec: nTrain / Math.max(secs, 1e-9), loss: logs.loss, accuracy: logs.accuracy }));
        },
      }],
    });
    return evaluate();
  };

  let pruneReport: ReturnType<typeof pruneWeights> | undefined;
  let prunedAcc: { loss: number; accuracy: number } | undefined, retrained: { loss: number; accuracy: number } | undefined;
  let prunedBits: number | undefined;
  const pruneLr = f.pruneLr ?? f.lr;
  if (staged) {
    pruneReport = pruneWeights(model, pruneOptions);
    for (const r of pruneReport) {
      msg(`${r.path}: ${thousands(r.weights)} weights, ${(100 * r.pruned / r.weights).toFixed(1)} % pruned (${thousands(r.weights - r.pruned)} kept + 1-bit mask): ${(r.bitsBefore / r.bitsAfter).toFixed(1)}× smaller`);
    }
    prunedAcc = evaluate();
    prunedBits = sizes(model).bits;
    msg(`after pruning: accuracy ${percent(prunedAcc.accuracy)}, loss ${prunedAcc.loss.toFixed(4)} (${(size0.float32Bits / prunedBits).toFixed(1)}× smaller than float32)`);
    retrained = await fineTune(f.pruneFinetuneEpochs, pruneLr, 'retraining the surviving weights (masks fixed)');
    msg(`after retraining: accuracy ${percent(retrained.accuracy)}, loss ${retrained.loss.toFixed(4)}`);
  }

  // After the staged pruning the pruned kernels keep their masks (prune 0 here); the others are pruned as in one shot (0 when staged).
  const report = clusterWeights(model, staged ? { ...options, prune: 0 } : options);
  for (const r of report) {
    const pruned = r.pruned ? `, ${(100 * r.pruned / r.weights).toFixed(1)} % pruned (1-bit mask, indices for the ${thousands(r.weights - r.pruned)} kept)` : '';
    msg(`${r.path}: ${thousands(r.weights)} weights → ${r.clusters} centroids + ${indexBits(r.clusters)}-bit indices${pruned}: ${(r.bitsBefore / r.bitsAfter).toFixed(1)}× smaller`);
  }
  const clustered = evaluate();
  msg(`after clustering: accuracy ${percent(clustered.accuracy)}, loss ${clustered.loss.toFixed(4)}`);

  let finetuned = clustered;
  if (f.finetuneEpochs > 0) {
    finetuned = await fineTune(f.finetuneEpochs, f.lr, 'fine-tuning the centroids');
    msg(`after fine-tuning: accuracy ${percent(finetuned.accuracy)}, loss ${finetuned.loss.toFixed(4)}`);
  }
  const size1 = sizes(model);
  const ratio = size0.float32Bits / size1.bits;
  msg(`size: ${thousands(size0.bits)} bits (${kib(size0.bits / 8)} KiB) → ${thousands(size1.bits)} bits (${kib(size1.bits / 8)} KiB): ` +
    `${ratio.toFixed(1)}× smaller than float32 before entropy coding`);

  const out = f.out ?? file.replace(/(\.wsm)?$/, '-compressed.wsm');
  const settings = {
    clusters: f.clusters, convClusters, prune: f.prune, convPrune, pruneFinetuneEpochs: f.pruneFinetuneEpochs, pruneLr, init: f.init, layers: f.layers,
    finetuneEpochs: f.finetuneEpochs, lr: f.lr, seed: f.seed, from: file,
  };
  // The compressed model is for shipping: its optimizer state (the fine-tuning's Adam slots) is not kept.
  const fileBytes = saveModel(out, model, { training: t ? { ...t, compress: settings } : undefined, initSeed: meta.initSeed, withOptimizer: false });
  const fileRatio = size0.float32Bits / 8 / fileBytes;
  msg(`Saved ${out}: ${kib(fileBytes)} KiB on disk, ${fileRatio.toFixed(1)}× smaller than the float32 weights (${kib(size0.float32Bits / 8)} KiB)`);
  if (f.json) {
    io.out.write(JSON.stringify({
      model: file, out, dataset: ds.name, testSamples: nTest, settings, layers: report,
      before, ...(staged ? { pruning: { layers: pruneReport, pruned: prunedAcc, retrained, bits: prunedBits, ratio: size0.float32Bits / prunedBits! } } : {}),
      clustered, finetuned, bits: { float32: size0.float32Bits, before: size0.bits, after: size1.bits }, ratio, fileBytes, fileRatio,
    }, null, 2) + '\n');
  }
  return 0;
}
