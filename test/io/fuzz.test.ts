// Fuzz suite (issue 15): seeded mutations of model files, IDX files and PNGs; each ends in a clean error, the same
// predictions, or a well-formed load of other weights — with the peak memory of every case bounded.
// Fast by default (CI, a few seconds); WEIGHTSHARE_FUZZ=long runs 20× the cases; WEIGHTSHARE_FUZZ_SEED=n picks the seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { tensor } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { DataError, readIdx, writeIdx } from '../../src/data/idx.js';
import { readPng, writePng } from '../../src/data/png.js';
import { crc32 } from '../../src/io/crc32.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { Dense, Dropout, LayerNormalization, sequential } from '../../src/nn/index.js';
import type { Model } from '../../src/nn/model.js';
import { editHeader, fixCrc, type FileHeader } from '../helpers/model-bytes.js';
import { measurePeak, memoryBound } from '../helpers/memory.js';
import { mulberry32 } from '../helpers/random.js';

const LONG = process.env.WEIGHTSHARE_FUZZ === 'long';
const SEED = Number(process.env.WEIGHTSHARE_FUZZ_SEED ?? 15);
const CASES = { model: LONG ? 36000 : 1800, idx: LONG ? 16000 : 800, png: LONG ? 16000 : 800 };

/** A seeded source of choices. */
class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** Flips 1–8 random bits of a copy of `bytes` at or after `from`. */
function flipBits(bytes: Uint8Array, rng: Rng, from = 0): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let k = 1 + rng.int(8); k > 0; k--) out[from + rng.int(out.length - from)]! ^= 1 << rng.int(8);
  return out;
}

/** What fuzzing one kind of file found: counts per outcome, and the cases that broke a rule. */
class Tally {
  readonly counts: Record<string, number> = {};
  readonly broken: string[] = [];
  note(outcome: string, label = ''): void {
    if (process.env.WEIGHTSHARE_FUZZ_LOG) console.log(`${outcome}: ${label}`);
    this.counts[outcome] = (this.counts[outcome] ?? 0) + 1;
  }
  summary(): string {
    return Object.entries(this.counts).map(([k, v]) => `${k} ${v}`).join(', ');
  }
}

/** The class and first line of something thrown. */
function describe(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message.split('\n')[0]}` : `a thrown ${typeof e}`;
}

/**
 * Runs one case: `attempt` must throw an instance of `errorClass` with a one-line message, or return (then `accept`
 * judges the result, returning its outcome or a complaint starting with 'BROKEN'); its peak memory must stay under
 * 256 MB + 2× the file's size.
 */
function runCase<T>(tally: Tally, label: string, size: number, errorClass: typeof CheckpointError | typeof DataError, attempt: () => T, accept: (r: T) => string): void {
  const r = measurePeak(attempt);
  if (r.peakRise > memoryBound(size)) tally.broken.push(`${label}: peak RSS rose by ${(r.peakRise / 2 ** 20).toFixed(0)} MiB`);
  if (r.error !== undefined) {
    const e = r.error as Error;
    if (!(e instanceof (errorClass as typeof Error))) tally.broken.push(`${label}: ${describe(r.error)} instead of ${errorClass.name}`);
    else if (e.message.includes('\n')) tally.broken.push(`${label}: a message of several lines: ${JSON.stringify(e.message)}`);
    else tally.note('clean error');
    return;
  }
  const outcome = accept(r.result as T);
  if (outcome.startsWith('BROKEN')) tally.broken.push(`${label}: ${outcome}`);
  else tally.note(outcome, label);
}

// ---------------------------------------------------------------------------------------------
// Model files

interface Base { name: string; bytes: Uint8Array; x: Tensor; y: Float32Array }

/**
 * The model files the mutations start from: an MLP with a hashed kernel and Adam state, a compressed (coded) one, each
 * also with its header compressed (format 3), and two files of an earlier version.
 */
function modelBases(): Base[] {
  const bases: Base[] = [];
  const add = (name: string, bytes: Uint8Array, inputs: number): void => {
    const x = tensor(Float32Array.from({ length: 2 * inputs }, (_, i) => Math.sin(1 + i)), [2, inputs]);
    const m = load(bytes);
    bases.push({ name, bytes, x, y: m.predict(x).f32() });
    m.dispose();
  };
  const mlp = sequential([
    new Dense({ units: 6, activation: 'relu', maps: { kernel: 'hashed:buckets=12' } }), new LayerNormalization(), new Dropout({ rate: 0.2 }),
    new Dense({ units: 3, activation: 'softmax' }),
  ], { inputShape: [8] }).build(1);
  mlp.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  mlp.trainOnBatch(tensor(Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)), [2, 8]), tensor(Int32Array.of(0, 2), [2], 'int32'));
  const training = { epoch: 1, epochs: 2, batchSize: 2, seed: 3, limit: 64, history: { epoch: [0], history: { loss: [1.1] } } };
  add('mlp', encodeCheckpoint(modelToCheckpoint(mlp, { training })), 8);
  add('mlp, header compressed', encodeCheckpoint(modelToCheckpoint(mlp, { training }), 'fuzz.wsm', { compressHeader: true }), 8);
  const packed = sequential([
    new Dense({ units: 16, activation: 'tanh', maps: { kernel: { kind: 'codebook', clusters: 4, prune: 0.5 } } }),
    new Dense({ units: 4, maps: { kernel: 'pruned:0.75' } }),
  ], { inputShape: [16] }).build(2);
  add('compressed', encodeCheckpoint(modelToCheckpoint(packed)), 16);
  add('compressed, for shipping (header compressed)', encodeCheckpoint(modelToCheckpoint(packed, { withCompile: false }), 'fuzz.wsm', { compressHeader: true }), 16);
  const dir = fileURLToPath(new URL('../../../test/fixtures/models/', import.meta.url));
  for (const old of ['old-sequential', 'old-functional']) add(old, readFileSync(`${dir}${old}.wsm`), 6);
  return bases;
}

/** Loads model-file bytes as loadModel does (lazy decoding, the default limits). */
function load(bytes: Uint8Array): Model {
  return modelFromCheckpoint(decodeCheckpoint(bytes, 'fuzz.wsm', { lazy: true }), 'fuzz.wsm').model;
}

const ODD_VALUES: readonly unknown[] = [0, -1, 1, 1.5, 2 ** 31, 2e9, 1e308, -1e308, 'x', '', null, true, false, [], {}, [2e9], [0], ['x'], 'linear', 'softmax'];

/** Every path (list of keys) inside a JSON value, the root excluded. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return keys.flatMap((k) => [[...prefix, k], ...paths((v as Record<string | number, unknown>)[k], [...prefix, k])]);
}

/** A crafted header: one field of the meta or of a tensor entry set to an odd value, deleted, renamed (a typo) or joined by an unknown one. */
function craftHeader(h: FileHeader, rng: Rng): string {
  const root = rng.int(3) === 0 ? { tensors: h.tensors } : { meta: h.meta };
  const all = paths(root);
  const path = rng.pick(all);
  const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], root);
  const key = path[path.length - 1]!;
  const op = rng.int(4);
  if (op === 0) parent[key] = structuredClone(rng.pick(ODD_VALUES));
  else if (op === 1 && !Array.isArray(parent)) delete parent[key];
  else if (op === 2 && !Array.isArray(parent)) {
    const typo = String(key).slice(1) || 'x';
    parent[typo] = parent[key];
    delete parent[key];
  } else if (typeof parent[key] === 'object' && parent[key] !== null && !Array.isArray(parent[key])) parent[key].extra = 1;
  else parent[key] = typeof parent[key] === 'number' ? parent[key] * 1000 + 1 : structuredClone(rng.pick(ODD_VALUES));
  return `${['set', 'delete', 'rename', 'extra'][op]} ${path.join('.')}`;
}

/** Compressed-header (format 3) bytes whose declared inflated length lies, or whose deflate stream has bits flipped; CRC fixed. */
function mutateCompressedHeader(b: Base, rng: Rng): [string, Uint8Array] {
  const view = new DataView(b.bytes.buffer, b.bytes.byteOffset);
  const headerEnd = 16 + view.getUint32(8, true), declared = view.getUint32(16, true);
  if (rng.int(2) === 0) {
    const lie = rng.pick([0, 1, declared - 1, declared + 1, 2 * declared, 2 ** 24, 2 ** 24 + 1, 2 ** 32 - 1]);
    const out = Uint8Array.from(b.bytes);
    new DataView(out.buffer).setUint32(16, lie, true);
    return [`compressed header declares ${lie} bytes (inflates to ${declared})`, fixCrc(out)];
  }
  const out = Uint8Array.from(b.bytes);
  out.set(flipBits(b.bytes.subarray(0, headerEnd), rng, 20), 0);
  return ['compressed header: stream bits flipped, CRC fixed', fixCrc(out)];
}

/** One mutation of a model file, and its name. */
function mutateModel(b: Base, rng: Rng): [string, Uint8Array] {
  const headerEnd = 16 + new DataView(b.bytes.buffer, b.bytes.byteOffset).getUint32(8, true);
  const compressed = new DataView(b.bytes.buffer, b.bytes.byteOffset).getUint32(4, true) === 3;
  switch (rng.int(compressed ? 6 : 5)) {
    case 0: {
      const n = rng.int(b.bytes.length);
      return [`truncated to ${n} bytes`, b.bytes.slice(0, n)];
    }
    case 1: return ['bits flipped', flipBits(b.bytes, rng)];
    case 2: return ['bits flipped, CRC fixed', fixCrc(flipBits(b.bytes, rng))];
    case 3: {
      const out = new Uint8Array(b.bytes.length);
      out.set(flipBits(b.bytes.subarray(0, b.bytes.length - 4), rng, headerEnd));
      return ['data bits flipped, CRC fixed', fixCrc(out)];
    }
    case 4: {
      let what = '';
      const bytes = editHeader(b.bytes, (h) => { what = craftHeader(h, rng); });
      return [`header: ${what}`, bytes];
    }
    default: return mutateCompressedHeader(b, rng);
  }
}

/** A load that differs from the original must be of a well-formed file: finite weights, and saving and loading it again predicts the same. */
function wellFormed(m: Model, x: Tensor, y: Float32Array, outcome: string): string {
  for (const [k, w] of m.getWeights()) if (!w.every(Number.isFinite)) return `BROKEN: weight '${k}' loaded non-finite values`;
  const again = load(encodeCheckpoint(modelToCheckpoint(m)));
  const y2 = again.predict(x).f32();
  again.dispose();
  return y2.every((v, k) => Object.is(v, y[k])) ? outcome : 'BROKEN: saving and loading it again changes its predictions';
}

test(`model files: ${CASES.model} seeded mutations (seed ${SEED}) give a clean error, the same predictions, or a well-formed load`, (t) => {
  const bases = modelBases();
  const rng = new Rng(SEED);
  const tally = new Tally();
  for (let i = 0; i < CASES.model; i++) {
    const b = bases[i % bases.length]!;
    const [what, bytes] = mutateModel(b, rng);
    runCase(tally, `#${i} ${b.name}, ${what}`, bytes.length, CheckpointError, () => load(bytes), (m) => {
      try {
        const same = m.inputShape.length === 1 && m.inputShape[0] === b.x.shape[1];
        const x = same ? b.x : tensor(new Float32Array(2 * m.inputShape.reduce((p, d) => p * d, 1)), [2, ...m.inputShape]);
        const y = m.predict(x).f32();
        if (!same) return wellFormed(m, x, y, 'another input shape, well-formed');
        if (y.every((v, k) => Object.is(v, b.y[k]))) return 'same predictions';
        return wellFormed(m, x, y, 'other weights, well-formed');
      } finally {
        m.dispose();
      }
    });
  }
  t.diagnostic(tally.summary());
  assert.deepEqual(tally.broken, [], tally.broken.slice(0, 10).join('\n'));
  assert.ok((tally.counts['clean error'] ?? 0) > 0 && (tally.counts['same predictions'] ?? 0) > 0, 'the mutations reach both outcomes');
});

// ---------------------------------------------------------------------------------------------
// IDX files

test(`IDX files: ${CASES.idx} seeded mutations (raw and gzip) give a clean DataError or a consistent array`, (t) => {
  const rng = new Rng(SEED + 1);
  const tally = new Tally();
  const raw = writeIdx({ shape: [5, 7, 3], dtype: 'uint8', data: Uint8Array.from({ length: 105 }, (_, i) => (i * 37) & 255) });
  const f32 = writeIdx({ shape: [4, 3], dtype: 'float32', data: Float32Array.from({ length: 12 }, (_, i) => i / 3) });
  for (let i = 0; i < CASES.idx; i++) {
    const base = i % 2 ? raw : f32;
    const op = rng.int(5);
    let bytes: Uint8Array;
    let what: string;
    if (op === 0) [what, bytes] = ['truncated', base.slice(0, rng.int(base.length))];
    else if (op === 1) [what, bytes] = ['bits flipped', flipBits(base, rng)];
    else if (op === 2) {
      // A header that lies: one dimension set to a random 32-bit size, then gzipped (the gzip-bomb case when it is large).
      const lie = Uint8Array.from(base);
      new DataView(lie.buffer).setUint32(4 + 4 * rng.int(lie[3]!), rng.pick([0, 1, 1000, 2 ** 20, 2 ** 31, 2 ** 32 - 1]), false);
      [what, bytes] = ['gzip, header lies', gzipSync(lie)];
    } else if (op === 3) [what, bytes] = ['gzip, bits flipped', flipBits(gzipSync(base), rng, 10)];
    else [what, bytes] = ['gzip, truncated', gzipSync(base).slice(0, 10 + rng.int(20))];
    runCase(tally, `#${i} ${what}`, bytes.length, DataError, () => readIdx(bytes, { name: 'fuzz.idx' }), (a) => {
      const n = a.shape.reduce((p, d) => p * d, 1);
      return a.data.length === n ? 'consistent array' : `BROKEN: shape [${a.shape.join(', ')}] but ${a.data.length} elements`;
    });
  }
  t.diagnostic(tally.summary());
  assert.deepEqual(tally.broken, [], tally.broken.slice(0, 10).join('\n'));
});

// ---------------------------------------------------------------------------------------------
// PNGs

/** Recomputes the CRC of every whole chunk of PNG bytes (a forged file whose checksums pass). */
function fixPngCrcs(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 8; pos + 12 <= bytes.length;) {
    const length = view.getUint32(pos, false);
    if (pos + 12 + length > bytes.length) break;
    view.setUint32(pos + 8 + length, crc32(bytes.subarray(pos + 4, pos + 8 + length)), false);
    pos += 12 + length;
  }
  return bytes;
}

test(`PNGs: ${CASES.png} seeded mutations give a clean DataError or a consistent image`, (t) => {
  const rng = new Rng(SEED + 2);
  const tally = new Tally();
  const pixels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 29 + (i >> 4)) & 255);
  const bases = [
    writePng({ width: 9, height: 7, channels: 1, data: pixels(63) }),
    writePng({ width: 5, height: 4, channels: 3, data: pixels(60) }),
    writePng({ width: 3, height: 3, channels: 4, data: pixels(36) }, { filter: 'none' }),
  ];
  for (let i = 0; i < CASES.png; i++) {
    const base = bases[i % bases.length]!;
    const op = rng.int(4);
    let bytes: Uint8Array;
    let what: string;
    if (op === 0) [what, bytes] = ['truncated', base.slice(0, rng.int(base.length))];
    else if (op === 1) [what, bytes] = ['bits flipped', flipBits(base, rng, 8)];
    else if (op === 2) [what, bytes] = ['bits flipped, CRCs fixed', fixPngCrcs(flipBits(base, rng, 8))];
    else {
      // A crafted IHDR: width and height from small to bomb-sized (the IDAT is left as it was), CRC fixed.
      const crafted = Uint8Array.from(base);
      const v = new DataView(crafted.buffer);
      v.setUint32(16, rng.pick([1, 3, 9, 4096, 16384, 65535, 2 ** 31 - 1]), false);
      v.setUint32(20, rng.pick([1, 4, 7, 4096, 16384, 2 ** 31 - 1]), false);
      [what, bytes] = [`IHDR ${v.getUint32(16, false)}×${v.getUint32(20, false)}`, fixPngCrcs(crafted)];
    }
    runCase(tally, `#${i} ${what}`, bytes.length, DataError, () => readPng(bytes, { name: 'fuzz.png' }), (img) =>
      img.data.length === img.width * img.height * img.channels ? 'consistent image' : `BROKEN: ${img.width}×${img.height}×${img.channels} but ${img.data.length} bytes`);
  }
  t.diagnostic(tally.summary());
  assert.deepEqual(tally.broken, [], tally.broken.slice(0, 10).join('\n'));
});
