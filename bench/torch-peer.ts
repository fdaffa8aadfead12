// PyTorch as a fair peer, shared by the benchmarks: finds python3 + numpy + torch, checks that torch's BLAS is OpenBLAS, runs a Python worker over a grid of thread settings and keeps the best.
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { reason, repoRoot, runChild } from './util.js';

/** What `bench/torch_peer.py` prints about one Python. */
export interface ProbeOutput {
  python: string;
  numpy?: string;
  torch?: string;
  error?: { module: 'numpy' | 'torch'; message: string };
  torchBlasInfo?: string | null;
  onednn?: boolean;
  torchThreads?: number;
  gemmGflops?: number;
  blasLibs?: string[];
  openblas?: { path: string; config: string; threads: number; corename?: string } | null;
}

/** Which BLAS torch runs on, and whether it is one a fair comparison may use. */
export interface BlasVerdict {
  kind: 'openblas' | 'mkl' | 'blis' | 'atlas' | 'reference' | 'unknown';
  fair: boolean;
  detail: string;
}

/**
 * Names torch's BLAS from a probe: OpenBLAS when a mapped library answers openblas_get_config, MKL when
 * torch was built with it (pip wheels link it statically) or a libmkl is mapped, BLIS / ATLAS by
 * library name, the reference BLAS when only a plain libblas.so is mapped (Debian's libblas3, ~6
 * GFLOP/s), else unknown. Only the reference BLAS is unfair.
 */
export function classifyBlas(p: Pick<ProbeOutput, 'blasLibs' | 'openblas' | 'torchBlasInfo'>): BlasVerdict {
  const libs = p.blasLibs ?? [];
  const named = (re: RegExp) => libs.find((l) => re.test(basename(l)));
  if (p.openblas) {
    const version = p.openblas.config.split(' ').slice(0, 2).join(' ');
    const core = p.openblas.corename ? `, ${p.openblas.corename} kernels` : '';
    return { kind: 'openblas', fair: true, detail: `${version} (${p.openblas.path}${core})` };
  }
  if (/mkl/i.test(p.torchBlasInfo ?? '') || named(/mkl/i)) return { kind: 'mkl', fair: true, detail: `MKL (${named(/mkl/i) ?? `BLAS_INFO=${p.torchBlasInfo}`})` };
  const blis = named(/blis/i);
  if (blis) return { kind: 'blis', fair: true, detail: `BLIS (${blis})` };
  const atlas = named(/atlas/i);
  if (atlas) return { kind: 'atlas', fair: true, detail: `ATLAS (${atlas})` };
  const ref = named(/^libblas\.so/);
  if (ref) return { kind: 'reference', fair: false, detail: `the reference BLAS (${ref})` };
  return { kind: 'unknown', fair: true, detail: `unknown (no BLAS library mapped; torch BLAS_INFO=${p.torchBlasInfo ?? '?'})` };
}

/** A Python with numpy and torch, ready to run peer workers. */
export interface TorchPeer {
  python: string;
  probe: ProbeOutput;
  blas: BlasVerdict;
}

/** findTorchPeer's answer: the peer, or which piece is missing and a one-line message saying so. */
export type PeerProbe = { ok: true; peer: TorchPeer } | { ok: false; missing: 'python3' | 'numpy' | 'torch' | 'OpenBLAS'; message: string };

const INSTALL_OPENBLAS = 'install OpenBLAS (Debian: `apt-get install libopenblas0-pthread`, which becomes the libblas.so.3 alternative)';

/**
 * Picks the peer from probes of the candidate Pythons (in order; `undefined` = would not start): the
 * first with torch on a fair BLAS, else says what is missing: python3, numpy, torch or OpenBLAS (the
 * last unless `anyBlas`, when torch on the reference BLAS is accepted).
 */
export function choosePeer(probes: { python: string; out?: ProbeOutput; failure?: string }[], anyBlas = false): PeerProbe {
  const withTorch = probes.filter((p) => p.out?.torch && !p.out.error);
  for (const p of withTorch) {
    const blas = classifyBlas(p.out!);
    if (blas.fair || anyBlas) return { ok: true, peer: { python: p.python, probe: p.out!, blas } };
  }
  if (withTorch.length) {
    const p = withTorch[0];
    const gemm = p.out!.gemmGflops === undefined ? '' : `, torch.mm 1024² at ${p.out!.gemmGflops.toFixed(0)} GFLOP/s`;
    return {
      ok: false, missing: 'OpenBLAS',
      message: `PyTorch (${p.python}) runs on ${classifyBlas(p.out!).detail}${gemm}: ${INSTALL_OPENBLAS}, or set WEIGHTSHARE_PEER_ANY_BLAS=1 to measure it anyway`,
    };
  }
  const ran = probes.filter((p) => p.out);
  if (!ran.length) return { ok: false, missing: 'python3', message: `no Python found (${probes.map((p) => `${p.python}: ${p.failure ?? 'no output'}`).join('; ')}): install python3 with numpy and torch (Debian: python3-torch)` };
  const missing = ran.some((p) => p.out!.error?.module === 'torch') ? 'torch' : 'numpy';
  return {
    ok: false, missing,
    message: `${missing} is missing (${ran.map((p) => `${p.python} ${p.out!.python}: ${p.out!.error?.message ?? '?'}`).join('; ')}): install it (Debian: python3-torch, which brings numpy), or set PYTHON`,
  };
}

/**
 * Finds the PyTorch peer: probes $PYTHON, else `python3` and Debian's `/usr/bin/python3`, with
 * bench/torch_peer.py. WEIGHTSHARE_PEER_ANY_BLAS=1 accepts torch on the reference BLAS.
 */
export function findTorchPeer(): PeerProbe {
  const script = join(repoRoot(), 'bench', 'torch_peer.py');
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  const probes = candidates.map((python) => {
    const r = spawnSync(python, [script], { encoding: 'utf8', timeout: 120_000 });
    if (r.error) return { python, failure: reason(r.error) };
    const line = r.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
    return line ? { python, out: JSON.parse(line) as ProbeOutput } : { python, failure: `exit ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''}` };
  });
  return choosePeer(probes, process.env.WEIGHTSHARE_PEER_ANY_BLAS === '1');
}

/** One line about the peer for a results heading. */
export function describePeer(peer: TorchPeer): string {
  const p = peer.probe;
  const gemm = p.gemmGflops === undefined ? '' : `; probe: torch.mm 1024² ${p.gemmGflops.toFixed(0)} GFLOP/s with torch's defaults (${p.torchThreads} intra-op thread(s), OpenBLAS ${p.openblas?.threads ?? '?'})`;
  return `Python ${p.python} (\`${peer.python}\`), torch ${p.torch}, numpy ${p.numpy}; BLAS: ${peer.blas.detail}${gemm}; oneDNN ${p.onednn ? 'available' : 'absent'}; ` +
    `glibc malloc keeps freed memory (${Object.entries(TORCH_MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ')})`;
}

/** One point of the thread-setting grid; an undefined field is left as torch / OpenBLAS choose. */
export interface PeerSetting {
  torchThreads: number;
  blasThreads?: number;
  onednn?: boolean;
}

/**
 * The grid: intra-op threads {1, cores} × OPENBLAS_NUM_THREADS {1, cores} (only when the BLAS is
 * OpenBLAS) × oneDNN {on, off} (only when `onednn`, i.e. where convolutions make it matter).
 */
export function settingsGrid(cores: number, blas: BlasVerdict['kind'], onednn: boolean): PeerSetting[] {
  const threads = [...new Set([1, Math.max(1, cores)])];
  const blasThreads: (number | undefined)[] = blas === 'openblas' ? threads : [undefined];
  const dnn: (boolean | undefined)[] = onednn ? [true, false] : [undefined];
  return dnn.flatMap((o) => threads.flatMap((t) => blasThreads.map((b) => ({ torchThreads: t, blasThreads: b, onednn: o }))));
}

/** "torch 2 · OpenBLAS 1 · oneDNN on". */
export function settingLabel(s: PeerSetting): string {
  return [`torch ${s.torchThreads}`, s.blasThreads === undefined ? '' : `OpenBLAS ${s.blasThreads}`, s.onednn === undefined ? '' : `oneDNN ${s.onednn ? 'on' : 'off'}`]
    .filter(Boolean).join(' · ');
}

/**
 * glibc malloc settings every PyTorch run gets: keep freed memory in the process instead of handing each large tensor
 * back to the OS (munmap / trim) and faulting fresh zeroed pages in at the next step. Eager PyTorch allocates its
 * activations and gradients anew every step; with glibc's defaults, on a 2-core VM where page faults are dear, the
 * reference CNN trained 1,400 samples/s at batch 32 and 690 at batch 512 against 3,500–3,700 and 5,300 with these
 * (system time 26.6 → 9.5 s in 6 s windows at batch 512; tcmalloc read the same as these, jemalloc's defaults worse).
 * They are what PyTorch's CPU tuning guides recommend (an allocator that keeps memory), without a package to install.
 */
export const TORCH_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 2 ** 20),
  MALLOC_TRIM_THRESHOLD_: String(4 * 2 ** 30),
  MALLOC_TOP_PAD_: String(256 * 2 ** 20),
};

/** The environment a worker runs under for a setting (read by torch_peer.apply_settings, OpenBLAS and glibc's malloc). */
export function settingEnv(s: PeerSetting): Record<string, string> {
  const env: Record<string, string> = { ...TORCH_MALLOC_ENV, WEIGHTSHARE_TORCH_THREADS: String(s.torchThreads) };
  if (s.blasThreads !== undefined) env.OPENBLAS_NUM_THREADS = String(s.blasThreads);
  if (s.onednn !== undefined) env.WEIGHTSHARE_TORCH_ONEDNN = s.onednn ? '1' : '0';
  return env;
}

/** What a worker reports as in effect (torch_peer.apply_settings); blasThreads null when not OpenBLAS. */
export interface EffectiveSetting {
  torchThreads: number;
  blasThreads: number | null;
  onednn: boolean;
}

/** Says where the settings in effect differ from those asked for, or undefined when they agree. */
export function settingMismatch(asked: PeerSetting, got: EffectiveSetting | undefined): string | undefined {
  if (!got) return 'the worker did not report its settings';
  const bad: string[] = [];
  if (got.torchThreads !== asked.torchThreads) bad.push(`torch threads ${got.torchThreads} (asked ${asked.torchThreads})`);
  if (asked.blasThreads !== undefined && got.blasThreads !== asked.blasThreads) bad.push(`OpenBLAS threads ${got.blasThreads} (asked ${asked.blasThreads})`);
  if (asked.onednn !== undefined && got.onednn !== asked.onednn) bad.push(`oneDNN ${got.onednn ? 'on' : 'off'} (asked ${asked.onednn ? 'on' : 'off'})`);
  return bad.length ? bad.join(', ') : undefined;
}

/** Runs a Python worker script of the peer under a setting; resolves with its stdout. */
export function runPeerWorker(peer: TorchPeer, script: string, args: string[], setting: PeerSetting, timeoutS: number): Promise<string> {
  return runChild(peer.python, [script, ...args], timeoutS, settingEnv(setting));
}

/** The index of the best value (highest, or lowest when `lowerIsBetter`), skipping undefined and NaN; -1 when none. */
export function bestIndex(values: (number | undefined)[], lowerIsBetter = false): number {
  let best = -1;
  values.forEach((v, i) => {
    if (v === undefined || Number.isNaN(v)) return;
    if (best < 0 || (lowerIsBetter ? v < values[best]! : v > values[best]!)) best = i;
  });
  return best;
}

/** A column of the grid table: one value per setting (undefined = failed or not measured). */
export interface GridColumn {
  title: string;
  values: (number | undefined)[];
  lowerIsBetter?: boolean;
  digits?: number;
}

/** The grid as Markdown rows, one per setting, the best value of each column in bold. */
export function gridTable(settings: PeerSetting[], columns: GridColumn[]): string[] {
  const blas = settings.some((s) => s.blasThreads !== undefined);
  const dnn = settings.some((s) => s.onednn !== undefined);
  const head = ['torch intra-op threads', ...(blas ? ['OPENBLAS_NUM_THREADS'] : []), ...(dnn ? ['oneDNN'] : []), ...columns.map((c) => c.title)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---:').join('|')}|`];
  const best = columns.map((c) => bestIndex(c.values, c.lowerIsBetter));
  settings.forEach((s, i) => {
    const cells = [String(s.torchThreads), ...(blas ? [String(s.blasThreads ?? '–')] : []), ...(dnn ? [s.onednn === undefined ? '–' : s.onednn ? 'on' : 'off'] : [])];
    columns.forEach((c, j) => {
      const v = c.values[i];
      const text = v === undefined ? '–' : v.toFixed(c.digits ?? 0);
      cells.push(best[j] === i ? `**${text}**` : text);
    });
    lines.push(`| ${cells.join(' | ')} |`);
  });
  return lines;
}
