/**
 * The scheduler with real child processes, a real tracker and real lock files: stages in parallel,
 * the environment a stage gets, a failed stage stopping its dependents (and leaving its lock entry),
 * outputs removed unless persist, nested tracker runs with their tags, params (named the same
 * whatever the wdir), inputs, outputs and log, metrics files after what the script logged, the
 * record of a running stage's process group, gates (previous.* included), and cancel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HashCache } from '../../../core/pipeline/hashCache';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import { runPipeline, type PipelineRunEvent, type PipelineRunResult } from '../../../core/pipeline/pipelineRun';
import type { GateRule } from '../../../core/pipeline/pipelineModel';
import { planRun } from '../../../core/pipeline/stageStatus';
import { emptyStageMetrics } from '../../../core/pipeline/metricsFiles';
import { readStageGroupRecords, stageGroupRecordsDir, stopLeftoverStages, type StageGroupRecord } from '../../../core/pipeline/stageGroupRecords';
import { processGroupAlive } from '../../../core/pipeline/stageProcess';
import { flattenParams, LOG_ARTIFACT, metricPoints, OUTPUTS_ARTIFACT } from '../../../core/pipeline/stageTracking';
import { CMD_TAG, DURATION_TAG, EXIT_CODE_TAG, PARENT_RUN_TAG, PIPELINE_TAG, RUN_KIND_TAG, STAGE_TAG } from '../../../core/tracker/model';
import { Tracker } from '../../../core/tracker/tracker';
import { waitUntil } from '../../support/polling';
import { finished, processRunning, spawnTs } from '../../support/processes';
import { tempWorkspace, writeWorkspaceFile } from '../../support/tempWorkspace';

async function runAll(
  ws: string,
  options: { jobs?: number; force?: boolean; signal?: AbortSignal; onEvent?: (e: PipelineRunEvent) => void; extraGates?: GateRule[]; experiment?: string } = {},
): Promise<{ result: PipelineRunResult; events: PipelineRunEvent[]; tracker: Tracker }> {
  const loaded = loadPipeline(ws);
  const graph = options.extraGates ? { ...loaded, gates: [...loaded.gates, ...options.extraGates] } : loaded;
  const hashes = new HashCache(ws);
  const decisions = planRun(graph, { hashes, ...(options.force ? { force: true } : {}) });
  const tracker = Tracker.open(ws);
  const events: PipelineRunEvent[] = [];
  const result = await runPipeline({
    graph,
    decisions,
    tracker,
    hashes,
    jobs: options.jobs ?? 4,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.experiment ? { experimentName: options.experiment } : {}),
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
    killGraceMs: 1000,
  });
  hashes.save();
  return { result, events, tracker };
}

const statusOf = (r: PipelineRunResult) => Object.fromEntries(r.stages.map((s) => [s.id, s.status]));

test('-j 2: two sleeping stages overlap; -j 1 runs them one after the other', async () => {
  const yaml = `stages:
  a:
    cmd: date +%s%N > a.start && sleep 0.6 && date +%s%N > a.end
    outs: [a.start, a.end]
  b:
    cmd: date +%s%N > b.start && sleep 0.6 && date +%s%N > b.end
    outs: [b.start, b.end]
`;
  const read = (ws: string, f: string) => Number(readFileSync(path.join(ws, f), 'utf8').trim()) / 1e6;
  const parallel = tempWorkspace('run', { 'runwise.yaml': yaml });
  const p = await runAll(parallel, { jobs: 2 });
  p.tracker.close();
  assert.deepEqual(statusOf(p.result), { a: 'succeeded', b: 'succeeded' });
  assert.ok(read(parallel, 'a.start') < read(parallel, 'b.end') && read(parallel, 'b.start') < read(parallel, 'a.end'), 'the two stages ran at the same time');
  const serial = tempWorkspace('run', { 'runwise.yaml': yaml });
  const s = await runAll(serial, { jobs: 1 });
  s.tracker.close();
  const [first, second] = read(serial, 'a.start') < read(serial, 'b.start') ? ['a', 'b'] : ['b', 'a'];
  assert.ok(read(serial, `${first}.end`) <= read(serial, `${second}.start`), 'with -j 1 one ends before the other starts');
});

test("a stage's environment: the tracking endpoint, its own child run, the experiment", async () => {
  const ws = tempWorkspace('run', {
    'runwise.yaml': `stages:
  env:
    cmd: env | grep -E '^(MLFLOW_|RUNWISE_STAGE)' | sort > env.txt
    outs: [env.txt]
`,
  });
  const { result, tracker } = await runAll(ws);
  try {
    assert.equal(result.ok, true, JSON.stringify(result.stages));
    const env = Object.fromEntries(
      readFileSync(path.join(ws, 'env.txt'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.MLFLOW_RUN_ID, result.stages[0]!.runId);
    assert.match(env.MLFLOW_TRACKING_URI ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok((env.MLFLOW_TRACKING_TOKEN ?? '').length >= 16);
    assert.equal(env.MLFLOW_EXPERIMENT_NAME, process.env.MLFLOW_EXPERIMENT_NAME ?? 'Default');
    assert.equal(env.RUNWISE_STAGE, 'env');
  } finally {
    tracker.close();
  }
});

test('a gate on a stage up to date reads the metrics its last run logged, in whatever experiment (run --experiment new)', async () => {
  const script = `
const body = JSON.stringify({ run_id: process.env.MLFLOW_RUN_ID, key: 'auc', value: 0.9, timestamp: Date.now(), step: 0 });
fetch(process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow/runs/log-metric', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' }, body })
  .then((r) => { if (!r.ok) process.exit(2); require('fs').writeFileSync('scored', ''); });
`;
  const ws = tempWorkspace('run', {
    'score.js': script,
    'runwise.yaml': `stages:
  score:
    cmd: node score.js
    deps: [score.js]
    outs: [scored]
  after:
    cmd: echo ok > after.txt
    deps: [scored, marker]
    outs: [after.txt]
gates:
  - metric: auc
    stage: score
    op: '>='
    value: 0.8
`,
    marker: '1',
  });
  const first = await runAll(ws);
  // A newer run of score pulled from a teammate's server, in another experiment: it made other outputs.
  const team = first.tracker.createExperiment('team').experimentId;
  const pulled = first.tracker.createRun({ experimentId: team, runName: 'score', tags: [{ key: STAGE_TAG, value: 'score' }] }).info.runId;
  first.tracker.logBatch(pulled, { metrics: [{ key: 'auc', value: 0.1, timestamp: Date.now() + 1000, step: 0 }] });
  await first.tracker.putArtifact(pulled, OUTPUTS_ARTIFACT, Buffer.from(JSON.stringify([{ path: 'scored', md5: 'f'.repeat(32) }])));
  first.tracker.updateRun(pulled, { status: 'FINISHED' });
  first.tracker.close();
  assert.equal(first.result.ok, true, first.result.gates.map((g) => g.message).join('\n'));
  // score is up to date; only after runs, in another experiment: the gate reads the score run that
  // made the outputs the lock holds (in Default), not the newer one that made others.
  writeWorkspaceFile(ws, 'marker', '2');
  const second = await runAll(ws, { experiment: 'exp1' });
  try {
    assert.deepEqual(statusOf(second.result), { score: 'skipped', after: 'succeeded' });
    assert.equal(second.result.ok, true, second.result.gates.map((g) => g.message).join('\n'));
    assert.match(second.result.gates[0]!.message, /passed: auc is 0\.9 \(stage 'score'\)/);
  } finally {
    second.tracker.close();
  }
});

test('a script logs into its child run through the endpoint given in its environment', async () => {
  const script = `
const body = JSON.stringify({ run_id: process.env.MLFLOW_RUN_ID, key: 'from_script', value: 42, timestamp: Date.now(), step: 0 });
fetch(process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow/runs/log-metric', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' }, body })
  .then((r) => { if (!r.ok) process.exit(2); require('fs').writeFileSync('done', ''); });
`;
  const ws = tempWorkspace('run', { 'log.js': script, 'runwise.yaml': `stages:\n  log:\n    cmd: >-\n      '${process.execPath}' log.js\n    deps: [log.js]\n    outs: [done]\n` });
  const { result, tracker } = await runAll(ws);
  try {
    assert.equal(result.ok, true, JSON.stringify(result.stages));
    assert.equal(tracker.getRun(result.stages[0]!.runId!).metrics.find((m) => m.key === 'from_script')?.value, 42);
  } finally {
    tracker.close();
  }
});

test("a stage's Node script outside Runwise's folder requires 'runwise/client' without installing it, and logs through it", async () => {
  const script = `const rw = require('runwise/client');\nrw.logMetric('from_client', 7, 0);\nrequire('fs').writeFileSync('done', '');\n`;
  const ws = tempWorkspace('run', { 'log.js': script, 'runwise.yaml': `stages:\n  log:\n    cmd: >-\n      '${process.execPath}' log.js\n    deps: [log.js]\n    outs: [done]\n` });
  assert.ok(!path.resolve(ws).startsWith(path.resolve(__dirname, '../../..')), 'the workspace lies outside the repository');
  const { result, tracker } = await runAll(ws);
  try {
    assert.equal(result.ok, true, JSON.stringify(result.stages));
    assert.equal(tracker.getRun(result.stages[0]!.runId!).metrics.find((m) => m.key === 'from_client')?.value, 7);
  } finally {
    tracker.close();
  }
});

test('a failed stage stops its dependents, keeps its old lock entry; an independent branch goes on', async () => {
  const ws = tempWorkspace('run', {
    'flag': 'ok',
    'runwise.yaml': `stages:
  prepare:
    cmd: test "$(cat flag)" = ok && echo data > data.txt
    deps: [flag]
    outs: [data.txt]
  train:
    cmd: cat data.txt > model.txt
    deps: [data.txt]
    outs: [model.txt]
  other:
    cmd: echo other > other.txt
    outs: [other.txt]
`,
  });
  const first = await runAll(ws);
  first.tracker.close();
  assert.deepEqual(statusOf(first.result), { prepare: 'succeeded', train: 'succeeded', other: 'succeeded' });
  const lockBefore = readFileSync(path.join(ws, 'runwise.lock'), 'utf8');
  writeWorkspaceFile(ws, 'flag', 'broken');
  const second = await runAll(ws, { force: true });
  try {
    assert.deepEqual(statusOf(second.result), { prepare: 'failed', train: 'not-run', other: 'succeeded' });
    assert.equal(second.result.ok, false);
    const train = second.result.stages.find((s) => s.id === 'train')!;
    assert.equal(train.message, "not run: upstream stage 'prepare' failed");
    const prepare = second.result.stages.find((s) => s.id === 'prepare')!;
    assert.match(prepare.message ?? '', /exited with code 1/);
    const lockAfter = readFileSync(path.join(ws, 'runwise.lock'), 'utf8');
    const entry = (text: string, name: string) => text.slice(text.indexOf(`  ${name}:`), text.indexOf('\n  ', text.indexOf(`  ${name}:`) + 3));
    assert.equal(entry(lockAfter, 'prepare'), entry(lockBefore, 'prepare'), "the failed stage's entry is untouched");
    assert.equal(tracker(second).getRunInfo(prepare.runId!).status, 'FAILED');
    assert.equal(tracker(second).getRunInfo(second.result.runId!).status, 'FAILED');
  } finally {
    second.tracker.close();
  }
});

test('as dvc repro: a stage due only to its upstream is skipped when the upstream wrote the same bytes; a callback stage runs every time', async () => {
  const ws = tempWorkspace('run', {
    'in.txt': 'one',
    'runwise.yaml': `stages:
  a:
    cmd: cat in.txt > /dev/null && echo const > a.txt
    deps: [in.txt]
    outs: [a.txt]
  b:
    cmd: cat a.txt > b.txt && date +%s%N >> b-runs.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: cat b.txt > c.txt
    deps: [b.txt]
    outs: [c.txt]
  ping:
    cmd: echo ping >> pings.txt
`,
  });
  const first = await runAll(ws);
  first.tracker.close();
  assert.deepEqual(statusOf(first.result), { a: 'succeeded', b: 'succeeded', c: 'succeeded', ping: 'succeeded' });
  writeWorkspaceFile(ws, 'in.txt', 'two');
  const second = await runAll(ws);
  try {
    // a ran (its dependency changed) and wrote 'const' again: b and c read what they read before.
    assert.deepEqual(statusOf(second.result), { a: 'succeeded', b: 'skipped', c: 'skipped', ping: 'succeeded' });
    assert.equal(second.result.stages.find((s) => s.id === 'b')!.message, 'its upstream stages ran, and nothing it reads changed');
    assert.equal(readFileSync(path.join(ws, 'b-runs.txt'), 'utf8').trim().split('\n').length, 1, 'b ran once');
    assert.ok(second.result.ok);
    assert.equal(readFileSync(path.join(ws, 'pings.txt'), 'utf8'), 'ping\nping\n', 'the callback stage ran again');
    const ended = second.events.filter((e) => e.type === 'stage-end').map((e) => (e.type === 'stage-end' ? `${e.stage}:${e.report.status}` : ''));
    assert.ok(ended.includes('b:skipped') && ended.includes('c:skipped'), ended.join(' '));
  } finally {
    second.tracker.close();
  }
  // a.txt edited by hand: a runs (its output changed) and restores it; b, which read the edit as a
  // changed input, finds what it reads as it was, and c too.
  writeWorkspaceFile(ws, 'a.txt', 'edited by hand\n');
  const restored = await runAll(ws);
  restored.tracker.close();
  assert.deepEqual(statusOf(restored.result), { a: 'succeeded', b: 'skipped', c: 'skipped', ping: 'succeeded' });
  assert.equal(readFileSync(path.join(ws, 'b-runs.txt'), 'utf8').trim().split('\n').length, 1, 'b still ran once');
  // When a writes something else, b and c run.
  writeWorkspaceFile(ws, 'runwise.yaml', readFileSync(path.join(ws, 'runwise.yaml'), 'utf8').replace('echo const', 'echo changed'));
  const third = await runAll(ws);
  third.tracker.close();
  assert.deepEqual(statusOf(third.result), { a: 'succeeded', b: 'succeeded', c: 'succeeded', ping: 'succeeded' });
});

test('a frozen stage is not run; when its output is missing the run fails and says so, as DVC verifies it', async () => {
  const ws = tempWorkspace('run', {
    'runwise.yaml': `stages:
  kept:
    cmd: echo fresh > kept.txt
    outs: [kept.txt]
    frozen: true
`,
  });
  const missing = await runAll(ws);
  missing.tracker.close();
  assert.deepEqual(statusOf(missing.result), { kept: 'failed' });
  assert.equal(missing.result.ok, false);
  assert.match(missing.result.stages[0]!.message ?? '', /frozen, and its output kept\.txt is missing/);
  assert.equal(existsSync(path.join(ws, 'kept.txt')), false, 'the command did not run');
  writeWorkspaceFile(ws, 'kept.txt', 'by hand');
  const present = await runAll(ws);
  present.tracker.close();
  assert.deepEqual(statusOf(present.result), { kept: 'frozen' });
  assert.ok(present.result.ok);
});

const tracker = (r: { tracker: Tracker }) => r.tracker;

test('outputs are removed before a stage runs unless persist', async () => {
  const ws = tempWorkspace('run', {
    'runwise.yaml': `stages:
  build:
    cmd: (test -e fresh.txt && echo kept > fresh.seen || echo gone > fresh.seen) && (test -e kept.txt && echo kept > kept.seen || echo gone > kept.seen) && touch fresh.txt kept.txt
    outs:
      - fresh.txt
      - kept.txt:
          persist: true
      - fresh.seen
      - kept.seen
`,
  });
  (await runAll(ws)).tracker.close();
  const again = await runAll(ws, { force: true });
  again.tracker.close();
  assert.equal(again.result.ok, true, JSON.stringify(again.result.stages));
  assert.equal(readFileSync(path.join(ws, 'fresh.seen'), 'utf8').trim(), 'gone');
  assert.equal(readFileSync(path.join(ws, 'kept.seen'), 'utf8').trim(), 'kept');
});

test('tracker: a parent run, a child run per stage with tags, params, inputs, outputs, log and file metrics', async () => {
  const ws = tempWorkspace('run', {
    'params.yaml': 'train:\n  lr: 0.01\n  depth: 3\n',
    'data.csv': 'x,y\n1,2\n',
    'runwise.yaml': `stages:
  train:
    cmd:
      - echo training
      - 'echo "{\\"acc\\": 0.75, \\"nested\\": {\\"f1\\": 0.5}}" > metrics.json && printf "step,loss\\n0,1\\n1,0.5\\n" > loss.csv && echo model > model.bin'
    deps: [data.csv]
    params: [train.lr, train.depth]
    outs: [model.bin]
    metrics:
      - metrics.json:
          cache: false
    plots:
      - loss.csv
`,
  });
  const { result, tracker: t } = await runAll(ws);
  try {
    assert.equal(result.ok, true, JSON.stringify(result.stages));
    const parent = t.getRun(result.runId!);
    assert.equal(parent.info.status, 'FINISHED');
    assert.equal(parent.tags.find((x) => x.key === RUN_KIND_TAG)?.value, 'pipeline');
    const child = t.getRun(result.stages[0]!.runId!);
    const tag = (k: string) => child.tags.find((x) => x.key === k)?.value;
    assert.equal(child.info.parentRunId, parent.info.runId);
    assert.equal(tag(PARENT_RUN_TAG), parent.info.runId);
    assert.equal(child.info.status, 'FINISHED');
    assert.equal(tag(STAGE_TAG), 'train');
    assert.equal(tag(PIPELINE_TAG), 'runwise.yaml');
    assert.match(tag(CMD_TAG) ?? '', /^echo training\n/);
    assert.equal(tag(EXIT_CODE_TAG), '0');
    assert.ok(Number(tag(DURATION_TAG)) >= 0);
    assert.deepEqual(Object.fromEntries(child.params.map((p) => [p.key, p.value])), { 'train.lr': '0.01', 'train.depth': '3' });
    const input = child.inputs.find((i) => i.dataset.name === 'data.csv');
    assert.ok(input, 'the dependency is a dataset input');
    assert.match(input.dataset.digest, /^[0-9a-f]{32}$/);
    const metrics = Object.fromEntries(child.metrics.map((m) => [m.key, m.value]));
    assert.equal(metrics.acc, 0.75);
    assert.equal(metrics['nested.f1'], 0.5);
    assert.equal(metrics.loss, 0.5, 'the latest point of the plots series');
    assert.equal(t.getMetricHistory(child.info.runId, 'loss').items.length, 2);
    const artifacts = t.listArtifacts(child.info.runId, 'runwise').map((a) => a.path);
    assert.ok(artifacts.includes(OUTPUTS_ARTIFACT) && artifacts.includes(LOG_ARTIFACT), artifacts.join(', '));
    const outputs = JSON.parse(readFileSync(t.openArtifact(child.info.runId, OUTPUTS_ARTIFACT).filePath, 'utf8')) as { path: string; md5: string; size: number }[];
    assert.deepEqual(
      outputs.map((o) => [o.path, o.size]),
      [
        ['model.bin', 6],
        ['metrics.json', readFileSync(path.join(ws, 'metrics.json')).length],
        ['loss.csv', 20],
      ],
    );
    assert.match(readFileSync(t.openArtifact(child.info.runId, LOG_ARTIFACT).filePath, 'utf8'), /^training\n/);
    assert.ok(existsSync(result.stages[0]!.logFile!), 'the log is kept under .runwise/logs');
  } finally {
    t.close();
  }
});

test('gates: checked after their stage; previous.* compares with the last successful run', async () => {
  const ws = tempWorkspace('run', {
    'loss': '0.5',
    'runwise.yaml': `stages:
  train:
    cmd: >-
      echo "{\\"loss\\": $(cat loss)}" > m.json
    deps: [loss]
    metrics:
      - m.json:
          cache: false
gates:
  - metric: loss
    op: '<'
    value: 1
`,
  });
  // The editor's schema takes only a number as a gate value so far, so the previous.* rule is given
  // to the runner directly, as loadPipeline would pass it on.
  const previousRule: GateRule = { file: 'runwise.yaml', line: 8, metric: 'train:loss', op: '<=', value: 'previous.loss' };
  const first = await runAll(ws, { extraGates: [previousRule] });
  first.tracker.close();
  assert.equal(first.result.ok, true, first.result.gates.map((g) => g.message).join('\n'));
  assert.match(first.result.gates.find((g) => g.rule === previousRule)!.message, /no previous run/);
  writeWorkspaceFile(ws, 'loss', '0.4');
  const better = await runAll(ws, { extraGates: [previousRule] });
  better.tracker.close();
  assert.equal(better.result.ok, true, better.result.gates.map((g) => g.message).join('\n'));
  writeWorkspaceFile(ws, 'loss', '0.6');
  const worse = await runAll(ws, { extraGates: [previousRule] });
  try {
    assert.equal(worse.result.ok, false);
    const failed = worse.result.gates.filter((g) => !g.passed);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.message, "gate 'train:loss <= previous.loss' (runwise.yaml:8) failed: loss is 0.6 (stage 'train'), previous.loss is 0.4");
    assert.equal(worse.tracker.getRunInfo(worse.result.runId!).status, 'FAILED', 'a failed gate fails the pipeline run');
    assert.equal(worse.tracker.getRunInfo(worse.result.stages[0]!.runId!).status, 'FINISHED', 'the stage itself succeeded');
    const gateEvents = worse.events.filter((e) => e.type === 'gate');
    assert.equal(gateEvents.length, 2);
  } finally {
    worse.tracker.close();
  }
});

test('a failed gate stops the stages that read its stage\'s outputs (a worse model is not registered); others run', async () => {
  const ws = tempWorkspace('run', {
    'score': '0.6',
    'runwise.yaml': `stages:
  evaluate:
    cmd: >-
      echo "{\\"roc_auc\\": $(cat score)}" > m.json && echo report > report.txt
    deps: [score]
    outs: [report.txt]
    metrics:
      - m.json:
          cache: false
  publish:
    cmd: cp report.txt published.txt
    deps: [report.txt]
    outs: [published.txt]
  docs:
    cmd: touch docs.txt
    outs: [docs.txt]
gates:
  - metric: roc_auc
    stage: evaluate
    op: '>='
    value: 0.85
`,
  });
  const { result, tracker: t } = await runAll(ws);
  t.close();
  assert.equal(result.ok, false);
  const status = Object.fromEntries(result.stages.map((r) => [r.id, [r.status, r.message ?? '']]));
  assert.equal(status.evaluate![0], 'succeeded');
  assert.deepEqual(status.publish, ['not-run', "not run: the gate 'roc_auc >= 0.85' on stage 'evaluate' failed"]);
  assert.equal(status.docs![0], 'succeeded', 'a stage that does not read the gated stage runs');
  assert.ok(!existsSync(path.join(ws, 'published.txt')));

  // Run again with nothing changed: 'evaluate' is up to date, and its failed gate still holds
  // what reads its outputs back (it was checked only after the run, and 'publish' then ran).
  const again = await runAll(ws);
  again.tracker.close();
  assert.equal(again.result.ok, false);
  const second = Object.fromEntries(again.result.stages.map((r) => [r.id, [r.status, r.message ?? '']]));
  assert.equal(second.evaluate![0], 'skipped');
  assert.deepEqual(second.publish, ['not-run', "not run: the gate 'roc_auc >= 0.85' on stage 'evaluate' failed"]);
  assert.ok(!existsSync(path.join(ws, 'published.txt')));
  assert.equal(again.result.gates.length, 1, 'the gate is checked once');
  assert.equal(again.events.findIndex((e) => e.type === 'gate') < again.events.findIndex((e) => e.type === 'stage-end' && e.stage === 'publish'), true, 'the gate is checked before the stages below it');

  // Once the gated stage measures well, what was held back runs.
  writeWorkspaceFile(ws, 'score', '0.9');
  const passed = await runAll(ws);
  passed.tracker.close();
  assert.equal(passed.result.ok, true);
  assert.equal(statusOf(passed.result).publish, 'succeeded');
  assert.ok(existsSync(path.join(ws, 'published.txt')));
});

/** The gate the held-back tests put on stage `train`. */
const TRAIN_ACCURACY_GATE = "gates:\n  - metric: accuracy\n    stage: train\n    op: '>='\n    value: 0.8\n";

/** Runs the workspace again: the stages end as `expected`, and `register` is held back by train's gate. */
async function assertRegisterHeld(ws: string, expected: Record<string, string>): Promise<void> {
  const again = await runAll(ws);
  again.tracker.close();
  assert.deepEqual(statusOf(again.result), expected);
  assert.equal(again.result.stages.find((s) => s.id === 'register')!.message, "not run: the gate 'accuracy >= 0.8' on stage 'train' failed");
  assert.ok(!existsSync(path.join(ws, 'registered.txt')));
}

test('a failed gate holds back stages below its stage at any distance, across runs', async () => {
  const ws = tempWorkspace('run', {
    'score': '0.6',
    'runwise.yaml': `stages:
  train:
    cmd: >-
      echo "{\"accuracy\": $(cat score)}" > m.json && echo model > model.txt
    deps: [score]
    outs: [model.txt]
    metrics:
      - m.json:
          cache: false
  evaluate:
    cmd: cp model.txt evaluated.txt
    deps: [model.txt]
    outs: [evaluated.txt]
  register:
    cmd: cp evaluated.txt registered.txt
    deps: [evaluated.txt]
    outs: [registered.txt]
${TRAIN_ACCURACY_GATE}`,
  });
  const first = await runAll(ws);
  first.tracker.close();
  assert.deepEqual(statusOf(first.result), { train: 'succeeded', evaluate: 'not-run', register: 'not-run' });
  await assertRegisterHeld(ws, { train: 'skipped', evaluate: 'not-run', register: 'not-run' });

  // Planned to run (they never have), both are held back by the standing gate, judged before the
  // run is announced: none is said to start, and no pipeline run is recorded (nor was one above).
  const held = await runAll(ws);
  const runsBefore = first.result.runId ? held.tracker.searchRuns({ experimentIds: [first.result.experimentId] }).items.length : -1;
  held.tracker.close();
  assert.deepEqual(statusOf(held.result), { train: 'skipped', evaluate: 'not-run', register: 'not-run' });
  const start = held.events.find((e) => e.type === 'run-start');
  assert.deepEqual(start && start.type === 'run-start' ? [start.toRun, start.held] : undefined, [[], ['evaluate', 'register']]);
  assert.equal(held.result.runId, undefined, 'no pipeline run for a run its gates hold back whole');
  assert.equal(held.events.findIndex((e) => e.type === 'gate') < held.events.findIndex((e) => e.type === 'run-start'), true, 'the standing gate is judged before the run starts');
  assert.equal(runsBefore, 2, 'the first run and its train stage only');
});

test('a gate on a foreach stage is judged on each of its stages, and says its message when it fails', async () => {
  const ws = tempWorkspace('run', {
    'runwise.yaml': [
      "vars:",
      "  - regions:",
      "      eu: {score: 0.9}",
      "      us: {score: 0.6}",
      "stages:",
      "  evaluate:",
      "    foreach: ${regions}",
      "    do:",
      "      cmd: >-",
      "        echo \'{\"roc_auc\": ${item.score}}\' > m-${key}.json && echo ${key} > report-${key}.txt",
      "      outs:",
      "        - report-${key}.txt",
      "      metrics:",
      "        - m-${key}.json:",
      "            cache: false",
      "  publish:",
      "    foreach: ${regions}",
      "    do:",
      "      cmd: cp report-${key}.txt published-${key}.txt",
      "      deps:",
      "        - report-${key}.txt",
      "      outs:",
      "        - published-${key}.txt",
      "gates:",
      "  - metric: roc_auc",
      "    stage: evaluate",
      "    op: \'>=\'",
      "    value: 0.85",
      "    message: a region\'s model is not good enough",
      "  - metric: evaluate:roc_auc",
      "    op: \'>\'",
      "    value: 0.1",
      "",
    ].join('\n'),
  });
  const { result, tracker: t } = await runAll(ws);
  t.close();
  assert.deepEqual(
    result.gates.map((g) => [g.stage, g.passed]).sort(),
    [['evaluate@eu', true], ['evaluate@eu', true], ['evaluate@us', false], ['evaluate@us', true]],
    'each rule judged once on each stage of the group',
  );
  const failed = result.gates.find((g) => !g.passed)!;
  assert.match(failed.message, /^gate 'roc_auc >= 0\.85' \(runwise\.yaml:25\) failed: roc_auc is 0\.6 \(stage 'evaluate@us'\), needs >= 0\.85 — a region's model is not good enough$/);
  assert.deepEqual(statusOf(result), { 'evaluate@eu': 'succeeded', 'evaluate@us': 'succeeded', 'publish@eu': 'succeeded', 'publish@us': 'not-run' });
  assert.ok(!existsSync(path.join(ws, 'published-us.txt')));
});

test('a gate on a metric no stage has fails and says so', async () => {
  const ws = tempWorkspace('run', { 'runwise.yaml': `stages:\n  s:\n    cmd: touch o\n    outs: [o]\ngates:\n  - metric: f1\n    op: '>'\n    value: 0.5\n` });
  const { result, tracker: t } = await runAll(ws);
  t.close();
  assert.equal(result.ok, false);
  assert.equal(result.gates[0]!.message, "gate 'f1 > 0.5' (runwise.yaml:6) failed: metric 'f1' is missing: no stage has it");
});

test("a gate not checked (its stage failed) does not say its failure message: nothing was measured", async () => {
  const ws = tempWorkspace('run', { 'runwise.yaml': `stages:\n  s:\n    cmd: exit 3\n    outs: [o]\ngates:\n  - metric: auc\n    stage: s\n    op: '>'\n    value: 0.5\n    message: the model got worse\n` });
  const { result, tracker: t } = await runAll(ws);
  t.close();
  assert.equal(result.gates[0]!.unchecked, true);
  assert.equal(result.gates[0]!.message, "gate 'auc > 0.5' (runwise.yaml:6) not checked: stage 's' failed");
});

test("a gate whose values could not be had (the metric not logged) fails without its message, which speaks of a comparison", async () => {
  const ws = tempWorkspace('run', { 'w.js': 'require("fs").writeFileSync("m.json", JSON.stringify({ acc: 0.9 }))\n', 'runwise.yaml': `stages:\n  s:\n    cmd: node w.js\n    deps: [w.js]\n    metrics: [m.json]\ngates:\n  - metric: auc\n    stage: s\n    op: '>'\n    value: 0.5\n    message: the model got worse\n  - metric: acc\n    stage: s\n    op: '>'\n    value: 0.95\n    message: the model got worse\n` });
  const { result, tracker: t } = await runAll(ws);
  t.close();
  const [missing, compared] = result.gates;
  assert.equal(missing!.passed, false);
  assert.doesNotMatch(missing!.message, /got worse/);
  assert.match(compared!.message, /failed: acc is 0\.9 .*needs > 0\.95 — the model got worse$/);
});

test('cancel stops the running stage, runs nothing after it, and marks the runs KILLED', async () => {
  const ws = tempWorkspace('run', {
    'runwise.yaml': `stages:
  slow:
    cmd: sleep 30 & wait
    outs: [never.txt]
  after:
    cmd: touch after.txt
    deps: [never.txt]
    outs: [after.txt]
`,
  });
  const controller = new AbortController();
  const started = Date.now();
  const { result, tracker: t } = await runAll(ws, { signal: controller.signal, onEvent: (e) => e.type === 'stage-start' && setTimeout(() => controller.abort(), 200) });
  try {
    assert.ok(Date.now() - started < 5000);
    assert.equal(result.cancelled, true);
    assert.deepEqual(statusOf(result), { slow: 'cancelled', after: 'not-run' });
    assert.equal(t.getRunInfo(result.stages[0]!.runId!).status, 'KILLED');
    assert.equal(t.getRunInfo(result.runId!).status, 'KILLED');
    assert.ok(!existsSync(path.join(ws, 'after.txt')));
  } finally {
    t.close();
  }
});

test('while a command runs its process group is recorded under .runwise/running; the record goes with it', async () => {
  const ws = tempWorkspace('run', {
    'runwise.yaml': `stages:
  rec:
    cmd:
      - cat .runwise/running/*.json > first.json
      - echo $$ > second.pid && cat .runwise/running/*.json > second.json
    outs: [first.json, second.json, second.pid]
`,
  });
  const { result, tracker: t } = await runAll(ws);
  t.close();
  assert.equal(result.ok, true, JSON.stringify(result.stages));
  const runId = result.stages[0]!.runId!;
  const first = JSON.parse(readFileSync(path.join(ws, 'first.json'), 'utf8')) as StageGroupRecord;
  const second = JSON.parse(readFileSync(path.join(ws, 'second.json'), 'utf8')) as StageGroupRecord;
  assert.equal(first.stage, 'rec');
  assert.equal(first.runId, runId);
  assert.equal(first.runner.pid, process.pid, 'the runner that started the group');
  assert.match(first.leaderStart ?? '', /^\d+$/);
  assert.equal(second.pgid, Number(readFileSync(path.join(ws, 'second.pid'), 'utf8').trim()), "the record follows the stage's running command");
  assert.notEqual(first.pgid, second.pgid);
  assert.deepEqual(readdirSync(stageGroupRecordsDir(ws)), [], 'no record is left once the stage ended');
});

test("a metrics file's value becomes the key's latest at its largest logged step; an equal value is not logged again", async () => {
  const script = `
const post = (route, body) => fetch(process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow/' + route, { method: 'POST', headers: { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const now = Date.now();
const metrics = [0.5, 0.6, 0.7].map((value, step) => ({ key: 'acc', value, step, timestamp: now }));
metrics.push({ key: 'loss', value: 0.3, step: 4, timestamp: now });
post('runs/log-batch', { run_id: process.env.MLFLOW_RUN_ID, metrics }).then((r) => {
  if (!r.ok) process.exit(2);
  require('fs').writeFileSync('metrics.json', JSON.stringify({ acc: 0.8, loss: 0.3, f1: 0.4 }));
});
`;
  const ws = tempWorkspace('run', {
    'train.js': script,
    'runwise.yaml': `stages:\n  train:\n    cmd: >-\n      '${process.execPath}' train.js\n    deps: [train.js]\n    metrics:\n      - metrics.json:\n          cache: false\n`,
  });
  const { result, tracker: t } = await runAll(ws);
  try {
    assert.equal(result.ok, true, JSON.stringify(result.stages));
    const runId = result.stages[0]!.runId!;
    const history = (key: string) => t.getMetricHistory(runId, key).items.map((m) => [m.step, m.value]).sort((a, b) => a[0]! - b[0]! || 0);
    assert.deepEqual(history('acc'), [
      [0, 0.5],
      [1, 0.6],
      [2, 0.7],
      [2, 0.8],
    ], "the file's value follows the script's last epoch, never before its first");
    const latest = Object.fromEntries(t.getRun(runId).metrics.map((m) => [m.key, [m.step, m.value]]));
    assert.deepEqual(latest.acc, [2, 0.8], "the file's value is the latest");
    assert.deepEqual(history('loss'), [[4, 0.3]], 'equal to the latest logged: not logged again');
    assert.deepEqual(latest.f1, [0, 0.4], 'a key only the file has: step 0');
    assert.equal(result.stages[0]!.metrics?.acc, 0.8);
  } finally {
    t.close();
  }
});

test('metricPoints: a scalar after its own series and after DVCLive steps; NaN equal to NaN', () => {
  const now = 1_000;
  const metrics = emptyStageMetrics();
  metrics.series.set('loss', [
    { step: 0, value: 1 },
    { step: 1, value: 0.5 },
  ]);
  metrics.scalars.set('loss', { step: 0, value: 0.4 });
  metrics.scalars.set('live', { step: 7, value: 0.9 });
  metrics.scalars.set('nan', { step: 0, value: NaN });
  metrics.scalars.set('same', { step: 0, value: 3 });
  const logged = new Map([
    ['live', { step: 3, value: 0.1, timestamp: 5_000 }],
    ['nan', { step: 2, value: NaN, timestamp: 900 }],
    ['same', { step: 2, value: 2, timestamp: 5_000 }],
  ]);
  const points = metricPoints(metrics, now, logged).map((p) => [p.key, p.step, p.value, p.timestamp]);
  assert.deepEqual(points, [
    ['loss', 0, 1, now],
    ['loss', 1, 0.5, now],
    ['loss', 1, 0.4, now + 1],
    ['live', 7, 0.9, now],
    ['same', 2, 3, 5_001],
  ]);
});

test("params: the pipeline's params.yaml bare, other files by their workspace path, whatever the stage's wdir", async () => {
  assert.deepEqual(
    flattenParams({ '../params.yaml': { train: { lr: 0.1 } }, '../conf/model.yaml': { depth: 4 }, 'params.yaml': { local: 'x' } }, { file: 'runwise.yaml', wdir: 'src' }),
    [
      { key: 'train.lr', value: '0.1' },
      { key: 'conf/model.yaml:depth', value: '4' },
      { key: 'src/params.yaml:local', value: 'x' },
    ],
  );
  assert.deepEqual(
    flattenParams({ 'params.yaml': { k: 1 }, '../params.yaml': { top: 2 } }, { file: 'sub/dvc.yaml', wdir: 'sub' }),
    [
      { key: 'k', value: '1' },
      { key: 'params.yaml:top', value: '2' },
    ],
    "a nested pipeline's default is the params.yaml beside it",
  );

  const ws = tempWorkspace('run', {
    'params.yaml': 'train:\n  lr: 0.1\n',
    'conf/model.yaml': 'depth: 4\n',
    'src/train.sh': 'touch ../model.bin\n',
    'runwise.yaml': `stages:
  train:
    wdir: src
    cmd: sh train.sh
    params:
      - ../params.yaml:
          - train.lr
      - ../conf/model.yaml:
          - depth
    outs: [../model.bin]
`,
  });
  const { result, tracker: t } = await runAll(ws);
  try {
    assert.equal(result.ok, true, JSON.stringify(result.stages));
    assert.match(readFileSync(path.join(ws, 'runwise.lock'), 'utf8'), /\.\.\/params\.yaml:/, 'the lock names the file relative to the wdir');
    const params = Object.fromEntries(t.getRun(result.stages[0]!.runId!).params.map((p) => [p.key, p.value]));
    assert.deepEqual(params, { 'train.lr': '0.1', 'conf/model.yaml:depth': '4' });
  } finally {
    t.close();
  }
});

// The runner's process ending while a stage runs (test/support/pipelineRunnerProcess.ts): the stage's
// `sleep 60` must not outlive it.
const SLEEPING = 'stages:\n  wait:\n    cmd: sleep 60 & echo $! > sleep.pid; echo $$ > stage.pid; wait\n    outs: [never.txt]\n';

function runnerProcess(ws: string, ...args: string[]) {
  const child = spawnTs('test/support/pipelineRunnerProcess.ts', [ws, ...args]);
  return { child, done: finished(child) };
}

/** The stage's group and its sleep, once the stage has written both. */
async function sleepingStage(ws: string): Promise<{ pgid: number; sleep: number }> {
  const read = (f: string) => {
    try {
      return Number(readFileSync(path.join(ws, f), 'utf8').trim());
    } catch {
      return 0;
    }
  };
  await waitUntil(() => read('stage.pid') > 0, 'the stage to start', 20_000);
  return { pgid: read('stage.pid'), sleep: read('sleep.pid') };
}

function killLeft(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* gone, as it should be */
  }
}

test("the runner calls process.exit() mid-stage: the stage's processes get SIGTERM; its record is left for the next runner", async () => {
  const ws = tempWorkspace('run', { 'runwise.yaml': SLEEPING });
  const { done } = runnerProcess(ws, '--exit-when', 'stage.pid');
  const r = await done;
  const { pgid, sleep } = await sleepingStage(ws);
  try {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(sleep > 0, 'the sleep was started before the runner exited');
    await waitUntil(() => !processRunning(sleep) && !processGroupAlive(pgid), "the stage's sleep to end");
    const records = readStageGroupRecords(ws);
    assert.deepEqual(
      records.map((rec) => [rec.stage, rec.pgid]),
      [['wait', pgid]],
      'the exiting runner could not wait for the group to end, so its record stays',
    );
    const tracker = Tracker.open(ws);
    try {
      const left = await stopLeftoverStages(ws, tracker, { killGraceMs: 200 });
      assert.deepEqual(
        left.map((l) => [l.stage, l.stopped, l.runMarked]),
        [['wait', false, true]],
        'the next runner finds nothing left to stop and fails the run',
      );
    } finally {
      tracker.close();
    }
  } finally {
    killLeft(pgid);
  }
});

for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
  test(`the runner gets ${signal} with no handler of its own: it dies by it, and the stage's processes with it`, async () => {
    const ws = tempWorkspace('run', { 'runwise.yaml': SLEEPING });
    const { child, done } = runnerProcess(ws);
    const { pgid, sleep } = await sleepingStage(ws);
    try {
      child.kill(signal);
      const r = await done;
      assert.equal(r.signal, signal, `the runner ended by the signal, as without Runwise's handler (${r.stderr})`);
      await waitUntil(() => !processRunning(sleep) && !processGroupAlive(pgid), "the stage's sleep to end");
    } finally {
      killLeft(pgid);
    }
  });
}

test('a runner with a SIGTERM handler of its own keeps it: the handler cancels the run, which ends as cancelled', async () => {
  const ws = tempWorkspace('run', { 'runwise.yaml': SLEEPING });
  const { child, done } = runnerProcess(ws, '--handle-sigterm');
  const { pgid, sleep } = await sleepingStage(ws);
  try {
    child.kill('SIGTERM');
    const r = await done;
    assert.deepEqual([r.code, r.signal], [130, null], r.stderr);
    const result = JSON.parse(r.stdout) as PipelineRunResult;
    assert.equal(result.cancelled, true);
    assert.equal(result.stages[0]?.status, 'cancelled');
    assert.ok(!processRunning(sleep) && !processGroupAlive(pgid), 'the cancelled run stopped the stage before it returned');
    assert.deepEqual(readStageGroupRecords(ws), [], 'a stage that ended leaves no record');
  } finally {
    killLeft(pgid);
  }
});

test('one pipeline run at a time in a workspace: a second is refused before it touches anything; a dead runner\'s lock is taken over', async () => {
  const ws = tempWorkspace('run', { 'runwise.yaml': 'stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n' });
  const { acquireRunnerLock, runnerLockPath, PipelineBusyError } = await import('../../../core/pipeline/runnerLock');
  const release = acquireRunnerLock(ws);
  try {
    await assert.rejects(runAll(ws), (e: unknown) => e instanceof PipelineBusyError && /another pipeline run is in progress in this workspace \(pid \d+, since [\d:]+, in this process\): wait for it to end, or stop it; \.runwise\/runner\.lock names it/.test((e as Error).message));
    assert.ok(!existsSync(path.join(ws, 'a.txt')), 'nothing ran');
  } finally {
    release();
  }
  assert.ok(!existsSync(runnerLockPath(ws)), 'released');
  // A lock left by a runner that died (a pid that is no process) does not hold the workspace.
  const { currentProcess } = await import('../../../core/tracker/processOwner');
  writeWorkspaceFile(ws, '.runwise/runner.lock', `${JSON.stringify({ ...currentProcess(), pid: 2 ** 22 + 12345, procStart: '1', since: 1 })}\n`);
  const { result, tracker } = await runAll(ws);
  tracker.close();
  assert.equal(result.ok, true);
  assert.ok(existsSync(path.join(ws, 'a.txt')));
  assert.ok(!existsSync(runnerLockPath(ws)), 'released after the run');

  // Two processes finding the same dead runner: only the one holding `.takeover` removes its lock.
  const dead = `${JSON.stringify({ ...currentProcess(), pid: 2 ** 22 + 12345, procStart: '1', since: 1 })}\n`;
  writeWorkspaceFile(ws, '.runwise/runner.lock', dead);
  writeWorkspaceFile(ws, '.runwise/runner.lock.takeover', '');
  assert.throws(() => acquireRunnerLock(ws), (e: unknown) => e instanceof PipelineBusyError && /another pipeline run is starting in this workspace/.test((e as Error).message));
  assert.equal(readFileSync(runnerLockPath(ws), 'utf8'), dead, 'left to the process taking it over');
  // A guard left behind by a killed process is old: removed, and the next attempt takes the lock.
  const { utimesSync } = await import('node:fs');
  utimesSync(`${runnerLockPath(ws)}.takeover`, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  assert.throws(() => acquireRunnerLock(ws), PipelineBusyError);
  const mine = acquireRunnerLock(ws);
  assert.equal(JSON.parse(readFileSync(runnerLockPath(ws), 'utf8')).pid, process.pid);
  mine();
});

test('a stage found unchanged after its upstream ran still holds back what is below it when its gate fails', async () => {
  const ws = tempWorkspace('run', {
    'score': '0.6',
    'runwise.yaml': `stages:
  prep:
    cmd: echo same > data.txt
    outs: [data.txt]
    always_changed: true
  train:
    cmd: >-
      cat data.txt > model.txt && echo "{\\"accuracy\\": $(cat score)}" > m.json
    deps: [data.txt, score]
    outs: [model.txt]
    metrics:
      - m.json:
          cache: false
  register:
    cmd: cp model.txt registered.txt
    deps: [model.txt]
    outs: [registered.txt]
${TRAIN_ACCURACY_GATE}`,
  });
  const first = await runAll(ws);
  first.tracker.close();
  assert.deepEqual(statusOf(first.result), { prep: 'succeeded', train: 'succeeded', register: 'not-run' });
  // prep runs again (always changed) and writes the same bytes: train is skipped once prep is done,
  // and its failed gate still holds register back.
  await assertRegisterHeld(ws, { prep: 'succeeded', train: 'skipped', register: 'not-run' });
});

test('a gate the tracker cannot answer fails, saying why, and holds back what is below it; the run ends normally', async () => {
  const ws = tempWorkspace('run', {
    'runwise.yaml': `stages:
  score:
    cmd: >-
      echo '{"roc_auc": 0.9}' > m.json && echo x > out.txt
    outs: [out.txt]
    metrics:
      - m.json:
          cache: false
  publish:
    cmd: cp out.txt published.txt
    deps: [out.txt]
    outs: [published.txt]
gates:
  - metric: roc_auc
    stage: score
    op: '>='
    value: champion.roc_auc
    model: churn
`,
  });
  // The registry failing under the gate (a disk error while reading the model).
  const graph = loadPipeline(ws);
  const hashes = new HashCache(ws);
  const tracker = Tracker.open(ws);
  tracker.registry.getRegisteredModel = () => {
    throw new Error('disk I/O error');
  };
  let result: PipelineRunResult;
  try {
    result = await runPipeline({ graph, decisions: planRun(graph, { hashes }), tracker, hashes, jobs: 2 });
  } finally {
    tracker.close();
  }
  assert.equal(result.gates[0]!.passed, false);
  assert.match(result.gates[0]!.message, /^gate 'roc_auc >= champion\.roc_auc' \(runwise\.yaml:\d+\) could not be checked: disk I\/O error$/);
  assert.equal(statusOf(result).publish, 'not-run');
  assert.ok(!existsSync(path.join(ws, 'published.txt')));
});
