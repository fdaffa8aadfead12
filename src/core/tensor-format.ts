// Tensor printing as TF.js does it (`Tensor.toString()`, `print()`): nested brackets, each column padded to its widest value, long axes
// summarised with their first and last three entries around '...'.
import { fmt } from './errors.js';
import type { Shape } from './shape.js';

/** Axes longer than this are summarised (TF.js' FORMAT_LIMIT_NUM_VALS). */
const LIMIT = 20;
/** Entries kept at each end of a summarised axis. */
const EDGE = 3;

/** One value as TF.js writes it: float32 with at most 7 decimals (trailing zeros dropped), int32 as is. */
function valueText(v: number, dtype: string): string {
  if (dtype === 'int32' || !Number.isFinite(v)) return String(v);
  return String(parseFloat(v.toFixed(7)));
}

/**
 * The values of a row-major array of `shape` as nested bracketed lines, TF.js style: each column padded to its widest value
 * shown, an axis longer than 20 shown as its first and last three entries around '...'.
 */
export function formatValues(data: ArrayLike<number>, shape: Shape, dtype: string): string[] {
  if (shape.length === 0) return [valueText(data[0], dtype)];
  const shown = (n: number): number[] => (n > LIMIT ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()]);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  // Each column of the last axis is as wide as its widest printed value, values left-aligned (TF.js' padPerCol).
  const width = new Map<number, number>();
  const visit = (dim: number, off: number): void => {
    for (const i of shown(shape[dim])) {
      if (i < 0) continue;
      if (dim === shape.length - 1) width.set(i, Math.max(width.get(i) ?? 0, valueText(data[off + i], dtype).length));
      else visit(dim + 1, off + i * strides[dim]);
    }
  };
  visit(0, 0);
  // A sub-array's lines carry their own brackets; a parent opens with '[' and indents the rest of its lines by one space.
  const build = (dim: number, off: number): string[] => {
    if (dim === shape.length - 1) {
      return [`[${shown(shape[dim]).map((i) => (i < 0 ? '...' : valueText(data[off + i], dtype).padEnd(width.get(i)!))).join(', ')}]`];
    }
    const blocks = shown(shape[dim]).map((i) => (i < 0 ? ['...'] : build(dim + 1, off + i * strides[dim])));
    const gap = shape.length - dim - 2; // blank lines between blocks of rank ≥ 2, as TF.js
    const lines: string[] = [];
    blocks.forEach((block, k) => {
      const last = k === blocks.length - 1;
      block.forEach((line, j) => {
        const end = j < block.length - 1 ? '' : last ? ']' : ',';
        lines.push(`${k === 0 && j === 0 ? '[' : ' '}${line}${end}`);
      });
      if (!last) for (let g = 0; g < gap; g++) lines.push('');
    });
    return lines;
  };
  return build(0, 0);
}

/** `Tensor` and the values (indented 4), or with `verbose` also dtype, rank and shape, as TF.js' `toString(verbose)`. */
export function formatTensor(data: ArrayLike<number>, shape: Shape, dtype: string, verbose: boolean): string {
  const head = ['Tensor'];
  if (verbose) head.push(`  dtype: ${dtype}`, `  rank: ${shape.length}`, `  shape: ${fmt(shape)}`, '  values:');
  return [...head, ...formatValues(data, shape, dtype).map((l) => (l === '' ? l : `    ${l}`))].join('\n');
}
