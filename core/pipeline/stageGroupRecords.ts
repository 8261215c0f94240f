/**
 * Stage processes that outlive a killed runner. A stage's commands run detached, each the leader of
 * its own process group (stageProcess.ts), so that cancelling reaches everything a command started;
 * the price is that the kernel ends none of them with their runner. A runner that exits, crashes or
 * is ended by a signal it does not handle sends them SIGTERM on its way out (stageProcess.ts); one
 * killed with SIGKILL cannot, and a member that ignores SIGTERM outlives even the polite exit.
 *
 * Linux's PR_SET_PDEATHSIG would have the kernel signal a child when its parent dies, but Node has
 * no way to set it for a spawned process (no prctl between fork and exec), it would reach only the
 * direct child (the shell), not the group the command's own children are in, and it does not
 * exist on macOS. So the runner leaves a record instead: while a command runs, its group is
 * written to `.runwise/running/<run id>.json` (atomically: a temporary file renamed over it) with
 * the group's id, its leader's kernel start time (so a recycled pid is never signalled), the
 * runner's own identity, the stage and its run; the record goes when the group is gone. The next
 * runner to start (the CLI's, the extension's: stopLeftoverStages) finds the records of runners
 * that are dead, stops the groups that are still theirs (SIGTERM, a grace period, SIGKILL) and
 * marks their runs FAILED with the reason RUNNER_STOPPED_REASON.
 */
import { writeNewFile } from '../workspace/atomicWrite';
import { runwiseFile } from '../tracker/trackerFiles';
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { FAILURE_REASON_TAG, RUN_ID_PATTERN } from '../tracker/model';
import { currentProcess, isAlive, processIdentity, type ProcessIdentity } from '../tracker/processOwner';
import type { Tracker } from '../tracker/tracker';
import { runwiseDir } from '../workspace/workspacePath';
import { DEFAULT_KILL_GRACE_MS, processGroupMembers, type ProcessGroupMember } from './stageProcess';

/** The `runwise.failure_reason` of a stage run whose runner died while it ran. */
export const RUNNER_STOPPED_REASON = 'the runner stopped while this stage ran';

export interface StageGroupRecord {
  /** The group's id: the pid of its leader, the command's shell. */
  pgid: number;
  /** The leader's kernel start time (`/proc/<pid>/stat` field 22); null where it could not be read. */
  leaderStart: string | null;
  /** The runner that started the group. */
  runner: ProcessIdentity;
  stage: string;
  runId: string;
}

/** Where running stage groups are recorded. */
export function stageGroupRecordsDir(workspace: string): string {
  return path.join(runwiseDir(workspace), 'running');
}

function recordFile(workspace: string, runId: string): string {
  if (!RUN_ID_PATTERN.test(runId)) throw new Error(`not a run id: '${runId}'`);
  return path.join(stageGroupRecordsDir(workspace), `${runId}.json`);
}

/** Records that `pgid` (just spawned by this process) runs for `stage`'s run. Replaces the run's earlier record. */
export function writeStageGroupRecord(workspace: string, group: { pgid: number; stage: string; runId: string }): void {
  const file = recordFile(workspace, group.runId);
  const record: StageGroupRecord = { pgid: group.pgid, leaderStart: processIdentity(group.pgid).procStart, runner: currentProcess(), stage: group.stage, runId: group.runId };
  runwiseFile(workspace, 'running', path.basename(file));
  const tmp = `${file}.${process.pid}.tmp`;
  writeNewFile(tmp, `${JSON.stringify(record)}\n`);
  renameSync(tmp, file);
}

export function removeStageGroupRecord(workspace: string, runId: string): void {
  rmSync(recordFile(workspace, runId), { force: true });
}

/** The records in the workspace; a file that is not one (torn, foreign) is skipped. */
export function readStageGroupRecords(workspace: string): StageGroupRecord[] {
  const dir = stageGroupRecordsDir(workspace);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const records: StageGroupRecord[] = [];
  for (const name of names) {
    const m = /^([0-9a-f]{32})\.json$/.exec(name);
    if (!m) continue;
    try {
      const r = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Partial<StageGroupRecord>;
      const runner = r.runner as Partial<ProcessIdentity> | undefined;
      const valid =
        // Never 0 or 1 (kill(-0) is the caller's own group, kill(-1) every process it may signal).
        Number.isSafeInteger(r.pgid) &&
        r.pgid! > 1 &&
        (r.leaderStart === null || typeof r.leaderStart === 'string') &&
        typeof r.stage === 'string' &&
        r.runId === m[1] &&
        runner !== undefined &&
        Number.isSafeInteger(runner.pid) &&
        typeof runner.host === 'string';
      if (valid) records.push(r as StageGroupRecord);
    } catch {
      /* a record being replaced, or not one of ours */
    }
  }
  return records;
}

export interface LeftoverStage {
  stage: string;
  runId: string;
  pgid: number;
  /** Processes of the stage were still running and were stopped. */
  stopped: boolean;
  /** The run was RUNNING (or failed by the tracker's orphan recovery) and now says why it failed. */
  runMarked: boolean;
}

export interface StopLeftoverOptions {
  /** Between SIGTERM and SIGKILL; default DEFAULT_KILL_GRACE_MS. */
  killGraceMs?: number;
}

/**
 * Stops the stage process groups that runners now dead left running in `workspace`, removes their
 * records and marks their runs FAILED (RUNNER_STOPPED_REASON). Records of a live runner (another
 * `runwise run`, the editor's) and of runners on another host or in another pid namespace (which
 * cannot be checked from here) are left alone. Never throws for a process or a run it cannot
 * handle; returns what it found.
 */
export async function stopLeftoverStages(workspace: string, tracker: Tracker | undefined, options: StopLeftoverOptions = {}): Promise<LeftoverStage[]> {
  const me = currentProcess();
  const leftovers = readStageGroupRecords(workspace).filter((r) => r.runner.host === hostname() && (r.runner.pidNs ?? null) === me.pidNs && !isAlive(r.runner));
  return Promise.all(
    leftovers.map(async (r) => {
      const stopped = await stopRecordedGroup(r, me, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      const runMarked = tracker ? markRunnerStopped(tracker, r.runId) : false;
      try {
        removeStageGroupRecord(workspace, r.runId);
      } catch {
        /* read-only .runwise: found again next time, when the group is gone */
      }
      return { stage: r.stage, runId: r.runId, pgid: r.pgid, stopped, runMarked };
    }),
  );
}

/**
 * The members of the recorded group that are still the stage's: all of them while its leader runs
 * with the recorded start time; none when a process with the leader's pid started at another time
 * (the pid was reused: the recorded group is gone, since Linux reuses no pid that is still a group's
 * id); when the leader has exited, the members that started no earlier than it did.
 */
function stageMembers(r: StageGroupRecord, me: ProcessIdentity): ProcessGroupMember[] {
  if (r.leaderStart === null) return [];
  if (r.runner.bootId && me.bootId && r.runner.bootId !== me.bootId) return [];
  const members = processGroupMembers(r.pgid) ?? [];
  const start = Number(r.leaderStart);
  const leader = members.find((m) => m.pid === r.pgid);
  if (leader) return String(leader.startTime) === r.leaderStart ? members : [];
  return members.filter((m) => m.startTime >= start);
}

/** SIGTERM, then SIGKILL after `graceMs` for what is left; true when there was something to stop. */
async function stopRecordedGroup(r: StageGroupRecord, me: ProcessIdentity, graceMs: number): Promise<boolean> {
  const initial = stageMembers(r, me);
  if (initial.length === 0) return false;
  const signal = (sig: NodeJS.Signals) => {
    const members = stageMembers(r, me);
    const leaderRuns = members.some((m) => m.pid === r.pgid);
    // With its leader there the group is proven the stage's: signal it whole (a member forking right now included).
    const targets = leaderRuns ? [-r.pgid] : members.map((m) => m.pid);
    for (const t of targets) {
      try {
        process.kill(t, sig);
      } catch {
        /* gone already, or not ours to signal */
      }
    }
    return members.length;
  };
  signal('SIGTERM');
  const until = Date.now() + graceMs;
  while (stageMembers(r, me).length > 0 && Date.now() < until) await delay(50);
  if (signal('SIGKILL') > 0) {
    const killedBy = Date.now() + 2_000;
    while (stageMembers(r, me).length > 0 && Date.now() < killedBy) await delay(20);
  }
  return true;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * FAILED with RUNNER_STOPPED_REASON: a run still RUNNING (a script that set it RUNNING owned it), or
 * one the tracker's orphan recovery already failed with its general reason (the runner owned it).
 * A run its owner ended stays as it is.
 */
function markRunnerStopped(tracker: Tracker, runId: string): boolean {
  try {
    const run = tracker.getRun(runId);
    if (run.info.status === 'RUNNING') {
      tracker.updateRun(runId, { status: 'FAILED', endTime: Date.now() });
    } else if (!(run.info.status === 'FAILED' && run.tags.some((t) => t.key === FAILURE_REASON_TAG))) {
      return false;
    }
    tracker.setTag(runId, { key: FAILURE_REASON_TAG, value: RUNNER_STOPPED_REASON });
    return true;
  } catch {
    // A run deleted meanwhile, or a tracker that cannot write now: the processes are stopped all the same.
    return false;
  }
}
