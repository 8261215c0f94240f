// The Runs view's model: experiments → runs as plain nodes, built from a real tracker (and, for
// data the tracker refuses to write today, from hand-made changes as an old database yields them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Experiment, Run } from '../../core/tracker/model';
import { PARENT_RUN_TAG, Tracker, type TrackerChanges } from '../../core/tracker/tracker';
import { RunsTreeModel, keyMetricsOf, keyMetricsText, summarizeRun, type RunsTreeNode } from '../../core/views/runsTreeModel';
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

test("an experiment's first run makes it another row (VS Code keeps a row's first collapsed state by id): it shows expanded, its run visible", () => {
  withTracker((t) => {
    const e = t.createExperiment('e2e');
    const model = new RunsTreeModel();
    model.apply(t.changesSince());
    const empty = model.roots().find((r) => r.label === 'e2e')!;
    assert.equal(empty.collapsible, 'none');
    t.createRun({ experimentId: e.experimentId, runName: 'first' });
    model.apply(t.changesSince(model.changeMarker));
    const withRun = model.roots().find((r) => r.label === 'e2e')!;
    assert.equal(withRun.collapsible, 'expanded');
    assert.notEqual(withRun.id, empty.id);
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
    // An evaluation run (it records the model's hash) offers its report.
    t.setTag(old, { key: 'runwise.model.sha256', value: 'ab'.repeat(32) });
    model.apply(t.changesSince());
    assert.equal(model.children(model.roots()[0]!).find((r) => r.runId === old)!.contextValue, 'runwise.run.evaluation');
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

test('summaries keep NaN; descriptions are compact, tooltips carry every digit', () => {
  withTracker((t) => {
    const run = t.createRun({ runName: 'nan' }).info.runId;
    t.logMetric(run, { key: 'loss', value: NaN, step: 0, timestamp: 1 });
    const s = summarizeRun(t.getRun(run));
    assert.ok(Number.isNaN(s.metrics.get('loss')));
    assert.deepEqual(keyMetricsOf(s, [], 3).map(([k]) => k), ['loss']);
    t.logMetric(run, { key: 'acc', value: 0.912345678, step: 0, timestamp: 1 });
    const model = new RunsTreeModel();
    model.apply(t.changesSince());
    const node = model.nodeOfRun(run)!;
    assert.equal(node.description, 'acc 0.9123 · loss NaN');
    assert.equal(model.metricsText(model.getRun(run)!), node.description, 'the run pick list shows what the row shows');
    const configured = new RunsTreeModel({ keyMetrics: ['loss'], maxMetrics: 1 });
    configured.apply(t.changesSince());
    assert.equal(configured.metricsText(configured.getRun(run)!), 'loss NaN', 'with the settings the row uses');
    assert.equal(keyMetricsText(configured.getRun(run)!, ['loss'], 1), configured.nodeOfRun(run)!.description);
    assert.match(node.tooltip, /\n {2}acc = 0\.912345678\n {2}loss = NaN/);
  });
});

test('the tooltip gives the start in local time, as the details panel and the CLI do', () => {
  const zone = process.env.TZ;
  process.env.TZ = 'Asia/Kolkata'; // UTC+05:30 all year: local and UTC differ by day and hour
  try {
    withTracker((t) => {
      const start = Date.UTC(2025, 5, 1, 23, 30, 0);
      const run = t.createRun({ runName: 'r', startTime: start }).info.runId;
      t.updateRun(run, { status: 'FINISHED', endTime: start + 245_000 });
      const model = new RunsTreeModel();
      model.apply(t.changesSince());
      assert.match(model.nodeOfRun(run)!.tooltip, /\nfinished · started 2025-06-02 05:00:00, took 4 min 05 s\n/);
    });
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

test('a deleted experiment leaves the view with its runs; restoring it brings them back', () => {
  withTracker((t) => {
    const kept = t.createExperiment('kept');
    const gone = t.createExperiment('gone');
    t.createRun({ experimentId: kept.experimentId, runName: 'k' });
    const running = t.createRun({ experimentId: gone.experimentId, runName: 'g1' }).info.runId;
    const child = t.createRun({ experimentId: gone.experimentId, runName: 'g2', tags: [{ key: PARENT_RUN_TAG, value: running }] }).info.runId;
    const model = new RunsTreeModel();
    model.apply(t.changesSince());
    assert.deepEqual(model.roots().map((n) => n.label), ['gone', 'kept']);

    t.deleteExperiment(gone.experimentId);
    const u = model.apply(t.changesSince(model.changeMarker));
    assert.equal(u.rootsChanged, true);
    assert.deepEqual(model.roots().map((n) => n.label), ['kept']);
    assert.equal(model.getRun(running), undefined);
    assert.equal(model.nodeOfRun(child), undefined);
    assert.deepEqual(model.runningRuns().map((r) => r.runName), ['k'], 'the status bar no longer counts its running run');
    assert.equal(model.runCount, 1);

    t.restoreExperiment(gone.experimentId);
    assert.equal(model.apply(t.changesSince(model.changeMarker)).rootsChanged, true);
    assert.deepEqual(model.roots().map((n) => n.label), ['gone', 'kept']);
    const [g] = model.roots();
    assert.deepEqual(model.children(g!).map((n) => n.label), ['g1']);
    assert.deepEqual(model.children(model.nodeOfRun(running)!).map((n) => n.label), ['g2']);

    // A fresh load of a tracker holding a deleted experiment does not show it either.
    t.deleteExperiment(gone.experimentId);
    const fresh = new RunsTreeModel();
    fresh.apply(t.changesSince());
    assert.deepEqual(fresh.roots().map((n) => n.label), ['kept']);
  });
});

test('an experiment reported deleted hides its runs even when the runs themselves are not reported', () => {
  const model = new RunsTreeModel();
  const exp = experiment('1', 'vision');
  model.apply({ marker: 1, full: true, experiments: [exp], runs: [fakeRun('a', null, 1, '1'), fakeRun('b', null, 2, '1')] });
  assert.equal(model.runCount, 2);
  const u = model.apply({ marker: 2, full: false, experiments: [{ ...exp, lifecycleStage: 'deleted' }], runs: [] });
  assert.deepEqual([u.rootsChanged, model.roots().length, model.runCount, model.runningRuns().length], [true, 0, 0, 0]);
  model.apply({ marker: 3, full: false, experiments: [exp], runs: [] });
  assert.deepEqual(model.children(model.roots()[0]!).map((n) => n.label), [idOf('b'), idOf('a')]);
});

// -----------------------------------------------------------------------------------------------
// Parent cycles and other broken parent links

/** A 32-hex run id made from a short name (distinct names, distinct ids). */
const idOf = (name: string) => [...name].map((ch) => ch.charCodeAt(0).toString(16)).join('').padEnd(32, '0');

function experiment(experimentId: string, name: string): Experiment {
  return { experimentId, name, artifactLocation: '', lifecycleStage: 'active', creationTime: 0, lastUpdateTime: 0, tags: {} };
}

/** A run as the tracker reports it, with any parent id (existing or not); named by its own id. */
function fakeRun(name: string, parent: string | null, startTime: number, experimentId = '0'): Run {
  const runId = idOf(name);
  return {
    info: { runId, runName: runId, experimentId, userId: '', status: 'FINISHED', startTime, endTime: startTime + 1, artifactUri: '', lifecycleStage: 'active', parentRunId: parent },
    metrics: [],
    params: [],
    tags: [],
    inputs: [],
  };
}

/** Every row under the roots, depth first, with the row it was listed under. */
function walk(model: RunsTreeModel): { node: RunsTreeNode; under: RunsTreeNode }[] {
  const out: { node: RunsTreeNode; under: RunsTreeNode }[] = [];
  const visit = (under: RunsTreeNode, depth: number) => {
    assert.ok(depth < 10_000, 'the tree has an end');
    for (const node of model.children(under)) {
      out.push({ node, under });
      visit(node, depth + 1);
    }
  };
  for (const root of model.roots()) visit(root, 0);
  return out;
}

/** Follows parentOf from a row up to the experiment; fails if the chain is longer than the run count. */
function chainToRoot(model: RunsTreeModel, node: RunsTreeNode): RunsTreeNode[] {
  const chain: RunsTreeNode[] = [];
  for (let cur: RunsTreeNode | undefined = model.parentOf(node); cur; cur = model.parentOf(cur)) {
    chain.push(cur);
    assert.ok(chain.length <= model.runCount + 1, `parentOf from ${node.id} does not end`);
  }
  return chain;
}

test('parent cycles: runs on a cycle are listed under their experiment; a run hanging off one stays under its parent', () => {
  const model = new RunsTreeModel();
  const a = idOf('a');
  const b = idOf('b');
  const c = idOf('c');
  const self = idOf('e');
  const orphan = idOf('d');
  model.apply({
    marker: 1,
    full: true,
    experiments: [experiment('0', 'Default')],
    runs: [fakeRun('a', b, 1), fakeRun('b', a, 2), fakeRun('c', a, 3), fakeRun('e', self, 4), fakeRun('d', idOf('9'), 5)],
  } satisfies TrackerChanges);
  const [root] = model.roots();
  assert.deepEqual(model.children(root!).map((n) => n.runId), [orphan, self, b, a], 'A→B→A, E→E and a missing parent: top level');
  assert.deepEqual(model.children(model.nodeOfRun(a)!).map((n) => n.runId), [c]);
  assert.equal(model.nodeOfRun(a)!.collapsible, 'collapsed');
  assert.equal(model.nodeOfRun(b)!.collapsible, 'none', 'B is not listed under A, nor A under B');
  assert.equal(model.nodeOfRun(self)!.collapsible, 'none');
  assert.deepEqual(chainToRoot(model, model.nodeOfRun(c)!).map((n) => n.id), [`run:${a}`, root!.id]);
  for (const id of [a, b, self, orphan]) assert.deepEqual(chainToRoot(model, model.nodeOfRun(id)!).map((n) => n.id), [root!.id]);
});

test('property: on any parent map every run is listed exactly once, under the row parentOf names, and parentOf ends', () => {
  const names = 'abcdefghijkl'.split('');
  const parentMaps = fc
    .integer({ min: 1, max: names.length })
    .chain((n) =>
      fc.tuple(
        // Each run's parent: none, a missing run, or any run (itself included), in one of two experiments.
        fc.array(fc.oneof(fc.constant<number | null>(null), fc.constant(-1), fc.integer({ min: 0, max: n - 1 })), { minLength: n, maxLength: n }),
        fc.array(fc.constantFrom('0', '1'), { minLength: n, maxLength: n }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: n, maxLength: n }),
      ),
    );
  fc.assert(
    fc.property(parentMaps, ([parents, experiments, starts]) => {
      const runs = parents.map((p, i) => fakeRun(names[i]!, p === null ? null : p === -1 ? idOf('9') : idOf(names[p]!), starts[i]!, experiments[i]));
      const model = new RunsTreeModel({ maxRunsPerExperiment: 1000 });
      model.apply({ marker: 1, full: true, experiments: [experiment('0', 'Default'), experiment('1', 'other')], runs });
      const rows = walk(model).filter((r) => r.node.kind === 'run');
      assert.deepEqual(rows.map((r) => r.node.runId).sort(), runs.map((r) => r.info.runId).sort(), 'each run exactly once');
      for (const { node, under } of rows) {
        assert.equal(model.parentOf(node)?.id, under.id, 'parentOf names the row it is listed under');
        const chain = chainToRoot(model, node);
        assert.equal(chain.at(-1)?.kind, 'experiment');
        assert.equal(chain.at(-1)?.experimentId, node.experimentId);
        assert.equal(model.nodeOfRun(node.runId!)!.collapsible, model.children(node).length > 0 ? 'collapsed' : 'none');
      }
    }),
    { numRuns: 500 },
  );
});
