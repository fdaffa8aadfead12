// `weightshare report` on the JSON of tiny real runs (train, compress, intrinsic-dim): the HTML page, each SVG's marks, each PNG; bad input; the optional packages missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPng } from '../../src/data/png.js';
import { assertCliError, runCli } from '../helpers/cli.js';
import { allText, markGroups, markItems, parseXml, type XmlElement } from '../helpers/svg.js';

let dir: string;
/** The run JSON files, by name: a (train, 2 epochs with validation), b (train, 1 epoch), c (compress), f (compress, per-layer data removed), d (intrinsic-dim). */
const runs: Record<string, string> = {};

/** Runs a command that prints --json and saves its stdout as `<name>.json`. */
async function runJson(name: string, ...argv: string[]): Promise<void> {
  const r = await runCli(...argv, '--json');
  assert.equal(r.code, 0, r.err);
  runs[name] = join(dir, `${name}.json`);
  writeFileSync(runs[name], r.out);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ws-report-'));
  const data = ['--limit', '256', '--test-limit', '100'];
  await runJson('a', 'train', '--model', 'mlp:16', '--epochs', '2', '--validation-split', '0.25', ...data, '--out', join(dir, 'a.wsm'));
  await runJson('b', 'train', '--model', 'mlp:16', '--epochs', '1', '--seed', '1', ...data, '--out', join(dir, 'b.wsm'));
  await runJson('c', 'compress', join(dir, 'a.wsm'), '--clusters', '8', '--prune', '0.5', '--finetune-epochs', '1', '--out', join(dir, 'a-c.wsm'));
  await runJson('f', 'compress', join(dir, 'b.wsm'), '--clusters', '4', '--finetune-epochs', '0', '--out', join(dir, 'b-c.wsm'));
  // A compress JSON without per-layer data: the bars come from the model file it names.
  const f = JSON.parse(readFileSync(runs.f, 'utf8')) as Record<string, unknown>;
  delete f.layers;
  writeFileSync(runs.f, JSON.stringify(f));
  await runJson('d', 'intrinsic-dim', '--model', 'mlp:16', '--dims', '10,40', '--epochs', '1', ...data);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const json = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const svgOf = (out: string, id: string): XmlElement => parseXml(readFileSync(join(out, `${id}.svg`), 'utf8'));

/** Pixels of a PNG within `tol` of an RGB colour (the colour of a run's line, a bar). */
function pixelsOf(png: ReturnType<typeof readPng>, hex: string, tol = 12): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < png.data.length; i += png.channels) {
    if (Math.abs(png.data[i] - r) <= tol && Math.abs(png.data[i + 1] - g) <= tol && Math.abs(png.data[i + 2] - b) <= tol) n++;
  }
  return n;
}

test('report: the HTML page names every plot and inlines its SVG; each SVG parses and draws one mark per run, epoch and layer; each PNG is the SVG at 2×', async () => {
  const out = join(dir, 'report');
  const r = await runCli('report', runs.a, runs.b, runs.c, runs.f, runs.d, '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  const ids = ['training-loss', 'training-accuracy', 'accuracy-vs-size', 'layer-sizes', 'intrinsic-dim'];
  assert.match(r.err, /^report: 5 runs \(2 train, 2 compress, 1 intrinsic-dim\) → 5 plots\n/);
  assert.match(r.err, /\n {2}training-loss: Loss per epoch \(3 curves, 5 points\) → training-loss\.svg, training-loss\.png \d+×\d+\n/);
  assert.match(r.err, /Saved .*index\.html \(11 files\)\n$/);
  assert.doesNotMatch(r.err, /note:/, 'no warnings from vega-lite or vega, no runs left out');
  const j = JSON.parse(r.out) as { plots: { id: string; width: number; height: number; marks: Record<string, number> }[]; files: { path: string; bytes: number }[]; runs: { kind: string; label: string }[] };
  assert.deepEqual(j.plots.map((p) => p.id), ids);
  assert.deepEqual(j.runs.map((x) => `${x.label}:${x.kind}`), ['a:train', 'b:train', 'c:compress', 'f:compress', 'd:intrinsic-dim']);
  assert.deepEqual(readdirSync(out).sort(), [...ids.flatMap((id) => [`${id}.png`, `${id}.svg`]), 'index.html'].sort(), 'exactly these files, no temp files left');
  for (const file of j.files) assert.equal(statSync(file.path).size, file.bytes, file.path);

  // The page: self-contained (no script, nothing fetched: no src=, no http(s) link but the SVG namespaces), each plot inline.
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /^<!doctype html>/);
  for (const id of ids) {
    assert.ok(html.includes(`<section id="${id}">`), id);
    assert.ok(html.includes(`<a href="${id}.svg">`) && html.includes(`<a href="${id}.png">`), id);
  }
  for (const title of ['Loss per epoch', 'Accuracy per epoch', 'Accuracy vs file size', 'Size per layer', 'Intrinsic dimension']) assert.ok(html.includes(`<h2>${title}</h2>`), title);
  assert.equal(html.match(/<svg /g)?.length, 5);
  assert.doesNotMatch(html, /<script|\ssrc=|<link|@import/i);
  assert.deepEqual([...new Set(html.match(/https?:\/\/[^"\s)]+/g))].sort(), ['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
  const pageIds = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(pageIds).size, pageIds.length, 'ids unique across the inlined SVGs');
  for (const ref of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(pageIds.includes(ref[1]), `url(#${ref[1]}) points at an id of the page`);
  for (const label of ['a', 'b', 'c', 'f', 'd']) assert.ok(html.includes(`<td>${label}</td>`), `run ${label} in the table`);

  // Training curves: a has train and validation for 2 epochs, b train only for 1 → 3 curves, 2 + 2 + 1 points.
  const hist = { a: json<{ history: Record<string, number[]> }>(runs.a).history, b: json<{ history: Record<string, number[]> }>(runs.b).history };
  assert.deepEqual([hist.a.loss.length, hist.a.val_loss.length, hist.b.loss.length, hist.b.val_loss], [2, 2, 1, undefined]);
  for (const id of ['training-loss', 'training-accuracy']) {
    const svg = svgOf(out, id);
    assert.equal(markGroups(svg, 'curve').length, 3, `${id}: one line per run and split`);
    assert.equal(markItems(svg, 'point').length, 5, `${id}: one point per epoch`);
    const text = allText(svg);
    for (const s of ['epoch', 'run', 'split', 'train', 'validation', 'a: mlp:16 on mnist-sample', 'b: mlp:16 on mnist-sample']) assert.ok(text.includes(s), `${id} says '${s}'`);
  }
  assert.ok(allText(svgOf(out, 'training-accuracy')).includes('%'), 'accuracy axis in percent');

  // Accuracy vs size: one point per compress run, each labelled by run and scheme.
  const size = svgOf(out, 'accuracy-vs-size');
  assert.equal(markItems(size, 'run').length, 2);
  const labels = [...markItems(size, 'label-left'), ...markItems(size, 'label-right')].map(allText).sort();
  assert.deepEqual(labels, ['c (prune 50 %, 8 clusters)', 'f (4 clusters)']);
  assert.match(allText(size), /KiB/);

  // Per-layer sizes: c from its JSON (2 kernels), f from its model file (2 kernels + 2 biases); a float32 and a compressed bar each.
  const bars = svgOf(out, 'layer-sizes');
  assert.equal(markItems(bars, 'bar').length, 2 * 2 + 2 * 4);
  const barText = allText(bars);
  for (const s of ['dense/kernel', 'dense_1/kernel', 'dense/bias', 'dense_1/bias', 'float32', 'compressed', 'stored in the file', '49 KiB' /* 784·16 float32 */, '64 B (1.0×)' /* 16 float32 biases, stored as they are */]) assert.ok(barText.includes(s), `layer sizes say '${s}'`);

  // Intrinsic dimension: one curve, a point per dim, the 90 % level.
  const dim = svgOf(out, 'intrinsic-dim');
  assert.deepEqual([markGroups(dim, 'curve').length, markItems(dim, 'point').length, markItems(dim, 'level').length], [1, 2, 1]);
  assert.match(allText(dim), /90 % of full model/);

  // PNGs: the signature, then decoded by our own reader (CRCs checked): 2× the SVG's size, with the marks' colours in them.
  for (const p of j.plots) {
    const bytes = readFileSync(join(out, `${p.id}.png`));
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], p.id);
    const png = readPng(bytes);
    const svg = svgOf(out, p.id);
    assert.deepEqual([png.width, png.height], [p.width, p.height]);
    assert.deepEqual([png.width, png.height], [2 * Number(svg.attrs.width), 2 * Number(svg.attrs.height)], `${p.id}: the SVG at scale 2`);
    assert.ok(png.width >= 800 && png.width <= 4000 && png.height >= 300 && png.height <= 4000, `${p.id}: ${png.width}×${png.height}`);
    assert.ok(pixelsOf(png, '#4c78a8') > 200, `${p.id}: the first series' blue is drawn`);
    assert.ok(pixelsOf(png, '#000000', 40) > 200, `${p.id}: text and axes are drawn (dark pixels)`);
  }
  assert.ok(pixelsOf(readPng(readFileSync(join(out, 'layer-sizes.png'))), '#f58518') > 500, 'the bars of sizes read from the model file (orange)');
});

test('report: runs sharing a file name are told apart by their folder; a second report replaces the files', async () => {
  const other = join(dir, 'other');
  mkdirSync(other);
  cpSync(runs.b, join(other, 'a.json'));
  const out = join(dir, 'report-2');
  const r1 = await runCli('report', runs.a, join(other, 'a.json'), '--out', out, '--title', 'Two <runs>');
  assert.equal(r1.code, 0, r1.err);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /<title>Two &lt;runs&gt;<\/title>/);
  const base = dir.split('/').pop()!;
  assert.ok(allText(svgOf(out, 'training-loss')).includes(`${base}/a: mlp:16`) && allText(svgOf(out, 'training-loss')).includes('other/a: mlp:16'));
  const r2 = await runCli('report', runs.d, '--out', out);
  assert.equal(r2.code, 0, r2.err);
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /1 run, 1 plot: <a href="#intrinsic-dim">/);
});

test('report: a compress JSON without per-layer data reads the model file it names (relative: beside the JSON); one that is gone is a note, not an error', async () => {
  const f = json<Record<string, unknown>>(runs.f);
  const rel = join(dir, 'rel.json'), gone = join(dir, 'gone.json');
  writeFileSync(rel, JSON.stringify({ ...f, out: 'b-c.wsm' }));
  writeFileSync(gone, JSON.stringify({ ...f, out: join(dir, 'gone.wsm') }));
  const out = join(dir, 'report-notes');
  const r = await runCli('report', rel, gone, '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /\nnote: .*gone\.json: no per-layer data and its model file .*gone\.wsm cannot be read \(.*\): no size bars for this run\n/);
  assert.equal(markItems(svgOf(out, 'layer-sizes'), 'bar').length, 8, 'rel: 4 weights from b-c.wsm beside it, float32 and stored');
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /<ul class="notes"><li>.*gone\.json: no per-layer data/);
});

test('report: a file that is no run JSON is one line naming the file and the missing field, exit 1, and nothing is written', async () => {
  const bad = (name: string, content: string): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const a = json<Record<string, unknown>>(runs.a), c = json<Record<string, unknown>>(runs.c), d = json<Record<string, unknown>>(runs.d);
  const evalJson = bad('eval.json', JSON.stringify({ model: 'a.wsm', dataset: 'mnist-sample', loss: 0.3, accuracy: 0.9 }));
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.json'), /missing\.json: no such file$/],
    [bad('empty.json', ''), /empty\.json: not JSON \(the file is empty\)$/],
    [bad('text.json', 'Epoch 1/2 - loss 0.3'), /text\.json: not JSON \(Unexpected token/],
    [bad('list.json', '[1, 2]'), /list\.json: not a run JSON of train, compress or intrinsic-dim: an array, not an object with a field 'history' \(train --json\), 'fileBytes' \(compress --json\) or 'rows' \(intrinsic-dim --json\)$/],
    [evalJson, /eval\.json: not a run JSON of train, compress or intrinsic-dim: no field 'history' \(train --json\), 'fileBytes' \(compress --json\) or 'rows' \(intrinsic-dim --json\)$/],
    [bad('no-finetuned.json', JSON.stringify({ ...c, finetuned: undefined })), /no-finetuned\.json: compress run JSON without field 'finetuned\.accuracy'$/],
    [bad('no-settings.json', JSON.stringify({ ...c, settings: undefined })), /no-settings\.json: compress run JSON without field 'settings'$/],
    [bad('bad-layer.json', JSON.stringify({ ...c, layers: [{ path: 'dense/kernel', weights: 4 }] })), /bad-layer\.json: compress run JSON without field 'layers\.0\.bitsBefore'$/],
    [bad('zero-bytes.json', JSON.stringify({ ...c, fileBytes: 0 })), /zero-bytes\.json: compress run JSON has a field 'fileBytes' that is not a whole number of at least 1$/],
    [bad('no-baseline.json', JSON.stringify({ ...d, baseline: undefined })), /no-baseline\.json: intrinsic-dim run JSON without field 'baseline\.accuracy'$/],
    [bad('no-rows.json', JSON.stringify({ ...d, rows: [] })), /no-rows\.json: intrinsic-dim run JSON has a field 'rows' that is not a non-empty array$/],
    [bad('row-dim.json', JSON.stringify({ ...d, rows: [{ accuracy: 0.5 }] })), /row-dim\.json: intrinsic-dim run JSON without field 'rows\.0\.dim'$/],
    [bad('empty-history.json', JSON.stringify({ ...a, history: {} })), /empty-history\.json: train run JSON without per-epoch values: field 'history' holds no metric \(e\.g\. 'history\.loss'\)$/],
    [bad('string-loss.json', JSON.stringify({ ...a, history: { loss: ['0.3'] } })), /string-loss\.json: train run JSON has a field 'history\.loss' that is not an array of numbers \(one per epoch\)$/],
  ];
  const out = join(dir, 'never');
  for (const [file, re] of cases) {
    // The bad file after a good one: checked before anything is rendered or written.
    assertCliError(await runCli('report', runs.a, file, '--out', out), re);
    assert.equal(existsSync(out), false, `${file}: nothing written`);
  }
  const notDir = bad('not-a-folder', 'x');
  assertCliError(await runCli('report', runs.a, '--out', notDir), /--out .*not-a-folder: not a folder/);
  const usage = await runCli('report', '--out', out);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /^weightshare report: missing required argument <runs>$/m);
});

test('report: a read-only index.html is refused without --force (nothing replaced), replaced with it', async () => {
  const out = join(dir, 'report-ro');
  assert.equal((await runCli('report', runs.d, '--out', out)).code, 0);
  const index = join(out, 'index.html');
  writeFileSync(index, 'old');
  chmodSync(index, 0o444);
  if (process.getuid?.() !== 0) {
    assertCliError(await runCli('report', runs.d, '--out', out), /index\.html: is read-only/);
    assert.equal(readFileSync(index, 'utf8'), 'old');
  }
  assert.equal((await runCli('report', runs.d, '--out', out, '--force')).code, 0);
  assert.match(readFileSync(index, 'utf8'), /^<!doctype html>/);
});

test('without the optional plotting packages, report says which are missing and the npm install line (one line, exit 1, nothing written); the rest of the CLI works', () => {
  // Copies of the built package (dist, package.json) whose node_modules hold only some packages, as links to this checkout's.
  const here = fileURLToPath(new URL('../../../', import.meta.url));
  const pkg = json<{ dependencies: Record<string, string> }>(join(here, 'package.json'));
  const copy = (keep: (name: string) => boolean): string => {
    const root = mkdtempSync(join(tmpdir(), 'ws-no-plots-'));
    cpSync(join(here, 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(here, 'package.json'), join(root, 'package.json'));
    mkdirSync(join(root, 'node_modules'));
    for (const name of readdirSync(join(here, 'node_modules'))) {
      if (!name.startsWith('.') && keep(name)) symlinkSync(join(here, 'node_modules', name), join(root, 'node_modules', name), 'dir');
    }
    return root;
  };
  const cli = (root: string, ...argv: string[]) => spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), ...argv], { cwd: root, encoding: 'utf8' });
  const roots = [copy((n) => n in pkg.dependencies), copy((n) => n !== '@resvg')];
  try {
    const [bare, noResvg] = roots;
    const out = join(bare, 'report');
    const r = cli(bare, 'report', runs.a, '--out', out);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'weightshare: error: plots need the optional packages vega, vega-lite, @resvg/resvg-js, which are not installed: run npm install vega@^6.4.0 vega-lite@^6.4.0 @resvg/resvg-js@^2.6.2\n');
    assert.equal(existsSync(out), false);
    const r2 = cli(noResvg, 'report', runs.a, '--out', out);
    assert.equal(r2.stderr, 'weightshare: error: plots need the optional package @resvg/resvg-js, which is not installed: run npm install @resvg/resvg-js@^2.6.2\n');
    // A bad file is still named first (no plotting package is needed to read the runs), and other commands are unaffected.
    assert.match(cli(bare, 'report', join(dir, 'missing.json')).stderr, /^weightshare: error: .*missing\.json: no such file\n$/);
    const summary = cli(bare, 'summary', join(dir, 'a-c.wsm'));
    assert.equal(summary.status, 0, summary.stderr);
    assert.match(summary.stdout, /Stored weights/);
  } finally {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  }
});
