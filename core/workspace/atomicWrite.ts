import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file through a temporary file beside it, fsync and rename: readers see the old or the new
 * text, and a failure part way leaves the old file whole. A file that exists keeps its permissions.
 */
export function writeFileAtomic(absPath: string, text: string): void {
  const tmp = path.join(path.dirname(absPath), `.${path.basename(absPath)}.${process.pid}.tmp`);
  let mode = 0o644;
  try {
    mode = statSync(absPath).mode & 0o7777;
  } catch {
    /* a new file */
  }
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', mode);
    fchmodSync(fd, mode);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, absPath);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* the temporary file was not created */
    }
    throw e;
  }
}
