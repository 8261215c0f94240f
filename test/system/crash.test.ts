/**
 * A writer killed with SIGKILL in the middle of logging: the database stays intact, every point
 * the writer saw acknowledged is there, no batch is half there, and the run the dead process owned
 * is FAILED once the tracker is opened again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Tracker, FAILURE_REASON_TAG } from '../../core/tracker/tracker';
import { tempWorkspace } from '../support/tempWorkspace';
import { finished, spawnTs, startServeProcess } from '../support/processes';

const BATCH = 500;

/**
 * Follows the writer's `run ID` and `ack N` lines and kills `victim` (the writer itself, or the
 * server it writes through) with SIGKILL once `killAfter` batches were acknowledged.
 */
function killMidStream(writer: ChildProcess, victim: ChildProcess, killAfter: number): Promise<{ runId: string | undefined; acked: number }> {
  let runId: string | undefined;
  let acked = 0;
  const lines = createInterface({ input: writer.stdout! });
  return new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word === 'run') runId = value;
      if (word === 'ack') acked = Number(value);
      if (acked >= killAfter * BATCH && !victim.killed) victim.kill('SIGKILL');
    });
    victim.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve({ runId, acked }) : reject(new Error(`process exited by itself (${code ?? signal})`))));
  });
}

function checkAfterCrash(workspace: string, runId: string, acked: number, pointsKey: string): void {
  const tracker = Tracker.open(workspace);
  try {
    assert.equal(String(tracker.db.prepare('PRAGMA integrity_check').get()!.integrity_check), 'ok');
    const run = tracker.getRun(runId);
    assert.equal(run.info.status, 'FAILED', 'the dead owner’s run is failed on reopen');
    assert.match(run.tags.find((t) => t.key === FAILURE_REASON_TAG)?.value ?? '', /exited without ending it/);
    // Every page: a writer killed late has stored more than one page (25,000 points) of history.
    const history: ReturnType<Tracker['getMetricHistory']>['items'] = [];
    let token: string | undefined;
    do {
      const page = tracker.getMetricHistory(runId, pointsKey, token ? { pageToken: token } : {});
      history.push(...page.items);
      token = page.nextPageToken;
    } while (token);
    assert.ok(history.length >= acked, `${history.length} points stored, ${acked} acknowledged`);
    assert.equal(history.length % BATCH, 0, 'only whole batches are stored');
    history.forEach((m, i) => assert.equal(m.step, i, 'steps are contiguous from 0'));
    const latest = run.metrics.find((m) => m.key === pointsKey)!;
    assert.equal(latest.step, history.length - 1, 'latest value agrees with the points');
    const rollupCount = Number(tracker.db.prepare('SELECT sum(count) AS n FROM metric_rollups WHERE level = 3').get()!.n);
    assert.equal(rollupCount, history.length, 'rollups agree with the points');
  } finally {
    tracker.close();
  }
}

test('SIGKILL of a process writing directly to the tracker loses nothing acknowledged', async () => {
  const ws = tempWorkspace('crash-direct');
  Tracker.open(ws).close();
  const child = spawnTs('test/system/fixtures/metricWriter.ts', ['direct', ws, 'new', '0', String(BATCH)]);
  const { runId, acked } = await killMidStream(child, child, 40);
  assert.ok(runId, 'the writer created a run');
  checkAfterCrash(ws, runId, acked, 'w/loss');
});

test('SIGKILL of the tracking server in the middle of a log-batch stream loses nothing acknowledged', async () => {
  const ws = tempWorkspace('crash-server');
  const server = await startServeProcess(ws);
  const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  const res = await fetch(`${server.uri}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: auth, body: JSON.stringify({ experiment_id: '0', run_name: 'served' }) });
  assert.equal(res.status, 200);
  const runId = ((await res.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
  const writer = spawnTs('test/system/fixtures/metricWriter.ts', ['http', server.uri, server.token, runId, '0', String(BATCH)]);
  const writerDone = finished(writer);
  const { acked } = await killMidStream(writer, server.child, 40);
  const w = await writerDone;
  assert.notEqual(w.code, 0, 'the writer saw the server go away');
  checkAfterCrash(ws, runId, acked, 'w/loss');
});
