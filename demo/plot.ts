// A small SVG line chart: training loss (left axis) and accuracy (right axis, 0–100 %) against samples seen.

const NS = 'http://www.w3.org/2000/svg';
const W = 560;
const H = 240;
const M = { left: 44, right: 48, top: 14, bottom: 34 };

/** One point of the curve: samples seen so far, and the loss and accuracy of the batches since the previous point. */
export interface CurvePoint {
  samples: number;
  loss: number;
  accuracy: number;
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A "nice" axis maximum (1, 2, 2.5 or 5 × 10^k) at or above `v`. */
function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

/** Draws `points` into `svg` (replacing what it held): a loss polyline and an accuracy polyline, axes and ticks (the legend is the page's). */
export function drawCurve(svg: SVGSVGElement, points: readonly CurvePoint[], samplesMax: number): void {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const lossMax = niceMax(Math.max(0.5, ...points.map((p) => p.loss)));
  const xMax = Math.max(samplesMax, ...points.map((p) => p.samples));
  const x = (s: number): number => M.left + (pw * s) / xMax;
  const yLoss = (l: number): number => M.top + ph * (1 - Math.min(l, lossMax) / lossMax);
  const yAcc = (a: number): number => M.top + ph * (1 - a);
  for (let i = 0; i <= 4; i++) {
    const y = M.top + (ph * i) / 4;
    svg.append(
      el('line', { x1: M.left, x2: W - M.right, y1: y, y2: y, class: 'grid' }),
      el('text', { x: M.left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick loss' }, String(+((lossMax * (4 - i)) / 4).toFixed(3))),
      el('text', { x: W - M.right + 6, y: y + 4, class: 'tick accuracy' }, `${25 * (4 - i)} %`),
    );
  }
  for (let i = 0; i <= 4; i++) {
    const s = (xMax * i) / 4;
    svg.append(el('text', { x: x(s), y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, Math.round(s).toLocaleString('en-US')));
  }
  svg.append(
    el('text', { x: M.left + pw / 2, y: H - 4, 'text-anchor': 'middle', class: 'label' }, 'training samples seen'),
    el('rect', { x: M.left, y: M.top, width: pw, height: ph, class: 'frame' }),
    el('polyline', { class: 'loss', 'data-series': 'loss', points: points.map((p) => `${x(p.samples).toFixed(1)},${yLoss(p.loss).toFixed(1)}`).join(' ') }),
    el('polyline', { class: 'accuracy', 'data-series': 'accuracy', points: points.map((p) => `${x(p.samples).toFixed(1)},${yAcc(p.accuracy).toFixed(1)}`).join(' ') }),
  );
}
