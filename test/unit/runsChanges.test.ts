// Change detection for the Runs view: the tracker's change numbers (schema migration 2,
// `changesSince`) and the file watcher that says when to ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Tracker } from '../../core/tracker/tracker';
import { SCHEMA_VERSION } from '../../core/tracker/schema';
import { openSqlDatabase } from '../../core/tracker/sqlStore';
import { watchTracker } from '../../core/tracker/trackerWatcher';
import { trackerDbPath } from '../../core/workspace/workspacePath';
import { tempWorkspace } from '../support/tempWorkspace';

const ids = (c: { runs: { info: { runId: string } }[] }) => c.runs.map((r) => r.info.runId).sort();

test('a first load returns every active run and experiment; later calls only what changed', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const e = t.createExperiment('churn');
    const a = t.createRun({ experimentId: e.experimentId, runName: 'a' }).info.runId;
    const b = t.createRun({ experimentId: e.experimentId, runName: 'b' }).info.runId;
    const gone = t.createRun({ runName: 'gone' }).info.runId;
    t.deleteRun(gone);

    const first = t.changesSince();
    assert.equal(first.full, true);
    assert.deepEqual(ids(first), [a, b].sort());
    assert.deepEqual(first.experiments.map((x) => x.name).sort(), ['Default', 'churn']);

    const none = t.changesSince(first.marker);
    assert.equal(none.full, false);
    assert.deepEqual(none.runs, []);
    assert.deepEqual(none.experiments, []);
    assert.equal(none.marker, first.marker);

    t.logMetric(a, { key: 'loss', value: 0.5, step: 1, timestamp: 1 });
    const one = t.changesSince(first.marker);
    assert.deepEqual(ids(one), [a]);
    assert.equal(one.runs[0]!.metrics[0]!.value, 0.5);
    assert.ok(one.marker > first.marker);
    assert.deepEqual(t.changesSince(one.marker).runs, []);
  } finally {
    t.close();
  }
});

test('every kind of run write moves the run past the marker, deletes included', async () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const run = t.createRun({ runName: 'r' }).info.runId;
    const writes: [string, () => unknown][] = [
      ['logBatch metrics', () => t.logBatch(run, { metrics: [{ key: 'acc', value: 0.9, step: 0, timestamp: 5 }] })],
      ['logParam', () => t.logParam(run, { key: 'lr', value: '0.1' })],
      ['setTag', () => t.setTag(run, { key: 'team', value: 'ml' })],
      ['deleteTag', () => t.deleteTag(run, 'team')],
      ['renameRun', () => t.renameRun(run, 'renamed')],
      ['setNote', () => t.setNote(run, 'a note')],
      ['updateRun', () => t.updateRun(run, { status: 'FINISHED' })],
      ['logInputs', () => t.logInputs(run, [{ dataset: { name: 'd', digest: 'abc', sourceType: 'local', source: 'x' }, tags: [] }])],
      ['putArtifact', () => t.putArtifact(run, 'model.txt', Buffer.from('weights'))],
      ['deleteRun', () => t.deleteRun(run)],
      ['restoreRun', () => t.restoreRun(run)],
    ];
    for (const [what, write] of writes) {
      const before = t.changeMarker();
      await write();
      const c = t.changesSince(before);
      assert.deepEqual(ids(c), [run], `${what} is reported`);
      assert.ok(c.marker > before, `${what} advances the marker`);
    }
    t.deleteRun(run);
    const before = t.changeMarker() - 1;
    const c = t.changesSince(before);
    assert.equal(c.runs[0]!.info.lifecycleStage, 'deleted', 'a deleted run is reported so viewers drop it');
    // A failed write (immutable param) changes nothing.
    t.restoreRun(run);
    const m = t.changeMarker();
    assert.throws(() => t.logParam(run, { key: 'lr', value: '0.2' }));
    assert.equal(t.changeMarker(), m);
    assert.deepEqual(t.changesSince(m).runs, []);
  } finally {
    t.close();
  }
});

test('experiment writes are reported; reads never advance the marker', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const m0 = t.changeMarker();
    const e = t.createExperiment('vision');
    const c1 = t.changesSince(m0);
    assert.deepEqual(c1.experiments.map((x) => x.name), ['vision']);
    t.setExperimentTag(e.experimentId, { key: 'owner', value: 'me' });
    const c2 = t.changesSince(c1.marker);
    assert.deepEqual(c2.experiments[0]!.tags, { owner: 'me' });
    const m = t.changeMarker();
    t.searchRuns();
    t.searchExperiments();
    t.changesSince();
    assert.equal(t.changeMarker(), m);
  } finally {
    t.close();
  }
});

test('writes from another connection (another process) are seen through the marker', () => {
  const ws = tempWorkspace();
  const viewer = Tracker.open(ws);
  const writer = Tracker.open(ws);
  try {
    const first = viewer.changesSince();
    const r = writer.createRun({ runName: 'from-elsewhere' }).info.runId;
    writer.logMetric(r, { key: 'loss', value: 1, step: 0, timestamp: 1 });
    const c = viewer.changesSince(first.marker);
    assert.deepEqual(ids(c), [r]);
    assert.equal(c.runs[0]!.info.runName, 'from-elsewhere');
  } finally {
    writer.close();
    viewer.close();
  }
});

test('a tracker at schema 1 is migrated to the current schema; its existing runs count as changed once', () => {
  const ws = tempWorkspace();
  const t = Tracker.open(ws);
  const run = t.createRun({ runName: 'old' }).info.runId;
  t.close();
  // Take the database back to what schema 1 looked like.
  const db = openSqlDatabase(trackerDbPath(ws));
  db.exec(
    'DROP TABLE model_alias_history; DROP TABLE registered_model_aliases; DROP TABLE model_version_files; DROP TABLE model_version_tags; ' +
      'DROP TABLE model_versions; DROP TABLE registered_model_tags; DROP TABLE registered_models; ' +
      'DROP TABLE logged_model_artifacts; DROP TABLE run_model_links; DROP TABLE logged_model_metrics; DROP TABLE logged_model_params; ' +
      'DROP TABLE logged_model_tags; DROP TABLE logged_models; ' +
      'ALTER TABLE sessions DROP COLUMN pid_ns; ALTER TABLE sessions DROP COLUMN boot_id; ' +
      'DROP INDEX runs_by_change; ALTER TABLE runs DROP COLUMN change_seq; ALTER TABLE experiments DROP COLUMN change_seq; DROP TABLE change_counter; PRAGMA user_version = 1',
  );
  db.close();

  const t2 = Tracker.open(ws);
  try {
    assert.equal(SCHEMA_VERSION, 6);
    assert.equal(Number(t2.db.prepare('PRAGMA user_version').get()!.user_version), SCHEMA_VERSION);
    assert.deepEqual(ids(t2.changesSince(0)), [run]);
    const m = t2.changeMarker();
    t2.renameRun(run, 'new');
    assert.equal(t2.changesSince(m).runs[0]!.info.runName, 'new');
  } finally {
    t2.close();
  }
});

/** Resolves when `watchTracker` has called back `n` times, or rejects after `ms`. */
function waitForCalls(calls: { n: number }, n: number, ms: number): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (calls.n >= n) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`expected ${n} change callbacks within ${ms} ms, got ${calls.n}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the watcher calls back once for a burst of writes from another connection', async () => {
  const ws = tempWorkspace();
  const writer = Tracker.open(ws);
  const calls = { n: 0 };
  const w = watchTracker(ws, () => calls.n++, { debounceMs: 100, maxWaitMs: 1000 });
  try {
    await sleep(50);
    const run = writer.createRun({ runName: 'burst' }).info.runId;
    for (let i = 0; i < 20; i++) writer.logMetric(run, { key: 'loss', value: 1 / (i + 1), step: i, timestamp: i });
    await waitForCalls(calls, 1, 2000);
    await sleep(300);
    assert.equal(calls.n, 1, 'one callback for the burst');
    writer.setNote(run, 'later');
    await waitForCalls(calls, 2, 2000);
  } finally {
    w.dispose();
    writer.close();
  }
});

test('the watcher keeps calling back during a long stream of writes (max wait)', async () => {
  const ws = tempWorkspace();
  const writer = Tracker.open(ws);
  const calls = { n: 0 };
  const w = watchTracker(ws, () => calls.n++, { debounceMs: 100, maxWaitMs: 300 });
  try {
    const run = writer.createRun({ runName: 'stream' }).info.runId;
    await sleep(50);
    const until = Date.now() + 1000;
    for (let i = 0; Date.now() < until; i++) {
      writer.logMetric(run, { key: 'loss', value: i, step: i, timestamp: i });
      await sleep(30);
    }
    assert.ok(calls.n >= 2, `expected callbacks while writes keep coming, got ${calls.n}`);
  } finally {
    w.dispose();
    writer.close();
  }
});

test('the watcher waits for .runwise/ to be created, then follows the tracker', async () => {
  const ws = tempWorkspace();
  const calls = { n: 0 };
  const w = watchTracker(ws, () => calls.n++, { debounceMs: 50 });
  let writer: Tracker | undefined;
  try {
    await sleep(50);
    writer = Tracker.open(ws); // creates .runwise/tracker.db
    await waitForCalls(calls, 1, 2000);
    const seen = calls.n;
    await sleep(100);
    writer.createRun({ runName: 'after-create' });
    await waitForCalls(calls, seen + 1, 2000);
  } finally {
    w.dispose();
    writer?.close();
  }
});

test('a disposed watcher stays quiet; files other than the tracker are ignored', async () => {
  const ws = tempWorkspace();
  const writer = Tracker.open(ws);
  const calls = { n: 0 };
  const w = watchTracker(ws, () => calls.n++, { debounceMs: 30 });
  try {
    await sleep(50);
    mkdirSync(path.join(ws, '.runwise', 'artifacts', 'x'), { recursive: true });
    await sleep(150);
    assert.equal(calls.n, 0, 'a new folder in .runwise/ is not a tracker write');
    w.dispose();
    writer.createRun({ runName: 'unseen' });
    await sleep(150);
    assert.equal(calls.n, 0);
  } finally {
    w.dispose();
    writer.close();
  }
});
