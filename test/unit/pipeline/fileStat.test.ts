/**
 * `fileStat` reads the numbers Node's fs binding fills for a `stat` without building an
 * `fs.Stats`; every answer must be the one `fs.statSync` gives (the hash cache compares mtimes
 * to the bit), and the binding must actually be the path taken on the Node the project runs on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileStat, fileStatCopy, fileStatSource, statSyncFileStat, type FileStat } from '../../../core/pipeline/fileStat';
import { tempWorkspace } from '../../support/tempWorkspace';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** What a stat function answers for a path: a copy of its result, or the code of the error it throws. */
function outcome(stat: (p: string) => FileStat | undefined, p: string): FileStat | { error: string } | undefined {
  try {
    const st = stat(p);
    return st && { ...st };
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

test('the fs binding is the path taken on this Node (a change in Node shows here, not as a slow status)', () => {
  assert.equal(fileStatSource(), 'binding', `Node ${process.version}: fileStat fell back to fs.statSync`);
});

test('fileStat answers as fs.statSync for files, folders, links, odd mtimes and missing paths', () => {
  const ws = tempWorkspace('runwise-filestat-');
  mkdirSync(path.join(ws, 'dir', 'sub'), { recursive: true });
  writeFileSync(path.join(ws, 'dir', 'a.txt'), 'hello');
  writeFileSync(path.join(ws, 'empty'), '');
  writeFileSync(path.join(ws, 'big.bin'), Buffer.alloc(1 << 20, 7));
  // mtimes with a sub-millisecond fraction, before 1970, and far ahead.
  utimesSync(path.join(ws, 'dir', 'a.txt'), 1700000000.123456, 1700000000.987654321);
  utimesSync(path.join(ws, 'empty'), -86400.5, -12345.25);
  utimesSync(path.join(ws, 'big.bin'), 4102444800.000001, 4102444800.999999);
  symlinkSync(path.join(ws, 'dir', 'a.txt'), path.join(ws, 'link'));
  symlinkSync(path.join(ws, 'dir'), path.join(ws, 'dirlink'));
  symlinkSync(path.join(ws, 'nowhere'), path.join(ws, 'dangling'));
  const paths = [
    ws,
    path.join(ws, 'dir'),
    path.join(ws, 'dir', 'sub'),
    path.join(ws, 'dir', 'a.txt'),
    path.join(ws, 'empty'),
    path.join(ws, 'big.bin'),
    path.join(ws, 'link'),
    path.join(ws, 'dirlink'),
    path.join(ws, 'dangling'),
    path.join(ws, 'missing'),
    path.join(ws, 'dir', 'a.txt', 'below-a-file'), // ENOTDIR: thrown, as statSync throws it
    '/dev/null',
  ];
  for (const p of paths) {
    const expected = outcome(statSyncFileStat, p);
    assert.deepEqual(outcome(fileStatCopy, p), expected, p);
    assert.deepEqual(outcome(fileStat, p), expected, p);
  }
  assert.equal(outcome(fileStat, path.join(ws, 'missing')), undefined);
  assert.deepEqual(outcome(fileStat, path.join(ws, 'dir', 'a.txt', 'below-a-file')), { error: 'ENOTDIR' });
  const st = statSync(path.join(ws, 'dir', 'a.txt'));
  assert.deepEqual(fileStatCopy(path.join(ws, 'dir', 'a.txt')), { isFile: true, isDirectory: false, size: 5, mtimeMs: st.mtimeMs, ino: st.ino });
  assert.equal(fileStat('/dev/null')?.isFile, false);
  assert.equal(fileStat('/dev/null')?.isDirectory, false);
});

test('fileStat throws as fs.statSync does for a path with a NUL byte (never a truncated path)', () => {
  const ws = tempWorkspace('runwise-filestat-');
  writeFileSync(path.join(ws, 'a'), 'x');
  const bad = `${path.join(ws, 'a')}\0.txt`;
  assert.throws(() => statSync(bad), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => fileStat(bad), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('with --pending-deprecation the binding is not touched: no warning, fs.statSync answers', () => {
  const script = [
    `const { fileStat, fileStatSource } = require(${JSON.stringify(path.join(repoRoot, 'core/pipeline/fileStat.ts'))});`,
    `const st = fileStat(${JSON.stringify(repoRoot)});`,
    'process.stdout.write(fileStatSource() + " " + st.isDirectory);',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--pending-deprecation', '--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'statSync true');
  assert.doesNotMatch(r.stderr, /DEP0111|process\.binding/);
});
