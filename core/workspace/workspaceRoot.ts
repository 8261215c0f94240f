/**
 * The workspace a file belongs to, when nobody said which: the nearest folder, from the file up,
 * that holds what marks a project's root — Runwise's `.runwise/`, a git or DVC repository — or,
 * where none does, the highest folder holding a pipeline (`dvc.yaml`, `runwise.yaml`). `runwise check path/to/other/repo/dvc.yaml`
 * then analyses that repository as the editor would, with its params and its other files.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';

/** Folders that mark a root: the nearest one above a file wins. */
export const ROOT_FOLDER_MARKERS = ['.runwise', '.git', '.dvc'] as const;
/**
 * Pipelines at a project's top: used when no folder marker is found, and then the highest folder
 * holding one wins, since a repository may keep one pipeline per subfolder below its top one.
 */
export const ROOT_FILE_MARKERS = ['dvc.yaml', 'runwise.yaml', 'runwise.yml'] as const;

/** Whether anything (file, folder, link) is at `p`. */
export function pathExists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** The folders from `start` (a file or folder) up to the file system's root. */
function foldersUp(start: string): string[] {
  let dir = path.resolve(start);
  try {
    if (!statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    dir = path.dirname(dir);
  }
  const out = [dir];
  for (let up = path.dirname(dir); up !== out[out.length - 1]; up = path.dirname(up)) out.push(up);
  return out;
}

/** The workspace root of `start` (see the note above), or undefined when nothing marks one. */
export function findWorkspaceRoot(start: string): string | undefined {
  const folders = foldersUp(start);
  const marked = folders.find((d) => ROOT_FOLDER_MARKERS.some((m) => pathExists(path.join(d, m))));
  if (marked) return marked;
  return folders.filter((d) => ROOT_FILE_MARKERS.some((m) => pathExists(path.join(d, m)))).pop();
}

/**
 * A path given on the command line, absolute: a relative one is taken from the current folder, or
 * from the workspace when nothing is there and something is in the workspace (or the current
 * folder's reading would be outside it): `runwise -w proj check runwise.yaml` from elsewhere.
 */
export function commandLinePath(workspace: string, input: string): string {
  const abs = path.resolve(input);
  if (path.isAbsolute(input) || pathExists(abs)) return abs;
  const inWorkspace = path.resolve(workspace, input);
  const rel = path.relative(path.resolve(workspace), abs);
  const outside = rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
  return pathExists(inWorkspace) || outside ? inWorkspace : abs;
}

/**
 * The CLI's workspace when none is named: the current folder when it holds a tracker (`.runwise/`)
 * or a pipeline; otherwise the project it is in, found as `check` finds one (findWorkspaceRoot:
 * the nearest folder above with `.runwise/`, `.git/` or `.dvc/`, else the highest with a pipeline),
 * as git finds its repository from a subfolder; the current folder when nothing marks one.
 */
export function defaultWorkspace(cwd: string, uid: number | undefined = process.getuid?.()): string {
  const here = path.resolve(cwd);
  if (pathExists(path.join(here, '.runwise')) || ROOT_FILE_MARKERS.some((m) => pathExists(path.join(here, m)))) return here;
  const found = findWorkspaceRoot(here);
  // Only a folder of one's own: another user's project above (a shared /tmp holding runwise.yaml)
  // would run its stages as this user and take this user's models, as git's safe.directory guards.
  return found !== undefined && ownedBy(found, uid) ? found : here;
}

function ownedBy(dir: string, uid: number | undefined): boolean {
  if (uid === undefined) return true;
  try {
    const st = statSync(dir);
    // Nor a folder anyone may write in (a shared /tmp, owned by root): its markers could be anyone's.
    return st.uid === uid && (st.mode & 0o002) === 0;
  } catch {
    return false;
  }
}
