#!/usr/bin/env node
// Issue 10: are the initial weights of our char-lstm drawn from the same distributions as scripts/reference-lm.py's own
// init (uniform embedding, glorot kernels, orthogonal recurrent kernel, zero biases with forget gate 1)? Prints, per
// tensor and seed, mean / std / min / max of ours and PyTorch's (in Keras layout), and for the recurrent kernel R [H, 4H]
// how far R·Rᵀ is from the identity (orthonormal rows), and for the LSTM bias the mean of each gate's block.
//
// Usage (from the repository root, after `npm run build`): node scripts/lm-init-stats.mjs [--seeds 0,1,2,3] [--work /tmp/lm-init-stats]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTextModel, setThreads } from '../dist/src/index.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const seeds = opt('seeds', '0,1,2,3').split(',').map(Number);
const work = opt('work', '/tmp/lm-init-stats');
setThreads(Number(process.env.WEIGHTSHARE_THREADS ?? 1));

// Ours: the CLI's char-lstm on sotu (vocab 100, windows of 64), built with each seed; weights in Keras layout.
for (const seed of seeds) {
  const m = createTextModel('char-lstm', { vocab: 100, length: 64 }).build(seed);
  const dir = join(work, `ours-seed${seed}`);
  mkdirSync(dir, { recursive: true });
  const shapes = {};
  for (const { name, param } of m.namedParameters()) {
    const v = param.value.f32();
    shapes[name] = param.value.shape;
    writeFileSync(join(dir, `${name.replaceAll('/', '__')}.f32`), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(shapes));
}

const py = `
import importlib.util, json, os, sys
import numpy as np, torch
spec = importlib.util.spec_from_file_location('reflm', 'scripts/reference-lm.py'); reflm = importlib.util.module_from_spec(spec); spec.loader.exec_module(reflm)
work, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(',')]
def stats(name, a):
    s = f'{name:22s} mean {a.mean():+.5f} std {a.std():.5f} min {a.min():+.5f} max {a.max():+.5f}'
    if name.endswith('recurrentKernel'):
        h = a.shape[0]
        s += f' | max|RRt-I| {np.abs(a @ a.T - np.eye(h)).max():.2e}'
    if name.endswith('lstm/bias'):
        h = a.shape[0] // 4
        s += ' | gate means ' + ' '.join(f'{a[g*h:(g+1)*h].mean():.2f}' for g in range(4))
    return s
for seed in seeds:
    d = os.path.join(work, f'ours-seed{seed}')
    shapes = json.load(open(os.path.join(d, 'manifest.json')))
    torch.manual_seed(seed)
    model = reflm.LM(100, 128, 256, 1, 0.0, False)
    theirs = {n: (p.t() if t else p).detach().double().numpy() for n, p, t in reflm.keras_names(model)}
    for n in shapes:
        ours = np.fromfile(os.path.join(d, n.replace('/', '__') + '.f32'), dtype='<f4').reshape(shapes[n]).astype(np.float64)
        print(f'seed {seed} ours  ' + stats(n, ours))
        print(f'seed {seed} torch ' + stats(n, theirs[n]))
`;
const r = spawnSync('/usr/bin/python3', ['-c', py, work, seeds.join(',')], { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8', stdio: 'inherit' });
process.exit(r.status ?? 1);
