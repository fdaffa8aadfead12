// Text generation from a causal language model: sample the next token from the model's output at the last known position.
import { keep, tidy } from '../core/engine.js';
import { tensor, zeros } from '../core/ops/index.js';
import { Random } from '../core/random.js';
import { ArgumentError, checkOptions, describeValue, quote } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { input, type Layer, layerFromSpec, type SymbolicTensor } from './layer.js';
import { Recurrent } from './layers/recurrent.js';
import { type Model, model as makeModel } from './model.js';
import type { NodeConfig } from './model-config.js';

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
  /**
   * Nucleus sampling (Holtzman et al. 2020): sample among the fewest most likely tokens whose probabilities (after
   * `temperature` and `topK`) sum to at least p, in (0, 1] (default 1: all).
   */
  topP?: number;
  /** Seed of the sampling (default 0): the same seed, model and prompt give the same text. */
  seed?: number;
  /** Token ids never generated (e.g. padding and `<unk>`). */
  exclude?: readonly number[];
  /** Called with each generated token as soon as it is drawn (to show the text as it comes). */
  onToken?: (id: number) => void;
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
  // Sublayers too: a Bidirectional inside a Block is as non-causal as one at the top.
  const walk = (ls: readonly Layer[], path: string): void => {
    for (const l of ls) {
      const name = `${path}${l.name}`;
      const c = l.toJSON().config as { goBackwards?: unknown };
      if (l.className === 'Bidirectional' || c.goBackwards === true) {
        throw new RangeError(`${where}: layer '${name}' (${l.className}) reads the sequence backwards, so the model is not causal and cannot generate text`);
      }
      if (l.className === 'MultiHeadAttention' && (l as Layer & { useCausalMask?: boolean }).useCausalMask === false) {
        throw new RangeError(`${where}: layer '${name}' (MultiHeadAttention) attends to later steps (useCausalMask is false), so the model is not causal and cannot generate text`);
      }
      if (l.className !== 'Bidirectional') walk(l.sublayers(), `${name}/`);
    }
  };
  walk(m.layers, '');
  // Every generated id is read back: a vocabulary larger than an Embedding's table would fail mid-generation.
  for (const r of m.idReaders()) {
    if (r.limit < outShape[1]) {
      throw new RangeError(`${where} scores ${outShape[1]} tokens but layer '${r.layer.name}' (${r.layer.className}) reads ids below ${r.limit}: the tokens it generates could not be read back`);
    }
  }
  return { window: inShape[0], vocab: outShape[1] };
}

/**
 * Continues `prompt` (token ids, at least one) by `length` tokens. Each step runs the model on the last T known
 * tokens (T = the model's window) placed at the start of the input, the rest padded with id 0 — harmless for a
 * causal model, which never looks ahead — and samples from its scores at the last known position. A chain of
 * recurrent layers instead reads the prompt once and then steps one token at a time, carrying its states, so it reads
 * the whole prompt and everything generated (as `weightshare generate` does; see recurrentStepper below). Defaults:
 * temperature 1 and no token excluded (the CLI samples at 0.8 and excludes `<pad>` and `<unk>`).
 */
export function generateTokens(m: Model, prompt: ArrayLike<number>, o: GenerateOptions): Int32Array {
  if (o === null || typeof o !== 'object') throw new ArgumentError('generate', `takes options { length, temperature?, topK?, topP?, seed?, exclude?, onToken? }, got ${describeValue(o)}`);
  checkOptions('generate', o, ['length', 'temperature', 'topK', 'topP', 'seed', 'exclude', 'onToken'], { top_k: 'write it topK', top_p: 'write it topP', maxLength: 'the number of tokens to generate is length' });
  const { window, vocab } = languageModelShape(m);
  if (prompt === null || typeof prompt !== 'object' || typeof (prompt as ArrayLike<number>).length !== 'number') throw new ArgumentError('generate', `the prompt must be token ids (an array or Int32Array), got ${describeValue(prompt)}`);
  if (prompt.length < 1) throw new RangeError('generate: the prompt must hold at least one token');
  if (!(typeof o.length === 'number' && Number.isInteger(o.length) && o.length >= 0)) throw new RangeError(`generate: length must be an integer ≥ 0, got ${quote(o.length)}`);
  if (o.seed !== undefined && !(typeof o.seed === 'number' && Number.isFinite(o.seed))) throw new RangeError(`generate: seed must be a finite number, got ${quote(o.seed)}`);
  if (o.onToken !== undefined && typeof o.onToken !== 'function') throw new ArgumentError('generate', `onToken must be a function, got ${describeValue(o.onToken)}`);
  if (o.exclude !== undefined && !Array.isArray(o.exclude)) throw new ArgumentError('generate', `exclude must be a list of token ids, got ${describeValue(o.exclude)}`);
  const temperature = o.temperature ?? 1;
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new RangeError(`generate: temperature must be a finite number ≥ 0, got ${temperature}`);
  const topK = o.topK ?? vocab;
  if (!(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`generate: topK must be an integer ≥ 1, got ${topK}`);
  const topP = o.topP ?? 1;
  if (!(typeof topP === 'number' && topP > 0 && topP <= 1)) throw new RangeError(`generate: topP must be a number in (0, 1], got ${String(topP)}`);
  for (let i = 0; i < prompt.length; i++) {
    if (!(Number.isInteger(prompt[i]) && prompt[i] >= 0 && prompt[i] < vocab)) throw new RangeError(`generate: prompt token ${i} is ${prompt[i]}, outside the model's vocabulary [0, ${vocab})`);
  }
  const banned = new Set(o.exclude ?? []);
  for (const id of banned) {
    if (!(Number.isInteger(id) && id >= 0 && id < vocab)) throw new RangeError(`generate: exclude holds ${String(id)}, not a token id of the model's vocabulary [0, ${vocab})`);
  }
  if (banned.size >= vocab) throw new RangeError('generate: every token is excluded');
  const rng = new Random(o.seed ?? 0);
  const ids = Array.from(prompt, Number);
  const stepper = recurrentStepper(m);
  if (stepper) {
    // A chain of recurrent layers: read the prompt once, then one step per token, carrying the states.
    try {
      let logits: Float32Array = new Float32Array(0);
      for (const id of ids) logits = stepper.step(id);
      for (let step = 0; step < o.length; step++) {
        const next = sample(logits, temperature, topK, topP, banned, rng);
        ids.push(next);
        o.onToken?.(next);
        if (step + 1 < o.length) logits = stepper.step(next);
      }
    } finally {
      stepper.dispose();
    }
    return Int32Array.from(ids.slice(prompt.length));
  }
  // Run whole windows: a longer prompt would lose its start without a word, so it is an error (the text generated
  // after it slides the window on, as it must).
  if (ids.length > window) {
    throw new RangeError(`generate: the prompt has ${ids.length} tokens, more than the model's context of ${window} (the window it reads): give at most ${window}`);
  }
  const x = new Int32Array(window);
  // Run for logits, the model's final softmax is left out; one it does not end in at the top (inside a Block, before
  // a Dropout) still runs, and its probabilities are sampled through their logarithms (logits up to a constant).
  const probabilities = !m.endsInSoftmax() && m.finalActivation() === 'softmax';
  for (let step = 0; step < o.length; step++) {
    const known = Math.min(window, ids.length);
    x.fill(0);
    x.set(ids.slice(ids.length - known), 0);
    const out = tidy(() => m.call(tensor(x, [1, window], 'int32'), { training: false, seed: 0, logits: true }));
    const row = out.f32().subarray((known - 1) * vocab, known * vocab);
    const logits = probabilities ? row.map(Math.log) : row;
    out.dispose();
    const next = sample(logits, temperature, topK, topP, banned, rng);
    ids.push(next);
    o.onToken?.(next);
  }
  return Int32Array.from(ids.slice(prompt.length));
}

/** Feeds a recurrent language model one token at a time: `step(id)` returns the scores of the next token. */
interface Stepper {
  step(id: number): Float32Array;
  dispose(): void;
}

/**
 * For a model that is a plain chain from one int32 input through per-step layers (Embedding, Dense, Dropout,
 * Activation, LayerNormalization) and forward recurrent layers returning sequences: a one-step twin whose recurrent
 * layers take their states as inputs and return them (Keras `initial_state` / `return_state`), with the model's
 * weights. Undefined for any other model (generation then runs the whole window per token), and for two that a
 * one-step call would not reproduce: recurrent layers with per-step kernels (`steps`: step t uses kernel t, a
 * one-step call always kernel 0), and an Embedding with `maskZero` (at a masked step the recurrent layers repeat their
 * previous output, which a fresh one-step call does not have).
 */
function recurrentStepper(m: Model): Stepper | undefined {
  const c = m.toJSON();
  const graph = c.graph as NodeConfig[];
  const perStep = new Set(['Embedding', 'Dense', 'Dropout', 'Activation', 'LayerNormalization']);
  if (!c.inputs || c.inputs.length !== 1 || !Array.isArray(graph) || graph.length !== c.layers.length || typeof graph[0] !== 'object') return undefined;
  let prev = c.inputs[0].name;
  for (let i = 0; i < graph.length; i++) {
    const node = graph[i], spec = c.layers[i];
    if (node.layer !== spec.config.name || node.inbound.length !== 1 || node.inbound[0][0] !== prev || node.inbound[0][2] !== 0) return undefined;
    const rnn = ['SimpleRNN', 'LSTM', 'GRU'].includes(spec.className);
    if (!rnn && !perStep.has(spec.className)) return undefined;
    if (rnn && (spec.config.goBackwards === true || spec.config.returnSequences !== true || spec.config.returnState === true)) return undefined;
    if (rnn && spec.config.steps !== undefined && spec.config.steps !== null) return undefined;
    if (spec.className === 'Embedding' && spec.config.maskZero === true) return undefined;
    prev = node.layer;
  }
  const ids = input({ shape: [1], dtype: 'int32', name: c.inputs[0].name });
  const stateInputs: SymbolicTensor[] = [];
  const stateOutputs: SymbolicTensor[] = [];
  let h: SymbolicTensor = ids;
  for (const spec of c.layers) {
    const rnn = ['SimpleRNN', 'LSTM', 'GRU'].includes(spec.className);
    const layer: Layer = layerFromSpec(rnn ? { ...spec, config: { ...spec.config, returnState: true } } : spec);
    if (layer instanceof Recurrent) {
      const states = Array.from({ length: layer.stateCount }, (_, k) => input({ shape: [layer.units], name: `${layer.name}_state_${k}` }));
      const outs = layer.applyAll([h, ...states]);
      stateInputs.push(...states);
      stateOutputs.push(...outs.slice(1));
      h = outs[0];
    } else {
      h = layer.apply(h);
    }
  }
  const twin = makeModel({ inputs: [ids, ...stateInputs], outputs: [h, ...stateOutputs], name: `${m.name}_step` }).build(0);
  twin.setWeights(m.getWeights());
  // And the maps' fixed state (a codebook's codes, a pruning mask), which is no θ: a compressed model's twin would
  // otherwise keep freshly made codes.
  const buffers = new Map(twin.namedBuffers().map((b) => [b.name, b.tensor]));
  for (const b of m.namedBuffers()) {
    const t = buffers.get(b.name);
    if (!t) throw new Error(`generate: the one-step twin of model '${m.name}' has no map state '${b.name}'`);
    t.backend.write(t.buf, b.tensor.data());
  }
  let states: Tensor[] = stateInputs.map((s) => keep(zeros([1, ...s.shape])));
  // With several outputs the graph does not hand the final softmax's logits out: take log-probabilities instead
  // (logits up to a constant, the same distribution). A model without a final softmax already outputs its scores.
  const softmax = m.finalActivation() === 'softmax';
  return {
    step(id) {
      const outs = tidy(() => twin.callAll([tensor(Int32Array.of(id), [1, 1], 'int32'), ...states], { training: false, seed: 0 }));
      for (const s of states) s.dispose();
      states = outs.slice(1).map((t) => keep(t));
      const scores = softmax ? outs[0].f32().map(Math.log) : outs[0].f32().slice();
      outs[0].dispose();
      return scores;
    },
    dispose() {
      for (const s of states) s.dispose();
      twin.dispose();
    },
  };
}

/**
 * The next token from scores (logits): argmax at temperature 0, else a draw from softmax(logits / temperature) over the
 * top k, cut to the fewest most likely whose probabilities sum to at least topP (renormalised).
 */
function sample(logits: Float32Array, temperature: number, topK: number, topP: number, banned: ReadonlySet<number>, rng: Random): number {
  const order = [...logits.keys()].filter((i) => !banned.has(i) && !Number.isNaN(logits[i])).sort((a, b) => logits[b] - logits[a] || a - b);
  if (!order.length) throw new RangeError('generate: the model gave no finite score for any allowed token');
  if (temperature === 0) return order[0];
  const top = order.slice(0, topK);
  const max = logits[top[0]];
  const w = top.map((i) => Math.exp((logits[i] - max) / temperature));
  let total = w.reduce((a, b) => a + b, 0);
  if (topP < 1) {
    let kept = 0, sum = 0;
    while (kept < w.length && !(sum >= topP * total)) sum += w[kept++];
    top.length = kept;
    w.length = kept;
    total = sum;
  }
  let r = rng.uniform() * total;
  for (let j = 0; j < top.length; j++) {
    r -= w[j];
    if (r < 0) return top[j];
  }
  return top[top.length - 1];
}

/** {@link generateTokens} on text: encodes the prompt, returns the generated continuation decoded. */
export function generateText(m: Model, codec: TextCodec, prompt: string, o: GenerateOptions): string {
  if (codec === null || typeof codec !== 'object' || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new ArgumentError('generateText', `takes a tokenizer (with encode and decode) as its second argument, got ${describeValue(codec)}`);
  }
  if (typeof prompt !== 'string') throw new ArgumentError('generateText', `the prompt must be a string, got ${describeValue(prompt)}`);
  return codec.decode(generateTokens(m, codec.encode(prompt), o));
}
