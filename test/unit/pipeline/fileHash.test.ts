/**
 * File and directory hashes as DVC computes them: plain md5 checked against `md5sum`, DVC 2's
 * md5-dos2unix against `md5sum` of the CRLF-stripped text, directory listings against Python's
 * json.dumps (what dvc-data runs), and the hash cache answering unchanged files from their stat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { directoryHash, hashBytes, hashFileSync, isTextBlock } from '../../../core/pipeline/fileHash';
import { pythonJsonString } from '../../../core/tracker/pythonJson';
import { HashCache, hashCachePath } from '../../../core/pipeline/hashCache';
import { tempWorkspace } from '../../support/tempWorkspace';

function tool(cmd: string, args: string[], input?: Buffer | string): string | undefined {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

const hasMd5sum = tool('md5sum', ['--version']) !== undefined;
const hasPython = tool('python3', ['-c', 'print(1)']) !== undefined;

function write(ws: string, rel: string, data: string | Buffer): string {
  const abs = path.join(ws, ...rel.split('/'));
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, data);
  return abs;
}

test('md5 of a file equals md5sum, for empty, small, chunk-sized and multi-chunk files', { skip: !hasMd5sum && 'md5sum is not installed' }, () => {
  const ws = tempWorkspace('hash');
  const sizes = [0, 1, 511, 512, 1 << 20, (8 << 20) - 1, 8 << 20, (8 << 20) + 1, 20_000_017];
  for (const size of sizes) {
    const abs = write(ws, `f${size}.bin`, randomBytes(size));
    const expected = tool('md5sum', [abs])!.split(' ')[0];
    assert.equal(hashFileSync(abs), expected, `size ${size}`);
    assert.equal(hashBytes(readFileSync(abs)), expected, `hashBytes, size ${size}`);
  }
});

test('md5-dos2unix (DVC 2) hashes text with CRLF as LF and binary files as they are', { skip: !hasMd5sum && 'md5sum is not installed' }, () => {
  const ws = tempWorkspace('hash');
  const text = 'id,name\r\n1,alpha\r\n2,beta\r\nlast line without newline';
  const textFile = write(ws, 'a.csv', text);
  const lf = tool('md5sum', [], text.replace(/\r\n/g, '\n'))!.split(' ')[0];
  assert.equal(hashFileSync(textFile, 'md5-dos2unix'), lf);
  assert.notEqual(hashFileSync(textFile, 'md5'), lf, 'plain md5 keeps the CR bytes');
  // A NUL byte makes a chunk binary: nothing is converted.
  const binary = Buffer.concat([Buffer.from('a\r\nb\0'), randomBytes(1000)]);
  const binFile = write(ws, 'b.bin', binary);
  assert.equal(hashFileSync(binFile, 'md5-dos2unix'), tool('md5sum', [binFile])!.split(' ')[0]);
  // Over 30% non-text bytes in the first 512: binary too.
  assert.equal(isTextBlock(Buffer.from([0x80, 0x81, 0x41])), false);
  assert.equal(isTextBlock(Buffer.from('plain text\r\n')), true);
  assert.equal(isTextBlock(Buffer.alloc(0)), true);
});

test("a directory's hash is md5 of DVC's JSON listing with .dir, with size and nfiles", { skip: !hasPython && 'python3 is not installed' }, () => {
  const files = [
    { relpath: 'b.txt', md5: 'd41d8cd98f00b204e9800998ecf8427e', size: 0 },
    { relpath: 'a/ü "quoted" \\ file.txt', md5: '0cc175b9c0f1b6a831c399e269772661', size: 1 },
    { relpath: 'a/😀.txt', md5: '92eb5ffee6ae2fec3ad71c777531578f', size: 1 },
    { relpath: 'a/\uff61.txt', md5: '4a8a08f09d37b73795649038408b5f33', size: 1 },
    { relpath: 'A.txt', md5: '8277e0910d750195b448797616e091ad', size: 1 },
  ];
  const script = [
    'import hashlib, json, sys',
    'entries = json.loads(sys.stdin.read())',
    'listing = sorted(({"md5": e["md5"], "relpath": e["relpath"]} for e in entries), key=lambda e: e["relpath"])',
    'print(hashlib.md5(json.dumps(listing, sort_keys=True).encode("utf-8")).hexdigest() + ".dir")',
  ].join('\n');
  const expected = tool('python3', ['-c', script], JSON.stringify(files))!.trim();
  const h = directoryHash(files);
  assert.equal(h.md5, expected);
  assert.equal(h.size, 4);
  assert.equal(h.nfiles, 5);
  // The empty directory's hash DVC users know: md5('[]').
  assert.deepEqual(directoryHash([]), { md5: 'd751713988987e9331980363e24189ce.dir', size: 0, nfiles: 0 });
});

test('pythonJsonString escapes as json.dumps does with ensure_ascii', { skip: !hasPython && 'python3 is not installed' }, () => {
  const samples = ['plain', 'tab\there', 'nl\nand\rcr', 'quote"back\\slash', '\u0001\u001f\u007f', 'é ü 中', '😀', '\b\f'];
  const expected = tool('python3', ['-c', 'import json,sys\nfor s in json.loads(sys.stdin.read()): print(json.dumps(s))'], JSON.stringify(samples))!
    .trimEnd()
    .split('\n');
  assert.deepEqual(samples.map(pythonJsonString), expected);
});

test('the hash cache answers an unchanged file from its stat and notices a change', () => {
  const ws = tempWorkspace('hashcache');
  write(ws, 'data/a.txt', 'one');
  write(ws, 'data/sub/b.txt', 'two');
  const old = new Date(Date.now() - 60_000);
  for (const f of ['data/a.txt', 'data/sub/b.txt']) utimesSync(path.join(ws, f), old, old);

  const first = new HashCache(ws);
  const dir = first.hash('data')!;
  assert.equal(first.hashedFiles, 2);
  assert.equal(dir.nfiles, 2);
  assert.equal(first.hash('data/a.txt')!.md5, hashBytes(Buffer.from('one')));
  first.save();

  const second = new HashCache(ws);
  assert.deepEqual(second.hash('data'), dir);
  assert.equal(second.hashedFiles, 0, 'nothing read: every file answered from the cache');

  write(ws, 'data/a.txt', 'ONE');
  const later = new Date(Date.now() - 30_000);
  utimesSync(path.join(ws, 'data/a.txt'), later, later);
  const third = new HashCache(ws);
  const changed = third.hash('data')!;
  assert.equal(third.hashedFiles, 1);
  assert.notEqual(changed.md5, dir.md5);
  assert.equal(third.hash('missing.txt'), undefined);
});

test('a recently written file is hashed again rather than trusted from the cache', () => {
  const ws = tempWorkspace('hashcache');
  write(ws, 'fresh.txt', 'new');
  const a = new HashCache(ws);
  a.hash('fresh.txt');
  a.save();
  const b = new HashCache(ws);
  b.hash('fresh.txt');
  assert.equal(b.hashedFiles, 1);
});

test('a corrupt cache file is discarded with a message, not fatal, and replaced on save', () => {
  const ws = tempWorkspace('hashcache');
  write(ws, 'x.txt', 'x');
  write(ws, 'd/a.txt', 'a');
  const old = new Date(Date.now() - 60_000);
  for (const f of ['x.txt', 'd/a.txt', 'd']) utimesSync(path.join(ws, f), old, old);
  const cacheFile = hashCachePath(ws);
  const fresh = new HashCache(ws);
  const x = fresh.hash('x.txt')!;
  const d = fresh.hash('d')!;
  fresh.save();
  const good = readFileSync(cacheFile);

  const damaged: [string, Buffer | string, RegExp][] = [
    ['truncated', good.subarray(0, good.length - 7), /does not match its checksum/],
    ['a byte flipped in an md5', Buffer.from(good.toString('utf8').replace(x.md5, x.md5.replace(/^./, (c) => (c === '0' ? '1' : '0')))), /does not match its checksum/],
    ['the former JSON format', '{"version": 1, "entries": {"x.txt": [1, ', /line 1: expected 'runwise-hash-cache 2 <sha1>'/],
    ['random bytes', randomBytes(300), /the hash cache was discarded/],
    ['empty', '', /line 1/],
  ];
  for (const [what, bytes, message] of damaged) {
    writeFileSync(cacheFile, bytes);
    const cache = new HashCache(ws);
    assert.match(cache.discarded ?? '', message, what);
    assert.match(cache.discarded ?? '', /hash cache was discarded/, what);
    assert.deepEqual(cache.hash('x.txt'), x, what);
    assert.deepEqual(cache.hash('d'), d, what);
    assert.equal(cache.hashedFiles, 2, `${what}: every file read again`);
    cache.save();
    const again = new HashCache(ws);
    assert.equal(again.discarded, undefined, `${what}: replaced on save`);
    again.hash('x.txt');
    again.hash('d');
    assert.equal(again.hashedFiles, 0, what);
  }
});

test('a directory unchanged since it was hashed is answered without listing it; an added, removed or edited file is seen', () => {
  const ws = tempWorkspace('hashcache');
  for (const f of ['a.csv', 'b.csv', 'sub/c.csv']) write(ws, `data/${f}`, f);
  // Each change gets its own past time (a real change moves mtimes to now; past ones keep them out of the racy window).
  let ageS = 120;
  const age = (...rels: string[]) => {
    const t = new Date(Date.now() - 1000 * ageS--);
    for (const r of rels) utimesSync(path.join(ws, r), t, t);
  };
  age('data/a.csv', 'data/b.csv', 'data/sub/c.csv', 'data/sub', 'data');
  const first = new HashCache(ws);
  const before = first.hash('data')!;
  assert.equal(first.listedDirs, 1);
  first.save();

  const second = new HashCache(ws);
  assert.deepEqual(second.hash('data'), before);
  assert.equal(second.listedDirs, 0, 'no folder listed');
  assert.equal(second.hashedFiles, 0, 'no file read');
  // Both algorithms are remembered side by side.
  const dos = second.hash('data', 'md5-dos2unix')!;
  second.save();
  const third = new HashCache(ws);
  assert.deepEqual(third.hash('data', 'md5-dos2unix'), dos);
  assert.deepEqual(third.hash('data'), before);
  assert.equal(third.hashedFiles + third.listedDirs, 0);

  // A file edited in place (same size, folder mtime untouched): one file read, no listing.
  const sub = statSync(path.join(ws, 'data/sub'));
  write(ws, 'data/sub/c.csv', 'X/c.csv'.slice(0, 'sub/c.csv'.length));
  age('data/sub/c.csv');
  utimesSync(path.join(ws, 'data/sub'), sub.atime, sub.mtime);
  const edited = new HashCache(ws);
  const afterEdit = edited.hash('data')!;
  assert.notEqual(afterEdit.md5, before.md5);
  assert.equal(edited.hashedFiles, 1);
  assert.equal(edited.listedDirs, 0);
  assert.deepEqual(afterEdit, directoryHashOf(ws, 'data'));
  edited.save();

  // A file added in a subfolder: that folder's mtime moved, the tree is listed again.
  write(ws, 'data/sub/d.csv', 'd');
  age('data/sub/d.csv', 'data/sub');
  const added = new HashCache(ws);
  const afterAdd = added.hash('data')!;
  assert.equal(afterAdd.nfiles, 4);
  assert.equal(added.listedDirs, 1);
  assert.equal(added.hashedFiles, 1, 'only the new file read');
  assert.deepEqual(afterAdd, directoryHashOf(ws, 'data'));
  added.save();

  // A file removed.
  rmSync(path.join(ws, 'data/a.csv'));
  age('data');
  const removed = new HashCache(ws);
  assert.equal(removed.hash('data')!.nfiles, 3);
  assert.deepEqual(removed.hash('data'), directoryHashOf(ws, 'data'));
});

test('a folder written just now is not trusted to show the next change', () => {
  const ws = tempWorkspace('hashcache');
  write(ws, 'data/a.csv', 'a');
  const old = new Date(Date.now() - 60_000);
  utimesSync(path.join(ws, 'data/a.csv'), old, old);
  const first = new HashCache(ws);
  first.hash('data');
  first.save();
  const second = new HashCache(ws);
  second.hash('data');
  assert.equal(second.listedDirs, 1, 'the folder (mtime now) is listed again');
  assert.equal(second.hashedFiles, 0, 'its old file is still answered from its stat');
});

test('cached paths with tabs, newlines and backslashes in their names survive the line format', () => {
  const ws = tempWorkspace('hashcache');
  const names = ['tab\there.txt', 'back\\slash.txt', 'new\nline.txt'];
  for (const n of names) write(ws, `odd/${n}`, n);
  const old = new Date(Date.now() - 60_000);
  for (const n of names) utimesSync(path.join(ws, 'odd', n), old, old);
  utimesSync(path.join(ws, 'odd'), old, old);
  const first = new HashCache(ws);
  const dir = first.hash('odd')!;
  const single = first.hash(`odd/${names[0]}`)!;
  first.save();
  const second = new HashCache(ws);
  assert.equal(second.discarded, undefined);
  assert.deepEqual(second.hash('odd'), dir);
  assert.deepEqual(second.hash(`odd/${names[0]}`), single);
  assert.equal(second.hashedFiles + second.listedDirs, 0);
});

/** The directory's hash computed from scratch (no cache), to compare a cached answer with. */
function directoryHashOf(ws: string, rel: string) {
  return new HashCache(ws, { cacheFile: path.join(ws, '.runwise', 'cache', `scratch-${Math.random()}.txt`) }).hash(rel);
}

test("a directory's hash leaves out what the root .dvcignore names (and .git), as DVC does; changing the patterns is seen", () => {
  const ws = tempWorkspace('dvcignore', { 'd3/sub/k.txt': 'k', 'd3/sub/skip.log': 'log', 'd3/.git/HEAD': 'ref', 'd3/top.txt': 't' });
  const kept = directoryHash([
    { relpath: 'sub/k.txt', md5: createHash('md5').update('k').digest('hex'), size: 1 },
    { relpath: 'top.txt', md5: createHash('md5').update('t').digest('hex'), size: 1 },
  ]);
  const all = directoryHash([
    { relpath: 'sub/k.txt', md5: createHash('md5').update('k').digest('hex'), size: 1 },
    { relpath: 'sub/skip.log', md5: createHash('md5').update('log').digest('hex'), size: 3 },
    { relpath: 'top.txt', md5: createHash('md5').update('t').digest('hex'), size: 1 },
  ]);
  const first = new HashCache(ws);
  assert.deepEqual(first.hash('d3'), all, 'no .dvcignore: every file but .git');
  first.save();
  writeFileSync(path.join(ws, '.dvcignore'), '# logs\n*.log\n');
  const ignoring = new HashCache(ws);
  assert.deepEqual(ignoring.hash('d3'), kept);
  ignoring.save();
  assert.deepEqual(new HashCache(ws).hash('d3'), kept, 'and again, from the remembered files');
  rmSync(path.join(ws, '.dvcignore'));
  assert.deepEqual(new HashCache(ws).hash('d3'), all);
});
