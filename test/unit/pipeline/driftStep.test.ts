/**
 * The built-in `drift` step in a real pipeline run (a real tracker and lock): it logs `drift_share`,
 * `drifted_columns` and each checked column's score on the stage's run through logDriftRun, stores the report as the
 * run's drift/report.json and in `output`, a gate reads `drift_share`, `fail_on_drift` fails the
 * stage (after the report is written), and bad settings fail with the stage's file and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DRIFT_REPORT_ARTIFACT } from '../../../core/tracker/model';
import type { DriftReport } from '../../../core/drift/driftReport';
import { loadPipeline } from '../../../core/pipeline/loadPipeline';
import type { PipelineRunResult } from '../../../core/pipeline/pipelineRun';
import { Tracker } from '../../../core/tracker/tracker';
import { runWorkspacePipeline } from '../../support/pipelineRuns';
import { tempWorkspace } from '../../support/tempWorkspace';

const runAll = (ws: string, force = false): Promise<PipelineRunResult> => runWorkspacePipeline(ws, { force, jobs: 1 });

/** 200 rows: `amount` 0..199 (or shifted by `shift`), `flag` alternating 0/1 (the same on both sides). */
function csv(shift: number): string {
  const rows = ['amount,flag'];
  for (let i = 0; i < 200; i++) rows.push(`${i + shift},${i % 2}`);
  return `${rows.join('\n')}\n`;
}

function pipeline(settings: string, gates = ''): string {
  return `stages:
  check:
    drift:
      reference: data/ref.csv
      current: data/cur.csv
${settings}${gates}`;
}

test('drift: metrics and the report on the stage run, the output file, a gate on drift_share', async () => {
  const ws = tempWorkspace('drift-step', {
    'runwise.yaml': pipeline('      output: reports/drift.json\n', "gates:\n  - metric: check:drift_share\n    op: '<'\n    value: 0.5\n"),
    'data/ref.csv': csv(0),
    'data/cur.csv': csv(150),
  });
  const result = await runAll(ws);
  const check = result.stages.find((s) => s.id === 'check')!;
  assert.equal(check.status, 'succeeded', check.message);
  // `amount` moved (ks, p far below 0.05), `flag` did not (z, identical shares): 1 of 2 columns.
  const written = JSON.parse(readFileSync(path.join(ws, 'reports/drift.json'), 'utf8')) as DriftReport;
  assert.equal(written.n_columns, 2);
  assert.equal(written.n_drifted, 1);
  assert.equal(written.drift_share, 0.5);
  assert.equal(written.dataset_drift, true, 'a drift share of 0.5 reaches the default 0.5');
  const amount = written.columns.find((c) => c.name === 'amount')!;
  assert.equal(amount.test, 'ks');
  assert.equal(amount.drifted, true);
  const tracker = Tracker.open(ws);
  try {
    const run = tracker.getRun(check.runId!);
    const metrics = Object.fromEntries(run.metrics.map((m) => [m.key, m.value]));
    assert.equal(metrics.drift_share, 0.5);
    assert.equal(metrics.drifted_columns, 1);
    assert.equal(metrics['drift_score/amount'], amount.score);
    assert.equal(metrics['drift_score/flag'], written.columns.find((c) => c.name === 'flag')!.score);
    // Logged through logDriftRun, as `runwise drift --log` logs: the tests as params, both files as inputs.
    assert.equal(metrics.n_columns, 2);
    assert.equal(metrics.dataset_drift, 1);
    const params = Object.fromEntries(run.params.map((p) => [p.key, p.value]));
    assert.equal(params['drift.test.amount'], 'ks 0.05');
    // Beside the stage's dependencies (context `dependency`), which the stage runner logs.
    const contexts = run.inputs.map((i) => i.tags.find((t) => t.key === 'mlflow.data.context')?.value);
    assert.deepEqual(contexts.filter((c) => c !== 'dependency').sort(), ['current', 'reference']);
    // Each compared file's digest is its md5, as a dependency's is: one lineage node per file version.
    for (const [context, file] of [['reference', 'data/ref.csv'], ['current', 'data/cur.csv']]) {
      const input = run.inputs.find((i) => i.tags.some((t) => t.key === 'mlflow.data.context' && t.value === context))!;
      assert.equal(input.dataset.source, file);
      assert.equal(input.dataset.digest, createHash('md5').update(readFileSync(path.join(ws, file!))).digest('hex'), context);
      const dependency = run.inputs.find((i) => i.dataset.source === file && i !== input);
      assert.ok(dependency, `${file} as a dependency`);
      assert.equal(dependency.dataset.digest, input.dataset.digest);
    }
    assert.equal(run.info.status, 'FINISHED', 'the stage runner, not the drift logger, ends the stage run');
    const stored = JSON.parse(readFileSync(tracker.openArtifact(check.runId!, DRIFT_REPORT_ARTIFACT).filePath, 'utf8')) as DriftReport;
    assert.deepEqual(stored, written);
  } finally {
    tracker.close();
  }
  // Without fail_on_drift the stage succeeds; the gate on drift_share is what stops the pipeline.
  assert.equal(result.gates.length, 1);
  assert.equal(result.gates[0]!.passed, false, result.gates[0]!.message);
  assert.equal(result.ok, false);
});

test('drift: fail_on_drift fails the stage after writing the report; no drift passes', async () => {
  const ws = tempWorkspace('drift-step-fail', {
    'runwise.yaml': pipeline('      drift_share: 0.5\n      fail_on_drift: true\n      output: reports/drift.json\n'),
    'data/ref.csv': csv(0),
    'data/cur.csv': csv(150),
  });
  const failed = (await runAll(ws)).stages.find((s) => s.id === 'check')!;
  assert.equal(failed.status, 'failed');
  assert.match(failed.message ?? '', /the dataset drifts: 1 of 2 columns drifted .*fail_on_drift is set \(runwise\.yaml:\d+\)/);
  assert.equal((JSON.parse(readFileSync(path.join(ws, 'reports/drift.json'), 'utf8')) as DriftReport).n_drifted, 1);

  const same = tempWorkspace('drift-step-same', {
    'runwise.yaml': pipeline('      fail_on_drift: true\n'),
    'data/ref.csv': csv(0),
    'data/cur.csv': csv(0),
  });
  const result = await runAll(same);
  const check = result.stages.find((s) => s.id === 'check')!;
  assert.equal(check.status, 'succeeded', check.message);
  assert.equal(result.ok, true);
});

test('drift: one test and threshold for every column; bad settings name the stage file and line', async () => {
  const ws = tempWorkspace('drift-step-test', {
    'runwise.yaml': pipeline('      tests: wasserstein\n      threshold: 5\n      columns: [amount]\n      output: reports/drift.json\n'),
    'data/ref.csv': csv(0),
    'data/cur.csv': csv(150),
  });
  const check = (await runAll(ws)).stages.find((s) => s.id === 'check')!;
  assert.equal(check.status, 'succeeded', check.message);
  const report = JSON.parse(readFileSync(path.join(ws, 'reports/drift.json'), 'utf8')) as DriftReport;
  assert.deepEqual(report.columns.map((c) => [c.name, c.test, c.threshold, c.drifted]), [['amount', 'wasserstein', 5, false]]);

  for (const [settings, message] of [
    ['      drift_share: 2\n', /drift\.drift_share must be a number from 0 to 1, not 2 \(runwise\.yaml:\d+\)/],
  ] as const) {
    const bad = tempWorkspace('drift-step-bad', { 'runwise.yaml': pipeline(settings), 'data/ref.csv': csv(0), 'data/cur.csv': csv(0) });
    const stage = (await runAll(bad)).stages.find((s) => s.id === 'check')!;
    assert.equal(stage.status, 'failed', settings);
    assert.match(stage.message ?? '', message);
  }
  // An unknown test name is the schema's error: nothing runs.
  const unknown = tempWorkspace('drift-step-unknown', { 'runwise.yaml': pipeline('      tests: kolmogorov\n'), 'data/ref.csv': csv(0), 'data/cur.csv': csv(0) });
  assert.throws(() => loadPipeline(unknown, { cache: false }), (e: Error & { diagnostics?: { message: string }[] }) => {
    assert.match(`${e.message} ${JSON.stringify(e.diagnostics ?? [])}`, /kolmogorov/);
    return true;
  });
  const missing = tempWorkspace('drift-step-missing', { 'runwise.yaml': pipeline(''), 'data/ref.csv': csv(0) });
  const stage = (await runAll(missing)).stages.find((s) => s.id === 'check')!;
  assert.equal(stage.status, 'failed');
  assert.match(stage.message ?? '', /data\/cur\.csv|does not exist/);
});

test('drift: a stage that can compare no column fails, so a gate on its drift share of 0 cannot pass', async () => {
  const days = (year: number) => `day\n${Array.from({ length: 50 }, (_, i) => new Date(Date.UTC(year, 0, 1 + i)).toISOString().slice(0, 10)).join('\n')}\n`;
  const ws = tempWorkspace('drift-step-nothing', {
    'runwise.yaml': pipeline('', "gates:\n  - metric: check:drift_share\n    op: '<'\n    value: 0.5\n"),
    'data/ref.csv': days(2020),
    'data/cur.csv': days(2021),
  });
  const result = await runAll(ws);
  const check = result.stages.find((s) => s.id === 'check')!;
  assert.equal(check.status, 'failed');
  assert.match(check.message ?? '', /no column could be compared \(day: .+\)/);
});
