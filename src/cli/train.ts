// `weightshare train`: the reference experiment by default; progress on stderr, per-epoch checkpoints, resume, Ctrl-C and NaN handling.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { getBackend } from '../core/engine.js';
import { loadCheckpoint, saveModel } from '../io/files.js';
import { modelFromCheckpoint, type TrainingState } from '../io/model-file.js';
import { EarlyStopping } from '../nn/callbacks.js';
import { METRICS } from '../nn/metrics.js';
import { Conv2D } from '../nn/layers/conv2d.js';
import { type Model, modelFromConfig } from '../nn/model.js';
import { thousands } from '../nn/summary.js';
import { evaluationBatchSize } from '../nn/eval-batch.js';
import { type History, NonFiniteLossError } from '../nn/training.js';
import { isShareable, SHAREABLE_ROLES } from '../nn/weight-role.js';
import { createModel, MODEL_DESCRIPTIONS, MODEL_NAMES } from '../nn/zoo.js';
import type { ShareLayers } from '../nn/transformer.js';
import { createTextModel, TEXT_MODEL_DESCRIPTIONS, TEXT_MODEL_NAMES, textModelKind } from '../nn/zoo-text.js';
import { GPT_DEFAULTS } from '../nn/zoo-gpt.js';
import { gib } from '../core/errors.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../optim/index.js';
import { parseMapSpec, SharingError } from '../sharing/registry.js';
import { TiedMap } from '../sharing/tied.js';
import { applyKernelRegularizer } from './regularize.js';
import { camelCase, defineCommand, type ParsedArgs, UsageError } from './args.js';
import { type Dataset, sampleCount, splitData } from '../data/dataset.js';
import { applyThreads, checkDataFlag, checkFits, checkModelSize, CliError, COMMON_FLAGS, DATA_FLAGS, dataFingerprint, holdingOutputs, type Io, LOAD_FLAGS, loadOptions, percent, readDataset, refuseInputAsOutput, requireSamples, signalStatus, TEXT_CLI_DATASETS, warnIfDataChanged, WRITE_FLAGS } from './common.js';
import { ProgressLogger } from '../nn/progress.js';
import { defaultTextMetrics, depthSharingNote, isTextDataset, loadTextForCli, type TextRecord, timeSharingNote } from './text.js';

export const trainSpec = defineCommand({
  name: 'train',
  summary: 'Train a model (default: the Keras MNIST CNN, Adam, batch 32, 10 epochs on mnist-sample)',
  description:
    'Trains, evaluates on the test set and saves the model (config, weights, optimizer state) after every epoch.\n' +
    `Image models: ${MODEL_NAMES.map((n) => `${n} (${MODEL_DESCRIPTIONS[n]})`).join('; ')}.\n` +
    `Text models (--dataset sotu, text --data FILE; classifiers spam-assassin): ${TEXT_MODEL_NAMES.map((n) => `${n} (${TEXT_MODEL_DESCRIPTIONS[n]})`).join('; ')}.`,
  flags: {
    model: { type: 'string', default: 'seed-cnn', description: `Architecture: ${MODEL_NAMES.join(', ')}, or mlp:H1,H2,… (hidden sizes); text: ${TEXT_MODEL_NAMES.join(', ')}` },
    l1: { type: 'number', min: 0, description: 'Keras kernel regularizer: adds l1·Σ|w| over every kernel to the loss (e.g. 1e-5)' },
    l2: { type: 'number', min: 0, description: 'Keras kernel regularizer: adds l2·Σw² over every kernel to the loss (e.g. 1e-4)' },
    sharing: { type: 'string', metavar: 'spec', description: "How weights are shared: one scheme for every kernel-like weight (roles kernel, recurrentKernel, embedding) ('hashed:1/8', 'lowRank:16', 'randomMask:1/8', 'codebook:16'), or per layer 'dense=hashed:1/64,dense_1=lowRank:4' ('layer/bias=…' for other weights)" },
    ...DATA_FLAGS,
    embed: { type: 'int', min: 1, description: 'Text models: embedding size (default 128 for char-, 256 for word-, 64 for text- models)' },
    hidden: { type: 'int', min: 1, description: 'Text models: recurrent units (default 256; 64 for text- models)' },
    layers: { type: 'int', min: 1, description: 'Text models: stacked recurrent layers (default 1), or transformer blocks (gpt: default 4)' },
    dropout: { type: 'number', min: 0, max: 0.95, description: 'Text models: dropout after the embedding and after each recurrent layer or block (default 0)' },
    tied: { type: 'boolean', description: 'Language models: the output projection\'s kernel is the embedding table transposed (one θ; needs --embed = --hidden)' },
    bptt: { type: 'int', min: 1, description: 'Recurrent language models: tokens per training window (default 64)' },
    dim: { type: 'int', min: 1, description: 'gpt models: model width (default 128)' },
    heads: { type: 'int', min: 1, description: 'gpt models: attention heads; they must divide --dim (default 4)' },
    context: { type: 'int', min: 1, description: 'gpt models: tokens per training window, the longest context it reads (default 64)' },
    'share-layers': { type: 'string', choices: ['none', 'attention', 'ffn', 'all'], description: 'gpt models: share the blocks across depth (ALBERT): none (default), attention, ffn or all' },
    'factorized-embedding': { type: 'int', min: 1, metavar: 'E', description: 'gpt models: ALBERT\'s factorised embedding, a table [V, E] projected to --dim, E < --dim (default: a table [V, dim])' },
    'max-vocab': { type: 'int', min: 4, description: 'Text: vocabulary cap incl. <pad>, <unk> (and <eos>) (default: 10,000 words; every character)' },
    'max-len': { type: 'int', min: 1, description: 'Classifiers: tokens per text, padded or cut (default 200)' },
    clipnorm: { type: 'number', min: 0, max: 3.4e38, description: 'Clip the gradients to this global L2 norm (Keras global_clipnorm; default: no clipping, 1 for text models; 0: no clipping)' },
    'lr-schedule': { type: 'string', default: 'constant', choices: ['constant', 'cosine'], description: 'Learning rate over the run: constant, or cosine decay to 0 over all epochs (after --warmup-steps)' },
    'warmup-steps': { type: 'int', default: 0, min: 0, description: 'With --lr-schedule cosine: updates of linear warm-up from 0 to --lr' },
    epochs: { type: 'int', default: 10, min: 1, description: 'Epochs to train (with --resume: the total, counting those done)' },
    'batch-size': { type: 'int', default: 32, min: 1, description: 'Samples per batch' },
    lr: { type: 'number', above: 0, description: 'Learning rate (default: the optimizer\'s Keras default, 0.001 for Adam, 0.01 for SGD)' },
    optimizer: { type: 'string', default: 'adam', choices: ['adam', 'adamw', 'sgd'], description: 'Optimizer' },
    momentum: { type: 'number', min: 0, description: 'SGD momentum (default 0)' },
    seed: { type: 'int', default: 0, description: 'Seed of the initial weights, shuffling and dropout' },
    'validation-split': { type: 'number', default: 0, min: 0, max: 0.99, description: 'Fraction of the training set (its end) held out for validation each epoch' },
    'early-stopping': { type: 'int', min: 0, metavar: 'patience', description: 'Stop when val_loss has not improved for this many epochs (Keras EarlyStopping; needs --validation-split, except on a text dataset: it watches its validation split)' },
    'restore-best': { type: 'boolean', description: 'With --early-stopping: when it stops, go back to the weights of the epoch with the lowest val_loss' },
    metrics: { type: 'list', default: ['accuracy'], description: `Metrics in the logs and --json (each also as val_…): ${METRICS.filter((m) => m !== 'top_k_categorical_accuracy').join(', ')}, top_k_accuracy (k 5)` },
    limit: { type: 'int', min: 1, description: 'Train on the first N training samples only' },
    'test-limit': { type: 'int', min: 1, description: 'Evaluate on the first N test samples only' },
    out: { type: 'string', short: 'o', metavar: 'file', description: 'Model file written after every epoch (default: <model>-<dataset>.wsm; with --resume, that file); locked while the run lasts, a symbolic link is followed' },
    ...WRITE_FLAGS,
    resume: { type: 'string', metavar: 'file', description: 'Continue a run from its model file (weights, optimizer state, position, and every setting that shapes the run)' },
    ...LOAD_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'weightshare train',
    'weightshare train --model lenet5 --dataset fashion-mnist --epochs 5 --out lenet5.wsm',
    'weightshare train --resume seed-cnn-mnist-sample.wsm',
    'weightshare train --model mlp --epochs 1 --json > run.json',
    'weightshare train --model mlp:1000 --sharing hashed:1/64',
    'weightshare train --validation-split 0.1 --early-stopping 2 --restore-best',
    'weightshare train --sharing conv2d_1=lowRank:8,dense=hashed:1/8',
    'weightshare train --model mlp:64 --dataset idx --data ./my-idx-folder --metrics accuracy,top_k_accuracy,perplexity --json',
    'weightshare train --model char-lstm --dataset sotu --epochs 1 --out char-lstm.wsm',
    'weightshare train --model word-lstm --tied --lr-schedule cosine --epochs 4',
    'weightshare train --model char-lstm --dataset text --data my-book.txt --hidden 512',
    'weightshare train --model text-gru --dataset spam-assassin --epochs 3',
    'weightshare train --model gpt --dataset sotu --share-layers all --epochs 1 --out gpt.wsm',
    'weightshare train --model word-gpt --factorized-embedding 32 --tied --max-vocab 5000',
  ],
});

/**
 * Applies a --sharing spec to an unbuilt model: a scheme for every weight whose role is shareable (kernels, recurrent
 * kernels, embeddings), or `layer=scheme,…` (that layer's shareable weights) / `layer/weight=scheme,…`. The weights and
 * their roles are read from a throwaway build of a copy; unknown layers or weights fail before the model is built.
 */
export function applySharing(model: Model, spec: string): void {
  const parts = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const eq = parts[0]?.indexOf('=') ?? -1;
  const perLayer = eq > 0 && !parts[0].slice(0, eq).includes(':');
  if (!perLayer && parts.length !== 1) throw new UsageError(`--sharing: give one scheme for the whole model or layer=scheme pairs, got '${spec}'`, 'train');
  const probe = modelFromConfig(model.toJSON()).build();
  // By path: 'dense/kernel', or 'block/dense/kernel' for a sublayer's weight (its layer is 'block/dense'). A weight tied
  // to another (--tied: the decoder's kernel is the embedding table transposed) follows that weight's map: `tiedTo`.
  const weights = probe.weights().map((w) => ({
    path: w.path, layer: w.path.slice(0, w.path.lastIndexOf('/')), name: w.name, shareable: isShareable(w.role),
    tiedTo: w.map instanceof TiedMap ? w.map.to : undefined,
  }));
  probe.dispose();
  const set = (w: { layer: string; name: string }, scheme: string): void => void (model.getLayer(w.layer).mapSpecs[w.name] = scheme);
  if (!perLayer) {
    parseMapSpec(parts[0]);
    for (const w of weights) if (w.shareable && w.tiedTo === undefined) set(w, parts[0]);
    return;
  }
  const withWeights = [...new Set(weights.map((w) => w.layer.split('/')[0]))];
  const given = new Map<string, string>(); // weight path → the pair that set it
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--sharing: expected layer=scheme, got '${p}'`, 'train');
    const key = p.slice(0, i);
    const exact = weights.filter((w) => w.path === key);
    const own = weights.filter((w) => w.path.startsWith(`${key}/`));
    const top = key.split('/')[0];
    const layer = model.layers.find((l) => l.name === top);
    if (!layer) throw new UsageError(`--sharing: unknown layer '${top}' (layers with weights: ${withWeights.join(', ')})`, 'train');
    if (!exact.length && !own.length) {
      const under = weights.filter((w) => w.path.startsWith(`${key.slice(0, key.lastIndexOf('/'))}/`));
      throw new UsageError(key.includes('/') && under.length
        ? `--sharing: no weight '${key}' (weights there: ${under.map((w) => w.path).join(', ')})`
        : `--sharing: layer '${key}' (${layer.className}) has no weights`, 'train');
    }
    const picked = exact.length ? exact : own.filter((w) => w.shareable);
    if (!picked.length) {
      throw new UsageError(`--sharing: layer '${key}' has no shareable weight (roles ${SHAREABLE_ROLES.join(', ')}); name one: ${own.map((w) => w.path).join(', ')}`, 'train');
    }
    parseMapSpec(p.slice(i + 1));
    for (const w of picked) {
      const to = w.tiedTo;
      if (to !== undefined) {
        throw new UsageError(`--sharing ${p}: ${w.path} is tied to ${to} (--tied), so it is shared as that weight is; share ${to.split('/')[0]} instead (--sharing ${to.split('/')[0]}=${p.slice(i + 1)}), or drop --tied`, 'train');
      }
      const before = given.get(w.path);
      if (before !== undefined) throw new UsageError(`--sharing: ${w.path} is given two schemes ('${before}' and '${p}'); give each weight one`, 'train');
      given.set(w.path, p);
      set(w, p.slice(i + 1));
    }
  }
}

/** A Conv2D layer's parameters as a plain convolution (its kernel and bias without maps). */
function plainConvParams(l: Conv2D): number {
  return l.kernelSize[0] * l.kernelSize[1] * l.inputShape![2] * l.filters + (l.useBias ? l.filters : 0);
}

/** Parameter count of a model with every Conv2D replaced by a LocallyConnected2D of the same geometry (no sharing across positions). */
export function unsharedParamCount(m: Model): number {
  let total = 0;
  for (const l of m.layers) {
    if (l instanceof Conv2D && l.inputShape) {
      const [oh, ow] = l.outputShape(l.inputShape);
      total += oh * ow * plainConvParams(l);
    } else total += l.countParams();
  }
  return total;
}

/** Prefix of early stopping's kept best weights in a model file (ignored when the file is loaded as a model). */
const BEST = 'best/';

/**
 * The peak memory of a transformer's training step, fitted to measurements of gpt steps (4 layers, batch 32, 4 heads,
 * dim 16–256, context 256–1024: within 10 %): per layer ~49 floats per token and unit of the width (the activations kept
 * for the backward pass — the feed-forward's 4·dim hidden values, their GELU and its slope among them — and the
 * gradients beside them) plus its attention probabilities [batch, heads, context, context], about once while the fused
 * kernel runs (rows that fit its per-thread scratch: contexts up to ~1000 at head size 32), over twice beyond; and the
 * output scores over the vocabulary (3 copies). Measured with scripts/transformer-memory.mjs.
 */
function transformerTrainingBytes(context: number, batch: number, heads: number, dim: number, layers: number, vocab: number): number {
  const d = Math.max(1, Math.floor(dim / heads));
  const operand = { offset: 0, step: 0, sample: 0 };
  const fused = getBackend().fusedAttention({ n: batch, heads, tq: context, tv: context, dk: d, dv: d, scale: 1, causal: true, layout: [operand, operand, operand] });
  const tokens = batch * context;
  return 4 * (layers * tokens * (50 * dim + (fused ? 1 : 2.5) * heads * context) + 3 * tokens * vocab);
}

/** Most of the engine's 4 GiB a transformer's training step may take (the fit above): the rest holds the weights, the optimizer's slots and the data. */
const TRANSFORMER_TRAINING_BUDGET = 3.6 * 2 ** 30;

/**
 * Refuses a transformer whose training step cannot fit in the engine's memory (see transformerTrainingBytes): a usage
 * error naming --context and --batch-size and the longest context that fits, instead of the engine running out of
 * memory at the first batch.
 */
function checkTransformerMemory(context: number, batch: number, heads: number, dim: number, layers: number, vocab: number): void {
  const bytes = transformerTrainingBytes(context, batch, heads, dim, layers, vocab);
  if (bytes <= TRANSFORMER_TRAINING_BUDGET) return;
  let lo = 0, hi = context; // the longest context that fits: the estimate grows with the context
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (transformerTrainingBytes(mid, batch, heads, dim, layers, vocab) <= TRANSFORMER_TRAINING_BUDGET) lo = mid;
    else hi = mid;
  }
  const probs = layers * batch * heads * context * context * 4;
  const hint = lo > 0 ? `a shorter --context (at most ${lo} at this batch), a smaller --batch-size or --dim` : 'a smaller --batch-size or --dim';
  throw new UsageError(`--context ${context} with --batch-size ${batch}: a training step would need about ${gib(bytes, true)} (the attention probabilities alone: ${layers} layer${layers === 1 ? '' : 's'} × ${batch} × ${heads} head${heads === 1 ? '' : 's'} × ${context}² × 4 bytes = ${gib(probs, true)}; each layer's activations besides), more than fits in the engine's 4 GiB of memory (about 3.6 GiB for the step: the weights, optimizer state and data need the rest); give ${hint}`, 'train');
}

/** ' (2 threads)' for the wasm engine, '' for others. */
function engineThreads(): string {
  const be = getBackend() as unknown as { threads?: number };
  return be.threads === undefined ? '' : ` (${be.threads} thread${be.threads === 1 ? '' : 's'})`;
}

/** Flags a resumed run takes from its model file; given with --resume they are ignored (with a note). */
const KEPT_ON_RESUME = [
  'model', 'sharing', 'l1', 'l2', 'dataset', 'batch-size', 'seed', 'optimizer', 'momentum', 'validation-split', 'limit', 'test-limit', 'early-stopping',
  'restore-best', 'metrics', 'embed', 'hidden', 'layers', 'dropout', 'tied', 'bptt', 'dim', 'heads', 'context', 'share-layers', 'factorized-embedding',
  'max-vocab', 'max-len', 'clipnorm', 'lr-schedule', 'warmup-steps',
] as const;

/** The default --out of a run: `<model>-<dataset>.wsm` (`mlp:64` → `mlp-64`). */
const defaultOut = (model: string, dataset: string | undefined): string => `${model.replace(/[:,/]/g, '-')}-${dataset}.wsm`;

/**
 * Runs `weightshare train`; returns the exit code. The output file is locked (common.ts holdingOutputs) from before the
 * data are read until the command returns, so an output that cannot be written, or that another run writes, fails at once.
 */
export function train(a: ParsedArgs<typeof trainSpec>, io: Io): Promise<number> {
  return holdingOutputs(a.flags.force, (hold) => runTrain(a, io, hold));
}

async function runTrain(a: ParsedArgs<typeof trainSpec>, io: Io, takeOut: (out: string) => void): Promise<number> {
  const f = a.flags;
  applyThreads(f.threads);
  let model: Model;
  let state: TrainingState;
  const given = (name: string): boolean => a.given.has(name);
  let bestWeights: Map<string, Float32Array> | undefined;
  let fresh: Dataset | undefined; // a new run's dataset, read first: the model is built for its shapes
  let tokenizer: Tokenizer | undefined; // a text run's, stored with the model
  let out: string;
  let epochsChanged = false; // a resumed run given another --epochs
  if (f.resume) {
    const contents = loadCheckpoint(f.resume, { lazy: true });
    const loaded = modelFromCheckpoint(contents, f.resume, loadOptions(f));
    model = loaded.model;
    tokenizer = loaded.tokenizer;
    const t = loaded.meta.training;
    if (!t || !model.optimizer) throw new CliError(`${f.resume}: has no training state to resume (it was not written by \`weightshare train\`)`);
    const es = t.earlyStopping;
    if (es?.state && es.state.stoppedEpoch >= 0) {
      throw new CliError(`${f.resume}: training stopped early after epoch ${es.state.stoppedEpoch + 1} (val_loss had not improved for ${es.patience} epoch${es.patience === 1 ? '' : 's'}); there is nothing to resume`);
    }
    if (es?.restoreBest) {
      // The best epoch's weights: each must be one of the model's weights, float32, of its size.
      const sizes = new Map([...model.getWeights()].map(([k, v]) => [k, v.length]));
      bestWeights = new Map();
      for (const [k, v] of contents.tensors) {
        if (!k.startsWith(BEST)) continue;
        const name = k.slice(BEST.length);
        if (v.dtype !== 'float32' || sizes.get(name) !== v.data.length) {
          throw new CliError(`${f.resume}: early stopping's tensor '${k}' (${v.dtype}, ${v.data.length} values) matches no weight of the model`);
        }
        bestWeights.set(name, v.data as Float32Array);
      }
    }
    state = { ...t, epochs: given('epochs') ? f.epochs : t.epochs };
    epochsChanged = state.epochs !== t.epochs;
    // --data says where the run's data is now (the same data: moved, or the run started in another folder).
    if (f.data !== undefined) {
      checkDataFlag(state.dataset ?? (state.text ? 'sotu' : 'mnist-sample'), f.data, 'train');
      state.dataDir = resolve(f.data);
    } else if (state.dataDir !== undefined && !existsSync(state.dataDir)) {
      throw new CliError(`${f.resume}: the run's data ${state.dataDir} is not there (moved, or a path relative to the folder the run started in): give its place with --data`);
    }
    if (given('lr') && f.lr !== undefined) {
      const s = model.optimizer.schedule;
      if (s?.name === 'cosine_decay' && s.warmupSteps) {
        // The warm-up rises from (almost) 0 to its target, --lr's place (as a new run sets it).
        model.optimizer.setSchedule({ ...s, warmupTarget: f.lr });
        model.optimizer.learningRate = f.lr * 1e-6;
      } else model.optimizer.learningRate = f.lr;
    }
    for (const k of KEPT_ON_RESUME) {
      if (given(k)) io.err.write(`note: --${k} is ignored with --resume (the run keeps its own settings)\n`);
    }
    out = f.out ?? f.resume;
    refuseInputAsOutput(out, [['--data', state.dataDir]], 'train');
    takeOut(out);
  } else {
    const noValidation = (): UsageError => new UsageError('--early-stopping watches val_loss: give --validation-split too (e.g. --validation-split 0.1)', 'train');
    // Early stopping without --validation-split needs the dataset's own validation split: a text dataset's (checked once it is read).
    const needsOwnValidation = f.earlyStopping !== undefined && !(f.validationSplit > 0);
    if (needsOwnValidation && !textModelKind(f.model)) throw noValidation();
    if (f.restoreBest && f.earlyStopping === undefined) throw new UsageError('--restore-best needs --early-stopping PATIENCE', 'train');
    const make = (o?: { inputShape: number[]; classes?: number }): ReturnType<typeof createModel> => {
      try {
        return createModel(f.model, o);
      } catch (e) {
        throw new UsageError(`--model: ${(e as Error).message}`, 'train');
      }
    };
    const kind = textModelKind(f.model);
    const gptOnly = ['dim', 'heads', 'context', 'share-layers', 'factorized-embedding'] as const;
    const textOnly = ['embed', 'hidden', 'layers', 'dropout', 'tied', 'bptt', 'max-vocab', 'max-len', ...gptOnly] as const;
    if (kind?.cell === 'transformer') {
      const instead: Record<string, string> = { embed: '--dim (or --factorized-embedding E)', hidden: '--dim', bptt: '--context' };
      for (const k of ['embed', 'hidden', 'bptt']) if (given(k)) throw new UsageError(`--${k} is for the recurrent text models; '${f.model}' takes ${instead[k]}`, 'train');
    } else if (kind) {
      for (const k of gptOnly) if (given(k)) throw new UsageError(`--${k} is for the transformer models (gpt, word-gpt), not '${f.model}'`, 'train');
    }
    if (!kind) {
      for (const k of textOnly) if (given(k)) throw new UsageError(`--${k} is for text models (${TEXT_MODEL_NAMES.join(', ')}), not '${f.model}'`, 'train');
      make(); // an unknown --model is a usage error before any data is read (the layers are not built: nothing to free)
      if (isTextDataset(f.dataset)) throw new UsageError(`--dataset ${f.dataset} is text: train a text model on it (--model ${TEXT_MODEL_NAMES.join(', ')})`, 'train');
    }
    let dataset = f.dataset;
    let text: TextRecord | undefined;
    // A text model given a file of its own trains on it; otherwise on the task's built-in corpus.
    if (kind && !given('dataset')) dataset = given('data') ? 'text' : kind.task === 'classifier' ? 'spam-assassin' : 'sotu';
    checkDataFlag(dataset, f.data, 'train');
    if (kind && !isTextDataset(dataset)) throw new UsageError(`--dataset ${dataset} is not text: '${f.model}' trains on ${TEXT_CLI_DATASETS.join(', ')} (text reads the UTF-8 file given with --data)`, 'train');
    if (dataset === 'text' && f.data === undefined) throw new UsageError('--dataset text reads your own UTF-8 text file: give it with --data FILE', 'train');
    out = f.out ?? defaultOut(f.model, dataset);
    refuseInputAsOutput(out, [['--data', f.data]], 'train');
    takeOut(out);
    if (kind) {
      text = { task: kind.task, level: kind.level, ...(kind.task === 'classifier' ? { maxLen: f.maxLen ?? 200 } : { bptt: f.context ?? f.bptt ?? 64 }), ...(f.maxVocab !== undefined ? { maxVocab: f.maxVocab } : {}) };
      if (kind.task === 'classifier' && given('bptt')) throw new UsageError(`--bptt is for language models; a classifier reads texts of --max-len tokens`, 'train');
      if (kind.task !== 'classifier' && given('max-len')) throw new UsageError(`--max-len is for classifiers; a language model reads windows of --bptt tokens`, 'train');
      // Before the corpus is read: a context whose training step cannot fit is a usage error, whatever the data.
      if (kind.cell === 'transformer') {
        // The vocabulary is known once the corpus is read; its cap (or a character set's usual size) bounds it before.
        const vocab = f.maxVocab ?? (kind.level === 'word' ? 10_000 : 256);
        checkTransformerMemory(text.bptt!, f.batchSize, f.heads ?? GPT_DEFAULTS.heads, f.dim ?? GPT_DEFAULTS.dim, f.layers ?? GPT_DEFAULTS.layers, vocab);
      }
      const loaded = loadTextForCli(dataset, f.data, text, { limit: f.limit, testLimit: f.testLimit });
      fresh = loaded.dataset;
      if (needsOwnValidation && !fresh.xValid) throw noValidation();
      tokenizer = loaded.tokenizer;
      try {
        model = createTextModel(f.model, {
          vocab: tokenizer.vocabSize, length: fresh.shape[0], ...(kind.task === 'classifier' ? { classes: fresh.classes } : {}), embed: f.embed, hidden: f.hidden, layers: f.layers, dropout: f.dropout, tied: f.tied,
          dim: f.dim, heads: f.heads, shareLayers: f.shareLayers as ShareLayers | undefined, factorizedEmbedding: f.factorizedEmbedding,
        });
      } catch (e) {
        throw new UsageError((e as Error).message, 'train');
      }
    } else {
      fresh = readDataset(f.dataset, f.data, f.limit, f.testLimit);
      model = make({ inputShape: fresh.shape, classes: fresh.classes });
    }
    // Before anything is allocated (applySharing builds a copy): a UsageError naming the flags that sized the model.
    const sizes = ['model', 'embed', 'hidden', 'layers', 'dim', 'heads', 'context', 'factorized-embedding', 'max-vocab']
      .filter((k) => k === 'model' || given(k)).map((k) => `--${k} ${String((f as Record<string, unknown>)[camelCase(k)])}`).join(' ');
    checkModelSize(model, 'train', sizes);
    if (f.sharing) applySharing(model, f.sharing);
    applyKernelRegularizer(model, f.l1, f.l2);
    try {
      model.build(f.seed);
    } catch (e) {
      // A scheme's options are checked as the maps are made: a bad --sharing value is a usage mistake (exit 2), named.
      if (f.sharing && e instanceof SharingError) throw new UsageError(`--sharing ${f.sharing}: ${e.message}`, 'train');
      throw e;
    }
    const updates = f.epochs * batchesPerEpoch(sampleCount(fresh, 'train'), f.validationSplit, f.batchSize);
    const clip = f.clipnorm ?? (kind ? 1 : undefined);
    const optConfig: OptimizerConfig = {
      name: f.optimizer, ...(f.lr !== undefined ? { learningRate: f.lr } : {}), ...(f.momentum !== undefined ? { momentum: f.momentum } : {}),
      ...(clip ? { globalClipnorm: clip } : {}),
      ...(f.lrSchedule === 'cosine' ? { schedule: { name: 'cosine_decay', decaySteps: Math.max(1, updates - f.warmupSteps), ...(f.warmupSteps > 0 ? { warmupSteps: f.warmupSteps } : {}) } } : {}),
    };
    if (f.warmupSteps > 0 && f.lrSchedule !== 'cosine') throw new UsageError('--warmup-steps needs --lr-schedule cosine', 'train');
    if (f.warmupSteps > 0 && f.warmupSteps >= updates) io.err.write(`warning: --warmup-steps ${f.warmupSteps} is not shorter than the run's ${updates} updates: the learning rate never reaches --lr (nor decays)\n`);
    if (f.lrSchedule === 'cosine' && f.warmupSteps > 0) {
      // Keras' warm-up goes from the base rate to warmupTarget: start at (almost) 0 and reach --lr.
      const target = f.lr ?? createOptimizer(f.optimizer).learningRate;
      optConfig.learningRate = target * 1e-6;
      (optConfig.schedule as { warmupTarget?: number }).warmupTarget = target;
    }
    const opt = createOptimizer(optConfig);
    if (f.metrics.includes('top_k_categorical_accuracy')) {
      throw new UsageError('--metrics top_k_categorical_accuracy compares with one-hot labels, but the command line\'s labels are class ids: use sparse_top_k_categorical_accuracy (or top_k_accuracy)', 'train');
    }
    try {
      model.compile({ optimizer: opt, loss: 'sparse_categorical_crossentropy', metrics: given('metrics') || !text ? f.metrics : defaultTextMetrics(text) });
    } catch (e) {
      throw new UsageError(`--metrics: ${(e as Error).message}`, 'train');
    }
    const dataHash = f.data === undefined ? undefined : dataFingerprint(f.data);
    state = {
      epoch: 0, step: 0, epochs: f.epochs, batchSize: f.batchSize, seed: f.seed, dataset, dataDir: f.data === undefined ? undefined : resolve(f.data),
      ...(dataHash ? { dataHash } : {}), ...(text ? { text } : {}),
      validationSplit: f.validationSplit || undefined, limit: f.limit, testLimit: f.testLimit, model: f.model, history: { epoch: [], history: {} },
      ...(f.earlyStopping !== undefined ? {
        earlyStopping: { patience: f.earlyStopping, restoreBest: f.restoreBest },
      } : {}),
    };
  }
  const esConfig = state.earlyStopping;
  const stopper = esConfig ? new EarlyStopping({ patience: esConfig.patience, restoreBestWeights: esConfig.restoreBest }) : undefined;
  if (stopper && esConfig?.state) stopper.setState(esConfig.state, bestWeights);
  const ds = fresh ?? (state.text
    ? loadTextForCli(state.dataset ?? 'sotu', state.dataDir, state.text, { limit: state.limit, testLimit: state.testLimit, tokenizer: needTokenizer(tokenizer, f.resume!) }).dataset
    : readDataset(state.dataset ?? 'mnist-sample', state.dataDir, state.limit, state.testLimit));
  // Once the data has loaded (a file turned into a folder or emptied is an error of its own, not a change to warn of).
  if (f.resume) warnIfDataChanged(io.err, state, state.dataDir, 'the resumed run will not continue the one it began', true);
  checkFits(model, ds);
  const nTrain = requireSamples(ds, 'train', 'train on'), nTest = requireSamples(ds, 'test', 'report the test loss on');
  const step0 = state.step ?? 0;
  if (state.epoch >= state.epochs) throw new CliError(`${f.resume}: already trained for ${state.epoch} of ${state.epochs} epochs; pass --epochs N with N > ${state.epoch} to continue`);
  if (epochsChanged) stretchCosine(model.optimizer!, state, nTrain, io.err);

  io.err.write(`${f.resume ? 'Resuming' : 'Training'} ${model.name} (${thousands(model.countParams())} parameters) on ${ds.name}: ${thousands(nTrain)} training samples, ` +
    `${state.epochs} epochs, batch ${state.batchSize}, ${model.optimizer!.name} lr ${describeRate(model.optimizer!.toJSON())}, seed ${state.seed}, ` +
    `${getBackend().name} engine${engineThreads()}` +
    (f.resume ? `; from epoch ${state.epoch + 1}${step0 ? `, batch ${step0 + 1}` : ''}` : '') + '\n');

  // Ctrl-C (SIGINT), or a polite stop (SIGTERM: `kill`, `timeout`, `docker stop`, a batch scheduler preempting the job):
  // stop after the current batch and save; a second signal exits at once. Exit status 128 + the signal's number.
  // The handlers stay until the command ends: a signal during the test evaluation after the last epoch (which runs
  // without yielding) is handled once it is done, instead of killing the process silently with its lock file left.
  let interrupted: 'SIGINT' | 'SIGTERM' | undefined;
  let trained = false;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM'): void => {
    if (interrupted) process.exit(signalStatus(sig));
    interrupted = sig;
    if (trained) {
      io.err.write(`\n${sig === 'SIGINT' ? 'interrupted' : 'SIGTERM'} after training had finished: ${out} holds the whole run (${state.epochs} epoch${state.epochs === 1 ? '' : 's'})\n`);
      return;
    }
    model.stopTraining = true;
    io.err.write(sig === 'SIGINT'
      ? '\ninterrupted: finishing this batch and saving a checkpoint (Ctrl-C again to quit without saving)\n'
      : '\nSIGTERM: finishing this batch and saving a checkpoint (a second SIGTERM quits without saving)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await trainAndReport();
  } finally {
    // A signal that came while the last synchronous work ran is dispatched now, before the handlers go.
    await new Promise((r) => setImmediate(r));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  async function trainAndReport(): Promise<number> {
    const history: History = state.history;
    const started = performance.now();
    // The bar and epoch lines, and the samples and training seconds of this run (validation passes excluded).
    const progress = new ProgressLogger({ stream: io.err });
    const trainingState = (epoch: number, step: number): TrainingState => ({
      ...state, epoch, step, history, partial: undefined,
      ...(stopper && esConfig ? { earlyStopping: { ...esConfig, state: stopper.getState() } } : {}),
    });
    /** Saves the run (with early stopping's best weights as `best/…` tensors when it keeps them). */
    const save = (training: TrainingState): void => {
      const best = stopper?.bestWeights();
      const extra = new Map([...best ?? []].map(([k, v]) => [BEST + k, { dtype: 'float32' as const, shape: [v.length], data: v }]));
      saveModel(out, model, { training, initSeed: state.seed, extra, tokenizer, force: f.force });
    };
    let fitHistory: History;
    let savedInRun = 0; // checkpoints this run has written to `out`
    try {
      const train = splitData(ds, 'train');
      // A text dataset brings its own validation split (unless the run asked for --validation-split).
      const valid = ds.xValid && !state.validationSplit ? splitData(ds, 'valid') : undefined;
      fitHistory = await model.fit(train.x, train.y, {
        epochs: state.epochs, batchSize: state.batchSize, seed: state.seed, validationSplit: state.validationSplit,
        ...(valid ? { validationData: [valid.x, valid.y] as [typeof valid.x, typeof valid.y] } : {}),
        initialEpoch: state.epoch, initialStep: step0, initialPartial: state.partial, shuffle: true,
        // Early stopping first, so that the checkpoint of each epoch holds its updated state.
        callbacks: [...(stopper ? [stopper] : []), progress, {
          onTrainBegin: ({ stepsPerEpoch }) => {
            state.stepsPerEpoch = stepsPerEpoch;
          },
          onEpochEnd: (epoch, logs) => {
            history.epoch.push(epoch);
            for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
            save(trainingState(epoch + 1, 0));
            savedInRun++;
          },
        }],
      });
    } catch (e) {
      if (e instanceof NonFiniteLossError) {
        progress.interrupt('');
        const kept = savedInRun > 0 ? `The last good checkpoint is ${out} (after epoch ${history.epoch.length})`
          : f.resume ? `The last good checkpoint is ${f.resume} (the one resumed from)`
          : 'No checkpoint was written (no epoch completed)';
        throw new CliError(`training stopped: ${e.message}. ${kept}`, 3);
      }
      throw e;
    }
    if (fitHistory.stopped) {
      progress.interrupt(`Epoch ${fitHistory.stopped.epoch + 1}/${state.epochs} interrupted after batch ${fitHistory.stopped.step}`);
      save({ ...trainingState(fitHistory.stopped.epoch, fitHistory.stopped.step), partial: fitHistory.stopped.partial });
      io.err.write(`saved checkpoint ${out} (epoch ${fitHistory.stopped.epoch + 1}, batch ${fitHistory.stopped.step}); continue with: weightshare train --resume ${out}\n`);
      return signalStatus(interrupted ?? 'SIGINT');
    }
    // A signal handled after an epoch's last batch stops fit between epochs: that epoch's checkpoint is already written.
    const epochsDone = history.epoch.length ? history.epoch[history.epoch.length - 1] + 1 : state.epoch;
    if (interrupted && !stopper?.stopped && epochsDone < state.epochs) {
      io.err.write(`Interrupted after epoch ${epochsDone}/${state.epochs}\n`);
      io.err.write(`saved checkpoint ${out} (after epoch ${epochsDone}); continue with: weightshare train --resume ${out}\n`);
      return signalStatus(interrupted);
    }
    const seconds = (performance.now() - started) / 1000;
    const es = stopper?.getState();
    if (stopper?.stopped && es) {
      io.err.write(`Early stopping: val_loss has not improved for ${esConfig!.patience} epoch${esConfig!.patience === 1 ? '' : 's'}; stopped after epoch ${es.stoppedEpoch + 1} of ${state.epochs}; ` +
        `best epoch ${es.bestEpoch + 1} (val_loss ${es.best!.toFixed(4)})${esConfig!.restoreBest ? ', whose weights are restored' : ''}\n`);
    }
    trained = true;
    const testData = splitData(ds, 'test');
    const test = model.evaluate(testData.x, testData.y, { batchSize: evaluationBatchSize(model, 256) });
    const shown = Object.entries(test).filter(([k]) => k !== 'loss').map(([k, v]) => ` - test ${k}: ${k.endsWith('accuracy') ? percent(v) : v.toFixed(4)}`);
    io.err.write(`Test loss: ${test.loss.toFixed(4)}${shown.join('')} on ${thousands(nTest)} test samples (${ds.name})\n`);
    io.err.write(`Saved ${out}\n`);
    const timeNote = state.text ? timeSharingNote(model, ds.shape[0]) : undefined;
    if (timeNote) io.err.write(`${timeNote}\n`);
    const depthNote = state.text ? depthSharingNote(model) : undefined;
    if (depthNote) io.err.write(`${depthNote}\n`);
    const hasConv = model.layers.some((l) => l instanceof Conv2D);
    const unshared = hasConv ? unsharedParamCount(model) : undefined;
    if (unshared !== undefined) {
      const n = model.countParams();
      // With --sharing on a Conv2D, part of the saving is its map's: convolution's own is against plain Conv2D kernels.
      const plain = n + model.layers.reduce((s, l) => s + (l instanceof Conv2D && l.inputShape ? plainConvParams(l) - l.countParams() : 0), 0);
      io.err.write(`Weight sharing: ${model.name} has ${thousands(n)} parameters; the same network without convolution's sharing ` +
        `(LocallyConnected2D in place of each Conv2D${model.name === 'seed-cnn' ? ', i.e. seed-cnn-local' : ''}) would have ${thousands(unshared)}: sharing saves ${thousands(unshared - n)} (${(unshared / n).toFixed(1)}× fewer)` +
        (plain !== n ? `: convolution's own sharing ${(unshared / plain).toFixed(1)}× (against ${thousands(plain)} with plain Conv2D kernels), the --sharing maps of Conv2D layers the rest` : '') + '\n');
    }
    const summary = {
      model: model.name, dataset: ds.name, parameters: model.countParams(), unsharedParameters: unshared,
      epochs: state.epochs, batchSize: state.batchSize, seed: state.seed, optimizer: model.optimizer!.toJSON(),
      trainSamples: nTrain, testSamples: nTest,
      seconds, samplesPerSec: progress.samples / Math.max(progress.trainSeconds, 1e-9),
      history: history.history, test, out,
      // Epochs counted from 1, as the lines above print them (the callback's state counts from 0, as Keras does).
      ...(es ? { earlyStopping: { ...es, bestEpoch: es.bestEpoch + 1, stoppedEpoch: es.stoppedEpoch + 1, restored: stopper!.stopped && esConfig!.restoreBest } } : {}),
    };
    if (f.json) io.out.write(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  }
}

/** Batches per epoch of `samples` training samples, a --validation-split's share held out as fit holds it out. */
function batchesPerEpoch(samples: number, validationSplit: number | undefined, batchSize: number): number {
  return Math.ceil((samples - Math.floor(samples * (validationSplit || 0))) / batchSize);
}

/**
 * --lr-schedule cosine decays to 0 over all the run's epochs: a run resumed with another --epochs gets its decay
 * stretched (or shrunk) to end with the new last epoch, as a new run of that length would have it. Kept as it was, a
 * longer run trained at rate 0 after the old end. Says so when the rate of the next update changes.
 */
function stretchCosine(opt: Optimizer, state: TrainingState, nTrain: number, err: Io['err']): void {
  const s = opt.schedule;
  if (s?.name !== 'cosine_decay') return;
  // The batches of an epoch as fit counted them, as a new run computes them.
  const perEpoch = state.stepsPerEpoch ?? batchesPerEpoch(nTrain, state.validationSplit, state.batchSize);
  const decaySteps = Math.max(1, state.epochs * perEpoch - (s.warmupSteps ?? 0));
  if (decaySteps === s.decaySteps) return;
  const before = opt.currentLearningRate();
  opt.setSchedule({ ...s, decaySteps });
  const rate = (r: number): string => (r === 0 ? '0' : String(Number(r.toPrecision(3))));
  err.write(`note: --epochs ${state.epochs}: the cosine schedule now decays over ${thousands(decaySteps)} updates (was ${thousands(s.decaySteps)}), ` +
    `so the learning rate at update ${thousands(opt.iterations + 1)} is ${rate(opt.currentLearningRate())} (was ${rate(before)})\n`);
}

/** The model file's tokenizer, which a text run cannot resume without. */
function needTokenizer(t: Tokenizer | undefined, file: string): Tokenizer {
  if (!t) throw new CliError(`${file}: a text run's model file must hold its tokenizer (the vocabulary), and this one has none`);
  return t;
}

/** '0.001', or '0.001 (cosine decay over 1,234 updates, 100 warm-up)' for a scheduled rate. */
export function describeRate(c: OptimizerConfig): string {
  const s = c.schedule;
  if (!s) return String(c.learningRate);
  if (s.name === 'cosine_decay') {
    return s.warmupSteps ? `${s.warmupTarget} (linear warm-up over ${thousands(s.warmupSteps)} updates, then cosine decay over ${thousands(s.decaySteps)})` : `${c.learningRate} (cosine decay over ${thousands(s.decaySteps)} updates)`;
  }
  return `${c.learningRate} (exponential decay ×${s.decayRate} every ${thousands(s.decaySteps)} updates)`;
}
