/**
 * One pipeline run at a time in a workspace, as DVC takes its repository lock for `dvc repro`: a
 * run removes a stage's outputs before running it, so a second run's stage could remove the files
 * the first run's next stage reads (it then failed with "missing dependencies"). The lock is
 * `.runwise/runner.lock`, created exclusively, holding the runner's identity (ProcessIdentity); a
 * lock whose runner is dead (isAlive) is taken over, so a killed runner leaves nothing to clear by
 * hand.
 */
import { runwiseFile } from '../tracker/trackerFiles';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { currentProcess, isAlive, sameProcess, type ProcessIdentity } from '../tracker/processOwner';
import { runwiseDir } from '../workspace/workspacePath';
import { fileStat } from './fileStat';

/** Another pipeline run holds the workspace. */
export class PipelineBusyError extends Error {}

interface LockRecord extends ProcessIdentity {
  /** When it was taken (ms since the epoch). */
  since: number;
}

export function runnerLockPath(root: string): string {
  return path.join(runwiseDir(root), 'runner.lock');
}

/** The lock's record, or undefined when there is none or it does not read (a write cut short). */
function readLock(file: string): LockRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as LockRecord;
    return typeof r.pid === 'number' && typeof r.host === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes a dead runner's lock (`holder`, undefined when it did not read) so that the next attempt
 * can take it, unless another process is doing so: only the one that creates `.takeover` beside the
 * lock removes it, and only while it still holds that record (two processes that both found the
 * same dead runner would otherwise remove each other's fresh lock, and both run).
 */
function takeOver(file: string, holder: LockRecord | undefined): void {
  const guard = `${file}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // A guard left by a process killed in these few lines is old: removed, and tried again next time.
    if (Date.now() - (fileStat(guard)?.mtimeMs ?? Date.now()) > 10_000) unlinkQuietly(guard);
    throw new PipelineBusyError('another pipeline run is starting in this workspace: wait for it to end');
  }
  try {
    const now = readLock(file);
    // An unreadable lock is removed only while it is old: a fresh, not yet written one is another run's.
    const same = holder ? now !== undefined && now.pid === holder.pid && now.since === holder.since && now.host === holder.host : now === undefined && Date.now() - (fileStat(file)?.mtimeMs ?? Date.now()) >= 5000;
    if (same) unlinkQuietly(file);
  } finally {
    closeSync(fd);
    unlinkQuietly(guard);
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/**
 * Takes the workspace's runner lock; returns its release. Throws PipelineBusyError naming the run
 * that holds it while that runner lives (this very process included: one run at a time).
 */
export function acquireRunnerLock(root: string): () => void {
  // .runwise/ a real folder, the lock no link (a cloned repository may ship one).
  const file = runwiseFile(root, 'runner.lock');
  const me: LockRecord = { ...currentProcess(), since: Date.now() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(file);
      // A lock not written yet is another run taking it this moment.
      if (!holder && Date.now() - (fileStat(file)?.mtimeMs ?? 0) < 5000) throw new PipelineBusyError('another pipeline run is starting in this workspace: wait for it to end');
      // A holder that is alive keeps it; a dead one's (or an old unreadable) lock is taken over.
      if (holder && isAlive(holder)) {
        const when = new Date(holder.since).toLocaleTimeString('en-GB');
        throw new PipelineBusyError(
          `another pipeline run is in progress in this workspace (${holder.host === me.host ? '' : `on ${holder.host}, `}pid ${holder.pid}, since ${when}${sameProcess(holder, me) ? ', in this process' : ''}): wait for it to end, or stop it; ${path.relative(root, file)} names it`,
        );
      }
      takeOver(file, holder);
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Only our own record is removed (a lock taken over since is another run's).
      const now = readLock(file);
      if (now && sameProcess(now, me) && now.since === me.since) unlinkQuietly(file);
    };
  }
  throw new PipelineBusyError(`the pipeline runner's lock (${path.relative(root, file)}) could not be taken: other runs keep taking it`);
}
