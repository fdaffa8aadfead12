// Tests of the CLI flag parser: value syntaxes, typed results, every usage error, and the help text layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  camelCase, defineCommand, editDistance, findCommand, formatCommandList, formatHelp, parseArgs, suggest, UsageError,
} from '../../src/cli/args.js';

const train = defineCommand({
  name: 'train',
  summary: 'Train a model on a dataset',
  positionals: [
    { name: 'config', required: true, description: 'Model config JSON file' },
    { name: 'out', description: 'Where to write the trained model' },
  ],
  flags: {
    'batch-size': { type: 'int', default: 64, min: 1, description: 'Mini-batch size' },
    epochs: { type: 'int', default: 10, min: 1, description: 'Number of epochs' },
    lr: { type: 'number', default: 0.01, description: 'Learning rate' },
    dataset: { type: 'string', default: 'mnist-sample', choices: ['mnist-sample', 'mnist', 'fashion-mnist'], description: 'Dataset to train on' },
    shuffle: { type: 'boolean', default: true, description: 'Shuffle every epoch' },
    verbose: { type: 'boolean', description: 'Print more' },
    layers: { type: 'list', default: ['128', '64'], description: 'Hidden layer sizes' },
    seed: { type: 'int', description: 'Random seed' },
    output: { type: 'string', short: 'o', metavar: 'path', description: 'Report file' },
  },
  examples: ['weightshare train model.json --epochs 5'],
});

const usage = (re: RegExp) => (e: unknown): boolean => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n');

test('defaults, camelCased keys and typed values', () => {
  const r = parseArgs(train, ['cfg.json']);
  assert.equal(r.help, false);
  assert.deepEqual(r.positionals, { config: 'cfg.json', out: undefined });
  assert.deepEqual(r.flags, { batchSize: 64, epochs: 10, lr: 0.01, dataset: 'mnist-sample', shuffle: true, verbose: false, layers: ['128', '64'], seed: undefined, output: undefined });
  // Compile-time checks of the inferred types.
  const bs: number = r.flags.batchSize;
  const ds: 'mnist-sample' | 'mnist' | 'fashion-mnist' = r.flags.dataset;
  const seed: number | undefined = r.flags.seed;
  const cfg: string = r.positionals.config;
  const out: string | undefined = r.flags.output;
  const verbose: boolean = r.flags.verbose;
  const layers: string[] = r.flags.layers;
  const dest: string | undefined = r.positionals.out;
  // @ts-expect-error an int flag is a number, not a string
  const wrong: string = r.flags.epochs;
  // @ts-expect-error a flag without a default may be undefined
  const seedNum: number = r.flags.seed;
  assert.ok(bs && ds && seed === undefined && cfg && out === undefined && !verbose && layers && dest === undefined && wrong && seedNum === undefined);
});

test('--flag value, --flag=value, --no-flag, short aliases, lists, negative numbers and --', () => {
  const r = parseArgs(train, ['--batch-size', '32', 'cfg.json', '--epochs=3', '--no-shuffle', '--verbose', '--lr', '-0.5',
    '--layers', '256, 32', '--layers=16', '--dataset=fashion-mnist', '-o', 'r.json', '--seed=-7', '--', '--out.bin']);
  assert.deepEqual(r.flags, { batchSize: 32, epochs: 3, lr: -0.5, dataset: 'fashion-mnist', shuffle: false, verbose: true, layers: ['256', '32', '16'], seed: -7, output: 'r.json' });
  assert.deepEqual(r.positionals, { config: 'cfg.json', out: '--out.bin' });
  assert.equal(parseArgs(train, ['c', '--shuffle=false']).flags.shuffle, false);
  assert.equal(parseArgs(train, ['c', '--epochs', '4', '--epochs', '5']).flags.epochs, 5, 'last one wins');
});

test('-h/--help wins over missing positionals', () => {
  assert.equal(parseArgs(train, ['-h']).help, true);
  assert.equal(parseArgs(train, ['--epochs', '2', '--help']).help, true);
});

test('unknown flags suggest the nearest one', () => {
  assert.throws(() => parseArgs(train, ['c', '--bach-size', '3']), usage(/^unknown flag --bach-size \(did you mean --batch-size\?\)$/));
  assert.throws(() => parseArgs(train, ['c', '--epoch=3']), usage(/did you mean --epochs\?/));
  assert.throws(() => parseArgs(train, ['c', '--hepl']), usage(/did you mean --help\?/));
  assert.throws(() => parseArgs(train, ['c', '--zzzzzzzz']), usage(/^unknown flag --zzzzzzzz$/));
  assert.throws(() => parseArgs(train, ['c', '--no-epochs']), usage(/^unknown flag --no-epochs/));
  assert.throws(() => parseArgs(train, ['c', '-x']), usage(/^unknown option -x$/));
  assert.throws(() => parseArgs(train, ['c', '--no-shuffle=1']), usage(/--no-shuffle takes no value, got '1'/));
  try {
    parseArgs(train, ['--nope']);
  } catch (e) {
    assert.equal((e as UsageError).command, 'train');
    assert.equal((e as UsageError).name, 'UsageError');
  }
});

test('bad values', () => {
  assert.throws(() => parseArgs(train, ['c', '--epochs']), usage(/^--epochs needs a value \(int\)$/));
  assert.throws(() => parseArgs(train, ['c', '--epochs', '--lr', '1']), usage(/^--epochs needs a value/));
  assert.throws(() => parseArgs(train, ['c', '--epochs', 'ten']), usage(/^--epochs expects an integer, got 'ten'$/));
  assert.throws(() => parseArgs(train, ['c', '--epochs=2.5']), usage(/expects an integer, got '2.5'/));
  assert.throws(() => parseArgs(train, ['c', '--lr', 'fast']), usage(/^--lr expects a number, got 'fast'$/));
  assert.throws(() => parseArgs(train, ['c', '--batch-size=0']), usage(/^--batch-size must be at least 1, got 0$/));
  assert.throws(() => parseArgs(train, ['c', '--dataset', 'cifar']), usage(/^--dataset must be one of mnist-sample, mnist, fashion-mnist; got 'cifar'$/));
  assert.throws(() => parseArgs(train, ['c', '--verbose=maybe']), usage(/^--verbose expects true or false, got 'maybe'$/));
});

test('integers beyond 2^53 − 1 and non-integers are refused by flag name; an empty list is refused', () => {
  assert.equal(parseArgs(train, ['c', '--seed', '9007199254740991']).flags.seed, Number.MAX_SAFE_INTEGER);
  assert.equal(parseArgs(train, ['c', '--seed', '-9007199254740991']).flags.seed, -Number.MAX_SAFE_INTEGER);
  // 9007199254740993 would round to …992 silently.
  assert.throws(() => parseArgs(train, ['c', '--seed', '9007199254740993']), usage(/^--seed expects an integer of at most 9007199254740991 \(2\^53 − 1\) in size, got '9007199254740993'$/));
  assert.throws(() => parseArgs(train, ['c', '--epochs=1' + '0'.repeat(30)]), usage(/^--epochs expects an integer of at most 9007199254740991/));
  assert.throws(() => parseArgs(train, ['c', '--seed', '-9007199254740992']), usage(/^--seed expects an integer of at most/));
  for (const v of ['1.5', '1e3', '0x10', '']) assert.throws(() => parseArgs(train, ['c', `--epochs=${v}`]), usage(new RegExp(`^--epochs expects an integer, got '${v}'$`)), v);
  assert.throws(() => parseArgs(train, ['c', '--layers', '']), usage(/^--layers needs at least one value, got ''$/));
  assert.throws(() => parseArgs(train, ['c', '--layers', ' , ,']), usage(/^--layers needs at least one value, got ' , ,'$/));
});

test('numbers only in decimal notation; an empty string value or positional is refused by name (issue 15, found by the argv fuzz suite)', () => {
  for (const [v, want] of [['1e-4', 1e-4], ['.5', 0.5], ['-2.', -2], ['+3E2', 300]] as const) assert.equal(parseArgs(train, ['c', '--lr', v]).flags.lr, want, v);
  // Number() would read these as 16, 1 and 8.
  for (const v of ['0x10', '0b1', '0o10', '1_000', 'Infinity', '1e400', '.', 'e5']) assert.throws(() => parseArgs(train, ['c', `--lr=${v}`]), usage(new RegExp(`^--lr expects a number, got '${v.replace('.', '\\.')}'$`)), v);
  // An empty string would read as no value at all: --out '' as the default file, --resume '' as a fresh run.
  assert.throws(() => parseArgs(train, ['c', '--output', '']), usage(/^--output needs a non-empty value \(path\), got ''$/));
  assert.throws(() => parseArgs(train, ['c', '--output=']), usage(/^--output needs a non-empty value \(path\), got ''$/));
  assert.throws(() => parseArgs(train, ['c', '--dataset', '']), usage(/^--dataset must be one of mnist-sample, mnist, fashion-mnist; got ''$/));
  assert.throws(() => parseArgs(train, ['']), usage(/^argument <config> is empty$/));
  assert.throws(() => parseArgs(train, ['c', '']), usage(/^argument <out> is empty$/));
});

test('positional errors', () => {
  assert.throws(() => parseArgs(train, []), usage(/^missing required argument <config>$/));
  assert.throws(() => parseArgs(train, ['a', 'b', 'c']), usage(/^too many arguments: expected at most 2, got 3 \(unexpected 'c'\)$/));
  const many = defineCommand({ name: 'predict', summary: 'p', positionals: [{ name: 'model', required: true, description: 'm' }, { name: 'images', required: true, variadic: true, description: 'i' }] });
  const r = parseArgs(many, ['m.json', 'a.png', 'b.png']);
  const images: string[] = r.positionals.images;
  assert.deepEqual(images, ['a.png', 'b.png']);
  assert.throws(() => parseArgs(many, ['m.json']), usage(/^missing required argument <images>$/));
});

test('helpers: camelCase, editDistance, suggest, findCommand', () => {
  assert.equal(camelCase('batch-size'), 'batchSize');
  assert.equal(camelCase('val-split-2'), 'valSplit2');
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('hepl', 'help'), 1);
  assert.equal(suggest('trian', ['train', 'eval', 'predict']), 'train');
  assert.equal(suggest('sum', ['train', 'summary']), 'summary');
  assert.equal(suggest('xyzzy', ['train', 'eval']), undefined);
  assert.equal(findCommand([train], 'train'), train);
  assert.throws(() => findCommand([train], 'trian'), usage(/^unknown command 'trian' \(did you mean 'train'\?\); run 'weightshare --help' for the list$/));
});

test('formatHelp: usage line, description, aligned flag table with defaults', () => {
  const help = formatHelp(train);
  const lines = help.split('\n');
  assert.equal(lines[0], 'Usage: weightshare train [options] <config> [out]');
  assert.equal(lines[2], 'Train a model on a dataset');
  assert.ok(help.includes('Arguments:\n  config'));
  assert.match(help, /--batch-size <int> +Mini-batch size \[1\.\.\] \(default: 64\)/);
  assert.match(help, /--dataset <string> +Dataset to train on \(mnist-sample\|mnist\|fashion-mnist\)\s+\(default: mnist-sample\)/);
  assert.match(help, /--\[no-\]shuffle +Shuffle every epoch \(default: true\)/);
  assert.match(help, /--\[no-\]verbose +Print more\n/);
  assert.match(help, /-o, --output <path> +Report file/);
  assert.match(help, /--layers <list> +Hidden layer sizes \(default: 128,64\)/);
  assert.match(help, /-h, --help +Show this help/);
  assert.match(help, /Examples:\n {2}weightshare train model\.json --epochs 5\n$/);
  const optionLines = lines.slice(lines.indexOf('Options:') + 1).filter((l) => l.startsWith('  -'));
  const descStart = optionLines.map((l) => l.length - l.replace(/^ {2}\S+(?:, \S+)?(?: <\w+>)? +/, '').length);
  assert.equal(new Set(descStart).size, 1, `descriptions aligned: ${descStart}`);
  assert.ok(lines.every((l) => l.length <= 80), 'fits 80 columns');
});

test('formatCommandList lists commands with aligned summaries', () => {
  const text = formatCommandList('weightshare', [train, { name: 'eval', summary: 'Evaluate a model' }, { name: 'summary', summary: 'Print layers' }]);
  assert.equal(text, [
    'Usage: weightshare <command> [options]',
    '',
    'Commands:',
    '  train    Train a model on a dataset',
    '  eval     Evaluate a model',
    '  summary  Print layers',
    '',
    "Run 'weightshare <command> --help' for the options of a command.",
    '',
  ].join('\n'));
});
