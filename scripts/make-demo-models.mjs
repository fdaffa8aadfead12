// Writes demo/models/: the reference CNN (seed-cnn, 10 epochs on mnist-sample) as a float32 file and its 16-cluster
// compressed file, the pair the demo page shows side by side. Training takes minutes, too long for the demo's build, so
// the two files are committed. Run after `npm run build`: node scripts/make-demo-models.mjs (same bytes on every run:
// seeded, and the kernels give the same results whatever the thread count).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, saveModel } from '../dist/src/node.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'demo', 'models');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'ws-demo-models-'));
const trained = join(tmp, 'seed-cnn-mnist-sample.wsm');
const float32 = join(out, 'seed-cnn.wsm');
const compressed = join(out, 'seed-cnn-c16.wsm');
mkdirSync(out, { recursive: true });

/** Runs `weightshare …args` (the CLI of this checkout), echoing the command and its output. */
function weightshare(...args) {
  console.log(`$ weightshare ${args.map((a) => a.replace(tmp, '$TMP').replace(root + '/', '')).join(' ')}`);
  execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
}

try {
  // The reference experiment of README ("npm start") and RESULTS.md: 97.75 % on the 2,000 test digits.
  weightshare('train', '--model', 'seed-cnn', '--dataset', 'mnist-sample', '--epochs', '10', '--batch-size', '32', '--seed', '0', '--out', trained);
  // RESULTS.md's clustering of it (16 centroids per kernel, centroids fine-tuned 2 epochs), written for shipping.
  weightshare('compress', trained, '--clusters', '16', '--finetune-epochs', '2', '--seed', '0', '--ship', '--out', compressed);
  // The float32 file as one would ship it too: the trained weights without Adam's state, compile settings or training
  // record (what `compress --ship` leaves out), so the two files differ by their weights only.
  const { model } = loadModel(trained);
  saveModel(float32, model, { ship: true });
  model.dispose();
  console.log(`$ node -e "saveModel('${float32.replace(root + '/', '')}', loadModel(trained), { ship: true })"`);
  for (const f of [float32, compressed]) console.log(`${f.replace(root + '/', '')}: ${statSync(f).size.toLocaleString('en-US')} bytes`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
