// Running the CLI in this process, with string-collecting streams, as the command-line tests do.
import { main } from '../../src/cli/main.js';

/** What one CLI run gave: its exit code and what it wrote to stdout and stderr. */
export interface CliResult { code: number; out: string; err: string }

/** Runs `weightshare ...argv` in this process and collects its output. */
export async function runCli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } });
  return { code, out, err };
}
