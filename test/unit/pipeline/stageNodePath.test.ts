/**
 * The NODE_PATH stages get for `require('runwise/client')`: a link made once in `.runwise/node`,
 * after the user's own NODE_PATH, never through a link someone put in `.runwise`, never over a
 * folder Runwise did not make, and none for a workspace inside Runwise's own folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stageNodePath } from '../../../core/pipeline/stageNodePath';
import { tempWorkspace } from '../../support/tempWorkspace';

const repo = path.resolve(__dirname, '../../..');

test('a link to the running Runwise in .runwise/node, after the NODE_PATH the runner has', () => {
  const ws = tempWorkspace('node-path');
  const saved = process.env.NODE_PATH;
  try {
    delete process.env.NODE_PATH;
    const folder = stageNodePath(ws)!;
    assert.equal(folder, path.join(ws, '.runwise', 'node'));
    assert.equal(readlinkSync(path.join(folder, 'runwise')), repo);
    assert.ok(existsSync(path.join(folder, 'runwise', 'dist', 'client.js')));
    process.env.NODE_PATH = '/opt/mine';
    assert.equal(stageNodePath(ws), `/opt/mine${path.delimiter}${folder}`, "the user's own runwise first");
  } finally {
    if (saved === undefined) delete process.env.NODE_PATH;
    else process.env.NODE_PATH = saved;
  }
  // Inside Runwise's own folder the package finds itself: no link (it would loop into itself).
  assert.equal(stageNodePath(path.join(repo, 'examples', 'pipeline')), undefined);
});

test('a link planted as .runwise/node is not followed; a folder planted as .runwise/node/runwise is left alone', () => {
  const ws = tempWorkspace('node-path-planted');
  const elsewhere = tempWorkspace('node-path-elsewhere', { runwise: 'a file of someone else' });
  mkdirSync(path.join(ws, '.runwise'), { recursive: true });
  symlinkSync(elsewhere, path.join(ws, '.runwise', 'node'));
  assert.equal(stageNodePath(ws), undefined);
  assert.equal(readFileSync(path.join(elsewhere, 'runwise'), 'utf8'), 'a file of someone else', 'the file the link leads to is untouched');

  const other = tempWorkspace('node-path-folder');
  mkdirSync(path.join(other, '.runwise', 'node', 'runwise'), { recursive: true });
  writeFileSync(path.join(other, '.runwise', 'node', 'runwise', 'keep.txt'), 'x');
  assert.equal(stageNodePath(other), undefined);
  assert.ok(lstatSync(path.join(other, '.runwise', 'node', 'runwise')).isDirectory());
  assert.equal(readFileSync(path.join(other, '.runwise', 'node', 'runwise', 'keep.txt'), 'utf8'), 'x');
});
