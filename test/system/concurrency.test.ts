/**
 * Eight processes log 50,000 points each at the same time, four through the tracking endpoint and
 * four straight into the database: every point lands, and no busy error reaches any of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../core/tracker/tracker';
import { tempWorkspace } from '../support/tempWorkspace';
import { finished, spawnTs, startServeProcess } from '../support/processes';

const POINTS = 50_000;
const BATCH = 1000;

test('8 concurrent writers × 50,000 points, through the endpoint and directly', async () => {
  const ws = tempWorkspace('concurrency');
  const server = await startServeProcess(ws);
  try {
    const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const httpRuns: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${server.uri}/api/2.0/mlflow/runs/create`, { method: 'POST', headers, body: JSON.stringify({ experiment_id: '0', run_name: `http-${i}` }) });
      assert.equal(res.status, 200);
      httpRuns.push(((await res.json()) as { run: { info: { run_id: string } } }).run.info.run_id);
    }
    const writers = [
      ...httpRuns.map((id) => spawnTs('test/system/fixtures/metricWriter.ts', ['http', server.uri, server.token, id, String(POINTS), String(BATCH)])),
      ...Array.from({ length: 4 }, () => spawnTs('test/system/fixtures/metricWriter.ts', ['direct', ws, 'new', String(POINTS), String(BATCH)])),
    ];
    const results = await Promise.all(writers.map(finished));
    for (const r of results) {
      assert.equal(r.code, 0, `a writer failed: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /busy|locked/i);
      assert.match(r.stdout, new RegExp(`ack ${POINTS}\\n$`));
    }
    const directRuns = results.slice(4).map((r) => /^run (\w+)$/m.exec(r.stdout)![1]!);
    const tracker = Tracker.open(ws);
    try {
      for (const runId of [...httpRuns, ...directRuns]) {
        const n = Number(
          tracker.db
            .prepare('SELECT count(*) AS n FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = ?')
            .get(runId)!.n,
        );
        assert.equal(n, POINTS, `run ${runId}`);
        const latest = tracker.getRun(runId).metrics[0]!;
        assert.equal(latest.step, POINTS - 1);
      }
      assert.equal(String(tracker.db.prepare('PRAGMA integrity_check').get()!.integrity_check), 'ok');
    } finally {
      tracker.close();
    }
    assert.doesNotMatch(server.stderr(), /busy|locked|error/i);
  } finally {
    server.child.kill('SIGTERM');
    await finished(server.child);
  }
});
