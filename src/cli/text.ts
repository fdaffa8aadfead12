// The text side of the CLI: text datasets for `train` / `eval` / `generate`, the record a text run keeps, the text-model flags.
import { loadTextDataset, type TEXT_DATASET_NAMES } from '../data/corpora.js';
import type { TextDataset } from '../data/text.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { Recurrent } from '../nn/layers/recurrent.js';
import type { Model } from '../nn/model.js';
import { thousands } from '../nn/summary.js';
import type { TextModelKind } from '../nn/zoo-text.js';
import type { Dataset } from '../data/index.js';
import { checkDataFlag, CliError, readDataset, TEXT_CLI_DATASETS } from './common.js';
import type { TrainingState } from '../io/training-state.js';

/** True for a `--dataset` value that is text. */
export function isTextDataset(name: string | undefined): boolean {
  return name !== undefined && (TEXT_CLI_DATASETS as readonly string[]).includes(name);
}

/** How a text run's data was made, stored in its training record so eval and --resume rebuild the same samples. */
export interface TextRecord {
  task: TextModelKind['task'];
  level: 'char' | 'word';
  /** Language models: tokens per window. */
  bptt?: number;
  /** Classifiers: tokens per text. */
  maxLen?: number;
  maxVocab?: number;
}

/**
 * Loads a text dataset for the CLI: `sotu` / `spam-assassin` / `text` (with `file`), tokenised at `rec.level` by a
 * tokenizer built on its training split or by `tokenizer` (the model file's), as windows of `bptt` tokens or texts of
 * `maxLen` tokens. A task that does not fit the corpus (a classifier on sotu) is a CliError.
 */
export function loadTextForCli(dataset: string, file: string | undefined, rec: TextRecord, o: { limit?: number; testLimit?: number; tokenizer?: Tokenizer; model?: { file: string; command: string } } = {}): TextDataset {
  if (!isTextDataset(dataset)) throw new CliError(`dataset '${dataset}' is not text: text models train on ${TEXT_CLI_DATASETS.join(', ')} (text reads the UTF-8 file given with --data)`);
  if (dataset === 'text' && !file) throw new CliError('--dataset text reads your own UTF-8 text file: give it with --data FILE');
  const classifies = dataset === 'spam-assassin';
  if (classifies !== (rec.task === 'classifier') && o.model) {
    // A saved model (eval, compress): say what it is and which data it takes, not how to train another.
    const is = rec.task === 'classifier' ? 'a text classifier' : 'a language model';
    const takes = rec.task === 'classifier' ? 'labelled texts (--dataset spam-assassin)' : `running text (--dataset sotu, or --dataset text --data FILE)`;
    throw new CliError(`${o.model.file}: is ${is} and '${dataset}' is ${classifies ? 'a classification set (texts labelled ham/spam)' : 'running text'}; ${o.model.command} it on ${takes}`);
  }
  if (classifies !== (rec.task === 'classifier')) {
    throw new CliError(classifies
      ? `'spam-assassin' is a classification set (texts labelled ham/spam): train a classifier on it (--model text-gru or text-lstm)`
      : `'${dataset}' is running text for language models (char-lstm, word-lstm, …); a classifier needs labelled texts (--dataset spam-assassin)`);
  }
  return loadTextDataset(dataset === 'text' ? { file: file! } : dataset as (typeof TEXT_DATASET_NAMES)[number], {
    level: rec.level, bptt: rec.bptt, maxLen: rec.maxLen, ...(o.tokenizer ? { tokenizer: o.tokenizer } : { maxVocab: rec.maxVocab }), limit: o.limit, testLimit: o.testLimit,
  });
}

/**
 * Which dataset (and --data path) a saved model is scored or fine-tuned on (`eval`, `compress`): --dataset; else, for a
 * text model given --data, that file; else the one it was trained on (with its recorded path). --data with a built-in
 * dataset is refused (a UsageError of `command`).
 */
export function savedModelData(flags: { dataset?: string; data?: string }, t: TrainingState | undefined, command: string, text = t?.text): { name: string; dir: string | undefined } {
  // A text model without a training record (compress --ship drops it) defaults to train's corpus for its task.
  const name = flags.dataset ?? (text && flags.data !== undefined ? 'text' : t?.dataset ?? (text ? (text.task === 'classifier' ? 'spam-assassin' : 'sotu') : 'mnist-sample'));
  const recorded = flags.dataset ? undefined : t?.dataDir;
  checkDataFlag(name, flags.data, command, recorded);
  return { name, dir: flags.data ?? recorded };
}

/**
 * A saved model's text record: the one its training wrote or, for a file holding a tokenizer but no training record
 * (`compress --ship` drops it), what the model's shapes say: a language model maps ids [T] to next-token scores [T, V]
 * (windows of T tokens), a classifier ids [L] to class scores [C] (texts of L tokens). Undefined for other models.
 */
export function textRecordOf(model: Model, t: TrainingState | undefined, tokenizer: Tokenizer | undefined): TextRecord | undefined {
  if (t?.text) return t.text;
  if (!tokenizer || model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const inS = model.inputShape, outS = model.outputShape;
  if (inS.length !== 1) return undefined;
  if (outS.length === 2 && outS[0] === inS[0]) return { task: 'language-model', level: tokenizer.kind, bptt: inS[0] };
  if (outS.length === 1) return { task: 'classifier', level: tokenizer.kind, maxLen: inS[0] };
  return undefined;
}

/**
 * The data a saved model is scored or fine-tuned on (`eval`, `compress`): a text model's own corpus through its stored
 * tokenizer and text record, an image model's dataset otherwise. A text dataset for a model without a tokenizer, or an
 * image dataset for a text model, is a CliError naming the file and what `verb` (e.g. 'evaluated') needs.
 */
export function readModelDataset(
  file: string, name: string, dir: string | undefined, text: TextRecord | undefined, tokenizer: Tokenizer | undefined,
  o: { limit?: number; testLimit?: number; verb: string; command: string; model?: Model },
): Dataset {
  if (!text && o.model?.inputs.some((t) => t.dtype === 'int32')) {
    throw new CliError(`${file}: takes token ids but holds no tokenizer (imported from ONNX, or saved from code), so it cannot be ${o.verb} on a dataset: text models are ${o.verb} from the files \`weightshare train\` writes`);
  }
  if (isTextDataset(name) && !(text && tokenizer)) throw new CliError(`${file}: is not a text model trained by \`weightshare train\` (no tokenizer or text record), so it cannot be ${o.verb} on '${name}'`);
  if (text && !isTextDataset(name)) throw new CliError(`${file}: is a text model; ${o.command} it on text (--dataset ${TEXT_CLI_DATASETS.join(', ')}), not '${name}'`);
  return text && tokenizer
    ? loadTextForCli(name, dir, text, { limit: o.limit, testLimit: o.testLimit, tokenizer, model: { file, command: o.command } }).dataset
    : readDataset(name, dir, o.limit, o.testLimit);
}

/** The default metrics of a text model: bits per character (char level) or perplexity (word level) for language models, accuracy for classifiers. */
export function defaultTextMetrics(rec: TextRecord): string[] {
  if (rec.task === 'classifier') return ['accuracy'];
  return rec.level === 'char' ? ['bits_per_char'] : ['perplexity'];
}

/**
 * What sharing across time saves: each recurrent layer uses one set of weights at all T steps; with a separate set per
 * step it would have T times as many. Undefined when the model has no recurrent layer.
 */
export function timeSharingNote(m: Model, steps: number): string | undefined {
  const rnns = m.layers.filter((l): l is Recurrent => l instanceof Recurrent);
  if (!rnns.length) return undefined;
  const shared = rnns.reduce((a, l) => a + l.countParams(), 0);
  const total = m.countParams();
  return `Weight sharing: ${rnns.map((l) => l.name).join(', ')} use${rnns.length === 1 ? 's' : ''} one set of ${thousands(shared)} weights at all ${steps} time steps; ` +
    `with a separate set per step the model would have ${thousands(total + shared * (steps - 1))} parameters instead of ${thousands(total)} (${((total + shared * (steps - 1)) / total).toFixed(1)}× more)`;
}

/**
 * What sharing across depth saves (ALBERT): a layer applied at several depths (a transformer block or sub-block of a gpt
 * model with --share-layers) keeps one set of weights; with a separate set per use the model would have that many more.
 * Undefined when no layer is applied more than once.
 */
export function depthSharingNote(m: Model): string | undefined {
  const uses = new Map<Model['layers'][number], number>();
  for (const n of m.graph) uses.set(n.layer, (uses.get(n.layer) ?? 0) + 1);
  const shared = [...uses].filter(([, u]) => u > 1);
  if (!shared.length) return undefined;
  const total = m.countParams();
  const extra = shared.reduce((a, [l, u]) => a + (u - 1) * l.countParams(), 0);
  return `Weight sharing: ${shared.map(([l, u]) => `${l.name} (${thousands(l.countParams())} weights) is applied at ${u} depths`).join(', ')}; ` +
    `with a separate set per depth the model would have ${thousands(total + extra)} parameters instead of ${thousands(total)} (${((total + extra) / total).toFixed(1)}× more)`;
}
