// `weightshare export`: a saved model as an ONNX file (io/onnx), sharing kept compact; sizes printed beside the .wsm file's.
import { statSync } from 'node:fs';
import { loadModel, writeFileAtomic, WriteError } from '../io/files.js';
import { exportOnnx, ONNX_OPSET } from '../io/onnx/index.js';
import { defineCommand, type ParsedArgs } from './args.js';
import { CliError, COMMON_FLAGS, holdingOutputs, type Io, WRITE_FLAGS } from './common.js';

export const exportSpec = defineCommand({
  name: 'export',
  summary: 'Write a saved model for another runtime: ONNX (opset 17), with codebooks, hashing, low rank and tied weights kept compact',
  description:
    'The ONNX graph takes NHWC inputs [N, H, W, C] like the model (Conv and pooling run on NCHW inside) and names its output after\n' +
    'the output layer. Each weight map is written once: plain weights as initializers, a tied weight as the same initializer (a\n' +
    'Transpose when transposed), a codebook as Gather(centroids, Cast(uint8 codes)) (pruned ones as gaps and codes of the kept\n' +
    'weights, ScatterND into zeros), a hashed weight as one Gather from [θ, −θ], a low-rank Dense kernel as two MatMuls. Other maps\n' +
    'are written as their dense W with a note. --materialize writes every weight dense (float32). Runtimes fold these weight\n' +
    'subgraphs once at load. The file is written atomically; nothing is written when a layer cannot be exported.',
  positionals: [{ name: 'model', required: true, description: 'Model file written by `weightshare train` or `compress`' }],
  flags: {
    format: { type: 'string', default: 'onnx', choices: ['onnx'], description: 'Output format' },
    out: { type: 'string', short: 'o', metavar: 'file', description: 'Output file (default: <model>.onnx); a symbolic link is followed' },
    ...WRITE_FLAGS,
    materialize: { type: 'boolean', description: 'Write every weight as its dense float32 W instead of the compact form of its map' },
    json: COMMON_FLAGS.json,
    verbose: COMMON_FLAGS.verbose,
  },
  examples: [
    'weightshare export lenet-300-100-dc.wsm --format onnx --out lenet-300-100-dc.onnx',
    'weightshare export seed-cnn.wsm --materialize --out seed-cnn-dense.onnx',
  ],
});

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** Runs `weightshare export`: loads the model, calls {@link exportOnnx}, writes the file atomically and prints both sizes; returns the exit code. */
export function exportCommand(a: ParsedArgs<typeof exportSpec>, io: Io): Promise<number> {
  return holdingOutputs(a.flags.force, (hold) => runExport(a, io, hold));
}

function runExport(a: ParsedArgs<typeof exportSpec>, io: Io, hold: (path: string) => void): number {
  const f = a.flags;
  const file = a.positionals.model;
  const out = f.out ?? file.replace(/(\.wsm)?$/, '.onnx');
  hold(out);
  const { model } = loadModel(file);
  const notes: string[] = [];
  const t0 = performance.now();
  let bytes: Uint8Array;
  try {
    bytes = exportOnnx(model, { materialize: f.materialize, onNote: (s) => notes.push(s) });
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const s of notes) io.err.write(`note: ${s}\n`);
  try {
    writeFileAtomic(out, bytes, { force: f.force });
  } catch (e) {
    if (e instanceof WriteError) throw e;
    throw new CliError(`${out}: cannot write: ${(e as Error).message}`);
  }
  const wsm = statSync(file).size;
  io.err.write(`Saved ${out}: ONNX opset ${ONNX_OPSET}, ${kib(bytes.length)} (${file}: ${kib(wsm)}, ${(bytes.length / wsm).toFixed(2)}×) in ${seconds.toFixed(2)} s\n`);
  if (f.json) io.out.write(JSON.stringify({ model: file, out, format: f.format, opset: ONNX_OPSET, bytes: bytes.length, modelBytes: wsm, ratio: bytes.length / wsm, seconds, notes }, null, 2) + '\n');
  return 0;
}
