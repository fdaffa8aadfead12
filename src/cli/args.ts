// A small typed command-line flag parser (no dependencies) with one-line usage errors and git/npm-style help text.

/** The value kinds a flag can take: `list` is comma-separated (and repeatable), `boolean` also accepts `--no-flag`. */
export type FlagType = 'int' | 'number' | 'string' | 'boolean' | 'list';

/** One `--flag` of a command. */
export interface FlagSpec {
  type: FlagType;
  /** Value when the flag is absent; without one, non-boolean flags are `undefined` and booleans `false`. */
  default?: number | string | boolean | readonly string[];
  description: string;
  /** Allowed values of a `string` flag or of each `list` item. */
  choices?: readonly string[];
  /** Smallest allowed value of an `int` or `number` flag. */
  min?: number;
  /** Largest allowed value of an `int` or `number` flag. */
  max?: number;
  /** A value the flag must be greater than (a learning rate: above 0). */
  above?: number;
  /** Single-letter alias, e.g. `'o'` for `-o`. */
  short?: string;
  /** Placeholder in help text, e.g. `'path'` for `--out <path>` (default: the type). */
  metavar?: string;
}

/** One positional argument of a command. Only the last may be `variadic` (collects the rest into an array). */
export interface PositionalSpec {
  name: string;
  required?: boolean;
  variadic?: boolean;
  description: string;
}

/** A command: its name, a one-line summary, optional longer description, positionals and flags keyed by kebab-case name. */
export interface CommandSpec {
  name: string;
  summary: string;
  description?: string;
  positionals?: readonly PositionalSpec[];
  flags?: { readonly [flag: string]: FlagSpec };
  /** Example invocations shown at the end of the help text. */
  examples?: readonly string[];
}

/** `'batch-size'` → `'batchSize'`. */
export type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

type ValueOf<F extends FlagSpec> = F['type'] extends 'int' | 'number' ? number
  : F['type'] extends 'boolean' ? boolean
  : F['type'] extends 'list' ? string[]
  : F['choices'] extends readonly (infer C extends string)[] ? C : string;

/** Parsed flag values, camelCased; `undefined` is possible only for non-boolean flags without a default. */
export type FlagValues<S extends CommandSpec> = S['flags'] extends { readonly [flag: string]: FlagSpec } ? {
  [K in keyof S['flags'] & string as CamelCase<K>]: S['flags'][K] extends { default: unknown } | { type: 'boolean' }
    ? ValueOf<S['flags'][K]> : ValueOf<S['flags'][K]> | undefined
} : Record<string, never>;

type PositionalValue<P extends PositionalSpec> = P extends { variadic: true } ? string[] : P extends { required: true } ? string : string | undefined;

/** Parsed positional values, keyed by camelCased name. */
export type PositionalValues<S extends CommandSpec> = S['positionals'] extends readonly PositionalSpec[] ? {
  [P in S['positionals'][number] as CamelCase<P['name']>]: PositionalValue<P>
} : Record<string, never>;

/** The result of `parseArgs`: when `help` is true the caller should print `formatHelp(spec)` and ignore the rest. */
export interface ParsedArgs<S extends CommandSpec = CommandSpec> {
  help: boolean;
  flags: FlagValues<S>;
  positionals: PositionalValues<S>;
  /** Flags given on the command line (kebab-case names), to tell an explicit value from a default. */
  given: ReadonlySet<string>;
}

/** A command-line mistake; the message is one line naming the problem. `command` is the command being parsed, if any. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Identity helper that keeps literal types so `parseArgs` can type its result: `defineCommand({ ... })`. */
export function defineCommand<const S extends CommandSpec>(spec: S): S {
  return spec;
}

/** `'batch-size'` → `'batchSize'`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Edit distance between two strings: insertions, deletions, substitutions and adjacent swaps each count 1. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `word` (edit distance ≤ max(1, ⌊len/3⌋), or `word` is a prefix of it), or undefined. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 1 : editDistance(word, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best;
}

/** Finds the command named `name`, or throws `UsageError` with a "did you mean" suggestion. */
export function findCommand<S extends CommandSpec>(specs: readonly S[], name: string, programName = 'weightshare'): S {
  const found = specs.find((s) => s.name === name);
  if (found) return found;
  const near = suggest(name, specs.map((s) => s.name));
  throw new UsageError(`unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}; run '${programName} --help' for the list`);
}

function convert(flag: string, f: FlagSpec, raw: string, command: string): number | string | boolean | string[] {
  const fail = (msg: string): never => { throw new UsageError(`--${flag} ${msg}`, command); };
  const checkRange = (v: number): number => {
    if (f.min !== undefined && v < f.min) fail(`must be at least ${f.min}, got ${v}`);
    if (f.max !== undefined && v > f.max) fail(`must be at most ${f.max}, got ${v}`);
    if (f.above !== undefined && !(v > f.above)) fail(`must be greater than ${f.above}, got ${v}`);
    return v;
  };
  const checkChoice = (v: string): string => {
    if (f.choices && !f.choices.includes(v)) fail(`must be one of ${f.choices.join(', ')}; got '${v}'`);
    return v;
  };
  switch (f.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw.trim())) fail(`expects an integer, got '${raw}'`);
      const v = Number(raw);
      // Above 2^53 a double cannot hold every integer: 9007199254740993 would silently become …992.
      if (!Number.isSafeInteger(v)) fail(`expects an integer of at most ${Number.MAX_SAFE_INTEGER} (2^53 − 1) in size, got '${raw}'`);
      return checkRange(v);
    }
    case 'number': {
      // Decimal notation only: Number() would also read '0x10' as 16 and '0b1' as 1.
      const v = Number(raw);
      if (!DECIMAL.test(raw.trim()) || !Number.isFinite(v)) fail(`expects a number, got '${raw}'`);
      return checkRange(v);
    }
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(v)) return true;
      if (['false', 'no', '0', 'off'].includes(v)) return false;
      return fail(`expects true or false, got '${raw}'`);
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (!items.length) fail(`needs at least one value, got '${raw}'`);
      return items.map(checkChoice);
    }
    default:
      // An empty value would read as no value at all (`--out ''` as the default file, `--resume ''` as a fresh run).
      if (raw === '' && !f.choices) fail(`needs a non-empty value (${f.metavar ?? f.type}), got ''`);
      return checkChoice(raw);
  }
}

/** A number in decimal notation: 3, -0.5, .5, 1e-4, 2.5E+3. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** True when `s` can be the value of a flag rather than another flag: not `-x`/`--x`, but negative numbers are fine. */
const isValue = (s: string | undefined): s is string => s !== undefined && (!s.startsWith('-') || /^-\.?\d/.test(s) || s === '-');

/**
 * Parses `argv` (without the program and command names) against `spec`: `--flag value`, `--flag=value`,
 * `--no-flag`/`--flag` for booleans, `-x value` for `short` aliases, `-h`/`--help`, and `--` to end flags.
 * A repeated flag overrides, except `list` flags, which append. Keys of the result are camelCased.
 * Throws `UsageError` (one line) on an unknown flag, a missing or malformed value (an integer beyond 2^53 − 1
 * in size, a number not in decimal notation, an empty string, a list with no items), a value out of range or not among
 * the choices, a missing or empty positional, or too many positionals.
 */
export function parseArgs<const S extends CommandSpec>(spec: S, argv: readonly string[]): ParsedArgs<S> {
  const command = spec.name;
  const flags = spec.flags ?? {};
  const names = Object.keys(flags);
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(flags)) {
    const d = f.default ?? (f.type === 'boolean' ? false : undefined);
    values[camelCase(name)] = Array.isArray(d) ? [...d] : d;
  }
  const given = new Set<string>();
  const givenNames = new Set<string>();
  const rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { rest.push(...argv.slice(i + 1)); break; }
    if (arg === '-h' || arg === '--help') { help = true; continue; }
    if (!arg.startsWith('-') || arg === '-' || /^-\.?\d/.test(arg)) { rest.push(arg); continue; }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      const short = names.find((n) => flags[n].short === arg.slice(1, 2));
      if (!short || arg.length > 2) {
        const near = short ? undefined : suggest(arg.slice(1), names);
        throw new UsageError(`unknown option ${arg}${near ? ` (did you mean --${near}?)` : ''}`, command);
      }
      name = short;
    }
    let f = flags[name];
    let negated = false;
    if (!f && name.startsWith('no-') && flags[name.slice(3)]?.type === 'boolean') {
      name = name.slice(3);
      f = flags[name];
      negated = true;
      if (inline !== undefined) throw new UsageError(`--no-${name} takes no value, got '${inline}'`, command);
    }
    if (!f) {
      const near = suggest(name, [...names, 'help']);
      throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near}?)` : ''}`, command);
    }
    let value: number | string | boolean | string[];
    if (f.type === 'boolean') {
      value = negated ? false : inline === undefined ? true : convert(name, f, inline, command);
    } else {
      let raw = inline;
      if (raw === undefined) {
        if (!isValue(argv[i + 1])) throw new UsageError(`--${name} needs a value (${f.metavar ?? f.type})`, command);
        raw = argv[++i];
      }
      value = convert(name, f, raw, command);
    }
    const key = camelCase(name);
    values[key] = f.type === 'list' && given.has(key) ? [...(values[key] as string[]), ...(value as string[])] : value;
    given.add(key);
    givenNames.add(name);
  }
  const positionals: Record<string, string | string[] | undefined> = {};
  if (!help) {
    const pspecs = spec.positionals ?? [];
    pspecs.forEach((p) => {
      if (p.variadic) {
        positionals[camelCase(p.name)] = rest.splice(0);
        if (p.required && (positionals[camelCase(p.name)] as string[]).length === 0) throw new UsageError(`missing required argument <${p.name}>`, command);
        return;
      }
      const v = rest.shift();
      if (v === undefined && p.required) throw new UsageError(`missing required argument <${p.name}>`, command);
      if (v === '') throw new UsageError(`argument <${p.name}> is empty`, command);
      positionals[camelCase(p.name)] = v;
    });
    if (rest.length > 0) {
      const max = pspecs.length;
      throw new UsageError(`too many arguments: expected at most ${max}, got ${max + rest.length} (unexpected '${rest[0]}')`, command);
    }
  }
  return { help, flags: values as FlagValues<S>, positionals: positionals as PositionalValues<S>, given: givenNames };
}

/** Word-wraps `text` to `width` columns, indenting continuation lines by `indent` spaces. */
function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent + line.length + 1 + w.length > width) { lines.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Rows of a two-column table, left column padded to a common width (capped so long names wrap below). */
function table(rows: Array<[string, string]>, width: number): string {
  const col = Math.min(30, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, r]) => {
    const pad = l.length + 2 > col ? `\n${' '.repeat(col)}` : ' '.repeat(col - l.length);
    return `${l}${pad}${wrap(r, width, col)}`;
  }).join('\n');
}

const usagePositional = (p: PositionalSpec): string => {
  const inner = `${p.name}${p.variadic ? '...' : ''}`;
  return p.required ? `<${inner}>` : `[${inner}]`;
};

function formatDefault(f: FlagSpec): string {
  if (f.default === undefined || (f.type === 'boolean' && f.default === false)) return '';
  return ` (default: ${Array.isArray(f.default) ? f.default.join(',') : String(f.default)})`;
}

/** Help text of one command: usage line, description, arguments, an aligned flag table with defaults, examples. */
export function formatHelp(spec: CommandSpec, programName = 'weightshare', width = 80): string {
  const positionals = spec.positionals ?? [];
  const flags = Object.entries(spec.flags ?? {});
  const usage = [`${programName} ${spec.name}`, ...(flags.length ? ['[options]'] : []), ...positionals.map(usagePositional)].join(' ');
  const out = [`Usage: ${usage}`, '', wrap(spec.description ?? spec.summary, width, 0)];
  if (positionals.length) {
    out.push('', 'Arguments:', table(positionals.map((p) => [`  ${p.name}`, p.description + (p.required ? '' : ' (optional)')]), width));
  }
  const rows: Array<[string, string]> = flags.map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : '    ';
    const left = f.type === 'boolean' ? `--[no-]${name}` : `--${name} <${f.metavar ?? f.type}>`;
    const choices = f.choices ? ` (${f.choices.join('|')})` : '';
    const range = f.above !== undefined ? ` (${f.above}..${f.max ?? ''}]` : f.min !== undefined || f.max !== undefined ? ` [${f.min ?? ''}..${f.max ?? ''}]` : '';
    return [`  ${short}${left}`, `${f.description}${choices}${range}${formatDefault(f)}`];
  });
  rows.push(['  -h, --help', 'Show this help']);
  out.push('', 'Options:', table(rows, width));
  if (spec.examples?.length) out.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return `${out.join('\n')}\n`;
}

/** Top-level help: usage, the aligned list of commands with their summaries, and how to get a command's help. */
export function formatCommandList(programName: string, specs: readonly CommandSpec[], width = 80): string {
  const out = [
    `Usage: ${programName} <command> [options]`, '',
    'Commands:', table(specs.map((s) => [`  ${s.name}`, s.summary]), width), '',
    `Run '${programName} <command> --help' for the options of a command.`,
  ];
  return `${out.join('\n')}\n`;
}
