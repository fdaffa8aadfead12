// `weightshare export`: a saved model as an ONNX file (io/onnx) or a TF.js layers model (io/tfjs); sizes printed beside the .wsm file's.
import { existsSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, saveTfjs, writeFileAtomic, WriteError } from '../io/files.js';
import { exportOnnx, ONNX_OPSET } from '../io/onnx/index.js';
import { exportTfjs, type TfjsExport } from '../io/tfjs/index.js';
import { defineCommand, type ParsedArgs, UsageError } from './args.js';
import { CliError, COMMON_FLAGS, holdingOutputs, type Io, LOAD_FLAGS, loadOptions, refuseInputAsOutput, WRITE_FLAGS } from './common.js';

export const exportSpec = defineCommand({
  name: 'export',
  summary: 'Write a saved model for another runtime: ONNX (opset 17, codebooks, hashing, low rank and tied weights kept compact) or a TF.js layers model',
  description:
    'ONNX: the graph takes NHWC inputs [N, H, W, C] like the model (Conv and pooling run on NCHW inside) and names its output after\n' +
    'the output layer. Each weight map is written once: plain weights as initializers, a tied weight as the same initializer (a\n' +
    'Transpose when transposed), a codebook as Gather(centroids, Cast(uint8 codes)) (pruned ones as gaps and codes of the kept\n' +
    'weights, ScatterND into zeros), a hashed weight as one Gather from [θ, −θ], a low-rank Dense kernel as two MatMuls. Other maps\n' +
    'are written as their dense W with a note. --materialize writes every weight dense (float32). Runtimes fold these weight\n' +
    'subgraphs once at load. The file is written atomically; nothing is written when a layer cannot be exported.\n' +
    'TF.js (--format tfjs): --out is a folder that gets model.json and group1-shard1of1.bin, what tf.loadLayersModel reads\n' +
    '(Keras JSON as tfjs-layers 4.22 saves it). TF.js stores dense tensors only: a shared weight needs --materialize, which writes\n' +
    'its W; --quantize uint8|uint16 stores each tensor affinely (w = q·scale + min, error ≤ scale/2 = range/510 for uint8) and\n' +
    'float16 halves (relative error ≤ 2^-11). A codebook-compressed model with --materialize --quantize uint8 is the compact form.\n' +
    'The weight file is written first, model.json last, each atomically.',
  positionals: [{ name: 'model', required: true, description: 'Model file written by `weightshare train`, `compress` or `import`' }],
  flags: {
    format: { type: 'string', default: 'onnx', choices: ['onnx', 'tfjs'], description: 'Output format' },
    out: { type: 'string', short: 'o', metavar: 'path', description: 'Output file (ONNX, default <model>.onnx) or folder (TF.js, default <model>-tfjs); a symbolic link is followed' },
    ...WRITE_FLAGS,
    materialize: { type: 'boolean', description: 'Write every weight as its dense float32 W instead of the compact form of its map (TF.js: needed for shared weights)' },
    quantize: { type: 'string', choices: ['uint8', 'uint16', 'float16'], description: 'TF.js only: store the weights quantised (affine per tensor, or float16)' },
    ...LOAD_FLAGS,
    json: COMMON_FLAGS.json,
    verbose: COMMON_FLAGS.verbose,
  },
  examples: [
    'weightshare export lenet-300-100-dc.wsm --format onnx --out lenet-300-100-dc.onnx',
    'weightshare export seed-cnn.wsm --materialize --out seed-cnn-dense.onnx',
    'weightshare export lenet-300-100-dc.wsm --format tfjs --materialize --quantize uint8 --out web/lenet',
  ],
});

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * Runs `weightshare export`: loads the model, calls {@link exportOnnx} or {@link exportTfjs}, writes the output
 * atomically (holding a lock on it) and prints its size beside the model file's; returns the exit code.
 */
export function exportCommand(a: ParsedArgs<typeof exportSpec>, io: Io): Promise<number> {
  if (a.flags.quantize && a.flags.format !== 'tfjs') throw new UsageError('--quantize is for --format tfjs (ONNX keeps float32 weights and the compact maps)', 'export');
  const tfjs = a.flags.format === 'tfjs';
  const out = a.flags.out ?? a.positionals.model.replace(/(\.wsm)?$/, tfjs ? '-tfjs' : '.onnx');
  const newFolder = tfjs && !existsSync(out);
  return holdingOutputs(a.flags.force, (hold) => runExport(a, io, hold, out, tfjs)).catch((e: unknown) => {
    // A TF.js folder this run made (to hold its lock) is removed again when nothing was written into it.
    if (newFolder) try { rmdirSync(out); } catch { /* not empty, or gone */ }
    throw e;
  });
}

function runExport(a: ParsedArgs<typeof exportSpec>, io: Io, hold: (path: string) => void, out: string, tfjs: boolean): number {
  const f = a.flags;
  const file = a.positionals.model;
  refuseInputAsOutput(out, [['model', file]], 'export');
  if (tfjs) {
    // A TF.js export is a folder: an existing one (an earlier export) gets its files replaced; a file there is refused.
    if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out}: a TF.js export is a folder (model.json and its weight files), and ${out} is a file`, 'export');
    hold(join(out, 'model.json'));
  } else hold(out);
  const { model } = loadModel(file, loadOptions(f));
  const notes: string[] = [];
  const t0 = performance.now();
  let result: Uint8Array | TfjsExport;
  try {
    result = tfjs ? exportTfjs(model, { materialize: f.materialize, quantize: f.quantize, onNote: (s) => notes.push(s) })
      : exportOnnx(model, { materialize: f.materialize, onNote: (s) => notes.push(s) });
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const s of notes) io.err.write(`note: ${s}\n`);
  let written: { files: string[]; bytes: number };
  try {
    written = result instanceof Uint8Array ? (writeFileAtomic(out, result, { force: f.force }), { files: [out], bytes: result.length }) : saveTfjs(out, result, { force: f.force });
  } catch (e) {
    if (e instanceof WriteError) throw e;
    throw new CliError(`${out}: cannot write: ${(e as Error).message}`);
  }
  const wsm = statSync(file).size;
  const bytes = written.bytes;
  const sizes = `${kib(bytes)} (${file}: ${kib(wsm)}, ${(bytes / wsm).toFixed(2)}×) in ${seconds.toFixed(2)} s`;
  if (result instanceof Uint8Array) io.err.write(`Saved ${out}: ONNX opset ${ONNX_OPSET}, ${sizes}\n`);
  else {
    const weights = f.quantize ? `${f.quantize} weights (max error ${result.maxQuantizationError.toPrecision(3)})` : 'float32 weights';
    io.err.write(`Saved ${join(out, 'model.json')} + ${written.files.length - 1} weight file${written.files.length > 2 ? 's' : ''}: TF.js layers model, ${weights}, ${sizes}\n`);
  }
  if (f.json) {
    const extra = result instanceof Uint8Array ? { opset: ONNX_OPSET } : { files: written.files, quantize: f.quantize ?? null, maxQuantizationError: result.maxQuantizationError };
    io.out.write(JSON.stringify({ model: file, out, format: f.format, ...extra, bytes, modelBytes: wsm, ratio: bytes / wsm, seconds, notes }, null, 2) + '\n');
  }
  return 0;
}
