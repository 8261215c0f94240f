/**
 * `runwise run` as a user runs it: the built CLI (bin/runwise.js → dist/cli.js) in its own process
 * on a temporary workspace. A second run runs nothing; a changed param reruns only the stage that
 * reads it; --dry runs nothing; a failed gate exits 1; Ctrl-C exits 130 with the stage's processes
 * stopped; SIGHUP (its terminal closed) ends it with the stage's processes; and a runner killed
 * with SIGKILL mid-stage leaves the lock file intact, and the next runner stops the processes of
 * the stage it left running and fails its runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { processGroupAlive } from '../../core/pipeline/stageProcess';
import { Tracker } from '../../core/tracker/tracker';
import { waitUntil } from '../support/polling';
import { finished, repoRoot } from '../support/processes';
import { tempWorkspace, writeWorkspaceFile } from '../support/tempWorkspace';

const cliPath = path.join(repoRoot, 'bin', 'runwise.js');

function runwise(ws: string, ...args: string[]) {
  const child = spawn(process.execPath, [cliPath, ...args, '--workspace', ws], { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MLFLOW_EXPERIMENT_NAME: 'system-test' } });
  return { child, done: finished(child) };
}

/** A group member that runs (a zombie waiting for init to reap it does not count). */
const groupAlive = processGroupAlive;

const PIPELINE = `stages:
  prepare:
    cmd: echo "n=\${prep.n}" > data.txt
    params: [prep.n]
    outs: [data.txt]
  train:
    cmd: >-
      cat data.txt > model.txt && echo "lr=\${train.lr}" >> model.txt && echo '{"acc": 0.8}' > metrics.json
    deps: [data.txt]
    params: [train.lr]
    outs: [model.txt]
    metrics:
      - metrics.json:
          cache: false
gates:
  - metric: acc
    op: '>='
    value: 0.5
`;

test('run, run again (nothing), change a param (only its stage), --dry, a failing gate', async () => {
  assert.ok(existsSync(path.join(repoRoot, 'dist', 'cli.js')), 'the CLI is built (npm run build)');
  const ws = tempWorkspace('cli-run');
  writeWorkspaceFile(ws, 'params.yaml', 'prep:\n  n: 10\ntrain:\n  lr: 0.1\n');
  writeWorkspaceFile(ws, 'runwise.yaml', PIPELINE);

  const first = await runwise(ws, 'run').done;
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^prepare +ran /m);
  assert.match(first.stdout, /^train +ran .*acc 0\.8/m);
  assert.match(first.stdout, /✔ gate 'acc >= 0\.5' \(runwise\.yaml:16\) passed/);
  assert.match(first.stderr, /^▶ prepare: never ran$/m, 'a plain line per event when not on a terminal');
  assert.equal(readFileSync(path.join(ws, 'model.txt'), 'utf8'), 'n=10\nlr=0.1\n');

  const second = await runwise(ws, 'run', '--json').done;
  assert.equal(second.code, 0, second.stderr);
  const secondJson = JSON.parse(second.stdout) as { run_id: string | null; stages: { id: string; status: string }[] };
  assert.equal(secondJson.run_id, null, 'nothing ran, so no pipeline run was recorded');
  assert.deepEqual(
    secondJson.stages.map((s) => s.status),
    ['skipped', 'skipped'],
  );

  writeWorkspaceFile(ws, 'params.yaml', 'prep:\n  n: 10\ntrain:\n  lr: 0.2\n');
  const dry = await runwise(ws, 'run', '--dry').done;
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^train +run +.*param train\.lr changed/m);
  assert.match(dry.stdout, /^prepare +skip +up to date/m);
  assert.equal(readFileSync(path.join(ws, 'model.txt'), 'utf8'), 'n=10\nlr=0.1\n', '--dry ran nothing');

  const third = await runwise(ws, 'run', '--json').done;
  assert.equal(third.code, 0, third.stderr);
  const thirdJson = JSON.parse(third.stdout) as { run_id: string; stages: { id: string; status: string; run_id: string | null }[] };
  assert.deepEqual(
    thirdJson.stages.map((s) => [s.id, s.status]),
    [
      ['prepare', 'skipped'],
      ['train', 'succeeded'],
    ],
  );
  assert.equal(readFileSync(path.join(ws, 'model.txt'), 'utf8'), 'n=10\nlr=0.2\n');
  const tracker = Tracker.open(ws);
  try {
    const trainRun = tracker.getRun(thirdJson.stages[1]!.run_id!);
    assert.equal(trainRun.info.parentRunId, thirdJson.run_id);
    assert.equal(trainRun.params.find((p) => p.key === 'train.lr')?.value, '0.2');
  } finally {
    tracker.close();
  }

  writeWorkspaceFile(ws, 'runwise.yaml', PIPELINE.replace("value: 0.5", 'value: 0.9'));
  const gated = await runwise(ws, 'run').done;
  assert.equal(gated.code, 1);
  assert.match(gated.stdout, /✖ gate 'acc >= 0\.9' \(runwise\.yaml:16\) failed: acc is 0\.8 \(stage 'train'\), needs >= 0\.9/);
  assert.match(gated.stderr, /runwise: 1 gate failed/);
});

test('run STAGE --single: only that stage (what an exported task runs); its missing deps refuse the run', async () => {
  const ws = tempWorkspace('cli-run');
  writeWorkspaceFile(ws, 'params.yaml', 'prep:\n  n: 10\ntrain:\n  lr: 0.1\n');
  // A gate about train (checked by train's task), and the pipeline-wide one (checked by no --single run).
  writeWorkspaceFile(ws, 'runwise.yaml', `${PIPELINE}  - metric: acc\n    op: '>='\n    value: 0.7\n    stage: train\n`);

  const early = await runwise(ws, 'run', 'train', '--single').done;
  assert.equal(early.code, 1);
  assert.match(early.stderr, /^runwise: stage 'train' \(runwise\.yaml:6\) needs 'data\.txt', which does not exist \(written by 'prepare'\); --single runs no other stage/m);
  assert.ok(!existsSync(path.join(ws, 'data.txt')) && !existsSync(path.join(ws, 'model.txt')), 'nothing ran');

  const prepare = await runwise(ws, 'run', 'prepare', '--single', '--json').done;
  assert.equal(prepare.code, 0, prepare.stderr);
  const prepareJson = JSON.parse(prepare.stdout) as { stages: { id: string; status: string }[]; gates: unknown[] };
  assert.deepEqual(prepareJson.stages.map((s) => [s.id, s.status]), [['prepare', 'succeeded']]);
  assert.deepEqual(prepareJson.gates, [], 'no gate is about prepare');
  assert.ok(!existsSync(path.join(ws, 'model.txt')), 'train did not run');

  const train = await runwise(ws, 'run', 'train', '--single', '--json').done;
  assert.equal(train.code, 0, train.stderr);
  const trainJson = JSON.parse(train.stdout) as { stages: { id: string; status: string }[]; gates: { value: number; passed: boolean }[] };
  assert.deepEqual(trainJson.stages.map((s) => [s.id, s.status]), [['train', 'succeeded']]);
  assert.deepEqual(trainJson.gates.map((g) => [g.value, g.passed]), [[0.7, true]], "train's gate only");
  assert.equal(readFileSync(path.join(ws, 'model.txt'), 'utf8'), 'n=10\nlr=0.1\n');

  // An upstream change does not make --single run the stage (nor the upstream one); its own change does.
  writeWorkspaceFile(ws, 'params.yaml', 'prep:\n  n: 11\ntrain:\n  lr: 0.1\n');
  const unchanged = await runwise(ws, 'run', 'train', '--single', '--json').done;
  assert.equal(unchanged.code, 0, unchanged.stderr);
  assert.deepEqual((JSON.parse(unchanged.stdout) as { stages: { id: string; status: string }[] }).stages.map((s) => [s.id, s.status]), [['train', 'skipped']]);
  assert.equal(readFileSync(path.join(ws, 'data.txt'), 'utf8'), 'n=10\n', 'prepare did not run');

  const usage = await runwise(ws, 'run', '--single').done;
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--single needs the STAGE to run/);
});

test('a pipeline the editor rejects is refused with its diagnostics before anything runs', async () => {
  const ws = tempWorkspace('cli-run');
  writeWorkspaceFile(ws, 'runwise.yaml', 'stages:\n  a:\n    cmd: touch ran\n    outz: [x]\n');
  const r = await runwise(ws, 'run').done;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^runwise\.yaml:4:5: error: .*outz/m);
  assert.ok(!existsSync(path.join(ws, 'ran')));
});

const SLOW = `stages:
  quick:
    cmd: echo quick > quick.txt
    outs: [quick.txt]
  slow:
    cmd: echo $$ > slow.pid; sleep 30 & wait
    deps: [quick.txt]
    outs: [slow.txt]
`;

test('Ctrl-C (SIGINT): exit 130, the stage process group stopped, the runs KILLED', async () => {
  const ws = tempWorkspace('cli-run');
  writeWorkspaceFile(ws, 'runwise.yaml', SLOW);
  const { child, done } = runwise(ws, 'run');
  await waitUntil(() => existsSync(path.join(ws, 'slow.pid')) && readFileSync(path.join(ws, 'slow.pid'), 'utf8').trim() !== '', 'the slow stage to start', 10_000);
  const pgid = Number(readFileSync(path.join(ws, 'slow.pid'), 'utf8').trim());
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /runwise: interrupted/);
  assert.ok(!groupAlive(pgid), 'no process of the stage is left');
  const tracker = Tracker.open(ws);
  try {
    const runs = tracker.searchRuns({ filter: "tags.`runwise.stage` = 'slow'" }).items;
    assert.equal(runs[0]?.info.status, 'KILLED');
  } finally {
    tracker.close();
  }
});

test("SIGHUP (the terminal closed): the runner dies by it and takes the stage's processes along", async () => {
  const ws = tempWorkspace('cli-run', { 'runwise.yaml': SLOW });
  const { child, done } = runwise(ws, 'run');
  const pidFile = path.join(ws, 'slow.pid');
  await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'the slow stage to start', 10_000);
  const pgid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    child.kill('SIGHUP');
    const r = await done;
    assert.equal(r.signal, 'SIGHUP', r.stderr);
    await waitUntil(() => !groupAlive(pgid), "the stage's processes to end", 5_000);
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone, as it should be */
    }
  }
});

test("the runner SIGKILLed mid-stage: the lock file is intact; the next runner stops the stage's processes and fails its run", async () => {
  const ws = tempWorkspace('cli-run');
  const quick = SLOW.replace('sleep 30 & wait', 'sleep 0.1; touch slow.txt');
  writeWorkspaceFile(ws, 'runwise.yaml', quick);
  const warm = await runwise(ws, 'run').done;
  assert.equal(warm.code, 0, warm.stderr);
  const lockBefore = readFileSync(path.join(ws, 'runwise.lock'), 'utf8');
  writeWorkspaceFile(ws, 'runwise.yaml', SLOW);

  const { child, done } = runwise(ws, 'run', '--force');
  const pidFile = path.join(ws, 'slow.pid');
  writeFileSync(pidFile, '');
  await waitUntil(() => readFileSync(pidFile, 'utf8').trim() !== '', 'the slow stage to start', 10_000);
  const pgid = Number(readFileSync(pidFile, 'utf8').trim());
  child.kill('SIGKILL');
  await done;
  assert.equal(readFileSync(path.join(ws, 'runwise.lock'), 'utf8'), lockBefore, 'the lock file is as the last good run left it');
  assert.ok(groupAlive(pgid), 'the stage ran in its own process group: the killed runner could not stop it');

  // The next runner: the stage's processes are stopped before anything is planned or run.
  writeWorkspaceFile(ws, 'runwise.yaml', quick);
  const next = await runwise(ws, 'run').done;
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, /^runwise: stage 'slow' \(run [0-9a-f]{8}\) was running when its runner stopped: stopped the processes it left running; its run is FAILED$/m);
  assert.ok(!groupAlive(pgid), "no process of the killed runner's stage is left");
  const tracker = Tracker.open(ws);
  try {
    const slow = tracker.searchRuns({ filter: "tags.`runwise.stage` = 'slow' and attributes.status != 'FINISHED'" }).items;
    assert.equal(slow.length, 1);
    assert.equal(slow[0]!.info.status, 'FAILED');
    assert.equal(slow[0]!.tags.find((t) => t.key === 'runwise.failure_reason')?.value, 'the runner stopped while this stage ran');
    const parent = tracker.getRunInfo(slow[0]!.info.parentRunId!);
    assert.equal(parent.status, 'FAILED');
    assert.match(tracker.getRun(parent.runId).tags.find((t) => t.key === 'runwise.failure_reason')?.value ?? '', /exited without ending it/);
  } finally {
    tracker.close();
  }
});
