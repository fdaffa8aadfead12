// `weightshare report`: run JSONs of train, compress and intrinsic-dim in, an HTML page with SVG and PNG plots out (report/).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { WriteError } from '../io/files.js';
import { buildReport, PLOTTING_INSTALL, PlottingUnavailableError, readRun, RunFileError, writeReport } from '../report/index.js';
import { defineCommand, type ParsedArgs } from './args.js';
import { CliError, COMMON_FLAGS, holdingOutputs, type Io, WRITE_FLAGS } from './common.js';

export const reportSpec = defineCommand({
  name: 'report',
  summary: 'Plot the --json output of train, compress and intrinsic-dim: an HTML page with SVG and PNG plots',
  description:
    'Reads one or more JSON files that train, compress or intrinsic-dim printed with --json (the kind is told by its fields) and\n' +
    'writes into --out: index.html (self-contained, works offline: the SVGs inline, no scripts), and an SVG and a PNG per plot:\n' +
    'training curves (one plot per metric: loss, accuracy, …, per epoch; train solid, validation dashed, several runs overlaid),\n' +
    'accuracy vs file size (compress runs, log axis, labelled by run and scheme), size per layer (float32 vs compressed, from the\n' +
    'JSON\'s per-layer data, or from the model file it names), and intrinsic dimension (accuracy vs d, the 90 % level dashed).\n' +
    'Runs are labelled by file name. Every file is checked before anything is written; each output file is written atomically.\n' +
    `Plots need the optional packages vega, vega-lite and @resvg/resvg-js: ${PLOTTING_INSTALL}`,
  positionals: [{ name: 'runs', required: true, variadic: true, description: 'JSON files written by `weightshare train|compress|intrinsic-dim … --json > run.json`' }],
  flags: {
    out: { type: 'string', short: 'o', metavar: 'dir', default: 'report', description: 'Folder for index.html and the plots (created if missing)' },
    title: { type: 'string', description: 'Heading of the HTML page (default: weightshare report)' },
    scale: { type: 'number', default: 2, min: 0.25, max: 8, description: 'PNG pixels per SVG pixel' },
    ...WRITE_FLAGS,
    json: COMMON_FLAGS.json,
    verbose: COMMON_FLAGS.verbose,
  },
  examples: [
    'weightshare train --model mlp --epochs 3 --validation-split 0.1 --json > mlp.json',
    'weightshare compress mlp-mnist-sample.wsm --prune 0.9 --clusters 32 --json > mlp-dc.json',
    'weightshare report mlp.json mlp-dc.json --out report',
  ],
});

/** Runs `weightshare report`: reads every run (a bad file stops here), renders the plots, locks every output, then writes the plots and index.html last. */
export function reportCommand(a: ParsedArgs<typeof reportSpec>, io: Io): Promise<number> {
  return holdingOutputs(a.flags.force, (hold) => runReport(a, io, hold));
}

async function runReport(a: ParsedArgs<typeof reportSpec>, io: Io, hold: (path: string) => void): Promise<number> {
  const f = a.flags;
  const dir = f.out;
  let isDir = true;
  try {
    isDir = statSync(dir).isDirectory();
  } catch { /* missing: created on the first write */ }
  if (!isDir) throw new CliError(`--out ${dir}: not a folder (report writes index.html and the plots into a folder)`);
  const runs = a.positionals.runs.map((file) => {
    try {
      return readRun(file);
    } catch (e) {
      if (e instanceof RunFileError) throw new CliError(e.message);
      throw e;
    }
  });
  let report;
  try {
    report = await buildReport(runs, { title: f.title, scale: f.scale });
  } catch (e) {
    if (e instanceof PlottingUnavailableError) throw new CliError(e.message);
    throw e;
  }
  // Every output is locked (and checked replaceable) before the first is written: the folder is made only now.
  for (const p of report.plots) {
    hold(join(dir, `${p.id}.svg`));
    hold(join(dir, `${p.id}.png`));
  }
  hold(join(dir, 'index.html'));
  let files;
  try {
    files = writeReport(dir, report, { force: f.force });
  } catch (e) {
    if (e instanceof WriteError) throw e;
    throw new CliError(`${dir}: cannot write the report: ${(e as Error).message}`);
  }
  const kinds = (['train', 'compress', 'intrinsic-dim'] as const).map((k) => [k, report.runs.filter((r) => r.kind === k).length] as const).filter(([, n]) => n > 0);
  io.err.write(`report: ${report.runs.length} run${report.runs.length === 1 ? '' : 's'} (${kinds.map(([k, n]) => `${n} ${k}`).join(', ')}) → ${report.plots.length} plot${report.plots.length === 1 ? '' : 's'}\n`);
  for (const p of report.plots) {
    const marks = Object.entries(p.marks).map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`).join(', ');
    io.err.write(`  ${p.id}: ${p.title} (${marks}) → ${p.id}.svg, ${p.id}.png ${p.width}×${p.height}\n`);
  }
  for (const n of report.notes) io.err.write(`note: ${n}\n`);
  for (const p of report.plots) for (const w of p.warnings) io.err.write(`note: ${p.id}: ${w}\n`);
  io.err.write(`Saved ${join(dir, 'index.html')} (${files.length} files)\n`);
  if (f.json) {
    io.out.write(JSON.stringify({
      out: dir, index: join(dir, 'index.html'),
      runs: report.runs.map((r) => ({ file: r.file, kind: r.kind, label: r.label })),
      plots: report.plots.map((p) => ({ id: p.id, title: p.title, svg: join(dir, `${p.id}.svg`), png: join(dir, `${p.id}.png`), width: p.width, height: p.height, marks: p.marks })),
      files, notes: [...report.notes, ...report.plots.flatMap((p) => p.warnings.map((w) => `${p.id}: ${w}`))],
    }, null, 2) + '\n');
  }
  return 0;
}
