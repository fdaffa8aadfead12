// Shared benchmark helpers: timing, deterministic data, child processes, the machine description and the BENCHMARKS.md writer.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Conv2DParams } from '../src/backend/backend.js';

/** GEMM geometry: C[M,N] = op(A)[M,K]·op(B)[K,N]; A stored [K,M] when transA, B stored [N,K] when transB. */
export interface GemmShape {
  label: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

/** Stride-1 'valid' convolution geometry: x [N,H,W,C], w [KH,KW,C,F], y [N,OH,OW,F]. */
export type ConvShape = { label: string } & Pick<Conv2DParams, 'n' | 'h' | 'w' | 'c' | 'f' | 'kh' | 'kw'>;

/** Which convolution pass to time. */
export type ConvOp = 'forward' | 'grad-input' | 'grad-filter';

/** One timed operation; `run` must not return before its result is computed. */
export interface Runner {
  run(): void | Promise<void>;
  dispose(): void;
}

/** An engine under test: builds runners (throwing with the reason when it cannot). */
export interface Engine {
  name: string;
  gemm(s: GemmShape): Runner;
  conv(s: ConvShape, op: ConvOp): Runner;
  close(): void;
}

/** Output size of a stride-1 'valid' convolution. */
export function convOut(s: ConvShape): { oh: number; ow: number } {
  return { oh: s.h - s.kh + 1, ow: s.w - s.kw + 1 };
}

/** FLOPs of one GEMM (2·M·N·K). */
export function gemmFlops(s: GemmShape): number {
  return 2 * s.m * s.n * s.k;
}

/** FLOPs of one convolution pass (the same for forward and each gradient): 2·N·OH·OW·F·KH·KW·C. */
export function convFlops(s: ConvShape): number {
  const { oh, ow } = convOut(s);
  return 2 * s.n * oh * ow * s.f * s.kh * s.kw * s.c;
}

/** Deterministic uniform values in [-1, 1) (xorshift32), the same for every engine. */
export function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2147483648 - 1;
  }
  return out;
}

/**
 * Median seconds per call: one warm-up call, a second one to size the run, then enough timed calls
 * to fill about `budgetS` seconds (at least 3, at most 25).
 */
export async function timeMedian(r: Runner, budgetS = 0.4): Promise<number> {
  await r.run();
  let t = performance.now();
  await r.run();
  const first = (performance.now() - t) / 1000;
  const reps = Math.max(3, Math.min(25, Math.ceil(budgetS / Math.max(first, 1e-6))));
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    t = performance.now();
    await r.run();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The repository root: the first folder above this file holding a package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the benchmark');
    dir = up;
  }
  return dir;
}

/** nproc, CPU model and Node version, for the results heading. */
export function machine(): { nproc: number; cpu: string; node: string } {
  let cpu = 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: keep the placeholder
  }
  return { nproc: availableParallelism(), cpu, node: process.version };
}

/** The machine's CPU time counters (/proc/stat, all CPUs, in clock ticks): total and stolen by the hypervisor; undefined off Linux. */
function cpuTicks(): { total: number; steal: number } | undefined {
  try {
    const f = /^cpu\s+(.+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1].trim().split(/\s+/).map(Number);
    if (!f || f.length < 8 || f.some((v) => !Number.isFinite(v))) return undefined;
    // user nice system idle iowait irq softirq steal (guest times are inside user and nice)
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] };
  } catch {
    return undefined;
  }
}

/**
 * Starts counting the CPU time a virtual machine's hypervisor gives other guests (Linux "steal"); the returned function
 * gives ', N % of the CPU time stolen by the hypervisor' for the run so far (or '' where unknown). A share of a few
 * percent makes speed figures move: both engines lose time they do not see.
 */
export function stealMeter(): () => string {
  const start = cpuTicks();
  return () => {
    const end = cpuTicks();
    if (!start || !end || end.total <= start.total) return '';
    return `, ${((100 * (end.steal - start.steal)) / (end.total - start.total)).toFixed(1)} % of the CPU time stolen by the hypervisor`;
  };
}

/** Replaces (or appends) the section between `<!-- key -->` markers in BENCHMARKS.md. */
export function writeSection(key: string, body: string): string {
  const file = join(repoRoot(), 'BENCHMARKS.md');
  const begin = `<!-- ${key} -->`;
  const end = `<!-- /${key} -->`;
  const section = `${begin}\n${body.trimEnd()}\n${end}`;
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nWritten by the `npm run bench…` scripts; each section is replaced when its benchmark runs again.\n';
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  const text = i >= 0 && j > i ? old.slice(0, i) + section + old.slice(j + end.length) : `${old.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
  return file;
}

/** A short, one-line reason from an error. */
export function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0].slice(0, 160);
}

/**
 * Runs a command, passing its stderr through; resolves with its stdout, or rejects with the reason it
 * failed. `env` entries are added to this process's environment.
 */
export function runChild(cmd: string, args: string[], timeoutS: number, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: timeoutS * 1000, env: { ...process.env, ...env } });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(signal ? `killed by ${signal}${signal === 'SIGTERM' ? ` (timeout ${timeoutS} s?)` : ''}` : `exit code ${code}`));
    });
  });
}

/** The last line of a child's stdout that starts with '{', parsed as JSON. */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON result line in the worker's output: ${stdout.slice(-200)}`);
  return JSON.parse(line) as T;
}
