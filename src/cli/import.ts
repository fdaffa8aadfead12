// `weightshare import`: a model from another framework (a TF.js layers model or Keras topology, .json; an ONNX file, .onnx) saved as a .wsm file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, basename, join } from 'node:path';
import type { Dataset } from '../data/index.js';
import { loadTfjs, saveModel } from '../io/files.js';
import { readRegularFile } from '../io/read-file.js';
import { importOnnx } from '../io/onnx/index.js';
import type { TfjsImport } from '../io/tfjs/index.js';
import type { TrainingState } from '../io/training-state.js';
import type { LoadOptions } from '../io/limits.js';
import { thousands } from '../nn/summary.js';
import { defineCommand, type ParsedArgs } from './args.js';
import { checkDataFlag, checkFits, CliError, COMMON_FLAGS, IMAGE_DATA_FLAGS, holdingOutputs, type Io, LOAD_FLAGS, loadOptions, readDataset, refuseInputAsOutput, WRITE_FLAGS } from './common.js';

export const importSpec = defineCommand({
  name: 'import',
  summary: 'Read a model trained elsewhere (a TF.js layers model.json, a Keras model topology, or an ONNX file) and save it as a .wsm file',
  description:
    'A .json file is read as TF.js writes it (tfjs-layers\' model.save, tensorflowjs_converter --output_format tfjs_layers_model):\n' +
    'model.json with its weight files beside it (as its weightsManifest names them), quantised weights (uint8, uint16, float16)\n' +
    'dequantised to float32; Keras 2 and Keras 3 topologies (Sequential, Model, Functional) are read too, a bare topology with its\n' +
    'weights initialised. Layers: Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout, Activation, Add, Subtract,\n' +
    'Multiply, Average, Concatenate, LayerNormalization, Embedding, SimpleRNN, LSTM, GRU, Bidirectional; others are listed in one\n' +
    'error. A .onnx file (from our export, PyTorch\'s torch.onnx.export or another exporter; opsets 9–21) is read by importOnnx: an\n' +
    'NCHW image input becomes NHWC [H, W, C] (feed images channels-last), our own compact maps come back as maps, unsupported ops\n' +
    'are listed in one error (see README, "Import from ONNX"). The saved model is bound to a dataset so that `eval` and `compress` find their data: --dataset, or mnist-sample for a\n' +
    'model taking [28, 28, 1] images or [784] vectors, which then get a Flatten from [28, 28, 1] in front.',
  positionals: [{ name: 'file', required: true, description: 'The model to read: model.json (TF.js layers model or Keras topology) or model.onnx' }],
  flags: {
    out: { type: 'string', short: 'o', metavar: 'file', description: 'Model file to write (default: <folder>.wsm for …/model.json, else <file>.wsm); a symbolic link is followed' },
    ...WRITE_FLAGS,
    dataset: { ...IMAGE_DATA_FLAGS.dataset, default: undefined, description: 'The image dataset `eval` and `compress` use with it (default: mnist-sample for [28, 28, 1] or [784] inputs, else none)' },
    data: IMAGE_DATA_FLAGS.data,
    ...LOAD_FLAGS,
    json: COMMON_FLAGS.json,
    verbose: COMMON_FLAGS.verbose,
  },
  examples: [
    'weightshare import mnist-tfjs/model.json --out mnist.wsm',
    'weightshare import keras-cnn/model.json --dataset fashion-mnist --data ~/fashion --out cnn.wsm',
    'weightshare import torch-cnn.onnx --out torch-cnn.wsm',
  ],
});

/** What a reader gives: the model, each layer's class in the source format, the weights read, notes. */
type Imported = Pick<TfjsImport, 'model' | 'layers' | 'weights' | 'notes' | 'generatedBy' | 'convertedBy'>;

/** An ONNX file through importOnnx: the layers' classes are ours, the weights the model's own names. */
function readOnnx(file: string, inputShape: readonly number[] | undefined, o: LoadOptions): Imported {
  const bytes = readRegularFile(file, { error: (m) => new CliError(`${file}: ${m}`) });
  const { model, notes } = importOnnx(bytes, { file, inputShape, allowNonFinite: o.allowNonFinite });
  return {
    model, notes, generatedBy: 'ONNX',
    layers: new Map(model.layers.map((l) => [l.name, l.className])),
    weights: model.namedParameters().map((p) => p.name),
  };
}

/** The readers by file extension (lower case); `flattens`: the reader can put a Flatten in front of a [784] input. */
const IMPORTERS: Record<string, { what: string; flattens: boolean; read: (file: string, inputShape: readonly number[] | undefined, o: LoadOptions) => Imported }> = {
  '.json': { what: 'a TF.js layers model (model.json and its weight files) or a Keras model topology', flattens: true, read: (file, inputShape, o) => loadTfjs(file, { inputShape, allowNonFinite: o.allowNonFinite }) },
  '.onnx': { what: 'an ONNX model (opsets 9–21; NCHW image inputs become NHWC)', flattens: true, read: (file, inputShape, o) => readOnnx(file, inputShape, o) },
};

const MNIST_SHAPES = ['28,28,1', '784'];

/** The weight files a TF.js model.json names (none for another file, or one that does not parse: the reader says why). */
function tfjsWeightFiles(file: string, ext: string): string[] {
  if (ext !== '.json') return [];
  try {
    const groups = (JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest?: { paths?: unknown[] }[] })?.weightsManifest;
    if (!Array.isArray(groups)) return [];
    return groups.flatMap((g) => (Array.isArray(g?.paths) ? g.paths : [])).filter((p): p is string => typeof p === 'string').map((p) => join(dirname(file), p));
  } catch {
    return [];
  }
}

/** Runs `weightshare import`: reads the model, binds it to a dataset, saves it and prints what it read; returns the exit code. */
export function importCommand(a: ParsedArgs<typeof importSpec>, io: Io): Promise<number> {
  return holdingOutputs(a.flags.force, (hold) => runImport(a, io, hold));
}

function runImport(a: ParsedArgs<typeof importSpec>, io: Io, hold: (path: string) => void): number {
  const f = a.flags;
  const file = a.positionals.file;
  const ext = extname(file).toLowerCase();
  const importer = IMPORTERS[ext];
  if (!importer && existsSync(file) && statSync(file).isDirectory()) {
    throw new CliError(`${file}: is a folder; import reads ${Object.entries(IMPORTERS).map(([e, i]) => `${e} (${i.what})`).join(', ')}${existsSync(join(file, 'model.json')) ? `: give ${join(file, 'model.json')}` : ''}`);
  }
  if (!importer) {
    throw new CliError(`${file}: cannot import '${ext || basename(file)}' files; import reads ${Object.entries(IMPORTERS).map(([e, i]) => `${e} (${i.what})`).join(', ')}`);
  }
  const out = f.out ?? (basename(file) === 'model.json' && dirname(file) !== '.' ? `${dirname(file)}.wsm` : join(dirname(file), `${basename(file, extname(file))}.wsm`));
  refuseInputAsOutput(out, [['model', file], ...tfjsWeightFiles(file, ext).map((p) => ['weight', p] as const)], 'import');
  if (f.data !== undefined || f.dataset !== undefined) checkDataFlag(f.dataset ?? 'mnist-sample', f.data, 'import');
  hold(out);
  const ds: Dataset | undefined = f.dataset ? readDataset(f.dataset, f.data, 1, 1) : undefined;
  const t0 = performance.now();
  let r: Imported;
  try {
    r = importer.read(file, ds?.shape, loadOptions(f));
  } catch (e) {
    throw new CliError((e as Error).message.startsWith(file) ? (e as Error).message : `${file}: ${(e as Error).message}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const m = r.model;
  let bound = ds;
  if (!bound && MNIST_SHAPES.includes(m.inputShape.join(','))) {
    // An MNIST-shaped model: bound to the built-in digits; a [784] input gets its Flatten from [28, 28, 1].
    bound = readDataset('mnist-sample', undefined, 1, 1);
    if (m.inputShape.length === 1 && importer.flattens) {
      m.dispose();
      r = importer.read(file, bound.shape, loadOptions(f));
      r.notes.push(`the [784] input gets a Flatten from [28, 28, 1] in front, so that ${bound.name}'s images fit`);
    }
  }
  const model = r.model;
  if (bound) {
    try {
      checkFits(model, bound);
    } catch (e) {
      if (f.dataset) throw new CliError(`${file}: ${(e as Error).message}`);
      r.notes.push(`not bound to ${bound.name}: ${(e as Error).message}; give --dataset for eval and compress`);
      bound = undefined;
    }
  }
  const training: TrainingState | undefined = bound && {
    epoch: 0, epochs: 0, batchSize: 32, seed: 0, model: `imported from ${file}`, dataset: bound.name, ...(f.dataset && f.data ? { dataDir: f.data } : {}),
    history: { epoch: [], history: {} },
  };
  const bytes = saveModel(out, model, { training, force: f.force });
  for (const s of r.notes) io.err.write(`note: ${s}\n`);
  const classes = [...r.layers.values()];
  const counts = [...new Set(classes)].map((c) => `${classes.filter((x) => x === c).length} ${c}`).join(', ');
  const source = [r.generatedBy, r.convertedBy].filter(Boolean).join(', ') || 'no generatedBy';
  io.err.write(`Read ${file} (${source}): ${model.className} '${model.name}', ${classes.length} layers (${counts}), ${thousands(model.countParams())} parameters in ${r.weights.length} weights, input [${model.inputShape.join(', ')}]${model.inputs[0].dtype === 'int32' ? ' int32' : ''} in ${seconds.toFixed(2)} s\n`);
  io.err.write(`Saved ${out}: ${(bytes / 1024).toFixed(1)} KiB, ${bound ? `dataset ${bound.name} (eval and compress use it)` : model.inputs.some((t) => t.dtype === 'int32')
    ? `no dataset (token ids in: ${ext === '.onnx' ? 'ONNX' : 'a TF.js model'} keeps no vocabulary, so eval, compress and generate, which read text through the tokenizer of a \`weightshare train\` file, cannot use it)`
    : 'no dataset (give --dataset to eval and compress)'}\n`);
  if (f.json) {
    io.out.write(JSON.stringify({
      file, out, bytes, name: model.name, className: model.className, layers: Object.fromEntries(r.layers), parameters: model.countParams(),
      weights: r.weights, inputShape: model.inputShape, outputShape: model.outputShape, dataset: bound?.name ?? null, notes: r.notes, seconds,
    }, null, 2) + '\n');
  }
  model.dispose();
  return 0;
}
