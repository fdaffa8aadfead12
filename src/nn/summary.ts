// Model.summary(): a Keras-style table of layers, output shapes and parameter counts.
import type { Model } from './model.js';

/** Formats an integer with thousands separators: 225,034. */
export function thousands(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes in KB/MB as Keras prints them. */
function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(2)} KB`;
}

/**
 * The summary table: one row per layer application (a reused layer's parameters are counted at its first
 * use and shown as "shared" after), then the totals.
 */
export function formatSummary(m: Model): string {
  m.build();
  const rows: [string, string, string][] = [];
  const counted = new Set<unknown>();
  for (const n of m.graph) {
    const l = n.layer;
    const reused = counted.has(l);
    counted.add(l);
    rows.push([`${l.name} (${l.className})`, `(None, ${n.output.shape.join(', ')})`, reused ? `(shared)` : thousands(l.countParams())]);
  }
  const head: [string, string, string] = ['Layer (type)', 'Output Shape', 'Param #'];
  const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)) + 2);
  const line = (r: [string, string, string]): string => (r[0].padEnd(w[0]) + r[1].padEnd(w[1]) + r[2].padStart(w[2] - 2)).trimEnd();
  const width = w[0] + w[1] + w[2] - 2;
  const total = m.countParams();
  return [
    `Model: "${m.name}"`,
    '_'.repeat(width),
    line(head),
    '='.repeat(width),
    ...rows.flatMap((r, i) => (i ? ['_'.repeat(width), line(r)] : [line(r)])),
    '='.repeat(width),
    `Total params: ${thousands(total)} (${size(4 * total)})`,
    `Trainable params: ${thousands(total)} (${size(4 * total)})`,
    `Non-trainable params: 0 (0.00 B)`,
    '_'.repeat(width),
  ].join('\n');
}
