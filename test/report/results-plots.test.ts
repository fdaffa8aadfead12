// The plots of RESULTS.md (docs/plots/*.svg) are what scripts/results-plots.mjs draws from RESULTS.md's tables today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('docs/plots matches RESULTS.md: scripts/results-plots.mjs --check redraws every plot from the tables and compares', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'results-plots.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '5 plots of RESULTS.md are up to date\n');
  assert.deepEqual(readdirSync(join(root, 'docs', 'plots')).sort(), [
    'deep-compression-fashion-mnist.svg', 'deep-compression-mnist-sample.svg', 'intrinsic-dim-fashion-mnist.svg', 'intrinsic-dim-mnist-sample.svg', 'word-lstm-tied-perplexity.svg',
  ]);
});
