// Safe writes: only regular files are replaced, symbolic links are followed, read-only files kept unless forced, one writer per output (lock file), stale temp files removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockOutput, removeStaleTemps, writeFileAtomic, WriteError, writeTarget } from '../../src/io/files.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-files-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A fresh folder for one test. */
const fresh = (): string => {
  const d = join(dir, `t${n++}`);
  mkdirSync(d);
  return d;
};
/** A process id no process has (above Linux's largest pid_max, 2^22): kill(pid, 0) answers ESRCH. */
const DEAD_PID = 2 ** 31 - 2;
/** A process that runs for the whole test: the one that started the test runner. */
const LIVE_PID = process.ppid;

/** Asserts `f` throws a one-line WriteError whose message starts with `path` and matches `re`. */
function assertRefused(f: () => unknown, path: string, re: RegExp): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof WriteError, `${e.name}: ${e.message}`);
    assert.ok(e.message.startsWith(`${path}: `), e.message);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, re);
    return true;
  });
}

test('writeFileAtomic replaces a regular file whole, keeps its mode, and leaves no temp file', () => {
  const d = fresh();
  const f = join(d, 'a.bin');
  writeFileAtomic(f, 'first');
  chmodSync(f, 0o640);
  writeFileAtomic(f, Uint8Array.of(1, 2, 3));
  assert.deepEqual([...readFileSync(f)], [1, 2, 3]);
  assert.equal(statSync(f).mode & 0o7777, 0o640);
  assert.deepEqual(readdirSync(d), ['a.bin']);
});

test('a directory, a FIFO and a character device are refused by name and left as they were', () => {
  const d = fresh();
  const sub = join(d, 'sub');
  mkdirSync(sub);
  assertRefused(() => writeFileAtomic(sub, 'x'), sub, /is a directory, not a regular file: refusing to replace it$/);
  assert.ok(statSync(sub).isDirectory());
  const fifo = join(d, 'fifo');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status === 0) {
    assertRefused(() => writeFileAtomic(fifo, 'x'), fifo, /is a FIFO \(named pipe\), not a regular file/);
    assertRefused(() => lockOutput(fifo), fifo, /is a FIFO/);
    assert.ok(lstatSync(fifo).isFIFO());
  }
  // As root a rename over /dev/full would replace the device: the check must come first.
  if (process.getuid?.() === 0 && existsSync('/dev/full')) {
    assertRefused(() => writeFileAtomic('/dev/full', 'x'), '/dev/full', /is a character device, not a regular file/);
    assert.ok(lstatSync('/dev/full').isCharacterDevice());
  }
  assert.deepEqual(readdirSync(d).sort(), made.status === 0 ? ['fifo', 'sub'] : ['sub']);
});

test('a symbolic link is followed: its target is written and the link stays a link (chains and dangling links too; a loop is refused)', () => {
  const d = fresh();
  const target = join(d, 'model.wsm');
  writeFileSync(target, 'old');
  symlinkSync('model.wsm', join(d, 'link1'));
  symlinkSync(join(d, 'link1'), join(d, 'link2'));
  assert.equal(writeTarget(join(d, 'link2')), target);
  writeFileAtomic(join(d, 'link2'), 'new');
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.ok(lstatSync(join(d, 'link1')).isSymbolicLink() && lstatSync(join(d, 'link2')).isSymbolicLink());
  symlinkSync('later.wsm', join(d, 'dangling'));
  writeFileAtomic(join(d, 'dangling'), 'made');
  assert.equal(readFileSync(join(d, 'later.wsm'), 'utf8'), 'made');
  assert.ok(lstatSync(join(d, 'dangling')).isSymbolicLink());
  symlinkSync('loop-b', join(d, 'loop-a'));
  symlinkSync('loop-a', join(d, 'loop-b'));
  assertRefused(() => writeFileAtomic(join(d, 'loop-a'), 'x'), join(d, 'loop-a'), /more than 40 symbolic links/);
});

test('a read-only file is refused (even as root) unless forced, and stays read-only when forced', () => {
  const d = fresh();
  const f = join(d, 'ro.wsm');
  writeFileSync(f, 'kept');
  chmodSync(f, 0o444);
  assertRefused(() => writeFileAtomic(f, 'x'), f, /is read-only \(mode 0444\): not replaced unless forced \(--force on the command line, \{ force: true \} in code\)$/);
  assertRefused(() => lockOutput(f), f, /is read-only/);
  assert.equal(readFileSync(f, 'utf8'), 'kept');
  writeFileAtomic(f, 'forced', { force: true });
  assert.equal(readFileSync(f, 'utf8'), 'forced');
  assert.equal(statSync(f).mode & 0o777, 0o444);
  lockOutput(f, { force: true }).release();
});

test('lockOutput: the lock file holds our pid; a second writer fails naming the first one\'s pid; a dead process\'s lock is taken over', () => {
  const d = fresh();
  const f = join(d, 'out.wsm');
  const lock = lockOutput(f);
  assert.equal(lock.lockPath, `${f}.lock`);
  assert.equal(readFileSync(`${f}.lock`, 'utf8'), `${process.pid}\n`);
  assertRefused(() => lockOutput(f), f, new RegExp(`is already being written by this process \\(pid ${process.pid}\\)`));
  writeFileAtomic(f, 'ours'); // the holder itself writes
  lock.release();
  lock.release(); // idempotent
  assert.ok(!existsSync(`${f}.lock`));
  // Another running process holds it: both lockOutput and a plain write are refused, naming that process.
  writeFileSync(`${f}.lock`, `${LIVE_PID}\n`);
  const busy = new RegExp(`is being written by process ${LIVE_PID} \\(lock file ${f.replace(/[.]/g, '\\.')}\\.lock\\); wait for it to finish or write elsewhere$`);
  assertRefused(() => lockOutput(f), f, busy);
  assertRefused(() => writeFileAtomic(f, 'theirs'), f, busy);
  assert.equal(readFileSync(f, 'utf8'), 'ours');
  // A lock left by a process that is gone (SIGKILL) is stale.
  writeFileSync(`${f}.lock`, `${DEAD_PID}\n`);
  writeFileAtomic(f, 'after a crash');
  const again = lockOutput(f);
  assert.equal(readFileSync(`${f}.lock`, 'utf8'), `${process.pid}\n`);
  again.release();
  // A lock naming no process is not guessed at.
  writeFileSync(`${f}.lock`, 'garbage');
  assertRefused(() => lockOutput(f), `${f}.lock`, /lock file names no process \("garbage"\); remove it if no other run is writing/);
});

test('lockOutput fails at once when the output\'s folder cannot be made or written; folders it made are removed on release when nothing was written there', () => {
  const d = fresh();
  writeFileSync(join(d, 'file'), '');
  const under = join(d, 'file', 'out.wsm');
  assertRefused(() => lockOutput(under), under, /cannot create its folder: EEXIST: file already exists, mkdir '.*\/file'$/);
  const deep = join(d, 'new', 'folder', 'out.wsm');
  const lock = lockOutput(deep);
  assert.ok(statSync(join(d, 'new', 'folder')).isDirectory());
  lock.release();
  assert.ok(!existsSync(join(d, 'new')), 'a run that wrote nothing leaves no folders behind');
  const kept = lockOutput(deep);
  writeFileAtomic(deep, 'model');
  kept.release();
  assert.equal(readFileSync(deep, 'utf8'), 'model');
});

test('temp files of dead writers are removed when the output is written; those of running ones, and of other outputs, are kept', () => {
  const d = fresh();
  const f = join(d, 'm.wsm');
  const dead = `m.wsm.tmp-${DEAD_PID}-0123456789ab`, live = `m.wsm.tmp-${LIVE_PID}-0123456789ab`, other = `n.wsm.tmp-${DEAD_PID}-0123456789ab`;
  for (const name of [dead, live, other]) writeFileSync(join(d, name), 'partial');
  writeFileAtomic(f, 'whole');
  assert.deepEqual(readdirSync(d).sort(), [live, 'm.wsm', other].sort());
  writeFileSync(join(d, dead), 'partial');
  assert.deepEqual(removeStaleTemps(f), [dead]);
  const g = join(d, 'n.wsm');
  lockOutput(g).release(); // taking the lock cleans too
  assert.ok(!existsSync(join(d, other)));
});
