import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Tracker, FAILURE_REASON_TAG, NOTE_TAG } from '../../core/tracker/tracker';
import { TrackerError } from '../../core/tracker/trackerError';
import { openSqlDatabase } from '../../core/tracker/sqlStore';
import { checkTrackerSchema, SCHEMA_VERSION } from '../../core/tracker/schema';
import { trackerDbPath } from '../../core/workspace/workspacePath';
import { currentProcess, isAlive } from '../../core/tracker/processOwner';
import { tempWorkspace } from '../support/tempWorkspace';

const backend = process.env.RUNWISE_SQLITE_BACKEND ?? 'better-sqlite3 (default)';

function open(ws = tempWorkspace()): Tracker {
  return Tracker.open(ws);
}

function rejects(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TrackerError, `expected a TrackerError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test(`store backend in use matches the request (${backend})`, () => {
  const t = open();
  try {
    const wanted = process.env.RUNWISE_SQLITE_BACKEND ?? 'better-sqlite3';
    assert.equal(t.db.backend, wanted);
    assert.equal(String(t.db.prepare('PRAGMA journal_mode').get()!.journal_mode), 'wal');
    assert.ok(Number(t.db.prepare('PRAGMA busy_timeout').get()!.timeout) >= 1000);
    assert.equal(Number(t.db.prepare('PRAGMA user_version').get()!.user_version), SCHEMA_VERSION);
  } finally {
    t.close();
  }
});

test('a new tracker has the Default experiment 0; experiments are created, found and tagged', () => {
  const t = open();
  try {
    assert.equal(t.getExperiment('0').name, 'Default');
    const e = t.createExperiment('churn', { tags: [{ key: 'team', value: 'ml' }] });
    assert.equal(e.artifactLocation, `mlflow-artifacts:/${e.experimentId}`);
    assert.deepEqual(t.getExperimentByName('churn')?.tags, { team: 'ml' });
    rejects(() => t.createExperiment('churn'), 'RESOURCE_ALREADY_EXISTS');
    rejects(() => t.createExperiment('   '), 'INVALID_PARAMETER_VALUE');
    rejects(() => t.getExperiment('999'), 'RESOURCE_DOES_NOT_EXIST');
    rejects(() => t.getExperiment('abc'), 'INVALID_PARAMETER_VALUE');
    assert.equal(t.ensureExperiment('churn').experimentId, e.experimentId);
  } finally {
    t.close();
  }
});

test('runs: create, name and note as MLflow tags, update status, soft delete', () => {
  const t = open();
  try {
    const run = t.createRun({ runName: 'baseline', startTime: 1000 });
    assert.match(run.info.runId, /^[0-9a-f]{32}$/);
    assert.equal(run.info.status, 'RUNNING');
    assert.equal(run.info.artifactUri, `mlflow-artifacts:/0/${run.info.runId}/artifacts`);
    assert.deepEqual(run.tags, [{ key: 'mlflow.runName', value: 'baseline' }]);
    assert.match(t.createRun().info.runName, /^[a-z]+-[a-z]+-\d{3}$/);

    t.renameRun(run.info.runId, 'baseline-v2');
    t.setNote(run.info.runId, 'first try');
    const r2 = t.getRun(run.info.runId);
    assert.equal(r2.info.runName, 'baseline-v2');
    assert.deepEqual(Object.fromEntries(r2.tags.map((x) => [x.key, x.value])), {
      'mlflow.runName': 'baseline-v2',
      [NOTE_TAG]: 'first try',
    });

    const info = t.updateRun(run.info.runId, { status: 'FINISHED', endTime: 5000 });
    assert.equal(info.status, 'FINISHED');
    assert.equal(info.endTime, 5000);
    rejects(() => t.updateRun(run.info.runId, { status: 'DONE' as never }), 'INVALID_PARAMETER_VALUE');

    const child = t.createRun({ tags: [{ key: 'mlflow.parentRunId', value: run.info.runId }] });
    assert.equal(child.info.parentRunId, run.info.runId);

    t.deleteRun(run.info.runId);
    assert.equal(t.getRun(run.info.runId).info.lifecycleStage, 'deleted');
    rejects(() => t.logParam(run.info.runId, { key: 'a', value: '1' }), 'INVALID_PARAMETER_VALUE', /must be in the 'active' state/);
    t.restoreRun(run.info.runId);
    t.logParam(run.info.runId, { key: 'a', value: '1' });
    rejects(() => t.getRun('0123456789abcdef0123456789abcdef'), 'RESOURCE_DOES_NOT_EXIST');
  } finally {
    t.close();
  }
});

test('params are immutable: same value again is fine, a different value fails and the batch lands nothing', () => {
  const t = open();
  try {
    const id = t.createRun().info.runId;
    t.logBatch(id, { params: [{ key: 'lr', value: '0.01' }] });
    t.logBatch(id, { params: [{ key: 'lr', value: '0.01' }] });
    rejects(
      () => t.logBatch(id, { params: [{ key: 'lr', value: '0.1' }], metrics: [{ key: 'acc', value: 1, step: 0, timestamp: 1 }] }),
      'INVALID_PARAMETER_VALUE',
      /Changing param values is not allowed. Param with key='lr' was already logged with value='0.01'/,
    );
    rejects(
      () => t.logBatch(id, { params: [{ key: 'x', value: '1' }, { key: 'x', value: '2' }] }),
      'INVALID_PARAMETER_VALUE',
      /Duplicate parameter keys/,
    );
    const run = t.getRun(id);
    assert.deepEqual(run.params, [{ key: 'lr', value: '0.01' }]);
    assert.deepEqual(run.metrics, []);
  } finally {
    t.close();
  }
});

test('metrics are append-only with the latest value kept by step, then timestamp', () => {
  const t = open();
  try {
    const id = t.createRun().info.runId;
    t.logBatch(id, {
      metrics: [
        { key: 'loss', value: 0.9, step: 0, timestamp: 10 },
        { key: 'loss', value: 0.5, step: 2, timestamp: 11 },
        { key: 'loss', value: 0.7, step: 1, timestamp: 30 },
      ],
    });
    t.logMetric(id, { key: 'loss', value: 0.4, step: 2, timestamp: 12 });
    t.logMetric(id, { key: 'loss', value: 0.1, step: 1, timestamp: 99 }); // an older step never wins
    t.logMetric(id, { key: 'acc', value: NaN, step: 0, timestamp: 1 });
    t.logMetric(id, { key: 'big', value: Infinity, step: 0, timestamp: 1 });
    t.logMetric(id, { key: 'a-small', value: -Infinity, step: 0, timestamp: 1 });
    const run = t.getRun(id);
    assert.deepEqual(
      run.metrics.map((m) => [m.key, m.value, m.step]),
      [
        ['a-small', -Infinity, 0],
        ['acc', NaN, 0],
        ['big', Infinity, 0],
        ['loss', 0.4, 2],
      ],
    );
    const hist = t.getMetricHistory(id, 'loss').items.map((m) => [m.step, m.value]);
    assert.deepEqual(hist, [
      [0, 0.9],
      [1, 0.7],
      [1, 0.1],
      [2, 0.5],
      [2, 0.4],
    ]);
    assert.deepEqual(t.getMetricHistory(id, 'nope').items, []);
    rejects(() => t.logMetric(id, { key: 'x', value: 'a' as never, step: 0, timestamp: 1 }), 'INVALID_PARAMETER_VALUE', /valid double/);
    rejects(() => t.logMetric(id, { key: 'x', value: 1, step: 1.5, timestamp: 1 }), 'INVALID_PARAMETER_VALUE', /Step must be an integer/);
    rejects(() => t.logMetric(id, { key: '', value: 1, step: 1, timestamp: 1 }), 'INVALID_PARAMETER_VALUE');
  } finally {
    t.close();
  }
});

test('metric history pages return every point exactly once, in step order', () => {
  const t = open();
  try {
    const id = t.createRun().info.runId;
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: 'm', value: i, step: (i * 7919) % 1000, timestamp: i }));
    t.logBatch(id, { metrics });
    const seen: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = t.getMetricHistory(id, 'm', { maxResults: 300, ...(token ? { pageToken: token } : {}) });
      seen.push(...page.items.map((m) => m.value));
      token = page.nextPageToken;
      pages++;
    } while (token);
    assert.equal(pages, 9);
    assert.deepEqual([...seen].sort((a, b) => a - b), metrics.map((m) => m.value));
    rejects(() => t.getMetricHistory(id, 'm', { pageToken: 'garbage' }), 'INVALID_PARAMETER_VALUE', /page token/);
  } finally {
    t.close();
  }
});

/** The reference: buckets by floor(step / width), computed in plain JavaScript. */
function referenceBuckets(points: { step: number; value: number; timestamp: number }[], width: number) {
  const byBucket = new Map<number, { step: number; ts: number; last: number; min: number; max: number; count: number }>();
  for (const p of points) {
    const b = Math.floor(p.step / width);
    const c = byBucket.get(b);
    const v = p.value;
    if (!c) {
      byBucket.set(b, { step: p.step, ts: p.timestamp, last: v, min: Number.isNaN(v) ? Infinity : v, max: Number.isNaN(v) ? -Infinity : v, count: 1 });
      continue;
    }
    if (!Number.isNaN(v)) {
      c.min = Math.min(c.min, v);
      c.max = Math.max(c.max, v);
    }
    if (p.step > c.step || (p.step === c.step && p.timestamp >= c.ts)) {
      c.step = p.step;
      c.ts = p.timestamp;
      c.last = v;
    }
    c.count++;
  }
  return [...byBucket.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, c]) => ({ step: c.step, min: c.min === Infinity ? NaN : c.min, max: c.max === -Infinity ? NaN : c.max, last: c.last, count: c.count }));
}

test('downsampled history matches a brute-force reference at every rollup level', () => {
  const t = open();
  try {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const [n, stepSpread, maxPoints] of [
      [500, 1, 1000], // fewer points than asked: one bucket per step
      [5000, 3, 100], // raw level
      [40_000, 2, 500], // 32-step rollups
      [60_000, 40, 50], // 1024-step rollups
      [20_000, 400, 7], // 32768-step rollups
    ] as const) {
      const id = t.createRun().info.runId;
      const points = Array.from({ length: n }, (_, i) => ({
        key: 'v',
        step: Math.floor(rand() * n * stepSpread) - 1000,
        value: rand() < 0.01 ? NaN : Math.round(rand() * 1e6) / 1e3,
        timestamp: i,
      }));
      for (let i = 0; i < points.length; i += 1000) t.logBatch(id, { metrics: points.slice(i, i + 1000) });
      const got = t.getMetricBuckets(id, 'v', maxPoints);
      assert.ok(got.length <= maxPoints, `${got.length} buckets for at most ${maxPoints}`);
      const steps = points.map((p) => p.step);
      let width = 1;
      const lo = Math.min(...steps);
      const hi = Math.max(...steps);
      while (Math.floor(hi / width) - Math.floor(lo / width) + 1 > maxPoints) width *= 2;
      assert.deepEqual(got, referenceBuckets(points, width), `n=${n} width=${width}`);
      assert.equal(got.reduce((s, b) => s + b.count, 0), n);
    }
    assert.deepEqual(t.getMetricBuckets(t.createRun().info.runId, 'none', 10), []);
  } finally {
    t.close();
  }
});

test('artifacts are stored by content, listed like a directory tree, and paths cannot escape', async () => {
  const t = open();
  try {
    const id = t.createRun().info.runId;
    const rec = await t.putArtifact(id, 'model/weights.bin', Buffer.from('abc'));
    assert.equal(rec.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(rec.size, 3);
    await t.putArtifact(id, 'model/config/params.json', Buffer.from('{}'));
    await t.putArtifact(id, 'report.txt', Buffer.from('abc'));
    assert.deepEqual(t.listArtifacts(id), [
      { path: 'model', isDir: true },
      { path: 'report.txt', isDir: false, fileSize: 3 },
    ]);
    assert.deepEqual(t.listArtifacts(id, 'model'), [
      { path: 'model/config', isDir: true },
      { path: 'model/weights.bin', isDir: false, fileSize: 3 },
    ]);
    const opened = t.openArtifact(id, 'report.txt');
    assert.equal(readFileSync(opened.filePath, 'utf8'), 'abc');
    assert.equal(opened.filePath, t.openArtifact(id, 'model/weights.bin').filePath, 'same content is stored once');
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a\\b', '']) {
      await assert.rejects(t.putArtifact(id, bad, Buffer.from('x')), (e: unknown) => e instanceof TrackerError && e.code === 'INVALID_PARAMETER_VALUE');
    }
    rejects(() => t.openArtifact(id, 'missing.txt'), 'RESOURCE_DOES_NOT_EXIST');
  } finally {
    t.close();
  }
});

test('dataset inputs are recorded once per run with their tags', () => {
  const t = open();
  try {
    const id = t.createRun().info.runId;
    const dataset = { name: 'train', digest: 'abc123', sourceType: 'local', source: 'data/train.csv', schema: '{"mlflow_colspec":[]}' };
    t.logInputs(id, [{ dataset, tags: [{ key: 'mlflow.data.context', value: 'training' }] }]);
    t.logInputs(id, [{ dataset, tags: [{ key: 'mlflow.data.context', value: 'training' }] }]);
    assert.deepEqual(t.getRun(id).inputs, [{ dataset, tags: [{ key: 'mlflow.data.context', value: 'training' }] }]);
    rejects(() => t.logInputs(id, [{ dataset: { ...dataset, digest: 'x'.repeat(37) }, tags: [] }]), 'INVALID_PARAMETER_VALUE', /dataset.digest/);
  } finally {
    t.close();
  }
});

test('a run left RUNNING by a process that died is FAILED on the next open, with the reason', () => {
  const ws = tempWorkspace();
  const script = `
    const { Tracker } = require(${JSON.stringify(path.resolve('core/tracker/tracker.ts'))});
    const t = Tracker.open(process.argv[1]);
    const run = t.createRun({ runName: 'doomed' });
    t.logMetric(run.info.runId, { key: 'loss', value: 1, step: 3, timestamp: 4242 });
    process.stdout.write(run.info.runId);
    process.kill(process.pid, 'SIGKILL');`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, ws], { encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const runId = child.stdout.trim();
  const t = Tracker.open(ws);
  try {
    const run = t.getRun(runId);
    assert.equal(run.info.status, 'FAILED');
    assert.equal(run.info.endTime, 4242, 'end time is the last point logged');
    const reason = run.tags.find((x) => x.key === FAILURE_REASON_TAG)?.value ?? '';
    assert.match(reason, /exited without ending it/);
    // A run owned by this live process stays RUNNING across another open.
    const mine = t.createRun().info.runId;
    const t2 = Tracker.open(ws);
    assert.equal(t2.getRun(mine).info.status, 'RUNNING');
    t2.close();
  } finally {
    t.close();
  }
});

test('a tracker from a newer Runwise is refused, not guessed at', () => {
  const ws = tempWorkspace();
  open(ws).close();
  const db = openSqlDatabase(trackerDbPath(ws));
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => Tracker.open(ws), /written by a newer Runwise/);
});

test('run references resolve by id, unique prefix or name', () => {
  const t = open();
  try {
    const a = t.createRun({ runName: 'alpha' }).info.runId;
    assert.equal(t.resolveRunId(a), a);
    assert.equal(t.resolveRunId(a.slice(0, 10)), a);
    assert.equal(t.resolveRunId('alpha'), a);
    rejects(() => t.resolveRunId('nothing-like-it'), 'RESOURCE_DOES_NOT_EXIST');
  } finally {
    t.close();
  }
});

test('a tracker.db holding a view or trigger Runwise never creates is refused, read-only too', () => {
  for (const object of [
    'CREATE VIEW endless AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c',
    "CREATE TRIGGER sneaky AFTER INSERT ON tags BEGIN UPDATE runs SET name = 'pwned'; END",
  ]) {
    const ws = tempWorkspace();
    open(ws).close();
    const db = openSqlDatabase(trackerDbPath(ws));
    db.exec(object);
    db.close();
    assert.throws(() => Tracker.open(ws), /contains a (view|trigger) '(endless|sneaky)' that Runwise does not create/);
    assert.throws(() => Tracker.open(ws, { readonly: true, skipRecovery: true }), /refusing to open it/);
  }
});

test('an owner in another pid namespace is not taken for dead; one from an earlier boot is', () => {
  const ws = tempWorkspace();
  const t = open(ws);
  try {
    const me = currentProcess();
    const deadPid = 2 ** 22 + 12345; // above pid_max: no such process here
    const ownedRun = (pidNs: string | null, bootId: string | null) => {
      const session = Number(
        t.db
          .prepare('INSERT INTO sessions (pid, host, proc_start, pid_ns, boot_id, opened_at) VALUES (?, ?, NULL, ?, ?, 0)')
          .run(deadPid, me.host, pidNs, bootId).lastInsertRowid,
      );
      const id = t.createRun({ status: 'SCHEDULED' }).info.runId;
      t.db.prepare("UPDATE runs SET status = 'RUNNING', session_id = ? WHERE run_uuid = ?").run(session, id);
      return id;
    };
    const inContainer = ownedRun('pid:[1]', me.bootId);
    const beforeReboot = ownedRun(me.pidNs, 'an-earlier-boot');
    const here = ownedRun(me.pidNs, me.bootId);
    t.recoverOrphanedRuns();
    assert.equal(t.getRun(inContainer).info.status, 'RUNNING', 'another pid namespace: cannot tell, so alive');
    assert.equal(t.getRun(beforeReboot).info.status, 'FAILED');
    assert.equal(t.getRun(here).info.status, 'FAILED');
    assert.equal(isAlive({ ...me }), true);
  } finally {
    t.close();
  }
});

test('an upload refused for its path stores no bytes', async () => {
  const t = open();
  try {
    const id = t.createRun().info.runId;
    await t.putArtifact(id, 'model/weights.bin', Buffer.from('abc'));
    const blobs = () => readdirSync(path.join(t.artifacts.root, 'sha256'), { recursive: true }).length;
    const before = blobs();
    await assert.rejects(t.putArtifact(id, 'model', Buffer.from('something else entirely')), /is a directory/);
    assert.equal(blobs(), before);
  } finally {
    t.close();
  }
});

test('experiments: rename, delete and restore as MLflow does; their runs follow; the change counter moves', () => {
  const t = open();
  try {
    const e = t.createExperiment('churn');
    const other = t.createExperiment('other');
    const kept = t.createRun({ experimentId: e.experimentId }).info.runId;
    const deletedBefore = t.createRun({ experimentId: e.experimentId }).info.runId;
    const elsewhere = t.createRun({ experimentId: other.experimentId }).info.runId;
    t.deleteRun(deletedBefore);

    // Rename: a new name, unique across deleted experiments too; the same name again is no conflict.
    let marker = t.changeMarker();
    assert.equal(t.renameExperiment(e.experimentId, 'churn-v2').name, 'churn-v2');
    assert.deepEqual(t.changesSince(marker).experiments.map((x) => x.name), ['churn-v2']);
    assert.equal(t.getExperimentByName('churn'), undefined);
    assert.equal(t.renameExperiment(e.experimentId, 'churn-v2').name, 'churn-v2');
    rejects(() => t.renameExperiment(e.experimentId, 'other'), 'RESOURCE_ALREADY_EXISTS', /'other' already exists/);
    rejects(() => t.renameExperiment(e.experimentId, ' '), 'INVALID_PARAMETER_VALUE');
    rejects(() => t.renameExperiment('999', 'x'), 'RESOURCE_DOES_NOT_EXIST', /No Experiment with id=999 exists/);

    // Delete: the experiment and all its runs; only the active one can be deleted.
    marker = t.changeMarker();
    t.deleteExperiment(e.experimentId);
    const changes = t.changesSince(marker);
    assert.deepEqual(changes.experiments.map((x) => [x.experimentId, x.lifecycleStage]), [[e.experimentId, 'deleted']]);
    assert.deepEqual(changes.runs.map((r) => [r.info.runId, r.info.lifecycleStage]).sort(), [[deletedBefore, 'deleted'], [kept, 'deleted']].sort());
    assert.equal(t.getRun(elsewhere).info.lifecycleStage, 'active');
    assert.deepEqual(t.searchExperiments().items.map((x) => x.name).sort(), ['Default', 'other']);
    assert.deepEqual(t.searchExperiments({ viewType: 'DELETED_ONLY' }).items.map((x) => x.name), ['churn-v2']);
    assert.equal(t.getExperimentByName('churn-v2')?.lifecycleStage, 'deleted', 'found by name when deleted, as MLflow');
    assert.deepEqual(t.searchRuns({ experimentIds: [e.experimentId] }).items, []);
    rejects(() => t.deleteExperiment(e.experimentId), 'RESOURCE_DOES_NOT_EXIST', /No Experiment with id=\d+ exists/);
    rejects(() => t.renameExperiment(e.experimentId, 'x'), 'INVALID_STATE', /Cannot rename a non-active experiment/);
    rejects(() => t.createRun({ experimentId: e.experimentId }), 'INVALID_PARAMETER_VALUE', /must be in the 'active' state/);
    rejects(() => t.setExperimentTag(e.experimentId, { key: 'k', value: 'v' }), 'INVALID_PARAMETER_VALUE', /must be in the 'active' state/);
    rejects(() => t.createExperiment('churn-v2'), 'RESOURCE_ALREADY_EXISTS');

    // Restore: the experiment and all its runs, the one deleted on its own before too (MLflow's SQL store).
    marker = t.changeMarker();
    t.restoreExperiment(e.experimentId);
    assert.deepEqual(t.changesSince(marker).runs.map((r) => r.info.lifecycleStage), ['active', 'active']);
    assert.equal(t.getExperiment(e.experimentId).lifecycleStage, 'active');
    assert.equal(t.getRun(deletedBefore).info.lifecycleStage, 'active');
    rejects(() => t.restoreExperiment(e.experimentId), 'RESOURCE_DOES_NOT_EXIST');
    rejects(() => t.restoreExperiment('999'), 'RESOURCE_DOES_NOT_EXIST');
  } finally {
    t.close();
  }
});

test('experiment tags: delete one; a missing tag or a deleted experiment is refused and changes nothing', () => {
  const t = open();
  try {
    const e = t.createExperiment('tagged', { tags: [{ key: 'team', value: 'ml' }, { key: 'stage', value: 'dev' }] });
    const marker = t.changeMarker();
    t.deleteExperimentTag(e.experimentId, 'team');
    assert.deepEqual(t.getExperiment(e.experimentId).tags, { stage: 'dev' });
    assert.deepEqual(t.changesSince(marker).experiments.map((x) => x.experimentId), [e.experimentId]);
    rejects(() => t.deleteExperimentTag(e.experimentId, 'team'), 'RESOURCE_DOES_NOT_EXIST', new RegExp(`No tag with name: team in experiment with id ${e.experimentId}`));
    t.deleteExperiment(e.experimentId);
    rejects(() => t.deleteExperimentTag(e.experimentId, 'stage'), 'INVALID_PARAMETER_VALUE', /must be in the 'active' state. Current state is deleted/);
    assert.deepEqual(t.getExperiment(e.experimentId).tags, { stage: 'dev' });
  } finally {
    t.close();
  }
});

test('a metric key whose first batch was rolled back with an outer transaction is not remembered by a stale id', () => {
  const t = open();
  const runId = t.createRun({ startTime: 1 }).info.runId;
  assert.throws(
    () =>
      t.db.transaction(() => {
        t.logBatch(runId, { metrics: [{ key: 'ghost', value: 1, timestamp: 1, step: 0 }] });
        throw new Error('the outer transaction fails');
      }),
    /the outer transaction fails/,
  );
  // Another key takes the id the rolled-back insert had; `ghost` must get an id of its own.
  t.logBatch(runId, { metrics: [{ key: 'real', value: 2, timestamp: 2, step: 0 }] });
  t.logBatch(runId, { metrics: [{ key: 'ghost', value: 3, timestamp: 3, step: 0 }] });
  assert.deepEqual(
    t.getMetricHistory(runId, 'real').items.map((m) => m.value),
    [2],
  );
  assert.deepEqual(
    t.getMetricHistory(runId, 'ghost').items.map((m) => m.value),
    [3],
  );
  t.close();
});

test('afterCommit runs after the outermost commit, at once outside a transaction, and never after a rollback', () => {
  const t = open();
  const seen: string[] = [];
  t.db.afterCommit(() => seen.push('outside'));
  t.db.transaction(() => {
    t.db.transaction(() => t.db.afterCommit(() => seen.push('nested')));
    assert.deepEqual(seen, ['outside'], 'not before the outer commit');
  });
  assert.deepEqual(seen, ['outside', 'nested']);
  assert.throws(() =>
    t.db.transaction(() => {
      t.db.afterCommit(() => seen.push('rolled back'));
      throw new Error('no');
    }),
  );
  t.db.transaction(() => undefined);
  assert.deepEqual(seen, ['outside', 'nested']);
  t.close();
});

test("readSnapshot reads one snapshot: another connection's commit in between is not seen, and is seen after", () => {
  const ws = tempWorkspace();
  open(ws).close();
  const reader = openSqlDatabase(trackerDbPath(ws));
  const writer = openSqlDatabase(trackerDbPath(ws));
  try {
    const count = () => Number(reader.prepare('SELECT COUNT(*) AS n FROM experiments').get()!.n);
    const before = count();
    const inside = reader.readSnapshot(() => {
      const first = count();
      writer.transaction(() => writer.prepare("INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES ('late', '', 'active', 0, 0)").run());
      return [first, count()];
    });
    assert.deepEqual(inside, [before, before]);
    assert.equal(count(), before + 1);
  } finally {
    reader.close();
    writer.close();
  }
});

test('the schema check reads the version and the objects from one snapshot', () => {
  const ws = tempWorkspace();
  open(ws).close();
  const db = openSqlDatabase(trackerDbPath(ws));
  try {
    const seen: string[] = [];
    const readSnapshot = db.readSnapshot.bind(db);
    db.readSnapshot = <T>(fn: () => T): T => {
      seen.push('snapshot');
      return readSnapshot(fn);
    };
    assert.equal(checkTrackerSchema(db), SCHEMA_VERSION);
    assert.deepEqual(seen, ['snapshot']);
  } finally {
    db.close();
  }
});
