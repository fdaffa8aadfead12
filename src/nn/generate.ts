// Text generation from a causal language model: sample the next token from the model's output at the last known position.
import { tidy } from '../core/engine.js';
import { tensor } from '../core/ops/index.js';
import { Random } from '../core/random.js';
import type { Model } from './model.js';

/** What generation needs of a tokenizer. */
export interface TextCodec {
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  readonly vocabSize: number;
}

/** Options of {@link generateTokens} / {@link generateText}. */
export interface GenerateOptions {
  /** Tokens to generate (≥ 0). */
  length: number;
  /** Softmax temperature: logits / temperature (default 1); 0 picks the most likely token every time. */
  temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  topK?: number;
  /** Seed of the sampling (default 0): the same seed, model and prompt give the same text. */
  seed?: number;
  /** Token ids never generated (e.g. padding and `<unk>`). */
  exclude?: readonly number[];
}

/**
 * Checks that a model is a causal next-token model that generation can drive: one int32 input [T] and one output
 * [T, V], and no layer that reads the sequence backwards (a Bidirectional or goBackwards recurrent layer would see
 * the padding after the last known token). Returns T and V.
 */
export function languageModelShape(m: Model): { window: number; vocab: number } {
  const where = `model '${m.name}'`;
  if (m.inputs.length !== 1 || m.outputs.length !== 1) throw new RangeError(`${where} has ${m.inputs.length} inputs and ${m.outputs.length} outputs; a language model has one of each`);
  const inShape = m.inputShape, outShape = m.outputShape;
  if (inShape.length !== 1 || outShape.length !== 2 || outShape[0] !== inShape[0]) {
    throw new RangeError(`${where} maps [${inShape.join(', ')}] to [${outShape.join(', ')}]; a language model maps token ids [T] to next-token scores [T, V]`);
  }
  for (const l of m.layers) {
    const c = l.toJSON().config as { goBackwards?: unknown };
    if (l.className === 'Bidirectional' || c.goBackwards === true) {
      throw new RangeError(`${where}: layer '${l.name}' (${l.className}) reads the sequence backwards, so the model is not causal and cannot generate text`);
    }
  }
  return { window: inShape[0], vocab: outShape[1] };
}

/**
 * Continues `prompt` (token ids, at least one) by `length` tokens. Each step runs the model on the last T known
 * tokens (T = the model's window) placed at the start of the input, the rest padded with id 0 — harmless for a
 * causal model, which never looks ahead — and samples from its scores at the last known position. A model trained
 * on windows of a token stream from a zero state (as `weightshare train` trains char-lstm) sees at most T tokens of
 * context here too.
 */
export function generateTokens(m: Model, prompt: ArrayLike<number>, o: GenerateOptions): Int32Array {
  const { window, vocab } = languageModelShape(m);
  if (prompt.length < 1) throw new RangeError('generate: the prompt must hold at least one token');
  if (!(Number.isInteger(o.length) && o.length >= 0)) throw new RangeError(`generate: length must be an integer ≥ 0, got ${o.length}`);
  const temperature = o.temperature ?? 1;
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new RangeError(`generate: temperature must be a finite number ≥ 0, got ${temperature}`);
  const topK = o.topK ?? vocab;
  if (!(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`generate: topK must be an integer ≥ 1, got ${topK}`);
  for (let i = 0; i < prompt.length; i++) {
    if (!(Number.isInteger(prompt[i]) && prompt[i] >= 0 && prompt[i] < vocab)) throw new RangeError(`generate: prompt token ${i} is ${prompt[i]}, outside the model's vocabulary [0, ${vocab})`);
  }
  const banned = new Set(o.exclude ?? []);
  if (banned.size >= vocab) throw new RangeError('generate: every token is excluded');
  const rng = new Random(o.seed ?? 0);
  const ids = Array.from(prompt, Number);
  const x = new Int32Array(window);
  for (let step = 0; step < o.length; step++) {
    const known = Math.min(window, ids.length);
    x.fill(0);
    x.set(ids.slice(ids.length - known), 0);
    const out = tidy(() => m.call(tensor(x, [1, window], 'int32'), { training: false, seed: 0, logits: true }));
    const logits = out.f32().subarray((known - 1) * vocab, known * vocab);
    out.dispose();
    ids.push(sample(logits, temperature, topK, banned, rng));
  }
  return Int32Array.from(ids.slice(prompt.length));
}

/** The next token from scores (logits): argmax at temperature 0, else a draw from softmax(logits / temperature) over the top k. */
function sample(logits: Float32Array, temperature: number, topK: number, banned: ReadonlySet<number>, rng: Random): number {
  const order = [...logits.keys()].filter((i) => !banned.has(i) && !Number.isNaN(logits[i])).sort((a, b) => logits[b] - logits[a] || a - b);
  if (!order.length) throw new RangeError('generate: the model gave no finite score for any allowed token');
  if (temperature === 0) return order[0];
  const top = order.slice(0, topK);
  const max = logits[top[0]];
  const w = top.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let r = rng.uniform() * total;
  for (let j = 0; j < top.length; j++) {
    r -= w[j];
    if (r < 0) return top[j];
  }
  return top[top.length - 1];
}

/** {@link generateTokens} on text: encodes the prompt, returns the generated continuation decoded. */
export function generateText(m: Model, codec: TextCodec, prompt: string, o: GenerateOptions): string {
  return codec.decode(generateTokens(m, codec.encode(prompt), o));
}
