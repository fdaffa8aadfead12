// Shared by the scripts that summarise experiment runs (text-results.mjs, gpt-results.mjs, faq-results.mjs): JSON-lines runs,
// means ± sample standard deviations over seeds, flags and marked sections of RESULTS.md.
import { existsSync, readFileSync } from 'node:fs';

/** The runs of `dir/name`, one JSON object per non-empty line; none when the file is missing. */
export const readRuns = (dir, name) => (existsSync(`${dir}/${name}`) ? readFileSync(`${dir}/${name}`, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : []);

/** Mean, sample standard deviation (0 for one value) and count. */
export const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { m, sd, n: xs.length };
};

/** `mean ± sd` with `d` decimals. */
export const meanSd = (xs, d = 3) => {
  const s = stats(xs);
  return `${s.m.toFixed(d)} ± ${s.sd.toFixed(d)}`;
};

/** The last value of history key `k` (the final epoch's). */
export const last = (h, k) => h[k][h[k].length - 1];

/** The value after `--name` in `args`, or `fallback`. */
export const option = (args, name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};

/** `doc` with `text` between the markers `<!-- results:name -->` and `<!-- /results:name -->` (appended when missing). */
export function replaceMarked(doc, name, text) {
  const begin = `<!-- results:${name} -->`, end = `<!-- /results:${name} -->`;
  const block = `${begin}\n${text.trim()}\n${end}`;
  if (!doc.includes(begin)) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, doc.indexOf(begin)) + block + doc.slice(doc.indexOf(end) + end.length);
}
