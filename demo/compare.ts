// The float32 model and its compressed file side by side: loading a model file by URL, per-layer storage, agreement on the test set.
import * as ws from 'weightshare';

/** A model file fetched by the page: its size, the model, and where its bytes go per layer (as `weightshare summary` counts them). */
export interface ModelFile {
  url: string;
  bytes: number;
  model: ws.Model;
  layers: ws.StoredLayer[];
}

/** The bytes at `url` (relative to the page); a failed request names the URL and the HTTP status. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${new URL(url, location.href).href} (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A model file fetched and decoded (checksum, tensors, Huffman-coded codes) but not yet built: that needs the backend. */
export interface FetchedModel {
  url: string;
  bytes: number;
  contents: ws.CheckpointContents;
}

/** Fetches and decodes a weightshare model file; building it ({@link loadModelFile}) can wait for the backend. */
export async function fetchModelFile(url: string): Promise<FetchedModel> {
  const bytes = await fetchBytes(url);
  return { url, bytes: bytes.length, contents: ws.decodeCheckpoint(bytes, url) };
}

/** Builds the model of a fetched file on the current backend, checked as `loadModel` checks a file in Node. */
export function loadModelFile(f: FetchedModel): ModelFile {
  const { model } = ws.modelFromCheckpoint(f.contents, f.url);
  return { url: f.url, bytes: f.bytes, model, layers: ws.storedPerLayer(model, f.contents.stored!.tensorBytes) };
}

/** Class probabilities [n, classes] of `n` images `x` (28×28×1 each). */
export function classify(model: ws.Model, x: Float32Array, n: number): Float32Array {
  const probs = model.predict({ data: x, shape: [n, 28, 28, 1] }, { batchSize: 256 });
  try {
    return probs.f32();
  } finally {
    probs.dispose();
  }
}

/** The most likely class of each row of `probs` ([n, classes]). */
export function argmaxRows(probs: Float32Array, classes: number): number[] {
  return Array.from({ length: probs.length / classes }, (_, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    return best;
  });
}

/** How two models' predictions compare on a labelled set. */
export interface Agreement {
  samples: number;
  agree: number;
  correct: [number, number];
  /** Indices of the samples on which the two predict different classes. */
  differ: number[];
  ms: number;
}

/** Predicts every test image of `ds` with both models, `chunk` at a time, yielding to the page between chunks. */
export async function agreement(a: ws.Model, b: ws.Model, ds: ws.ImageDataset, onProgress?: (done: number) => void, chunk = 250): Promise<Agreement> {
  const t0 = performance.now();
  const n = ds.yTest.length;
  const out: Agreement = { samples: n, agree: 0, correct: [0, 0], differ: [], ms: 0 };
  for (let from = 0; from < n; from += chunk) {
    const k = Math.min(chunk, n - from);
    const x = ds.xTest.subarray(from * 784, (from + k) * 784);
    const pa = argmaxRows(classify(a, x, k), 10);
    const pb = argmaxRows(classify(b, x, k), 10);
    for (let i = 0; i < k; i++) {
      const label = ds.yTest[from + i];
      if (pa[i] === pb[i]) out.agree++;
      else out.differ.push(from + i);
      if (pa[i] === label) out.correct[0]++;
      if (pb[i] === label) out.correct[1]++;
    }
    onProgress?.(from + k);
    await new Promise((r) => setTimeout(r, 0));
  }
  out.ms = performance.now() - t0;
  return out;
}

/** 1,234 B below 10 KiB, else 123.4 KiB. */
export function formatBytes(n: number): string {
  return n < 10 * 1024 ? `${n.toLocaleString('en-US')} B` : `${(n / 1024).toFixed(1)} KiB`;
}

function cell(tag: 'td' | 'th', text: string, cls?: string): HTMLTableCellElement {
  const c = document.createElement(tag);
  c.textContent = text;
  if (cls) c.className = cls;
  return c;
}

/**
 * Fills `table` with a row per layer: elements of W, then for each file the layer's maps, stored bytes and bits per
 * weight; then the totals and the rest of each file (header: model config, names, checksums).
 */
export function renderLayerTable(table: HTMLTableElement, files: readonly [ModelFile, ModelFile], titles: readonly [string, string]): void {
  const [a, b] = files;
  const head = document.createElement('thead');
  const top = head.insertRow();
  top.append(cell('th', ''), cell('th', ''));
  for (const t of titles) {
    const th = cell('th', t, 'file');
    th.colSpan = 3;
    top.append(th);
  }
  const names = head.insertRow();
  for (const t of ['layer', 'weights', 'map', 'stored', 'bits/weight', 'map', 'stored', 'bits/weight']) names.append(cell('th', t));
  const body = document.createElement('tbody');
  const num = (v: number): string => v.toLocaleString('en-US');
  for (const la of a.layers) {
    const lb = b.layers.find((l) => l.layer === la.layer);
    const row = body.insertRow();
    row.append(cell('td', `${la.layer} (${la.className})`), cell('td', num(la.elements), 'n'));
    for (const l of [la, lb]) {
      if (!l) row.append(cell('td', '—'), cell('td', ''), cell('td', ''));
      else row.append(cell('td', l.kinds, `map ${l.kinds.split('+')[0]}`), cell('td', formatBytes(l.bytes), 'n'), cell('td', l.bitsPerWeight.toFixed(2), 'n'));
    }
  }
  const foot = document.createElement('tfoot');
  const sum = (f: ModelFile): { elements: number; bytes: number } => f.layers.reduce((s, l) => ({ elements: s.elements + l.elements, bytes: s.bytes + l.bytes }), { elements: 0, bytes: 0 });
  const [sa, sb] = [sum(a), sum(b)];
  const total = foot.insertRow();
  total.append(cell('td', 'all weights'), cell('td', num(sa.elements), 'n'));
  for (const s of [sa, sb]) total.append(cell('td', ''), cell('td', formatBytes(s.bytes), 'n'), cell('td', ((8 * s.bytes) / s.elements).toFixed(2), 'n'));
  const rest = foot.insertRow();
  rest.append(cell('td', 'header (config, names, checksum)'), cell('td', ''));
  for (const [f, s] of [[a, sa], [b, sb]] as const) rest.append(cell('td', ''), cell('td', formatBytes(f.bytes - s.bytes), 'n'), cell('td', ''));
  const file = foot.insertRow();
  file.append(cell('th', 'file'), cell('td', ''));
  for (const f of [a, b]) file.append(cell('td', ''), cell('th', formatBytes(f.bytes), 'n'), cell('td', ((8 * f.bytes) / sa.elements).toFixed(2), 'n'));
  table.replaceChildren(head, body, foot);
}
