import { accessSync, closeSync, constants, fchmodSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file through a temporary file beside it, fsync and rename: readers see the old or the new
 * text, and a failure part way leaves the old file whole. As a plain write would:
 * - a symbolic link is written through (its target is replaced, the link stays);
 * - a file that exists keeps its permissions, and one that may not be written is refused (EACCES);
 * - a new file takes the umask;
 * - where no temporary file can be made beside it (a read-only folder), the file is written in place.
 */
export function writeFileAtomic(absPath: string, text: string): void {
  let target = absPath;
  let mode: number | undefined;
  try {
    target = realpathSync(absPath);
    mode = statSync(target).mode & 0o7777;
  } catch {
    /* a new file */
  }
  if (mode !== undefined) accessSync(target, constants.W_OK);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openNewFile(tmp, mode ?? 0o666);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      writeFileSync(target, text);
      return;
    }
    throw e;
  }
  try {
    if (mode !== undefined) fchmodSync(fd, mode);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}

/**
 * Creates `file` for writing, never through what is there already: a leftover, or a link planted
 * under the temporary name (`.locks.json.<pid>.tmp` → `~/.bashrc`), is removed (the link itself,
 * not what it points at) and the file made anew with O_EXCL, which follows no link.
 */
export function openNewFile(file: string, mode = 0o666): number {
  try {
    return openSync(file, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    unlinkSync(file);
    return openSync(file, 'wx', mode);
  }
}

/** writeFileSync to a new temporary file, as openNewFile makes it. */
export function writeNewFile(file: string, text: string): void {
  const fd = openNewFile(file);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
