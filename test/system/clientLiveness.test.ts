/**
 * A run logged over REST is owned by the client process that created it (or set it RUNNING), not by
 * the endpoint: a client killed with SIGKILL has its run FAILED while the endpoint lives, and an
 * endpoint restarted under a live client leaves the client's run RUNNING. Real processes throughout:
 * the clients are python3 scripts speaking MLflow's REST API.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { startTrackingServer, type TrackingServer } from '../../core/endpoint/trackingServer';
import type { Run } from '../../core/tracker/model';
import { currentProcess } from '../../core/tracker/processOwner';
import { FAILURE_REASON_TAG, type Tracker } from '../../core/tracker/tracker';
import { finished, repoRoot, startServeProcess } from '../support/processes';
import { tempWorkspace } from '../support/tempWorkspace';

const TOKEN = 'liveness-token-0123456789';
/** How long a poll waits for a state before the test fails: a bound, not a measured timing. */
const POLL_LIMIT_MS = 10_000;
/** Sweeps this often in these tests, so the poll limit is many sweeps. */
const SWEEP_MS = 100;

const children: ChildProcess[] = [];
const servers: TrackingServer[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.close()));
});

interface RestClient {
  child: ChildProcess;
  pid: number;
  /** Sends one command line of restClient.py and resolves with its answer line. */
  send(command: string): Promise<string>;
  /** SIGKILL, resolved once the process is gone (reaped). */
  kill(): Promise<void>;
}

function startRestClient(env: Record<string, string> = {}): RestClient {
  const child = spawn('python3', [path.join(repoRoot, 'test/system/fixtures/restClient.py')], {
    env: { ...process.env, TOKEN, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.resolve(line));
  child.once('exit', (code, signal) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the client exited (${code ?? signal}): ${stderr}`));
  });
  return {
    child,
    pid: child.pid!,
    send: (command) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin!.write(`${command}\n`);
      }),
    kill: async () => {
      const exited = finished(child);
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `probe` until it returns a value, for at most POLL_LIMIT_MS. */
async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const limit = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > limit) throw new Error(`${what}: not so after ${POLL_LIMIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const failureReason = (run: Run) => run.tags.find((t) => t.key === FAILURE_REASON_TAG)?.value;

/** The pid of the session that owns a RUNNING run. */
function ownerPid(tracker: Tracker, runId: string): number | undefined {
  const row = tracker.db.prepare('SELECT s.pid FROM runs r JOIN sessions s ON s.session_id = r.session_id WHERE r.run_uuid = ?').get(runId);
  return row ? Number(row.pid) : undefined;
}

function failedRun(tracker: Tracker, runId: string): Promise<Run> {
  return until(`run ${runId} is FAILED`, () => {
    const run = tracker.getRun(runId);
    return run.info.status === 'FAILED' ? run : undefined;
  });
}

async function endpoint(workspace: string): Promise<TrackingServer> {
  const server = await startTrackingServer({ workspace, token: TOKEN, orphanSweepIntervalMs: SWEEP_MS });
  servers.push(server);
  return server;
}

test('python3 is available', () => assert.equal(spawnSync('python3', ['--version']).status, 0, 'python3 is needed to run the clients'));

test('a REST client killed with SIGKILL has its run FAILED while the endpoint lives', async () => {
  const server = await endpoint(tempWorkspace('liveness-kill'));
  const client = startRestClient();
  const runId = await client.send(`create ${server.uri}`);
  await client.send(`log ${server.uri} ${runId}`);
  assert.equal(ownerPid(server.tracker, runId), client.pid, 'the client process owns the run, not the endpoint');
  const lastPoint = server.tracker.getRun(runId).metrics[0]!.timestamp;

  await client.kill();
  const run = await failedRun(server.tracker, runId);
  assert.match(failureReason(run) ?? '', new RegExp(`pid ${client.pid} .*exited without ending it`));
  assert.equal(run.info.endTime, lastPoint, 'the run ends at its last logged point');
  // The endpoint lives on and says so over REST.
  const res = await fetch(`${server.uri}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { run: { info: { status: string } } }).run.info.status, 'FAILED');
});

test('a client naming another process in X-Runwise-Client-Pid still owns its own run', async () => {
  const server = await endpoint(tempWorkspace('liveness-claim'));
  // This test process lives on: were the claim believed, the run would never fail.
  const client = startRestClient({ CLAIM_PID: String(process.pid) });
  const runId = await client.send(`create ${server.uri}`);
  assert.equal(ownerPid(server.tracker, runId), client.pid);
  await client.kill();
  await failedRun(server.tracker, runId);
});

test('a run created by the Python tracking client is FAILED once its process is killed', async () => {
  const server = await endpoint(tempWorkspace('liveness-pyclient'));
  const script = [
    'import sys, time',
    `sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'core/trackingClient'))})`,
    'import runwise_tracking as rw',
    'print(rw.start_run(), flush=True)',
    'rw.log_metric("loss", 0.25, step=1)',
    'rw.flush()',
    'print("logged", flush=True)',
    'time.sleep(600)',
  ].join('\n');
  const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_TRACKING_URI: server.uri, MLFLOW_TRACKING_TOKEN: TOKEN };
  delete env.MLFLOW_RUN_ID;
  const child = spawn('python3', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const runId = String((await lines.next()).value);
  assert.equal((await lines.next()).value, 'logged');
  assert.equal(ownerPid(server.tracker, runId), child.pid);
  const exited = finished(child);
  child.kill('SIGKILL');
  await exited;
  await failedRun(server.tracker, runId);
});

test('an endpoint restarted under a live client leaves its run RUNNING, and the client ends it cleanly', async () => {
  const workspace = tempWorkspace('liveness-restart');
  const first = await startServeProcess(workspace, TOKEN);
  const client = startRestClient();
  const runId = await client.send(`create ${first.uri}`);
  await client.send(`log ${first.uri} ${runId}`);
  const stopped = finished(first.child);
  first.child.kill('SIGTERM');
  await stopped;

  // Opening the tracker again recovers runs of dead owners; the client is not one.
  const second = await endpoint(workspace);
  assert.equal(second.tracker.getRun(runId).info.status, 'RUNNING');
  assert.deepEqual(second.tracker.recoverOrphanedRuns(), [], 'a sweep finds nothing to fail');
  await client.send(`log ${second.uri} ${runId}`);
  await client.send(`finish ${second.uri} ${runId}`);
  const run = second.tracker.getRun(runId);
  assert.equal(run.info.status, 'FINISHED');
  assert.equal(failureReason(run), undefined);
  assert.equal(ownerPid(second.tracker, runId), undefined, 'an ended run has no owner');
  await client.kill();
});

test('a run set RUNNING again after it was failed loses the failure tag and has a new owner', async () => {
  const server = await endpoint(tempWorkspace('liveness-resume'));
  const first = startRestClient();
  const runId = await first.send(`create ${server.uri}`);
  await first.send(`log ${server.uri} ${runId}`);
  await first.kill();
  assert.ok(failureReason(await failedRun(server.tracker, runId)));

  // mlflow.start_run(run_id=...) in another process.
  const second = startRestClient();
  await second.send(`running ${server.uri} ${runId}`);
  let run = server.tracker.getRun(runId);
  assert.equal(run.info.status, 'RUNNING');
  assert.equal(run.info.endTime ?? null, null);
  assert.equal(failureReason(run), undefined);
  assert.equal(ownerPid(server.tracker, runId), second.pid);

  // The new owner's death fails the run again; a status set by a client afterwards clears the tag.
  await second.kill();
  run = await failedRun(server.tracker, runId);
  assert.match(failureReason(run) ?? '', new RegExp(`pid ${second.pid} `));
  const third = startRestClient();
  await third.send(`finish ${server.uri} ${runId}`);
  run = server.tracker.getRun(runId);
  assert.equal(run.info.status, 'FINISHED');
  assert.equal(failureReason(run), undefined);
  await third.kill();
});

test('the tracker: resuming or ending a run failed by recovery drops the failure tag; the end time sent is kept, as MLflow keeps it', async () => {
  const server = await endpoint(tempWorkspace('liveness-tracker'));
  const t = server.tracker;
  const deadPid = 2 ** 22 + 4321; // above pid_max: no such process
  const failedByRecovery = () => {
    const runId = t.createRun({}, { pid: deadPid, host: hostname(), procStart: null, pidNs: currentProcess().pidNs, bootId: currentProcess().bootId }).info.runId;
    assert.equal(ownerPid(t, runId), deadPid);
    assert.deepEqual(t.recoverOrphanedRuns(), [runId]);
    assert.ok(failureReason(t.getRun(runId)));
    return runId;
  };
  const resumed = failedByRecovery();
  t.updateRun(resumed, { status: 'RUNNING', endTime: 1234 }); // mlflow.start_run(run_id=…) sends the old end time back
  assert.equal(t.getRun(resumed).info.endTime, 1234);
  assert.equal(t.getRun(resumed).info.status, 'RUNNING');
  assert.equal(failureReason(t.getRun(resumed)), undefined);
  const ended = failedByRecovery();
  t.updateRun(ended, { status: 'FINISHED' });
  assert.equal(failureReason(t.getRun(ended)), undefined);
});
