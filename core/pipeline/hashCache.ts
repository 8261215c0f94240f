/**
 * Hashes of workspace paths, remembered by (path, size, mtime in ns, inode) in
 * `.runwise/cache/hashes.json` so an unchanged workspace is checked with one stat per file and no
 * file read. A file whose mtime is within RACY_NS of the moment it was hashed is not remembered on
 * disk (it could still change within the same clock tick, as git's "racy" index entries). A cache
 * file that cannot be read or parsed is discarded (the next save replaces it); saving writes a
 * temporary file and renames it over the old one.
 */
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { relativeInside, runwiseDir } from '../workspace/workspacePath';
import { directoryHash, DVC_IGNORED_NAMES, hashFileSync, type DirectoryFile } from './fileHash';
import type { HashAlgorithm, PathHash, PathHasher } from './pipelineModel';

const CACHE_VERSION = 1;
/** Files modified this recently (relative to when they were hashed) are hashed again next time. */
const RACY_NS = 2_000_000_000n;

/** size, mtime (ns, decimal), inode (decimal), md5, md5-dos2unix (null when not computed). */
type CacheRow = [number, string, string, string | null, string | null];

export function hashCachePath(root: string): string {
  return path.join(runwiseDir(root), 'cache', 'hashes.json');
}

export class HashCache implements PathHasher {
  readonly root: string;
  private readonly realRoot: string;
  private readonly file: string;
  private readonly rows = new Map<string, CacheRow>();
  private dirty = false;
  /** Files read (hashed) rather than answered from the cache, since this object was made. */
  hashedFiles = 0;
  /** Set when the cache file existed but was unreadable and was discarded. */
  readonly discarded: string | undefined;

  constructor(root: string, options: { cacheFile?: string } = {}) {
    this.root = path.resolve(root);
    let real = this.root;
    try {
      real = realpathSync(this.root);
    } catch {
      /* a root that does not exist: nothing will be found */
    }
    this.realRoot = real;
    this.file = options.cacheFile ?? hashCachePath(this.root);
    this.discarded = this.load();
  }

  hash(relPath: string, algorithm: HashAlgorithm = 'md5'): PathHash | undefined {
    const abs = relPath === '' ? this.root : path.join(this.root, ...relPath.split('/'));
    const st = statSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isDirectory()) return this.hashDirectory(relPath, abs, algorithm);
    if (!st.isFile()) return undefined;
    return { md5: this.fileMd5(relPath, abs, st, algorithm), size: Number(st.size) };
  }

  /** Writes the cache when something new was learnt; a failure to write is not fatal. */
  save(): void {
    if (!this.dirty) return;
    const entries: Record<string, CacheRow> = {};
    for (const [k, v] of this.rows) entries[k] = v;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(tmp, JSON.stringify({ version: CACHE_VERSION, entries }));
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing was written */
      }
    }
  }

  private load(): string | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined; // no cache yet
    }
    try {
      const data = JSON.parse(text) as { version?: unknown; entries?: unknown };
      if (data.version !== CACHE_VERSION || typeof data.entries !== 'object' || data.entries === null) throw new Error('unknown format');
      for (const [k, v] of Object.entries(data.entries as Record<string, unknown>)) {
        if (isRow(v)) this.rows.set(k, v);
      }
      return undefined;
    } catch (e) {
      this.rows.clear();
      this.dirty = true;
      return `${this.file}: ${(e as Error).message}; the hash cache was discarded`;
    }
  }

  private fileMd5(relPath: string, abs: string, st: BigIntStats, algorithm: HashAlgorithm): string {
    const col = algorithm === 'md5' ? 3 : 4;
    const mtime = st.mtimeNs.toString();
    const ino = st.ino.toString();
    const size = Number(st.size);
    const row = this.rows.get(relPath);
    if (row && row[0] === size && row[1] === mtime && row[2] === ino && row[col] !== null) return row[col]!;
    const md5 = hashFileSync(abs, algorithm);
    this.hashedFiles++;
    const same = row && row[0] === size && row[1] === mtime && row[2] === ino;
    const next: CacheRow = same ? [...row] : [size, mtime, ino, null, null];
    next[col] = md5;
    // A file written in the last instants may change again without its mtime moving: keep it in memory only.
    const racy = BigInt(Date.now()) * 1_000_000n - st.mtimeNs < RACY_NS;
    if (racy) this.rows.delete(relPath);
    else {
      this.rows.set(relPath, next);
      this.dirty = true;
    }
    return md5;
  }

  private hashDirectory(relPath: string, abs: string, algorithm: HashAlgorithm): PathHash {
    const files: DirectoryFile[] = [];
    const walk = (dirAbs: string, below: string) => {
      let entries;
      try {
        entries = readdirSync(dirAbs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (DVC_IGNORED_NAMES.has(e.name)) continue;
        const childAbs = path.join(dirAbs, e.name);
        const childBelow = below ? `${below}/${e.name}` : e.name;
        let isDir = e.isDirectory();
        let isFile = e.isFile();
        if (e.isSymbolicLink()) {
          // Followed only when it stays inside the workspace.
          let real: string;
          try {
            real = realpathSync(childAbs);
          } catch {
            continue;
          }
          if (relativeInside(this.realRoot, real) === undefined) continue;
          const t = statSync(childAbs, { throwIfNoEntry: false });
          isDir = t?.isDirectory() === true;
          isFile = t?.isFile() === true;
        }
        if (isDir) walk(childAbs, childBelow);
        else if (isFile) {
          const st = statSync(childAbs, { bigint: true, throwIfNoEntry: false });
          if (!st) continue;
          const childRel = relPath ? `${relPath}/${childBelow}` : childBelow;
          files.push({ relpath: childBelow, md5: this.fileMd5(childRel, childAbs, st, algorithm), size: Number(st.size) });
        }
      }
    };
    walk(abs, '');
    return directoryHash(files);
  }
}

function isRow(v: unknown): v is CacheRow {
  return (
    Array.isArray(v) &&
    v.length === 5 &&
    typeof v[0] === 'number' &&
    typeof v[1] === 'string' &&
    typeof v[2] === 'string' &&
    (v[3] === null || typeof v[3] === 'string') &&
    (v[4] === null || typeof v[4] === 'string')
  );
}
