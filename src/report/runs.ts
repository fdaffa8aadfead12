// The run JSON files that `train`, `compress` and `intrinsic-dim` write with --json: told apart by their fields, checked, and read into typed runs.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** A file that is not a run JSON (or not readable); the message is one line naming the file and, for a missing field, that field. */
export class RunFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'RunFileError';
  }
}

/** What every run has: its file and the label its plots give it (the file name without `.json`, or as given). */
interface RunBase {
  file: string;
  label: string;
  model?: string;
  dataset?: string;
}

/** A `train --json` run: the per-epoch history (`loss`, `accuracy`, `val_loss`, …) and the test scores. */
export interface TrainRun extends RunBase {
  kind: 'train';
  /** Per-epoch values by metric name; `null` where JSON could not hold the number (NaN). */
  history: Record<string, (number | null)[]>;
  test?: Record<string, number>;
  parameters?: number;
}

/** One compressed weight of a compress JSON's `layers`: its element count and its bits as float32 and as compressed. */
export interface CompressedLayer {
  path: string;
  weights: number;
  bitsBefore: number;
  bitsAfter: number;
  clusters?: number;
  pruned?: number;
}

/** A `compress --json` run: method and settings, accuracy before and after, the file's size, per-layer bits when present. */
export interface CompressRun extends RunBase {
  kind: 'compress';
  /** deep-compression, prune-schedule or soft-sharing. */
  method: string;
  /** The settings in a few words, e.g. 'prune 92 %, 32 clusters' (empty: the label says it all). */
  scheme: string;
  fileBytes: number;
  /** Test accuracy of the compressed model (after the last stage). */
  accuracy: number;
  /** Test accuracy of the model before compression. */
  before?: number;
  layers?: CompressedLayer[];
  /** The compressed model file the run wrote (`out`). */
  out?: string;
}

/** An `intrinsic-dim --json` run: the full model's accuracy and one row per subspace size d. */
export interface IntrinsicDimRun extends RunBase {
  kind: 'intrinsic-dim';
  baseline: number;
  rows: { dim: number; accuracy: number }[];
  dint90?: number;
  projection?: string;
  parameters?: number;
}

/** One weight's bytes in one compress run, as float32 and as compressed (the per-layer bars). */
export interface LayerSize {
  run: string;
  layer: string;
  float32: number;
  compressed: number;
  /** Where the compressed bytes come from: the run JSON's fixed-width bits, or the model file's stored tensors. */
  source: 'json' | 'file';
}

/** A run of any kind. */
export type Run = TrainRun | CompressRun | IntrinsicDimRun;

/** Run JSON files larger than this are refused before reading (a train history of 10,000 epochs is well under 1 MiB). */
export const MAX_RUN_JSON_BYTES = 64 << 20;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isFrac = (v: unknown): v is number => isNum(v) && v >= 0 && v <= 1;

/** Field reader of one file: each `need…` throws a RunFileError naming the file, the kind and the field (by its path). */
function fields(file: string, kind: string) {
  const fail = (msg: string): never => { throw new RunFileError(file, `${kind} run JSON ${msg}`); };
  const at = (o: Obj, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Obj)[k] : undefined), o);
  const need = (o: Obj, path: string, what: string, ok: (v: unknown) => boolean): unknown => {
    const v = at(o, path);
    if (v === undefined) fail(`without field '${path}'`);
    if (!ok(v)) fail(`has a field '${path}' that is not ${what}`);
    return v;
  };
  return {
    fail,
    num: (o: Obj, path: string): number => need(o, path, 'a finite number', isNum) as number,
    /** A count of at least `min`: a whole number a double holds exactly. */
    count: (o: Obj, path: string, min: number): number => need(o, path, `a whole number of at least ${min}`, (v) => Number.isSafeInteger(v) && (v as number) >= min) as number,
    /** An accuracy: a fraction in [0, 1]. */
    frac: (o: Obj, path: string): number => need(o, path, 'an accuracy between 0 and 1', isFrac) as number,
    optFrac: (o: Obj, path: string): number | undefined => (at(o, path) === undefined ? undefined : need(o, path, 'an accuracy between 0 and 1', isFrac) as number),
    obj: (o: Obj, path: string): Obj => need(o, path, 'an object', isObj) as Obj,
    arr: (o: Obj, path: string): unknown[] => need(o, path, 'a non-empty array', (v) => Array.isArray(v) && v.length > 0) as unknown[],
    optStr: (o: Obj, path: string): string | undefined => (typeof at(o, path) === 'string' ? at(o, path) as string : undefined),
    optNum: (o: Obj, path: string): number | undefined => (isNum(at(o, path)) ? at(o, path) as number : undefined),
  };
}

/** Which kind of run a JSON object is, by the field only that command writes; a CliError-style message names the fields looked for. */
export function runKind(j: unknown, file: string): Run['kind'] {
  if (isObj(j)) {
    if ('history' in j) return 'train';
    if ('fileBytes' in j) return 'compress';
    if ('rows' in j) return 'intrinsic-dim';
  }
  throw new RunFileError(file, `not a run JSON of train, compress or intrinsic-dim: ${isObj(j) ? 'no' : `${Array.isArray(j) ? 'an array' : `a ${j === null ? 'null' : typeof j}`}, not an object with a`} field 'history' (train --json), 'fileBytes' (compress --json) or 'rows' (intrinsic-dim --json)`);
}

/** Distinct values in order of first appearance, joined by '/': [92, 92, 74] → '92/74'. */
const distinct = (xs: readonly (string | number)[]): string => [...new Set(xs)].join('/');

/**
 * 'prune 92 %, 32 clusters' — a compress run's scheme in a few words: from its per-layer data when present (so per-layer
 * pruning shows as 'prune 92/91/74 %', conv and dense clusters as '256/32 clusters'), else from its settings.
 */
function describeScheme(s: Obj, method: string, layers: readonly CompressedLayer[] | undefined): string {
  const soft = isObj(s.softSharing) ? s.softSharing : undefined;
  if (method === 'soft-sharing' && soft) return `${String(soft.components)} components, τ ${String(soft.tau)}`;
  const pct = (f: number): number => Math.round(1000 * f) / 10;
  const prunes = layers ? layers.map((l) => pct((l.pruned ?? 0) / Math.max(1, l.weights))) : isNum(s.prune) ? [pct(s.prune), ...(isNum(s.convPrune) ? [pct(s.convPrune)] : [])] : [];
  const clusters = layers?.every((l) => l.clusters !== undefined) ? layers.map((l) => l.clusters!) : isNum(s.clusters) ? [s.clusters] : [];
  const parts: string[] = [];
  if (prunes.some((p) => p > 0)) parts.push(`prune ${distinct(prunes)} %`);
  if (clusters.length) parts.push(`${distinct(clusters)} clusters`);
  if (isNum(s.pruneFinetuneEpochs) && s.pruneFinetuneEpochs > 0) parts.push(`retrained ${s.pruneFinetuneEpochs}`);
  return parts.join(', ') || method;
}

/**
 * Reads a parsed run JSON (what `train`, `compress` or `intrinsic-dim` print with --json) into a typed run; `file` names it in
 * errors and gives the default label. Throws RunFileError for an object that is none of them or lacks a field its kind needs.
 */
export function parseRun(j: unknown, file: string, label = basename(file).replace(/\.json$/i, '')): Run {
  const kind = runKind(j, file);
  const o = j as Obj;
  const f = fields(file, kind);
  const base = { file, label, model: f.optStr(o, 'model'), dataset: f.optStr(o, 'dataset') };
  switch (kind) {
    case 'train': {
      const h = f.obj(o, 'history');
      const history: Record<string, (number | null)[]> = {};
      for (const [k, v] of Object.entries(h)) {
        if (!Array.isArray(v) || !v.every((x) => x === null || isNum(x))) f.fail(`has a field 'history.${k}' that is not an array of numbers (one per epoch)`);
        if (k.endsWith('accuracy') && !(v as (number | null)[]).every((x) => x === null || isFrac(x))) f.fail(`has a field 'history.${k}' with a value outside [0, 1]`);
        if ((v as unknown[]).length) history[k] = v as (number | null)[];
      }
      if (!Object.keys(history).length) f.fail(`without per-epoch values: field 'history' holds no metric (e.g. 'history.loss')`);
      const test = isObj(o.test) ? Object.fromEntries(Object.entries(o.test).filter(([k, v]) => (k.endsWith('accuracy') ? isFrac(v) : isNum(v)))) as Record<string, number> : undefined;
      return { kind, ...base, history, test, parameters: f.optNum(o, 'parameters') };
    }
    case 'compress': {
      const settings = f.obj(o, 'settings');
      const method = typeof settings.method === 'string' ? settings.method : 'deep-compression';
      let layers: CompressedLayer[] | undefined;
      if (o.layers !== undefined) {
        const ls = f.arr(o, 'layers');
        layers = ls.map((l, i) => {
          if (!isObj(l)) return f.fail(`has a field 'layers.${i}' that is not an object`);
          const path = typeof l.path === 'string' ? l.path : f.fail(`without field 'layers.${i}.path'`);
          const num = (k: string): number => f.num(o, `layers.${i}.${k}`);
          return { path, weights: num('weights'), bitsBefore: num('bitsBefore'), bitsAfter: num('bitsAfter'), clusters: f.optNum(l, 'clusters'), pruned: f.optNum(l, 'pruned') };
        });
      }
      return {
        kind, ...base, method, scheme: describeScheme(settings, method, layers),
        fileBytes: f.count(o, 'fileBytes', 1), accuracy: f.frac(o, 'finetuned.accuracy'), before: f.optFrac(o, 'before.accuracy'),
        layers, out: f.optStr(o, 'out'),
      };
    }
    case 'intrinsic-dim': {
      const rows = f.arr(o, 'rows').map((r, i) => {
        if (!isObj(r)) return f.fail(`has a field 'rows.${i}' that is not an object`);
        return { dim: f.count(o, `rows.${i}.dim`, 1), accuracy: f.frac(o, `rows.${i}.accuracy`) };
      });
      return {
        kind, ...base, baseline: f.frac(o, 'baseline.accuracy'), rows, dint90: f.optNum(o, 'dint90'),
        projection: f.optStr(o, 'projection'), parameters: f.optNum(o, 'parameters'),
      };
    }
  }
}

/** Reads and parses one run JSON file ({@link parseRun}); a missing, unreadable, oversized or non-JSON file is a RunFileError naming it. */
export function readRun(file: string, label?: string): Run {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new RunFileError(file, 'not a regular file');
    if (st.size > MAX_RUN_JSON_BYTES) throw new RunFileError(file, `${st.size} bytes is too large for a run JSON (at most ${MAX_RUN_JSON_BYTES})`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof RunFileError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new RunFileError(file, err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.message}`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new RunFileError(file, `not JSON (${text.trim() === '' ? 'the file is empty' : (e as Error).message.split('\n')[0]})`);
  }
  return parseRun(j, file, label);
}

/** Labels that tell runs apart: a label several runs share gets the file's folder (`a/run`, `b/run`), then a number if still shared. */
export function distinctLabels<R extends Run>(runs: readonly R[]): R[] {
  const dedupe = (rs: readonly R[], relabel: (r: R, n: number) => string): R[] => {
    const count = new Map<string, number>();
    for (const r of rs) count.set(r.label, (count.get(r.label) ?? 0) + 1);
    const seen = new Map<string, number>();
    return rs.map((r) => {
      if (count.get(r.label)! < 2) return r;
      const n = (seen.get(r.label) ?? 0) + 1;
      seen.set(r.label, n);
      return { ...r, label: relabel(r, n) };
    });
  };
  const byDir = dedupe(runs, (r) => `${basename(dirname(resolve(r.file)))}/${r.label}`);
  return dedupe(byDir, (r, n) => `${r.label} (${n})`);
}
