/**
 * The file-system workspace the language server and `runwise check` read through: nothing outside
 * the root is read, and nothing outside it may be written by a quick fix, symbolic links included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FileSystemWorkspace } from '../../core/language/files/fileSystemWorkspace';
import { tempWorkspace } from '../support/tempWorkspace';

test('links out of the root read as missing and are never writable', () => {
  const outside = tempWorkspace('outside');
  writeFileSync(path.join(outside, 'bashrc'), 'secret');
  mkdirSync(path.join(outside, 'dir'));
  const root = tempWorkspace('root');
  mkdirSync(path.join(root, 'src'));
  writeFileSync(path.join(root, 'src', 'train.py'), 'print(1)');
  symlinkSync(path.join(outside, 'bashrc'), path.join(root, 'params.yaml'));
  symlinkSync(path.join(outside, 'dir'), path.join(root, 'data'));
  symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
  symlinkSync(path.join(root, 'src'), path.join(root, 'code'));

  const ws = new FileSystemWorkspace(root);
  assert.equal(ws.readFile('params.yaml'), undefined);
  assert.equal(ws.exists('data'), false);
  assert.equal(ws.readFile('../' + path.basename(outside) + '/bashrc'), undefined);
  assert.equal(ws.readFile('code/train.py'), 'print(1)', 'a link that stays inside is followed');

  for (const rel of ['params.yaml', 'data/new_file', 'data/sub/new_file', 'dangling', '../x', '/etc/passwd', '']) {
    assert.equal(ws.canWrite(rel), false, rel);
  }
  for (const rel of ['new.yaml', 'src/new.py', 'src/deeper/new.py', 'code/new.py', 'src/train.py']) {
    assert.equal(ws.canWrite(rel), true, rel);
  }
});
