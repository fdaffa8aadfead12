// The drawing pad: white ink on a black canvas by mouse, pen or touch (pointer events), cleared by a button, read as MNIST input.
import { SIDE, toMnistInput } from './digit.js';

/** A canvas to draw a digit on; `onChange` gets the 28×28 input after each stroke segment (null once cleared). */
export class DrawingPad {
  private readonly ctx: CanvasRenderingContext2D;
  private last: { x: number; y: number } | undefined;
  private pointer: number | undefined;
  private frame = 0;
  /** A test digit shown as it is (its own 28×28 values) until ink is drawn over it. */
  private shown: Float32Array | undefined;

  constructor(readonly canvas: HTMLCanvasElement, private readonly onChange: (input: Float32Array | null) => void) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('the drawing pad needs a 2D canvas');
    this.ctx = ctx;
    this.blank(); // starts blank without telling onChange: nothing to predict yet
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel'] as const) canvas.addEventListener(type, (e) => this.up(e));
  }

  /** Pen width in canvas pixels: a tenth of the side, about MNIST's strokes once a digit is scaled into 20×20. */
  get penWidth(): number {
    return this.canvas.width / 10;
  }

  /** Blanks the pad. */
  clear(): void {
    this.blank();
    this.changed();
  }

  private blank(): void {
    this.shown = undefined;
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Shows a 28×28 digit (values in [0, 1]) enlarged; until ink is added the models get exactly these values. */
  showDigit(pixels: Float32Array): void {
    const img = new ImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = Math.round(255 * pixels[i]);
      img.data.set([v, v, v, 255], 4 * i);
    }
    const small = document.createElement('canvas');
    small.width = small.height = SIDE;
    small.getContext('2d')!.putImageData(img, 0, 0);
    this.ctx.imageSmoothingEnabled = false;
    this.ctx.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.shown = Float32Array.from(pixels);
    this.changed();
  }

  /** What the models see: the digit shown, or the drawing brought to MNIST's form; null when the pad is blank. */
  input(): Float32Array | null {
    if (this.shown) return this.shown;
    const { width, height } = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    const ink = new Float32Array(width * height);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i] / 255;
    return toMnistInput(ink, width, height);
  }

  private at(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * this.canvas.width) / r.width, y: ((e.clientY - r.top) * this.canvas.height) / r.height };
  }

  private down(e: PointerEvent): void {
    if (this.pointer !== undefined) return;
    e.preventDefault();
    this.pointer = e.pointerId;
    this.canvas.setPointerCapture(e.pointerId);
    this.shown = undefined;
    this.last = this.at(e);
    this.stroke([this.last]);
  }

  private move(e: PointerEvent): void {
    if (e.pointerId !== this.pointer || !this.last) return;
    e.preventDefault();
    const points = (e.getCoalescedEvents?.() ?? []).map((c) => this.at(c));
    this.stroke([this.last, ...(points.length ? points : [this.at(e)])]);
  }

  private up(e: PointerEvent): void {
    if (e.pointerId !== this.pointer) return;
    this.pointer = undefined;
    this.last = undefined;
    this.changed();
  }

  /** Draws a round-capped line through `points` (one point: a dot). */
  private stroke(points: { x: number; y: number }[]): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineWidth = this.penWidth;
    c.lineCap = c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(points[0].x, points[0].y);
    for (const p of points.length > 1 ? points.slice(1) : points) c.lineTo(p.x, p.y);
    c.stroke();
    this.last = points[points.length - 1];
    this.changed();
  }

  /** Tells `onChange` once per animation frame, however many segments were drawn in it. */
  private changed(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.onChange(this.input());
    });
  }
}
