// `weightshare generate`: continue a prompt with a trained language model (char-lstm, word-lstm, …) by sampling.
import { EOS_ID, PAD_ID, UNK_ID } from '../data/tokenizer.js';
import { loadModel } from '../io/files.js';
import { generateTokens, languageModelShape } from '../nn/generate.js';
import { defineCommand, type ParsedArgs } from './args.js';
import { applyThreads, CliError, COMMON_FLAGS, type Io, LOAD_FLAGS, loadOptions } from './common.js';

export const generateSpec = defineCommand({
  name: 'generate',
  summary: 'Generate text with a trained language model: continue --prompt by --length tokens',
  description:
    'Samples one token at a time from the model\'s next-token probabilities (softmax of its scores divided by --temperature),\n' +
    'carrying its state from token to token (a chain of recurrent layers: it reads the whole prompt) or re-reading the last\n' +
    'T tokens (other models, e.g. gpt: T is the window it was trained on). The same --seed, model and prompt give the same text.',
  positionals: [{ name: 'model', required: true, description: 'A language model file written by `weightshare train --model char-lstm|word-lstm|…`' }],
  flags: {
    prompt: { type: 'string', default: 'The ', description: 'Text to continue (characters or words outside the vocabulary become <unk>, with a warning)' },
    length: { type: 'int', default: 300, min: 0, max: 10_000_000, description: 'Tokens to generate (characters for char- models, words for word- models), written as they come' },
    temperature: { type: 'number', default: 0.8, min: 0, description: '< 1: more likely tokens, > 1: more varied; 0: always the most likely token' },
    'top-k': { type: 'int', min: 1, description: 'Sample among the k most likely tokens only' },
    'top-p': { type: 'number', above: 0, max: 1, description: 'Nucleus sampling: sample among the fewest most likely tokens whose probabilities sum to at least p (e.g. 0.9; default 1: all)' },
    seed: { type: 'int', default: 0, description: 'Seed of the sampling' },
    ...LOAD_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'weightshare generate char-lstm-sotu.wsm --prompt "Fellow citizens" --length 400',
    'weightshare generate word-lstm-sotu.wsm --prompt "the congress" --temperature 0.7 --seed 3',
  ],
});

/** Thrown from the token callback when stdout's reader has gone: generation stops there. */
class OutputClosed extends Error {}

/** Runs `weightshare generate`: the prompt and its continuation on stdout (or JSON with --json). */
export function generateCommand(a: ParsedArgs<typeof generateSpec>, io: Io): number {
  const f = a.flags;
  applyThreads(f.threads);
  const file = a.positionals.model;
  const { model, tokenizer } = loadModel(file, loadOptions(f));
  try {
    if (!tokenizer) throw new CliError(`${file}: has no tokenizer (vocabulary): generate needs a text model trained by \`weightshare train --model char-lstm\` (or word-lstm, …)`);
    let shape: { window: number; vocab: number };
    try {
      shape = languageModelShape(model);
    } catch (e) {
      throw new CliError(`${file}: ${(e as Error).message}`);
    }
    if (shape.vocab !== tokenizer.vocabSize) throw new CliError(`${file}: the model scores ${shape.vocab} tokens but its tokenizer has ${tokenizer.vocabSize}: the file is inconsistent`);
    if (f.prompt.length === 0) throw new CliError('--prompt is empty: give at least one character to continue');
    const unknown = tokenizer.unknownTokens(f.prompt);
    if (unknown.length) {
      io.err.write(`warning: the prompt has ${unknown.length} ${tokenizer.kind === 'char' ? 'character' : 'word'}${unknown.length === 1 ? '' : 's'} outside the vocabulary, read as <unk>: ${unknown.slice(0, 10).map((u) => JSON.stringify(u)).join(', ')}${unknown.length > 10 ? ', …' : ''}\n`);
    }
    let prompt = tokenizer.encode(f.prompt);
    if (prompt.length === 0) throw new CliError(`--prompt ${JSON.stringify(f.prompt)} holds no ${tokenizer.kind === 'char' ? 'character' : 'word'} tokens`);
    if (tokenizer.kind === 'word' && prompt[prompt.length - 1] === EOS_ID && prompt.length > 1) prompt = prompt.subarray(0, prompt.length - 1); // a trailing line break is no end of paragraph
    const joinerOf = (continuation: string): string => (tokenizer.kind === 'word' && continuation && !/\s$/.test(f.prompt) && !/^[\s.,;:!?)\]}'"]/.test(continuation) ? ' ' : '');
    // Without --json the text is written as it comes (a long run shows progress, and an interrupted one keeps its text):
    // the tokens so far decoded again (decoding a longer list only appends) once 16 are new and an eighth of the total
    // or a quarter of a second has passed. Generation stops once the reader of the output has gone (`… | head`).
    const got: number[] = [];
    let written = -1, pending = 0, flushed = performance.now();
    const flush = (): void => {
      const text = tokenizer.decode(got);
      if (written < 0) io.out.write(f.prompt + joinerOf(text));
      io.out.write(text.slice(Math.max(0, written)));
      written = text.length;
      pending = 0;
      flushed = performance.now();
      if (io.out.errored) throw new OutputClosed();
    };
    const onToken = f.json ? undefined : (id: number): void => {
      got.push(id);
      if (++pending >= 16 && (pending >= got.length >> 3 || performance.now() - flushed >= 250)) flush();
    };
    const t0 = performance.now();
    let ids: Int32Array;
    try {
      ids = generateTokens(model, prompt, { length: f.length, temperature: f.temperature, topK: f.topK, topP: f.topP, seed: f.seed, exclude: [PAD_ID, UNK_ID], onToken });
    } catch (e) {
      if (e instanceof OutputClosed) return 0; // as `yes | head`: nobody reads the rest
      throw e;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (f.json) {
      const continuation = tokenizer.decode(ids);
      io.out.write(JSON.stringify({ model: file, prompt: f.prompt, continuation, tokens: ids.length, temperature: f.temperature, topK: f.topK, topP: f.topP, seed: f.seed, seconds }, null, 2) + '\n');
    } else {
      flush();
      io.out.write('\n');
      io.err.write(`(${ids.length} ${tokenizer.kind === 'char' ? 'characters' : 'words'} in ${seconds.toFixed(1)} s, temperature ${f.temperature}, seed ${f.seed})\n`);
    }
    return 0;
  } finally {
    model.dispose();
  }
}
