// The Runs view's model: experiments → runs as plain nodes, built from a real tracker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTE_TAG, PARENT_RUN_TAG, Tracker } from '../../core/tracker/tracker';
import { RUN_NOTE_TAG, RunsTreeModel, formatDuration, formatMetricValue, keyMetricsOf, summarizeRun } from '../../core/views/runsTreeModel';
import { tempWorkspace } from '../support/tempWorkspace';

function withTracker(fn: (t: Tracker) => void): void {
  let clock = 1_700_000_000_000;
  const t = Tracker.open(tempWorkspace(), { now: () => (clock += 1000) });
  try {
    fn(t);
  } finally {
    t.close();
  }
}

test('experiments by name with run counts; the empty Default experiment is hidden', () => {
  withTracker((t) => {
    const vision = t.createExperiment('vision');
    t.createExperiment('Audio');
    t.createRun({ experimentId: vision.experimentId, runName: 'r1', status: 'FINISHED' });
    t.createRun({ experimentId: vision.experimentId, runName: 'r2' });
    const model = new RunsTreeModel();
    model.apply(t.changesSince());
    const roots = model.roots();
    assert.deepEqual(roots.map((r) => [r.label, r.description, r.collapsible]), [
      ['Audio', 'no runs', 'none'],
      ['vision', '2 runs · 1 running', 'expanded'],
    ]);
    t.createRun({ runName: 'in-default' });
    model.apply(t.changesSince(model.changeMarker));
    assert.deepEqual(model.roots().map((r) => r.label), ['Audio', 'Default', 'vision']);
  });
});

test('runs newest first, status as icon, key metrics as description, params in a plain-text tooltip', () => {
  withTracker((t) => {
    const old = t.createRun({ runName: 'old', status: 'FINISHED' }).info.runId;
    const run = t.createRun({ runName: '<img src=x onerror=alert(1)>' }).info.runId;
    t.logBatch(run, {
      params: [{ key: 'lr', value: '0.01' }, { key: 'optimizer', value: 'adam' }],
      metrics: [
        { key: 'zeta', value: 1, step: 0, timestamp: 1 },
        { key: 'loss', value: 0.123456, step: 0, timestamp: 1 },
        { key: 'accuracy', value: 0.9, step: 0, timestamp: 1 },
        { key: 'epoch_time', value: 12.5, step: 0, timestamp: 1 },
      ],
    });
    t.setNote(run, 'baseline with adam');
    t.updateRun(old, { status: 'FAILED' });
    const model = new RunsTreeModel();
    model.apply(t.changesSince());
    const [exp] = model.roots();
    const runs = model.children(exp!);
    assert.deepEqual(runs.map((r) => r.runId), [run, old]);
    const [n, o] = runs;
    assert.equal(n!.label, '<img src=x onerror=alert(1)>');
    assert.equal(n!.icon, 'RUNNING');
    assert.equal(n!.contextValue, 'runwise.run.running');
    assert.equal(n!.description, 'accuracy 0.9 · loss 0.1235 · epoch_time 12.5');
    assert.match(n!.tooltip, /^<img src=x onerror=alert\(1\)>\nrunning · started /);
    assert.match(n!.tooltip, /Params\n {2}lr = 0\.01\n {2}optimizer = adam/);
    assert.match(n!.tooltip, /Note\nbaseline with adam/);
    assert.equal(o!.icon, 'FAILED');
    assert.equal(o!.description, 'failed');
    assert.equal(o!.contextValue, 'runwise.run');
  });
});

test('configured key metrics come first', () => {
  withTracker((t) => {
    const run = t.createRun({ runName: 'r' }).info.runId;
    t.logBatch(run, { metrics: ['a', 'b', 'loss', 'f1'].map((key, i) => ({ key, value: i, step: 0, timestamp: 1 })) });
    const model = new RunsTreeModel({ keyMetrics: ['b', 'missing'], maxMetrics: 2 });
    model.apply(t.changesSince());
    assert.equal(model.nodeOfRun(run)!.description, 'b 1 · f1 3');
    model.configure({ keyMetrics: ['a'] });
    assert.equal(model.nodeOfRun(run)!.description, 'a 0 · f1 3');
  });
});

test('incremental updates: a metric refreshes only its experiment; a delete removes the run; a new experiment changes the roots', () => {
  withTracker((t) => {
    const e1 = t.createExperiment('one');
    const e2 = t.createExperiment('two');
    const r1 = t.createRun({ experimentId: e1.experimentId, runName: 'r1' }).info.runId;
    t.createRun({ experimentId: e2.experimentId, runName: 'r2' });
    const model = new RunsTreeModel();
    assert.equal(model.apply(t.changesSince()).rootsChanged, true);

    t.logMetric(r1, { key: 'loss', value: 0.5, step: 1, timestamp: 2 });
    let u = model.apply(t.changesSince(model.changeMarker));
    assert.deepEqual(u, { unchanged: false, rootsChanged: false, experiments: [e1.experimentId] });
    assert.equal(model.nodeOfRun(r1)!.description, 'loss 0.5');

    assert.equal(model.apply(t.changesSince(model.changeMarker)).unchanged, true);

    t.updateRun(r1, { status: 'FINISHED' });
    u = model.apply(t.changesSince(model.changeMarker));
    assert.equal(u.rootsChanged, true, 'the running count in the experiment row changed');
    assert.equal(model.runningRuns().length, 1);

    t.deleteRun(r1);
    u = model.apply(t.changesSince(model.changeMarker));
    assert.equal(model.getRun(r1), undefined);
    assert.equal(model.roots().find((n) => n.label === 'one')!.description, 'no runs');

    t.createExperiment('three');
    u = model.apply(t.changesSince(model.changeMarker));
    assert.equal(u.rootsChanged, true);
    assert.deepEqual(model.roots().map((n) => n.label), ['one', 'three', 'two']);
  });
});

test('child runs sit under their parent; a long list ends with a "more" row', () => {
  withTracker((t) => {
    const parent = t.createRun({ runName: 'sweep' }).info.runId;
    const child = t.createRun({ runName: 'trial-1', tags: [{ key: PARENT_RUN_TAG, value: parent }] }).info.runId;
    for (let i = 0; i < 4; i++) t.createRun({ runName: `extra-${i}` });
    const model = new RunsTreeModel({ maxRunsPerExperiment: 3 });
    model.apply(t.changesSince());
    const [exp] = model.roots();
    const top = model.children(exp!);
    assert.equal(top.length, 4);
    assert.equal(top[3]!.kind, 'more');
    assert.equal(top[3]!.label, '2 more runs');
    assert.ok(!top.some((n) => n.runId === child), 'the child run is not at the top level');
    const parentNode = model.nodeOfRun(parent)!;
    assert.equal(parentNode.collapsible, 'collapsed');
    assert.deepEqual(model.children(parentNode).map((n) => n.label), ['trial-1']);
    assert.equal(model.parentOf(model.nodeOfRun(child)!)!.id, `run:${parent}`);
    assert.equal(model.parentOf(parentNode)!.id, exp!.id);
  });
});

test('number and duration formats; summaries keep NaN', () => {
  assert.equal(RUN_NOTE_TAG, NOTE_TAG);
  assert.equal(formatMetricValue(0.912345), '0.9123');
  assert.equal(formatMetricValue(42), '42');
  assert.equal(formatMetricValue(1234.5678), '1235');
  assert.equal(formatMetricValue(0.0000123), '1.23e-5');
  assert.equal(formatMetricValue(NaN), 'NaN');
  assert.equal(formatMetricValue(-Infinity), '-∞');
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(12_340), '12.3 s');
  assert.equal(formatDuration(245_000), '4 min 05 s');
  assert.equal(formatDuration(7_380_000), '2 h 03 min');
  withTracker((t) => {
    const run = t.createRun({ runName: 'nan' }).info.runId;
    t.logMetric(run, { key: 'loss', value: NaN, step: 0, timestamp: 1 });
    const s = summarizeRun(t.getRun(run));
    assert.ok(Number.isNaN(s.metrics.get('loss')));
    assert.deepEqual(keyMetricsOf(s).map(([k]) => k), ['loss']);
  });
});
