#!/usr/bin/env node
// The `weightshare` command: dispatches to its commands (train, eval, predict, generate, summary, compress, export, import, intrinsic-dim, report); one-line errors, exit codes, --help.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CommandSpec, findCommand, formatCommandList, formatHelp, parseArgs, type ParsedArgs, UsageError } from './args.js';
import { WasmOutOfMemoryError } from '../backend/wasm/allocator.js';
import { gib } from '../core/errors.js';
import { CliError, type Io } from './common.js';
import { compressCommand, compressSpec } from './compress.js';
import { exportCommand, exportSpec } from './export.js';
import { importCommand, importSpec } from './import.js';
import { evalCommand, evalSpec, predictCommand, predictSpec, summaryCommand, summarySpec } from './inspect.js';
import { generateCommand, generateSpec } from './generate.js';
import { intrinsicDim, intrinsicDimSpec } from './intrinsic-dim.js';
import { reportCommand, reportSpec } from './report.js';
import { train, trainSpec } from './train.js';

/** A command: its spec and what runs it once its flags are parsed (`--help` prints the spec's help instead). */
interface Command {
  spec: CommandSpec;
  run(argv: readonly string[], io: Io): Promise<number>;
}

function command<const S extends CommandSpec>(spec: S, run: (a: ParsedArgs<S>, io: Io) => number | Promise<number>): Command {
  return {
    spec,
    async run(argv, io) {
      const a = parseArgs(spec, argv);
      if (!a.help) return run(a, io);
      io.out.write(formatHelp(spec) + '\n');
      return 0;
    },
  };
}

const commands: Command[] = [
  command(trainSpec, train),
  command(evalSpec, evalCommand),
  command(predictSpec, predictCommand),
  command(generateSpec, generateCommand),
  command(summarySpec, summaryCommand),
  command(compressSpec, compressCommand),
  command(exportSpec, exportCommand),
  command(importSpec, importCommand),
  command(intrinsicDimSpec, intrinsicDim),
  command(reportSpec, reportCommand),
];
const specs = commands.map((c) => c.spec);

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** Flags that size what a command holds in memory: the out-of-memory message names those the user gave. */
const SIZE_FLAGS = ['--batch-size', '--bptt', '--context', '--max-len', '--max-vocab', '--hidden', '--embed', '--dim', '--layers', '--heads', '--limit'];

/** The CLI's out-of-memory message, naming the size flags given in `argv` (e.g. a long --bptt) beside the generic advice. */
export function outOfMemory(e: WasmOutOfMemoryError, argv: readonly string[] = []): string {
  const given = argv.flatMap((a, i) => {
    const [flag, inline] = a.split('=', 2);
    if (!SIZE_FLAGS.includes(flag)) return [];
    const value = inline ?? argv[i + 1];
    return value === undefined ? [] : [`${flag} ${value}`];
  });
  const these = given.length ? ` (given: ${given.join(', ')})` : '';
  return `out of memory: the engine's WebAssembly memory (${gib(e.limit)} at most) cannot hold another ${gib(e.requested)} with ${gib(e.inUse)} in use; use a smaller --batch-size, a shorter sequence (--bptt, --context) or smaller model sizes${these}`;
}

/** Runs the CLI with `argv` (without node and the script); returns the exit code. Exported for tests. */
export async function main(argv: readonly string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      const topic = cmd === 'help' ? rest[0] : undefined;
      io.out.write((topic ? formatHelp(findCommand(specs, topic)) : formatCommandList('weightshare', specs)) + '\n');
      return 0;
    }
    if (cmd === '--version' || cmd === '-v') {
      io.out.write(`weightshare ${version()}\n`);
      return 0;
    }
    const spec = findCommand(specs, cmd);
    return await commands.find((c) => c.spec === spec)!.run(rest, io);
  } catch (e) {
    const err = e as Error;
    const usage = e instanceof UsageError;
    const where = usage && err instanceof UsageError && err.command ? ` ${err.command}` : '';
    // The engine's advice (tidy/dispose) is for code; on the command line the sizes are what can change.
    const message = e instanceof WasmOutOfMemoryError ? outOfMemory(e, argv) : err.message.split('\n')[0];
    io.err.write(`weightshare${where}: ${usage ? '' : 'error: '}${message}\n`);
    if (usage && !err.message.includes('--help')) io.err.write(`Run 'weightshare${where} --help' for usage.\n`);
    if (verbose && err.stack) io.err.write(err.stack + '\n');
    return usage ? 2 : e instanceof CliError ? e.exitCode : 1;
  }
}

// Run as the command (not imported). No top-level await, so that require('weightshare/node') loads this module too.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Worker threads of the engine would keep the process alive; exit once output is flushed.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
