/**
 * The tracker's files inside a workspace, checked before use: `.runwise/`, `tracker.db` and the
 * files SQLite keeps beside it, the artifact folders and blobs. A repository can carry any of them
 * as a symbolic link (to another application's database, to `~/.ssh/id_rsa`, to a folder outside),
 * so none is followed: each is looked at with lstat, and created one level at a time.
 */
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { runwiseDir, trackerDbPath } from '../workspace/workspacePath';
import { symbolicLinkError, TrackerOpenError } from './trackerOpenError';

/** The files SQLite keeps beside a database. */
export const SQLITE_SIBLINGS = ['-wal', '-shm', '-journal'] as const;

/** lstat of `p`, or undefined when it does not exist. */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Refuses `p` when it is a symbolic link or not of the `kind` expected; returns whether it exists. */
export function checkNotLink(p: string, what: string, kind: 'file' | 'directory'): boolean {
  const st = lstatOrUndefined(p);
  if (!st) return false;
  if (st.isSymbolicLink()) throw symbolicLinkError(p, what);
  if (kind === 'directory' ? !st.isDirectory() : !st.isFile()) {
    throw new TrackerOpenError('cannot-open', p, `${p} (${what}) is not a ${kind}: move it aside and try again`);
  }
  return true;
}

/**
 * Makes sure each folder from `base` (which must exist) down to `dir` is a real folder, creating
 * the missing ones one at a time, so no link on the way is followed.
 */
export function ensureRealDirectory(base: string, dir: string, what: string): void {
  const rel = path.relative(base, dir);
  let at = base;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    at = path.join(at, part);
    if (checkNotLink(at, what, 'directory')) continue;
    try {
      mkdirSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    checkNotLink(at, what, 'directory');
  }
}

/**
 * Checks a workspace's `.runwise/` folder and its database files before SQLite opens them: none
 * may be a symbolic link. `create` makes `.runwise/` when it is missing; without it (a read-only
 * open) the database must exist.
 */
export function checkTrackerFiles(workspace: string, create: boolean): void {
  const dir = runwiseDir(workspace);
  if (create) ensureRealDirectory(path.dirname(dir), dir, 'the tracker folder');
  else checkNotLink(dir, 'the tracker folder', 'directory');
  const db = trackerDbPath(workspace);
  if (!checkNotLink(db, 'the tracker database', 'file') && !create) {
    throw new TrackerOpenError('cannot-open', db, `${db} does not exist, and a read-only open creates nothing: open the workspace for writing first`);
  }
  for (const suffix of SQLITE_SIBLINGS) checkNotLink(db + suffix, 'a file SQLite keeps beside the tracker database', 'file');
}

/**
 * A file of Runwise's own in `.runwise/` (a cache, a log, a record, the remotes' config), ready to
 * be written: `.runwise/` and the folders below it down to the file are made real folders one at a
 * time, none a link, and the file itself is refused when it is a link. A cloned repository can ship
 * any of them as a link to a user's file (`.runwise/cache/locks.json` → `~/.bashrc`), which a write
 * would replace, or as a link to a folder elsewhere.
 */
export function runwiseFile(workspace: string, ...parts: string[]): string {
  const dir = runwiseDir(workspace);
  const file = path.join(dir, ...parts);
  ensureRealDirectory(path.dirname(dir), path.dirname(file), 'a folder in .runwise');
  if (lstatOrUndefined(file)?.isSymbolicLink()) throw symbolicLinkError(file, 'a file Runwise writes in .runwise');
  return file;
}

/** A folder of Runwise's own in `.runwise/` (stage logs), made a real folder one level at a time, none a link. */
export function runwiseFolder(workspace: string, ...parts: string[]): string {
  const dir = runwiseDir(workspace);
  const folder = path.join(dir, ...parts);
  ensureRealDirectory(path.dirname(dir), folder, 'a folder in .runwise');
  return folder;
}
