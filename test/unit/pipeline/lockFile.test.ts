/**
 * runwise.lock: written one stage entry at a time in dvc.lock's shape, stages in file order, other
 * entries untouched, atomically; a broken lock file refused with file:line and left as it was;
 * DVC's dvc.lock read as the previous state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HashCache } from '../../../core/pipeline/hashCache';
import { LockFileError, lockFileOf, parseLockText, readLockState, stageLockEntry, writeLockEntry } from '../../../core/pipeline/lockFile';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import { tempWorkspace } from '../../support/tempWorkspace';

const FIXTURE = path.join(__dirname, '../../fixtures/pipeline/dvc-workspace');

function workspace(files: Record<string, string>): string {
  const ws = tempWorkspace('lock');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), text);
  }
  return ws;
}

const PIPELINE = [
  'stages:',
  '  prepare:',
  '    cmd: python prep.py',
  '    wdir: src',
  '    deps: [prep.py]',
  '    params: [prep.ratio]',
  '    outs: [../data]',
  '  train:',
  '    cmd: [python train.py, echo done]',
  '    deps: [data]',
  '    params:',
  '      - params.yaml:',
  '    outs: [model.bin]',
  '',
].join('\n');

test('lock file names: runwise.lock beside the pipeline, name.pipeline.lock beside name.pipeline.yaml', () => {
  assert.equal(lockFileOf('dvc.yaml'), 'runwise.lock');
  assert.equal(lockFileOf('sub/runwise.yaml'), 'sub/runwise.lock');
  assert.equal(lockFileOf('sub/train.pipeline.yaml'), 'sub/train.pipeline.lock');
});

test('entries round-trip in dvc.lock shape, stages in file order, other entries untouched', () => {
  const ws = workspace({
    'runwise.yaml': PIPELINE,
    'src/prep.py': 'print(1)\n',
    'src/params.yaml': 'prep:\n  ratio: 0.5\n',
    'params.yaml': 'lr: 0.1\nlayers: [1, 2]\n',
    'data/a.csv': 'a\n',
    'model.bin': 'm',
  });
  const g = loadPipeline(ws);
  const hashes = new HashCache(ws);
  const train = g.byId.get('train')!;
  const prepare = g.byId.get('prepare')!;
  // train first: the file still lists prepare first.
  writeLockEntry(g, train, stageLockEntry(g, train, hashes));
  writeLockEntry(g, prepare, stageLockEntry(g, prepare, hashes));
  const text = readFileSync(path.join(ws, 'runwise.lock'), 'utf8');
  assert.ok(text.startsWith("schema: '2.0'\nstages:\n  prepare:\n"), text);
  assert.ok(text.indexOf('  prepare:') < text.indexOf('  train:'));
  assert.match(text, /    deps:\n    - path: prep\.py\n      hash: md5\n      md5: [0-9a-f]{32}\n      size: 9\n/);
  assert.match(text, /    - path: \.\.\/data\n      hash: md5\n      md5: [0-9a-f]{32}\.dir\n      size: 2\n      nfiles: 1\n/);
  assert.match(text, /    params:\n      params\.yaml:\n        prep\.ratio: 0\.5\n/);
  // DVC's order (serialize.py _serialize_params_values): each file's keys sorted, whatever the pipeline's order.
  assert.match(text, /  train:\n[\s\S]*    params:\n      params\.yaml:\n        layers:\n[\s\S]*        lr: 0\.1\n/);

  const state = readLockState(ws, 'runwise.yaml');
  assert.deepEqual(state.stages.get('train'), {
    cmd: ['python train.py', 'echo done'],
    deps: [{ path: 'data', hash: 'md5', md5: hashes.hash('data')!.md5, size: 2, nfiles: 1 }],
    params: { 'params.yaml': { lr: 0.1, layers: [1, 2] } },
    outs: [{ path: 'model.bin', hash: 'md5', md5: hashes.hash('model.bin')!.md5, size: 1 }],
  });

  // An entry of a stage no longer in the file, and a hand edit in another entry, survive a write.
  const edited = text.replace('stages:\n', 'stages:\n  retired:\n    cmd: old\n').replace('cmd: python prep.py', 'cmd: python prep.py --edited');
  writeFileSync(path.join(ws, 'runwise.lock'), edited);
  writeLockEntry(g, train, stageLockEntry(g, train, hashes));
  const after = readLockState(ws, 'runwise.yaml');
  assert.deepEqual([...after.stages.keys()], ['prepare', 'train', 'retired']);
  assert.equal(after.stages.get('prepare')!.cmd, 'python prep.py --edited');
  assert.deepEqual(readdirSync(ws).filter((f) => f.includes('.tmp')), [], 'no temporary file left behind');
});

test('a broken lock file is refused with file:line and never overwritten', () => {
  const ws = workspace({ 'runwise.yaml': PIPELINE, 'src/prep.py': '', 'src/params.yaml': 'prep:\n  ratio: 1\n', 'params.yaml': 'a: 1\n', 'model.bin': '' });
  mkdirSync(path.join(ws, 'data'));
  const broken = "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    deps: [{path: a, md5: }\n";
  writeFileSync(path.join(ws, 'runwise.lock'), broken);
  assert.throws(
    () => readLockState(ws, 'runwise.yaml'),
    (e: unknown) => e instanceof LockFileError && e.file === 'runwise.lock' && e.line >= 5 && /not valid YAML/.test(e.message),
  );
  const g = loadPipeline(ws);
  const train = g.byId.get('train')!;
  assert.throws(() => writeLockEntry(g, train, { cmd: 'x', deps: [], params: {}, outs: [] }), LockFileError);
  assert.equal(readFileSync(path.join(ws, 'runwise.lock'), 'utf8'), broken);

  assert.throws(() => parseLockText('runwise.lock', "schema: '3.0'\nstages: {}\n"), /runwise\.lock:1:9: unsupported lock file schema '3\.0'/);
  assert.throws(() => parseLockText('runwise.lock', 'stages:\n  a:\n    deps: nope\n'), /runwise\.lock:3:11: 'deps' of stage 'a' must be a list/);
  assert.throws(() => parseLockText('runwise.lock', 'stages:\n  a:\n    outs:\n    - md5: abc\n'), /runwise\.lock:4:7: an entry of 'outs' in stage 'a' has no 'path'/);
});

test("DVC's dvc.lock is read as the previous state, DVC 2 entries as md5-dos2unix; runwise.lock entries take precedence", () => {
  const ws = tempWorkspace('lock');
  cpSync(FIXTURE, ws, { recursive: true });
  const state = readLockState(ws, 'dvc.yaml');
  assert.equal(state.sources.get('prepare'), 'dvc.lock');
  const prepare = state.stages.get('prepare')!;
  assert.equal(prepare.deps[0]!.hash, 'md5-dos2unix');
  assert.equal(state.stages.get('train')!.deps[0]!.hash, 'md5');
  assert.deepEqual(prepare.params, { 'params.yaml': { 'prepare.seed': 20170428, 'prepare.split': 0.2 } });

  const g = loadPipeline(ws);
  const hashes = new HashCache(ws);
  writeLockEntry(g, g.byId.get('train')!, stageLockEntry(g, g.byId.get('train')!, hashes));
  const merged = readLockState(ws, 'dvc.yaml');
  assert.equal(merged.sources.get('train'), 'runwise.lock');
  assert.equal(merged.sources.get('prepare'), 'dvc.lock');
  assert.equal(readFileSync(path.join(ws, 'dvc.lock'), 'utf8'), readFileSync(path.join(FIXTURE, 'dvc.lock'), 'utf8'), "DVC's file is not written");
});
