// Reads of input files (issue 15): only regular files are read, each reader refuses directories, devices, FIFOs and sockets by name, no read goes past the declared size, and the CLI never hangs on /dev/zero or a pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRegularFile, ReadError } from '../../src/io/read-file.js';
import { CheckpointError } from '../../src/io/checkpoint.js';
import { loadCheckpoint, loadModel, loadTfjs, saveModel } from '../../src/io/files.js';
import { TfjsImportError } from '../../src/io/tfjs/topology.js';
import { DataError, readIdx } from '../../src/data/idx.js';
import { readPng } from '../../src/data/png.js';
import { loadTextDataset } from '../../src/data/corpora.js';
import { createModel } from '../../src/nn/zoo.js';
import { runCli } from '../helpers/cli.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ws-read-'));
let server: Server | undefined;
test.after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A FIFO in the test folder (mkfifo), or undefined where the platform has none. */
function fifo(name: string): string | undefined {
  const p = join(dir, name);
  return spawnSync('mkfifo', [p]).status === 0 ? p : undefined;
}

/** A listening Unix socket in the test folder, or undefined where none can be made. */
async function socket(): Promise<string | undefined> {
  const p = join(dir, 'sock');
  return new Promise((resolve) => {
    server = createServer();
    server.on('error', () => resolve(undefined));
    server.listen(p, () => resolve(p));
  });
}

/** The first block device under /dev, or undefined. */
function blockDevice(): string | undefined {
  try {
    return readdirSync('/dev').map((n) => join('/dev', n)).find((p) => {
      try { return statSync(p).isBlockDevice(); } catch { return false; }
    });
  } catch {
    return undefined;
  }
}

/** Asserts `f` throws an error of class `cls` whose single-line message is exactly `${path}: ${rest}` (rest matching `re`). */
function refuses(f: () => unknown, cls: new (...a: never[]) => Error, path: string, re: RegExp): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof cls, `${e.name}: ${e.message}`);
    assert.ok(e.message.startsWith(`${path}: `), e.message);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message.slice(path.length + 2), re);
    return true;
  });
}

test('a regular file reads as readFileSync reads it, also through a symbolic link', () => {
  const p = join(dir, 'plain.bin');
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
  writeFileSync(p, bytes);
  assert.deepEqual(new Uint8Array(readRegularFile(p)), bytes);
  symlinkSync(p, join(dir, 'link.bin'));
  assert.deepEqual(readRegularFile(join(dir, 'link.bin')), readFileSync(p));
  writeFileSync(join(dir, 'empty'), '');
  assert.equal(readRegularFile(join(dir, 'empty')).length, 0);
});

test('a directory, character device, block device, FIFO or socket is refused by name before it is read', async () => {
  refuses(() => readRegularFile(dir), ReadError, dir, /^is a directory, not a regular file$/);
  refuses(() => readRegularFile('/dev/zero'), ReadError, '/dev/zero', /^is a character device, not a regular file$/);
  refuses(() => readRegularFile('/dev/null'), ReadError, '/dev/null', /^is a character device, not a regular file$/);
  const block = blockDevice();
  if (block) refuses(() => readRegularFile(block), ReadError, block, /^is a block device, not a regular file$/);
  const pipe = fifo('pipe');
  if (pipe) refuses(() => readRegularFile(pipe), ReadError, pipe, /^is a FIFO \(named pipe\), not a regular file$/);
  const sock = await socket();
  if (sock) refuses(() => readRegularFile(sock), ReadError, sock, /^is a socket, not a regular file$/);
  // A link to a device is the device.
  symlinkSync('/dev/zero', join(dir, 'zero-link'));
  refuses(() => readRegularFile(join(dir, 'zero-link')), ReadError, join(dir, 'zero-link'), /^is a character device, not a regular file$/);
});

test('missing files, empty paths and NUL bytes are one-line errors; the caller picks the class and the missing-file words', () => {
  refuses(() => readRegularFile(join(dir, 'nope')), ReadError, join(dir, 'nope'), /^no such file$/);
  refuses(() => readRegularFile(join(dir, 'plain.bin', 'x')), ReadError, join(dir, 'plain.bin', 'x'), /^no such file \(a part of the path is not a directory\)$/);
  refuses(() => readRegularFile(''), ReadError, '', /^an empty path names no file$/);
  refuses(() => readRegularFile('a\0b'), ReadError, 'a\0b', /^the path holds a NUL byte/);
  const p = join(dir, 'gone');
  refuses(() => readRegularFile(p, { error: (m) => new DataError(p, m), missing: 'file not found' }), DataError, p, /^file not found$/);
});

test('no more is read than the file declares: a /proc file of size 0 reads as empty (readFileSync would read on)', { skip: !existsSync('/proc/self/status') }, () => {
  assert.equal(statSync('/proc/self/status').size, 0);
  assert.ok(readFileSync('/proc/self/status').length > 0, 'the kernel serves more than the declared size');
  assert.equal(readRegularFile('/proc/self/status').length, 0);
});

test('every reader refuses what is no regular file with its own error class', () => {
  const pipe = fifo('pipe2');
  for (const p of ['/dev/zero', dir, ...(pipe ? [pipe] : [])]) {
    const kind = /^is (a character device|a directory|a FIFO \(named pipe\)), not a regular file$/;
    refuses(() => loadCheckpoint(p), CheckpointError, p, kind);
    refuses(() => loadModel(p), CheckpointError, p, kind);
    refuses(() => readIdx(p), DataError, p, kind);
    refuses(() => readPng(p), DataError, p, kind);
    refuses(() => loadTextDataset({ file: p }), DataError, p, kind);
  }
  // TF.js: model.json and each weight file its manifest names.
  const tf = join(dir, 'tfjs');
  mkdirSync(tf);
  writeFileSync(join(tf, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['w.bin'], weights: [] }] }));
  symlinkSync('/dev/zero', join(tf, 'w.bin'));
  refuses(() => loadTfjs(join(tf, 'model.json')), TfjsImportError, join(tf, 'model.json'), /^weight file 'w\.bin' \(.*w\.bin\) is a character device, not a regular file$/);
  refuses(() => loadTfjs('/dev/zero'), TfjsImportError, '/dev/zero', /^the file is a character device, not a regular file$/);
});

test('the command line: predict on /dev/zero, eval of a device or folder, import of a FIFO: one line, exit 1', async () => {
  const model = join(dir, 'mlp.wsm');
  saveModel(model, createModel('mlp').build(0));
  const device = 'is a character device, not a regular file';
  const cases: [string[], string][] = [
    [['predict', model, '/dev/zero'], `/dev/zero: ${device}`],
    [['eval', '/dev/zero'], `/dev/zero: ${device}`],
    [['summary', dir], `${dir}: is a directory, not a regular file`],
    [['train', '--model', 'char-lstm', '--dataset', 'text', '--data', '/dev/zero', '--out', join(dir, 'lm.wsm')], `/dev/zero: ${device}`],
  ];
  const pipe = fifo('model.onnx');
  if (pipe) cases.push([['import', pipe, '--out', join(dir, 'imported.wsm')], `${pipe}: is a FIFO (named pipe), not a regular file`]);
  for (const [argv, message] of cases) {
    const r = await runCli(...argv);
    assert.equal(r.code, 1, `${argv.join(' ')}: ${r.err}`);
    assert.equal(r.err, `weightshare: error: ${message}\n`);
  }
  assert.ok(!existsSync(join(dir, 'lm.wsm')) && !existsSync(join(dir, 'imported.wsm')), 'nothing written');
});

test('spawned: eval /dev/stdin with stdin a pipe that never ends exits at once instead of waiting for it', async () => {
  const r = await new Promise<{ code: number | null; err: string; ms: number }>((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, 'eval', '/dev/stdin'], { stdio: ['pipe', 'ignore', 'pipe'] }); // stdin stays open
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, err, ms: Date.now() - t0 });
    });
  });
  assert.equal(r.code, 1, `killed after ${r.ms} ms (a hang): ${r.err}`);
  assert.match(r.err, /^weightshare: error: \/dev\/stdin: is a (FIFO \(named pipe\)|socket), not a regular file\n$/);
});
