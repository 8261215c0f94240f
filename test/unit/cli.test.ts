/**
 * The `runwise` CLI, called as a function with captured output: what people see, what programs get
 * with --json, and the exit codes (0 success, 1 a user error in one line, 2 bad usage).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { commandOptions, main } from '../../core/cli/main';
import { FileSystemWorkspace } from '../../core/language/files/fileSystemWorkspace';
import { HashCache } from '../../core/pipeline/hashCache';
import { loadPipeline } from '../../core/pipeline/loadPipeline';
import { stageLockEntry, writeLockEntry } from '../../core/pipeline/lockFile';
import { planRun } from '../../core/pipeline/stageStatus';
import { Tracker } from '../../core/tracker/tracker';
import { tempWorkspace } from '../support/tempWorkspace';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** A workspace with three finished runs of one experiment. */
function seeded(): { ws: string; ids: string[] } {
  const ws = tempWorkspace('cli');
  const t = Tracker.open(ws);
  const exp = t.createExperiment('moons').experimentId;
  const ids = [0.01, 0.1, 1].map((lr, i) => {
    const id = t.createRun({ experimentId: exp, runName: `lr-${lr}`, startTime: 1000 + i }).info.runId;
    t.logBatch(id, {
      params: [
        { key: 'lr', value: String(lr) },
        { key: 'epochs', value: '10' },
      ],
      metrics: Array.from({ length: 100 }, (_, s) => ({ key: 'acc', value: (s / 100) * (i + 1) * 0.3, step: s, timestamp: s })),
    });
    t.updateRun(id, { status: 'FINISHED', endTime: 5000 + i });
    return id;
  });
  t.close();
  return { ws, ids };
}

test('runs list shows a table, newest first, and --json gives records', async () => {
  const { ws, ids } = seeded();
  const r = await cli('runs', 'list', '--workspace', ws);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0]!, /^RUN ID\s+NAME\s+STATUS\s+STARTED\s+DURATION\s+acc\s+lr$/);
  assert.deepEqual(
    lines.slice(2, 5).map((l) => l.split(/\s+/)[1]),
    ['lr-1', 'lr-0.1', 'lr-0.01'],
  );
  assert.equal(lines.at(-1), '3 runs');
  const j = await cli('runs', 'list', '--workspace', ws, '--json', '--order-by', 'metrics.acc ASC');
  const records = JSON.parse(j.out) as { run_id: string; metrics: Record<string, number>; params: Record<string, string> }[];
  assert.deepEqual(records.map((x) => x.run_id), ids);
  assert.equal(records[2]!.metrics.acc, (99 / 100) * 3 * 0.3);
  assert.equal(records[0]!.params.lr, '0.01');
  // As the README writes it, in two words; and a short option's value attached (-w/path).
  const twoWords = await cli('runs', 'list', `-w${ws}`, '--json', '--order-by', 'metrics.acc', 'DESC');
  assert.equal(twoWords.code, 0, twoWords.err);
  assert.deepEqual((JSON.parse(twoWords.out) as { run_id: string }[]).map((x) => x.run_id), [...ids].reverse());
  // A dash word that is no option is refused as one, not taken as a positional.
  const unknown = await cli('runs', 'list', '-w', ws, '-x4');
  assert.deepEqual([unknown.code, unknown.err.split('\n')[0]], [2, "runwise runs list: unknown option '-x' (in '-x4')"]);
});

test('runs list --filter takes MLflow syntax with or and parentheses; a bad filter names the position', async () => {
  const { ws } = seeded();
  const r = await cli('runs', 'list', '-w', ws, '--json', '--filter', "(params.lr = '0.01' or params.lr = '1') and metrics.acc > 0.5");
  assert.deepEqual((JSON.parse(r.out) as { run_name: string }[]).map((x) => x.run_name), ['lr-1']);
  const none = await cli('runs', 'list', '-w', ws, '--filter', "params.lr = '5'");
  assert.equal(none.out, 'No runs match the filter.\n');
  const bad = await cli('runs', 'list', '-w', ws, '--filter', 'metrics.acc >> 1');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^runwise: Invalid filter at position \d+: .+\n$/);
});

test('runs compare puts differing params and metrics first', async () => {
  const { ws, ids } = seeded();
  const r = await cli('runs', 'compare', ids[0]!.slice(0, 8), 'lr-1', '-w', ws);
  assert.equal(r.code, 0, r.err);
  const params = r.out.split('\n\n')[0]!.split('\n');
  assert.match(params[3]!, /^\* lr\s+0\.01\s+1$/);
  assert.match(params[4]!, /^ {2}epochs\s+10\s+10$/);
  const j = JSON.parse((await cli('runs', 'compare', ids[0]!, ids[2]!, '-w', ws, '--json')).out) as {
    params: { key: string; differs: boolean; values: string[] }[];
  };
  assert.deepEqual(j.params, [
    { key: 'lr', values: ['0.01', '1'], differs: true },
    { key: 'epochs', values: ['10', '10'], differs: false },
  ]);
});

test('rename, note and tag change the tracker; show reports them', async () => {
  const { ws, ids } = seeded();
  assert.equal((await cli('runs', 'rename', ids[0]!, 'baseline', '-w', ws)).code, 0);
  assert.equal((await cli('runs', 'note', 'baseline', 'the first try', '-w', ws)).code, 0);
  assert.equal((await cli('runs', 'tag', 'baseline', 'team', 'ml', '-w', ws)).code, 0);
  const t = Tracker.open(ws);
  const run = t.getRun(ids[0]!);
  t.close();
  assert.equal(run.info.runName, 'baseline');
  assert.deepEqual(
    run.tags.filter((x) => !x.key.startsWith('mlflow.runName')),
    [
      { key: 'mlflow.note.content', value: 'the first try' },
      { key: 'team', value: 'ml' },
    ],
  );
  const show = await cli('runs', 'show', 'baseline', '-w', ws);
  assert.match(show.out, /^Run baseline \(/);
  assert.match(show.out, /note {8}the first try/);
  assert.equal((await cli('runs', 'tag', '--delete', 'baseline', 'team', '-w', ws)).code, 0);
  const missing = await cli('runs', 'tag', '--delete', 'baseline', 'team', '-w', ws);
  assert.equal(missing.code, 1);
});

test('metrics history prints at most N buckets with min, max and last', async () => {
  const { ws, ids } = seeded();
  const j = JSON.parse((await cli('metrics', 'history', ids[0]!, 'acc', '--max-points', '10', '-w', ws, '--json')).out) as {
    buckets: { step: number; count: number }[];
  };
  assert.ok(j.buckets.length <= 10);
  assert.equal(j.buckets.reduce((s, b) => s + b.count, 0), 100);
  assert.equal(j.buckets.at(-1)!.step, 99);
  const missing = await cli('metrics', 'history', ids[0]!, 'loss', '-w', ws);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /has no metric 'loss' \(it has: acc\)/);
});

test('export writes CSV with MLflow column names, and JSON', async () => {
  const { ws } = seeded();
  const out = path.join(ws, 'runs.csv');
  const r = await cli('export', '--format', 'csv', '--output', out, '-w', ws);
  assert.equal(r.code, 0, r.err);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'run_id,run_name,experiment_id,status,start_time,end_time,metrics.acc,params.epochs,params.lr,tags.mlflow.runName');
  assert.equal(lines.length, 4);
  const j = JSON.parse((await cli('export', '--format', 'json', '-w', ws)).out) as unknown[];
  assert.equal(j.length, 3);
  // Where it cannot write, or what it was asked does not fit: one line that says so.
  const noFolder = await cli('export', '--format', 'csv', '--output', path.join(ws, 'no', 'dir', 'x.csv'), '-w', ws);
  assert.deepEqual([noFolder.code, noFolder.err], [1, `runwise: cannot write ${path.join(ws, 'no', 'dir', 'x.csv')}: its folder does not exist; nothing was exported\n`]);
  assert.match((await cli('export', '--format', 'csv', '--output', ws, '-w', ws)).err, /: it is a folder; nothing was exported\n$/);
  assert.match((await cli('export', '--format', 'xml', '-w', ws)).err, /^runwise export: --format takes csv or json, not 'xml'\n/);
  const both = await cli('export', '--format', 'csv', '--json', '-w', ws);
  assert.deepEqual([both.code, both.err.split('\n')[0]], [2, 'runwise export: --json asks for JSON and --format csv for CSV: give one']);
});

test('exit codes: 2 for bad usage, 1 for a user error, with one clear line', async () => {
  const { ws } = seeded();
  for (const argv of [['runs', 'frobnicate'], ['runs', 'list', '--bogus'], ['runs', 'show'], ['metrics', 'history', 'x', 'y', '--max-points', 'many'], ['export', '-w', ws]]) {
    const r = await cli(...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, /^runwise/);
  }
  const unknownRun = await cli('runs', 'show', 'nope', '-w', ws);
  assert.equal(unknownRun.code, 1);
  assert.equal(unknownRun.err.split('\n').length, 2, 'one line');
  // A prefix too short to be one says so; a name two runs carry lists them.
  assert.match((await cli('runs', 'show', 'abc', '-w', ws)).err, /a prefix of a run id needs at least 4 characters\)\n$/);
  const t = Tracker.open(ws);
  const twins = [1, 2].map((i) => t.createRun({ runName: 'twin', startTime: 9000 + i }).info.runId);
  t.close();
  const twice = await cli('runs', 'show', 'twin', '-w', ws);
  assert.equal(twice.err, `runwise: 'twin' names more than one run (${twins[1]!.slice(0, 8)}, ${twins[0]!.slice(0, 8)}, newest first); give a run id or a unique prefix of one\n`);
  const empty = tempWorkspace('cli-empty');
  const list = await cli('runs', 'list', '-w', empty);
  assert.equal(list.code, 0);
  assert.match(list.out, /^No runs yet/);
  assert.equal((await cli('runs', 'show', 'x', '-w', empty)).code, 1);
  assert.equal((await cli('runs', 'list', '-w', path.join(empty, 'missing'))).code, 1);
  assert.equal((await cli('--help')).code, 0);
});

test('runs show lists the logged models a run produced: name, id, flavors, status and files, in text and --json', async () => {
  const ws = tempWorkspace('cli-models');
  const t = Tracker.open(ws);
  const runId = t.createRun({ runName: 'train' }).info.runId;
  t.logMetric(runId, { key: 'acc', value: 0.912345678, step: 0, timestamp: 1 });
  const model = t.createLoggedModel({ name: 'iris-clf', sourceRunId: runId, tags: [{ key: 'mlflow.user', value: 'alice' }] });
  t.logOutputs(runId, [{ modelId: model.modelId, step: 0 }]);
  await t.putLoggedModelArtifact(model.modelId, 'MLmodel', Buffer.from('flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n'));
  await t.putLoggedModelArtifact(model.modelId, 'model.pkl', Buffer.alloc(3000, 1));
  await t.putLoggedModelArtifact(model.modelId, 'metadata/MLmodel', Buffer.from('flavors: {}\n'));
  t.finalizeLoggedModel(model.modelId, 'LOGGED_MODEL_READY');
  // A model without an MLmodel file, still uploading, named by its source run only.
  const pending = t.createLoggedModel({ name: 'draft', sourceRunId: runId });
  t.close();

  const j = await cli('runs', 'show', runId, '-w', ws, '--json');
  assert.equal(j.code, 0, j.err);
  const shown = JSON.parse(j.out) as { artifacts: unknown[]; logged_models: unknown[] };
  assert.deepEqual(shown.artifacts, [], 'the run itself has no files');
  assert.deepEqual(shown.logged_models, [
    {
      model_id: model.modelId,
      name: 'iris-clf',
      flavors: ['python_function', 'sklearn'],
      status: 'LOGGED_MODEL_READY',
      artifacts: [
        { path: 'MLmodel', isDir: false, fileSize: 102 },
        { path: 'metadata', isDir: true },
        { path: 'model.pkl', isDir: false, fileSize: 3000 },
      ],
    },
    { model_id: pending.modelId, name: 'draft', status: 'LOGGED_MODEL_PENDING', artifacts: [] },
  ]);

  const r = await cli('runs', 'show', 'train', '-w', ws);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /acc\s+0\.912345678\s+0/, 'a metric value in full, as the details panel and the tree tooltip show it');
  assert.ok(
    r.out.includes(
      [
        `Logged model iris-clf (${model.modelId})`,
        '  flavors     python_function, sklearn',
        '  status      ready',
        '  MLmodel (102 B)',
        '  metadata/',
        '  model.pkl (2.9 KiB)',
      ].join('\n'),
    ),
    r.out,
  );
  assert.ok(r.out.includes(`Logged model draft (${pending.modelId})\n  flavors     -\n  status      pending\n  (no files)`), r.out);
});

test('a deleted run is still found by its name; an unknown experiment name is said to be one', async () => {
  const { ws, ids } = seeded();
  assert.equal((await cli('runs', 'delete', ids[0]!, '--workspace', ws)).code, 0);
  const shown = await cli('runs', 'show', 'lr-0.01', '--workspace', ws, '--json');
  assert.equal(shown.code, 0, shown.err);
  assert.equal((JSON.parse(shown.out) as { run_id: string; lifecycle_stage: string }).run_id, ids[0]);
  const unknown = await cli('runs', 'list', '--experiment', 'Nope', '--workspace', ws);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /No experiment is named 'Nope'/);
  assert.equal((await cli('runs', 'list', '--experiment', 'moons', '--workspace', ws, '--json')).code, 0);
});

test("each command's options in the dispatcher are the ones its module declares (written twice: the module loads on use)", async () => {
  const declared: [string, string, string][] = [
    ['runs list', './commands/runs', 'runsListOptions'],
    ['runs tag', './commands/runs', 'runsTagOptions'],
    ['models register', './commands/models', 'modelsRegisterOptions'],
    ['models export', './commands/models', 'modelsExportOptions'],
    ['metrics history', './commands/metrics', 'metricsHistoryOptions'],
    ['serve', './commands/serve', 'serveOptions'],
    ['export', './commands/export', 'exportOptions'],
    ['gc', './commands/gc', 'gcOptions'],
    ['init', './commands/init', 'initOptions'],
    ['status', './commands/status', 'statusOptions'],
    ['dag', './commands/dag', 'dagOptions'],
  ];
  for (const [name, module, exported] of declared) {
    const specs = ((await import(path.join(__dirname, '../../core/cli', module))) as Record<string, unknown>)[exported];
    assert.ok(specs, `${module} exports ${exported}`);
    assert.deepEqual(commandOptions(name), specs, name);
  }
  assert.equal(commandOptions('no such'), undefined);
});

test('status answered from the load record still refuses a dependency turned into a link out of the workspace, among many in one folder', async () => {
  const ws = tempWorkspace('cli-links');
  const deps = Array.from({ length: 20 }, (_, i) => `data/part-${i}.csv`);
  mkdirSync(path.join(ws, 'data'));
  for (const d of deps) writeFileSync(path.join(ws, d), 'x\n');
  writeFileSync(path.join(ws, 'dvc.yaml'), ['stages:', '  s:', '    cmd: echo', '    deps:', ...deps.map((d) => `      - ${d}`), ''].join('\n'));
  const old = new Date(Date.now() - 60_000);
  for (const p of ['', 'data']) utimesSync(path.join(ws, p), old, old);
  assert.equal((await cli('status', '-w', ws)).code, 0);
  const recorded = await cli('status', '-w', ws);
  assert.equal(recorded.code, 0, recorded.err);
  assert.match(recorded.err, /1 of 1 stage would run/);

  const outside = tempWorkspace('cli-links-outside');
  writeFileSync(path.join(outside, 'secret.csv'), 'y\n');
  rmSync(path.join(ws, deps[7]!));
  symlinkSync(path.join(outside, 'secret.csv'), path.join(ws, deps[7]!));
  const r = await cli('status', '-w', ws);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /data\/part-7\.csv.*symbolic link|symbolic link.*data\/part-7\.csv/);
});

test('stages tracking keys of one params file share one parse of it per plan, and each sees its own key change', async () => {
  const ws = tempWorkspace('cli-params');
  const stages = ['a', 'b', 'c'];
  writeFileSync(path.join(ws, 'params.yaml'), stages.map((s) => `${s}:\n  lr: 0.1\n`).join(''));
  writeFileSync(path.join(ws, 'dvc.yaml'), ['stages:', ...stages.flatMap((s) => [`  ${s}:`, `    cmd: echo ${s}`, `    params: [${s}.lr]`])].join('\n') + '\n');
  const graph = loadPipeline(ws);
  const hashes = new HashCache(ws);
  for (const s of graph.stages) writeLockEntry(graph, s, stageLockEntry(graph, s, hashes));

  let paramsReads = 0;
  const view = new FileSystemWorkspace(ws);
  const counting = Object.assign(Object.create(view) as FileSystemWorkspace, {
    readFile: (rel: string) => {
      if (rel === 'params.yaml') paramsReads++;
      return view.readFile(rel);
    },
  });
  assert.deepEqual(planRun(graph, { hashes, workspace: counting }).map((d) => d.action), ['skip', 'skip', 'skip']);
  assert.equal(paramsReads, 1, 'params.yaml read and parsed once for the three stages');

  writeFileSync(path.join(ws, 'params.yaml'), stages.map((s) => `${s}:\n  lr: ${s === 'b' ? 0.2 : 0.1}\n`).join(''));
  const r = await cli('status', '-w', ws, '--json');
  assert.equal(r.code, 0, r.err);
  const decisions = JSON.parse(r.out) as { id: string; action: string; reasons: { kind: string; key?: string }[] }[];
  assert.deepEqual(
    decisions.map((d) => [d.id, d.action, d.reasons.map((x) => `${x.kind} ${x.key ?? ''}`)]),
    [['a', 'skip', []], ['b', 'run', ['param-changed b.lr']], ['c', 'skip', []]],
  );
});

test('a command group named alone lists its commands; a missing option is said once, with the usage', async () => {
  const models = await cli('models');
  assert.equal(models.code, 2);
  assert.match(models.err, /^runwise models: name one of its commands:\n {2}runwise models register NAME --path MODEL/);
  assert.match(models.err, /runwise models lineage/);
  const card = await cli('card');
  assert.equal(card.code, 2);
  assert.match(card.err, /runwise card update CARD --from/);
  const placed = await cli('-w', tempWorkspace('cli-w'), 'models');
  assert.match(placed.err, /^runwise models: name one of its commands/);
  const unknown = await cli('modles');
  assert.match(unknown.err, /^runwise: unknown command 'modles' \(did you mean 'models'\?\)/);
  // A group's --help lists its commands (exit 0); a misspelt command of it suggests the near one and lists them.
  const help = await cli('runs', '--help');
  assert.deepEqual([help.code, help.out.split('\n')[0]], [0, 'The runs commands:']);
  assert.match(help.out, /runwise runs list \[--filter EXPR\]/);
  const misspelt = await cli('models', 'lst');
  assert.equal(misspelt.code, 2);
  assert.match(misspelt.err, /^runwise: unknown command 'models lst' \(did you mean 'models list'\?\); the models commands:\n {2}runwise models register/);
  const register = await cli('models', 'register', 'churn');
  assert.equal(register.code, 2);
  assert.match(register.err, /^runwise models register: --path MODEL is needed \(the model's file or folder\)\nUsage: runwise models register NAME --path MODEL/);
});

test('run: nothing to run is said once, and not as "up to date" when a frozen stage failed', async () => {
  const ws = tempWorkspace('cli-run-frozen', {
    'runwise.yaml': "stages:\n  frozen_one:\n    frozen: true\n    cmd: echo frozen > frozen.txt\n    outs:\n      - frozen.txt\n  plain:\n    cmd: echo x > x.txt\n    outs:\n      - x.txt\n",
  });
  const frozen = await cli('run', 'frozen_one', '--single', '--workspace', ws);
  assert.equal(frozen.code, 1);
  assert.match(frozen.out, /frozen_one\s+FAILED/);
  assert.match(frozen.out, /^Nothing was run\.$/m);
  assert.doesNotMatch(frozen.out + frozen.err, /up to date/);
  assert.equal((await cli('run', 'plain', '--workspace', ws)).code, 0);
  const again = await cli('run', 'plain', '--workspace', ws);
  assert.equal(again.code, 0);
  assert.equal((again.out + again.err).match(/every stage is up to date|Everything is up to date/g)?.length, 1, again.out + again.err);
  // --dry checks where --push-to would go, as the run does.
  const dry = await cli('run', '--dry', '--push-to', 'nothere', '--workspace', ws);
  assert.equal(dry.code, 1);
  assert.match(dry.err, /no remote named 'nothere'/);
  // And its credentials: an unset token variable fails the dry run, and the run before any stage.
  delete process.env.RUNWISE_TEST_UNSET_TOKEN;
  assert.equal((await cli('remote', 'add', 'team', 'https://mlflow.example.com', '--token-env', 'RUNWISE_TEST_UNSET_TOKEN', '--workspace', ws)).code, 0);
  for (const args of [['--dry'], ['--force']]) {
    const unset = await cli('run', ...args, '--push-to', 'team', '--workspace', ws);
    assert.equal(unset.code, 1, args.join(' '));
    assert.match(unset.err, /remote 'team' takes its token from \$RUNWISE_TEST_UNSET_TOKEN, which is not set/);
    assert.doesNotMatch(unset.out + unset.err, /plain/, 'no stage ran');
  }
});

test('run STAGE --single with a missing dependency names only the stages that write it', async () => {
  const ws = tempWorkspace('cli-run-single', {
    'runwise.yaml': 'stages:\n  train:\n    cmd: echo m > model.txt\n    outs: [model.txt]\n  evaluate:\n    cmd: cat model.txt > report/evaluation.json\n    deps: [model.txt]\n    outs: [report]\n  register:\n    cmd: cat model.txt report/evaluation.json\n    deps: [model.txt, report/evaluation.json]\n',
    'model.txt': 'm\n',
  });
  const r = await cli('run', 'register', '--single', '--workspace', ws);
  assert.equal(r.code, 1);
  assert.match(r.err, /^runwise: stage 'register' \(runwise\.yaml:\d+\) needs 'report\/evaluation\.json', which does not exist \(written by 'evaluate'\); --single runs no other stage/);
});

test('gates across targeted runs: --single is held back by a failed gate above it; a gate below the targets is not judged; one not checked is not counted failed', async () => {
  const ws = tempWorkspace('cli-run-gates', {
    'score': '0.6',
    'runwise.yaml': `stages:
  prepare:
    cmd: echo d > data.txt
    outs: [data.txt]
  train:
    cmd: >-
      cat data.txt > model.txt && echo "{\\"accuracy\\": $(cat score)}" > train.json
    deps: [data.txt, score]
    outs: [model.txt]
    metrics:
      - train.json:
          cache: false
  evaluate:
    cmd: >-
      echo '{"roc_auc": 0.9}' > eval.json && cp model.txt evaluated.txt
    deps: [model.txt]
    outs: [evaluated.txt]
    metrics:
      - eval.json:
          cache: false
  register:
    cmd: cp evaluated.txt registered.txt
    deps: [evaluated.txt]
    outs: [registered.txt]
gates:
  - metric: accuracy
    stage: train
    op: '>='
    value: 0.8
  - metric: roc_auc
    stage: evaluate
    op: '>='
    value: 0.85
`,
  });
  // `run prepare` judges no gate of the stages below it (train and evaluate never ran).
  const prepare = await cli('run', 'prepare', '--workspace', ws);
  assert.equal(prepare.code, 0, prepare.out + prepare.err);
  assert.doesNotMatch(prepare.out, /gate/);

  // The whole pipeline: train's gate fails; evaluate's is not checked (it did not run) and is not counted.
  const all = await cli('run', '--workspace', ws);
  assert.equal(all.code, 1);
  assert.match(all.out, /✖ gate 'accuracy >= 0\.8' \(runwise\.yaml:\d+\) failed: accuracy is 0\.6/);
  assert.match(all.out, /– gate 'roc_auc >= 0\.85' \(runwise\.yaml:\d+\) not checked: stage 'evaluate' did not run/);
  assert.match(all.err, /runwise: 1 gate failed/);
  assert.equal((await cli('run', 'prepare', '--workspace', ws)).code, 0, 'prepare is up to date, and judges nothing below it');

  // status says what the run would find first: the stages below the failed gate are held back.
  const status = await cli('status', '--workspace', ws);
  assert.match(status.out, /^evaluate\s+held\s+held back by the gate 'accuracy >= 0\.8' on stage 'train' \(it failed on that stage's last metrics: accuracy is 0\.6 \(stage 'train'\), needs >= 0\.8\); it would run because /m);
  assert.match(status.out, /^register\s+held\s+held back by the gate 'accuracy >= 0\.8' on stage 'train'/m);
  assert.match(status.err, /0 of 4 stages would run/);
  const statusJson = JSON.parse((await cli('status', '--json', '--workspace', ws)).out) as { id: string; action: string; held_by?: { stage: string; gate: string } }[];
  assert.deepEqual(statusJson.map((d) => [d.id, d.action, d.held_by?.stage ?? null, d.held_by?.gate ?? null]), [['prepare', 'skip', null, null], ['train', 'skip', null, null], ['evaluate', 'held', 'train', 'accuracy >= 0.8'], ['register', 'held', 'train', 'accuracy >= 0.8']]);
  // run --dry says the same.
  const dry = await cli('run', '--dry', '--workspace', ws);
  assert.match(dry.out, /evaluate\s+held\s+held back by the gate 'accuracy >= 0\.8'/);
  assert.match(dry.err, /dry run: 0 of 4 stages would run/);

  // An orchestrator's task for one stage, its input made by hand: the failed gate above still holds it.
  writeFileSync(path.join(ws, 'evaluated.txt'), 'x\n');
  const single = await cli('run', 'register', '--single', '--workspace', ws);
  assert.equal(single.code, 1, single.out + single.err);
  // The why column says why; its status column says "not run" (once).
  // The gate holding it back was not judged (evaluate never ran): said so, not "failed".
  assert.match(single.out, /^register\s+not run\s+the gate 'roc_auc >= 0\.85' on stage 'evaluate' was not judg/m);
  assert.match(single.out, /✖ gate 'accuracy >= 0\.8' \(runwise\.yaml:\d+\) failed: accuracy is 0\.6/);
  assert.match(single.out, /✖ gate 'roc_auc >= 0\.85' \(runwise\.yaml:\d+\) not judged: stage 'evaluate' is not up to date \(never ran\)/);
  assert.match(single.err, /runwise: 1 gate failed; 1 gate not judged \(a stage above is out of date\)/);
  assert.ok(!existsSync(path.join(ws, 'registered.txt')));
  // --json: each gate with the stage it read, the one not judged not counted as checked.
  const singleJson = JSON.parse((await cli('run', 'register', '--single', '--json', '--workspace', ws)).out) as { gates: { metric: string; stage: string | null; passed: boolean; checked: boolean }[] };
  assert.deepEqual(singleJson.gates.map((g) => [g.metric, g.stage, g.passed, g.checked]).sort(), [['accuracy', 'train', false, true], ['roc_auc', 'evaluate', false, false]]);
});

test('a gate is not judged on the old metrics of a stage that is out of date; previous. is the last run no gate rejected', async () => {
  const ws = tempWorkspace('cli-run-stale', {
    'score': '0.9',
    'runwise.yaml': `stages:
  train:
    cmd: >-
      echo "{\\"accuracy\\": $(cat score)}" > train.json && cat score > model.txt
    deps: [score]
    outs: [model.txt]
    metrics:
      - train.json:
          cache: false
  evaluate:
    cmd: >-
      echo "{\\"roc_auc\\": $(cat model.txt)}" > eval.json && cp model.txt evaluated.txt
    deps: [model.txt]
    outs: [evaluated.txt]
    metrics:
      - eval.json:
          cache: false
  register:
    cmd: cp evaluated.txt registered.txt
    deps: [evaluated.txt]
    outs: [registered.txt]
gates:
  - metric: roc_auc
    stage: evaluate
    op: '>='
    value: 0.85
  - metric: accuracy
    stage: train
    op: '>='
    value: previous.accuracy
`,
  });
  assert.equal((await cli('run', '--workspace', ws)).code, 0);
  // A worse model trained alone; evaluate is now out of date. Registering alone must not take the
  // evaluate gate's old, passing roc_auc as this model's.
  writeFileSync(path.join(ws, 'score'), '0.5');
  const train = await cli('run', 'train', '--workspace', ws);
  assert.equal(train.code, 1, 'previous.accuracy is 0.9');
  rmSync(path.join(ws, 'registered.txt'));
  const single = await cli('run', 'register', '--single', '--force', '--workspace', ws);
  assert.equal(single.code, 1, single.out + single.err);
  assert.match(single.out, /✖ gate 'roc_auc >= 0\.85' \(runwise\.yaml:\d+\) not judged: stage 'evaluate' is not up to date \(model\.txt changed[^)]*\), so it has no metrics of what it reads now: run it first/);
  assert.ok(!existsSync(path.join(ws, 'registered.txt')), 'nothing registered');
  // A slightly better model than the rejected one is still compared with the last accepted run (0.9), not 0.5.
  writeFileSync(path.join(ws, 'score'), '0.6');
  const better = await cli('run', 'train', '--workspace', ws);
  assert.equal(better.code, 1);
  assert.match(better.out, /✖ gate 'accuracy >= previous\.accuracy' \(runwise\.yaml:\d+\) failed: accuracy is 0\.6 \(stage 'train'\), previous\.accuracy is 0\.9/);
});

test('from a subfolder without a tracker or pipeline, commands use the project above it: its tracker, repository or pipeline', async () => {
  const ws = tempWorkspace('cli-subfolder', { 'runwise.yaml': 'stages: {}\n', 'cards/README.md': '# notes\n', 'nested/repo/.git/HEAD': 'ref: refs/heads/main\n', 'own/dvc.yaml': 'stages: {}\n' });
  const tracker = Tracker.open(ws);
  tracker.createRun({ runName: 'found-from-below' });
  tracker.close();
  const cwd = process.cwd();
  const from = async (dir: string, ...argv: string[]) => {
    process.chdir(path.join(ws, dir));
    try {
      return await cli(...argv);
    } finally {
      process.chdir(cwd);
    }
  };
  const listed = await from('cards', 'runs', 'list', '--json');
  assert.equal(listed.code, 0, listed.err);
  assert.deepEqual(JSON.parse(listed.out).map((r: { run_name: string }) => r.run_name), ['found-from-below']);
  assert.equal(listed.err, `runwise: workspace ${ws} (the project above this folder; --workspace . for this folder)\n`);
  assert.ok(!existsSync(path.join(ws, 'cards', '.runwise')), 'no second tracker in the subfolder');
  // A repository of its own below, and a folder holding its own pipeline, stay their own workspaces.
  const inRepo = await from('nested/repo', 'runs', 'list');
  assert.match(inRepo.out, /No runs yet/);
  assert.equal(inRepo.err, '');
  const ownPipeline = await from('own', 'runs', 'list');
  assert.match(ownPipeline.out, /No runs yet/);
  // --workspace . is this folder.
  assert.match((await from('cards', 'runs', 'list', '--workspace', '.')).out, /No runs yet/);
  // A project whose pipeline has not run yet (no tracker): its root, marked by its repository or its pipeline.
  const fresh = tempWorkspace('cli-subfolder-fresh', { '.git/HEAD': 'ref: refs/heads/main\n', 'runwise.yaml': 'stages: {}\n', 'src/train.py': '' });
  const fromFresh = async (...argv: string[]) => {
    process.chdir(path.join(fresh, 'src'));
    try {
      return await cli(...argv);
    } finally {
      process.chdir(cwd);
    }
  };
  const empty = await fromFresh('models', 'list');
  assert.equal(empty.err, `runwise: workspace ${fresh} (the project above this folder; --workspace . for this folder)\n`);
  assert.equal(empty.out, `No tracker in ${fresh} yet: nothing is registered (register a model with \`runwise models register NAME --path MODEL\`).\n`);
  assert.ok(!existsSync(path.join(fresh, 'src', '.runwise')));
});

test("a cloned repository's links in .runwise/ are never written through: caches, logs, the runner lock, the remotes' config", async () => {
  const outside = tempWorkspace('cli-outside-target', { '.bashrc': 'echo hello\n', 'folder/keep': 'x' });
  const bashrc = path.join(outside, '.bashrc');
  const setup = (links: Record<string, string>) => {
    const ws = tempWorkspace('cli-planted-links', {
      'runwise.yaml': 'stages:\n  make:\n    cmd: echo made > out.txt\n    outs: [out.txt]\n',
      'runwise.lock': 'schema: "2.0"\nstages: {}\n',
    });
    for (const [at, to] of Object.entries(links)) {
      mkdirSync(path.dirname(path.join(ws, at)), { recursive: true });
      symlinkSync(to, path.join(ws, at));
    }
    return ws;
  };
  // The lock files' parsed cache as a link to the user's ~/.bashrc: status and run leave it alone.
  const cacheFile = setup({
    '.runwise/cache/locks.json': bashrc,
    '.runwise/cache/hashes.txt': bashrc,
    '.runwise/cache/pipelines.json': bashrc,
    // The temporary files beside them, under this process's id (the commands run in it).
    [`.runwise/cache/.locks.json.${process.pid}.tmp`]: bashrc,
    [`.runwise/cache/hashes.txt.${process.pid}.tmp`]: bashrc,
    [`.runwise/cache/pipelines.json.${process.pid}.tmp`]: bashrc,
  });
  await cli('status', '--workspace', cacheFile);
  await cli('run', '--workspace', cacheFile);
  assert.equal(readFileSync(bashrc, 'utf8'), 'echo hello\n');
  // The cache folder, or the logs folder, as a link to a folder elsewhere: nothing is written there.
  for (const at of ['.runwise/cache', '.runwise/logs']) {
    const ws = setup({ [at]: path.join(outside, 'folder') });
    const r = await cli('run', '--workspace', ws);
    if (at === '.runwise/logs') {
      assert.equal(r.code, 1);
      assert.match(r.err, /\.runwise\/logs \(a folder in \.runwise\) is a symbolic link; Runwise does not follow links inside \.runwise\//);
    }
    assert.deepEqual(readdirSync(path.join(outside, 'folder')), ['keep'], at);
  }
  // The remotes' config as a link (to a JSON file the user has): remote add is refused, the target untouched.
  const settings = path.join(outside, 'settings.json');
  writeFileSync(settings, '{"remotes": {}}\n');
  const config = setup({ '.runwise/config': settings });
  const added = await cli('remote', 'add', 'team', 'https://mlflow.example.com', '--token-env', 'RUNWISE_TEST_UNSET_TOKEN', '--workspace', config);
  assert.equal(added.code, 1);
  assert.match(added.err, /\.runwise\/config \(a file Runwise writes in \.runwise\) is a symbolic link/);
  assert.equal(readFileSync(settings, 'utf8'), '{"remotes": {}}\n');
});

test("from a subfolder, a project above owned by another user is not taken (as git's safe.directory)", async () => {
  const { defaultWorkspace } = await import('../../core/workspace/workspaceRoot');
  const ws = tempWorkspace('cli-other-owner', { 'runwise.yaml': 'stages: {}\n', 'sub/notes.txt': '' });
  const me = statSync(ws).uid;
  assert.equal(defaultWorkspace(path.join(ws, 'sub'), me), ws);
  assert.equal(defaultWorkspace(path.join(ws, 'sub'), me + 1), path.join(ws, 'sub'), 'another user\'s project: the current folder');
  // Nor a folder anyone may write in (a shared /tmp), even one's own.
  const { chmodSync } = await import('node:fs');
  chmodSync(ws, 0o777);
  assert.equal(defaultWorkspace(path.join(ws, 'sub'), me), path.join(ws, 'sub'));
  chmodSync(ws, 0o700);
});
