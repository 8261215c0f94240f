/**
 * The editor's stage states (core/pipeline/stageStateModel.ts): the plan's decision and what the
 * session saw combine into one state and text, on a real workspace whose stages ran and then
 * changed; and the watched paths are exactly the paths the pipeline names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HashCache } from '../../../core/pipeline/hashCache';
import { stageLockEntry, writeLockEntry } from '../../../core/pipeline/lockFile';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import type { StageDecision } from '../../../core/pipeline/pipelineModel';
import { planRun } from '../../../core/pipeline/stageStatus';
import { formatElapsed, stageState, stageStateText, watchedPaths } from '../../../core/pipeline/stageStateModel';
import { tempWorkspace } from '../../support/tempWorkspace';

function write(ws: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  writeFileSync(path.join(ws, rel), text);
}

const PIPELINE = [
  'stages:',
  '  prepare:',
  '    cmd: cp data/raw.csv data/clean.csv',
  '    deps: [data/raw.csv]',
  '    outs: [data/clean.csv]',
  '  train:',
  '    cmd: python train.py',
  '    deps: [data/clean.csv, train.py]',
  '    params: [train.lr]',
  '    outs: [model.bin]',
  '    metrics:',
  '      - metrics.json:',
  '          cache: false',
  '',
].join('\n');

function workspace(): string {
  const ws = tempWorkspace('stage-state');
  write(ws, 'runwise.yaml', PIPELINE);
  write(ws, 'params.yaml', 'train:\n  lr: 0.1\n');
  write(ws, 'data/raw.csv', 'a\n1\n');
  write(ws, 'train.py', 'print(1)\n');
  return ws;
}

const decisionOf = (decisions: StageDecision[], id: string) => decisions.find((d) => d.id === id);

test('never run, then up to date after its lock entry is written, then stale naming the changed dependency', () => {
  const ws = workspace();
  const graph = loadPipeline(ws);
  let hashes = new HashCache(ws);
  let decisions = planRun(graph, { hashes });
  assert.equal(stageStateText(stageState(decisionOf(decisions, 'prepare'), undefined), 0), 'never run');
  assert.equal(stageState(decisionOf(decisions, 'train'), undefined).kind, 'never-run');

  // prepare "ran": its output exists and its lock entry is written.
  write(ws, 'data/clean.csv', 'a\n1\n');
  const prepare = graph.byId.get('prepare')!;
  writeLockEntry(graph, prepare, stageLockEntry(graph, prepare, hashes));
  hashes = new HashCache(ws);
  decisions = planRun(graph, { hashes });
  assert.equal(stageStateText(stageState(decisionOf(decisions, 'prepare'), undefined), 0), 'up to date');

  write(ws, 'data/raw.csv', 'a\n1\n2\n');
  hashes = new HashCache(ws);
  decisions = planRun(graph, { hashes });
  const state = stageState(decisionOf(decisions, 'prepare'), undefined);
  assert.equal(state.kind, 'stale');
  assert.equal(stageStateText(state, 0), 'stale: data/raw.csv changed');
});

test('a running stage shows its elapsed time; a failure shows its exit code until the plan says up to date', () => {
  const stale: StageDecision = { id: 'train', action: 'run', reasons: [{ kind: 'dep-changed', path: 'train.py' }, { kind: 'cmd-changed' }] };
  const fresh: StageDecision = { id: 'train', action: 'skip', reasons: [] };
  const started = 1_000_000;
  assert.equal(stageStateText(stageState(stale, { running: { startedAt: started } }), started + 42_500), 'running 0:42');
  assert.equal(stageStateText(stageState(undefined, { running: { startedAt: started } }), started + 61_000), 'running 1:01');

  const failed = { last: { status: 'failed' as const, exitCode: 2, signal: null } };
  assert.equal(stageStateText(stageState(stale, failed), 0), 'failed: exit 2');
  assert.equal(stageStateText(stageState(stale, { last: { status: 'failed', exitCode: null, signal: 'SIGKILL' } }), 0), 'failed: killed by SIGKILL');
  assert.equal(stageStateText(stageState(stale, { last: { status: 'failed', exitCode: 0, message: 'the command succeeded but did not write \'model.bin\'' } }), 0), "failed: the command succeeded but did not write 'model.bin'");
  assert.equal(stageStateText(stageState(stale, { last: { status: 'cancelled' } }), 0), 'cancelled');
  // A later successful run (the CLI, say) made it up to date: the old failure no longer shows.
  assert.equal(stageStateText(stageState(fresh, failed), 0), 'up to date');
  // A success in this session shows the plan's state.
  assert.equal(stageStateText(stageState(stale, { last: { status: 'succeeded', exitCode: 0 } }), 0), 'stale: train.py changed (+1 more)');
});

test('no decision (no plan, or the watcher gave up) reads as state unknown; frozen stages say whether they are stale', () => {
  assert.equal(stageStateText(stageState(undefined, undefined), 0), 'state unknown');
  assert.equal(stageStateText(stageState({ id: 'a', action: 'frozen', reasons: [] }, undefined), 0), 'frozen');
  assert.equal(stageStateText(stageState({ id: 'a', action: 'frozen', reasons: [{ kind: 'param-changed', file: 'params.yaml', key: 'train.lr' }] }, undefined), 0), 'frozen, stale: param train.lr changed (params.yaml)');
});

test('elapsed times read as a clock', () => {
  assert.equal(formatElapsed(0), '0:00');
  assert.equal(formatElapsed(9_999), '0:09');
  assert.equal(formatElapsed(3_723_000), '1:02:03');
  assert.equal(formatElapsed(-5), '0:00');
});

test('the watched paths are the pipeline and lock files, deps, outs and params files, and nothing else', () => {
  const ws = workspace();
  write(ws, 'sub/dvc.yaml', 'stages:\n  eval:\n    cmd: echo hi > out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n');
  write(ws, 'sub/in.txt', 'x\n');
  write(ws, 'unrelated/big.bin', 'y');
  const graph = loadPipeline(ws);
  assert.deepEqual(watchedPaths(graph), [
    'data/clean.csv',
    'data/raw.csv',
    'metrics.json',
    'model.bin',
    'params.yaml',
    'runwise.lock',
    'runwise.yaml',
    'sub/dvc.lock',
    'sub/dvc.yaml',
    'sub/in.txt',
    'sub/out.txt',
    'sub/runwise.lock',
    'train.py',
  ]);
});
