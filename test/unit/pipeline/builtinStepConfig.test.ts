/**
 * A built-in step's settings are part of the loaded graph (`builtinConfig`, recorded in the lock as
 * `runwise:register {...}`), and its paths are inputs: changing `register.alias` or
 * `evaluate.threshold` makes that step (and only it) stale in `runwise status`, editing only the
 * card reruns `register`, `evaluate` comes after the stage writing its model, a gate's `model:` is
 * on its rule, and the load cache gives back the same settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../core/cli/main';
import { HashCache } from '../../../core/pipeline/hashCache';
import { lockCommand, stageLockEntry, writeLockEntry } from '../../../core/pipeline/lockFile';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import { runPipeline } from '../../../core/pipeline/pipelineRun';
import { planRun } from '../../../core/pipeline/stageStatus';
import { Tracker } from '../../../core/tracker/tracker';
import { onnxBytes } from '../../support/onnxBytes';
import { tempWorkspace, writeWorkspaceFile } from '../../support/tempWorkspace';

const PIPELINE = `vars:
  - alias: candidate
stages:
  train:
    cmd: cp model-v1.onnx model.onnx
    outs: [model.onnx]
  evaluate:
    evaluate:
      model: model.onnx
      data: test.csv
      target: churned
      threshold: 0.5
  publish:
    register:
      model: model.onnx
      name: churn
      card: README.md
      alias: \${alias}
gates:
  - metric: roc_auc
    op: '>='
    value: champion.roc_auc
    model: churn
`;

function edit(ws: string, from: string, to: string): void {
  const file = path.join(ws, 'runwise.yaml');
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `runwise.yaml holds '${from}'`);
  writeWorkspaceFile(ws, 'runwise.yaml', text.replace(from, to));
}

function staleStages(ws: string): Map<string, string[]> {
  const graph = loadPipeline(ws, { cache: false });
  const decisions = planRun(graph, { hashes: new HashCache(ws) });
  return new Map(decisions.filter((d) => d.action === 'run').map((d) => [d.id, d.reasons.map((r) => r.kind)]));
}

async function status(ws: string): Promise<string> {
  let out = '';
  const code = await main(['status', '--workspace', ws], { out: (t) => (out += t), err: () => undefined });
  assert.ok(code === 0 || code === 1, `status exits 0 or 1, got ${code}`);
  return out;
}

/** Runs every stage but `evaluate` (which needs a real ONNX model), then records `evaluate` in the lock as if it had run. */
async function runOnce(ws: string): Promise<void> {
  const graph = loadPipeline(ws, { cache: false });
  const hashes = new HashCache(ws);
  const decisions = planRun(graph, { hashes }).map((d) => (d.id === 'evaluate' ? { ...d, action: 'skip' as const } : d));
  const tracker = Tracker.open(ws);
  try {
    const result = await runPipeline({ graph, decisions, tracker, hashes, jobs: 1, gates: false });
    for (const s of result.stages) if (s.id !== 'evaluate') assert.equal(s.status, 'succeeded', `${s.id}: ${s.message ?? ''}`);
  } finally {
    tracker.close();
  }
  const evaluate = graph.byId.get('evaluate')!;
  writeLockEntry(graph, evaluate, stageLockEntry(graph, evaluate, hashes));
  hashes.save();
}

test('the graph carries each built-in step its settings, substituted, and a gate its model', () => {
  const ws = tempWorkspace('builtin-config', { 'runwise.yaml': PIPELINE, 'model-v1.onnx': onnxBytes('model-v1'), 'README.md': '# Churn\n', 'test.csv': 'x,churned\n1,0\n' });
  const graph = loadPipeline(ws, { cache: false });
  assert.deepEqual(graph.byId.get('publish')!.builtinConfig, { model: 'model.onnx', name: 'churn', card: 'README.md', alias: 'candidate' });
  assert.deepEqual(graph.byId.get('evaluate')!.builtinConfig, { model: 'model.onnx', data: 'test.csv', target: 'churned', threshold: 0.5 });
  assert.equal(lockCommand(graph.byId.get('publish')!), 'runwise:register {"model":"model.onnx","name":"churn","card":"README.md","alias":"candidate"}');
  assert.equal(graph.gates[0]!.model, 'churn');
  assert.equal(graph.byId.get('train')!.builtinConfig, undefined);

  // Inputs: the card is one of register's, the model and data evaluate's, so both come after train.
  assert.deepEqual(graph.byId.get('publish')!.deps, ['model.onnx', 'README.md']);
  assert.deepEqual(graph.byId.get('evaluate')!.deps, ['model.onnx', 'test.csv']);
  assert.deepEqual(graph.upstream('evaluate'), ['train']);
  assert.deepEqual(graph.upstream('publish'), ['train']);
  const order = graph.stages.map((s) => s.id);
  assert.ok(order.indexOf('evaluate') > order.indexOf('train'), 'evaluate runs after train');

  // The load cache records and gives back the same settings.
  const first = loadPipeline(ws, { cache: true });
  const cached = loadPipeline(ws, { cache: true });
  assert.deepEqual(cached.byId.get('publish')!.builtinConfig, first.byId.get('publish')!.builtinConfig);
  assert.deepEqual(cached.byId.get('evaluate')!.builtinConfig, { model: 'model.onnx', data: 'test.csv', target: 'churned', threshold: 0.5 });
  assert.equal(cached.gates[0]!.model, 'churn');
});

test('changing register.alias, evaluate.threshold or only the card makes that step stale, nothing else', async () => {
  const ws = tempWorkspace('builtin-stale', { 'runwise.yaml': PIPELINE, 'model-v1.onnx': onnxBytes('model-v1'), 'README.md': '# Churn\n', 'test.csv': 'x,churned\n1,0\n' });
  await runOnce(ws);
  assert.deepEqual([...staleStages(ws)], [], 'everything is up to date after the run');
  assert.match(await status(ws), /^publish\s+skip\s+up to date$/m);

  edit(ws, 'alias: candidate', 'alias: champion');
  assert.deepEqual([...staleStages(ws)], [['publish', ['cmd-changed']]]);
  const shown = await status(ws);
  assert.match(shown, /^publish\s+run\s+command changed$/m);
  assert.match(shown, /^train\s+skip\s+up to date$/m);
  edit(ws, 'alias: champion', 'alias: candidate');
  assert.deepEqual([...staleStages(ws)], [], 'back to the recorded alias: up to date again');

  edit(ws, 'threshold: 0.5', 'threshold: 0.7');
  assert.deepEqual([...staleStages(ws)], [['evaluate', ['cmd-changed']]]);
  edit(ws, 'threshold: 0.7', 'threshold: 0.5');

  writeWorkspaceFile(ws, 'README.md', '# Churn\n\nOwned by the churn team.\n');
  const stale = staleStages(ws);
  assert.deepEqual([...stale.keys()], ['publish']);
  assert.deepEqual(stale.get('publish'), ['dep-changed']);
});

test('a setting that is exactly one ${...} keeps the type of what it names, as DVC keeps it: a number, a list', () => {
  const ws = tempWorkspace('builtin-config-typed', {
    'params.yaml': 'evaluate:\n  threshold: 0.4\n  features: [a, b]\n  name: churn\n',
    'runwise.yaml': 'stages:\n  evaluate:\n    evaluate:\n      model: model.onnx\n      data: test.csv\n      target: churned\n      threshold: ${evaluate.threshold}\n      features: ${evaluate.features}\n      slice_by: region-${evaluate.name}\n',
    'model.onnx': onnxBytes('m'),
    'test.csv': 'a,b,churned\n1,2,0\n',
  });
  const graph = loadPipeline(ws, { cache: false });
  assert.deepEqual(graph.byId.get('evaluate')!.builtinConfig, { model: 'model.onnx', data: 'test.csv', target: 'churned', threshold: 0.4, features: ['a', 'b'], slice_by: 'region-churn' });
});
