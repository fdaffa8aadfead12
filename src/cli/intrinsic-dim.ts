// `weightshare intrinsic-dim`: train the full model, then θ₀ + P·d for each dim; report accuracy per dim and d_int90 (Li et al., ICLR 2018).
import { tidy } from '../core/engine.js';
import type { Model } from '../nn/model.js';
import { thousands } from '../nn/summary.js';
import { createModel, MODEL_NAMES } from '../nn/zoo.js';
import { PROJECTIONS } from '../sharing/subspace.js';
import { subspace } from '../transforms/subspace.js';
import { defineCommand, type ParsedArgs, UsageError } from './args.js';
import { splitData } from '../data/dataset.js';
import { applyThreads, checkDataFlag, checkFits, checkModelSize, COMMON_FLAGS, IMAGE_DATA_FLAGS, type Io, percent, readDataset, requireSamples } from './common.js';

export const intrinsicDimSpec = defineCommand({
  name: 'intrinsic-dim',
  summary: 'Measure a model\'s intrinsic dimension: accuracy when training only d in θ₀ + P·d, for several dims',
  description:
    'Trains the full model from θ₀ (its seeded initialisation) for a baseline, then for each dim trains only d ∈ R^dim\n' +
    'in θ = θ₀ + P·d (P a random projection regenerated from --seed, same θ₀). d_int90 is the smallest measured dim\n' +
    'whose test accuracy reaches 90 % of the baseline (as Li et al. report it; no interpolation).',
  flags: {
    model: { type: 'string', default: 'mlp', description: `Architecture: ${MODEL_NAMES.join(', ')}, or mlp:H1,H2,… (mlp = 784-200-200-10)` },
    ...IMAGE_DATA_FLAGS,
    dims: { type: 'list', default: ['50', '100', '200', '400', '800'], description: 'Subspace sizes to try, comma-separated' },
    projection: { type: 'string', default: 'fastfood', choices: PROJECTIONS, description: 'How P is made: dense (≤ 64 MiB), sparse or fastfood' },
    epochs: { type: 'int', default: 3, min: 1, description: 'Epochs of each training run' },
    'batch-size': { type: 'int', default: 32, min: 1, description: 'Samples per batch' },
    lr: { type: 'number', default: 0.001, above: 0, description: 'Adam learning rate of the full model' },
    'subspace-lr': { type: 'number', default: 0.03, above: 0, description: 'Adam learning rate of d' },
    seed: { type: 'int', default: 0, description: 'Seed of θ₀, shuffling and of P' },
    limit: { type: 'int', min: 1, description: 'Train on the first N training samples only' },
    'test-limit': { type: 'int', min: 1, description: 'Evaluate on the first N test samples only' },
    ...COMMON_FLAGS,
  },
  examples: [
    'weightshare intrinsic-dim --model mlp --dims 50,100,200,400,800',
    'weightshare intrinsic-dim --model lenet5 --projection sparse --epochs 2 --json > lenet5-dint.json',
  ],
});

/** One row of the result table. */
export interface IntrinsicDimRow {
  dim: number;
  accuracy: number;
  /** accuracy / baseline accuracy. */
  fraction: number;
  seconds: number;
}

/** The smallest dim whose accuracy reaches `level` × baseline (rows in any order), or undefined. */
export function smallestReaching(rows: readonly IntrinsicDimRow[], level = 0.9): number | undefined {
  const ok = rows.filter((r) => r.fraction >= level).map((r) => r.dim);
  return ok.length ? Math.min(...ok) : undefined;
}

/** Runs `weightshare intrinsic-dim`; returns the exit code. */
export async function intrinsicDim(a: ParsedArgs<typeof intrinsicDimSpec>, io: Io): Promise<number> {
  const f = a.flags;
  applyThreads(f.threads);
  const dims = f.dims.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  for (const [i, d] of dims.entries()) {
    if (!Number.isSafeInteger(d) || d < 1) throw new UsageError(`--dims: '${f.dims[i]}' is not a positive integer`, 'intrinsic-dim');
  }
  const make = (o?: { inputShape: number[]; classes?: number }): Model => {
    try {
      return createModel(f.model, o);
    } catch (e) {
      throw new UsageError(`--model: ${(e as Error).message}`, 'intrinsic-dim');
    }
  };
  make(); // an unknown --model is a usage error before any data is read (nothing is built)
  checkDataFlag(f.dataset, f.data, 'intrinsic-dim');
  const ds = readDataset(f.dataset, f.data, f.limit, f.testLimit);
  const nTrain = requireSamples(ds, 'train', 'train on'), nTest = requireSamples(ds, 'test', 'measure the accuracy on');
  const { x, y } = splitData(ds, 'train'), { x: xt, y: yt } = splitData(ds, 'test');
  const shapes = { inputShape: ds.shape, classes: ds.classes };
  const run = async (m: Model, lr: number): Promise<{ accuracy: number; seconds: number }> => {
    const t = performance.now();
    m.compile({ optimizer: { name: 'adam', learningRate: lr }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    await m.fit(x, y, { epochs: f.epochs, batchSize: f.batchSize, seed: f.seed, shuffle: true });
    const accuracy = tidy(() => m.evaluate(xt, yt, { batchSize: 256 }).accuracy);
    return { accuracy, seconds: (performance.now() - t) / 1000 };
  };

  const full = make(shapes);
  checkModelSize(full, 'intrinsic-dim', `--model ${f.model}`);
  checkFits(full, ds);
  full.build(f.seed);
  const total = full.countParams();
  // Check every dim (SharingError names the range) before any training or output.
  if (!(f.seed >= 0 && f.seed < 2 ** 32)) throw new UsageError(`--seed must be an integer in [0, 2^32) (it seeds θ₀ and the projection), got ${f.seed}`, 'intrinsic-dim');
  const tooBig = dims.find((d) => d > total);
  if (tooBig !== undefined) throw new UsageError(`--dims: ${tooBig} is more than the model's ${thousands(total)} parameters (a subspace of d dimensions needs d ≤ D)`, 'intrinsic-dim');
  for (const d of dims) subspace(createModel(f.model, shapes), { dim: d, projection: f.projection, seed: f.seed, initSeed: f.seed }).dispose();
  io.err.write(`intrinsic-dim: ${f.model} (D = ${thousands(total)} parameters) on ${ds.name}, ${thousands(nTrain)} training / ${thousands(nTest)} test samples, ${f.epochs} epochs, ${f.projection} projection, seed ${f.seed}\n`);

  const base = await run(full, f.lr);
  full.dispose();
  io.err.write(`  full model: test accuracy ${percent(base.accuracy)} (${base.seconds.toFixed(1)} s)\n`);
  const rows: IntrinsicDimRow[] = [];
  for (const d of dims) {
    const m = subspace(createModel(f.model, shapes), { dim: d, projection: f.projection, seed: f.seed, initSeed: f.seed });
    const r = await run(m, f.subspaceLr);
    m.dispose();
    rows.push({ dim: d, accuracy: r.accuracy, fraction: base.accuracy > 0 ? r.accuracy / base.accuracy : 0, seconds: r.seconds });
    io.err.write(`  dim ${d}: test accuracy ${percent(r.accuracy)} (${r.seconds.toFixed(1)} s)\n`);
  }
  const dint90 = smallestReaching(rows);
  if (f.json) {
    io.out.write(JSON.stringify({
      model: f.model, dataset: ds.name, parameters: total, projection: f.projection, epochs: f.epochs, seed: f.seed,
      trainSamples: nTrain, testSamples: nTest,
      baseline: base, rows, dint90: dint90 ?? null, dint90Rule: 'smallest measured dim with accuracy ≥ 0.9 × baseline',
    }, null, 2) + '\n');
  } else {
    const lines = [`full model (D = ${thousands(total)}): ${percent(base.accuracy)}`, '', '     dim   test accuracy   of baseline', ...rows.map((r) =>
      `${String(r.dim).padStart(8)}   ${percent(r.accuracy).padStart(13)}   ${percent(r.fraction).padStart(11)}`)];
    lines.push('', `d_int90 = ${dint90 ?? `not reached (> ${Math.max(...dims)})`} (smallest measured dim reaching 90 % of the full model's accuracy)`);
    io.out.write(lines.join('\n') + '\n');
  }
  return 0;
}
