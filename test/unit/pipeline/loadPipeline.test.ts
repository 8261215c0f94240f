/**
 * Loading the workspace's pipelines into one graph: DVC's foreach/matrix examples expanded to its
 * generated names, edges through output directories and across files, and refusals (language
 * errors, overlapping outputs, cycles, paths leaving the workspace) with file:line:col.
 */
import { test } from 'node:test';
import { main } from '../../../core/cli/main';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findPipelineFiles, loadPipeline, type LoadOptions } from '../../../core/pipeline/loadPipeline';
import { readStageMetrics } from '../../../core/pipeline/metricsFiles';
import { PipelineLoadError, type PipelineDiagnostic } from '../../../core/pipeline/pipelineModel';
import { tempWorkspace } from '../../support/tempWorkspace';

function workspace(files: Record<string, string>): string {
  const ws = tempWorkspace('load');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), text);
  }
  return ws;
}

function refusal(ws: string, options: LoadOptions = {}): PipelineDiagnostic[] {
  try {
    loadPipeline(ws, options);
  } catch (e) {
    assert.ok(e instanceof PipelineLoadError, String(e));
    return e.diagnostics;
  }
  assert.fail('the pipelines were accepted');
}

test("DVC's foreach examples (a list, a mapping) and matrix expand to its generated names", () => {
  // From DVC's dvc.yaml reference (foreach stages, matrix stages).
  const ws = workspace({
    'dvc.yaml': [
      'stages:',
      '  cleanups:',
      '    foreach:',
      '      - raw1',
      '      - labels1',
      '      - raw2',
      '    do:',
      '      cmd: clean.py "${item}"',
      '      outs:',
      '        - ${item}.cln',
      '  train:',
      '    foreach:',
      '      us:',
      '        epochs: 10',
      '        thresh: 15',
      '      uk:',
      '        epochs: 9',
      '        thresh: 12',
      '    do:',
      "      cmd: python train.py '${key}' ${item.epochs} ${item.thresh}",
      '      deps:',
      '        - raw1.cln',
      '      outs:',
      '        - model-${key}.hdfs',
      '  fit:',
      '    matrix:',
      '      model: [cnn, xgb]',
      '      feature: [feature1, feature2]',
      '    cmd: ./train.py --feature ${item.feature} ${item.model}',
      '    outs:',
      '      - ${item.model}-${item.feature}.pkl',
      '',
    ].join('\n'),
  });
  const g = loadPipeline(ws);
  assert.deepEqual(
    g.stages.map((s) => s.id),
    ['cleanups@raw1', 'cleanups@labels1', 'cleanups@raw2', 'train@us', 'train@uk', 'fit@cnn-feature1', 'fit@cnn-feature2', 'fit@xgb-feature1', 'fit@xgb-feature2'],
  );
  assert.deepEqual(g.byId.get('cleanups@labels1')!.cmd, ['clean.py "labels1"']);
  assert.deepEqual(g.byId.get('train@uk')!.cmd, ["python train.py 'uk' 9 12"]);
  assert.deepEqual(g.byId.get('fit@xgb-feature2')!.outs.map((o) => o.path), ['xgb-feature2.pkl']);
  assert.deepEqual(g.upstream('train@us'), ['cleanups@raw1']);
  assert.deepEqual(g.downstream('cleanups@raw1'), ['train@us', 'train@uk']);
  assert.equal(g.byId.get('train@us')!.line, 11);
  assert.equal(g.byId.get('train@us')!.file, 'dvc.yaml');
});

test("a ${...} written inside foreach items or matrix values is resolved in the stage's context, as DVC resolves the data", () => {
  // The shape of a public dvc.yaml: item fields built from params.
  const ws = workspace({
    'params.yaml': 'prepare:\n  input_dir: data/raw\n  epochs: 7\nroot: raw\nbase: data\n',
    'dvc.yaml': [
      'stages:',
      '  prepare:',
      '    foreach:',
      '      - name: good',
      '        input_dir: ${prepare.input_dir}/good',
      '        epochs: ${prepare.epochs}',
      '    do:',
      '      cmd: prep ${item.input_dir} ${item.epochs}',
      '      deps:',
      '        - ${item.input_dir}',
      '      outs:',
      '        - out/${item.name}',
      '  listed:',
      '    foreach:',
      '      - ${root}',
      '    do:',
      '      cmd: ls ${item}',
      '  m:',
      '    matrix:',
      '      src: ["${base}/in.txt"]',
      '    cmd: cat ${item.src}',
      '',
    ].join('\n'),
  });
  const g = loadPipeline(ws);
  assert.deepEqual(g.stages.map((s) => s.id), ['prepare@0', 'listed@raw', 'm@data/in.txt']);
  assert.deepEqual(g.byId.get('prepare@0')!.cmd, ['prep data/raw/good 7']);
  assert.deepEqual(g.byId.get('prepare@0')!.deps, ['data/raw/good']);
  assert.deepEqual(g.byId.get('listed@raw')!.cmd, ['ls raw']);
  assert.deepEqual(g.byId.get('m@data/in.txt')!.cmd, ['cat data/in.txt']);
  // One that does not resolve is an error naming the variable, not a path spelled '${...}'.
  writeFileSync(path.join(ws, 'params.yaml'), 'root: raw\nbase: data\nprepare:\n  epochs: 7\n');
  const found = refusal(ws);
  assert.ok(found.some((d) => d.message.includes("'prepare.input_dir' is not defined in vars or params") && d.line === 5), JSON.stringify(found));
});

test('foreach and matrix data resolved as DVC does: through a whole ${...}, in keys, composite items; a params file\'s values as written', () => {
  const ws = workspace({
    'params.yaml': 'cfg:\n  k: 1\nenv: prod\nitems: ["lit-${x}"]\nx: X\nsizes: ["s-${x}"]\n',
    'dvc.yaml': [
      'stages:',
      '  nested:',
      '    foreach:',
      '      - x: ${cfg}',
      '    do:',
      '      cmd: echo ${item.x.k}',
      '  keyed:',
      '    foreach:',
      '      ${env}: 1',
      '    do:',
      '      cmd: echo ${key} ${item}',
      '  composite:',
      '    foreach: ["${cfg}", b]',
      '    do:',
      '      cmd: echo composite',
      '  literal:',
      '    foreach: ${items}',
      '    do:',
      '      cmd: echo ${item}',
      '  grid:',
      '    matrix:',
      '      size: ${sizes}',
      '      conf: ["${cfg}"]',
      '    cmd: echo ${item.size} ${item.conf.k}',
      '',
    ].join('\n'),
  });
  const g = loadPipeline(ws);
  assert.deepEqual(g.stages.map((s) => s.id), ['nested@0', 'keyed@prod', 'composite@0', 'composite@1', 'literal@lit-${x}', 'grid@s-${x}-conf0']);
  assert.deepEqual(g.byId.get('nested@0')!.cmd, ['echo 1']);
  assert.deepEqual(g.byId.get('keyed@prod')!.cmd, ['echo prod 1']);
  assert.deepEqual(g.byId.get('literal@lit-${x}')!.cmd, ['echo lit-${x}']);
  assert.deepEqual(g.byId.get('grid@s-${x}-conf0')!.cmd, ['echo s-${x} 1']);
});

test("numbers are substituted as DVC's str() writes them: floats keep '.0' and Python's exponents, integers every digit", () => {
  const ws = workspace({
    'params.yaml': 'big: 12345678901234567890\nsmall: 0.00001\nthousand: 1e3\nflag: true\nnothing: null\nlead: 017\n',
    'dvc.yaml': [
      'stages:',
      '  m:',
      '    matrix:',
      '      lr: [1.0, 0.5, 1e-5]',
      '      n: [8, 0x10]',
      '    cmd: echo ${item.lr} ${item.n} ${big} ${small} ${thousand} ${flag} ${nothing} ${lead}',
      '    outs:',
      '      - m-${item.lr}-${item.n}.txt',
      '  f:',
      '    foreach: [1.0, 2, 0.1]',
      '    do:',
      '      cmd: echo ${item}',
      '',
    ].join('\n'),
  });
  const g = loadPipeline(ws);
  // What dvc/parsing writes with Python's str(): the stage names are the keys of DVC's dvc.lock.
  assert.deepEqual(
    g.stages.map((s) => s.id),
    ['m@1.0-8', 'm@1.0-16', 'm@0.5-8', 'm@0.5-16', 'm@1e-05-8', 'm@1e-05-16', 'f@1.0', 'f@2', 'f@0.1'],
  );
  assert.deepEqual(g.byId.get('m@1e-05-16')!.cmd, ['echo 1e-05 16 12345678901234567890 1e-05 1000.0 true None 17']);
  assert.deepEqual(g.byId.get('m@1.0-8')!.outs.map((o) => o.path), ['m-1.0-8.txt']);
});

test("a mapping in a command is unpacked into options, as DVC's dictionary unpacking writes them", () => {
  const ws = workspace({
    'params.yaml': "train:\n  lr: 1.0\n  small: 1e-5\n  flag: true\n  off: false\n  name: a b\n  layers: [8, 4]\n  opt:\n    kind: adam\n  quote: it's\n  bools: [true, false]\n",
    'dvc.yaml': 'stages:\n  unpack:\n    cmd: python train.py ${train}\n',
  });
  const g = loadPipeline(ws);
  // dvc/parsing/interpolate.py to_str of the dict (bool store_true, list nargs), shlex.quote on text.
  assert.deepEqual(g.byId.get('unpack')!.cmd, ["python train.py --lr 1.0 --small 1e-05 --flag --name 'a b' --layers 8 4 --opt.kind adam --quote 'it'\"'\"'s' --bools True False"]);
  // Only in a command: a mapping in a path does not resolve.
  const bad = workspace({ 'params.yaml': 'train:\n  lr: 1\n', 'dvc.yaml': 'stages:\n  s:\n    cmd: echo\n    outs:\n      - ${train}.txt\n' });
  assert.ok(refusal(bad).length > 0);
});

test("vars cannot redefine what params.yaml or an earlier vars entry has, as DVC refuses it; mappings merge", () => {
  const clash = workspace({ 'params.yaml': 'a: 1\ntrain:\n  lr: 1\n', 'dvc.yaml': 'vars:\n  - a: 2\nstages:\n  s:\n    cmd: echo ${a}\n' });
  const [d] = refusal(clash);
  assert.equal(d!.code, 'vars-redefined');
  assert.match(d!.message, /Cannot redefine 'a' from vars\[0\]: it already exists in 'params\.yaml'/);
  const nested = workspace({ 'params.yaml': 'train:\n  lr: 1\n', 'dvc.yaml': 'vars:\n  - train:\n      lr: 2\nstages:\n  s:\n    cmd: echo ${train.lr}\n' });
  assert.match(refusal(nested)[0]!.message, /Cannot redefine 'train\.lr'/);
  const merged = workspace({ 'params.yaml': 'train:\n  lr: 1\n', 'dvc.yaml': 'vars:\n  - train:\n      epochs: 3\nstages:\n  s:\n    cmd: echo ${train.lr} ${train.epochs}\n' });
  assert.deepEqual(loadPipeline(merged).byId.get('s')!.cmd, ['echo 1 3']);
  // params.yaml (or any file) named again whole loads nothing more: allowed, a DVC idiom.
  const again = workspace({ 'params.yaml': 'a: 1\n', 'o.yaml': 'b: 2\n', 'dvc.yaml': 'vars:\n  - params.yaml\n  - o.yaml\n  - ./o.yaml\nstages:\n  s:\n    cmd: echo ${a} ${b}\n' });
  assert.deepEqual(loadPipeline(again).byId.get('s')!.cmd, ['echo 1 2']);
  // A stage's vars are loaded into a copy of the pipeline's context: no overwriting either.
  const stageClash = workspace({ 'params.yaml': 'a: 1\n', 'dvc.yaml': 'stages:\n  s:\n    vars:\n      - a: 2\n    cmd: echo ${a}\n' });
  assert.match(refusal(stageClash)[0]!.message, /Cannot redefine 'a' from stages\.s\.vars\[0\]: it already exists in 'params\.yaml'/);
  // No ${...} in vars, a stage's or the top level's (an escaped \${ is text, as in DVC).
  const interpolated = workspace({ 'params.yaml': 'model:\n  depth: 7\n', 'dvc.yaml': 'stages:\n  s2:\n    vars:\n      - extra: ${model.depth}\n    cmd: echo ${extra} > o.txt\n' });
  const [v] = refusal(interpolated);
  assert.equal(v!.code, 'vars-interpolation');
  assert.match(v!.message, /not allowed in 'stages\.s2\.vars'/);
  const escaped = workspace({ 'dvc.yaml': 'vars:\n  - msg: "cost \\\\${x}"\nstages:\n  s:\n    cmd: echo ${msg}\n' });
  assert.deepEqual(loadPipeline(escaped).byId.get('s')!.cmd.length, 1);
});

test('edges through output directories and across pipeline files, in topological order; ids carry the file outside the root', () => {
  const ws = workspace({
    'runwise.yaml': [
      'stages:',
      '  evaluate:',
      '    cmd: python eval.py',
      '    deps:',
      '      - models/model.pkl',
      '    metrics:',
      '      - metrics.json:',
      '          cache: false',
      '',
    ].join('\n'),
    'sub/dvc.yaml': ['stages:', '  prepare:', '    cmd: python prep.py', '    wdir: ..', '    outs:', '      - data/prepared', ''].join('\n'),
    'train.pipeline.yaml': [
      'stages:',
      '  train:',
      '    cmd:',
      '      - python train.py',
      '      - echo done',
      '    deps:',
      '      - data/prepared/train.csv',
      '    outs:',
      '      - models',
      '      - log.txt:',
      '          persist: true',
      '',
    ].join('\n'),
    'node_modules/pkg/dvc.yaml': 'stages: {}\n',
    '.hidden/dvc.yaml': 'stages: {}\n',
  });
  assert.deepEqual(findPipelineFiles(ws), ['runwise.yaml', 'train.pipeline.yaml', 'sub/dvc.yaml']);
  const g = loadPipeline(ws);
  assert.deepEqual(
    g.stages.map((s) => s.id),
    ['sub/dvc.yaml:prepare', 'train.pipeline.yaml:train', 'evaluate'],
  );
  const train = g.byId.get('train.pipeline.yaml:train')!;
  assert.deepEqual(train.cmd, ['python train.py', 'echo done']);
  assert.deepEqual(train.outs, [
    { path: 'models', kind: 'out', cache: true, persist: false },
    { path: 'log.txt', kind: 'out', cache: true, persist: true },
  ]);
  assert.deepEqual(g.byId.get('evaluate')!.outs, [{ path: 'metrics.json', kind: 'metrics', cache: false, persist: false }]);
  assert.equal(g.byId.get('sub/dvc.yaml:prepare')!.wdir, '');
  assert.deepEqual(g.upstream('train.pipeline.yaml:train'), ['sub/dvc.yaml:prepare']);
  assert.deepEqual(g.upstream('evaluate'), ['train.pipeline.yaml:train']);

  const only = loadPipeline(ws, { pipelineFile: 'train.pipeline.yaml' });
  assert.deepEqual(only.files, ['train.pipeline.yaml']);
  assert.deepEqual(only.upstream('train.pipeline.yaml:train'), []);
});

test('a file the editor marks with an error is refused with the same diagnostic, file:line:col', () => {
  const ws = workspace({
    'dvc.yaml': ['stages:', '  train:', '    cmd: python train.py', '    outz:', '      - model.pkl', ''].join('\n'),
    'other/dvc.yaml': ['stages:', '  a:', '    cmd: ${missing.var}', ''].join('\n'),
  });
  let message = '';
  try {
    loadPipeline(ws);
  } catch (e) {
    message = (e as Error).message;
  }
  assert.match(message, /errors? in dvc\.yaml, other\/dvc\.yaml$/);
  const diags = refusal(ws);
  const unknown = diags.find((d) => d.file === 'dvc.yaml');
  assert.ok(unknown, JSON.stringify(diags));
  assert.deepEqual([unknown.line, unknown.column, unknown.severity], [4, 5, 'error']);
  assert.match(unknown.message, /outz/);
  assert.ok(diags.some((d) => d.file === 'other/dvc.yaml' && d.line === 3), 'errors of every file are reported');
});

test('two stages of different files writing one output, or one inside the other, are refused naming both', () => {
  const ws = workspace({
    'dvc.yaml': ['stages:', '  a:', '    cmd: a', '    outs:', '      - data', ''].join('\n'),
    'sub.pipeline.yaml': ['stages:', '  b:', '    cmd: b', '    outs:', '      - data/part.csv', ''].join('\n'),
    'z.pipeline.yaml': ['stages:', '  c:', '    cmd: c', '    outs:', '      - data', ''].join('\n'),
  });
  const diags = refusal(ws).filter((d) => d.code === 'overlapping-outputs');
  assert.equal(diags.length, 2, JSON.stringify(diags));
  assert.ok(diags.some((d) => d.file === 'z.pipeline.yaml' && /'a' \(dvc\.yaml:2\).*'z\.pipeline\.yaml:c' \(z\.pipeline\.yaml:2\).*'data'/.test(d.message)));
  assert.ok(diags.some((d) => d.file === 'sub.pipeline.yaml' && /'data\/part\.csv' \(inside 'data'\)/.test(d.message)));
});

test('a stage name in dvc.yaml and runwise.yaml of one folder (one runwise.lock) is refused by the run and by check, in both files', async () => {
  const ws = workspace({
    'dvc.yaml': ['stages:', '  step:', '    cmd: echo dvc > a.txt', '    outs: [a.txt]', ''].join('\n'),
    'runwise.yaml': ['stages:', '  step:', '    cmd: echo rw > b.txt', '    outs: [b.txt]', '  other:', '    cmd: echo o > o.txt', '    outs: [o.txt]', ''].join('\n'),
    'sub/runwise.yaml': ['stages:', '  step:', '    cmd: echo sub > c.txt', '    outs: [c.txt]', ''].join('\n'),
  });
  const diags = refusal(ws).filter((d) => d.code === 'shared-lock-stage');
  assert.equal(diags.length, 1, JSON.stringify(diags));
  assert.match(diags[0]!.message, /^Stage 'step' is also a stage of dvc\.yaml, and both files keep their stages' state in runwise\.lock by name/);
  let out = '';
  const code = await main(['check', '--workspace', ws], { out: (t) => (out += t), err: () => undefined });
  assert.equal(code, 1);
  assert.deepEqual(out.split('\n').filter((l) => l.includes('shared-lock-stage')).map((l) => l.split(' ')[0]), ['dvc.yaml:2:3:', 'runwise.yaml:2:3:'], 'said in both files; sub/runwise.yaml has its own lock');
});

test("a runwise.yaml gate may name another file's stage by the id the run gives it (train of the root dvc.yaml, sub/dvc.yaml:t2); a typo stays an error, in check too", async () => {
  const files = {
    'dvc.yaml': ['stages:', '  train:', '    cmd: echo 1 > m.json', '    metrics:', '      - m.json:', '          cache: false', ''].join('\n'),
    'sub/dvc.yaml': ['stages:', '  t2:', '    cmd: echo 1 > m2.json', '    metrics:', '      - m2.json:', '          cache: false', ''].join('\n'),
    'runwise.yaml': ['stages:', '  publish:', '    cmd: echo p > p.txt', '    outs: [p.txt]', 'gates:', '  - metric: acc', '    stage: train', "    op: '>='", '    value: 0.8', '  - metric: sub/dvc.yaml:t2:acc', "    op: '>='", '    value: 0.8', ''].join('\n'),
  };
  const ws = workspace(files);
  const graph = loadPipeline(ws, { cache: false });
  assert.deepEqual(graph.gates.map((g) => [g.stage, g.metric]), [['train', 'acc'], [undefined, 'sub/dvc.yaml:t2:acc']]);
  const typo = workspace({ ...files, 'runwise.yaml': files['runwise.yaml'].replace('stage: train', 'stage: trian') });
  assert.deepEqual(refusal(typo).map((d) => `${d.file}:${d.line} ${d.code}`), ['runwise.yaml:7 unknown-stage']);
  for (const [dir, errors] of [[ws, 0], [typo, 1]] as const) {
    let out = '';
    await main(['check', '--workspace', dir], { out: (t) => (out += t), err: () => undefined });
    assert.equal(out.split('\n').filter((l) => l.includes('unknown-stage')).length, errors, out);
  }
});

test("a gate on a foreach group is one per stage, its model: and metrics file resolved in each stage's scope; the load record gives the same", () => {
  const ws = workspace({
    'runwise.yaml': [
      'stages:',
      '  evaluate:',
      '    foreach:',
      '      - {name: eu}',
      '      - {name: us}',
      '    do:',
      '      cmd: echo 1 > m-${item.name}.json',
      '      metrics:',
      '        - m-${item.name}.json:',
      '            cache: false',
      'gates:',
      '  - metric: m-${item.name}.json:auc',
      '    stage: evaluate',
      "    op: '>='",
      '    value: champion.auc',
      '    model: churn-${item.name}',
      '',
    ].join('\n'),
  });
  const expected = [
    ['evaluate@0', 'm-eu.json:auc', 'churn-eu'],
    ['evaluate@1', 'm-us.json:auc', 'churn-us'],
  ];
  assert.deepEqual(loadPipeline(ws, { cache: false }).gates.map((g) => [g.stage, g.metric, g.model]), expected);
  loadPipeline(ws, { cache: true });
  assert.deepEqual(loadPipeline(ws, { cache: true }).gates.map((g) => [g.stage, g.metric, g.model]), expected);
});

test("a foreach gate's ${...}: only in its model: or metrics file, resolved in every stage; one file for every stage is refused (check and the run)", () => {
  const ws = workspace({
    'runwise.yaml': [
      'stages:',
      '  evaluate:',
      '    foreach:',
      '      - {name: eu}',
      '      - {name: us}',
      '    do:',
      '      cmd: echo 1 > m-${item.name}.json',
      '      metrics:',
      '        - m-${item.name}.json:',
      '            cache: false',
      '  plain:',
      '    cmd: echo 1 > p.json',
      '    metrics:',
      '      - p.json:',
      '          cache: false',
      'gates:',
      '  - metric: m-${item.name}.json:auc',
      '    stage: evaluate',
      "    op: '>='",
      '    value: champion.auc',
      '    model: churn-${item.name}',
      '  - metric: m-eu.json:auc',
      '    stage: evaluate',
      "    op: '>='",
      '    value: 0.5',
      '  - metric: auc',
      '    stage: plain',
      "    op: '>='",
      '    value: champion.auc',
      '    model: churn-${key}',
      '  - metric: auc',
      '    stage: evaluate',
      "    op: '>='",
      '    value: champion.auc',
      '    model: churn-${item.region}',
      '',
    ].join('\n'),
  });
  assert.deepEqual(refusal(ws).map((d) => `${d.line} ${d.code}`), ['22 invalid-value', '30 invalid-value', '35 unresolved-variable']);
});

test('within one file, the language analysis already refuses a shared output', () => {
  const ws = workspace({
    'dvc.yaml': ['stages:', '  a:', '    cmd: a', '    outs: [m.pkl]', '  b:', '    cmd: b', '    outs: [m.pkl]', ''].join('\n'),
  });
  assert.ok(refusal(ws).some((d) => d.code === 'duplicate-output' && d.file === 'dvc.yaml'));
});

test('a dependency cycle across files is refused naming the stages', () => {
  const ws = workspace({
    'dvc.yaml': ['stages:', '  a:', '    cmd: a', '    deps: [b.out]', '    outs: [a.out]', ''].join('\n'),
    'x.pipeline.yaml': ['stages:', '  b:', '    cmd: b', '    deps: [a.out]', '    outs: [b.out]', ''].join('\n'),
  });
  const diags = refusal(ws);
  const cycle = diags.find((d) => d.code === 'stage-cycle');
  assert.ok(cycle, JSON.stringify(diags));
  assert.match(cycle.message, /'a' \(dvc\.yaml:2\).*'x\.pipeline\.yaml:b' \(x\.pipeline\.yaml:2\)/);
});

test('paths that leave the workspace (.., absolute, through a symbolic link) are refused', () => {
  const outside = tempWorkspace('outside');
  const ws = workspace({
    'dvc.yaml': ['stages:', '  a:', '    cmd: a', '    deps:', '      - ../secret.txt', '      - linked/file.txt', '    outs:', '      - /tmp/out.txt', ''].join('\n'),
  });
  symlinkSync(outside, path.join(ws, 'linked'));
  const diags = refusal(ws);
  assert.ok(diags.some((d) => d.code === 'path-outside-workspace' && d.line === 5), JSON.stringify(diags));
  assert.ok(diags.some((d) => d.code === 'path-outside-workspace' && d.line === 8), JSON.stringify(diags));
  // The symbolic link is found once the plain escapes are fixed.
  writeFileSync(path.join(ws, 'dvc.yaml'), ['stages:', '  a:', '    cmd: a', '    deps:', '      - linked/file.txt', ''].join('\n'));
  const link = refusal(ws);
  assert.ok(link.some((d) => d.line === 5 && /symbolic link/.test(d.message)), JSON.stringify(link));
});

test('--pipeline outside the workspace or not a pipeline is refused; gates are read with their lines', () => {
  const ws = workspace({
    'runwise.yaml': ['stages:', '  t:', '    cmd: t', 'gates:', '  - metric: accuracy', "    op: '>='", '    value: 0.9', '    stage: t', ''].join('\n'),
    'notes.yaml': 'a: 1\n',
  });
  const g = loadPipeline(ws);
  assert.deepEqual(g.gates, [{ file: 'runwise.yaml', line: 5, metric: 'accuracy', op: '>=', value: 0.9, stage: 't' }]);
  assert.match(refusal(ws, { pipelineFile: '../x/dvc.yaml' })[0]!.message, /outside the workspace/);
  assert.match(refusal(ws, { pipelineFile: 'notes.yaml' })[0]!.message, /not a pipeline file/);
  assert.match(refusal(ws, { pipelineFile: 'dvc.yaml' })[0]!.message, /does not exist/);
});

const loadCached = (ws: string) => loadPipeline(ws, { cache: true });
const refusalCached = (ws: string) => refusal(ws, { cache: true });

/** Sets the modification time of workspace paths (files and folders) to `secondsAgo`. */
function age(ws: string, secondsAgo: number, ...rels: string[]): void {
  const t = new Date(Date.now() - secondsAgo * 1000);
  for (const r of rels) utimesSync(path.join(ws, r), t, t);
}

const CACHED_PIPELINE = ['stages:', '  train:', '    cmd: python train.py ${train.lr}', '    deps: [data]', '    params: [train.lr]', '    outs: [model.pkl]', ''].join('\n');

test('unchanged pipelines are answered from the last successful load; any change to them or to what they read is analysed again', () => {
  const ws = workspace({ 'dvc.yaml': CACHED_PIPELINE, 'params.yaml': 'train:\n  lr: 0.1\n', 'data/a.csv': 'a' });
  const cacheFile = path.join(ws, '.runwise', 'cache', 'pipelines.json');
  loadPipeline(ws);
  assert.ok(!existsSync(cacheFile), 'nothing written unless asked (the editor in an untrusted workspace)');
  const first = loadCached(ws);
  assert.ok(existsSync(cacheFile));
  // Proof the record answers: a stage changed inside the record is what the next load returns.
  const stored = readFileSync(cacheFile, 'utf8');
  writeFileSync(cacheFile, stored.replace('python train.py 0.1', 'python train.py RECORDED'));
  assert.deepEqual(loadCached(ws).byId.get('train')!.cmd, ['python train.py RECORDED']);
  assert.deepEqual(loadPipeline(ws).byId.get('train')!.cmd, first.byId.get('train')!.cmd);

  // A params file the analysis read changed: analysed again (the interpolated command follows it).
  writeFileSync(path.join(ws, 'params.yaml'), 'train:\n  lr: 0.2\n');
  assert.deepEqual(loadCached(ws).byId.get('train')!.cmd, ['python train.py 0.2']);
  // The pipeline text is the same but the param it tracks is gone: refused with the analysis' error.
  writeFileSync(path.join(ws, 'params.yaml'), 'train:\n  other: 1\n');
  const missing = refusalCached(ws);
  assert.ok(missing.some((d) => d.file === 'dvc.yaml' && d.severity === 'error'), JSON.stringify(missing));
  writeFileSync(path.join(ws, 'params.yaml'), 'train:\n  lr: 0.1\n');
  loadCached(ws);
  // An error written into the pipeline after a cached load is refused with its diagnostic.
  writeFileSync(path.join(ws, 'dvc.yaml'), CACHED_PIPELINE.replace('    outs:', '    outz:'));
  const diags = refusalCached(ws);
  assert.deepEqual(
    diags.filter((d) => /outz/.test(d.message)).map((d) => [d.file, d.line, d.column]),
    [['dvc.yaml', 6, 5]],
  );
  // And a record that cannot be read is ignored.
  writeFileSync(path.join(ws, 'dvc.yaml'), CACHED_PIPELINE);
  writeFileSync(cacheFile, '{"version": 1, "loads": {"x": ');
  assert.deepEqual(loadCached(ws).byId.get('train')!.cmd, ['python train.py 0.1']);
  writeFileSync(cacheFile, '[1, 2]');
  assert.deepEqual(loadCached(ws).byId.get('train')!.cmd, ['python train.py 0.1']);
  const valid = readFileSync(cacheFile, 'utf8');
  for (const damage of ['"deps":["data"]', '"upstream":[[]]', '"stages":[']) {
    const replacement = damage === '"stages":[' ? '"stages":[7,' : damage.replace(/\[.*\]$/, '"x"');
    assert.ok(valid.includes(damage), damage);
    writeFileSync(cacheFile, valid.replace(damage, replacement));
    assert.deepEqual(loadCached(ws).byId.get('train')!.cmd, ['python train.py 0.1'], `a damaged record (${damage}) is analysed again`);
  }
});

test('a pipeline file added in a folder the last walk listed is found; a link made after a cached load is refused', () => {
  const ws = workspace({ 'dvc.yaml': CACHED_PIPELINE, 'params.yaml': 'train:\n  lr: 0.1\n', 'sub/deeper/keep.txt': '', 'data/a.csv': 'a' });
  age(ws, 60, 'sub/deeper', 'sub', 'data', '');
  assert.deepEqual(loadCached(ws).files, ['dvc.yaml']);
  // The first load made .runwise/ in the root, which moved the root's mtime: age it again and walk once more.
  age(ws, 50, '');
  assert.deepEqual(loadCached(ws).files, ['dvc.yaml']);
  // Proof the walk record answers: a file named only in the record is what the next load looks for.
  const cacheFile = path.join(ws, '.runwise', 'cache', 'pipelines.json');
  const stored = readFileSync(cacheFile, 'utf8');
  writeFileSync(cacheFile, stored.replace('"files":["dvc.yaml"]', '"files":["dvc.yaml","ghost/dvc.yaml"]'));
  assert.deepEqual(refusalCached(ws).map((d) => [d.file, d.code]), [['ghost/dvc.yaml', 'unreadable-file']]);
  writeFileSync(cacheFile, stored);
  assert.deepEqual(loadCached(ws).files, ['dvc.yaml']);
  writeFileSync(path.join(ws, 'sub/deeper/dvc.yaml'), ['stages:', '  extra:', '    cmd: echo', ''].join('\n'));
  assert.deepEqual(loadCached(ws).files, ['dvc.yaml', 'sub/deeper/dvc.yaml']);

  const outside = tempWorkspace('load-outside');
  rmSync(path.join(ws, 'data'), { recursive: true });
  symlinkSync(outside, path.join(ws, 'data'));
  const diags = refusalCached(ws);
  assert.ok(diags.some((d) => d.code === 'path-outside-workspace' && /symbolic link/.test(d.message)), JSON.stringify(diags));
});

test("a plots output keeps dvc.yaml's x, y and template (the metrics reader follows them)", () => {
  const ws = workspace({
    'dvc.yaml': [
      'stages:',
      '  train:',
      '    cmd: python train.py',
      '    plots:',
      '      - train.csv:',
      '          x: epoch',
      '          y: loss',
      '      - classes.csv:',
      '          template: confusion',
      '          x: actual',
      '          y: predicted',
      '      - plain.csv',
      '      - curve.csv:',
      '          y: ${metric}',
      '',
    ].join('\n'),
    'params.yaml': 'metric: auc\n',
  });
  const outs = loadPipeline(ws).byId.get('train')!.outs;
  assert.deepEqual(
    outs.map((o) => [o.path, o.plot ?? null]),
    [
      ['train.csv', { x: 'epoch', y: ['loss'] }],
      ['classes.csv', { x: 'actual', y: ['predicted'], template: 'confusion' }],
      ['plain.csv', null],
      ['curve.csv', { y: ['auc'] }],
    ],
  );
});

test("a top-level plots: confusion template (DVC 3's layout) marks its files, in a plots folder or as one, as no metric series", () => {
  const ws = workspace({
    'dvc.yaml': [
      'stages:',
      '  evaluate:',
      '    cmd: python evaluate.py',
      '    plots:',
      '      - eval/plots:',
      '          cache: false',
      '      - eval/cm.json',
      'plots:',
      '  - Confusion-Matrix:',
      '      template: confusion',
      '      x: actual',
      '      y:',
      '        eval/plots/cm/test.json: predicted',
      '  - eval/cm.json:',
      '      template: confusion_normalized',
      '  - ROC:',
      '      template: simple',
      '      x: fpr',
      '      y:',
      '        eval/plots/roc.json: tpr',
      '',
    ].join('\n'),
  });
  const outs = loadPipeline(ws).byId.get('evaluate')!.outs;
  assert.deepEqual(
    outs.map((o) => [o.path, o.plot ?? null]),
    [
      ['eval/plots', { labelFiles: ['eval/plots/cm/test.json'] }],
      ['eval/cm.json', { template: 'confusion' }],
    ],
  );
  // The metrics reader then leaves those files out.
  mkdirSync(path.join(ws, 'eval', 'plots', 'cm'), { recursive: true });
  writeFileSync(path.join(ws, 'eval', 'plots', 'cm', 'test.json'), JSON.stringify([{ actual: 1, predicted: 0 }]));
  writeFileSync(path.join(ws, 'eval', 'plots', 'roc.json'), JSON.stringify([{ fpr: 0, tpr: 0.5 }]));
  writeFileSync(path.join(ws, 'eval', 'cm.json'), JSON.stringify([{ actual: 1, predicted: 1 }]));
  const read = readStageMetrics(ws, outs);
  assert.deepEqual([...read.series.keys()].sort(), ['fpr', 'tpr']);
});
