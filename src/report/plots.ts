// The report's plots as Vega-Lite specs built from runs: training curves per metric, accuracy vs file size, per-layer sizes, intrinsic-dimension curves.
import type { TopLevelSpec } from 'vega-lite';
import type { CompressRun, IntrinsicDimRun, LayerSize, Run, TrainRun } from './runs.js';

/** One plot of the report: a file-name id, a title, a caption saying what it shows, and its spec. */
export interface PlotSpec {
  /** File name without extension, e.g. 'training-loss'. */
  id: string;
  title: string;
  caption: string;
  /** Marks the plot draws, by the names its SVG gives them (class `<name>_marks`): what a reader (or test) can count. */
  marks: Record<string, number>;
  spec: TopLevelSpec;
}

const WIDTH = 520, HEIGHT = 300;
/** Settings every plot shares: white background (readable on dark pages), a readable font size, no chart border. */
const CONFIG = {
  background: 'white',
  config: { font: 'sans-serif', view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 }, title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' } },
} as const;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A Vega expression that writes a byte count as B, KiB or MiB (3 significant digits). */
const BYTES_LABEL = "datum.value >= 1048576 ? format(datum.value / 1048576, '.3~') + ' MiB' : datum.value >= 1024 ? format(datum.value / 1024, '.3~') + ' KiB' : format(datum.value, '.3~') + ' B'";

/** 1234 → '1.21 KiB', 1023 → '1023 B': 3 significant digits of KiB or MiB, whole bytes below 1 KiB (the axes' units). */
export function formatBytes(n: number): string {
  const sig = (v: number): string => String(Number(v.toPrecision(3)));
  return n >= 1 << 20 ? `${sig(n / (1 << 20))} MiB` : n >= 1024 ? `${sig(n / 1024)} KiB` : `${Math.round(n)} B`;
}

/** A log-scale domain around `values`: from min ÷ `margin` to max × `margin`. */
export function logDomain(values: readonly number[], margin = 1.5): [number, number] {
  return [Math.min(...values) / margin, Math.max(...values) * margin];
}

/**
 * Round values inside [lo, hi] for a log axis: 1, 2, 5 × 10^k of each unit (every 1–9 × 10^k when that gives fewer than
 * 3); with several units (B, KiB, MiB) a unit's multiples stop below 1000 so that the next unit takes over.
 */
export function logTicks([lo, hi]: readonly [number, number], units: readonly number[] = [1]): number[] {
  const pick = (ms: readonly number[]): number[] => {
    const out: number[] = [];
    units.forEach((unit, u) => {
      for (let p = 1; p * unit <= hi && (u === units.length - 1 || p < 1000); p *= 10) {
        for (const m of ms) {
          const v = m * p * unit;
          if (v >= lo && v <= hi && (u === units.length - 1 || m * p < 1000)) out.push(v);
        }
      }
    });
    return [...new Set(out)].sort((a, b) => a - b);
  };
  const coarse = pick([1, 2, 5]);
  return coarse.length >= 3 ? coarse : pick([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

/** {@link logTicks} of byte counts: B, KiB, MiB. */
export const byteTicks = (domain: readonly [number, number]): number[] => logTicks(domain, [1, 1024, 1 << 20]);

/** A label placed by {@link placeLabels}: its anchor (x, y; `align` says which end x is), and whether it needs a leader line to its point. */
export interface PlacedLabel {
  x: number;
  y: number;
  align: 'left' | 'right';
  leader: boolean;
}

/**
 * Pixel positions for point labels (a plot's width × height, y down) that overlap neither each other nor any point, and stay
 * inside the plot (or at most 160 px past its right edge): each label tries spots beside its point (right, left, then a row above or below, then further rows
 * away) and takes the first free one (or, when none is, the one overlapping least); a label more than half a row away
 * from its point gets a leader line. Widths are estimated from the character count.
 */
export function placeLabels(points: readonly { x: number; y: number; text: string }[], width: number, height: number, lineHeight = 12, charWidth = 5): PlacedLabel[] {
  type Box = { left: number; right: number; top: number; bottom: number };
  const r = 6;
  const obstacles: Box[] = points.map((p) => ({ left: p.x - r, right: p.x + r, top: p.y - r, bottom: p.y + r }));
  const overlap = (a: Box, b: Box): number => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const out: PlacedLabel[] = new Array(points.length);
  // Points from left to right: a cluster's labels then fan out in a stable order.
  const order = points.map((_, i) => i).sort((a, b) => points[a].x - points[b].x || points[a].y - points[b].y);
  for (const i of order) {
    const p = points[i];
    const w = charWidth * p.text.length;
    const candidates: { x: number; y: number; align: 'left' | 'right'; box: Box }[] = [];
    for (const rows of [0, -1, 1, -2, 2, -3, 3, -4, 4]) {
      for (const align of p.x > width / 2 ? ['right', 'left'] as const : ['left', 'right'] as const) {
        const x = align === 'left' ? p.x + 8 : p.x - 8;
        const y = p.y + rows * lineHeight;
        const left = align === 'left' ? x : x - w;
        candidates.push({ x, y, align, box: { left, right: left + w, top: y - lineHeight / 2, bottom: y + lineHeight / 2 } });
      }
    }
    // Inside the plot, except that a label may run past the right edge (the legend of that plot sits below it).
    const inside = (b: Box): boolean => b.left >= 0 && b.right <= width + 160 && b.top >= 0 && b.bottom <= height;
    const cost = (b: Box): number => obstacles.reduce((s, o) => s + overlap(b, o), 0) + (inside(b) ? 0 : 1e6);
    const best = candidates.find((c) => cost(c.box) === 0) ?? candidates.reduce((a, b) => (cost(b.box) < cost(a.box) ? b : a));
    obstacles.push(best.box);
    out[i] = { x: best.x, y: best.y, align: best.align, leader: Math.abs(best.y - p.y) > lineHeight / 2 };
  }
  return out;
}

/** A linear domain around `values` with `pad` × their range (at least `min`) on each side, kept inside [0, 1] for fractions. */
function paddedDomain(values: readonly number[], fraction: boolean, pad = 0.1, min = 0.005): [number, number] {
  const lo = Math.min(...values), hi = Math.max(...values);
  const d = Math.max(min, pad * (hi - lo));
  return fraction ? [Math.max(0, lo - d), Math.min(1, hi + d)] : [lo - d, hi + d];
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const isAccuracy = (metric: string): boolean => metric.endsWith('accuracy');
const metricTitle = (m: string): string => m.replace(/_/g, ' ');

/** The metrics of train runs' histories in plot order: loss, accuracy, then the others as they first appear (val_ folded in). */
function metricsOf(runs: readonly TrainRun[]): string[] {
  const seen = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.history)) seen.add(k.replace(/^val_/, ''));
  const rank = (m: string): number => (m === 'loss' ? 0 : m === 'accuracy' ? 1 : 2);
  return [...seen].sort((a, b) => rank(a) - rank(b));
}

/** One plot per metric: the value per epoch of each train run, training solid and validation dashed. */
export function trainingCurves(runs: readonly TrainRun[]): PlotSpec[] {
  return metricsOf(runs).map((metric) => {
    const rows: { run: string; split: string; epoch: number; value: number }[] = [];
    const lines = new Set<string>();
    for (const r of runs) {
      for (const [key, split] of [[metric, 'train'], [`val_${metric}`, 'validation']] as const) {
        (r.history[key] ?? []).forEach((v, i) => {
          if (v === null) return;
          rows.push({ run: r.label, split, epoch: i + 1, value: v });
          lines.add(`${r.label}\u0000${split}`);
        });
      }
    }
    const withRuns = runs.filter((r) => r.history[metric] || r.history[`val_${metric}`]);
    const epochs = Math.max(...rows.map((p) => p.epoch));
    const splits = [...new Set(rows.map((p) => p.split))];
    const name = metricTitle(metric);
    const title = `${name[0].toUpperCase()}${name.slice(1)} per epoch`;
    return {
      id: `training-${metric.replace(/[^a-z0-9]+/gi, '-')}`,
      title,
      caption: `${name} after each epoch of ${plural(withRuns.length, 'training run')} (${splits.join(' and ')}${splits.length > 1 ? ': validation dashed' : ''}), up to ${plural(epochs, 'epoch')}.`,
      marks: { curve: lines.size, point: rows.length },
      spec: {
        $schema: SCHEMA, ...CONFIG,
        title: { text: title, subtitle: withRuns.map((r) => `${r.label}: ${[r.model, r.dataset].filter(Boolean).join(' on ')}`) },
        width: WIDTH, height: HEIGHT,
        data: { values: rows },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { domainMin: 1, nice: false } },
          y: { field: 'value', type: 'quantitative', title: name, scale: { zero: false }, axis: isAccuracy(metric) ? { format: '.0%' } : {} },
          color: { field: 'run', type: 'nominal', title: 'run', sort: runs.map((r) => r.label) },
        },
        layer: [
          { name: 'curve', mark: { type: 'line', strokeWidth: 2 }, encoding: { strokeDash: { field: 'split', type: 'nominal', title: 'split', sort: ['train', 'validation'] } } },
          { name: 'point', mark: { type: 'point', filled: true, size: 36 }, encoding: { tooltip: [{ field: 'run' }, { field: 'split' }, { field: 'epoch' }, { field: 'value', format: '.4f' }] } },
        ],
      },
    };
  });
}

/** Test accuracy against file size (log axis), one point per compress run, coloured by method and labelled by run and scheme. */
export function accuracyVsSize(runs: readonly CompressRun[]): PlotSpec {
  const methods = [...new Set(runs.map((r) => r.method))];
  const xDomain = logDomain(runs.map((r) => r.fileBytes), 1.3);
  const yDomain = paddedDomain(runs.map((r) => r.accuracy), true);
  // Both domains are fixed, so the labels can be placed in pixels here (vega-lite has no label placement of its own).
  const px = (bytes: number): number => (WIDTH * Math.log(bytes / xDomain[0])) / Math.log(xDomain[1] / xDomain[0]);
  const py = (acc: number): number => HEIGHT * (1 - (acc - yDomain[0]) / (yDomain[1] - yDomain[0]));
  const texts = runs.map((r) => (r.scheme ? `${r.label} (${r.scheme})` : r.label));
  const at = placeLabels(runs.map((r, i) => ({ x: px(r.fileBytes), y: py(r.accuracy), text: texts[i] })), WIDTH, HEIGHT);
  const rows = runs.map((r, i) => ({
    run: r.label, method: r.method, scheme: r.scheme, label: texts[i], fileBytes: r.fileBytes, accuracy: r.accuracy, before: r.before ?? null,
    labelX: at[i].x, labelY: at[i].y, align: at[i].align,
    // A displaced label's leader line: from the point to the label's near end.
    ...(at[i].leader ? { leaderX: px(r.fileBytes), leaderY: py(r.accuracy), leaderX2: at[i].x + (at[i].align === 'left' ? -2 : 2), leaderY2: at[i].y } : {}),
  }));
  const leaders = rows.filter((r) => 'leaderX' in r).length;
  const x = {
    field: 'fileBytes', type: 'quantitative', title: 'model file size (log scale)', scale: { type: 'log', domain: xDomain, nice: false },
    axis: { labelExpr: BYTES_LABEL, values: byteTicks(xDomain) },
  } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy after compression', scale: { domain: yDomain, nice: false }, axis: { format: '.1%' } } as const;
  const label = (align: 'left' | 'right') => ({
    name: `label-${align}`, transform: [{ filter: { field: 'align', equal: align } }],
    mark: { type: 'text' as const, align, baseline: 'middle' as const, fontSize: 10 },
    encoding: { x: { field: 'labelX', type: 'quantitative' as const, scale: null }, y: { field: 'labelY', type: 'quantitative' as const, scale: null }, text: { field: 'label' } },
  });
  return {
    id: 'accuracy-vs-size',
    title: 'Accuracy vs file size',
    caption: `Test accuracy of each compressed model against the size of the file compress wrote (${plural(runs.length, 'run')}; ${methods.join(', ')}), labelled by run and scheme.`,
    marks: { run: runs.length },
    spec: {
      $schema: SCHEMA, ...CONFIG,
      title: { text: 'Accuracy vs file size', subtitle: 'one point per compress run; x: bytes on disk (log scale)' },
      width: WIDTH, height: HEIGHT,
      data: { values: rows },
      layer: [
        {
          name: 'run', mark: { type: 'point', filled: true, size: 90, opacity: 1 },
          encoding: {
            x, y, color: { field: 'method', type: 'nominal', title: 'method', sort: methods, legend: { orient: 'bottom' } }, shape: { field: 'method', type: 'nominal', title: 'method', sort: methods },
            tooltip: [{ field: 'run' }, { field: 'scheme' }, { field: 'fileBytes', title: 'file bytes' }, { field: 'accuracy', format: '.2%' }, { field: 'before', title: 'accuracy before', format: '.2%' }],
          },
        },
        label('left'), label('right'),
        ...(leaders ? [{
          name: 'leader', transform: [{ filter: 'isValid(datum.leaderX)' }],
          mark: { type: 'rule' as const, color: '#888', strokeWidth: 0.75 },
          encoding: {
            x: { field: 'leaderX', type: 'quantitative' as const, scale: null }, y: { field: 'leaderY', type: 'quantitative' as const, scale: null },
            x2: { field: 'leaderX2' }, y2: { field: 'leaderY2' },
          },
        }] : []),
      ],
    },
  };
}

/** Horizontal bars per weight, float32 beside compressed (log axis), one panel per compress run. */
export function layerSizes(sizes: readonly LayerSize[]): PlotSpec {
  const rows = sizes.flatMap((s) => [
    { run: s.run, layer: s.layer, kind: 'float32', slot: 0, bytes: s.float32, text: formatBytes(s.float32) },
    { run: s.run, layer: s.layer, kind: s.source === 'json' ? 'compressed' : 'stored in the file', slot: 1, bytes: s.compressed, text: `${formatBytes(s.compressed)} (${(s.float32 / Math.max(1, s.compressed)).toFixed(1)}×)` },
  ]);
  const runs = [...new Set(sizes.map((s) => s.run))];
  const kinds = [...new Set(rows.map((r) => r.kind))];
  const fromFile = [...new Set(sizes.filter((s) => s.source === 'file').map((s) => s.run))];
  const domain = logDomain(rows.map((r) => r.bytes), 1);
  // Bars on a log axis start at a power of ten below the smallest size (a log scale has no zero to start from).
  const floor = 10 ** Math.floor(Math.log10(domain[0]));
  const xDomain: [number, number] = [floor, domain[1] * 4];
  const x = { field: 'bytes', type: 'quantitative', title: 'bytes (log scale)', stack: null, scale: { type: 'log', domain: xDomain, nice: false }, axis: { labelExpr: BYTES_LABEL, values: byteTicks(xDomain) } } as const;
  const y = { field: 'layer', type: 'nominal', title: null, sort: null } as const;
  return {
    id: 'layer-sizes',
    title: 'Size per layer',
    caption: `Bytes of each weight as float32 and compressed, per compress run (${plural(runs.length, 'run')}): compressed = the fixed-width codes, mask and centroids of compress --json's per-layer data` +
      (fromFile.length ? `; for ${fromFile.join(', ')}: the bytes each weight's tensors take in the model file (as summary shows them)` : '') + '.',
    marks: { bar: rows.length },
    spec: {
      $schema: SCHEMA, ...CONFIG,
      title: { text: 'Size per layer', subtitle: 'float32 vs compressed, per weight (log scale)' },
      data: { values: rows },
      facet: { row: { field: 'run', type: 'nominal', title: null, sort: runs, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontSize: 12, labelFontWeight: 'bold' } } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: WIDTH - 80, height: { step: 16 },
        encoding: { y, x, yOffset: { field: 'slot', type: 'nominal' } },
        layer: [
          { name: 'bar', mark: { type: 'bar' }, encoding: { x2: { datum: floor }, color: { field: 'kind', type: 'nominal', title: null, sort: kinds, scale: { range: ['#bab0ac', '#4c78a8', '#f58518'] } }, tooltip: [{ field: 'layer' }, { field: 'kind' }, { field: 'bytes' }] } },
          { name: 'size', mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 9 }, encoding: { text: { field: 'text' } } },
        ],
      },
    },
  };
}

/** Test accuracy against the subspace size d (log axis), one curve per intrinsic-dim run, its 90 %-of-full-model level dashed. */
export function intrinsicDimCurves(runs: readonly IntrinsicDimRun[]): PlotSpec {
  const rows = runs.flatMap((r) => r.rows.map((row) => ({ run: r.label, dim: row.dim, accuracy: row.accuracy })));
  const dimDomain = logDomain(rows.map((r) => r.dim), 1.2);
  const yDomain = paddedDomain([...rows.map((r) => r.accuracy), ...runs.map((r) => 0.9 * r.baseline)], true, 0.05);
  const py = (acc: number): number => HEIGHT * (1 - (acc - yDomain[0]) / (yDomain[1] - yDomain[0]));
  // Level labels at the left end (small d: the curves are low there), above their line, or below it when the line above is
  // less than a row away (two runs with similar full-model accuracy).
  let prev = -Infinity;
  const levels = [...runs].sort((a, b) => b.baseline - a.baseline).map((r) => {
    const y = py(0.9 * r.baseline);
    const below = y - prev < 12;
    prev = below ? y + 12 : y;
    return { run: r.label, level: 0.9 * r.baseline, text: runs.length > 1 ? `90 % of full model (${r.label})` : '90 % of full model', labelY: below ? y + 9 : y - 7 };
  });
  const color = { field: 'run', type: 'nominal', title: 'run', sort: runs.map((r) => r.label) } as const;
  const y = { type: 'quantitative', title: 'test accuracy', scale: { domain: yDomain, nice: false }, axis: { format: '.0%' } } as const;
  const dint = runs.map((r) => `${r.label}: d_int90 ${r.dint90 ?? `not reached (> ${Math.max(...r.rows.map((x) => x.dim))})`}, full model ${(100 * r.baseline).toFixed(2)} %`);
  return {
    id: 'intrinsic-dim',
    title: 'Intrinsic dimension',
    caption: `Test accuracy when training only d numbers (θ = θ₀ + P·d), per intrinsic-dim run; dashed: 90 % of the full model's accuracy, the d_int90 level. ${dint.join('; ')}.`,
    marks: { curve: runs.length, point: rows.length, level: runs.length },
    spec: {
      $schema: SCHEMA, ...CONFIG,
      title: { text: 'Intrinsic dimension: accuracy vs subspace size d', subtitle: dint },
      width: WIDTH, height: HEIGHT,
      layer: [
        {
          data: { values: rows },
          encoding: { x: { field: 'dim', type: 'quantitative', title: 'd, trained numbers (log scale)', scale: { type: 'log', domain: dimDomain, nice: false }, axis: { values: logTicks(dimDomain), format: '~s' } }, y: { ...y, field: 'accuracy' }, color },
          layer: [
            { name: 'curve', mark: { type: 'line', strokeWidth: 2 } },
            { name: 'point', mark: { type: 'point', filled: true, size: 40 }, encoding: { tooltip: [{ field: 'run' }, { field: 'dim' }, { field: 'accuracy', format: '.2%' }] } },
          ],
        },
        {
          data: { values: levels },
          encoding: { color },
          layer: [
            { name: 'level', mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { ...y, field: 'level' } } },
            {
              name: 'level-label', mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 10 },
              encoding: { x: { value: 0 }, y: { field: 'labelY', type: 'quantitative', scale: null }, text: { field: 'text' } },
            },
          ],
        },
      ],
    },
  };
}

/** Every plot the runs allow, in report order: training curves, accuracy vs size, per-layer sizes, intrinsic dimension. */
export function plotSpecs(runs: readonly Run[], sizes: readonly LayerSize[]): PlotSpec[] {
  const train = runs.filter((r): r is TrainRun => r.kind === 'train');
  const compress = runs.filter((r): r is CompressRun => r.kind === 'compress');
  const dims = runs.filter((r): r is IntrinsicDimRun => r.kind === 'intrinsic-dim');
  return [
    ...(train.length ? trainingCurves(train) : []),
    ...(compress.length ? [accuracyVsSize(compress)] : []),
    ...(sizes.length ? [layerSizes(sizes)] : []),
    ...(dims.length ? [intrinsicDimCurves(dims)] : []),
  ];
}
