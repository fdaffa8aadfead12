// The runs of the FAQ experiments (RESULTS.md, "The seed's FAQ"), shared by scripts/faq-experiments.mjs (runs them)
// and scripts/faq-results.mjs (tables and plots). A run is a spec for scripts/faq-run.mjs, or for
// scripts/feature-selection.mjs when `fs` is set; its key is the spec's canonical JSON.

export const SEEDS = [0, 1, 2, 3, 4];
/** L2 factors tried on a validation split (the last 10 % of the training set), seeds of the search. */
export const L2_GRID = [1e-5, 1e-4, 1e-3];
export const L2_SEEDS = { mlp: [0, 1], cnn: [0] };
/** Budgets as fractions of the free parameters (of the MLP, or of the CNN's dense layer). */
export const BUDGETS = [{ label: '1/8', c: 1 / 8 }, { label: '1/64', c: 1 / 64 }];
/** Compression ratios of (b), in the order they are run (the table sorts them). */
export const RATIOS = [8, 32, 2];
export const MLP = 'lenet-300-100';
const MLP_PARAMS = 266_610; // 784-300-100-10 with biases
const CNN_DENSE = 1600 * 128 + 128; // the reference CNN's dense layer, kernel and bias
/** Codebook sizes of (b): 8, 4 and 1 bits per index (ratios ≈ 4, 8, 32 of float32). */
const CLUSTERS = { 2: 256, 8: 16, 32: 2 };
/** Retraining after magnitude pruning (as RESULTS.md (b): 4 epochs, Adam 1e-3) and fine-tuning of centroids (2 epochs, 1e-4). */
const PRUNE_RETRAIN = { epochs: 4, lr: 1e-3 };
const CODEBOOK_FINETUNE = { epochs: 2, lr: 1e-4 };

/** The canonical key of a spec: its JSON with sorted keys. */
export function key(spec) {
  const sort = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(spec));
}

/** Free parameters of an MLP 784-h…-10 with biases. */
const mlpParams = (hidden) => [784, ...hidden, 10].reduce((s, n, i, a) => (i ? s + (a[i - 1] + 1) * n : 0), 0);
/** The closest to `target` of f(x) over x in [lo, hi]. */
const closest = (lo, hi, f, target) => {
  let best = lo;
  for (let x = lo; x <= hi; x++) if (Math.abs(f(x) - target) < Math.abs(f(best) - target)) best = x;
  return best;
};

/** LeNet-300-100's shape narrowed to a budget: 784-h1-h2-10 with h2 = h1/3 (rounded, ≥ 1). */
export function narrowMlp(budget) {
  const h = (h1) => [h1, Math.max(1, Math.round(h1 / 3))];
  const h1 = closest(1, 300, (x) => mlpParams(h(x)), budget);
  return `mlp:${h(h1).join(',')}`;
}
/** One hidden layer narrowed to a budget: 784-h-10. */
export const narrowMlp1 = (budget) => `mlp:${closest(1, 1000, (h) => mlpParams([h]), budget)}`;
/** Low rank at a budget: rank r for dense and dense_1 (784×300, 300×100), the 100×10 output layer left dense. */
export function lowRankMlp(budget) {
  const r = closest(1, 100, (x) => x * (784 + 300) + x * (300 + 100) + 410 + 1010, budget);
  return `dense=lowRank:${r},dense_1=lowRank:${r}`;
}
/** Low rank at a compression ratio: each of dense, dense_1 at rank round(mn / (c (m + n))), output layer dense. */
export function lowRankRatio(c) {
  const r = (m, n) => Math.max(1, Math.round((m * n) / (c * (m + n))));
  return `dense=lowRank:${r(784, 300)},dense_1=lowRank:${r(300, 100)}`;
}
/** Feature selection at a budget: k pixels into an MLP k-100-10 ((k + 1)·100 + 1,010 parameters). */
export const fsPixels = (budget) => closest(1, 784, (k) => (k + 1) * 100 + 1010, budget);

/** The dataset options of every spec: mnist-sample as is; Fashion-MNIST cut to mnist-sample's 8,000 training images. */
export const dataOf = (dataset) => (dataset === 'fashion-mnist' ? { dataset, limit: 8000 } : { dataset });

/**
 * The table rows of each group, each with its specs (one per seed), given the runs so far (the L2 rows appear once their
 * search is complete). Groups: a-mlp, a-cnn, b-mlp, b-cnn.
 */
export function plan(dataset, runs, groups = ['a-mlp', 'a-cnn', 'b-mlp', 'b-cnn']) {
  const data = dataOf(dataset);
  const done = new Map(runs.map((r) => [key(r.spec), r]));
  const rows = [];
  const row = (group, budget, label, base, seeds = SEEDS) => rows.push({ group, budget, label, base, specs: seeds.map((seed) => ({ ...data, ...base, seed })) });
  /** The L2 search rows for a model, and the chosen factor (highest mean validation accuracy) once all are done. */
  const l2Search = (group, budget, base, seeds) => {
    // The same split without L2, for reference only (not a candidate: the row is "with L2").
    rows.push({ group: `${group}-l2search`, budget, label: `${base.model} l2 0`, base: { ...base, l2: 0 }, specs: seeds.map((seed) => ({ ...data, ...base, l2: 0, validationSplit: 0.1, seed })) });
    let best;
    for (const l2 of L2_GRID) {
      const specs = seeds.map((seed) => ({ ...data, ...base, l2, validationSplit: 0.1, seed }));
      rows.push({ group: `${group}-l2search`, budget, label: `${base.model} l2 ${l2}`, base: { ...base, l2 }, specs });
      const got = specs.map((s) => done.get(key(s)));
      if (got.some((g) => !g)) return undefined;
      const m = got.reduce((a, g) => a + g.valAccuracy, 0) / got.length;
      if (!best || m > best.val) best = { l2, val: m };
    }
    return best.l2;
  };
  const withL2 = (group, budget, label, base, seeds) => {
    const l2 = l2Search(group, budget, base, seeds);
    if (l2 !== undefined) row(group, budget, `${label} + L2 ${l2}`, { ...base, l2 });
  };
  if (groups.includes('a-mlp')) {
    row('a-mlp', '1', `full ${MLP}`, { model: MLP });
    withL2('a-mlp', '1', `full ${MLP}`, { model: MLP }, L2_SEEDS.mlp);
    for (const { label, c } of BUDGETS) {
      const b = c * MLP_PARAMS;
      row('a-mlp', label, `hashed (HashedNets) ${label}`, { model: MLP, sharing: `hashed:${label}` });
      row('a-mlp', label, `narrower dense ${narrowMlp(b)}`, { model: narrowMlp(b) });
      withL2('a-mlp', label, `narrower dense ${narrowMlp(b)}`, { model: narrowMlp(b) }, L2_SEEDS.mlp);
      row('a-mlp', label, `narrower dense, one hidden layer ${narrowMlp1(b)}`, { model: narrowMlp1(b) });
      for (const criterion of ['mutual-information', 'weight-magnitude']) {
        row('a-mlp', label, `feature selection, ${fsPixels(b)} pixels (${criterion}), k-100-10`, { fs: true, criterion, k: fsPixels(b), hidden: 100 });
      }
      row('a-mlp', label, `low rank (${lowRankMlp(b)})`, { model: MLP, sharing: lowRankMlp(b) });
    }
  }
  if (groups.includes('a-cnn')) {
    row('a-cnn', '1', 'full seed-cnn (dense 1600→128)', { model: 'seed-cnn' });
    for (const { label, c } of BUDGETS) {
      const u = Math.round(c * 128);
      row('a-cnn', label, `hashed dense ${label}`, { model: 'seed-cnn', sharing: `dense=hashed:${label}` });
      row('a-cnn', label, `narrower dense 1600→${u}`, { model: `seed-cnn:${u}` });
      withL2('a-cnn', label, `narrower dense 1600→${u}`, { model: `seed-cnn:${u}` }, L2_SEEDS.cnn);
    }
  }
  if (groups.includes('b-mlp')) {
    row('b-mlp', '1', `full ${MLP}`, { model: MLP });
    for (const c of RATIOS) {
      const f = `1/${c}`;
      row('b-mlp', f, 'hashed', { model: MLP, sharing: `hashed:${f}` });
      row('b-mlp', f, 'low rank', { model: MLP, sharing: lowRankRatio(c) });
      row('b-mlp', f, 'pruned (magnitude, retrained)', { model: MLP, post: { kind: 'prune', prune: 1 - 1 / c, ...PRUNE_RETRAIN } });
      row('b-mlp', f, 'codebook (k-means, fine-tuned)', { model: MLP, post: { kind: 'codebook', clusters: CLUSTERS[c], ...CODEBOOK_FINETUNE } });
      row('b-mlp', f, 'random subspace', { model: MLP, subspace: Math.round(MLP_PARAMS / c) });
    }
  }
  if (groups.includes('b-cnn')) {
    row('b-cnn', '1', 'locally connected (seed-cnn-local)', { model: 'seed-cnn-local' });
    row('b-cnn', '-', 'convolution (seed-cnn)', { model: 'seed-cnn' });
  }
  return rows;
}

export const CNN_DENSE_PARAMS = CNN_DENSE;
export const MLP_PARAMETERS = MLP_PARAMS;
