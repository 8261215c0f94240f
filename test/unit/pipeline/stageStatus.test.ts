/**
 * planRun decides as `dvc repro` does; each ChangeReason is produced by the change it names, and
 * a workspace matching its lock (DVC's own dvc.lock included) runs nothing. Also targets,
 * --downstream, --force, frozen stages, and the `runwise status` / `runwise dag` commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../core/cli/main';
import { HashCache } from '../../../core/pipeline/hashCache';
import { stageLockEntry, writeLockEntry } from '../../../core/pipeline/lockFile';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import type { ChangeReason, PipelineGraph } from '../../../core/pipeline/pipelineModel';
import { describeReason, planRun, StageTargetError } from '../../../core/pipeline/stageStatus';
import { tempWorkspace } from '../../support/tempWorkspace';

const FIXTURE = path.join(__dirname, '../../fixtures/pipeline/dvc-workspace');

function write(ws: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  writeFileSync(path.join(ws, rel), text);
}

const PIPELINE = [
  'stages:',
  '  prepare:',
  '    cmd: python prep.py',
  '    deps: [raw.csv, prep.py]',
  '    params: [prep.ratio]',
  '    outs: [data]',
  '  train:',
  '    cmd: python train.py',
  '    deps: [data]',
  '    outs: [model.bin]',
  '  report:',
  '    cmd: python report.py',
  '    deps: [model.bin]',
  '    metrics:',
  '      - metrics.json:',
  '          cache: false',
  '',
].join('\n');

/** A workspace whose three stages have all run (their lock entries written). */
function ranWorkspace(pipeline = PIPELINE): string {
  const ws = tempWorkspace('status');
  write(ws, 'dvc.yaml', pipeline);
  write(ws, 'params.yaml', 'prep:\n  ratio: 0.5\nother: 1\n');
  write(ws, 'raw.csv', 'a\n1\n');
  write(ws, 'prep.py', 'print(1)\n');
  write(ws, 'data/part.csv', 'a\n1\n');
  write(ws, 'model.bin', 'model');
  write(ws, 'metrics.json', '{"acc": 1}');
  const g = loadPipeline(ws);
  const hashes = new HashCache(ws);
  for (const s of g.stages) writeLockEntry(g, s, stageLockEntry(g, s, hashes));
  return ws;
}

function plan(ws: string, options: Partial<Parameters<typeof planRun>[1]> = {}): { graph: PipelineGraph; by: Map<string, { action: string; reasons: ChangeReason[] }> } {
  const graph = loadPipeline(ws);
  const decisions = planRun(graph, { hashes: new HashCache(ws), ...options });
  return { graph, by: new Map(decisions.map((d) => [d.id, d])) };
}

test('a workspace that matches its lock runs nothing', () => {
  const { by } = plan(ranWorkspace());
  assert.deepEqual([...by.values()].map((d) => d.action), ['skip', 'skip', 'skip']);
});

test("a workspace matching DVC's dvc.lock (DVC 2 and DVC 3 entries) runs nothing; a change in it is seen", () => {
  const ws = tempWorkspace('status');
  cpSync(FIXTURE, ws, { recursive: true });
  assert.deepEqual([...plan(ws).by.values()].map((d) => d.action), ['skip', 'skip']);
  write(ws, 'data/prepared/test.csv', 'a,b\n5,6\n');
  const { by } = plan(ws);
  assert.deepEqual(by.get('prepare')!.reasons, [{ kind: 'out-changed', path: 'data/prepared' }]);
  assert.deepEqual(by.get('train')!.reasons, [
    { kind: 'upstream', stage: 'prepare' },
    { kind: 'dep-changed', path: 'data/prepared' },
  ]);
});

test('every reason, from the change it names', () => {
  const cases: [string, (ws: string) => void, string, ChangeReason[]][] = [
    ['never ran', (ws) => rmSync(path.join(ws, 'runwise.lock')), 'prepare', [{ kind: 'never-run' }]],
    ['command', (ws) => write(ws, 'dvc.yaml', PIPELINE.replace('python prep.py', 'python prep.py --fast')), 'prepare', [{ kind: 'cmd-changed' }]],
    ['dep changed', (ws) => write(ws, 'raw.csv', 'a\n2\n'), 'prepare', [{ kind: 'dep-changed', path: 'raw.csv' }]],
    ['dep missing', (ws) => rmSync(path.join(ws, 'prep.py')), 'prepare', [{ kind: 'dep-missing', path: 'prep.py' }]],
    ['dep added', (ws) => write(ws, 'dvc.yaml', PIPELINE.replace('deps: [raw.csv, prep.py]', 'deps: [raw.csv, prep.py, params.yaml]')), 'prepare', [{ kind: 'dep-added', path: 'params.yaml' }]],
    ['dep removed', (ws) => write(ws, 'dvc.yaml', PIPELINE.replace('deps: [raw.csv, prep.py]', 'deps: [raw.csv]')), 'prepare', [{ kind: 'dep-removed', path: 'prep.py' }]],
    ['param', (ws) => write(ws, 'params.yaml', 'prep:\n  ratio: 0.25\nother: 1\n'), 'prepare', [{ kind: 'param-changed', file: 'params.yaml', key: 'prep.ratio' }]],
    ['out missing', (ws) => rmSync(path.join(ws, 'model.bin')), 'train', [{ kind: 'out-missing', path: 'model.bin' }]],
    ['out changed', (ws) => write(ws, 'metrics.json', '{"acc": 0}'), 'report', [{ kind: 'out-changed', path: 'metrics.json' }]],
    ['always changed', (ws) => write(ws, 'dvc.yaml', PIPELINE.replace('    outs: [model.bin]', '    outs: [model.bin]\n    always_changed: true')), 'train', [{ kind: 'always-changed' }]],
  ];
  for (const [label, change, stage, reasons] of cases) {
    const ws = ranWorkspace();
    change(ws);
    const { by } = plan(ws);
    assert.deepEqual(by.get(stage)!.reasons, reasons, label);
    assert.equal(by.get(stage)!.action, 'run', label);
  }
  const ws = ranWorkspace();
  write(ws, 'params.yaml', 'prep:\n  ratio: 0.5\nother: 2\n');
  assert.deepEqual([...plan(ws).by.values()].map((d) => d.action), ['skip', 'skip', 'skip'], 'an untracked param changes nothing');
  write(ws, 'raw.csv', 'changed\n');
  const { by } = plan(ws, { force: false });
  assert.deepEqual(by.get('train')!.reasons, [{ kind: 'upstream', stage: 'prepare' }]);
  assert.deepEqual(by.get('report')!.reasons, [{ kind: 'upstream', stage: 'train' }]);
  assert.deepEqual(plan(ranWorkspace(), { force: true }).by.get('train')!.reasons, [{ kind: 'forced' }, { kind: 'upstream', stage: 'prepare' }]);
});

test('targets select a stage with its upstream, --downstream with what follows; frozen never runs but says why', () => {
  const ws = ranWorkspace();
  write(ws, 'raw.csv', 'changed\n');
  assert.deepEqual([...plan(ws, { targets: ['train'] }).by.keys()], ['prepare', 'train']);
  assert.deepEqual([...plan(ws, { targets: ['train'], downstream: true }).by.keys()], ['train', 'report']);
  assert.throws(() => plan(ws, { targets: ['nope'] }), (e: unknown) => e instanceof StageTargetError && /No stage 'nope'.*prepare, train, report/.test(e.message));

  write(ws, 'dvc.yaml', PIPELINE.replace('    outs: [data]', '    outs: [data]\n    frozen: true'));
  const { by } = plan(ws);
  assert.deepEqual(by.get('prepare'), { id: 'prepare', action: 'frozen', reasons: [{ kind: 'dep-changed', path: 'raw.csv' }] });
  assert.equal(by.get('train')!.action, 'skip', 'a frozen stage does not make its downstream run');
  // dvc repro cuts a frozen stage's links to what it depends on (_remove_frozen_stages).
  write(ws, 'dvc.yaml', PIPELINE.replace('    outs: [model.bin]', '    outs: [model.bin]\n    frozen: true'));
  assert.deepEqual([...plan(ws, { targets: ['train'] }).by.keys()], ['train'], 'a frozen target does not bring its upstream');
  assert.deepEqual([...plan(ws, { targets: ['report'] }).by.keys()], ['train', 'report']);
  assert.deepEqual([...plan(ws, { targets: ['prepare'], downstream: true }).by.keys()], ['prepare'], 'nor is it reached going downstream');
  // A frozen stage whose output is missing: DVC verifies a frozen stage's outputs, so it says so.
  rmSync(path.join(ws, 'model.bin'));
  assert.deepEqual(plan(ws).by.get('train')!.reasons, [{ kind: 'out-missing', path: 'model.bin' }]);
});

test('a stage never run says a dependency is missing when nothing makes it; one an upstream stage writes is no problem', () => {
  const ws = tempWorkspace('status-missing');
  write(ws, 'runwise.yaml', 'stages:\n  prepare:\n    cmd: python src/prepare.py\n    deps: [src/prepare.py, data/raw.csv]\n    outs: [data/prepared]\n  train:\n    cmd: python train.py\n    deps: [data/prepared/train.csv, train.py]\n    outs: [model.bin]\n');
  write(ws, 'train.py', 'print(1)\n');
  const { by } = plan(ws);
  assert.deepEqual(by.get('prepare')!.reasons, [{ kind: 'never-run' }, { kind: 'dep-missing', path: 'src/prepare.py' }, { kind: 'dep-missing', path: 'data/raw.csv' }]);
  assert.deepEqual(by.get('train')!.reasons.map((r) => r.kind), ['never-run', 'upstream']);
});

test('describeReason gives short text', () => {
  assert.equal(describeReason({ kind: 'dep-changed', path: 'data/train.csv' }), 'data/train.csv changed');
  assert.equal(describeReason({ kind: 'dep-removed', path: 'src/train.py' }), 'src/train.py no longer a dependency');
  assert.equal(describeReason({ kind: 'dep-added', path: 'src/train.py' }), 'src/train.py added as a dependency');
  assert.equal(describeReason({ kind: 'param-changed', file: 'params.yaml', key: 'train.lr' }), 'param train.lr changed (params.yaml)');
  assert.equal(describeReason({ kind: 'upstream', stage: 'prepare' }), 'upstream stage prepare runs');
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('runwise status and runwise dag', async () => {
  const ws = ranWorkspace();
  write(ws, 'raw.csv', 'changed\n');
  const text = await cli('status', '-w', ws);
  assert.equal(text.code, 0);
  assert.match(text.out, /^prepare +run +raw\.csv changed\ntrain +run +upstream stage prepare runs\n/);
  assert.match(text.err, /3 of 3 stages would run/);
  const json = await cli('status', 'train', '--json', '-w', ws);
  assert.deepEqual(
    (JSON.parse(json.out) as { id: string; reasons: { text: string }[] }[]).map((d) => [d.id, d.reasons.map((r) => r.text)]),
    [
      ['prepare', ['raw.csv changed']],
      ['train', ['upstream stage prepare runs']],
    ],
  );
  const dot = await cli('dag', '--dot', '-w', ws);
  assert.match(dot.out, /"prepare" -> "train";\n {2}"train" -> "report";/);
  const mermaid = await cli('dag', '--mermaid', '-w', ws);
  assert.match(mermaid.out, /flowchart TD\n {2}s0\["prepare"\]\n {2}s1\["train"\]\n {2}s2\["report"\]\n {2}s0 --> s1\n {2}s1 --> s2\n/);
  assert.equal((await cli('dag', '--dot', '--mermaid', '-w', ws)).code, 2);

  write(ws, 'dvc.yaml', PIPELINE.replace('    outs: [data]', '    outz: [data]'));
  const refused = await cli('status', '-w', ws);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /^dvc\.yaml:6:5: error: .*outz.* \[[a-z-]+\]\n/m);
  assert.match(refused.err, /runwise: 1 error in dvc\.yaml\n$/, 'status runs nothing: it does not say so');
  assert.match((await cli('run', '-w', ws)).err, /runwise: 1 error in dvc\.yaml: nothing was run\n$/);
});

test('params from TOML and Python files are recorded in the lock and compared: a change in each is seen; a broken file is refused with file:line', async () => {
  const pipeline = [
    'stages:',
    '  train:',
    '    cmd: python train.py',
    '    params:',
    '      - params.toml:',
    '          - train.lr',
    '          - data.*',
    '      - config.py:',
    '          - Model.depth',
    '          - SEED',
    '',
  ].join('\n');
  const ws = tempWorkspace('status-params');
  write(ws, 'dvc.yaml', pipeline);
  write(ws, 'params.toml', '[train]\nlr = 0.01\nepochs = 5\n[data]\nsplit = 0.2\n');
  write(ws, 'config.py', 'SEED = 42\nclass Model:\n    depth = 3\n    def __init__(self):\n        self.width = 8\n');
  const g = loadPipeline(ws);
  const entry = stageLockEntry(g, g.byId.get('train')!, new HashCache(ws));
  assert.deepEqual(entry.params, { 'params.toml': { 'train.lr': 0.01, 'data.split': 0.2 }, 'config.py': { 'Model.depth': 3, SEED: 42 } });
  writeLockEntry(g, g.byId.get('train')!, entry);
  assert.equal(plan(ws).by.get('train')!.action, 'skip');

  write(ws, 'params.toml', '[train]\nlr = 0.01\nepochs = 50\n[data]\nsplit = 0.2\n');
  assert.equal(plan(ws).by.get('train')!.action, 'skip', 'an untracked TOML key changes nothing');
  write(ws, 'params.toml', '[train]\nlr = 0.02\nepochs = 5\n[data]\nsplit = 0.3\n');
  assert.deepEqual(plan(ws).by.get('train')!.reasons, [
    { kind: 'param-changed', file: 'params.toml', key: 'train.lr' },
    { kind: 'param-changed', file: 'params.toml', key: 'data.split' },
  ]);
  write(ws, 'params.toml', '[train]\nlr = 0.01\nepochs = 5\n[data]\nsplit = 0.2\n');
  write(ws, 'config.py', 'SEED = 42\nclass Model:\n    depth = 4\n');
  assert.deepEqual(plan(ws).by.get('train')!.reasons, [{ kind: 'param-changed', file: 'config.py', key: 'Model.depth' }]);
  write(ws, 'config.py', '# reformatted\nSEED = 42\nclass Model:  # same values\n    depth = 3\n');
  assert.equal(plan(ws).by.get('train')!.action, 'skip', 'same values, different text');

  write(ws, 'params.toml', '[train]\nlr = 0.01\nepochs = "5\n');
  const broken = await cli('status', '-w', ws);
  assert.equal(broken.code, 1);
  assert.match(broken.err, /^runwise: params\.toml:3:10: the string is not closed on its line\n$/);
  write(ws, 'params.toml', '[train]\nlr = 0.01\n[data]\nsplit = 0.2\n');
  write(ws, 'config.py', 'SEED = (42\n');
  const brokenPy = await cli('status', '-w', ws);
  assert.equal(brokenPy.code, 1);
  assert.match(brokenPy.err, /^runwise: config\.py:1:8: '\(' is never closed\n$/);
});
