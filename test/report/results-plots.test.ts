// The plots of RESULTS.md (docs/plots/*.svg) are what scripts/results-plots.mjs draws from RESULTS.md's tables today, and the FAQ
// section's tables and plots what scripts/faq-results.mjs makes of the committed runs (results/faq-*.jsonl).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The datasets of RESULTS.md's FAQ section (issue 14, point 5) with runs committed. */
const FAQ_DATASETS = ['mnist-sample', 'fashion-mnist'];

test('docs/plots matches RESULTS.md: scripts/results-plots.mjs --check redraws every plot from the tables and compares', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'results-plots.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '5 plots of RESULTS.md are up to date\n');
  assert.deepEqual(readdirSync(join(root, 'docs', 'plots')).sort(), [
    'deep-compression-fashion-mnist.svg', 'deep-compression-mnist-sample.svg',
    ...FAQ_DATASETS.flatMap((d) => [`faq-error-vs-compression-${d}.svg`, `faq-gap-vs-compression-${d}.svg`]),
    'intrinsic-dim-fashion-mnist.svg', 'intrinsic-dim-mnist-sample.svg', 'word-lstm-tied-perplexity.svg',
  ].sort());
});

for (const dataset of FAQ_DATASETS) {
  test(`RESULTS.md's FAQ tables and plots on ${dataset} are what scripts/faq-results.mjs makes of results/faq-${dataset}.jsonl`, () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'faq-results.mjs'), '--dataset', dataset, '--check'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `the FAQ tables and plots of ${dataset} are up to date\n`);
  });
}
