/**
 * Hashes of workspace files and directories, computed as DVC computes them so that a dvc.lock
 * written by DVC compares like with like (dvc-data's hashfile/hash.py and hashfile/tree.py):
 *
 * - a file: md5 of its bytes (DVC 3, `hash: md5` in dvc.lock), or DVC 2's md5-dos2unix (an entry
 *   with `md5` and no `hash:`): the file is read in 1 MiB chunks and a chunk whose first 512 bytes
 *   look like text has its CRLF turned into LF before hashing.
 * - a directory: md5 of the JSON listing of its files, `[{"md5": "…", "relpath": "a/b"}, …]` sorted
 *   by relpath, as Python's `json.dumps(…, sort_keys=True)` writes it (`", "` and `": "` separators,
 *   non-ASCII escaped as \uXXXX), with `.dir` appended; `size` is the sum of the files' sizes and
 *   `nfiles` their number. Empty directories do not appear; `.git`, `.hg` and `.dvc` are skipped as
 *   DVC's ignore filter does. Symbolic links are followed when they stay inside the workspace.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { HashAlgorithm, PathHash } from './pipelineModel';
import { pythonJsonString } from '../tracker/pythonJson';

/** DVC reads in 1 MiB chunks; md5-dos2unix decides text or binary per chunk, so the size matters. */
const DVC_CHUNK = 1 << 20;
/** Plain md5 reads bigger blocks: fewer system calls. */
const READ_CHUNK = 8 << 20;
/** Bytes of a chunk DVC's istextblock looks at. */
const TEXT_PROBE = 512;

/** Directory entries DVC never hashes inside a directory output. */
export const DVC_IGNORED_NAMES: ReadonlySet<string> = new Set(['.git', '.hg', '.dvc']);

let sharedBuffer: Buffer | undefined;

/** The md5 hex of a file, read synchronously in large blocks. */
export function hashFileSync(absPath: string, algorithm: HashAlgorithm = 'md5'): string {
  const hash = createHash('md5');
  const chunk = algorithm === 'md5' ? READ_CHUNK : DVC_CHUNK;
  const buf = (sharedBuffer ??= Buffer.allocUnsafe(READ_CHUNK));
  const fd = openSync(absPath, 'r');
  try {
    for (;;) {
      // A chunk is filled completely before it is hashed: md5-dos2unix's result depends on where chunks begin.
      let filled = 0;
      while (filled < chunk) {
        const n = readSync(fd, buf, filled, chunk - filled, null);
        if (n === 0) break;
        filled += n;
      }
      if (filled === 0) break;
      const data = buf.subarray(0, filled);
      hash.update(algorithm === 'md5-dos2unix' && isTextBlock(data.subarray(0, TEXT_PROBE)) ? dos2unix(data) : data);
      if (filled < chunk) break;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The md5 hex of bytes in memory (for tests and small files). */
export function hashBytes(data: Uint8Array, algorithm: HashAlgorithm = 'md5'): string {
  const hash = createHash('md5');
  for (let at = 0; at < data.length || (at === 0 && data.length === 0); at += DVC_CHUNK) {
    const part = data.subarray(at, Math.min(data.length, at + DVC_CHUNK));
    if (part.length === 0) break;
    hash.update(algorithm === 'md5-dos2unix' && isTextBlock(part.subarray(0, TEXT_PROBE)) ? dos2unix(part) : part);
  }
  return hash.digest('hex');
}

/** DVC's istextblock: no NUL byte and at most 30% bytes outside printable ASCII and \n\r\t\f\b. */
export function isTextBlock(block: Uint8Array): boolean {
  if (block.length === 0) return true;
  let nonText = 0;
  for (let i = 0; i < block.length; i++) {
    const c = block[i]!;
    if (c === 0) return false;
    if (!((c >= 32 && c <= 126) || c === 10 || c === 13 || c === 9 || c === 12 || c === 8)) nonText++;
  }
  return nonText / block.length <= 0.3;
}

function dos2unix(data: Uint8Array): Uint8Array {
  let first = -1;
  for (let i = 0; i + 1 < data.length; i++) {
    if (data[i] === 13 && data[i + 1] === 10) {
      first = i;
      break;
    }
  }
  if (first < 0) return data;
  const out = Buffer.allocUnsafe(data.length);
  let w = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 13 && data[i + 1] === 10) continue;
    out[w++] = data[i]!;
  }
  return out.subarray(0, w);
}

export interface DirectoryFile {
  /** `/`-separated path below the directory. */
  relpath: string;
  md5: string;
  size: number;
}

/** A directory's hash from its files' hashes (in any order). */
export function directoryHash(files: readonly DirectoryFile[]): PathHash {
  const sorted = [...files].sort((a, b) => comparePythonStrings(a.relpath, b.relpath));
  const listing = `[${sorted.map((f) => `{"md5": ${pythonJsonString(f.md5)}, "relpath": ${pythonJsonString(f.relpath)}}`).join(', ')}]`;
  let size = 0;
  for (const f of sorted) size += f.size;
  return { md5: `${createHash('md5').update(listing, 'utf8').digest('hex')}.dir`, size, nfiles: sorted.length };
}

/** Python orders str by code point; JavaScript's `<` compares UTF-16 units, which differs past U+FFFF. */
export function comparePythonStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}
