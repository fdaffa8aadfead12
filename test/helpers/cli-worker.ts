// A worker thread that runs `weightshare` command lines in-process (main()) for the argv fuzz suite: one run per message.
import { parentPort } from 'node:worker_threads';
import { main } from '../../src/cli/main.js';

/** A command line to run: its id (echoed back) and argv without the program name. */
export interface CliJob { id: number; argv: string[] }
/** What the run gave: its exit code, stdout and stderr (or what escaped main(), which should never happen). */
export interface CliJobResult { id: number; code: number; out: string; err: string; escaped?: string }

parentPort?.on('message', (job: CliJob) => {
  let out = '';
  let err = '';
  const io = { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } };
  main(job.argv, io).then(
    (code) => parentPort!.postMessage({ id: job.id, code, out, err } satisfies CliJobResult),
    (e: unknown) => parentPort!.postMessage({ id: job.id, code: -1, out, err, escaped: String((e as Error)?.stack ?? e) } satisfies CliJobResult),
  );
});
