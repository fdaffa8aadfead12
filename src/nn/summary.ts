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

/** Virtual and free parameter counts and stored bits of a layer's weights (a tied weight's θ counts at its source). */
function layerStats(l: Model['layers'][number]): { virtual: number; free: number; bits: number; shared: boolean } {
  let virtual = 0;
  let free = 0;
  let bits = 0;
  let shared = false;
  for (const w of l.weights()) {
    const st = w.map.stats();
    virtual += st.virtual;
    free += st.free;
    bits += st.bits;
    if (w.map.kind !== 'dense') shared = true;
  }
  return { virtual, free, bits, shared };
}

/**
 * The summary table: one row per layer application (a reused layer's parameters are counted at its first
 * use and shown as "(shared)" after), then the totals. When some weight is shared by a map other than
 * `dense`, the table adds the virtual parameter count (elements of the effective weights W) and the bits
 * stored, and the totals compare them. Tied weights are listed under the table with the weight they are.
 */
export function formatSummary(m: Model): string {
  m.build();
  const sharing = m.layers.some((l) => layerStats(l).shared);
  // Keras adds "Connected to" (and the input rows) for functional models that are not a plain chain or reuse a layer.
  const graph = !m.isChain || m.graph.length > m.layers.length;
  const head = ['Layer (type)', 'Output Shape', 'Param #', ...(sharing ? ['Virtual #', 'Map', 'Bits'] : []), ...(graph ? ['Connected to'] : [])];
  const rows: string[][] = [];
  const counted = new Set<unknown>();
  let virtualTotal = 0;
  let bitsTotal = 0;
  const refOf = (t: Model['inputs'][number]): string => {
    const [name, node, index] = m.tensorRef(t);
    return `${name}[${node}][${index}]`;
  };
  if (graph) for (const t of m.inputs) rows.push([`${t.name} (InputLayer)`, `(None, ${t.shape.join(', ')})`, '0', ...(sharing ? ['', '', ''] : []), '-']);
  for (const n of m.graph) {
    const l = n.layer;
    const reused = counted.has(l);
    counted.add(l);
    const st = layerStats(l);
    if (!reused) {
      virtualTotal += st.virtual;
      bitsTotal += st.bits;
    }
    const shape = n.outputs.map((o) => `(None, ${o.shape.join(', ')})`).join(', ');
    const row = [`${l.name} (${l.className})`, shape, reused ? '(shared)' : thousands(st.free)];
    if (sharing) {
      const kinds = [...new Set(l.weights().map((w) => w.map.kind))].join('+') || '-';
      row.push(reused ? '' : thousands(st.virtual), kinds, reused ? '' : thousands(st.bits));
    }
    if (graph) row.push(n.inputs.map(refOf).join(', '));
    rows.push(row);
  }
  const w = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)) + 2);
  const right = new Set(sharing ? [2, 3, 5] : [2]);
  const line = (r: string[]): string => r.map((c, i) => (right.has(i) ? c.padStart(w[i] - 2) + '  ' : c.padEnd(w[i]))).join('').trimEnd();
  const width = w.reduce((a, b) => a + b, 0) - 2;
  const total = m.countParams();
  const out = [
    `Model: "${m.name}"`,
    '_'.repeat(width),
    line(head),
    '='.repeat(width),
    ...rows.flatMap((r, i) => (i ? ['_'.repeat(width), line(r)] : [line(r)])),
    '='.repeat(width),
    `Total params: ${thousands(total)} (${size(4 * total)})`,
    `Trainable params: ${thousands(total)} (${size(4 * total)})`,
    `Non-trainable params: 0 (0.00 B)`,
  ];
  if (sharing) {
    out.push(`Virtual params: ${thousands(virtualTotal)} (the effective weights W); stored: ${thousands(bitsTotal)} bits = ` +
      `${size(bitsTotal / 8)}, ${(virtualTotal * 32 / Math.max(1, bitsTotal)).toFixed(1)}× smaller than dense float32 weights`);
  }
  const ties = m.weights().filter((w) => w.map.kind === 'tied').map((w) => {
    const c = w.map.toJSON();
    return `${w.path} = ${String(c.to)}${c.transpose ? ' transposed' : ''}`;
  });
  if (ties.length) out.push(`Tied weights (their parameters counted once, at the source): ${ties.join('; ')}`);
  out.push('_'.repeat(width));
  return out.join('\n');
}
