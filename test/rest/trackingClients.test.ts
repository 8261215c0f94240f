/**
 * The two tracking clients (core/trackingClient: runwise_tracking.py and index.ts) against the real
 * endpoint: child processes log params, 2,500 metric points, NaN/Infinity, tags, a dataset input and an
 * artifact, then end by sys.exit()/process.exit(), an uncaught exception, or by running out of work;
 * the tracker is then read directly to check every point and the run's final status.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTrackingServer } from '../../core/endpoint/trackingServer';
import { Tracker } from '../../core/tracker/tracker';
import { RunwiseTrackingError, TrackingClient } from '../../core/trackingClient/index';

const REPO = path.resolve(__dirname, '..', '..');
const CLIENT_DIR = path.join(REPO, 'core', 'trackingClient');
const POINTS = 2500;
const hasPython = spawnSync('python3', ['--version']).status === 0;

type Server = Awaited<ReturnType<typeof startTrackingServer>>;

const PY_SCRIPT = `
import os, sys
sys.path.insert(0, ${JSON.stringify(CLIENT_DIR)})
import runwise_tracking as rw

mode = sys.argv[1]
run_id = rw.start_run(run_name=os.environ["CASE_NAME"], tags={"team": "runwise"})
print("RUN_ID=" + run_id, flush=True)
rw.log_params({"p%03d" % i: i for i in range(120)})
rw.log_param("lr", 0.01)
rw.set_tags({"lang": "python", "mode": mode})
for i in range(${POINTS}):
    rw.log_metric("loss", 1.0 / (i + 1), step=i)
rw.log_metric("nan_metric", float("nan"), step=3)
rw.log_metric("inf_metric", float("inf"), step=4)
rw.log_metrics({"acc": 0.5, "f1": 0.25}, step=7)
rw.log_input("train-set", "d1g3st", source="/data/train.csv", schema={"columns": ["x", "y"]}, context="training")
art = os.path.join(os.environ["ART_DIR"], "notes.txt")
with open(art, "w") as f:
    f.write("hello from " + os.environ["CASE_NAME"])
rw.log_artifact(art, "outputs")
if mode == "exit":
    sys.exit(0)
if mode == "raise":
    raise RuntimeError("deliberate failure after logging")
`;

const NODE_SCRIPT = `
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as rw from ${JSON.stringify(path.join(CLIENT_DIR, 'index.ts'))};

const mode = process.argv[2];
async function main(): Promise<void> {
  const runId = await rw.startRun({ runName: process.env.CASE_NAME, tags: { team: 'runwise' } });
  console.log('RUN_ID=' + runId);
  const params: Record<string, number> = {};
  for (let i = 0; i < 120; i++) params['p' + String(i).padStart(3, '0')] = i;
  rw.logParams(params);
  rw.logParam('lr', 0.01);
  rw.setTags({ lang: 'node', mode });
  for (let i = 0; i < ${POINTS}; i++) rw.logMetric('loss', 1 / (i + 1), i);
  rw.logMetric('nan_metric', NaN, 3);
  rw.logMetric('inf_metric', Infinity, 4);
  rw.logMetrics({ acc: 0.5, f1: 0.25 }, 7);
  rw.logInput({ name: 'train-set', digest: 'd1g3st', source: '/data/train.csv', schema: { columns: ['x', 'y'] }, context: 'training' });
  const art = path.join(process.env.ART_DIR!, 'notes.txt');
  fs.writeFileSync(art, 'hello from ' + process.env.CASE_NAME);
  rw.logArtifact(art, 'outputs');
  if (mode === 'exit') process.exit(0);
  if (mode === 'raise') setImmediate(() => { throw new Error('deliberate failure after logging'); });
}
void main();
`;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  runId: string;
}

let workspace: string;
let scratch: string;
let server: Server;
let pyScript: string;
let nodeScript: string;

/** Runs a child asynchronously: the endpoint lives in this process and must keep answering. */
function runChild(lang: 'python' | 'node', mode: string, caseName: string, extraEnv: Record<string, string> = {}): Promise<ChildResult> {
  const artDir = path.join(scratch, caseName);
  mkdirSync(artDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_TRACKING_URI: server.uri, MLFLOW_TRACKING_TOKEN: server.token, CASE_NAME: caseName, ART_DIR: artDir, ...extraEnv };
  if (!extraEnv.MLFLOW_RUN_ID) delete env.MLFLOW_RUN_ID;
  delete env.MLFLOW_EXPERIMENT_NAME;
  delete env.MLFLOW_EXPERIMENT_ID;
  delete env.NODE_OPTIONS;
  const [cmd, args] = lang === 'python' ? ['python3', [pyScript, mode]] : [process.execPath, ['--import', 'tsx', nodeScript, mode]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const runId = /RUN_ID=(\w+)/.exec(stdout)?.[1] ?? '';
      resolve({ code, stdout, stderr, runId });
    });
  });
}

function withTracker<T>(fn: (t: Tracker) => T): T {
  const tracker = Tracker.open(workspace, { skipRecovery: true });
  try {
    return fn(tracker);
  } finally {
    tracker.close();
  }
}

/** Everything the child scripts log, read back from the tracker. */
function assertFullRun(runId: string, lang: 'python' | 'node', mode: string, caseName: string, status: string): void {
  withTracker((t) => {
    const run = t.getRun(runId);
    assert.equal(run.info.status, status, `status of ${caseName}`);
    if (status === 'RUNNING') assert.equal(run.info.endTime, null);
    else assert.ok(run.info.endTime !== null && run.info.endTime >= run.info.startTime, 'end time set');
    assert.equal(run.info.runName, caseName);
    assert.equal(run.info.experimentId, '0');
    assert.ok(
      t.searchRuns({ experimentIds: ['0'] }).items.some((r) => r.info.runId === runId),
      'the run is found by searchRuns in the Default experiment',
    );

    // params: 121, split over two requests by the 100-params limit
    assert.equal(run.params.length, 121);
    const params = new Map(run.params.map((p) => [p.key, p.value]));
    for (let i = 0; i < 120; i++) assert.equal(params.get(`p${String(i).padStart(3, '0')}`), String(i));
    assert.equal(params.get('lr'), '0.01');

    const tags = new Map(run.tags.map((x) => [x.key, x.value]));
    assert.equal(tags.get('team'), 'runwise');
    assert.equal(tags.get('lang'), lang);
    assert.equal(tags.get('mode'), mode);
    assert.equal(tags.get('mlflow.runName'), caseName);
    // Source tags are set when the client creates the run, not on a run it is handed.
    if (status !== 'RUNNING') assert.match(tags.get('mlflow.source.name') ?? '', lang === 'python' ? /\.py$/ : /\.ts$/);

    // 2,500 points: three log-batch requests at 1,000 metrics each
    const history = t.getMetricHistory(runId, 'loss', { maxResults: 25_000 });
    assert.equal(history.nextPageToken, undefined);
    assert.equal(history.items.length, POINTS, 'every loss point arrived, once');
    history.items.forEach((m, i) => {
      assert.equal(m.step, i);
      assert.equal(m.value, 1 / (i + 1));
      assert.ok(Number.isInteger(m.timestamp) && m.timestamp > 1_600_000_000_000);
    });
    const latest = new Map(run.metrics.map((m) => [m.key, m]));
    assert.equal(latest.get('loss')?.step, POINTS - 1);
    assert.ok(Number.isNaN(latest.get('nan_metric')?.value), 'NaN kept as NaN');
    assert.equal(latest.get('nan_metric')?.step, 3);
    assert.equal(latest.get('inf_metric')?.value, Infinity);
    assert.equal(latest.get('acc')?.value, 0.5);
    assert.equal(latest.get('acc')?.step, 7);
    assert.equal(latest.get('f1')?.value, 0.25);
    assert.equal(t.getMetricHistory(runId, 'nan_metric').items.length, 1);

    assert.equal(run.inputs.length, 1);
    const input = run.inputs[0]!;
    assert.equal(input.dataset.name, 'train-set');
    assert.equal(input.dataset.digest, 'd1g3st');
    assert.equal(input.dataset.sourceType, 'local');
    assert.equal(input.dataset.source, '/data/train.csv');
    assert.deepEqual(JSON.parse(input.dataset.schema ?? 'null'), { columns: ['x', 'y'] });
    assert.deepEqual(input.tags, [{ key: 'mlflow.data.context', value: 'training' }]);

    assert.deepEqual(t.listArtifacts(runId, 'outputs'), [
      { path: 'outputs/notes.txt', isDir: false, fileSize: Buffer.byteLength(`hello from ${caseName}`) },
    ]);
  });
}

/** Creates a RUNNING run over REST, as an owner (e.g. the editor) would before launching a script. */
async function createRunOverRest(name: string): Promise<string> {
  const res = await fetch(`${server.uri}/api/2.0/mlflow/runs/create`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ experiment_id: '0', run_name: name, start_time: Date.now() }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { run: { info: { run_id: string } } };
  return body.run.info.run_id;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'runwise-clients-'));
  workspace = path.join(scratch, 'workspace');
  mkdirSync(workspace);
  pyScript = path.join(scratch, 'train_script.py');
  nodeScript = path.join(scratch, 'train_script.ts');
  writeFileSync(pyScript, PY_SCRIPT);
  writeFileSync(nodeScript, NODE_SCRIPT);
  server = await startTrackingServer({ workspace });
});

after(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('Python client (runwise_tracking.py)', () => {
  // No quiet skip: without python3 this layer cannot check the Python client, and says so by failing.
  test('python3 is available', () => assert.ok(hasPython, 'python3 is not installed; the Python client cannot be tested'));

  test('sys.exit(0) right after logging: nothing lost, run FINISHED', async () => {
    const r = await runChild('python', 'exit', 'py-exit');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assertFullRun(r.runId, 'python', 'exit', 'py-exit', 'FINISHED');
  });

  test('uncaught exception: traceback printed, exit 1, everything logged, run FAILED', async () => {
    const r = await runChild('python', 'raise', 'py-raise');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /RuntimeError: deliberate failure after logging/);
    assertFullRun(r.runId, 'python', 'raise', 'py-raise', 'FAILED');
  });

  test('a run given by MLFLOW_RUN_ID is logged into and left RUNNING for its owner', async () => {
    const runId = await createRunOverRest('py-given');
    const r = await runChild('python', 'end', 'py-given', { MLFLOW_RUN_ID: runId });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.runId, runId);
    assertFullRun(runId, 'python', 'end', 'py-given', 'RUNNING');
  });
});

describe('Node client (index.ts)', () => {
  test('process.exit(0) right after logging: nothing lost, run FINISHED', async () => {
    const r = await runChild('node', 'exit', 'node-exit');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assertFullRun(r.runId, 'node', 'exit', 'node-exit', 'FINISHED');
  });

  test('uncaught exception: not swallowed (printed, exit 1), everything logged, run FAILED', async () => {
    const r = await runChild('node', 'raise', 'node-raise');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error: deliberate failure after logging/);
    assertFullRun(r.runId, 'node', 'raise', 'node-raise', 'FAILED');
  });

  test('the script just ends: flushed on beforeExit, run FINISHED', async () => {
    const r = await runChild('node', 'end', 'node-end');
    assert.equal(r.code, 0, r.stderr);
    assertFullRun(r.runId, 'node', 'end', 'node-end', 'FINISHED');
  });

  test('a run given by MLFLOW_RUN_ID is logged into and left RUNNING for its owner', async () => {
    const runId = await createRunOverRest('node-given');
    const r = await runChild('node', 'exit', 'node-given', { MLFLOW_RUN_ID: runId });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.runId, runId);
    assertFullRun(runId, 'node', 'exit', 'node-given', 'RUNNING');
  });

  test('TrackingClient: two at once; batches split by size under the 1 MB body limit', async () => {
    const a = new TrackingClient({ trackingUri: server.uri, token: server.token });
    const b = new TrackingClient({ trackingUri: server.uri, token: server.token });
    const [ra, rb] = await Promise.all([a.startRun({ runName: 'two-a' }), b.startRun({ runName: 'two-b', experimentName: 'clients-other' })]);
    assert.notEqual(ra, rb);
    assert.equal(a.activeRunId(), ra);
    // 100 params of 6,000 chars and 100 tags of 8,000 chars: 1.4 MB, over the limit in one request
    const bigParams: Record<string, string> = {};
    const bigTags: Record<string, string> = {};
    for (let i = 0; i < 100; i++) {
      bigParams[`big${i}`] = 'p'.repeat(6000);
      bigTags[`tag${i}`] = 't'.repeat(8000);
    }
    a.logParams(bigParams);
    a.setTags(bigTags);
    for (let i = 0; i < 1500; i++) {
      a.logMetric('x', i, i);
      b.logMetric('y', -i, i);
    }
    await Promise.all([a.endRun(), b.endRun('KILLED')]);
    assert.equal(a.activeRunId(), undefined);
    withTracker((t) => {
      const runA = t.getRun(ra);
      assert.equal(runA.info.status, 'FINISHED');
      assert.equal(runA.params.length, 100);
      assert.equal(runA.tags.filter((x) => x.key.startsWith('tag')).length, 100);
      assert.equal(t.getMetricHistory(ra, 'x', { maxResults: 25_000 }).items.length, 1500);
      const runB = t.getRun(rb);
      assert.equal(runB.info.status, 'KILLED');
      assert.notEqual(runB.info.experimentId, '0');
      assert.equal(t.getExperimentByName('clients-other')?.experimentId, runB.info.experimentId, 'experiment created on demand');
      assert.deepEqual(
        t.getMetricHistory(rb, 'y', { maxResults: 25_000 }).items.map((m) => m.value),
        Array.from({ length: 1500 }, (_, i) => (i === 0 ? 0 : -i)), // -0 is 0 in JSON
      );
    });
  });

  test('server errors come back as RunwiseTrackingError with MLflow code and HTTP status', async () => {
    const c = new TrackingClient({ trackingUri: server.uri, token: server.token });
    await c.startRun({ runName: 'errors' });
    c.logParam('lr', 0.1);
    await c.flush();
    c.logParam('lr', 0.2); // params are immutable
    await assert.rejects(c.flush(), (e: unknown) => {
      assert.ok(e instanceof RunwiseTrackingError);
      assert.equal(e.errorCode, 'INVALID_PARAMETER_VALUE');
      assert.equal(e.httpStatus, 400);
      assert.match(e.message, /lr/);
      return true;
    });
    await c.endRun();

    const wrongToken = new TrackingClient({ trackingUri: server.uri, token: 'not-the-token' });
    await assert.rejects(wrongToken.startRun(), (e: unknown) => e instanceof RunwiseTrackingError && e.errorCode === 'UNAUTHENTICATED' && e.httpStatus === 401);

    const unknownRun = new TrackingClient({ trackingUri: server.uri, token: server.token, runId: 'f'.repeat(32) });
    unknownRun.logMetric('m', 1);
    await assert.rejects(unknownRun.flush(), (e: unknown) => e instanceof RunwiseTrackingError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST' && e.httpStatus === 404);
    await unknownRun.endRun();

    assert.throws(() => TrackingClient.fromEnv({}), (e: unknown) => e instanceof RunwiseTrackingError && e.errorCode === 'MISSING_TRACKING_URI' && /MLFLOW_TRACKING_URI/.test(e.message));
  });

  test('connection refused is retried: an endpoint that comes up late still gets the data', async () => {
    const port = await freePort();
    const lateWorkspace = mkdtempSync(path.join(scratch, 'late-'));
    const c = new TrackingClient({ trackingUri: `http://127.0.0.1:${port}`, token: 'late-token' });
    c.logMetric('m', 42, 1);
    const flushed = c.endRun();
    await new Promise((r) => setTimeout(r, 400));
    const late = await startTrackingServer({ workspace: lateWorkspace, port, token: 'late-token' });
    try {
      await flushed;
    } finally {
      await late.close();
    }
    const t = Tracker.open(lateWorkspace, { skipRecovery: true });
    try {
      const runs = t.searchRuns({ experimentIds: ['0'] }).items;
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.info.status, 'FINISHED');
      assert.deepEqual(
        t.getMetricHistory(runs[0]!.info.runId, 'm').items.map((m) => [m.step, m.value]),
        [[1, 42]],
      );
    } finally {
      t.close();
    }
  });
});
