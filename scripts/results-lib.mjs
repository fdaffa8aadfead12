// Shared by the scripts that summarise experiment runs (text-results.mjs, gpt-results.mjs): JSON-lines runs and
// means ± sample standard deviations over seeds.
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
