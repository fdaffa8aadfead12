// Running the CLI in this process, with string-collecting streams, as the command-line tests do.
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { loadModel } from '../../src/io/files.js';

/** What one CLI run gave: its exit code and what it wrote to stdout and stderr. */
export interface CliResult { code: number; out: string; err: string }

/** Runs `weightshare ...argv` in this process and collects its output. */
export async function runCli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/**
 * Asserts that `weightshare train ...flags` stopped after epoch 1 (written to `part`) and resumed to epoch 2 ends with
 * exactly the weights of one uninterrupted 2-epoch run (written to `whole`).
 */
export async function assertResumeExact(flags: readonly string[], whole: string, part: string): Promise<void> {
  assert.equal((await runCli('train', ...flags, '--epochs', '2', '--out', whole)).code, 0);
  assert.equal((await runCli('train', ...flags, '--epochs', '1', '--out', part)).code, 0);
  const r = await runCli('train', '--resume', part, '--epochs', '2');
  assert.equal(r.code, 0, r.err);
  const a = loadModel(whole).model.getWeights(), b = loadModel(part).model.getWeights();
  for (const [k, v] of a) assert.deepEqual(b.get(k), v, k);
}

/** Asserts a runtime error of the CLI: exit `code`, exactly one 'weightshare: error: ' line on stderr matching `re`, no stack trace; returns that line. */
export function assertCliError(r: CliResult, re: RegExp, code = 1): string {
  assert.equal(r.code, code, r.err);
  const errs = r.err.split('\n').filter((l) => l.startsWith('weightshare'));
  assert.equal(errs.length, 1, r.err);
  assert.match(errs[0]!, /^weightshare: error: /);
  assert.match(errs[0]!, re);
  assert.doesNotMatch(r.err, /^\s+at /m);
  return errs[0]!;
}
