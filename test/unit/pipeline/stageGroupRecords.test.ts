/**
 * What a killed runner leaves: records of its stages' process groups, and the next runner stopping
 * the groups that are still the stage's (a whole group, a group whose leader has exited, a member
 * that ignores SIGTERM), leaving alone the groups of a live runner and a pid that was reused, and
 * failing the stage's run with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readStageGroupRecords, RUNNER_STOPPED_REASON, stageGroupRecordsDir, stopLeftoverStages, writeStageGroupRecord, type StageGroupRecord } from '../../../core/pipeline/stageGroupRecords';
import { processGroupAlive, processGroupMembers } from '../../../core/pipeline/stageProcess';
import { FAILURE_REASON_TAG } from '../../../core/tracker/model';
import { currentProcess, processStartTime } from '../../../core/tracker/processOwner';
import { Tracker } from '../../../core/tracker/tracker';
import { waitUntil } from '../../support/polling';
import { processRunning } from '../../support/processes';
import { tempWorkspace } from '../../support/tempWorkspace';

/** A detached shell running `script` (its own process group, as a stage's command); its pid once its pid file is written. */
async function detached(ws: string, name: string, script: string): Promise<number> {
  const pidFile = path.join(ws, `${name}.pid`);
  const child = spawn('/bin/sh', ['-c', `echo $$ > ${name}.pid.tmp && mv ${name}.pid.tmp ${name}.pid; ${script}`], { cwd: ws, detached: true, stdio: 'ignore' });
  child.unref();
  await waitUntil(() => existsSync(pidFile), `${name}.pid`);
  return Number(readFileSync(pidFile, 'utf8').trim());
}

/** A runner that is gone: this process's pid with a start time that is not this process's (as if the pid had been reused). */
const deadRunner = () => ({ ...currentProcess(), procStart: '1' });

function writeRecord(ws: string, record: StageGroupRecord): void {
  mkdirSync(stageGroupRecordsDir(ws), { recursive: true });
  writeFileSync(path.join(stageGroupRecordsDir(ws), `${record.runId}.json`), JSON.stringify(record));
}

const killGroup = (pgid: number) => {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* gone */
  }
};

test("a dead runner's stage: its whole group is stopped, its RUNNING run FAILED with the reason, the record removed", async () => {
  const ws = tempWorkspace('leftover');
  const tracker = Tracker.open(ws);
  const pgid = await detached(ws, 'stage', 'sleep 60 & echo $! > child.pid; wait');
  try {
    await waitUntil(() => existsSync(path.join(ws, 'child.pid')), 'child.pid');
    const grandchild = Number(readFileSync(path.join(ws, 'child.pid'), 'utf8').trim());
    const run = tracker.createRun({ runName: 'train' }).info.runId;
    writeRecord(ws, { pgid, leaderStart: processStartTime(pgid), runner: deadRunner(), stage: 'train', runId: run });

    const found = await stopLeftoverStages(ws, tracker, { killGraceMs: 2000 });
    assert.deepEqual(found, [{ stage: 'train', runId: run, pgid, stopped: true, runMarked: true }]);
    assert.ok(!processGroupAlive(pgid), 'the shell and the sleep it started are gone');
    assert.ok(!processRunning(grandchild), 'the grandchild is gone');
    const info = tracker.getRun(run);
    assert.equal(info.info.status, 'FAILED');
    assert.equal(info.tags.find((t) => t.key === FAILURE_REASON_TAG)?.value, RUNNER_STOPPED_REASON);
    assert.deepEqual(readdirSync(stageGroupRecordsDir(ws)), [], 'the record is removed');
    assert.deepEqual(await stopLeftoverStages(ws, tracker), [], 'nothing is left for the next start');
  } finally {
    killGroup(pgid);
    tracker.close();
  }
});

test('a group whose leader has exited: the members it left are stopped; one that ignores SIGTERM is killed after the grace period', async () => {
  const ws = tempWorkspace('leftover');
  const pgid = await detached(ws, 'stage', `sh -c "trap '' TERM; touch ready; while true; do sleep 0.05; done" & exit 0`);
  try {
    await waitUntil(() => existsSync(path.join(ws, 'ready')), 'the group to be ready');
    await waitUntil(() => !processRunning(pgid), 'the leader to exit');
    assert.ok(processGroupAlive(pgid), 'the leader is gone, its member runs on');
    // The leader started no later than the member it left; the member's start stands in for it.
    const leaderStart = String(Math.min(...processGroupMembers(pgid)!.map((m) => m.startTime)));
    writeRecord(ws, { pgid, leaderStart, runner: deadRunner(), stage: 'train', runId: 'a'.repeat(32) });
    const started = Date.now();
    const [found] = await stopLeftoverStages(ws, undefined, { killGraceMs: 300 });
    assert.equal(found?.stopped, true);
    assert.ok(Date.now() - started >= 300, 'SIGTERM was ignored: SIGKILL came after the grace period');
    assert.ok(!processGroupAlive(pgid));
  } finally {
    killGroup(pgid);
  }
});

test('left alone: the group of a live runner, and a pid that now belongs to a process started at another time', async () => {
  const ws = tempWorkspace('leftover');
  const live = await detached(ws, 'live', 'sleep 60');
  const reused = await detached(ws, 'reused', 'sleep 60');
  try {
    // A live runner: this process recorded it.
    writeStageGroupRecord(ws, { pgid: live, stage: 'mine', runId: 'b'.repeat(32) });
    // A dead runner's record whose leader pid is now another process (its start time differs).
    writeRecord(ws, { pgid: reused, leaderStart: String(Number(processStartTime(reused)) - 1), runner: deadRunner(), stage: 'old', runId: 'c'.repeat(32) });
    const found = await stopLeftoverStages(ws, undefined, { killGraceMs: 200 });
    assert.deepEqual(found, [{ stage: 'old', runId: 'c'.repeat(32), pgid: reused, stopped: false, runMarked: false }]);
    assert.ok(processGroupAlive(live), "a live runner's stage runs on");
    assert.ok(processGroupAlive(reused), 'a process that only shares the pid is never signalled');
    assert.deepEqual(
      readStageGroupRecords(ws).map((r) => r.stage),
      ['mine'],
      "the live runner's record stays; the stale one is removed",
    );
  } finally {
    killGroup(live);
    killGroup(reused);
  }
});

test('records that are not records (torn, pgid 0 or 1, a name that is no run id) are never acted on', async () => {
  const ws = tempWorkspace('leftover');
  const dir = stageGroupRecordsDir(ws);
  mkdirSync(dir, { recursive: true });
  const base = { leaderStart: '1', runner: deadRunner(), stage: 's' };
  writeFileSync(path.join(dir, `${'d'.repeat(32)}.json`), '{"pgid": 12');
  writeFileSync(path.join(dir, `${'e'.repeat(32)}.json`), JSON.stringify({ ...base, pgid: 1, runId: 'e'.repeat(32) }));
  writeFileSync(path.join(dir, `${'f'.repeat(32)}.json`), JSON.stringify({ ...base, pgid: 0, runId: 'f'.repeat(32) }));
  writeFileSync(path.join(dir, 'notes.json'), JSON.stringify({ ...base, pgid: 4242, runId: 'notes' }));
  assert.deepEqual(readStageGroupRecords(ws), []);
  assert.deepEqual(await stopLeftoverStages(ws, undefined), []);
});
