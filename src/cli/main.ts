#!/usr/bin/env node
// The `weightshare` command: dispatches to train / eval / predict / summary; one-line errors, exit codes, --help.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findCommand, formatCommandList, formatHelp, parseArgs, UsageError } from './args.js';
import { CliError, type Io } from './common.js';
import { compressCommand, compressSpec } from './compress.js';
import { evalCommand, evalSpec, predictCommand, predictSpec, summaryCommand, summarySpec } from './inspect.js';
import { intrinsicDim, intrinsicDimSpec } from './intrinsic-dim.js';
import { train, trainSpec } from './train.js';

const specs = [trainSpec, evalSpec, predictSpec, summarySpec, compressSpec, intrinsicDimSpec];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
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
    switch (spec.name) {
      case 'train': {
        const a = parseArgs(trainSpec, rest);
        if (a.help) return void io.out.write(formatHelp(trainSpec) + '\n'), 0;
        return await train(a, io);
      }
      case 'eval': {
        const a = parseArgs(evalSpec, rest);
        if (a.help) return void io.out.write(formatHelp(evalSpec) + '\n'), 0;
        return evalCommand(a, io);
      }
      case 'predict': {
        const a = parseArgs(predictSpec, rest);
        if (a.help) return void io.out.write(formatHelp(predictSpec) + '\n'), 0;
        return predictCommand(a, io);
      }
      case 'compress': {
        const a = parseArgs(compressSpec, rest);
        if (a.help) return void io.out.write(formatHelp(compressSpec) + '\n'), 0;
        return await compressCommand(a, io);
      }
      case 'intrinsic-dim': {
        const a = parseArgs(intrinsicDimSpec, rest);
        if (a.help) return void io.out.write(formatHelp(intrinsicDimSpec) + '\n'), 0;
        return await intrinsicDim(a, io);
      }
      default: {
        const a = parseArgs(summarySpec, rest);
        if (a.help) return void io.out.write(formatHelp(summarySpec) + '\n'), 0;
        return summaryCommand(a, io);
      }
    }
  } catch (e) {
    const err = e as Error;
    const usage = e instanceof UsageError;
    const where = usage && err instanceof UsageError && err.command ? ` ${err.command}` : '';
    io.err.write(`weightshare${where}: ${usage ? '' : 'error: '}${err.message.split('\n')[0]}\n`);
    if (usage && !err.message.includes('--help')) io.err.write(`Run 'weightshare${where} --help' for usage.\n`);
    if (verbose && err.stack) io.err.write(err.stack + '\n');
    return usage ? 2 : e instanceof CliError ? e.exitCode : 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Worker threads of the engine would keep the process alive; exit once output is flushed.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
