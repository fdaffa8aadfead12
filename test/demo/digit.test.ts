// The drawing pad's preprocessing (demo/digit.ts): a picture of any size brought to MNIST's 28×28 form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { loadMnistSample } from '../../src/data/datasets.js';
import { loadModel } from '../../src/io/files.js';
import { argmax } from '../../src/core/ops/index.js';
import { REPO } from '../../demo/build.js';
import { SIDE, toMnistInput } from '../../demo/digit.js';

/** `img` (side s) enlarged k× by repeating pixels, placed at (dx, dy) on a blank w×h picture. */
function enlarge(img: Float32Array, s: number, k: number, w: number, h: number, dx: number, dy: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < s * k; y++) for (let x = 0; x < s * k; x++) out[(y + dy) * w + x + dx] = img[Math.floor(y / k) * s + Math.floor(x / k)];
  return out;
}

/** Centre of mass (x, y) of a 28×28 image, in pixel units (a pixel's centre at +0.5). */
function centre(img: Float32Array): [number, number] {
  let m = 0;
  let cx = 0;
  let cy = 0;
  img.forEach((v, i) => {
    m += v;
    cx += v * ((i % SIDE) + 0.5);
    cy += v * (Math.floor(i / SIDE) + 0.5);
  });
  return [cx / m, cy / m];
}

test('toMnistInput: blank is null; a small off-centre blob becomes a 20-pixel box, centred by mass, brightest pixel 1', () => {
  assert.equal(toMnistInput(new Float32Array(50 * 40), 50, 40), null);
  assert.throws(() => toMnistInput(new Float32Array(10), 5, 5), /10 values for a 5×5 picture/);
  const w = 300;
  const h = 200;
  const pic = new Float32Array(w * h);
  for (let y = 20; y < 60; y++) for (let x = 200; x < 220; x++) pic[y * w + x] = 0.8; // a 20×40 bar near a corner
  const out = toMnistInput(pic, w, h)!;
  assert.equal(out.length, 784);
  assert.equal(Math.max(...out), 1);
  assert.ok(out.every((v) => v >= 0 && v <= 1));
  const [cx, cy] = centre(out);
  assert.ok(Math.abs(cx - 14) < 1e-3 && Math.abs(cy - 14) < 1e-3, `centre of mass (${cx}, ${cy})`);
  const rows = new Set<number>();
  const cols = new Set<number>();
  out.forEach((v, i) => { if (v > 0.5) (rows.add(Math.floor(i / SIDE)), cols.add(i % SIDE)); });
  assert.equal(rows.size, 20, 'the longer side spans 20 pixels');
  assert.equal(cols.size, 10, 'the shorter side keeps the aspect ratio (10 pixels)');
});

test('toMnistInput: mnist-sample test digits enlarged 10× anywhere on a 400×300 pad come back close and classified the same', () => {
  const ds = loadMnistSample();
  const { model } = loadModel(join(REPO, 'demo', 'models', 'seed-cnn.wsm'));
  const n = 200;
  const back = new Float32Array(n * 784);
  let err = 0;
  let shifted = 0;
  for (let i = 0; i < n; i++) {
    const digit = ds.xTest.subarray(i * 784, (i + 1) * 784);
    let s = 0;
    digit.forEach((v, j) => { s += Math.abs(v - (j % SIDE ? digit[j - 1] : 0)); });
    shifted += s / digit.reduce((a, v) => a + v, 0);
    const out = toMnistInput(enlarge(digit, SIDE, 10, 400, 300, (i * 37) % 120, (i * 11) % 20), 400, 300)!;
    back.set(out, i * 784);
    let d = 0;
    out.forEach((v, j) => { d += Math.abs(v - digit[j]); });
    err += d / digit.reduce((s, v) => s + v, 0);
  }
  const classes = (x: Float32Array): number[] => {
    const p = model.predict({ data: x, shape: [n, 28, 28, 1] });
    const c = argmax(p);
    const r = Array.from(c.data());
    p.dispose();
    c.dispose();
    return r;
  };
  const before = classes(ds.xTest.subarray(0, n * 784));
  const after = classes(back);
  const same = before.filter((c, i) => c === after[i]).length;
  model.dispose();
  // MNIST's digits were made this way (20-pixel box, centre of mass centred): the round trip moves them by less than a pixel.
  assert.ok(err < shifted, `mean L1 difference ${(err / n).toFixed(3)} of the digit's ink; a shift by one pixel: ${(shifted / n).toFixed(3)}`);
  assert.ok(same >= 0.97 * n, `the reference CNN classifies ${same} of ${n} the same after the round trip`);
});
