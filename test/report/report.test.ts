// The report's pieces without rendering: run JSONs told apart and described, log-axis ticks, label placement, SVGs made safe to inline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineSvg } from '../../src/report/html.js';
import { byteTicks, formatBytes, logTicks, placeLabels, plotSpecs } from '../../src/report/plots.js';
import { type CompressRun, distinctLabels, parseRun, runKind } from '../../src/report/runs.js';

const layer = (path: string, weights: number, pruned: number, clusters: number) => ({ path, weights, pruned, clusters, bitsBefore: 32 * weights, bitsAfter: 4 * weights });

test('parseRun tells the kinds apart and describes a compress run\'s scheme from its per-layer data (per-layer pruning, conv clusters)', () => {
  assert.equal(runKind({ history: {} }, 'x'), 'train');
  assert.equal(runKind({ fileBytes: 1 }, 'x'), 'compress');
  assert.equal(runKind({ rows: [] }, 'x'), 'intrinsic-dim');
  assert.throws(() => runKind(null, 'n.json'), /^RunFileError: n\.json: not a run JSON of train, compress or intrinsic-dim: a null, not an object with a field 'history'/);
  const base = { fileBytes: 1000, finetuned: { accuracy: 0.9 }, before: { accuracy: 0.95 } };
  const han = parseRun({ ...base, settings: { prune: 0, clusters: 32, convClusters: 256, pruneFinetuneEpochs: 4 }, layers: [layer('conv2d/kernel', 150, 51, 256), layer('dense/kernel', 1000, 920, 32), layer('dense_1/kernel', 100, 74, 32)] }, 'runs/han.json') as CompressRun;
  assert.deepEqual([han.label, han.method, han.scheme, han.accuracy, han.before], ['han', 'deep-compression', 'prune 34/92/74 %, 256/32 clusters, retrained 4', 0.9, 0.95]);
  const plain = parseRun({ ...base, settings: { prune: 0.5, convPrune: 0.5, clusters: 16 } }, 'p.json') as CompressRun;
  assert.equal(plain.scheme, 'prune 50 %, 16 clusters');
  const sws = parseRun({ ...base, settings: { method: 'soft-sharing', softSharing: { components: 16, tau: 0.003 } } }, 's.json') as CompressRun;
  assert.deepEqual([sws.method, sws.scheme], ['soft-sharing', '16 components, τ 0.003']);
  assert.equal(parseRun({ history: { loss: [1, null] }, model: 'm' }, 'a.JSON', 'mine').label, 'mine');
});

test('parseRun refuses accuracies outside [0, 1] and sizes that are not whole numbers, naming the field', () => {
  const base = { settings: {}, fileBytes: 1000, finetuned: { accuracy: 0.9 } };
  assert.throws(() => parseRun({ ...base, finetuned: { accuracy: -0.2 } }, 'c.json'), /c\.json: compress run JSON has a field 'finetuned\.accuracy' that is not an accuracy between 0 and 1/);
  assert.throws(() => parseRun({ ...base, before: { accuracy: 95 } }, 'c.json'), /field 'before\.accuracy' that is not an accuracy/);
  assert.throws(() => parseRun({ ...base, fileBytes: 10.5 }, 'c.json'), /field 'fileBytes' that is not a whole number of at least 1/);
  const dim = (d: number, a = 0.5) => parseRun({ rows: [{ dim: d, accuracy: a }], baseline: { accuracy: 0.9 } }, 'd.json');
  assert.throws(() => dim(1e300), /field 'rows\.0\.dim' that is not a whole number of at least 1/);
  assert.throws(() => dim(0), /field 'rows\.0\.dim'/);
  assert.throws(() => dim(10, 1.5), /field 'rows\.0\.accuracy' that is not an accuracy/);
  assert.throws(() => parseRun({ history: { accuracy: [0.5, -1] } }, 't.json'), /t\.json: train run JSON has a field 'history\.accuracy' with a value outside \[0, 1\]/);
  assert.equal(parseRun({ history: { loss: [5, 3] } }, 't.json').kind, 'train');
});

test('distinctLabels: a shared label gets its folder, then a number', () => {
  const r = (file: string) => parseRun({ rows: [{ dim: 1, accuracy: 0.5 }], baseline: { accuracy: 1 } }, file);
  assert.deepEqual(distinctLabels([r('x/a.json'), r('y/a.json'), r('b.json')]).map((x) => x.label), ['x/a', 'y/a', 'b']);
  assert.deepEqual(distinctLabels([r('x/a.json'), r('x/a.json')]).map((x) => x.label), ['x/a (1)', 'x/a (2)']);
});

test('log-axis ticks: 1-2-5 steps of B, KiB and MiB (a unit\'s multiples stop below 1000), finer when the range is narrow', () => {
  assert.deepEqual(byteTicks([50, 300 * 1024]), [50, 100, 200, 500, 1024, 2048, 5120, 10240, 20480, 51200, 102400, 204800]);
  assert.deepEqual(byteTicks([7000, 12000]), [7168, 8192, 9216, 10240]);
  assert.deepEqual(logTicks([80, 1600]), [100, 200, 500, 1000]);
  assert.deepEqual([formatBytes(50176), formatBytes(1023), formatBytes(3 << 20)], ['49 KiB', '1023 B', '3 MiB']);
});

test('placeLabels: labels of coincident points fan out with leader lines instead of overlapping; right-hand points are labelled on their left', () => {
  const at = placeLabels([{ x: 100, y: 50, text: 'first label' }, { x: 100, y: 50, text: 'second label' }, { x: 500, y: 150, text: 'right' }], 520, 300);
  assert.deepEqual(at, [
    { x: 108, y: 50, align: 'left', leader: false },
    { x: 92, y: 50, align: 'right', leader: false },
    { x: 492, y: 150, align: 'right', leader: false },
  ]);
  const three = placeLabels([0, 1, 2].map(() => ({ x: 100, y: 50, text: 'a label of some length' })), 520, 300);
  // The left side has no room (the label would start left of the plot): the others go a row above and below, with leader lines.
  assert.deepEqual(three.map((l) => [l.align, l.y, l.leader]), [['left', 50, false], ['left', 38, true], ['left', 62, true]]);
  // Near the top edge a label does not go above the plot.
  assert.ok(placeLabels([0, 1, 2, 3].map(() => ({ x: 100, y: 3, text: 'top' })), 520, 300).every((l) => l.y - 6 >= 0));
});

test('inlineSvg prefixes every id and its references, so two vega SVGs (both with clip1) can share a page', () => {
  const svg = '<?xml version="1.0"?><svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><use href="#clip1"/></g></svg>';
  assert.equal(inlineSvg(svg, 'p'), '<svg><defs><clipPath id="p-clip1"><rect/></clipPath></defs><g clip-path="url(#p-clip1)"><use href="#p-clip1"/></g></svg>');
});

test('plotSpecs: one training plot per metric (validation folded in), then accuracy vs size, layer sizes and intrinsic dimension, only for the kinds given', () => {
  const train = parseRun({ history: { loss: [2, 1], accuracy: [0.5, 0.7], val_loss: [2.1, 1.2], perplexity: [7, 3] } }, 't.json');
  const specs = plotSpecs([train], []);
  assert.deepEqual(specs.map((s) => [s.id, s.marks]), [['training-loss', { curve: 2, point: 4 }], ['training-accuracy', { curve: 1, point: 2 }], ['training-perplexity', { curve: 1, point: 2 }]]);
  const dim = parseRun({ rows: [{ dim: 10, accuracy: 0.5 }, { dim: 20, accuracy: 0.8 }], baseline: { accuracy: 0.9 }, dint90: 20 }, 'd.json');
  const both = plotSpecs([train, dim], [{ run: 'c', layer: 'dense/kernel', float32: 4000, compressed: 500, source: 'json' }]);
  assert.deepEqual(both.map((s) => s.id), ['training-loss', 'training-accuracy', 'training-perplexity', 'layer-sizes', 'intrinsic-dim']);
  assert.match(both[4].caption, /d\.json|d: d_int90 20, full model 90\.00 %/);
});
