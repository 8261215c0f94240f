/**
 * Another process holding the tracker's write lock (an sqlite3 shell, a DB browser, `runwise gc`)
 * delays the requests that write, not the endpoint: they are tried again without blocking its event
 * loop, so reads and other requests are answered meanwhile, and the writes land once it is free.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { startTrackingServer } from '../../core/endpoint/trackingServer';
import { MLFLOW_API_PREFIX } from '../../core/mlflow/restApi';
import { tempWorkspace } from '../support/tempWorkspace';

test('a write waiting for another process\'s lock leaves the endpoint answering; it lands when the lock goes', async () => {
  const ws = tempWorkspace('locked-db');
  const s = await startTrackingServer({ workspace: ws, orphanSweepIntervalMs: 0 });
  try {
    const post = (route: string, body: unknown) =>
      fetch(`${s.uri}${MLFLOW_API_PREFIX}${route}`, { method: 'POST', headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const run = ((await (await post('/runs/create', { experiment_id: '0' })).json()) as { run: { info: { run_id: string } } }).run.info.run_id;
    // Another process takes the write lock and holds it until told to let go.
    const holder = spawn(
      process.execPath,
      ['-e', `const db = new (require('better-sqlite3'))(${JSON.stringify(path.join(ws, '.runwise', 'tracker.db'))}); db.exec('BEGIN IMMEDIATE'); console.log('locked'); process.stdin.once('data', () => { db.exec('COMMIT'); console.log('free'); db.close(); });`],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const said = (word: string) => new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes(word) && resolve()));
    await said('locked');
    const logged = post('/runs/log-metric', { run_id: run, key: 'loss', value: 0.5, timestamp: 1, step: 0 });
    let landed = false;
    void logged.then(() => (landed = true));
    // Reads are answered while the write waits, each in well under SQLite's 10 s busy timeout.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const got = await post('/runs/search', { experiment_ids: ['0'] });
      assert.equal(got.status, 200);
      assert.ok(Date.now() - started < 2_000, `a search answered in ${Date.now() - started} ms while a write waited`);
    }
    assert.equal(landed, false, 'the write waits for the lock');
    holder.stdin.write('go\n');
    await said('free');
    const answer = await logged;
    assert.equal(answer.status, 200, await answer.clone().text());
    const history = (await (await fetch(`${s.uri}${MLFLOW_API_PREFIX}/metrics/get-history?run_id=${run}&metric_key=loss`, { headers: { Authorization: `Bearer ${s.token}` } })).json()) as { metrics: { value: number }[] };
    assert.deepEqual(history.metrics.map((m) => m.value), [0.5]);
    holder.kill();
  } finally {
    await s.close();
  }
});

test("an artifact upload waiting for another process's lock leaves the endpoint answering; the file is recorded when the lock goes", async () => {
  const ws = tempWorkspace('locked-db-upload');
  const s = await startTrackingServer({ workspace: ws, orphanSweepIntervalMs: 0 });
  const holder = spawn(
    process.execPath,
    ['-e', `const db = new (require('better-sqlite3'))(${JSON.stringify(path.join(ws, '.runwise', 'tracker.db'))}); process.stdin.once('data', () => { db.exec('BEGIN IMMEDIATE'); console.log('locked'); process.stdin.once('data', () => { db.exec('COMMIT'); console.log('free'); db.close(); }); });`],
    { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
  );
  try {
    const auth = { Authorization: `Bearer ${s.token}` };
    const created = (await (await fetch(`${s.uri}${MLFLOW_API_PREFIX}/runs/create`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ experiment_id: '0' }) })).json()) as { run: { info: { run_id: string; artifact_uri: string } } };
    const root = created.run.info.artifact_uri.replace('mlflow-artifacts:/', '');
    const said = (word: string) => new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes(word) && resolve()));
    holder.stdin.write('lock\n');
    await said('locked');
    const upload = fetch(`${s.uri}/api/2.0/mlflow-artifacts/artifacts/${root}/model/model.onnx`, { method: 'PUT', headers: auth, body: 'model-bytes' });
    let landed = false;
    void upload.then(() => (landed = true));
    // The event loop keeps turning: a timer and requests are served while the upload waits.
    const ticked = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(Date.now() - ticked < 1_500, `a 200 ms timer fired after ${Date.now() - ticked} ms`);
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const got = await fetch(`${s.uri}${MLFLOW_API_PREFIX}/experiments/search?max_results=10`, { headers: auth });
      assert.equal(got.status, 200);
      assert.ok(Date.now() - started < 2_000, `a search answered in ${Date.now() - started} ms while an upload waited`);
    }
    assert.equal(landed, false, 'the upload waits for the lock');
    holder.stdin.write('go\n');
    await said('free');
    const answer = await upload;
    assert.equal(answer.status, 200, await answer.clone().text());
    const listed = (await (await fetch(`${s.uri}/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${root}/model`)}`, { headers: auth })).json()) as { files: { path: string }[] };
    assert.deepEqual(listed.files.map((f) => f.path), ['model.onnx']);
  } finally {
    holder.kill();
    await s.close();
  }
});
