// What the Compare Runs host asks the tracker (core/views/runTableQuery.ts), on a real tracker: the
// compared runs, filter matches and filter errors with their position, the experiment opened from
// the palette, and inline edits written back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTE_TAG, Tracker } from '../../core/tracker/tracker';
import { applyCellEdit, comparedRuns, matchingRunIds, mostRecentExperimentId } from '../../core/views/runTableQuery';
import { tempWorkspace } from '../support/tempWorkspace';

function withRuns(fn: (t: Tracker, ids: { a: string; b: string; c: string; other: string }, exp: string, otherExp: string) => void): void {
  let clock = 1_700_000_000_000;
  const t = Tracker.open(tempWorkspace(), { now: () => (clock += 1000) });
  try {
    const exp = t.createExperiment('churn').experimentId;
    const otherExp = t.createExperiment('vision').experimentId;
    const make = (e: string, name: string, acc: number) => {
      const id = t.createRun({ experimentId: e, runName: name, startTime: (clock += 1000) }).info.runId;
      t.logBatch(id, { metrics: [{ key: 'acc', value: acc, step: 0, timestamp: clock }], params: [{ key: 'opt', value: acc > 0.5 ? 'adam' : 'sgd' }] });
      return id;
    };
    const a = make(exp, 'a', 0.9);
    const b = make(exp, 'b', 0.4);
    const c = make(exp, 'c', 0.7);
    const other = make(otherExp, 'z', 0.99);
    fn(t, { a, b, c, other }, exp, otherExp);
  } finally {
    t.close();
  }
}

test('compared runs: an experiment newest first, or the picked runs (deleted ones left out)', () => {
  withRuns((t, { a, b, c, other }, exp) => {
    assert.deepEqual(comparedRuns(t, { experimentIds: [exp] }).map((r) => r.info.runName), ['c', 'b', 'a']);
    t.deleteRun(b);
    assert.deepEqual(comparedRuns(t, { experimentIds: [exp] }).map((r) => r.info.runName), ['c', 'a']);
    assert.deepEqual(comparedRuns(t, { experimentIds: [exp], runIds: [a, b, other, 'f'.repeat(32)] }).map((r) => r.info.runName), ['a', 'z']);
    assert.equal(comparedRuns(t, { experimentIds: [exp], runIds: [c] })[0]!.info.runId, c);
  });
});

test('a filter gives the matching ids of the scope; a bad one its position and message', () => {
  withRuns((t, { a, b, c }, exp) => {
    const ok = matchingRunIds(t, { experimentIds: [exp] }, "metrics.acc > 0.5 and params.opt = 'adam'");
    assert.ok('runIds' in ok);
    assert.deepEqual(new Set(ok.runIds), new Set([a, c]), 'the other experiment is out of scope');
    const picked = matchingRunIds(t, { experimentIds: [exp], runIds: [a, b] }, 'metrics.acc > 0.5');
    assert.deepEqual(picked, { runIds: [a] });
    const bad = matchingRunIds(t, { experimentIds: [exp] }, 'metrics.acc >> 0.5');
    assert.ok('position' in bad, JSON.stringify(bad));
    assert.equal(bad.position, 13);
    assert.match(bad.message, /^Invalid filter at position 13: /);
    const unknown = matchingRunIds(t, { experimentIds: [exp] }, 'colour = 1');
    assert.ok('position' in unknown && unknown.position === 0, JSON.stringify(unknown));
  });
});

test('the palette opens the experiment of the most recent run', () => {
  withRuns((t, _ids, exp, otherExp) => {
    assert.equal(mostRecentExperimentId(t), otherExp);
    t.createRun({ experimentId: exp, startTime: 1_800_000_000_000 });
    assert.equal(mostRecentExperimentId(t), exp);
  });
  const empty = Tracker.open(tempWorkspace());
  try {
    assert.equal(mostRecentExperimentId(empty), undefined);
  } finally {
    empty.close();
  }
});

test('inline edits: name, note and tags are written; an empty name and system tags are refused', () => {
  withRuns((t, { a }) => {
    applyCellEdit(t, a, 'attributes.run_name', 'renamed');
    applyCellEdit(t, a, `tags.${NOTE_TAG}`, 'a note');
    applyCellEdit(t, a, 'tags.team', 'ml');
    let run = t.getRun(a);
    assert.equal(run.info.runName, 'renamed');
    assert.equal(run.tags.find((x) => x.key === NOTE_TAG)?.value, 'a note');
    assert.equal(run.tags.find((x) => x.key === 'team')?.value, 'ml');
    applyCellEdit(t, a, 'tags.team', '');
    applyCellEdit(t, a, `tags.${NOTE_TAG}`, '');
    applyCellEdit(t, a, 'tags.never-set', '');
    run = t.getRun(a);
    assert.ok(!run.tags.some((x) => x.key === 'team' || x.key === NOTE_TAG));
    assert.throws(() => applyCellEdit(t, a, 'attributes.run_name', '  '), /run name must be a non-empty string/);
    assert.throws(() => applyCellEdit(t, a, 'tags.mlflow.user', 'x'), /cannot be edited/);
    assert.throws(() => applyCellEdit(t, a, 'metrics.acc', '1'), /cannot be edited/);
  });
});
