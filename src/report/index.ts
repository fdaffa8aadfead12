// `weightshare report` as a library: runs → plots (SVG and PNG) and a self-contained HTML page, written atomically into a folder.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { writeFileAtomic, type WriteOptions } from '../io/files.js';
import { storedSizes } from '../io/stored-file.js';
import { plotSpecs } from './plots.js';
import { renderSpec } from './render.js';
import { distinctLabels, type LayerSize, type Run } from './runs.js';
import { reportHtml } from './html.js';

export { RunFileError, parseRun, readRun, runKind, distinctLabels, MAX_RUN_JSON_BYTES } from './runs.js';
export type { Run, TrainRun, CompressRun, IntrinsicDimRun, CompressedLayer, LayerSize } from './runs.js';
export { PLOTTING_INSTALL, PLOTTING_PACKAGES, PlottingUnavailableError } from './render.js';

/** One rendered plot of a report. */
export interface ReportPlot {
  /** File name without extension: `<id>.svg`, `<id>.png`. */
  id: string;
  title: string;
  caption: string;
  /** The marks drawn, by name (e.g. `{ curve: 4, point: 8 }`); in the SVG each is a group of class `<name>_marks`. */
  marks: Record<string, number>;
  svg: string;
  png: Uint8Array;
  /** Pixel size of the PNG. */
  width: number;
  height: number;
  /** What vega-lite and vega warned about while rendering (none for the plots this module builds, as tested). */
  warnings: string[];
}

/** A report in memory: its plots and the HTML page that inlines them. */
export interface Report {
  runs: Run[];
  plots: ReportPlot[];
  html: string;
  /** Notes about data left out (e.g. a compress run's model file that could not be read). */
  notes: string[];
}

/** Options of {@link buildReport}. */
export interface ReportOptions {
  /** Heading of the HTML page (default 'weightshare report'). */
  title?: string;
  /** PNG pixels per SVG unit (default 2). */
  scale?: number;
}

/**
 * Per-weight sizes of the compress runs: from a run's `layers` (float32 bits vs compressed bits, fixed-width codes) when
 * present, else from the model file it wrote (`out`, as given or beside the JSON; each weight's stored tensors as `summary`
 * counts them). A file that cannot be read leaves the run out of the bars with a note.
 */
export function layerSizesOf(runs: readonly Run[], notes: string[] = []): LayerSize[] {
  const sizes: LayerSize[] = [];
  for (const r of runs) {
    if (r.kind !== 'compress') continue;
    if (r.layers) {
      for (const l of r.layers) sizes.push({ run: r.label, layer: l.path, float32: l.bitsBefore / 8, compressed: l.bitsAfter / 8, source: 'json' });
    } else if (r.out) {
      // `out` is as compress was given it: relative to where it ran, which is most often beside the JSON.
      const file = existsSync(r.out) || isAbsolute(r.out) ? r.out : join(dirname(r.file), r.out);
      try {
        for (const w of storedSizes(file).weights) sizes.push({ run: r.label, layer: w.path, float32: 4 * w.elements, compressed: w.bytes, source: 'file' });
      } catch (e) {
        notes.push(`${r.file}: no per-layer data and its model file ${file} cannot be read (${(e as Error).message.split('\n')[0]}): no size bars for this run`);
      }
    } else {
      notes.push(`${r.file}: no per-layer data ('layers') and no model file ('out'): no size bars for this run`);
    }
  }
  return sizes;
}

/** Builds the plots of `runs` (labels made distinct) and renders each to SVG and PNG, then the HTML page; nothing is written. */
export async function buildReport(runs: readonly Run[], o: ReportOptions = {}): Promise<Report> {
  if (!runs.length) throw new RangeError('buildReport: no runs');
  const labelled = distinctLabels(runs);
  const notes: string[] = [];
  const specs = plotSpecs(labelled, layerSizesOf(labelled, notes));
  const plots: ReportPlot[] = [];
  for (const p of specs) {
    const r = await renderSpec(p.spec, o.scale ?? 2);
    plots.push({ id: p.id, title: p.title, caption: p.caption, marks: p.marks, ...r });
  }
  return { runs: labelled, plots, notes, html: reportHtml(o.title ?? 'weightshare report', labelled, plots, notes) };
}

/**
 * Writes a report into `dir` (created if missing): `<id>.svg` and `<id>.png` for each plot, then `index.html`, each file
 * atomically ({@link writeFileAtomic}: complete or not replaced). Returns the paths written with their sizes.
 */
export function writeReport(dir: string, report: Report, o: WriteOptions = {}): { path: string; bytes: number }[] {
  const files: [string, string | Uint8Array][] = [
    ...report.plots.flatMap((p): [string, string | Uint8Array][] => [[`${p.id}.svg`, p.svg], [`${p.id}.png`, p.png]]),
    ['index.html', report.html],
  ];
  return files.map(([name, data]) => {
    const path = join(dir, name);
    writeFileAtomic(path, data, o);
    return { path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.length };
  });
}
