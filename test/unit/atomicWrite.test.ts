/**
 * writeFileAtomic: a whole new text or the old one, and otherwise what a plain write does (a link
 * written through, permissions kept, the umask for a new file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/workspace/atomicWrite';
import { tempWorkspace } from '../support/tempWorkspace';

test('replaces the text, keeps the mode, writes through a link, leaves no temporary file', () => {
  const dir = tempWorkspace('atomic');
  const file = path.join(dir, 'card.md');
  writeFileSync(file, 'old');
  chmodSync(file, 0o600);
  writeFileAtomic(file, 'new');
  assert.equal(readFileSync(file, 'utf8'), 'new');
  assert.equal(statSync(file).mode & 0o777, 0o600);

  const link = path.join(dir, 'README.md');
  symlinkSync('card.md', link);
  writeFileAtomic(link, 'through the link');
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays a link');
  assert.equal(readFileSync(file, 'utf8'), 'through the link');

  const fresh = path.join(dir, 'fresh.txt');
  const mask = process.umask(0o027);
  try {
    writeFileAtomic(fresh, 'x');
  } finally {
    process.umask(mask);
  }
  assert.equal(statSync(fresh).mode & 0o777, 0o640, 'a new file takes the umask');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});
