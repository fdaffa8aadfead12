// Tests of the PyTorch peer harness's pure logic: naming torch's BLAS from a probe, choosing the peer or saying what is missing, the settings grid and picking the best.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bestIndex, choosePeer, classifyBlas, gridTable, settingEnv, settingLabel, settingMismatch, settingsGrid, TORCH_MALLOC_ENV, type ProbeOutput,
} from '../../bench/torch-peer.js';

const OPENBLAS_LIBS = [
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3',
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
];
const REFERENCE_LIBS = ['/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3', '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3'];
const openblasProbe: ProbeOutput = {
  python: '3.11.2', numpy: '1.24.2', torch: '1.13.0a0', torchBlasInfo: 'generic', onednn: true, torchThreads: 2, gemmGflops: 190,
  blasLibs: OPENBLAS_LIBS,
  openblas: { path: OPENBLAS_LIBS[2], config: 'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64', threads: 2, corename: 'Zen' },
};
const referenceProbe: ProbeOutput = { ...openblasProbe, gemmGflops: 6, blasLibs: REFERENCE_LIBS, openblas: null };

test('classifyBlas: OpenBLAS by its own answer, the reference BLAS by a plain libblas.so, MKL by torch build info', () => {
  const ob = classifyBlas(openblasProbe);
  assert.equal(ob.kind, 'openblas');
  assert.ok(ob.fair);
  assert.match(ob.detail, /^OpenBLAS 0\.3\.21 \(.*libblas\.so\.3, Zen kernels\)$/);
  const ref = classifyBlas(referenceProbe);
  assert.deepEqual([ref.kind, ref.fair], ['reference', false]);
  assert.match(ref.detail, /blas\/libblas\.so\.3/);
  assert.equal(classifyBlas({ blasLibs: [], openblas: null, torchBlasInfo: 'mkl' }).kind, 'mkl');
  assert.equal(classifyBlas({ blasLibs: ['/opt/blis/lib/libblis.so.4'], openblas: null }).kind, 'blis');
  const unknown = classifyBlas({ blasLibs: [], openblas: null, torchBlasInfo: 'generic' });
  assert.deepEqual([unknown.kind, unknown.fair], ['unknown', true]);
});

test('choosePeer: the first Python with torch on a fair BLAS, else which piece is missing', () => {
  const ok = choosePeer([{ python: 'python3', out: { python: '3.11.7', numpy: '2.4', error: { module: 'torch', message: "No module named 'torch'" } } },
    { python: '/usr/bin/python3', out: openblasProbe }]);
  assert.ok(ok.ok && ok.peer.python === '/usr/bin/python3' && ok.peer.blas.kind === 'openblas');

  const noPython = choosePeer([{ python: 'python3', failure: 'spawnSync python3 ENOENT' }]);
  assert.ok(!noPython.ok && noPython.missing === 'python3' && /ENOENT/.test(noPython.message));
  const noTorch = choosePeer([{ python: 'python3', out: { python: '3.11', numpy: '1.24', error: { module: 'torch', message: "No module named 'torch'" } } }]);
  assert.ok(!noTorch.ok && noTorch.missing === 'torch' && /No module named 'torch'/.test(noTorch.message));
  const noNumpy = choosePeer([{ python: 'python3', out: { python: '3.11', error: { module: 'numpy', message: "No module named 'numpy'" } } }]);
  assert.ok(!noNumpy.ok && noNumpy.missing === 'numpy');

  const ref = choosePeer([{ python: '/usr/bin/python3', out: referenceProbe }]);
  assert.ok(!ref.ok && ref.missing === 'OpenBLAS');
  assert.match(ref.message, /reference BLAS.*6 GFLOP\/s.*libopenblas0-pthread/);
  const anyway = choosePeer([{ python: '/usr/bin/python3', out: referenceProbe }], true);
  assert.ok(anyway.ok && anyway.peer.blas.kind === 'reference');
});

test('settingsGrid: threads {1, cores} × OpenBLAS threads (OpenBLAS only) × oneDNN (when asked); env and labels', () => {
  const grid = settingsGrid(2, 'openblas', true);
  assert.equal(grid.length, 8);
  assert.equal(new Set(grid.map(settingLabel)).size, 8);
  assert.equal(settingsGrid(2, 'mkl', true).length, 4);
  assert.deepEqual(settingsGrid(1, 'openblas', false), [{ torchThreads: 1, blasThreads: 1, onednn: undefined }]);
  assert.equal(settingLabel({ torchThreads: 2, blasThreads: 1, onednn: true }), 'torch 2 · OpenBLAS 1 · oneDNN on');
  assert.deepEqual(settingEnv({ torchThreads: 2, blasThreads: 1, onednn: false }),
    { ...TORCH_MALLOC_ENV, WEIGHTSHARE_TORCH_THREADS: '2', OPENBLAS_NUM_THREADS: '1', WEIGHTSHARE_TORCH_ONEDNN: '0' });
  assert.deepEqual(settingEnv({ torchThreads: 1 }), { ...TORCH_MALLOC_ENV, WEIGHTSHARE_TORCH_THREADS: '1' });
  // Every run keeps glibc from returning freed tensors to the OS (the mmap threshold at its 32 MiB maximum).
  assert.equal(settingEnv({ torchThreads: 1 }).MALLOC_MMAP_THRESHOLD_, String(32 * 1024 * 1024));
});

test('settingMismatch names what a worker did not honour', () => {
  const asked = { torchThreads: 2, blasThreads: 1, onednn: true };
  assert.equal(settingMismatch(asked, { torchThreads: 2, blasThreads: 1, onednn: true }), undefined);
  assert.equal(settingMismatch(asked, { torchThreads: 2, blasThreads: 2, onednn: true }), 'OpenBLAS threads 2 (asked 1)');
  assert.equal(settingMismatch({ torchThreads: 1 }, { torchThreads: 1, blasThreads: null, onednn: false }), undefined);
  assert.match(settingMismatch(asked, undefined)!, /did not report/);
});

test('bestIndex skips missing values; gridTable puts each column best in bold', () => {
  assert.equal(bestIndex([3, undefined, 5, NaN, 4]), 2);
  assert.equal(bestIndex([3, undefined, 5, 0.5], true), 3);
  assert.equal(bestIndex([undefined, undefined]), -1);
  const settings = [{ torchThreads: 1, blasThreads: 1 }, { torchThreads: 2, blasThreads: 1 }];
  const lines = gridTable(settings, [{ title: 'samples/s', values: [100, 200] }, { title: 'ms', values: [0.5, undefined], lowerIsBetter: true, digits: 2 }]);
  assert.deepEqual(lines, [
    '| torch intra-op threads | OPENBLAS_NUM_THREADS | samples/s | ms |',
    '|---:|---:|---:|---:|',
    '| 1 | 1 | 100 | **0.50** |',
    '| 2 | 1 | **200** | – |',
  ]);
});
