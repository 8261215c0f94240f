/**
 * How the two tracking clients (core/trackingClient) end the run they created when the script ends
 * otherwise than normally, against the real endpoint with real child processes: a non-zero exit code
 * fails it (as MLflow's `with start_run()` does for SystemExit); SIGTERM/SIGINT with no handler of the
 * script's own send what was buffered, end it KILLED and still kill the process by that signal; a
 * handler of the script's own is left to decide. Also: a deleted experiment named by
 * MLFLOW_EXPERIMENT_NAME is refused with MLflow's message (and in Node, a script whose values were
 * lost exits 1, not 0), and with no experiment named, runs go to experiment id '0' even once the
 * default experiment has been renamed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTrackingServer } from '../../core/endpoint/trackingServer';
import type { Run } from '../../core/tracker/model';
import { Tracker } from '../../core/tracker/tracker';
import { RunwiseTrackingError, TrackingClient } from '../../core/trackingClient/index';

const REPO = path.resolve(__dirname, '..', '..');
const CLIENT_DIR = path.join(REPO, 'core', 'trackingClient');
const hasPython = spawnSync('python3', ['--version']).status === 0;
/** How long a poll waits for a state before the test fails: a bound, not a measured timing. */
const POLL_LIMIT_MS = 15_000;
const DELETED_MESSAGE = (name: string): string =>
  `Cannot set a deleted experiment '${name}' as the active experiment. You can restore the experiment, or permanently delete the experiment to create a new one.`;

/*
 * Modes: exit1, exit3, exitcode2 (Node), exit0/exit3 (Python): log, then end so. sigterm, sigint:
 * log, then tick (a metric point every few ms, each recorded in TICKS_FILE once logged) until killed.
 * user-sigterm: the same with a SIGTERM handler of the script's own that tags the run and exits 0.
 * log-drain, log-exit0 (Node), log (Python): only logging calls, no startRun(), then the end.
 * end (Node): log, then just end.
 */
const NODE_SCRIPT = `
import * as fs from 'node:fs';
import * as rw from ${JSON.stringify(path.join(CLIENT_DIR, 'index.ts'))};

const mode = process.argv[2]!;
function tick(): void {
  let i = 0;
  setInterval(() => {
    rw.logMetric('tick', i, i);
    fs.appendFileSync(process.env.TICKS_FILE!, i + '\\n');
    if (++i === 20) console.log('READY');
  }, 5);
}
async function main(): Promise<void> {
  if (mode.startsWith('log-')) {
    rw.logParam('mode', mode);
    rw.logMetric('m', 1, 1);
    if (mode === 'log-exit0') process.exit(0);
    return;
  }
  if (mode === 'user-sigterm') {
    process.on('SIGTERM', () => {
      rw.setTag('handled', 'yes');
      process.exit(0);
    });
  }
  const runId = await rw.startRun({ runName: process.env.CASE_NAME });
  console.log('RUN_ID=' + runId);
  rw.logParam('mode', mode);
  for (let i = 0; i < 50; i++) rw.logMetric('loss', 1 / (i + 1), i);
  if (mode === 'exit1') process.exit(1);
  if (mode === 'exit3') process.exit(3);
  if (mode === 'exitcode2') process.exitCode = 2;
  if (mode === 'library-sigterm') {
    // As signal-exit (used by many libraries) does: re-raise the signal only when alone on it.
    const onSignal = (sig: NodeJS.Signals): void => {
      if (process.listeners(sig).length !== 1) return;
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on('SIGTERM', onSignal);
  }
  if (mode === 'sigterm' || mode === 'sigint' || mode === 'user-sigterm' || mode === 'library-sigterm') tick();
  // 'end': the script just ends
}
void main();
`;

const PY_SCRIPT = `
import os, signal, sys, time
sys.path.insert(0, ${JSON.stringify(CLIENT_DIR)})
import runwise_tracking as rw

mode = sys.argv[1]
if mode == "log":
    rw.log_param("mode", mode)
    rw.log_metric("m", 1, step=1)
    sys.exit(0)
if mode == "user-sigterm":
    def on_term(signum, frame):
        rw.set_tag("handled", "yes")
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
run_id = rw.start_run(run_name=os.environ["CASE_NAME"])
print("RUN_ID=" + run_id, flush=True)
rw.log_param("mode", mode)
for i in range(50):
    rw.log_metric("loss", 1.0 / (i + 1), step=i)
if mode == "exit0":
    sys.exit(0)
if mode == "exit3":
    sys.exit(3)
if mode in ("sigterm", "user-sigterm"):
    i = 0
    with open(os.environ["TICKS_FILE"], "a") as ticks:
        while True:
            rw.log_metric("tick", i, step=i)
            ticks.write("%d\\n" % i)
            ticks.flush()
            i += 1
            if i == 20:
                print("READY", flush=True)
            time.sleep(0.005)
`;

type Server = Awaited<ReturnType<typeof startTrackingServer>>;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  runId: string;
  ticks: number[];
}

let scratch: string;
let workspace: string;
let server: Server;
let nodeScript: string;
let pyScript: string;

/** Runs a script; with `signal`, sends it once the script prints READY. */
function runChild(lang: 'python' | 'node', mode: string, caseName: string, options: { signal?: NodeJS.Signals; env?: Record<string, string> } = {}): Promise<ChildResult> {
  const ticksFile = path.join(scratch, `${caseName}.ticks`);
  writeFileSync(ticksFile, '');
  const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_TRACKING_URI: server.uri, MLFLOW_TRACKING_TOKEN: server.token, CASE_NAME: caseName, TICKS_FILE: ticksFile };
  for (const k of ['MLFLOW_RUN_ID', 'MLFLOW_EXPERIMENT_NAME', 'MLFLOW_EXPERIMENT_ID', 'NODE_OPTIONS']) delete env[k];
  Object.assign(env, options.env);
  const [cmd, args] = lang === 'python' ? ['python3', [pyScript, mode]] : [process.execPath, ['--import', 'tsx', nodeScript, mode]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.signal && !signalled && /^READY$/m.test(stdout)) {
        signalled = true;
        child.kill(options.signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ticks = readFileSync(ticksFile, 'utf8').split('\n').filter(Boolean).map(Number);
      resolve({ code, signal, stdout, stderr, runId: /RUN_ID=(\w+)/.exec(stdout)?.[1] ?? '', ticks });
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

/** The run once it has left RUNNING (or still RUNNING when the poll limit is reached). */
async function endedRun(runId: string): Promise<Run> {
  assert.match(runId, /^[0-9a-f]{32}$/, 'the script printed its run id');
  const limit = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    const run = withTracker((t) => t.getRun(runId));
    if (run.info.status !== 'RUNNING' || Date.now() > limit) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Everything the script logged before it ended arrived, and the run ended as `status`. */
async function assertEnded(r: ChildResult, status: string, mode: string): Promise<Run> {
  const run = await endedRun(r.runId);
  assert.equal(run.info.status, status, `run status; stderr: ${r.stderr}`);
  assert.equal(run.info.experimentId, '0');
  assert.deepEqual(run.params, [{ key: 'mode', value: mode }]);
  withTracker((t) => {
    assert.equal(t.getMetricHistory(r.runId, 'loss', { maxResults: 1000 }).items.length, 50, 'every loss point arrived');
    if (r.ticks.length > 0) {
      const got = new Set(t.getMetricHistory(r.runId, 'tick', { maxResults: 25_000 }).items.map((m) => m.step));
      const missing = r.ticks.filter((i) => !got.has(i));
      assert.deepEqual(missing, [], `tick points logged before the signal but lost (of ${r.ticks.length})`);
    }
  });
  return run;
}

async function rest(route: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.uri}/api/2.0/mlflow/${route}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${route}: ${await res.clone().text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function deletedExperiment(name: string): Promise<void> {
  const { experiment_id } = await rest('experiments/create', { name });
  await rest('experiments/delete', { experiment_id });
}

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'runwise-client-exit-'));
  workspace = path.join(scratch, 'workspace');
  mkdirSync(workspace);
  nodeScript = path.join(scratch, 'script.ts');
  pyScript = path.join(scratch, 'script.py');
  writeFileSync(nodeScript, NODE_SCRIPT);
  writeFileSync(pyScript, PY_SCRIPT);
  server = await startTrackingServer({ workspace });
});

after(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('Node client: how the script ends decides the run status', () => {
  for (const [mode, code] of [
    ['exit1', 1],
    ['exit3', 3],
    ['exitcode2', 2],
  ] as const) {
    test(`${mode}: exit code ${code} kept, everything logged, run FAILED`, async () => {
      const r = await runChild('node', mode, `node-${mode}`);
      assert.equal(r.code, code, r.stderr);
      await assertEnded(r, 'FAILED', mode);
    });
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} with no handler of the script's own: buffered values sent, run KILLED, killed by ${signal}`, async () => {
      const mode = signal.toLowerCase();
      const r = await runChild('node', mode, `node-${mode}`, { signal });
      assert.equal(r.signal, signal, `exit code ${r.code}; stderr: ${r.stderr}`);
      assert.ok(r.ticks.length >= 20);
      await assertEnded(r, 'KILLED', mode);
    });
  }

  test('SIGTERM with a library handler added after the client (signal-exit style): the process still dies by it', async () => {
    const r = await runChild('node', 'library-sigterm', 'node-library-sigterm', { signal: 'SIGTERM' });
    assert.equal(r.signal, 'SIGTERM', `exit code ${r.code}; stderr: ${r.stderr}`);
  });

  test("SIGTERM with a handler of the script's own: left to it (it logs, exits 0: run FINISHED)", async () => {
    const r = await runChild('node', 'user-sigterm', 'node-user-sigterm', { signal: 'SIGTERM' });
    assert.equal(r.code, 0, r.stderr);
    const run = await assertEnded(r, 'FINISHED', 'user-sigterm');
    assert.ok(run.tags.some((x) => x.key === 'handled' && x.value === 'yes'), 'the handler ran');
  });

  test('a deleted MLFLOW_EXPERIMENT_NAME: refused with MLflow\'s message; the script exits 1, not 0', async () => {
    await deletedExperiment('node-gone');
    for (const mode of ['log-drain', 'log-exit0']) {
      const r = await runChild('node', mode, `node-${mode}`, { env: { MLFLOW_EXPERIMENT_NAME: 'node-gone' } });
      assert.equal(r.code, 1, `${mode}: ${r.stderr}`);
      assert.ok(r.stderr.includes(DELETED_MESSAGE('node-gone')), `${mode}: ${r.stderr}`);
      assert.match(r.stderr, /exit code set to 1/);
    }
    const c = new TrackingClient({ trackingUri: server.uri, token: server.token, experimentName: 'node-gone' });
    c.logMetric('m', 1);
    await assert.rejects(c.flush(), (e: unknown) => e instanceof RunwiseTrackingError && e.errorCode === 'INVALID_PARAMETER_VALUE' && e.message === DELETED_MESSAGE('node-gone'));
    await assert.rejects(c.endRun(), (e: unknown) => e instanceof RunwiseTrackingError && e.message === DELETED_MESSAGE('node-gone'));
    await assert.rejects(c.startRun(), (e: unknown) => e instanceof RunwiseTrackingError && e.message === DELETED_MESSAGE('node-gone'));
    withTracker((t) => {
      const gone = t.getExperimentByName('node-gone');
      assert.equal(gone?.lifecycleStage, 'deleted', 'neither restored nor replaced');
      assert.equal(t.searchRuns({ experimentIds: [gone!.experimentId], viewType: 'ALL' }).items.length, 0);
    });
  });
});

describe('Python client: how the script ends decides the run status', () => {
  test('python3 is available', () => assert.ok(hasPython, 'python3 is not installed; the Python client cannot be tested'));

  test('sys.exit(3): exit code 3 kept, everything logged, run FAILED', async () => {
    const r = await runChild('python', 'exit3', 'py-exit3');
    assert.equal(r.code, 3, r.stderr);
    await assertEnded(r, 'FAILED', 'exit3');
  });

  test('sys.exit(0): run FINISHED', async () => {
    const r = await runChild('python', 'exit0', 'py-exit0');
    assert.equal(r.code, 0, r.stderr);
    await assertEnded(r, 'FINISHED', 'exit0');
  });

  test("SIGTERM with no handler of the script's own: buffered values sent, run KILLED, killed by SIGTERM", async () => {
    const r = await runChild('python', 'sigterm', 'py-sigterm', { signal: 'SIGTERM' });
    assert.equal(r.signal, 'SIGTERM', `exit code ${r.code}; stderr: ${r.stderr}`);
    assert.ok(r.ticks.length >= 20);
    await assertEnded(r, 'KILLED', 'sigterm');
  });

  test("SIGTERM with a handler of the script's own: left to it (it logs, exits 0: run FINISHED)", async () => {
    const r = await runChild('python', 'user-sigterm', 'py-user-sigterm', { signal: 'SIGTERM' });
    assert.equal(r.code, 0, r.stderr);
    const run = await assertEnded(r, 'FINISHED', 'user-sigterm');
    assert.ok(run.tags.some((x) => x.key === 'handled' && x.value === 'yes'), 'the handler ran');
  });

  test("a deleted MLFLOW_EXPERIMENT_NAME: raises with MLflow's message", async () => {
    await deletedExperiment('py-gone');
    const r = await runChild('python', 'log', 'py-gone', { env: { MLFLOW_EXPERIMENT_NAME: 'py-gone' } });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`RunwiseTrackingError: INVALID_PARAMETER_VALUE: ${DELETED_MESSAGE('py-gone')}`), r.stderr);
  });
});

describe('no experiment named: MLflow\'s default experiment, by id', () => {
  test("after the default experiment (id '0') is renamed, both clients still log into it", async () => {
    await rest('experiments/update', { experiment_id: '0', new_name: 'Renamed default' });
    const runs = [await runChild('node', 'end', 'node-default')];
    if (hasPython) runs.push(await runChild('python', 'exit0', 'py-default'));
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      await assertEnded(r, 'FINISHED', r === runs[0] ? 'end' : 'exit0');
    }
    withTracker((t) => assert.equal(t.getExperimentByName('Default'), undefined, "no new 'Default' experiment was created"));
  });
});
