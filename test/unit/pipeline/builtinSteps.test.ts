/**
 * Built-in steps in a real pipeline run (a real tracker, lock file and registry): `register` makes a
 * version whose source run is the stage's run, fills its card from the evaluation of the bytes it
 * registers, is skipped by the lock when nothing changed and, forced, reuses the version that holds
 * the same bytes; gates compare with a registry alias (`champion.roc_auc`), pass with a note when
 * the alias points nowhere, and fail with the reason when the model is not named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { PipelineRunEvent, PipelineRunResult } from '../../../core/pipeline/pipelineRun';
import type { Run } from '../../../core/tracker/model';
import { EVALUATION_RUN_TAG, evaluationUnder } from '../../../core/modelCard/cardEvaluation';
import { AliasReferences } from '../../../core/pipeline/gates';
import { MODEL_SHA256_TAG, PARENT_RUN_TAG } from '../../../core/tracker/model';
import { Tracker } from '../../../core/tracker/tracker';
import { dataFileLineageGraph, dataNodeId, runNodeId } from '../../../core/views/lineageGraph';
import { runWorkspacePipeline } from '../../support/pipelineRuns';
import { probabilitiesOnly } from '../evaluation/onnxTestModels';
import { tempWorkspace, writeWorkspaceFile } from '../../support/tempWorkspace';
import { onnxBytes } from '../../support/onnxBytes';

const runAll = (ws: string, force = false): Promise<PipelineRunResult> => runWorkspacePipeline(ws, { force, jobs: 2 });

/** An evaluation run of the model bytes `sha256`, as core/evaluation logs one. */
async function logEvaluation(ws: string, sha256: string, metrics: Record<string, number>): Promise<string> {
  const tracker = Tracker.open(ws);
  try {
    const run = tracker.createRun({ runName: 'evaluate model.onnx', tags: [{ key: MODEL_SHA256_TAG, value: sha256 }] });
    const runId = run.info.runId;
    tracker.logBatch(runId, { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: 1, step: 0 })), params: [{ key: 'task', value: 'binary' }] });
    const report = { task: 'binary', rows: 40, threshold: 0.5, dataset: { path: 'data/test.csv', sha256: 'd'.repeat(64) }, slices: null };
    await tracker.putArtifact(runId, 'evaluation/report.json', Buffer.from(JSON.stringify(report)));
    tracker.updateRun(runId, { status: 'FINISHED' });
    return runId;
  } finally {
    tracker.close();
  }
}

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const CARD = '---\n# owner: the churn team\nlicense: mit\n---\n\n# Churn model\n';

test('register: a version from the stage run, its card filled from the evaluation, no duplicate when nothing changed', async () => {
  const ws = tempWorkspace('register', {
    'runwise.yaml': `stages:
  train:
    cmd: cp model-v1.onnx model.onnx
    outs: [model.onnx]
  publish:
    register:
      model: model.onnx
      name: churn
      card: README.md
      alias: candidate
`,
    'README.md': CARD,
    'model-v1.onnx': onnxBytes('model-v1'),
    'model-v2.onnx': onnxBytes('model-v2'),
  });
  const evalRun = await logEvaluation(ws, sha(onnxBytes('model-v1')), { roc_auc: 0.91, accuracy: 0.84, latency_p50_ms: 3 });

  const first = await runAll(ws);
  const publish = first.stages.find((s) => s.id === 'publish')!;
  assert.equal(publish.status, 'succeeded', publish.message);
  const card = readFileSync(path.join(ws, 'README.md'), 'utf8');
  assert.ok(card.startsWith('---\n# owner: the churn team\nlicense: mit\nmodel-index:\n'), 'the comment and keys stay where they were');
  assert.match(card, /- type: roc_auc\n\s+value: 0\.91\n/);
  assert.match(card, new RegExp(`url: runs:/${evalRun}`));
  assert.doesNotMatch(card, /latency/, 'run statistics stay out of the card');

  let tracker = Tracker.open(ws);
  const v1 = tracker.registry.getModelVersion('churn', 1);
  assert.equal(v1.sha256, sha(onnxBytes('model-v1')));
  assert.equal(v1.runId, publish.runId, "the version's source run is the register stage's run");
  assert.deepEqual(v1.aliases, ['candidate']);
  assert.equal(v1.card?.sha256, sha(card), 'the registry keeps the card as updated');
  tracker.close();

  const again = await runAll(ws);
  assert.equal(again.stages.find((s) => s.id === 'publish')!.status, 'skipped', 'the lock skips an unchanged register step');
  const forced = await runAll(ws, true);
  assert.equal(forced.stages.find((s) => s.id === 'publish')!.status, 'succeeded');
  tracker = Tracker.open(ws);
  const versions = tracker.registry.searchModelVersions({ filter: "name = 'churn'" }).items;
  assert.equal(versions.length, 1, 'forcing the same bytes and card reuses version 1');
  tracker.close();
  const log = readFileSync(forced.stages.find((s) => s.id === 'publish')!.logFile!, 'utf8');
  assert.match(log, /churn version 1 already holds these bytes and this card: no new version/);
  // A description given later goes on the version reused.
  writeWorkspaceFile(ws, 'runwise.yaml', readFileSync(path.join(ws, 'runwise.yaml'), 'utf8').replace('      alias: candidate\n', '      alias: candidate\n      description: first try\n'));
  const described = await runAll(ws, true);
  assert.match(readFileSync(described.stages.find((s) => s.id === 'publish')!.logFile!, 'utf8'), /no new version; @candidate points at it; its description updated/);
  tracker = Tracker.open(ws);
  assert.equal(tracker.registry.getModelVersion('churn', 1).description, 'first try');
  tracker.close();

  // New bytes: a new version.
  writeWorkspaceFile(ws, 'runwise.yaml', readFileSync(path.join(ws, 'runwise.yaml'), 'utf8').replace('model-v1', 'model-v2'));
  const changed = await runAll(ws);
  assert.equal(changed.stages.find((s) => s.id === 'publish')!.status, 'succeeded');
  tracker = Tracker.open(ws);
  assert.equal(tracker.registry.getVersionByAlias('churn', 'candidate').version, '2');
  tracker.close();
  // v2 has no evaluation: v1's numbers leave the card (it is kept with v2 for good), the rest stays.
  const after = readFileSync(path.join(ws, 'README.md'), 'utf8');
  assert.doesNotMatch(after, /roc_auc|Runwise evaluation/);
  assert.ok(after.startsWith('---\n# owner: the churn team\nlicense: mit\nmodel-index:\n'), after);
  assert.ok(after.endsWith('---\n\n# Churn model\n'));
  assert.match(readFileSync(changed.stages.find((s) => s.id === 'publish')!.logFile!, 'utf8'), /README\.md: Runwise's metrics removed: they are of another evaluation, and model\.onnx \(sha256 [0-9a-f]{12}…\) has no finished evaluation/);
  tracker = Tracker.open(ws);
  assert.equal(tracker.registry.getModelVersion('churn', 2).card?.sha256, sha(after), 'the registry keeps the card without them');
  tracker.close();
});

test("register: the card gets the pipeline's evaluation of the bytes, not a later ad-hoc one on other data", async () => {
  const ws = tempWorkspace('register-staged', {
    'runwise.yaml': 'stages:\n  publish:\n    register:\n      model: model.onnx\n      name: churn\n      card: README.md\n',
    'README.md': CARD,
    'model.onnx': onnxBytes('model-v1'),
  });
  const bytes = sha(onnxBytes('model-v1'));
  const staged = await logEvaluation(ws, bytes, { roc_auc: 0.91 });
  // What an evaluate stage's run records (builtinStepRun's evaluateStep): the evaluation it made.
  const tracker = Tracker.open(ws);
  const stage = tracker.createRun({ runName: 'evaluate', tags: [{ key: EVALUATION_RUN_TAG, value: staged }] });
  tracker.updateRun(stage.info.runId, { status: 'FINISHED' });
  tracker.close();
  const adHoc = await logEvaluation(ws, bytes, { roc_auc: 0.55 });
  const result = await runAll(ws);
  const publish = result.stages.find((s) => s.id === 'publish')!;
  assert.equal(publish.status, 'succeeded', publish.message);
  const card = readFileSync(path.join(ws, 'README.md'), 'utf8');
  assert.match(card, /value: 0\.91\n/);
  assert.match(card, new RegExp(`url: runs:/${staged}`));
  assert.doesNotMatch(card, new RegExp(adHoc));
  assert.match(readFileSync(publish.logFile!, 'utf8'), new RegExp(`README\\.md: updated with evaluation run ${staged} \\(the pipeline's, on data/test\\.csv, threshold 0\\.5\\)`));
});

test('register: a missing model file fails the step with the setting and the pipeline line', async () => {
  const ws = tempWorkspace('register-missing', {
    'runwise.yaml': 'stages:\n  publish:\n    register:\n      model: missing.onnx\n      name: churn\n',
  });
  const result = await runAll(ws);
  const publish = result.stages.find((s) => s.id === 'publish')!;
  assert.equal(publish.status, 'failed');
  assert.match(publish.message ?? '', /missing/);
});

test('register: a card whose YAML does not parse fails the step, as the CLI refuses it, and no version is made', async () => {
  const ws = tempWorkspace('register-bad-card', {
    'runwise.yaml': 'stages:\n  publish:\n    register:\n      model: model.onnx\n      name: churn\n      card: churn.modelcard.yaml\n',
    'model.onnx': onnxBytes('onnx-bytes'),
    'churn.modelcard.yaml': 'model_details:\n  name: churn\n  owners: [a\n',
  });
  const result = await runAll(ws);
  const publish = result.stages.find((s) => s.id === 'publish')!;
  assert.equal(publish.status, 'failed');
  assert.match(publish.message ?? '', /register\.card: churn\.modelcard\.yaml:\d+:\d+: the card's YAML does not parse/);
  const tracker = Tracker.open(ws);
  try {
    assert.throws(() => tracker.registry.getRegisteredModel('churn'));
  } finally {
    tracker.close();
  }
});

test('gates against an alias: compare with the champion, pass when there is none, fail without a model', async () => {
  const ws = tempWorkspace('alias-gate', {
    'runwise.yaml': `stages:
  score:
    cmd: "printf '{\\"roc_auc\\": 0.85}' > metrics.json"
    metrics: [metrics.json]
gates:
  - metric: roc_auc
    op: '>='
    value: champion.roc_auc
    model: churn
`,
    'champion.onnx': onnxBytes('champion-bytes'),
  });
  // No model registered yet: the gate passes and says why.
  let result = await runAll(ws);
  assert.equal(result.gates.length, 1);
  assert.equal(result.gates[0]!.passed, true);
  assert.match(result.gates[0]!.message, /'churn' is not registered yet, so there is no champion to compare with/);

  let tracker = Tracker.open(ws);
  await tracker.registerModelFiles('churn', path.join(ws, 'champion.onnx'));
  tracker.close();
  result = await runAll(ws, true);
  assert.match(result.gates[0]!.message, /no version of 'churn' is 'champion' yet/);
  assert.equal(result.gates[0]!.passed, true);

  tracker = Tracker.open(ws);
  tracker.registry.setAlias('churn', 'champion', 1);
  tracker.close();
  result = await runAll(ws, true);
  assert.equal(result.gates[0]!.passed, false, 'a champion that was never evaluated leaves nothing to compare with: the gate fails');
  assert.match(result.gates[0]!.message, /churn@champion \(version 1\) has no finished evaluation to read roc_auc from/);

  await logEvaluation(ws, sha(onnxBytes('champion-bytes')), { roc_auc: 0.8 });
  result = await runAll(ws, true);
  assert.equal(result.gates[0]!.passed, true, result.gates[0]!.message);
  assert.equal(result.gates[0]!.expected, 0.8);
  await logEvaluation(ws, sha(onnxBytes('champion-bytes')), { roc_auc: 0.9 });
  result = await runAll(ws, true);
  assert.equal(result.gates[0]!.passed, false, 'the latest evaluation of the champion counts');
  assert.match(result.gates[0]!.message, /roc_auc is 0\.85 .*champion\.roc_auc is 0\.9/);

  // Without `model:` and without a register step, the gate cannot know the model: the pipeline's
  // check says so before anything runs (and the runner's gate would fail saying the same).
  writeWorkspaceFile(ws, 'runwise.yaml', readFileSync(path.join(ws, 'runwise.yaml'), 'utf8').replace('    model: churn\n', ''));
  await assert.rejects(runAll(ws, true), (e: Error & { diagnostics?: { message: string }[] }) =>
    e.message === '1 error in runwise.yaml' && /'champion\.roc_auc' reads a registered model's alias, but this file registers no model: add `model: NAME` to the gate/.test(e.diagnostics?.[0]?.message ?? ''),
  );
  const gate = { file: 'runwise.yaml', line: 6, metric: 'roc_auc', op: '>=' as const, value: 'champion.roc_auc' };
  tracker = Tracker.open(ws);
  try {
    assert.deepEqual(new AliasReferences(tracker, new Map()).modelOf(gate), {
      missing: 'an alias reference needs the registered model: add `model: NAME` to the gate (or a `register` step to its pipeline file)',
    });
  } finally {
    tracker.close();
  }
});

test('lineage: a file a stage wrote and an evaluate step read is one data node, between the two runs', async () => {
  const csv = ['a,b,y', '0.1,0.2,0', '0.9,0.8,1', '0.2,0.1,0', '0.7,0.9,1', ''].join('\n');
  const ws = tempWorkspace('eval-lineage', {
    'runwise.yaml': `stages:
  split:
    cmd: cp all.csv test.csv
    deps: [all.csv]
    outs: [test.csv]
  check:
    evaluate:
      model: model.onnx
      data: test.csv
      target: y
`,
    'all.csv': csv,
  });
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [1, 1, -1, -1], bias: [0, 0], features: 2, classes: 2 }));
  const result = await runAll(ws);
  assert.ok(result.stages.every((s) => s.status === 'succeeded'), JSON.stringify(result.stages.map((s) => [s.id, s.status, s.message])));
  const tracker = Tracker.open(ws);
  try {
    const g = dataFileLineageGraph(tracker, 'test.csv');
    const md5 = createHash('md5').update(csv).digest('hex');
    const dataNodes = g.nodes.filter((n) => n.id.startsWith('data:test.csv@'));
    assert.deepEqual(
      dataNodes.map((n) => n.id),
      [dataNodeId('test.csv', md5)],
      'one node for test.csv, by the md5 the runner and the evaluation both record',
    );
    const split = result.stages.find((s) => s.id === 'split')!.runId!;
    const linked = (from: string, to: string) => g.edges.some((e) => e.from === from && e.to === to);
    assert.ok(linked(runNodeId(split), dataNodeId('test.csv', md5)), 'split wrote it');
    const readers = g.edges.filter((e) => e.from === dataNodeId('test.csv', md5)).map((e) => e.to);
    assert.ok(readers.length >= 1, 'something read it');
    const evaluation = tracker.searchRuns({ filter: "tags.`runwise.evaluation.task` = 'binary'", maxResults: 10 }).items;
    assert.equal(evaluation.length, 1);
    // The evaluation's own run is a child of the evaluate stage's run, in the pipeline run's tree.
    assert.equal(evaluation[0]!.info.parentRunId, result.stages.find((s) => s.id === 'check')!.runId);
    assert.ok(readers.includes(runNodeId(evaluation[0]!.info.runId)) || readers.includes(runNodeId(result.stages.find((s) => s.id === 'check')!.runId!)), `the evaluation reads that node: ${readers.join(', ')}`);
  } finally {
    tracker.close();
  }
});

test("evaluate: task 'classification' (the schema takes it) infers binary or multiclass; slice_by with two columns is refused, not cut to one", async () => {
  const csv = ['a,b,g,y', '0.1,0.2,x,0', '0.9,0.8,y,1', '0.2,0.1,x,0', '0.7,0.9,y,1', ''].join('\n');
  const pipeline = (settings: string) => `stages:\n  check:\n    evaluate:\n      model: model.onnx\n      data: test.csv\n      target: y\n${settings}`;
  const ws = tempWorkspace('eval-task', { 'runwise.yaml': pipeline('      task: classification\n      features: [a, b]\n'), 'test.csv': csv });
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [1, 1, -1, -1], bias: [0, 0], features: 2, classes: 2 }));
  const ok = await runAll(ws);
  assert.deepEqual(ok.stages.map((s) => s.status), ['succeeded'], JSON.stringify(ok.stages.map((s) => s.message)));
  // Two columns: the pipeline's check refuses them before anything runs (the step would too).
  writeFileSync(path.join(ws, 'runwise.yaml'), pipeline('      features: [a, b]\n      slice_by: [g, a]\n'));
  await assert.rejects(runAll(ws), (e: Error & { diagnostics?: { message: string }[] }) => /slice_by takes one column \(got 2\)/.test(e.diagnostics?.[0]?.message ?? ''));
  // One, as a string or a list of one.
  for (const slice of ['g', '[g]']) {
    writeFileSync(path.join(ws, 'runwise.yaml'), pipeline(`      features: [a, b]\n      slice_by: ${slice}\n`));
    const one = await runAll(ws);
    assert.deepEqual(one.stages.map((s) => s.status), ['succeeded'], JSON.stringify(one.stages.map((s) => s.message)));
  }
  // features from params: a list keeps its type; a mapping fails the step rather than feeding every column.
  writeFileSync(path.join(ws, 'params.yaml'), 'cols: [a, b]\nbad: {a: 1}\n');
  writeFileSync(path.join(ws, 'runwise.yaml'), pipeline('      features: ${cols}\n'));
  const fromParams = await runAll(ws);
  assert.deepEqual(fromParams.stages.map((s) => s.status), ['succeeded'], JSON.stringify(fromParams.stages.map((s) => s.message)));
  writeFileSync(path.join(ws, 'runwise.yaml'), pipeline('      features: ${bad}\n'));
  const mapping = await runAll(ws).catch((e: Error & { diagnostics?: { message: string }[] }) => e);
  const said = mapping instanceof Error ? (mapping.diagnostics ?? []).map((d) => d.message).join('; ') : mapping.stages.map((s) => `${s.status}: ${s.message}`).join('; ');
  assert.match(said, /features/, said);
  assert.ok(mapping instanceof Error || mapping.stages[0]!.status === 'failed', said);
});

test("evaluate: metrics: picks what the stage's run logs (its gates read those); one the task does not give fails the stage, naming it", async () => {
  const csv = ['a,b,y', '0.1,0.2,0', '0.9,0.8,1', '0.2,0.1,0', '0.7,0.9,1', ''].join('\n');
  const pipeline = (metrics: string) => `stages:\n  check:\n    evaluate:\n      model: model.onnx\n      data: test.csv\n      target: y\n      metrics: ${metrics}\n`;
  const ws = tempWorkspace('eval-metrics', { 'runwise.yaml': pipeline('[accuracy, roc_auc]'), 'test.csv': csv });
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [1, 1, -1, -1], bias: [0, 0], features: 2, classes: 2 }));
  const ok = await runAll(ws);
  assert.deepEqual(ok.stages.map((s) => s.status), ['succeeded'], JSON.stringify(ok.stages.map((s) => s.message)));
  const tracker = Tracker.open(ws);
  try {
    const stageRun = tracker.getRun(ok.stages[0]!.runId!);
    assert.deepEqual(stageRun.metrics.map((m) => m.key).sort(), ['accuracy', 'roc_auc']);
    const evaluation = tracker.getRun(evaluationUnder(tracker, stageRun.info.runId)!);
    assert.ok(evaluation.metrics.some((m) => m.key === 'log_loss'), "the evaluation's own run keeps every metric");
  } finally {
    tracker.close();
  }
  writeFileSync(path.join(ws, 'runwise.yaml'), pipeline('[accuracy, f1_macro]'));
  const bad = await runAll(ws);
  assert.equal(bad.stages[0]!.status, 'failed');
  assert.match(bad.stages[0]!.message ?? '', /evaluate\.metrics lists 'f1_macro', which a binary evaluation does not give \(it gives accuracy, precision, recall, f1, roc_auc, average_precision, log_loss\)/);
});

test("an alias reference reads the champion's evaluation measured as the stage's was, before a newer one on other data", async () => {
  const ws = tempWorkspace('alias-like', { 'champion.onnx': onnxBytes('champion-bytes') });
  const tracker = Tracker.open(ws);
  try {
    await tracker.registerModelFiles('churn', path.join(ws, 'champion.onnx'));
    tracker.registry.setAlias('churn', 'champion', 1);
    let clock = 1000;
    const evaluation = (model: string, digest: string, roc: number, parent?: string) => {
      const tags = [{ key: MODEL_SHA256_TAG, value: model }, ...(parent ? [{ key: PARENT_RUN_TAG, value: parent }] : [])];
      const run = tracker.createRun({ runName: 'evaluate', startTime: (clock += 10), tags });
      tracker.logInputs(run.info.runId, [{ dataset: { name: 'test', digest, sourceType: 'local', source: 'data/test.csv' }, tags: [{ key: 'mlflow.data.context', value: 'evaluation' }] }]);
      tracker.logBatch(run.info.runId, { params: [{ key: 'target', value: 'churned' }, { key: 'task', value: 'binary' }], metrics: [{ key: 'roc_auc', value: roc, timestamp: 1, step: 0 }] });
      tracker.updateRun(run.info.runId, { status: 'FINISHED' });
      return run.info.runId;
    };
    const first = evaluation(sha(onnxBytes('champion-bytes')), 'd1', 0.8);
    const latest = evaluation(sha(onnxBytes('champion-bytes')), 'd2', 0.95); // newer, on other data (an ad-hoc evaluation)
    // The pipeline's evaluate stage run and the evaluation under it, of the candidate, on d1.
    const stageRun = tracker.createRun({ runName: 'evaluate' }).info.runId;
    const candidate = evaluation('c'.repeat(64), 'd1', 0.85, stageRun);
    assert.equal(evaluationUnder(tracker, stageRun), candidate);
    const refs = new AliasReferences(tracker, new Map());
    const rule = { file: 'runwise.yaml', line: 1, metric: 'roc_auc', op: '>=' as const, value: 'champion.roc_auc', model: 'churn' };
    assert.deepEqual(refs.reference('champion', 'roc_auc', rule, candidate), { value: 0.8, from: `version 1, evaluation run ${first.slice(0, 8)} on data/test.csv` }, 'on the same data');
    assert.deepEqual(refs.reference('champion', 'roc_auc', rule), { value: 0.95, from: `version 1, evaluation run ${latest.slice(0, 8)} on data/test.csv` }, 'no evaluation of the gate side: the latest, named');
    // The champion never measured on the candidate's data (and not evaluated so by `prepare`): no
    // number from other data stands in for it.
    const elsewhere = evaluation('e'.repeat(64), 'd3', 0.7, stageRun);
    assert.deepEqual(refs.reference('champion', 'roc_auc', rule, elsewhere), { missing: `churn@champion (version 1) has no evaluation on the data the stage evaluated (evaluation run ${elsewhere}) to compare with` });
  } finally {
    tracker.close();
  }
});

/** Evaluate model.onnx on test.csv, gate its roc_auc against churn@champion, then register it as the champion. */
const EVALUATE_GATE_REGISTER = `stages:
  check:
    evaluate:
      model: model.onnx
      data: test.csv
      target: y
      output: evaluation.json
  publish:
    deps: [evaluation.json]
    register:
      model: model.onnx
      name: churn
      alias: champion
gates:
  - metric: roc_auc
    stage: check
    op: '>='
    value: champion.roc_auc
`;

test("a champion never evaluated on the stage's data is evaluated on it from the registry's copy, as MLflow evaluates a baseline model", async () => {
  // 40 rows where the candidate (a + b) ranks better than the champion (a alone); other.csv differs.
  const rows = (seed: number) => {
    const out = ['a,b,y'];
    for (let i = 0; i < 40; i++) {
      const a = ((i * 7 + seed) % 11) / 10;
      const b = ((i * 5 + seed * 3) % 13) / 12;
      out.push(`${a},${b},${a + b > 1 ? 1 : 0}`);
    }
    return `${out.join('\n')}\n`;
  };
  const ws = tempWorkspace('baseline', {
    'runwise.yaml': EVALUATE_GATE_REGISTER,
    'test.csv': rows(1),
    'other.csv': rows(5),
  });
  const candidate = probabilitiesOnly({ weights: [-1, 1, -1, 1], bias: [0, 0], features: 2, classes: 2 });
  const champion = probabilitiesOnly({ weights: [-1, 1, 0, 0], bias: [0, 0], features: 2, classes: 2 });
  writeFileSync(path.join(ws, 'model.onnx'), candidate);
  writeFileSync(path.join(ws, 'champion.onnx'), champion);
  const { evaluateModel } = await import('../../../core/evaluation/evaluate');
  const onTest = (await evaluateModel({ model: path.join(ws, 'champion.onnx'), data: path.join(ws, 'test.csv'), target: 'y', workspace: ws })).metrics.roc_auc!;
  let tracker = Tracker.open(ws);
  try {
    await tracker.registerModelFiles('churn', path.join(ws, 'champion.onnx'));
    tracker.registry.setAlias('churn', 'champion', 1);
    // The champion's only evaluation is on other data.
    await evaluateModel({ model: path.join(ws, 'champion.onnx'), data: path.join(ws, 'other.csv'), target: 'y', workspace: ws, tracker });
  } finally {
    tracker.close();
  }
  const result = await runAll(ws);
  const gate = result.gates[0]!;
  assert.equal(gate.expected, onTest, `the champion's roc_auc on test.csv: ${gate.message}`);
  assert.match(gate.message, /champion\.roc_auc is [\d.]+ \(version 1, evaluation run [0-9a-f]{8} on test\.csv\)/);
  assert.equal(gate.passed, true, gate.message);
  tracker = Tracker.open(ws);
  try {
    const baseline = tracker.searchRuns({ filter: "params.model = 'models:/churn/1'", maxResults: 10 }).items;
    assert.equal(baseline.length, 1, 'one evaluation of the champion from the registry');
    assert.equal(baseline[0]!.info.runName, 'evaluate models:/churn/1 on test.csv');
    assert.equal(baseline[0]!.info.parentRunId, result.runId, 'under the pipeline run');
    assert.ok(baseline[0]!.tags.some((t) => t.key === MODEL_SHA256_TAG && t.value === sha(Buffer.from(champion))), "tagged with the version's sha256");
  } finally {
    tracker.close();
  }
  // The gate passed and the candidate became the champion (version 2): the next run compares with
  // its evaluation on test.csv by the evaluate step, and evaluates nothing from the registry.
  const again = await runAll(ws, true);
  assert.match(again.gates[0]!.message, /champion\.roc_auc is 1 \(version 2, evaluation run [0-9a-f]{8} on test\.csv\)/);
  tracker = Tracker.open(ws);
  try {
    assert.equal(tracker.searchRuns({ filter: "params.model = 'models:/churn/1'", maxResults: 10 }).items.length, 1);
  } finally {
    tracker.close();
  }
});

test('a champion that cannot be evaluated on the stage\'s data fails the gate, saying why, and nothing is registered', async () => {
  const ws = tempWorkspace('baseline-fails', {
    'runwise.yaml': EVALUATE_GATE_REGISTER,
    'test.csv': 'a,b,y\n0.1,0.2,0\n0.9,0.8,1\n0.2,0.1,0\n0.7,0.9,1\n',
  });
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [-1, 1, -1, 1], bias: [0, 0], features: 2, classes: 2 }));
  // A champion that takes three features: it cannot read test.csv's two.
  writeFileSync(path.join(ws, 'champion.onnx'), probabilitiesOnly({ weights: [-1, 1, -1, 1, 0, 0], bias: [0, 0], features: 3, classes: 2 }));
  let tracker = Tracker.open(ws);
  try {
    await tracker.registerModelFiles('churn', path.join(ws, 'champion.onnx'));
    tracker.registry.setAlias('churn', 'champion', 1);
  } finally {
    tracker.close();
  }
  const result = await runAll(ws);
  assert.equal(result.gates[0]!.passed, false);
  assert.match(result.gates[0]!.message, /churn@champion \(version 1\) could not be evaluated on the data the stage evaluated, to compare with: .*takes 3 features per row, but 2 columns would feed it \(a, b\): the champion does not take the inputs the candidate was evaluated on, so the two cannot be compared on them$/);
  assert.doesNotMatch(result.gates[0]!.message, /--features/, 'no advice that would change what the candidate is fed');
  assert.equal(result.stages.find((s) => s.id === 'publish')!.status, 'not-run');
  tracker = Tracker.open(ws);
  try {
    assert.equal(tracker.registry.searchModelVersions({ filter: "name = 'churn'" }).items.length, 1, 'no version registered');
  } finally {
    tracker.close();
  }
});

test('cancelling a run stops a built-in evaluation between batches: the stage cancelled, its evaluation run KILLED, no lock entry', async () => {
  const lines = ['a,b,y'];
  for (let i = 0; i < 20000; i++) lines.push(`${(i % 10) / 10},${(i % 7) / 7},${i % 2}`);
  const ws = tempWorkspace('eval-cancel', {
    'runwise.yaml': 'stages:\n  check:\n    evaluate:\n      model: model.onnx\n      data: test.csv\n      target: y\n      batch_size: 1\n',
    'test.csv': `${lines.join('\n')}\n`,
  });
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [1, 1, -1, -1], bias: [0, 0], features: 2, classes: 2 }));
  const { HashCache } = await import('../../../core/pipeline/hashCache');
  const { loadPipeline } = await import('../../../core/pipeline/loadPipeline');
  const { planRun } = await import('../../../core/pipeline/stageStatus');
  const { runPipeline } = await import('../../../core/pipeline/pipelineRun');
  const graph = loadPipeline(ws, { cache: false });
  const hashes = new HashCache(ws);
  const tracker = Tracker.open(ws);
  const controller = new AbortController();
  // Cancelled once the evaluation's run is seen RUNNING (from another connection): mid-evaluation.
  const watcher = Tracker.open(ws);
  const poll = setInterval(() => {
    if (watcher.searchRuns({ filter: "attributes.run_name = 'evaluate model.onnx on test.csv' and attributes.status = 'RUNNING'", maxResults: 1 }).items.length > 0) controller.abort();
  }, 20);
  try {
    const result = await runPipeline({
      graph,
      decisions: planRun(graph, { hashes }),
      tracker,
      hashes,
      jobs: 1,
      signal: controller.signal,
    });
    assert.equal(result.cancelled, true);
    assert.equal(result.stages[0]!.status, 'cancelled', JSON.stringify(result.stages[0]));
    const evaluation = tracker.searchRuns({ filter: "tags.`runwise.evaluation.task` = 'binary'", maxResults: 5 }).items;
    assert.equal(evaluation.length, 1);
    assert.equal(evaluation[0]!.info.status, 'KILLED', 'stopped, not run to its end');
    assert.ok(!readFileSync(path.join(ws, 'runwise.lock'), { encoding: 'utf8', flag: 'a+' }).includes('check'), 'no lock entry for the cancelled stage');
  } finally {
    clearInterval(poll);
    watcher.close();
    tracker.close();
  }
});

test("register: a model linked into DVC's symlink cache is registered by the pipeline's step, its source the link's path", async () => {
  const ws = tempWorkspace('register-link', {
    'runwise.yaml': 'stages:\n  publish:\n    register:\n      model: models/model.onnx\n      name: churn\n      card: README.md\n',
    'README.md': CARD,
    '.dvc/cache/files/md5/25/588f0c1e2a3b4c5d6e7f8091a2b3c4d': onnxBytes('dvc-cached'),
  });
  const { mkdirSync, symlinkSync } = await import('node:fs');
  mkdirSync(path.join(ws, 'models'));
  symlinkSync('../.dvc/cache/files/md5/25/588f0c1e2a3b4c5d6e7f8091a2b3c4d', path.join(ws, 'models', 'model.onnx'));
  const result = await runAll(ws);
  assert.equal(result.stages[0]!.status, 'succeeded', result.stages[0]!.message);
  const tracker = Tracker.open(ws);
  try {
    const v = tracker.registry.getModelVersion('churn', 1);
    assert.equal(v.source, 'models/model.onnx');
    assert.equal(v.sha256, sha(onnxBytes('dvc-cached')));
  } finally {
    tracker.close();
  }
});

/**
 * A workspace whose `runwise.yaml` is `pipeline`, with a test.csv of 20,000 rows evaluated one row a
 * batch (long enough to act while the champion is measured), a candidate model.onnx that ranks them
 * worse than the registered churn@champion (version 1, never evaluated).
 */
async function slowChampionWorkspace(name: string, pipeline: string): Promise<string> {
  const lines = ['a,b,y'];
  for (let i = 0; i < 20000; i++) lines.push(`${(i % 10) / 10},${(i % 7) / 7},${i % 3 === 0 ? 1 : 0}`);
  const ws = tempWorkspace(name, { 'runwise.yaml': pipeline, 'test.csv': `${lines.join('\n')}\n` });
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [1, -1, 1, -1], bias: [0, 0], features: 2, classes: 2 }));
  writeFileSync(path.join(ws, 'champion.onnx'), probabilitiesOnly({ weights: [-1, 1, -1, 1], bias: [0, 0], features: 2, classes: 2 }));
  const tracker = Tracker.open(ws);
  try {
    await tracker.registerModelFiles('churn', path.join(ws, 'champion.onnx'));
    tracker.registry.setAlias('churn', 'champion', 1);
  } finally {
    tracker.close();
  }
  return ws;
}

/**
 * Runs the workspace's pipeline in process while `whileMeasured` is called (every 20 ms) with the
 * champion's evaluation run as another connection sees it; then `check` with the result and tracker.
 */
async function runWatchingChampion(
  ws: string,
  options: { jobs: number; signal?: AbortSignal; onEvent?: (e: PipelineRunEvent) => void },
  whileMeasured: (run: Run | undefined) => void,
  check: (result: PipelineRunResult, tracker: Tracker, run: () => Run | undefined) => void,
): Promise<void> {
  const { HashCache } = await import('../../../core/pipeline/hashCache');
  const { loadPipeline } = await import('../../../core/pipeline/loadPipeline');
  const { planRun } = await import('../../../core/pipeline/stageStatus');
  const { runPipeline } = await import('../../../core/pipeline/pipelineRun');
  const graph = loadPipeline(ws, { cache: false });
  const hashes = new HashCache(ws);
  const tracker = Tracker.open(ws);
  const watcher = Tracker.open(ws);
  const champion = () => watcher.searchRuns({ filter: "attributes.run_name = 'evaluate models:/churn/1 on test.csv'", maxResults: 1 }).items[0];
  const poll = setInterval(() => whileMeasured(champion()), 20);
  try {
    const result = await runPipeline({ graph, decisions: planRun(graph, { hashes }), tracker, hashes, ...options });
    check(result, tracker, champion);
  } finally {
    clearInterval(poll);
    watcher.close();
    tracker.close();
  }
}

test('a stage below an evaluate stage waits for its gate while the champion is measured, even when another stage ends meanwhile', async () => {
  const ws = await slowChampionWorkspace(
    'gate-wait',
    `stages:
  check:
    evaluate:
      model: model.onnx
      data: test.csv
      target: y
      batch_size: 1
      output: evaluation.json
  side:
    cmd: while [ ! -f go ]; do sleep 0.05; done; touch side.txt
    outs: [side.txt]
  publish:
    deps: [evaluation.json, side.txt]
    register:
      model: model.onnx
      name: churn
      alias: champion
gates:
  - metric: roc_auc
    stage: check
    op: '>='
    value: champion.roc_auc
`,
  );
  const events: string[] = [];
  await runWatchingChampion(
    ws,
    {
      jobs: 2,
      onEvent: (e) => {
        if (e.type === 'gate') events.push('gate');
        if (e.type === 'stage-end') events.push(`end ${e.stage}`);
        if (e.type === 'stage-start') events.push(`start ${e.stage}`);
      },
    },
    // 'side' ends while the champion is being evaluated.
    (run) => {
      if (run?.info.status === 'RUNNING') writeFileSync(path.join(ws, 'go'), '');
    },
    (result, tracker) => {
      assert.ok(events.indexOf('end side') < events.indexOf('gate'), `side ended while the gate was pending: ${events.join(', ')}; ${result.gates[0]?.message}`);
      assert.equal(result.gates[0]!.passed, false, result.gates[0]!.message);
      assert.match(result.gates[0]!.message, /champion\.roc_auc is [\d.]+ \(version 1, /);
      assert.equal(result.stages.find((s) => s.id === 'publish')!.status, 'not-run');
      assert.ok(!events.includes('start publish'));
      assert.equal(tracker.registry.searchModelVersions({ filter: "name = 'churn'" }).items.length, 1, 'nothing registered, @champion unmoved');
    },
  );
});

test("cancelling while the champion is measured ends the run cancelled, not with the evaluation's error", async () => {
  const ws = await slowChampionWorkspace(
    'gate-cancel',
    "stages:\n  check:\n    evaluate:\n      model: model.onnx\n      data: test.csv\n      target: y\n      batch_size: 1\ngates:\n  - metric: roc_auc\n    stage: check\n    op: '>='\n    value: champion.roc_auc\n    model: churn\n",
  );
  const controller = new AbortController();
  await runWatchingChampion(
    ws,
    { jobs: 1, signal: controller.signal },
    (run) => {
      if (run?.info.status === 'RUNNING') controller.abort();
    },
    (result, tracker, champion) => {
      assert.equal(result.cancelled, true);
      assert.deepEqual(result.gates, [], 'the gate was not checked');
      assert.equal(champion()!.info.status, 'KILLED');
      assert.equal(tracker.getRunInfo(result.runId!).status, 'KILLED', 'the pipeline run ends KILLED');
    },
  );
});

test('a champion registered as a folder (an MLmodel beside its .onnx) is measured once on the stage\'s data, then found again', async () => {
  const lines = ['a,b,y'];
  for (let i = 0; i < 200; i++) lines.push(`${(i % 10) / 10},${(i % 7) / 7},${i % 3 === 0 ? 1 : 0}`);
  const ws = tempWorkspace('baseline-folder', {
    'runwise.yaml': `stages:\n  check:\n    evaluate:\n      model: model.onnx\n      data: test.csv\n      target: y\ngates:\n  - metric: roc_auc\n    stage: check\n    op: '>='\n    value: champion.roc_auc\n    model: churn\n`,
    'test.csv': `${lines.join('\n')}\n`,
    'champion/MLmodel': 'flavors:\n  onnx: {}\n',
  });
  writeFileSync(path.join(ws, 'model.onnx'), probabilitiesOnly({ weights: [1, -1, 1, -1], bias: [0, 0], features: 2, classes: 2 }));
  writeFileSync(path.join(ws, 'champion', 'model.onnx'), probabilitiesOnly({ weights: [-1, 1, -1, 1], bias: [0, 0], features: 2, classes: 2 }));
  let tracker = Tracker.open(ws);
  let version;
  try {
    version = await tracker.registerModelFiles('churn', path.join(ws, 'champion'), { alias: 'champion' });
  } finally {
    tracker.close();
  }
  const first = await runAll(ws);
  assert.match(first.gates[0]!.message, /champion\.roc_auc is [\d.]+ \(version 1, evaluation run [0-9a-f]{8} on test\.csv\)/);
  const again = await runAll(ws, true);
  assert.equal(again.gates[0]!.expected, first.gates[0]!.expected);
  tracker = Tracker.open(ws);
  try {
    const baseline = tracker.searchRuns({ filter: "attributes.run_name = 'evaluate models:/churn/1 on test.csv'", maxResults: 10 }).items;
    assert.equal(baseline.length, 1, 'measured once, then found by the version\'s hash');
    assert.equal(baseline[0]!.tags.find((t) => t.key === MODEL_SHA256_TAG)!.value, version.sha256);
  } finally {
    tracker.close();
  }
});

test("register: with two evaluate stages, the card gets the evaluation whose report the step depends on", async () => {
  const ws = tempWorkspace('register-depended', {
    'runwise.yaml': 'stages:\n  publish:\n    register:\n      model: model.onnx\n      name: churn\n      card: README.md\n    deps: [evaluation.json]\n',
    'README.md': CARD,
    'model.onnx': onnxBytes('model-v1'),
  });
  const bytes = sha(onnxBytes('model-v1'));
  const onTest = await logEvaluation(ws, bytes, { roc_auc: 0.91 });
  const onLive = await logEvaluation(ws, bytes, { roc_auc: 0.62 });
  // Both made by evaluate stages; the later one is the live data's.
  const tracker = Tracker.open(ws);
  for (const made of [onTest, onLive]) {
    const stage = tracker.createRun({ runName: 'evaluate', tags: [{ key: EVALUATION_RUN_TAG, value: made }] });
    tracker.updateRun(stage.info.runId, { status: 'FINISHED' });
  }
  tracker.close();
  // The report the test-data stage wrote (its `output:`), which the register step waits for.
  writeWorkspaceFile(ws, 'evaluation.json', JSON.stringify({ run_id: onTest, model: { path: 'model.onnx', sha256: bytes }, metrics: { roc_auc: 0.91 } }));
  const result = await runAll(ws);
  const publish = result.stages.find((s) => s.id === 'publish')!;
  assert.equal(publish.status, 'succeeded', publish.message);
  const card = readFileSync(path.join(ws, 'README.md'), 'utf8');
  assert.match(card, /value: 0\.91\n/);
  assert.match(card, new RegExp(`url: runs:/${onTest}`));
});
