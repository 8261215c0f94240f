/**
 * Lineage graphs on a real tracker: a pipeline's stage runs linked by the files one wrote and the
 * next read (path and hash), the version registered from the training run with its alias and its
 * evaluation, walked from a version, a run and a file; the node cap with its `more` node; the
 * pipeline graph with stage states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stageGroupRecordsDir, writeStageGroupRecord } from '../../core/pipeline/stageGroupRecords';
import { OUTPUTS_ARTIFACT } from '../../core/pipeline/stageTracking';
import { currentProcess } from '../../core/tracker/processOwner';
import { MODEL_SHA256_TAG, PARENT_RUN_TAG, STAGE_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import {
  dataFileLineageGraph,
  dataNodeId,
  modelVersionLineageGraph,
  pipelineLineageGraph,
  runLineageGraph,
  runNodeId,
  stagesRunningElsewhere,
  versionNodeId,
  withStagesRunningElsewhere,
} from '../../core/views/lineageGraph';
import { reachable, sameShape, type LineageGraph } from '../../core/views/lineageGraphModel';
import { tempWorkspace } from '../support/tempWorkspace';
import { onnxBytes } from '../support/onnxBytes';

interface StageSpec {
  stage: string;
  inputs: [string, string][];
  outputs: [string, string][];
  parent?: string;
  startTime: number;
}

async function stageRun(tracker: Tracker, spec: StageSpec): Promise<string> {
  const tags = [{ key: STAGE_TAG, value: spec.stage }, ...(spec.parent ? [{ key: PARENT_RUN_TAG, value: spec.parent }] : [])];
  const run = tracker.createRun({ runName: `${spec.stage}-run`, tags, startTime: spec.startTime });
  const id = run.info.runId;
  if (spec.inputs.length > 0) {
    tracker.logInputs(
      id,
      spec.inputs.map(([p, digest]) => ({ dataset: { name: p, digest, sourceType: 'local', source: p }, tags: [] })),
    );
  }
  if (spec.outputs.length > 0) {
    const record = spec.outputs.map(([p, md5]) => ({ path: p, kind: 'file', md5, size: 1 }));
    await tracker.putArtifact(id, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify(record)));
  }
  tracker.updateRun(id, { status: 'FINISHED', endTime: spec.startTime + 1 });
  return id;
}

/** raw.csv → prepare → train.csv → train → model.onnx, registered as churn v1 @champion, evaluated on test.csv. */
async function pipelineWorkspace() {
  const ws = tempWorkspace('lineage');
  const tracker = Tracker.open(ws);
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, onnxBytes('onnx-bytes'));
  const pipeline = tracker.createRun({ runName: 'pipeline', startTime: 1000 }).info.runId;
  const prepare = await stageRun(tracker, { stage: 'prepare', inputs: [['data/raw.csv', 'aaaa1111']], outputs: [['data/train.csv', 'bbbb2222']], parent: pipeline, startTime: 1001 });
  const train = await stageRun(tracker, { stage: 'train', inputs: [['data/train.csv', 'bbbb2222']], outputs: [['model.onnx', 'cccc3333']], parent: pipeline, startTime: 1002 });
  const version = await tracker.registerModelFiles('churn', model, { runId: train, alias: 'champion' });
  const evaluation = tracker.createRun({ runName: 'eval', tags: [{ key: MODEL_SHA256_TAG, value: version.sha256 }], startTime: 1003 }).info.runId;
  tracker.logInputs(evaluation, [{ dataset: { name: 'test', digest: 'dddd4444', sourceType: 'local', source: 'data/test.csv' }, tags: [] }]);
  tracker.updateRun(evaluation, { status: 'FINISHED', endTime: 1004 });
  return { ws, tracker, prepare, train, evaluation, version };
}

const ids = (g: LineageGraph) => g.nodes.map((n) => n.id).sort();
const hasEdge = (g: LineageGraph, from: string, to: string) => g.edges.some((e) => e.from === from && e.to === to);

test('from a model version: data and stage runs upstream by path and hash, alias and evaluation downstream', async () => {
  const { tracker, prepare, train, evaluation } = await pipelineWorkspace();
  try {
    const g = modelVersionLineageGraph(tracker, 'churn', '1');
    const v = versionNodeId('churn', '1');
    assert.equal(g.focus, v);
    assert.equal(g.mode, 'lineage');
    assert.deepEqual(
      ids(g),
      [
        'alias:churn@champion',
        dataNodeId('data/raw.csv', 'aaaa1111'),
        dataNodeId('data/test.csv', 'dddd4444'),
        dataNodeId('data/train.csv', 'bbbb2222'),
        runNodeId(evaluation),
        runNodeId(prepare),
        runNodeId(train),
        v,
      ].sort(),
    );
    assert.ok(hasEdge(g, dataNodeId('data/raw.csv', 'aaaa1111'), runNodeId(prepare)));
    assert.ok(hasEdge(g, runNodeId(prepare), dataNodeId('data/train.csv', 'bbbb2222')));
    assert.ok(hasEdge(g, dataNodeId('data/train.csv', 'bbbb2222'), runNodeId(train)));
    assert.ok(hasEdge(g, runNodeId(train), v));
    assert.ok(hasEdge(g, v, 'alias:churn@champion'));
    assert.ok(hasEdge(g, v, runNodeId(evaluation)));
    assert.ok(hasEdge(g, dataNodeId('data/test.csv', 'dddd4444'), runNodeId(evaluation)));
    assert.equal(g.omitted, 0);
    // train's other output is not lineage of the version: it was not registered, nothing below used it.
    assert.ok(!g.nodes.some((n) => n.id === dataNodeId('model.onnx', 'cccc3333')));
    const trainNode = g.nodes.find((n) => n.id === runNodeId(train))!;
    assert.equal(trainNode.label, 'train');
    assert.equal(trainNode.state, 'finished');
    assert.match(trainNode.detail, /^train-run · finished · [0-9a-f]{8}$/);
    assert.deepEqual(trainNode.target, { kind: 'run', runId: train });
    assert.equal(g.nodes.find((n) => n.id === runNodeId(evaluation))!.kind, 'evaluation');
    assert.deepEqual(g.nodes.find((n) => n.id === v)!.target, { kind: 'model-version', name: 'churn', version: '1' });
    // Upstream of the version is the whole chain back to the raw data; the evaluation is not.
    const up = reachable(g.edges, v, 'up');
    assert.ok(up.has(dataNodeId('data/raw.csv', 'aaaa1111')));
    assert.ok(!up.has(runNodeId(evaluation)));
  } finally {
    tracker.close();
  }
});

test('a file first shown as an evaluation\'s side input is still followed upstream when the walk reaches it: the stage that wrote it is shown', async () => {
  const ws = tempWorkspace('lineage-side');
  const tracker = Tracker.open(ws);
  try {
    writeFileSync(path.join(ws, 'model.onnx'), onnxBytes('onnx-bytes'));
    const prepare = await stageRun(tracker, { stage: 'prepare', inputs: [['data/raw.csv', 'aaaa1111']], outputs: [['data/train.csv', 'bbbb2222'], ['data/test.csv', 'eeee5555']], startTime: 1001 });
    const train = await stageRun(tracker, { stage: 'train', inputs: [['data/train.csv', 'bbbb2222'], ['data/test.csv', 'eeee5555']], outputs: [['model.onnx', 'cccc3333']], startTime: 1002 });
    // A longer way up (register ← model.onnx ← train) than down to the evaluation, which reads test.csv too.
    const register = await stageRun(tracker, { stage: 'register', inputs: [['model.onnx', 'cccc3333']], outputs: [], startTime: 1003 });
    const version = await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'), { runId: register });
    const evaluation = tracker.createRun({ runName: 'eval', tags: [{ key: MODEL_SHA256_TAG, value: version.sha256 }], startTime: 1004 }).info.runId;
    tracker.logInputs(evaluation, [{ dataset: { name: 'test', digest: 'eeee5555', sourceType: 'local', source: 'data/test.csv' }, tags: [] }]);
    tracker.updateRun(evaluation, { status: 'FINISHED', endTime: 1005 });
    const g = modelVersionLineageGraph(tracker, 'churn', '1');
    const test = dataNodeId('data/test.csv', 'eeee5555');
    assert.ok(hasEdge(g, test, runNodeId(evaluation)));
    assert.ok(hasEdge(g, test, runNodeId(train)));
    assert.ok(hasEdge(g, runNodeId(prepare), test), 'prepare wrote test.csv');
    assert.ok(hasEdge(g, runNodeId(prepare), dataNodeId('data/train.csv', 'bbbb2222')));
  } finally {
    tracker.close();
  }
});

test("an evaluation's data that no stage of the walk read is a leaf, with its edge from the stage shown that wrote it", async () => {
  const ws = tempWorkspace('lineage-leaf');
  const tracker = Tracker.open(ws);
  try {
    writeFileSync(path.join(ws, 'model.onnx'), onnxBytes('onnx-bytes'));
    const prepare = await stageRun(tracker, { stage: 'prepare', inputs: [['data/raw.csv', 'aaaa1111']], outputs: [['data/train.csv', 'bbbb2222'], ['data/live.csv', 'ffff6666']], startTime: 1001 });
    const train = await stageRun(tracker, { stage: 'train', inputs: [['data/train.csv', 'bbbb2222']], outputs: [['model.onnx', 'cccc3333']], startTime: 1002 });
    const version = await tracker.registerModelFiles('churn', path.join(ws, 'model.onnx'), { runId: train });
    const evaluation = tracker.createRun({ runName: 'eval', tags: [{ key: MODEL_SHA256_TAG, value: version.sha256 }], startTime: 1004 }).info.runId;
    tracker.logInputs(evaluation, [{ dataset: { name: 'live', digest: 'ffff6666', sourceType: 'local', source: 'data/live.csv' }, tags: [] }]);
    tracker.updateRun(evaluation, { status: 'FINISHED', endTime: 1005 });
    const g = modelVersionLineageGraph(tracker, 'churn', '1');
    const live = dataNodeId('data/live.csv', 'ffff6666');
    assert.ok(hasEdge(g, live, runNodeId(evaluation)));
    assert.ok(hasEdge(g, runNodeId(prepare), live), 'prepare wrote live.csv, and both are shown');
  } finally {
    tracker.close();
  }
});

test('from a run: its inputs and their producers upstream, what read its outputs and the version downstream', async () => {
  const { tracker, prepare, train } = await pipelineWorkspace();
  try {
    const g = runLineageGraph(tracker, prepare);
    assert.equal(g.focus, runNodeId(prepare));
    const down = reachable(g.edges, runNodeId(prepare), 'down');
    assert.ok(down.has(runNodeId(train)));
    assert.ok(down.has(versionNodeId('churn', '1')));
    assert.ok(down.has('alias:churn@champion'));
    assert.throws(() => runLineageGraph(tracker, 'f'.repeat(32)), /not found/);
  } finally {
    tracker.close();
  }
});

test('from a data file: every hash of it the tracker saw, the one used last in focus; a file no run used is one node', async () => {
  const { tracker, train } = await pipelineWorkspace();
  try {
    const later = await stageRun(tracker, { stage: 'train', inputs: [['data/train.csv', 'eeee5555']], outputs: [], startTime: 2000 });
    const g = dataFileLineageGraph(tracker, 'data/train.csv');
    assert.equal(g.focus, dataNodeId('data/train.csv', 'eeee5555'));
    assert.ok(hasEdge(g, dataNodeId('data/train.csv', 'bbbb2222'), runNodeId(train)));
    assert.ok(hasEdge(g, dataNodeId('data/train.csv', 'eeee5555'), runNodeId(later)));
    // Put back to an earlier version (v1, v2, then v1 again, written and read): the version used last is the focus.
    await stageRun(tracker, { stage: 'prepare', inputs: [], outputs: [['data/back.csv', 'v1']], startTime: 3000 });
    await stageRun(tracker, { stage: 'train', inputs: [['data/back.csv', 'v1']], outputs: [], startTime: 3050 });
    await stageRun(tracker, { stage: 'prepare', inputs: [], outputs: [['data/back.csv', 'v2']], startTime: 3100 });
    await stageRun(tracker, { stage: 'prepare', inputs: [], outputs: [['data/back.csv', 'v1']], startTime: 3200 });
    assert.equal(dataFileLineageGraph(tracker, 'data/back.csv').focus, dataNodeId('data/back.csv', 'v1'));
    // A file inside a folder the runs recorded as a whole: the folder's lineage, said so.
    await stageRun(tracker, { stage: 'prepare', inputs: [], outputs: [['data/prepared', 'abc.dir']], startTime: 3300 });
    const inside = dataFileLineageGraph(tracker, 'data/prepared/part-0.csv');
    assert.equal(inside.focus, dataNodeId('data/prepared', 'abc.dir'));
    assert.equal(inside.title, 'Lineage of data/prepared/part-0.csv (recorded as part of data/prepared)');
    const none = dataFileLineageGraph(tracker, 'notes.txt');
    assert.equal(none.nodes.length, 1);
    assert.equal(none.nodes[0]!.detail, 'not used by any run');
  } finally {
    tracker.close();
  }
});

test('the node cap: neighbours past it are counted into a more node beside the node they belong to', async () => {
  const ws = tempWorkspace('lineage-cap');
  const tracker = Tracker.open(ws);
  try {
    const readers: string[] = [];
    for (let i = 0; i < 25; i++) readers.push(await stageRun(tracker, { stage: `read${i}`, inputs: [['data/shared.csv', 'ffff']], outputs: [], startTime: 100 + i }));
    const g = dataFileLineageGraph(tracker, 'data/shared.csv', { maxNodes: 10 });
    const more = g.nodes.filter((n) => n.kind === 'more');
    assert.equal(more.length, 1);
    assert.equal(more[0]!.hidden, 16);
    assert.equal(g.omitted, 16);
    assert.equal(more[0]!.label, '16 more…');
    assert.equal(g.nodes.length, 11);
    assert.ok(hasEdge(g, dataNodeId('data/shared.csv', 'ffff'), more[0]!.id));
    // The oldest readers are the ones shown.
    assert.ok(g.nodes.some((n) => n.id === runNodeId(readers[0]!)));
    assert.ok(!g.nodes.some((n) => n.id === runNodeId(readers[24]!)));
    const whole = dataFileLineageGraph(tracker, 'data/shared.csv');
    assert.equal(whole.nodes.length, 26);
    assert.equal(whole.omitted, 0);
  } finally {
    tracker.close();
  }
});

test('a stage run whose outputs record is not JSON shows no outputs instead of failing', async () => {
  const ws = tempWorkspace('lineage-bad');
  const tracker = Tracker.open(ws);
  try {
    const run = tracker.createRun({ runName: 'broken', tags: [{ key: STAGE_TAG, value: 'broken' }] }).info.runId;
    await tracker.putArtifact(run, OUTPUTS_ARTIFACT, Buffer.from('{not json'));
    const g = runLineageGraph(tracker, run);
    assert.deepEqual(ids(g), [runNodeId(run)]);
    // Named as its stage: the name is not said twice.
    assert.match(g.nodes[0]!.detail, /^running · [0-9a-f]{8}$/);
  } finally {
    tracker.close();
  }
});

test('the pipeline graph: a node per stage with its state and text, edges from producers to readers, opening the stage in its file', () => {
  const stages = [
    { id: 'prepare', file: 'runwise.yaml', line: 2 },
    { id: 'train', file: 'runwise.yaml', line: 7 },
  ];
  const graph = { stages, upstream: (id: string) => (id === 'train' ? ['prepare'] : []) } as unknown as Parameters<typeof pipelineLineageGraph>[0];
  const g = pipelineLineageGraph(graph, (id) => (id === 'train' ? { kind: 'running', reasons: [], startedAt: 0 } : { kind: 'up-to-date', reasons: [] }), 65_000);
  assert.equal(g.mode, 'pipeline');
  assert.deepEqual(
    g.nodes.map((n) => [n.id, n.state, n.detail]),
    [
      ['stage:prepare', 'up-to-date', 'up to date'],
      ['stage:train', 'running', 'running 1:05'],
    ],
  );
  assert.deepEqual(g.edges, [{ from: 'stage:prepare', to: 'stage:train' }]);
  assert.deepEqual(g.nodes[1]!.target, { kind: 'file', path: 'runwise.yaml', line: 7 });
  const later = pipelineLineageGraph(graph, () => ({ kind: 'failed', reasons: [], failure: 'exit 2' }), 0);
  assert.ok(sameShape(g, later));
  assert.equal(later.nodes[1]!.detail, 'failed: exit 2');
  assert.ok(!sameShape(g, { ...later, edges: [] }));
});

test('stages another process runs: from its live records only; they show running unless already seen running', () => {
  const ws = tempWorkspace('lineage-running');
  assert.deepEqual(stagesRunningElsewhere(ws), new Map(), 'no records folder yet');
  // A live runner (this process) runs `train`.
  writeStageGroupRecord(ws, { pgid: process.pid, stage: 'train', runId: 'a'.repeat(32) });
  // A runner that is gone left a record for `prepare`.
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const dead = { pgid: 12345, leaderStart: null, runner: { ...currentProcess(), pid: Number(gone.stdout) }, stage: 'prepare', runId: 'b'.repeat(32) };
  mkdirSync(stageGroupRecordsDir(ws), { recursive: true });
  writeFileSync(path.join(stageGroupRecordsDir(ws), `${'b'.repeat(32)}.json`), JSON.stringify(dead));
  // Not a record at all.
  writeFileSync(path.join(stageGroupRecordsDir(ws), 'notes.txt'), 'x');
  const running = stagesRunningElsewhere(ws);
  assert.deepEqual([...running.keys()], ['train']);
  assert.ok(Math.abs(running.get('train')! - Date.now()) < 60_000);
  const merged = withStagesRunningElsewhere((id) => (id === 'fit' ? { kind: 'running', reasons: [], startedAt: 5 } : { kind: 'stale', reasons: [{ kind: 'cmd-changed' }] }), new Map([['train', 1000], ['fit', 2000]]));
  assert.deepEqual(merged('train'), { kind: 'running', reasons: [{ kind: 'cmd-changed' }], startedAt: 1000 });
  assert.deepEqual(merged('fit'), { kind: 'running', reasons: [], startedAt: 5 }, 'this window saw it start: its own time stays');
  assert.deepEqual(merged('prepare'), { kind: 'stale', reasons: [{ kind: 'cmd-changed' }] });
});
