/**
 * Hashes of workspace paths, remembered in `.runwise/cache/hashes.txt` so that an unchanged
 * workspace is checked with one stat per file and no file read, as DVC's state database does:
 *
 * - a file by (path, size, mtime, inode);
 * - a directory by the (mtime, inode) of every folder in its tree and the (size, mtime, inode) of
 *   every file in it: while no folder's mtime moved, no entry was added, removed or renamed, so the
 *   remembered file list is stated without listing a folder, and when no file moved either, the
 *   directory's hash is the remembered one (no listing sorted, no md5 of it computed).
 *
 * Anything modified within RACY_MS of the moment it was looked at is not remembered (it could still
 * change within the same clock tick, as git's "racy" index entries), and neither is a directory
 * holding a symbolic link (its target's changes would not show in the folder's mtime).
 *
 * The file is one line per path (tab-separated, names escaped), after a header carrying the sha1 of
 * everything below it: a cache file that is unreadable, of another format, or whose content does
 * not match its md5 is discarded with a message (the next save replaces it), never fatal. Lines are
 * parsed only when their path is asked for; saving writes a temporary file and renames it.
 */
import { writeNewFile } from '../workspace/atomicWrite';
import { runwiseFile } from '../tracker/trackerFiles';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { realRootOf, relativeInside, runwiseDir } from '../workspace/workspacePath';
import { directoryHash, DVC_IGNORED_NAMES, hashFileSync } from './fileHash';
import { dvcIgnore } from '../language/pipeline/workspacePipelines';
import { fileStat, fileStatCopy, type FileStat } from './fileStat';
import type { HashAlgorithm, PathHash, PathHasher } from './pipelineModel';

const FORMAT = 'runwise-hash-cache 2';
/**
 * Taken once: the bundle reaches a module's members through getters, which showed in profiles of
 * the loops below (20,000 stats per status).
 */
const SEP = path.sep;
/** Paths modified this recently (relative to when they were looked at) are looked at again next time. */
const RACY_MS = 2000;

/** What a file's hash is remembered by, and its md5 by algorithm (null: not computed). */
interface FileRow {
  size: number;
  /** Milliseconds with sub-microsecond fraction, as fs.Stats gives it (DVC keeps a float mtime too). */
  mtime: number;
  ino: number;
  md5: string | null;
  md5d: string | null;
}

interface DirRecord {
  /** Every folder of the tree, itself first (''), relative to the directory. */
  dirs: { rel: string; mtime: number; ino: number }[];
  /** Every file, relative to the directory. */
  files: { rel: string; row: FileRow }[];
  md5: string | null;
  md5d: string | null;
}

export function hashCachePath(root: string): string {
  return path.join(runwiseDir(root), 'cache', 'hashes.txt');
}

/** Where format 1 was kept (JSON): removed when the new file is written. */
function formerCachePath(root: string): string {
  return path.join(runwiseDir(root), 'cache', 'hashes.json');
}

export class HashCache implements PathHasher {
  readonly root: string;
  private readonly realRoot: string;
  private readonly file: string;
  /** Single files: the raw line until asked for, then parsed. */
  private readonly files = new Map<string, string | FileRow>();
  private readonly dirs = new Map<string, string | DirRecord>();
  private dirty = false;
  /** Files read (hashed) rather than answered from the cache, since this object was made. */
  hashedFiles = 0;
  /** Folders listed rather than answered from the cache, since this object was made. */
  listedDirs = 0;
  /** Set when the cache file existed but was unreadable and was discarded. */
  readonly discarded: string | undefined;

  constructor(root: string, options: { cacheFile?: string } = {}) {
    this.root = path.resolve(root);
    this.realRoot = realRootOf(this.root);
    this.file = options.cacheFile ?? hashCachePath(this.root);
    this.discarded = this.load();
    let ignoreText: string | undefined;
    try {
      ignoreText = readFileSync(path.join(this.root, '.dvcignore'), 'utf8');
    } catch {
      ignoreText = undefined;
    }
    // Only when it names something: an empty or comment-only file ignores nothing.
    this.ignored = ignoreText && /^[ \t]*[^#\s]/m.test(ignoreText) ? dvcIgnore(ignoreText) : undefined;
  }

  /**
   * What the workspace's root `.dvcignore` names (workspace-relative paths), left out of directory
   * hashes as DVC leaves it out (DvcIgnoreFilter); undefined without one. Directories are then
   * listed every time, not answered from their remembered records (which do not know the patterns).
   */
  private readonly ignored: ((relPath: string) => boolean) | undefined;

  hash(relPath: string, algorithm: HashAlgorithm = 'md5'): PathHash | undefined {
    const abs = relPath === '' ? this.root : `${this.root}${SEP}${relPath}`;
    const st = fileStatCopy(abs);
    if (!st) return undefined;
    if (st.isDirectory) return this.hashDirectory(relPath, abs, st, algorithm);
    if (!st.isFile) return undefined;
    const known = this.fileRow(relPath);
    const row = this.rowFor(known, abs, st, algorithm);
    if (row !== known) {
      if (isRacy(st.mtimeMs, Date.now())) this.files.delete(relPath);
      else this.files.set(relPath, row);
      this.dirty = true;
    }
    return { md5: md5Of(row, algorithm)!, size: st.size };
  }

  /** Writes the cache when something new was learnt; a failure to write is not fatal. */
  save(): void {
    if (!this.dirty) return;
    const lines: string[] = [];
    for (const [rel, v] of this.files) lines.push(typeof v === 'string' ? v : fileLine(rel, v));
    for (const [rel, v] of this.dirs) lines.push(typeof v === 'string' ? v : dirLine(rel, v));
    const body = lines.length ? `${lines.join('\n')}\n` : '';
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      // The workspace's own cache: its folders real, the file no link (a cloned repository may ship one).
      if (this.file === hashCachePath(this.root)) runwiseFile(this.root, 'cache', 'hashes.txt');
      else mkdirSync(path.dirname(this.file), { recursive: true });
      writeNewFile(tmp, `${FORMAT} ${createHash('sha1').update(body, 'utf8').digest('hex')}\n${body}`);
      renameSync(tmp, this.file);
      this.dirty = false;
      if (this.file === hashCachePath(this.root)) unlinkSync(formerCachePath(this.root));
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing was written, or the former file was already gone */
      }
    }
  }

  private load(): string | undefined {
    let data: Buffer;
    try {
      data = readFileSync(this.file);
    } catch {
      return undefined; // no cache yet
    }
    const discard = (why: string) => {
      this.files.clear();
      this.dirs.clear();
      this.dirty = true;
      return `${this.file}: ${why}; the hash cache was discarded`;
    };
    const eol = data.indexOf(10);
    const header = data.subarray(0, eol < 0 ? data.length : eol).toString('utf8');
    if (!header.startsWith(`${FORMAT} `)) return discard(`line 1: expected '${FORMAT} <sha1>', found '${header.slice(0, 40)}'`);
    const body = data.subarray(eol + 1);
    if (createHash('sha1').update(body).digest('hex') !== header.slice(FORMAT.length + 1)) return discard('its content does not match its checksum');
    const text = body.toString('utf8');
    let at = 0;
    let lineNo = 1;
    while (at < text.length) {
      lineNo++;
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      const line = text.slice(at, end);
      at = end + 1;
      const tab = line.indexOf('\t', 2);
      if (line[1] !== '\t' || tab < 0) return discard(`line ${lineNo}: expected 'F' or 'D', a tab and a path`);
      const rel = unescapeField(line.slice(2, tab));
      if (line[0] === 'F') this.files.set(rel, line);
      else if (line[0] === 'D') this.dirs.set(rel, line);
      else return discard(`line ${lineNo}: expected 'F' or 'D', found '${line.slice(0, 1)}'`);
    }
    return undefined;
  }

  private fileRow(rel: string): FileRow | undefined {
    const v = this.files.get(rel);
    if (typeof v !== 'string') return v;
    const row = parseFileLine(v);
    if (row) this.files.set(rel, row);
    else this.files.delete(rel);
    return row;
  }

  private dirRecord(rel: string): DirRecord | undefined {
    const v = this.dirs.get(rel);
    if (typeof v !== 'string') return v;
    const rec = parseDirLine(v);
    if (rec) this.dirs.set(rel, rec);
    else this.dirs.delete(rel);
    return rec;
  }

  /** `known` when it still describes the file and has the algorithm's md5; else a new row (the file read). */
  private rowFor(known: FileRow | undefined, abs: string, st: FileStat, algorithm: HashAlgorithm): FileRow {
    const same = known !== undefined && sameStat(known, st);
    if (same && md5Of(known, algorithm) !== null) return known;
    const md5 = hashFileSync(abs, algorithm);
    this.hashedFiles++;
    const row: FileRow = same ? { ...known } : { size: st.size, mtime: st.mtimeMs, ino: st.ino, md5: null, md5d: null };
    if (algorithm === 'md5') row.md5 = md5;
    else row.md5d = md5;
    return row;
  }

  private hashDirectory(relPath: string, abs: string, st: FileStat, algorithm: HashAlgorithm): PathHash {
    if (this.ignored) return this.hashDirectoryListed(relPath, abs, st, algorithm);
    const now = Date.now();
    const line = this.dirs.get(relPath);
    if (typeof line === 'string') {
      // Checked from the line itself: no record is built for a directory that has not changed.
      const same = unchangedDirLine(line, abs, st, algorithm, now);
      if (same) return same;
    }
    const known = this.dirRecord(relPath);
    if (known && this.unchanged(known, abs, st, algorithm)) {
      return { md5: known[algorithm === 'md5' ? 'md5' : 'md5d']!, size: totalSize(known.files), nfiles: known.files.length };
    }
    const listing = (known && this.unchangedListing(known, abs, st)) ?? this.list(abs, st, known, relPath);
    // A new listing, or a file whose stat moved: the directory's hashes are computed again.
    let filesChanged = !listing.fromRecord;
    let recordChanged = filesChanged;
    let storable = listing.storable;
    const files: DirRecord['files'] = [];
    for (const f of listing.files) {
      const row = this.rowFor(f.row, f.abs, f.st, algorithm);
      if (row !== f.row) {
        recordChanged = true;
        if (!f.row || !sameStat(f.row, f.st)) filesChanged = true;
      }
      if (isRacy(f.st.mtimeMs, now)) storable = false;
      files.push({ rel: f.rel, row });
    }
    const col = algorithm === 'md5' ? 'md5' : 'md5d';
    let md5 = !filesChanged && known ? known[col] : null;
    if (md5 === null) {
      md5 = filesHash(files, algorithm);
      recordChanged = true;
    }
    if (recordChanged) {
      if (storable) {
        const rec: DirRecord = { dirs: listing.dirs, files, md5: null, md5d: null };
        // The other algorithm's hash stays valid while no file changed.
        if (!filesChanged && known) {
          rec.md5 = known.md5;
          rec.md5d = known.md5d;
        }
        rec[col] = md5;
        this.dirs.set(relPath, rec);
      } else this.dirs.delete(relPath);
      this.dirty = true;
    }
    return { md5, size: totalSize(files), nfiles: files.length };
  }

  /**
   * Whether the remembered directory is exactly as it was (every folder's mtime and inode, every
   * file's size, mtime and inode, none racy) and has the algorithm's hash: the common case, checked
   * without building anything.
   */
  private unchanged(rec: DirRecord, abs: string, st: FileStat, algorithm: HashAlgorithm): boolean {
    if ((algorithm === 'md5' ? rec.md5 : rec.md5d) === null) return false;
    const now = Date.now();
    if (!foldersUnchanged(rec.dirs, abs, st, now)) return false;
    for (const f of rec.files) {
      const fst = fileStat(`${abs}${SEP}${f.rel}`);
      if (!fst || !fst.isFile || !sameStat(f.row, fst) || isRacy(fst.mtimeMs, now)) return false;
    }
    return true;
  }

  /**
   * The remembered files of a directory, stated, when no folder of its tree changed (same mtime and
   * inode, not racy) and every file is still a file; undefined otherwise.
   */
  private unchangedListing(rec: DirRecord, abs: string, st: FileStat): Listing | undefined {
    if (!foldersUnchanged(rec.dirs, abs, st, Date.now())) return undefined;
    const files: Listing['files'] = [];
    for (const f of rec.files) {
      const fAbs = `${abs}${SEP}${f.rel}`;
      const fst = fileStatCopy(fAbs);
      if (!fst || !fst.isFile) return undefined;
      files.push({ rel: f.rel, abs: fAbs, st: fst, row: f.row });
    }
    return { dirs: rec.dirs, files, storable: true, fromRecord: true };
  }

  /** A directory's hash from a fresh listing that leaves out what `.dvcignore` names; its files' hashes still come from their rows. */
  private hashDirectoryListed(relPath: string, abs: string, st: FileStat, algorithm: HashAlgorithm): PathHash {
    const listing = this.list(abs, st, undefined, relPath);
    const now = Date.now();
    const files = listing.files.map((f) => {
      // Each file remembered on its own line, so that the next listing hashes only what moved.
      const fileRel = relPath ? `${relPath}/${f.rel}` : f.rel;
      const known = this.fileRow(fileRel);
      const row = this.rowFor(known, f.abs, f.st, algorithm);
      if (row !== known && !isRacy(f.st.mtimeMs, now)) {
        this.files.set(fileRel, row);
        this.dirty = true;
      }
      return { rel: f.rel, row };
    });
    if (this.dirs.delete(relPath)) this.dirty = true;
    return { md5: filesHash(files, algorithm), size: totalSize(files), nfiles: files.length };
  }

  /** Walks a directory: its folders (with mtime and inode) and its files, stated, with their remembered rows. */
  private list(abs: string, st: FileStat, known: DirRecord | undefined, relPath: string): Listing {
    this.listedDirs++;
    const rows = new Map(known?.files.map((f) => [f.rel, f.row]));
    const dirs: DirRecord['dirs'] = [{ rel: '', mtime: st.mtimeMs, ino: st.ino }];
    const files: Listing['files'] = [];
    let storable = true;
    const walk = (dirAbs: string, below: string) => {
      let entries;
      try {
        entries = readdirSync(dirAbs, { withFileTypes: true });
      } catch {
        storable = false;
        return;
      }
      for (const e of entries) {
        if (DVC_IGNORED_NAMES.has(e.name)) continue;
        const childAbs = `${dirAbs}${SEP}${e.name}`;
        const childBelow = below ? `${below}/${e.name}` : e.name;
        if (this.ignored?.(relPath ? `${relPath}/${childBelow}` : childBelow)) continue;
        if (e.isSymbolicLink()) {
          storable = false;
          // Followed only when it stays inside the workspace.
          let real: string;
          try {
            real = realpathSync(childAbs);
          } catch {
            continue;
          }
          if (relativeInside(this.realRoot, real) === undefined) continue;
        } else if (!e.isDirectory() && !e.isFile()) continue;
        const cst = fileStatCopy(childAbs);
        if (!cst) continue;
        if (cst.isDirectory) {
          dirs.push({ rel: childBelow, mtime: cst.mtimeMs, ino: cst.ino });
          walk(childAbs, childBelow);
        } else if (cst.isFile) files.push({ rel: childBelow, abs: childAbs, st: cst, row: rows.get(childBelow) });
      }
    };
    walk(abs, '');
    return { dirs, files, storable, fromRecord: false };
  }
}

interface Listing {
  dirs: DirRecord['dirs'];
  files: { rel: string; abs: string; st: FileStat; row: FileRow | undefined }[];
  /** False when the tree holds a symbolic link or an unreadable folder. */
  storable: boolean;
  /** The files are the remembered ones (no folder was listed). */
  fromRecord: boolean;
}

/** Whether every folder of a directory's tree has the remembered mtime and inode (none racy): no entry added, removed or renamed. */
function foldersUnchanged(dirs: DirRecord['dirs'], abs: string, st: FileStat, now: number): boolean {
  for (const d of dirs) {
    const dst = d.rel === '' ? st : fileStat(`${abs}${SEP}${d.rel}`);
    if (!dst || !dst.isDirectory || dst.mtimeMs !== d.mtime || dst.ino !== d.ino || isRacy(dst.mtimeMs, now)) return false;
  }
  return true;
}

function sameStat(row: FileRow, st: FileStat): boolean {
  return row.size === st.size && row.mtime === st.mtimeMs && row.ino === st.ino;
}

function isRacy(mtimeMs: number, nowMs: number): boolean {
  return nowMs - mtimeMs < RACY_MS;
}

function md5Of(row: FileRow, algorithm: HashAlgorithm): string | null {
  return algorithm === 'md5' ? row.md5 : row.md5d;
}

// Lines: `F<TAB>path<TAB>size<TAB>mtime<TAB>inode<TAB>md5<TAB>md5-dos2unix` ('-' when not computed),
// `D<TAB>path<TAB>md5<TAB>md5-dos2unix<TAB>folders<TAB>(folder<TAB>mtime<TAB>inode)…<TAB>(file<TAB>size<TAB>mtime<TAB>inode<TAB>md5<TAB>md5-dos2unix)…`.

const NEEDS_ESCAPE = /[\\\t\n\r]/;

function escapeField(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function unescapeField(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

function hashField(h: string | null): string {
  return h ?? '-';
}

/** An md5 field ('-' when not computed); its characters are vouched for by the file's checksum. */
function readHash(s: string | undefined): string | null | undefined {
  if (s === '-') return null;
  return s !== undefined && (s.length === 32 || (s.length === 36 && s.endsWith('.dir'))) ? s : undefined;
}

function rowFields(r: FileRow): string {
  return `${r.size}\t${r.mtime}\t${r.ino}\t${hashField(r.md5)}\t${hashField(r.md5d)}`;
}

function fileLine(rel: string, r: FileRow): string {
  return `F\t${escapeField(rel)}\t${rowFields(r)}`;
}

function dirLine(rel: string, d: DirRecord): string {
  let line = `D\t${escapeField(rel)}\t${hashField(d.md5)}\t${hashField(d.md5d)}\t${d.dirs.length}`;
  for (const x of d.dirs) line += `\t${escapeField(x.rel)}\t${x.mtime}\t${x.ino}`;
  for (const f of d.files) line += `\t${escapeField(f.rel)}\t${rowFields(f.row)}`;
  return line;
}

/** Five fields from `at`: a FileRow, or undefined when one does not read. */
function readRow(fields: string[], at: number): FileRow | undefined {
  const size = Number(fields[at]);
  const mtime = Number(fields[at + 1]);
  const ino = Number(fields[at + 2]);
  const md5 = readHash(fields[at + 3]);
  const md5d = readHash(fields[at + 4]);
  if (!Number.isFinite(size) || !Number.isFinite(mtime) || !Number.isFinite(ino) || md5 === undefined || md5d === undefined) return undefined;
  return { size, mtime, ino, md5, md5d };
}

function parseFileLine(line: string): FileRow | undefined {
  const fields = line.split('\t');
  return fields.length === 7 ? readRow(fields, 2) : undefined;
}

/**
 * A directory's remembered hash straight from its line, when every folder and file in it stats as
 * remembered (see HashCache.unchanged); undefined when anything differs or does not read.
 */
function unchangedDirLine(line: string, abs: string, st: FileStat, algorithm: HashAlgorithm, now: number): PathHash | undefined {
  // Read field by field (no split: a directory's line has six fields per file, and most of them
  // are compared as they are read): D, path, md5, md5-dos2unix, ndirs, then (rel, mtime, inode) per
  // folder and (rel, size, mtime, inode, md5, md5-dos2unix) per file.
  let at = 0;
  const next = (): string | undefined => {
    if (at > line.length) return undefined;
    let end = line.indexOf('\t', at);
    if (end < 0) end = line.length;
    const field = line.slice(at, end);
    at = end + 1;
    return field;
  };
  next();
  next();
  const md5Field = next();
  const md5dField = next();
  const md5 = readHash(algorithm === 'md5' ? md5Field : md5dField);
  const ndirs = Number(next());
  if (!md5 || !Number.isInteger(ndirs) || ndirs < 1) return undefined;
  for (let d = 0; d < ndirs; d++) {
    const rel = next();
    const mtime = next();
    const ino = next();
    if (ino === undefined) return undefined;
    if (rel === '') {
      if (st.mtimeMs !== Number(mtime) || st.ino !== Number(ino) || isRacy(st.mtimeMs, now)) return undefined;
      continue;
    }
    const dst = fileStat(`${abs}${SEP}${unescapeField(rel!)}`);
    if (!dst || !dst.isDirectory || dst.mtimeMs !== Number(mtime) || dst.ino !== Number(ino) || isRacy(dst.mtimeMs, now)) return undefined;
  }
  let size = 0;
  let nfiles = 0;
  while (at <= line.length) {
    const rel = next()!;
    const fsize = next();
    const mtime = next();
    const ino = next();
    next();
    if (next() === undefined) return undefined;
    const fst = fileStat(`${abs}${SEP}${unescapeField(rel)}`);
    if (!fst || !fst.isFile || fst.size !== Number(fsize) || fst.mtimeMs !== Number(mtime) || fst.ino !== Number(ino)) return undefined;
    size += fst.size;
    nfiles++;
  }
  return { md5, size, nfiles };
}

function parseDirLine(line: string): DirRecord | undefined {
  const fields = line.split('\t');
  const md5 = readHash(fields[2]);
  const md5d = readHash(fields[3]);
  const ndirs = Number(fields[4]);
  if (md5 === undefined || md5d === undefined || !Number.isInteger(ndirs) || ndirs < 1) return undefined;
  const filesAt = 5 + 3 * ndirs;
  if (fields.length < filesAt || (fields.length - filesAt) % 6 !== 0) return undefined;
  const dirs: DirRecord['dirs'] = [];
  for (let i = 5; i < filesAt; i += 3) {
    const mtime = Number(fields[i + 1]);
    const ino = Number(fields[i + 2]);
    if (!Number.isFinite(mtime) || !Number.isFinite(ino)) return undefined;
    dirs.push({ rel: unescapeField(fields[i]!), mtime, ino });
  }
  const files: DirRecord['files'] = [];
  for (let i = filesAt; i < fields.length; i += 6) {
    const row = readRow(fields, i + 1);
    if (!row) return undefined;
    files.push({ rel: unescapeField(fields[i]!), row });
  }
  return { dirs, files, md5, md5d };
}

/** The bytes of a directory's files. */
function totalSize(files: readonly { row: { size: number } }[]): number {
  let size = 0;
  for (const f of files) size += f.row.size;
  return size;
}

/** A directory's hash (DVC's .dir listing) from its files' rows. */
function filesHash(files: readonly { rel: string; row: FileRow }[], algorithm: HashAlgorithm): string {
  return directoryHash(files.map((f) => ({ relpath: f.rel, md5: md5Of(f.row, algorithm)!, size: f.row.size }))).md5;
}
