// The folders stay layered: src/sharing imports nothing from nn/, io/, cli/ or transforms/, and src/nn nothing from transforms/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../../src/', import.meta.url));

/** Every .ts file under `dir`. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.ts') ? [p] : [];
  });
}

/** The relative imports of a file (`import … from './x.js'`, `import './x.js'`, `export … from`, `import('./x.js')`), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(relative(src, resolve(dirname(file), m[1])));
  return out;
}

/** Imports of the files under src/`folder` that land in one of `forbidden` (folders under src/). */
function violations(folder: string, forbidden: string[]): string[] {
  return files(join(src, folder)).flatMap((f) => importsOf(f)
    .filter((i) => forbidden.some((x) => i.startsWith(x + '/')))
    .map((i) => `${relative(src, f)} imports ${i}`));
}

test('the import scanner sees relative imports in every form', () => {
  const sharing = files(join(src, 'sharing'));
  assert.ok(sharing.length >= 10, `found ${sharing.length} files under src/sharing`);
  assert.ok(importsOf(join(src, 'sharing', 'registry.ts')).includes('sharing/dense.js'));
  assert.ok(importsOf(join(src, 'nn', 'layer.ts')).includes('sharing/index.js'), "a bare `import '…'` counts");
  assert.ok(importsOf(join(src, 'transforms', 'cluster.ts')).includes('nn/model.js'), 'an `import type` counts');
});

test('src/sharing imports nothing above it (nn, io, cli, transforms); src/nn does not import transforms', () => {
  assert.deepEqual(violations('sharing', ['nn', 'io', 'cli', 'transforms', 'optim', 'data']), []);
  assert.deepEqual(violations('nn', ['transforms', 'cli', 'io']), []);
});
