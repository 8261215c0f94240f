/**
 * The four facts the hash cache compares a path by (kind, size, mtime, inode), read without building
 * an `fs.Stats`.
 *
 * `runwise status` on a large workspace makes one `stat` per tracked file (20,000 in the benchmark)
 * and compares each with its cache line. On Node 20 `fs.statSync` wraps every answer in an
 * `fs.Stats` with four `Date`s; with the objects and their garbage that was about half the cost of
 * the stats themselves (20,000 paths: ~105 ms cold with `statSync`, ~48 ms reading the numbers the
 * same system call fills). Node's own `statSync` reads those numbers from its fs binding and builds
 * the object from them; this module reads the same numbers from the same call.
 *
 * The binding is internal, so it is taken only after it has answered one path exactly as
 * `fs.statSync` does (mode, size, mtime, inode, and `undefined` for a missing path), and never when
 * `--pending-deprecation` would make `process.binding` print a warning; otherwise every call goes
 * through `fs.statSync`. mtimeMs is computed as Node computes it (`sec * 1e3 + nsec / 1e6`), so the
 * two paths give the same double.
 */
import { statSync } from 'node:fs';

/** One path's stat, as the hash cache needs it. Valid until the next `fileStat` call (it is reused). */
export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
  mtimeMs: number;
  ino: number;
}

type StatBinding = (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** Positions in the binding's stat array (Node's `kMode`, `kIno`, `kSize`, `kMtimeSec`, `kMtimeNsec`). */
const MODE = 1;
const INO = 7;
const SIZE = 8;
const MTIME_SEC = 12;
const MTIME_NSEC = 13;

const result: FileStat = { isFile: false, isDirectory: false, size: 0, mtimeMs: 0, ino: 0 };
let binding: StatBinding | null | undefined;

/**
 * `stat` (links followed) of a path: its kind, size, mtime and inode, or undefined when it does not
 * exist (ENOENT). Other errors (ENOTDIR, EACCES…) throw as `fs.statSync` with `throwIfNoEntry: false`
 * throws them.
 */
export function fileStat(path: string): FileStat | undefined {
  if (binding === undefined) binding = verifiedBinding();
  if (binding !== null && !path.includes('\0')) {
    const a = binding(path, false, undefined, false);
    if (a === undefined) return undefined;
    const mode = a[MODE]! & S_IFMT;
    result.isFile = mode === S_IFREG;
    result.isDirectory = mode === S_IFDIR;
    result.size = a[SIZE]!;
    result.mtimeMs = a[MTIME_SEC]! * 1e3 + a[MTIME_NSEC]! / 1e6;
    result.ino = a[INO]!;
    return result;
  }
  return statSyncFileStat(path);
}

/** `fileStat` into an object of its own, for a stat that is kept. */
export function fileStatCopy(path: string): FileStat | undefined {
  const st = fileStat(path);
  return st && { isFile: st.isFile, isDirectory: st.isDirectory, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/** The same through `fs.statSync` (the fallback, and the reference the binding is checked against). */
export function statSyncFileStat(path: string): FileStat | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return undefined;
  result.isFile = st.isFile();
  result.isDirectory = st.isDirectory();
  result.size = st.size;
  result.mtimeMs = st.mtimeMs;
  result.ino = st.ino;
  return result;
}

/** Which way `fileStat` reads: 'binding' or 'statSync' (for tests and benchmarks). */
export function fileStatSource(): 'binding' | 'statSync' {
  if (binding === undefined) binding = verifiedBinding();
  return binding === null ? 'statSync' : 'binding';
}

function verifiedBinding(): StatBinding | null {
  // Windows paths need Node's namespacing (long paths), which statSync applies and this call would not.
  if (pendingDeprecation() || process.platform === 'win32') return null;
  try {
    const fs = (process as unknown as { binding?: (name: string) => { stat?: unknown } }).binding?.('fs');
    const fn = fs?.stat;
    if (typeof fn !== 'function') return null;
    const call: StatBinding = (p, bigint, req, throwIfNoEntry) => (fn as StatBinding).call(fs, p, bigint, req, throwIfNoEntry);
    const probe = process.execPath;
    const a = call(probe, false, undefined, false);
    const st = statSync(probe);
    if (!(a instanceof Float64Array) || a.length < 14) return null;
    if (a[MODE] !== st.mode || a[SIZE] !== st.size || a[INO] !== st.ino) return null;
    if (a[MTIME_SEC]! * 1e3 + a[MTIME_NSEC]! / 1e6 !== st.mtimeMs) return null;
    if (call(`${probe}.missing-${process.pid}${'\u0001'}`, false, undefined, false) !== undefined) return null;
    // An error other than a missing path must throw as statSync throws it (a Node whose binding
    // takes another fourth argument would swallow it).
    try {
      call(`${probe}/below-a-file`, false, undefined, false);
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') return null;
    }
    return call;
  } catch {
    return null;
  }
}

function pendingDeprecation(): boolean {
  const flag = '--pending-deprecation';
  return (
    process.execArgv.includes(flag) ||
    (process.env.NODE_OPTIONS ?? '').includes(flag) ||
    process.env.NODE_PENDING_DEPRECATION === '1'
  );
}
