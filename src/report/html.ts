// The report's HTML page: one self-contained file (inline CSS and SVGs, no script, nothing fetched) with a table of the runs and each plot.
import { formatBytes } from './plots.js';
import type { Run } from './runs.js';

/** The parts of a plot the page shows. */
interface PagePlot {
  id: string;
  title: string;
  caption: string;
  svg: string;
  width: number;
  height: number;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * An SVG ready to inline beside others: the XML declaration dropped, and its ids (vega numbers clip paths and gradients
 * from 1 in every SVG) prefixed with the plot's id so that two plots on one page never share one.
 */
export function inlineSvg(svg: string, prefix: string): string {
  return svg
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/(xlink:)?href="#([^"]+)"/g, (_, x: string | undefined, id: string) => `${x ?? ''}href="#${prefix}-${id}"`);
}

const pct = (v: number): string => `${(100 * v).toFixed(2)} %`;
const last = (xs: readonly (number | null)[] | undefined): number | undefined => {
  const v = xs?.filter((x): x is number => x !== null);
  return v?.length ? v[v.length - 1] : undefined;
};

/** One line saying what a run gave: test scores, compressed accuracy and size, or d_int90. */
function outcome(r: Run): string {
  switch (r.kind) {
    case 'train': {
      const epochs = Math.max(...Object.values(r.history).map((h) => h.length));
      const test = r.test ? Object.entries(r.test).map(([k, v]) => `${k.replace(/_/g, ' ')} ${k.endsWith('accuracy') ? pct(v) : v.toFixed(4)}`).join(', ') : '';
      const lastLoss = last(r.history.loss);
      return `${epochs} epoch${epochs === 1 ? '' : 's'}${lastLoss !== undefined ? `, last training loss ${lastLoss.toFixed(4)}` : ''}${test ? `; test: ${test}` : ''}`;
    }
    case 'compress':
      return `${r.method} (${r.scheme}): accuracy ${r.before !== undefined ? `${pct(r.before)} → ` : ''}${pct(r.accuracy)}, file ${formatBytes(r.fileBytes)}`;
    case 'intrinsic-dim':
      return `full model ${pct(r.baseline)}; d = ${r.rows.map((x) => x.dim).join(', ')}; d_int90 ${r.dint90 ?? 'not reached'}`;
  }
}

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}',
  'table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}',
  'th{background:#f3f3f3}figure{margin:1.5rem 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.9rem;color:#444;max-width:60rem}',
  'code{font-size:.85rem}.notes{color:#8a4b00}',
].join('\n');

/** The HTML page of a report: a title, the table of runs, any notes, then each plot inline with its caption and links to its SVG and PNG files. */
export function reportHtml(title: string, runs: readonly Run[], plots: readonly PagePlot[], notes: readonly string[] = []): string {
  const rows = runs.map((r) => `<tr><td>${escapeHtml(r.label)}</td><td>${r.kind}</td><td>${escapeHtml([r.model, r.dataset].filter(Boolean).join(' on '))}</td><td>${escapeHtml(outcome(r))}</td><td><code>${escapeHtml(r.file)}</code></td></tr>`);
  const figures = plots.map((p) => [
    `<section id="${p.id}">`,
    `<h2>${escapeHtml(p.title)}</h2>`,
    '<figure>',
    inlineSvg(p.svg, p.id),
    `<figcaption>${escapeHtml(p.caption)} Files: <a href="${p.id}.svg">${p.id}.svg</a>, <a href="${p.id}.png">${p.id}.png</a> (${p.width}×${p.height} px).</figcaption>`,
    '</figure>',
    '</section>',
  ].join('\n'));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${runs.length} run${runs.length === 1 ? '' : 's'}, ${plots.length} plot${plots.length === 1 ? '' : 's'}: ${plots.map((p) => `<a href="#${p.id}">${escapeHtml(p.title)}</a>`).join(', ')}.</p>`,
    '<table>',
    '<thead><tr><th>run</th><th>kind</th><th>model</th><th>outcome</th><th>file</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
    ...(notes.length ? [`<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`] : []),
    ...figures,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
