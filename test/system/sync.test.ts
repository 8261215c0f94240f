/**
 * `runwise push` and `runwise pull` against a second `runwise serve` (another workspace) as the
 * remote, read back through the remote's REST API only: what a push copies, that a second push
 * sends nothing, that a push killed halfway and run again loses and duplicates nothing, that 429/503
 * answers are retried, that refused credentials say which remote and variable, and that pull brings
 * runs in once, with their artifacts when asked.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MLFLOW_API_PREFIX, MLFLOW_ARTIFACTS_PREFIX } from '../../core/mlflow/restApi';
import { STAGE_TAG } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { addRemote, getRemote } from '../../core/sync/remoteConfig';
import { pullRuns } from '../../core/sync/pullRuns';
import { localArtifacts, pushRuns, type PushEvent } from '../../core/sync/pushRuns';
import { SyncError } from '../../core/sync/syncError';
import { ORIGIN_REMOTE_TAG, ORIGIN_RUN_TAG, SOURCE_RUN_TAG, pushedTag } from '../../core/sync/syncTags';
import { finished, spawnTs, startServeProcess, type ServerProcess } from '../support/processes';
import { tempWorkspace } from '../support/tempWorkspace';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const TOKEN = 'sync-test-token-0123456789';
const ENV = { SYNC_TEST_TOKEN: TOKEN };

async function rest(server: ServerProcess, method: string, route: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${server.uri}${route}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return route.startsWith(`${MLFLOW_ARTIFACTS_PREFIX}/artifacts/`) ? text : JSON.parse(text || '{}');
}

async function remoteRunOf(server: ServerProcess, localRunId: string): Promise<Json> {
  const exps = await rest(server, 'POST', `${MLFLOW_API_PREFIX}/experiments/search`, { max_results: 1000 });
  const reply = await rest(server, 'POST', `${MLFLOW_API_PREFIX}/runs/search`, {
    experiment_ids: exps.experiments.map((e: Json) => e.experiment_id),
    filter: `tags.\`${SOURCE_RUN_TAG}\` = '${localRunId}'`,
  });
  assert.equal(reply.runs?.length, 1, `exactly one remote run for ${localRunId}`);
  return reply.runs[0];
}

async function remoteHistory(server: ServerProcess, runId: string, key: string): Promise<Json[]> {
  const out: Json[] = [];
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ run_id: runId, metric_key: key, max_results: '25000', ...(token ? { page_token: token } : {}) });
    const reply = await rest(server, 'GET', `${MLFLOW_API_PREFIX}/metrics/get-history?${q}`);
    out.push(...(reply.metrics ?? []));
    token = reply.next_page_token;
  } while (token);
  return out;
}

function localHistory(tracker: Tracker, runId: string, key: string): { value: number; step: number; timestamp: number }[] {
  return tracker.getMetricHistory(runId, key).items.map((m) => ({ value: m.value, step: m.step, timestamp: m.timestamp }));
}

const tags = (list: { key: string; value: string }[] | undefined) => Object.fromEntries((list ?? []).map((t) => [t.key, t.value]));

describe('push and pull against a second runwise serve', () => {
  let remote: ServerProcess;
  let local: string;
  let tracker: Tracker;
  let parentId: string;
  let childId: string;

  before(async () => {
    remote = await startServeProcess(tempWorkspace('sync-remote'), TOKEN);
    local = tempWorkspace('sync-local');
    tracker = Tracker.open(local);
    addRemote(local, 'team', remote.uri, { tokenEnv: 'SYNC_TEST_TOKEN' });
    const exp = tracker.createExperiment('churn');
    const parent = tracker.createRun({ experimentId: exp.experimentId, runName: 'pipeline' });
    parentId = parent.info.runId;
    const child = tracker.createRun({ experimentId: exp.experimentId, runName: 'train', tags: [{ key: 'mlflow.parentRunId', value: parentId }] });
    childId = child.info.runId;
    tracker.logBatch(childId, {
      params: Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: `v${i}` })),
      tags: [{ key: 'team', value: 'ml' }],
    });
    tracker.setNote(childId, 'a **note**');
    const t0 = 1_700_000_000_000;
    tracker.logBatch(childId, { metrics: Array.from({ length: 2500 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), step: i, timestamp: t0 + i })) });
    tracker.logBatch(childId, { metrics: Array.from({ length: 1200 }, (_, i) => ({ key: 'acc', value: i % 7 === 0 ? NaN : i / 1200, step: i >> 1, timestamp: t0 + i })) });
    tracker.logInputs(childId, [{ dataset: { name: 'train.csv', digest: 'abc123', sourceType: 'local', source: 'data/train.csv' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }]);
    await tracker.putArtifact(childId, 'model/model.onnx', Buffer.from('onnx bytes'));
    await tracker.putArtifact(childId, 'report.txt', Buffer.from('x'.repeat(5000)));
    tracker.updateRun(childId, { status: 'FINISHED', endTime: t0 + 5000 });
    tracker.updateRun(parentId, { status: 'FINISHED', endTime: t0 + 6000 });
    tracker.registry.createRegisteredModel('churn-model');
    const version = tracker.createModelVersionFromSource({ name: 'churn-model', source: `runs:/${childId}/model`, runId: childId });
    tracker.registry.setAlias('churn-model', 'champion', version.version);
  });

  after(async () => {
    tracker.close();
    remote.child.kill();
    await once(remote.child, 'exit');
  });

  it('copies params, metric history, tags, note, parent, inputs, artifacts and a model version with its alias', async () => {
    const summary = await pushRuns(tracker, getRemote(local, 'team'), { runs: [childId] }, { client: { env: ENV } });
    assert.equal(summary.created, 2, 'the child and its parent');
    const r = await remoteRunOf(remote, childId);
    const p = await remoteRunOf(remote, parentId);
    assert.equal(r.info.status, 'FINISHED');
    assert.equal(r.info.run_name, 'train');
    assert.equal(r.info.end_time, 1_700_000_005_000);
    assert.deepEqual(tags(r.data.params), Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, `v${i}`])));
    const t = tags(r.data.tags);
    assert.equal(t.team, 'ml');
    assert.equal(t['mlflow.note.content'], 'a **note**');
    assert.equal(t['mlflow.parentRunId'], p.info.run_id);
    for (const key of ['loss', 'acc']) {
      const there = (await remoteHistory(remote, r.info.run_id, key)).map((m) => ({ value: m.value === 'NaN' ? NaN : m.value, step: m.step, timestamp: m.timestamp }));
      assert.deepEqual(there, localHistory(tracker, childId, key), `history of ${key}`);
    }
    assert.deepEqual(
      r.inputs.dataset_inputs.map((d: Json) => [d.dataset.name, d.dataset.digest, tags(d.tags)['mlflow.data.context']]),
      [['train.csv', 'abc123', 'training']],
    );
    const root = `${r.info.experiment_id}/${r.info.run_id}/artifacts`;
    assert.equal(await rest(remote, 'GET', `${MLFLOW_ARTIFACTS_PREFIX}/artifacts/${root}/model/model.onnx`), 'onnx bytes');
    assert.equal(await rest(remote, 'GET', `${MLFLOW_ARTIFACTS_PREFIX}/artifacts/${root}/report.txt`), 'x'.repeat(5000));
    const alias = await rest(remote, 'GET', `${MLFLOW_API_PREFIX}/registered-models/alias?name=churn-model&alias=champion`);
    assert.equal(alias.model_version.run_id, r.info.run_id);
    assert.equal(alias.model_version.source, `runs:/${r.info.run_id}/model`);
    // The local run records where it went.
    assert.equal(tags(tracker.getRun(childId).tags)[pushedTag('team')], r.info.run_id);
  });

  it('a second push sends nothing and changes nothing', async () => {
    const before = await remoteRunOf(remote, childId);
    const history = await remoteHistory(remote, before.info.run_id, 'loss');
    const summary = await pushRuns(tracker, getRemote(local, 'team'), { runs: [childId] }, { client: { env: ENV } });
    assert.equal(summary.upToDate, 2);
    assert.equal(summary.created + summary.updated, 0);
    assert.equal(summary.points + summary.params + summary.tags + summary.artifacts + summary.modelVersions, 0);
    // Only lookups: the experiment, one search per run, the model version's search.
    assert.ok(summary.requests <= 5, `${summary.requests} requests`);
    const afterRun = await remoteRunOf(remote, childId);
    assert.deepEqual(afterRun, before);
    assert.equal((await remoteHistory(remote, before.info.run_id, 'loss')).length, history.length);
    const versions = await rest(remote, 'GET', `${MLFLOW_API_PREFIX}/model-versions/search?filter=${encodeURIComponent("name = 'churn-model'")}`);
    assert.equal(versions.model_versions.length, 1);
  });

  it('many runs of one experiment are matched with one listing: a second push of them is two requests', async () => {
    const exp = tracker.createExperiment('many').experimentId;
    const ids = Array.from({ length: 12 }, (_, i) => {
      const id = tracker.createRun({ experimentId: exp, runName: `m-${i}`, status: 'FINISHED' }).info.runId;
      tracker.logBatch(id, { metrics: [{ key: 'x', value: i, step: 0, timestamp: 1 }] });
      return id;
    });
    const events: PushEvent[] = [];
    const first = await pushRuns(tracker, getRemote(local, 'team'), { experiments: ['many'] }, { client: { env: ENV }, onEvent: (e) => events.push(e) });
    assert.equal(first.created, 12);
    // Runs go side by side: each one's event counts its own points, not what the others sent meanwhile.
    assert.deepEqual(events.flatMap((e) => (e.kind === 'run' ? [e.points] : [])), Array(12).fill(1));
    tracker.logBatch(ids[3]!, { metrics: [{ key: 'x', value: 99, step: 1, timestamp: 2 }] });
    const second = await pushRuns(tracker, getRemote(local, 'team'), { experiments: ['many'] }, { client: { env: ENV } });
    assert.deepEqual([second.upToDate, second.updated, second.points], [11, 1, 1]);
    const third = await pushRuns(tracker, getRemote(local, 'team'), { experiments: ['many'] }, { client: { env: ENV } });
    assert.equal(third.upToDate, 12);
    assert.equal(third.requests, 2, 'the experiment by name, one listing of its pushed runs');
    assert.equal((await remoteHistory(remote, (await remoteRunOf(remote, ids[3]!)).info.run_id, 'x')).length, 2);
  });

  it('versions of one model are created on the remote oldest first: the same numbers there as here', async () => {
    const exp = tracker.createExperiment('ordered').experimentId;
    const runs = [];
    for (const bytes of ['first model', 'second model', 'third model']) {
      const id = tracker.createRun({ experimentId: exp, status: 'FINISHED' }).info.runId;
      await tracker.putArtifact(id, 'model/model.onnx', Buffer.from(bytes));
      runs.push(id);
    }
    tracker.registry.createRegisteredModel('ordered');
    for (const id of runs) tracker.createModelVersionFromSource({ name: 'ordered', source: `runs:/${id}/model`, runId: id });
    // Version 1 updated last: the registry's search lists it first.
    tracker.registry.setModelVersionTag('ordered', '1', { key: 'touched', value: 'yes' });
    await pushRuns(tracker, getRemote(local, 'team'), { experiments: ['ordered'] }, { client: { env: ENV } });
    const versions = await rest(remote, 'GET', `${MLFLOW_API_PREFIX}/model-versions/search?filter=${encodeURIComponent("name = 'ordered'")}`);
    assert.deepEqual(
      versions.model_versions.map((v: Json) => [v.version, tags(v.tags)['runwise.source_model_version']]).sort(),
      [['1', 'ordered/1'], ['2', 'ordered/2'], ['3', 'ordered/3']],
    );
  });

  it('new points, params and tags logged after a push are all that the next push sends', async () => {
    tracker.logBatch(childId, { metrics: [{ key: 'loss', value: 0.0001, step: 2500, timestamp: 1_700_000_009_000 }], tags: [{ key: 'reviewed', value: 'yes' }] });
    const summary = await pushRuns(tracker, getRemote(local, 'team'), { runs: [childId] }, { client: { env: ENV } });
    assert.equal(summary.updated, 1);
    assert.equal(summary.points, 1);
    assert.equal(summary.tags, 1);
    const r = await remoteRunOf(remote, childId);
    assert.equal((await remoteHistory(remote, r.info.run_id, 'loss')).length, 2501);
    assert.equal(tags(r.data.tags).reviewed, 'yes');
  });

  it('a child pushed while its parent still runs gets its parent link once the parent is pushed', async () => {
    const exp = tracker.getExperimentByName('churn')!.experimentId;
    const parent = tracker.createRun({ experimentId: exp, runName: 'sweep' }).info.runId;
    const child = tracker.createRun({ experimentId: exp, runName: 'trial', status: 'FINISHED', tags: [{ key: 'mlflow.parentRunId', value: parent }] }).info.runId;
    const first = await pushRuns(tracker, getRemote(local, 'team'), { runs: [child] }, { client: { env: ENV } });
    assert.deepEqual(first.skipped.map((s) => s.runId), [parent]);
    assert.equal(tags((await remoteRunOf(remote, child)).data.tags)['mlflow.parentRunId'], undefined);
    tracker.updateRun(parent, { status: 'FINISHED' });
    const second = await pushRuns(tracker, getRemote(local, 'team'), { runs: [child] }, { client: { env: ENV } });
    assert.equal(second.created, 1);
    assert.equal(second.updated, 1);
    assert.equal(tags((await remoteRunOf(remote, child)).data.tags)['mlflow.parentRunId'], (await remoteRunOf(remote, parent)).info.run_id);
  });

  it('a push killed halfway and run again loses and duplicates nothing', async () => {
    const run = tracker.createRun({ experimentId: tracker.getExperimentByName('churn')!.experimentId, runName: 'big' });
    const t0 = 1_700_100_000_000;
    const POINTS = 400_000;
    for (let i = 0; i < POINTS; i += 50_000) {
      tracker.logBatch(run.info.runId, { metrics: Array.from({ length: 50_000 }, (_, j) => ({ key: 'loss', value: (i + j) * 0.5, step: i + j, timestamp: t0 + i + j })) });
    }
    tracker.updateRun(run.info.runId, { status: 'FINISHED', endTime: t0 + POINTS });
    const child = spawnTs('core/cli/main.ts', ['push', run.info.runId, '--to', 'team', '-j', '2', '--workspace', local], ENV);
    const done = finished(child);
    // Killed once a progress line shows points landed, well before the end.
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if ([...err.matchAll(/(\d+) points, \d+ requests/g)].some((m) => Number(m[1]) >= 20_000)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`push ended before it could be killed: ${err}`)));
    });
    const killed = await done;
    assert.equal(killed.signal, 'SIGKILL');
    const partial = await remoteRunOf(remote, run.info.runId);
    const landed = (await remoteHistory(remote, partial.info.run_id, 'loss')).length;
    assert.ok(landed > 0 && landed < POINTS, `${landed} points landed before the kill`);
    const summary = await pushRuns(tracker, getRemote(local, 'team'), { runs: [run.info.runId] }, { client: { env: ENV } });
    assert.equal(summary.updated, 1);
    assert.equal(summary.points, POINTS - landed);
    const full = await remoteHistory(remote, partial.info.run_id, 'loss');
    assert.equal(full.length, POINTS);
    for (let i = 0; i < POINTS; i++) {
      if (full[i].step !== i || full[i].value !== i * 0.5) assert.fail(`point ${i} is ${JSON.stringify(full[i])}`);
    }
    assert.equal((await remoteRunOf(remote, run.info.runId)).info.status, 'FINISHED');
  });

  it('retries 429 and 503 answers (honouring Retry-After) and succeeds', async () => {
    let refused = 0;
    const target = new URL(remote.uri);
    const proxy = http.createServer((req, res) => {
      // Every second request is refused, six times in all.
      if (++proxyCount % 2 === 0 && refused < 6) {
        refused++;
        res.writeHead(refused % 2 ? 429 : 503, { 'Retry-After': '0', 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error_code: refused % 2 ? 'RESOURCE_EXHAUSTED' : 'TEMPORARILY_UNAVAILABLE', message: 'busy' }));
        return;
      }
      const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    let proxyCount = 0;
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    try {
      const ws = tempWorkspace('sync-retry');
      const t = Tracker.open(ws);
      try {
        const run = t.createRun({ runName: 'retried' });
        t.logBatch(run.info.runId, { metrics: Array.from({ length: 5000 }, (_, i) => ({ key: 'm', value: i, step: i, timestamp: 1 + i })), params: [{ key: 'a', value: '1' }] });
        t.updateRun(run.info.runId, { status: 'FINISHED' });
        addRemote(ws, 'flaky', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, { tokenEnv: 'SYNC_TEST_TOKEN' });
        const retries: PushEvent[] = [];
        const summary = await pushRuns(t, getRemote(ws, 'flaky'), { all: true }, { client: { env: ENV, baseDelayMs: 5 }, onEvent: (e) => e.kind === 'retry' && retries.push(e) });
        assert.equal(refused, 6);
        assert.equal(retries.length, 6);
        assert.equal(summary.created, 1);
        const r = await remoteRunOf(remote, run.info.runId);
        assert.equal((await remoteHistory(remote, r.info.run_id, 'm')).length, 5000);
      } finally {
        t.close();
      }
    } finally {
      proxy.close();
    }
  });

  it('a stored file changed in .runwise/ is not pushed: a run artifact (and so a version from it) is re-hashed before it is sent', async () => {
    const run = tracker.createRun({ runName: 'to-tamper' });
    const runId = run.info.runId;
    const weights = await tracker.putArtifact(runId, 'model/weights.bin', Buffer.from('AAAAAAAA'));
    tracker.updateRun(runId, { status: 'FINISHED' });
    tracker.registry.createRegisteredModel('tamper-model');
    tracker.createModelVersionFromSource({ name: 'tamper-model', source: `runs:/${runId}/model`, runId });
    const blob = tracker.artifacts.blobPath(weights.sha256);
    chmodSync(blob, 0o644);
    // The same size, other bytes; then another size: the run's artifact is re-hashed and refused
    // before it is sent (and with it the version registered from the run).
    writeFileSync(blob, 'BBBBBBBB');
    await assert.rejects(pushRuns(tracker, getRemote(local, 'team'), { runs: [runId] }, { client: { env: ENV } }), new RegExp(`artifact 'model/weights\\.bin' was stored with sha256 ${weights.sha256} \\(8 bytes\\) but now holds sha256 [0-9a-f]{64}: it was changed in \\.runwise/ and is not pushed`));
    writeFileSync(blob, 'BBBBBBBB and more');
    await assert.rejects(pushRuns(tracker, getRemote(local, 'team'), { runs: [runId] }, { client: { env: ENV } }), /but now holds 17 bytes: it was changed/);
  });

  it('refused credentials name the remote and the variable', async () => {
    await assert.rejects(
      pushRuns(tracker, getRemote(local, 'team'), { runs: [childId] }, { client: { env: { SYNC_TEST_TOKEN: 'wrong-token' } } }),
      (e: unknown) => e instanceof SyncError && /remote 'team'/.test(e.message) && /\$SYNC_TEST_TOKEN/.test(e.message) && /HTTP 401/.test(e.message),
    );
    await assert.rejects(pushRuns(tracker, getRemote(local, 'team'), { runs: [childId] }, { client: { env: {} } }), /\$SYNC_TEST_TOKEN, which is not set/);
  });

  it('the CLI says the same in one line, exit code 1', async () => {
    const r = await finished(spawnTs('core/cli/main.ts', ['push', childId, '--to', 'team', '--workspace', local], { SYNC_TEST_TOKEN: 'wrong-token' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^runwise: remote 'team' \(http:\/\/127\.0\.0\.1:\d+\) refused the request \(HTTP 401/m);
    // A filter the remote cannot parse: its answer in one line, no stack.
    const bad = await finished(spawnTs('core/cli/main.ts', ['pull', '--from', 'team', '--filter', 'metrics.accuracy >> 1', '--workspace', local], ENV));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^runwise: POST \/api\/2\.0\/mlflow\/runs\/search on remote 'team' .*Invalid filter/m);
    assert.doesNotMatch(bad.stderr, /internal error|\n\s+at /);
    const mixed = await finished(spawnTs('core/cli/main.ts', ['push', '--all', childId, '--to', 'team', '--workspace', local], ENV));
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /^runwise push: --all pushes every run: give it alone/);
  });

  it('pull brings the remote runs in, marked with their origin; a second pull duplicates nothing', async () => {
    const ws = tempWorkspace('sync-pull');
    addRemote(ws, 'team', remote.uri, { tokenEnv: 'SYNC_TEST_TOKEN' });
    const t = Tracker.open(ws);
    try {
      const first = await pullRuns(t, getRemote(ws, 'team'), { experiment: 'churn' }, { client: { env: ENV } });
      assert.equal(first.created, 5, 'pipeline, train, sweep, trial and big');
      const remoteChild = await remoteRunOf(remote, childId);
      const localId = first.localIds[remoteChild.info.run_id]!;
      const pulled = t.getRun(localId);
      assert.equal(tags(pulled.tags)[ORIGIN_REMOTE_TAG], 'team');
      assert.equal(tags(pulled.tags)[ORIGIN_RUN_TAG], remoteChild.info.run_id);
      assert.equal(pulled.params.length, 150);
      assert.equal(t.getMetricHistory(localId, 'loss').items.length, 2501);
      assert.equal(pulled.info.status, 'FINISHED');
      const remoteParent = await remoteRunOf(remote, parentId);
      assert.equal(pulled.info.parentRunId, first.localIds[remoteParent.info.run_id]);
      const second = await pullRuns(t, getRemote(ws, 'team'), { experiment: 'churn' }, { client: { env: ENV } });
      assert.equal(second.created, 0);
      assert.equal(second.upToDate, 5);
      assert.equal(t.searchRuns({ maxResults: 1000 }).items.length, 5);
      // The pushing workspace does not pull back its own runs.
      const own = await pullRuns(tracker, getRemote(local, 'team'), { experiment: 'churn' }, { client: { env: ENV } });
      assert.equal(own.created, 0);
      assert.equal(own.skipped.length, 5);
    } finally {
      t.close();
    }
  });
  it('pull --artifacts brings the files a pulled run lacks, byte for byte; a second one downloads nothing', async () => {
    const ws = tempWorkspace('sync-pull-artifacts');
    addRemote(ws, 'team', remote.uri, { tokenEnv: 'SYNC_TEST_TOKEN' });
    const t = Tracker.open(ws);
    try {
      const plain = await pullRuns(t, getRemote(ws, 'team'), { experiment: 'churn' }, { client: { env: ENV } });
      const remoteChild = await remoteRunOf(remote, childId);
      const localId = plain.localIds[remoteChild.info.run_id]!;
      assert.deepEqual(t.listArtifacts(localId), [], 'without --artifacts they stay on the remote');
      assert.equal(plain.artifacts, 0);
      const withFiles = await pullRuns(t, getRemote(ws, 'team'), { experiment: 'churn' }, { client: { env: ENV }, artifacts: true });
      assert.equal(withFiles.created, 0);
      assert.deepEqual(localArtifacts(t, localId), [
        { path: 'model/model.onnx', size: 10 },
        { path: 'report.txt', size: 5000 },
      ]);
      assert.equal(readFileSync(t.openArtifact(localId, 'model/model.onnx').filePath, 'utf8'), 'onnx bytes');
      assert.equal(readFileSync(t.openArtifact(localId, 'report.txt').filePath, 'utf8'), 'x'.repeat(5000));
      const everyFile = Object.values(withFiles.localIds).flatMap((id) => localArtifacts(t, id));
      assert.equal(withFiles.artifacts, everyFile.length, 'every artifact of the pulled runs, counted');
      assert.equal(withFiles.artifactBytes, everyFile.reduce((n, a) => n + a.size, 0));
      const again = await pullRuns(t, getRemote(ws, 'team'), { experiment: 'churn' }, { client: { env: ENV }, artifacts: true });
      assert.equal(again.artifacts, 0, 'nothing downloaded twice');
      // The CLI: --artifacts in a fresh workspace, the summary in --json.
      const cliWs = tempWorkspace('sync-pull-artifacts-cli');
      addRemote(cliWs, 'team', remote.uri, { tokenEnv: 'SYNC_TEST_TOKEN' });
      const r = await finished(spawnTs('core/cli/main.ts', ['pull', '--from', 'team', '--experiment', 'churn', '--artifacts', '--json', '--workspace', cliWs], ENV));
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { artifacts: number; artifactBytes: number; created: number };
      assert.deepEqual({ created: summary.created, artifacts: summary.artifacts, artifactBytes: summary.artifactBytes }, { created: 5, artifacts: withFiles.artifacts, artifactBytes: withFiles.artifactBytes });
    } finally {
      t.close();
    }
  });

  it('runwise run STAGE --single --push lands the stage run on the server MLFLOW_TRACKING_URI names, with its stage tags', async () => {
    const ws = tempWorkspace('sync-run-push');
    writeFileSync(path.join(ws, 'runwise.yaml'), 'stages:\n  train:\n    cmd: printf \'{"accuracy":0.75}\' > metrics.json\n    metrics:\n      - metrics.json:\n          cache: false\n');
    const env = { MLFLOW_TRACKING_URI: remote.uri, MLFLOW_TRACKING_TOKEN: TOKEN };
    const r = await finished(spawnTs('core/cli/main.ts', ['run', 'train', '--single', '--push', '--experiment', 'orchestrated', '--json', '--workspace', ws], env));
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { run_id: string; stages: { id: string; run_id: string }[] };
    const stageRun = await remoteRunOf(remote, out.stages[0]!.run_id);
    assert.equal(tags(stageRun.data.tags)[STAGE_TAG], 'train');
    assert.equal(stageRun.data.metrics.find((m: Json) => m.key === 'accuracy')?.value, 0.75);
    const pipelineRun = await remoteRunOf(remote, out.run_id);
    assert.equal(tags(stageRun.data.tags)['mlflow.parentRunId'], pipelineRun.info.run_id, 'the parent link points at the remote pipeline run');
    assert.match(r.stderr, /pushed 2 run\(s\) to http:\/\/127\.0\.0\.1:\d+/);

    // Refused credentials: the runs stay here, the message says how to push them again, exit 1.
    const bad = await finished(spawnTs('core/cli/main.ts', ['run', 'train', '--single', '--force', '--push', '--experiment', 'orchestrated', '--workspace', ws], { ...env, MLFLOW_TRACKING_TOKEN: 'wrong-token' }));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the runs are recorded in this workspace, but pushing them to http:\/\/127\.0\.0\.1:\d+ failed: .*HTTP 401.*To retry: runwise push [0-9a-f]{8} --to NAME/);

    // No server named: refused before the stage runs, so no work is done that cannot be pushed.
    const before = readFileSync(path.join(ws, 'runwise.lock'), 'utf8');
    const unnamed = await finished(spawnTs('core/cli/main.ts', ['run', 'train', '--single', '--force', '--push', '--workspace', ws], { MLFLOW_TRACKING_URI: '' }));
    assert.equal(unnamed.code, 1);
    assert.match(unnamed.stderr, /MLFLOW_TRACKING_URI is not set/);
    assert.equal(unnamed.stdout, '', 'no stage ran, no table printed');
    assert.equal(readFileSync(path.join(ws, 'runwise.lock'), 'utf8'), before);
  });
});
