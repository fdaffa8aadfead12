// Fuzz suite of command lines (issue 15): seeded mutations of real `weightshare` command lines (unknown and misspelt flags,
// missing and empty values, malformed, huge, negative and 2^53+ numbers, NUL bytes, missing, directory, device and FIFO
// paths, bad --out targets, oversized models), each run in-process in a small pool of worker threads with a time limit.
// Asserted for every case: the exit code the mutation calls for (0 for a line left valid, 2 for a usage mistake, 1 for
// a bad file); on error exactly one line on stderr (a usage error may add its "Run … --help" hint), no stack trace,
// naming the offending flag, value or path; no hang; nothing left behind by a failed write, and a bad --out target as it
// was. ~150 cases by default (CI); WEIGHTSHARE_FUZZ=long runs 20×; WEIGHTSHARE_FUZZ_SEED=n picks the seed;
// WEIGHTSHARE_FUZZ_LOG=1 prints every case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeIdx } from '../../src/data/idx.js';
import { writePng } from '../../src/data/png.js';
import type { CommandSpec, FlagSpec } from '../../src/cli/args.js';
import { compressSpec } from '../../src/cli/compress.js';
import { exportSpec } from '../../src/cli/export.js';
import { generateSpec } from '../../src/cli/generate.js';
import { importSpec } from '../../src/cli/import.js';
import { evalSpec, predictSpec, summarySpec } from '../../src/cli/inspect.js';
import { intrinsicDimSpec } from '../../src/cli/intrinsic-dim.js';
import { trainSpec } from '../../src/cli/train.js';
import { Rng } from '../helpers/random.js';
import { runCli } from '../helpers/cli.js';
import type { CliJob, CliJobResult } from '../helpers/cli-worker.js';

const LONG = process.env.WEIGHTSHARE_FUZZ === 'long';
const SEED = Number(process.env.WEIGHTSHARE_FUZZ_SEED ?? 15);
const CASES = LONG ? 3000 : 150;
const WORKERS = 2;
/** A case taking longer than this is a hang (the slowest valid line takes about 3 s on one core). */
const CASE_TIMEOUT_MS = 60_000;

const SPECS: Record<string, CommandSpec> = Object.fromEntries(
  [trainSpec, evalSpec, predictSpec, summarySpec, compressSpec, exportSpec, importSpec, generateSpec, intrinsicDimSpec].map((s) => [s.name, s]),
);

const dir = mkdtempSync(join(tmpdir(), 'ws-fuzz-argv-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string): string => join(dir, name);

/** One flag of a command line: its name and value (undefined for a boolean given bare). */
interface Flag { name: string; value?: string }
/** A command line as the mutations see it: the command, its positionals (`read`: a file the command reads) and flags. */
interface Line {
  command: string;
  positionals: { value: string; read: boolean }[];
  flags: Flag[];
  /** What --out names: a file, or a folder (export --format tfjs). */
  out?: 'file' | 'folder';
}

/**
 * Flags whose large values ask for long work that is not a mistake (train 10^9 epochs, generate 10^9 tokens), or that
 * are valid and harmless (a seed, a vocabulary cap, --conv-clusters of a model without convolutions): the "huge number"
 * mutation leaves them alone; every other mutation applies.
 */
const LONG_WORK = new Set(['conv-clusters', 'epochs', 'length', 'finetune-epochs', 'prune-finetune-epochs', 'layers', 'limit', 'test-limit', 'warmup-steps', 'begin-step', 'end-step', 'prune-frequency', 'early-stopping', 'batch-size', 'top-k', 'max-vocab', 'seed', 'top']);

/** The valid, quick command lines every case starts from; OUT is replaced by a path in the case's own folder. */
function baseLines(): Line[] {
  const m = at('model.wsm'), lm = at('lm.wsm');
  const small = [{ name: 'epochs', value: '1' }, { name: 'limit', value: '64' }, { name: 'test-limit', value: '32' }];
  return [
    { command: 'train', positionals: [], flags: [{ name: 'model', value: 'mlp:8' }, ...small, { name: 'batch-size', value: '32' }, { name: 'out', value: 'OUT' }], out: 'file' },
    { command: 'train', positionals: [], flags: [{ name: 'model', value: 'mlp:8,4' }, ...small, { name: 'optimizer', value: 'sgd' }, { name: 'lr', value: '0.05' }, { name: 'validation-split', value: '0.25' }, { name: 'out', value: 'OUT' }], out: 'file' },
    { command: 'train', positionals: [], flags: [{ name: 'model', value: 'char-lstm' }, { name: 'dataset', value: 'text' }, { name: 'data', value: at('book.txt') }, { name: 'embed', value: '4' }, { name: 'hidden', value: '4' }, { name: 'bptt', value: '8' }, { name: 'epochs', value: '1' }, { name: 'limit', value: '16' }, { name: 'test-limit', value: '8' }, { name: 'out', value: 'OUT' }], out: 'file' },
    { command: 'train', positionals: [], flags: [{ name: 'resume', value: m }, { name: 'epochs', value: '2' }, { name: 'out', value: 'OUT' }], out: 'file' },
    { command: 'eval', positionals: [{ value: m, read: true }], flags: [{ name: 'test-limit', value: '64' }, { name: 'batch-size', value: '32' }] },
    { command: 'predict', positionals: [{ value: m, read: true }, { value: at('digit.png'), read: true }], flags: [{ name: 'top', value: '3' }, { name: 'invert', value: 'yes' }] },
    { command: 'predict', positionals: [{ value: m, read: true }, { value: at('images-idx3-ubyte'), read: true }], flags: [{ name: 'limit', value: '2' }, { name: 'json' }] },
    { command: 'summary', positionals: [{ value: m, read: true }], flags: [{ name: 'json' }] },
    { command: 'compress', positionals: [{ value: m, read: true }], flags: [{ name: 'clusters', value: '4' }, { name: 'finetune-epochs', value: '1' }, { name: 'prune', value: '0.5' }, { name: 'out', value: 'OUT' }], out: 'file' },
    { command: 'export', positionals: [{ value: m, read: true }], flags: [{ name: 'out', value: 'OUT' }] , out: 'file' },
    { command: 'export', positionals: [{ value: m, read: true }], flags: [{ name: 'format', value: 'tfjs' }, { name: 'quantize', value: 'uint8' }, { name: 'out', value: 'OUT' }], out: 'folder' },
    { command: 'import', positionals: [{ value: at('model.onnx'), read: true }], flags: [{ name: 'out', value: 'OUT' }], out: 'file' },
    { command: 'import', positionals: [{ value: join(at('tfjs'), 'model.json'), read: true }], flags: [{ name: 'out', value: 'OUT' }], out: 'file' },
    { command: 'generate', positionals: [{ value: lm, read: true }], flags: [{ name: 'prompt', value: 'the ' }, { name: 'length', value: '5' }, { name: 'temperature', value: '0.5' }, { name: 'seed', value: '1' }] },
    { command: 'intrinsic-dim', positionals: [], flags: [{ name: 'model', value: 'mlp:8' }, { name: 'dims', value: '4,8' }, { name: 'epochs', value: '1' }, { name: 'limit', value: '64' }, { name: 'test-limit', value: '32' }, { name: 'projection', value: 'sparse' }] },
  ];
}

/** What a case expects: the exit codes allowed, and (on error) strings of which the error line must contain one. */
interface Expect { codes: number[]; needles?: string[]; what: string }

/** A mutated command line and what it must give; `target`: a bad --out target that must stay as it was. */
interface Case { id: number; line: Line; expect: Expect; argv: string[]; caseDir: string; target?: { path: string; kind: string } }

const BAD_INTS = ['', 'abc', '1.5', '1e3', '0x10', 'NaN', 'Infinity', '-', '9007199254740993', '99999999999999999999', '１２', '3 4', '+-1', '--5'];
const BAD_NUMBERS = ['', 'abc', 'NaN', 'Infinity', '-Infinity', '1e400', '0x10', '0b1', '1,5', '.', 'e5', '1e', '--5'];
const HUGE = ['999999999', '2147483648', '4294967296', '9007199254740991'];
const WORDS = ['frobnicate', 'epoch', 'lrate', 'out-file', 'x', 'data-dir', 'verbos', 'thread', 'no-such-flag'];

/** The kind of a path in words, as the reader's and writer's messages say it ('a FIFO (named pipe)'…), or 'missing'. */
function kindOf(path: string): string {
  try {
    const st = lstatSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isCharacterDevice() ? 'character device' : st.isFIFO() ? 'fifo' : st.isSymbolicLink() ? 'link' : 'other';
  } catch {
    return 'missing';
  }
}

/** Everything below `d` (relative paths), or [] when `d` does not exist. */
function listTree(d: string): string[] {
  if (!existsSync(d)) return [];
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const name of readdirSync(p)) {
      out.push(join(rel, name));
      if (statSync(join(p, name)).isDirectory()) walk(join(p, name), join(rel, name));
    }
  };
  walk(d, '');
  return out;
}

/** The argv of a line: positionals first or last (at random, unless `posFirst`), flags as `--name value` or `--name=value`. */
function render(line: Line, rng: Rng, eqForm: boolean, posFirst: boolean): string[] {
  const flags = line.flags.flatMap((f) => (f.value === undefined ? [`--${f.name}`] : eqForm || f.value.startsWith('-') ? [`--${f.name}=${f.value}`] : [`--${f.name}`, f.value]));
  const pos = line.positionals.map((p) => p.value);
  return posFirst || rng.bool(0.5) ? [line.command, ...pos, ...flags] : [line.command, ...flags, ...pos];
}

/** True when `name` is a flag of `spec` (or `no-<boolean flag>`, or help). */
function isFlag(spec: CommandSpec, name: string): boolean {
  const flags = spec.flags ?? {};
  return name in flags || name === 'help' || (name.startsWith('no-') && flags[name.slice(3)]?.type === 'boolean');
}

/** Builds case `id`: a base line, one bad mutation (or none, 1 in 6 cases) and a neutral one, with what it must give. */
function makeCase(id: number, rng: Rng, bases: readonly Line[], special: { fifo?: string }): Case {
  const base = rng.pick(bases);
  const line: Line = { ...base, positionals: base.positionals.map((p) => ({ ...p })), flags: base.flags.map((f) => ({ ...f })) };
  const spec = SPECS[line.command]!;
  const caseDir = at(`case-${id}`);
  for (const f of line.flags) if (f.value === 'OUT') f.value = join(caseDir, line.out === 'folder' ? 'out-tfjs' : 'out.wsm');
  let expect: Expect = { codes: [0], what: 'valid' };
  let target: Case['target'];
  let eqForm = rng.bool(0.3);
  const valued = line.flags.filter((f) => f.value !== undefined);
  const specOf = (name: string): FlagSpec => spec.flags![name]!;
  const kinds = ['unknown-flag', 'misspelt-flag', 'missing-value', 'bad-value', 'empty-positional', 'missing-positional', 'extra-positional', 'read-path', 'out-target', 'huge', 'valid'];
  const kind = rng.pick(kinds);
  switch (kind) {
    case 'unknown-flag': {
      const word = rng.pick(WORDS.filter((w) => !isFlag(spec, w)));
      line.flags.splice(rng.int(0, line.flags.length), 0, rng.bool(0.5) ? { name: word, value: '1' } : { name: word });
      expect = { codes: [2], needles: [`--${word}`], what: `unknown flag --${word}` };
      break;
    }
    case 'misspelt-flag': {
      const f = rng.pick(line.flags);
      const n = f.name;
      const i = rng.int(0, n.length - 1);
      const variants = [n.slice(0, i) + n.slice(i + 1), n + 's', n.toUpperCase(), n.replace(/-/g, '_'), ...(i + 1 < n.length ? [n.slice(0, i) + n[i + 1] + n[i] + n.slice(i + 2)] : [])].filter((v) => v && v !== n && !isFlag(spec, v) && !v.includes('=') && !v.startsWith('-'));
      if (!variants.length) break;
      f.name = rng.pick(variants);
      expect = { codes: [2], needles: [`--${f.name}`], what: `misspelt --${n} as --${f.name}` };
      break;
    }
    case 'missing-value': {
      if (!valued.length) break;
      const f = rng.pick(valued);
      // Bare at the very end (positionals first): a value flag without its value.
      line.flags = [...line.flags.filter((g) => g !== f), { name: f.name }];
      expect = { codes: [2], needles: [`--${f.name}`], what: `--${f.name} without a value` };
      return finish(true);
    }
    case 'bad-value': {
      const choices = Object.entries(spec.flags ?? {}).filter(([name, s]) => s.type !== 'boolean' && name !== 'out' && name !== 'resume' && name !== 'data' && !(s.type === 'list' && !s.choices));
      if (!choices.length) break;
      const [name, s] = rng.pick(choices);
      let value: string;
      if (s.type === 'int') value = rng.pick([...BAD_INTS, ...(s.min !== undefined ? [String(s.min - 1), String(s.min - 1000)] : []), ...(s.max !== undefined ? [String(s.max + 1)] : [])]);
      else if (s.type === 'number') value = rng.pick([...BAD_NUMBERS, ...(s.min !== undefined ? [String(s.min - 0.5)] : []), ...(s.max !== undefined ? [String(s.max + 0.5)] : [])]);
      else if (s.choices) value = rng.pick(['', 'bogus', s.choices[0]!.toUpperCase() + '!', ` ${s.choices[0]}`]);
      else value = '';
      const existing = line.flags.find((f) => f.name === name);
      if (existing) existing.value = value;
      else line.flags.splice(rng.int(0, line.flags.length), 0, { name, value });
      // A value starting with '-' reads as a missing value: the message still names the flag.
      expect = { codes: [2], needles: [`--${name}`], what: `--${name} ${JSON.stringify(value)}` };
      break;
    }
    case 'empty-positional': {
      if (!line.positionals.length) break;
      const p = rng.pick(line.positionals);
      p.value = '';
      expect = { codes: [2], needles: ['is empty'], what: 'an empty positional' };
      break;
    }
    case 'missing-positional': {
      if (!line.positionals.length) break;
      line.positionals.pop();
      expect = { codes: [2], needles: ['missing required argument'], what: 'a missing positional' };
      break;
    }
    case 'extra-positional': {
      line.positionals.push({ value: 'stray.txt', read: false });
      expect = { codes: [2], needles: ['stray.txt'], what: 'an extra positional' };
      break;
    }
    case 'read-path': {
      const reads = [...line.positionals.filter((p) => p.read), ...line.flags.filter((f) => (f.name === 'data' && line.flags.some((g) => g.value === 'text')) || f.name === 'resume')];
      if (!reads.length) break;
      const bad = rng.pick([at('nope.wsm'), at('sub'), '/dev/null', '/dev/zero', join(at('plain'), 'x.wsm'), at('nul\0byte.wsm'), ...(special.fifo ? [special.fifo] : [])]);
      const p = rng.pick(reads);
      p.value = bad;
      expect = { codes: [1], needles: [bad], what: `reads ${JSON.stringify(bad)}` };
      break;
    }
    case 'out-target': {
      const out = line.flags.find((f) => f.name === 'out');
      if (!out) break;
      const bad = rng.pick([at('sub'), '/dev/null', '/dev/full', join(at('plain'), 'x.wsm'), join(caseDir, 'a\0b.wsm'), ...(special.fifo ? [special.fifo] : []), ...(line.out === 'folder' ? [at('plain')] : [])]);
      out.value = bad;
      target = { path: bad, kind: kindOf(bad) };
      expect = { codes: [1], needles: [bad], what: `--out ${JSON.stringify(bad)}` };
      break;
    }
    case 'huge': {
      const model = line.flags.find((f) => f.name === 'model' && /^mlp/.test(f.value ?? ''));
      const sized = Object.entries(spec.flags ?? {}).filter(([name, s]) => s.type === 'int' && !LONG_WORK.has(name) && !(s.max !== undefined && s.max < 1e6));
      if (model && rng.bool(0.5)) {
        const v = rng.pick(HUGE);
        model.value = rng.bool(0.5) ? `mlp:${v}` : `mlp:8,${v}`;
        expect = { codes: [2], needles: [v], what: `--model ${model.value}` };
        break;
      }
      if (!sized.length) break;
      const [name] = rng.pick(sized);
      const v = rng.pick(HUGE);
      const existing = line.flags.find((f) => f.name === name);
      if (existing) existing.value = v;
      else line.flags.push({ name, value: v });
      // A size no model or data here can have: refused by name (2) or by the file or data it does not fit (1); a resumed
      // run keeps its own sizes and ignores the flag (with a note).
      const resumed = line.flags.some((f) => f.name === 'resume');
      expect = { codes: resumed ? [0] : [1, 2], needles: [v, `--${name}`], what: `--${name} ${v}` };
      break;
    }
    default:
      break;
  }
  // Neutral changes: a flag given twice with the same value (the last one wins), flags in another order.
  if (rng.bool(0.3) && valued.length) {
    const f = rng.pick(line.flags.filter((g) => g.value !== undefined && specOf(g.name)?.type !== 'list'));
    if (f) line.flags.push({ ...f });
  }
  if (rng.bool(0.3)) line.flags.reverse();
  return finish();

  function finish(posFirst = false): Case {
    const argv = render(line, rng, eqForm, posFirst);
    return { id, line, expect, argv, caseDir, target };
  }
}

/** Runs jobs on a pool of worker threads, a time limit each; a worker past it is terminated (reported as a hang) and replaced. */
class Pool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly all = new Set<Worker>();
  constructor(size: number) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }
  private spawn(): Worker {
    // One engine thread per worker: the pool is the parallelism.
    const w = new Worker(new URL('../helpers/cli-worker.js', import.meta.url), { env: { ...process.env, WEIGHTSHARE_THREADS: '1' } });
    this.all.add(w);
    return w;
  }
  private take(): Promise<Worker> {
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((resolve) => this.waiting.push(resolve));
  }
  private give(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }
  async run(job: CliJob): Promise<CliJobResult & { ms: number; hung?: boolean }> {
    const w = await this.take();
    const t0 = Date.now();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        w.removeAllListeners('message');
        this.all.delete(w);
        void w.terminate();
        this.give(this.spawn());
        resolve({ id: job.id, code: -1, out: '', err: '', ms: Date.now() - t0, hung: true });
      }, CASE_TIMEOUT_MS);
      w.once('message', (r: CliJobResult) => {
        clearTimeout(timer);
        this.give(w);
        resolve({ ...r, ms: Date.now() - t0 });
      });
      w.postMessage(job);
    });
  }
  async close(): Promise<void> {
    await Promise.all([...this.all].map((w) => w.terminate()));
  }
}

/** The problems of one result against its case, or [] when it behaved. */
function judge(c: Case, r: CliJobResult & { ms: number; hung?: boolean }, leftovers: string[]): string[] {
  if (r.hung) return [`no answer within ${CASE_TIMEOUT_MS / 1000} s (a hang)`];
  if (r.escaped) return [`an exception escaped main(): ${r.escaped.split('\n')[0]}`];
  const problems: string[] = [];
  if (!c.expect.codes.includes(r.code)) problems.push(`exit ${r.code}, expected ${c.expect.codes.join(' or ')}`);
  if (r.code !== 0) {
    const lines = r.err.split('\n').filter((l) => l !== '');
    const errorLines = lines.filter((l) => !/^Run 'weightshare( [\w-]+)? --help' for usage\.$/.test(l));
    if (errorLines.length !== 1) problems.push(`${errorLines.length} lines on stderr, expected 1`);
    const first = errorLines[0] ?? '';
    if (!/^weightshare( [\w-]+)?: /.test(first)) problems.push(`the error line does not start with 'weightshare…: '`);
    if (r.code === 2 && !first.startsWith(`weightshare ${c.line.command}: `)) problems.push(`a usage error not naming the command '${c.line.command}'`);
    if (/^\s+at /m.test(r.err)) problems.push('a stack trace on stderr');
    if (c.expect.needles && !c.expect.needles.some((n) => first.includes(n))) problems.push(`the error line names none of ${JSON.stringify(c.expect.needles)}`);
    if (/\b(undefined|\[object Object\]|TypeError|ReferenceError|Cannot read properties)\b/.test(first)) problems.push('an internal message leaks');
    if (r.out !== '') problems.push('output on stdout');
    if (leftovers.length) problems.push(`left behind: ${leftovers.join(', ')}`);
  } else {
    const out = c.line.flags.find((f) => f.name === 'out')?.value;
    if (out && !existsSync(c.line.out === 'folder' ? join(out, 'model.json') : out)) problems.push(`exit 0 but ${out} was not written`);
    if (leftovers.some((f) => /\.lock$|\.tmp-\d+-/.test(f))) problems.push(`left behind: ${leftovers.join(', ')}`);
  }
  if (c.target && kindOf(c.target.path) !== c.target.kind) problems.push(`--out target ${c.target.path} was a ${c.target.kind}, is now a ${kindOf(c.target.path)}`);
  return problems;
}

test(`fuzzed command lines (${CASES} cases, seed ${SEED}): the expected exit code, one error line naming the flag, value or path, no hang, nothing left behind`, { timeout: LONG ? 4 * 3600_000 : 300_000 }, async () => {
  // Fixtures: a trained model, a tiny language model, images, a text file, exports to import, odd paths.
  mkdirSync(at('sub'));
  writeFileSync(at('plain'), 'a regular file\n');
  writeFileSync(at('book.txt'), 'the cat sat on the mat and the dog ate the log; '.repeat(40));
  const grey = new Uint8Array(28 * 28).map((_, i) => ((i % 28) > 10 && (i % 28) < 18 ? 255 : 0));
  writeFileSync(at('digit.png'), writePng({ width: 28, height: 28, channels: 1, data: grey }));
  writeFileSync(at('images-idx3-ubyte'), writeIdx({ shape: [3, 28, 28], dtype: 'uint8', data: new Uint8Array(3 * 784).fill(7) }));
  const setup: string[][] = [
    ['train', '--model', 'mlp:16', '--epochs', '1', '--limit', '64', '--test-limit', '32', '--out', at('model.wsm')],
    ['train', '--model', 'char-lstm', '--dataset', 'text', '--data', at('book.txt'), '--embed', '4', '--hidden', '4', '--bptt', '8', '--epochs', '1', '--limit', '16', '--test-limit', '8', '--out', at('lm.wsm')],
    ['export', at('model.wsm'), '--out', at('model.onnx')],
    ['export', at('model.wsm'), '--format', 'tfjs', '--out', at('tfjs')],
  ];
  for (const argv of setup) {
    const r = await runCli(...argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
  }
  const fifo = spawnSync('mkfifo', [at('fifo')]).status === 0 ? at('fifo') : undefined;
  const fixtures = new Set(readdirSync(dir));

  const rng = new Rng(SEED);
  const bases = baseLines();
  const cases = Array.from({ length: CASES }, (_, i) => makeCase(i, rng, bases, { fifo }));
  const pool = new Pool(WORKERS);
  const broken: string[] = [];
  const tally: Record<string, number> = {};
  try {
    await Promise.all(cases.map(async (c) => {
      mkdirSync(c.caseDir);
      const r = await pool.run({ id: c.id, argv: c.argv });
      const problems = judge(c, r, listTree(c.caseDir));
      const outcome = r.hung ? 'hang' : `exit ${r.code}`;
      tally[outcome] = (tally[outcome] ?? 0) + 1;
      const label = `#${c.id} ${c.expect.what}: weightshare ${c.argv.map((a) => JSON.stringify(a)).join(' ')}`;
      if (process.env.WEIGHTSHARE_FUZZ_LOG) console.log(`${outcome} ${r.ms} ms ${label}\n  ${r.err.split('\n').filter(Boolean).slice(-2).join('\n  ')}`);
      if (problems.length) broken.push(`${label}\n    ${problems.join('; ')}\n    stderr: ${JSON.stringify(r.err.slice(-400))}`);
      rmSync(c.caseDir, { recursive: true, force: true });
    }));
  } finally {
    await pool.close();
  }
  // The shared folders (bad --out targets of all cases) hold nothing new once every case is done: no lock, no temp file.
  const left = [...readdirSync(dir).filter((f) => !fixtures.has(f)), ...listTree(at('sub')).map((f) => join('sub', f))];
  assert.deepEqual(left, [], 'left behind in the fixtures folder');
  const valid = cases.filter((c) => c.expect.codes.includes(0)).length;
  assert.ok(valid >= CASES / 20, `only ${valid} cases left valid: the suite must also see valid lines pass`);
  assert.ok(Object.keys(tally).length >= 3, `every case ended alike (${JSON.stringify(tally)})`);
  assert.deepEqual(broken, [], `${broken.length} of ${CASES} cases broke a rule (${JSON.stringify(tally)}):\n${broken.join('\n')}`);
});
