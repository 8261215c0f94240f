/**
 * The workspace as the language analysis sees it, backed by the file system under one root folder
 * and (in the language server) overlaid with the unsaved text of open editors; `runwise check`
 * uses it without an overlay. Read-only and synchronous, as WorkspaceView is. Every path stays
 * inside the root: `..`, absolute paths, and symbolic links that lead out of the root read as
 * "does not exist".
 *
 * Validating a large pipeline asks about thousands of paths, so what the disk said (stat, symlink
 * check, directory listing) is remembered for a short while: until a watched file changes
 * (`invalidate`), and at most STAT_TTL_MS, so a client without file watchers still sees changes.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import type { WorkspaceView } from '../languageTypes';
import { normalizeRelativePath, realRootOf, relativeInside } from '../../workspace/workspacePath';

/** Files larger than this are not read (a 50k-line YAML is ~2 MB). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** How long a stat or directory listing is trusted without a file-watcher event. */
const STAT_TTL_MS = 2000;

interface PathInfo {
  at: number;
  /** Absolute path; undefined when the path leads out of the root. */
  abs: string | undefined;
  stats: Stats | undefined;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  text: string | undefined;
}

export class FileSystemWorkspace implements WorkspaceView {
  readonly root: string;
  private readonly realRoot: string;
  /** Unsaved text of open editors, by workspace-relative path. */
  private readonly overlay = new Map<string, string>();
  /** Disk reads, validated by mtime and size. */
  private readonly files = new Map<string, CachedFile>();
  /** Recent stat results and directory listings, by normalised relative path. */
  private readonly paths = new Map<string, PathInfo>();
  private readonly dirs = new Map<string, { at: number; entries: string[] | undefined }>();

  constructor(root: string) {
    this.root = path.resolve(root);
    this.realRoot = realRootOf(this.root);
  }

  /** The workspace-relative `/`-separated path of an absolute path, or undefined when outside. */
  relativePath(absPath: string): string | undefined {
    const rel = relativeInside(this.root, path.resolve(absPath));
    return rel === '' ? undefined : rel;
  }

  absolutePath(relPath: string): string | undefined {
    const rel = this.normalize(relPath);
    return rel === undefined ? undefined : path.join(this.root, ...rel.split('/').filter(Boolean));
  }

  setOverlay(relPath: string, text: string): void {
    this.overlay.set(relPath, text);
  }

  clearOverlay(relPath: string): void {
    this.overlay.delete(relPath);
  }

  /** Forget what was read from disk for a path (a watched file changed), or everything. */
  invalidate(relPath?: string): void {
    if (relPath === undefined) this.files.clear();
    else this.files.delete(relPath);
    // A file created or deleted changes its folders' listings and maybe other paths' stats.
    this.paths.clear();
    this.dirs.clear();
  }

  readFile(relPath: string): string | undefined {
    const rel = this.normalize(relPath);
    if (rel === undefined || rel === '') return undefined;
    const open = this.overlay.get(rel);
    if (open !== undefined) return open;
    const { abs, stats: st } = this.info(rel);
    if (abs === undefined || !st || !st.isFile()) {
      this.files.delete(rel);
      return undefined;
    }
    const cached = this.files.get(rel);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.text;
    let text: string | undefined;
    if (st.size <= MAX_FILE_BYTES) {
      try {
        text = readFileSync(abs, 'utf8');
      } catch {
        text = undefined;
      }
    }
    this.files.set(rel, { mtimeMs: st.mtimeMs, size: st.size, text });
    return text;
  }

  exists(relPath: string): boolean {
    const rel = this.normalize(relPath);
    if (rel === undefined) return false;
    if (rel === '') return true;
    if (this.overlay.has(rel)) return true;
    return this.info(rel).stats !== undefined;
  }

  listDir(relPath: string): string[] | undefined {
    const rel = this.normalize(relPath);
    if (rel === undefined) return undefined;
    const onDisk = this.readDir(rel);
    if (onDisk === undefined) return undefined;
    const entries = [...onDisk];
    // Open editors' files that are not on disk yet.
    const prefix = rel === '' ? '' : `${rel}/`;
    for (const p of this.overlay.keys()) {
      if (!p.startsWith(prefix)) continue;
      const restParts = p.slice(prefix.length).split('/');
      const name = restParts.length > 1 ? `${restParts[0]}/` : restParts[0]!;
      if (!entries.includes(name)) entries.push(name);
    }
    return entries.sort();
  }

  /**
   * Whether writing (creating) `relPath` stays inside the root: the path itself, or else its
   * nearest existing ancestor, must resolve inside the root after symbolic links. A dangling link,
   * or a link anywhere on the way that leads out, makes it false. Not cached: asked only for the
   * targets of a code action, right before offering it.
   */
  canWrite(relPath: string): boolean {
    const rel = this.normalize(relPath);
    if (rel === undefined || rel === '') return false;
    const parts = rel.split('/');
    for (let n = parts.length; n >= 0; n--) {
      const abs = path.join(this.root, ...parts.slice(0, n));
      try {
        lstatSync(abs);
      } catch {
        continue; // does not exist: look at its parent
      }
      try {
        return relativeInside(this.realRoot, realpathSync(abs)) !== undefined;
      } catch {
        return false; // a dangling symbolic link
      }
    }
    return false;
  }

  /** Entries of a directory on disk (cached for STAT_TTL_MS). */
  private readDir(rel: string): string[] | undefined {
    const now = Date.now();
    const hit = this.dirs.get(rel);
    if (hit && now - hit.at < STAT_TTL_MS) return hit.entries;
    const abs = rel === '' ? this.root : this.info(rel).abs;
    let entries: string[] | undefined;
    if (abs !== undefined) {
      try {
        entries = readdirSync(abs, { withFileTypes: true }).map((e) => {
          let dir = e.isDirectory();
          if (e.isSymbolicLink()) dir = this.info(rel === '' ? e.name : `${rel}/${e.name}`).stats?.isDirectory() === true;
          return dir ? `${e.name}/` : e.name;
        });
      } catch {
        entries = undefined;
      }
    }
    this.dirs.set(rel, { at: now, entries });
    return entries;
  }

  /** Where a normalised relative path is on disk and what is there (cached for STAT_TTL_MS). */
  private info(rel: string): PathInfo {
    const now = Date.now();
    const hit = this.paths.get(rel);
    if (hit && now - hit.at < STAT_TTL_MS) return hit;
    if (this.paths.size > 50_000) this.paths.clear();
    const abs = this.inside(rel);
    const info: PathInfo = { at: now, abs, stats: abs === undefined ? undefined : this.stat(abs) };
    this.paths.set(rel, info);
    return info;
  }

  private normalize(relPath: string): string | undefined {
    try {
      return normalizeRelativePath(relPath, { allowRoot: true });
    } catch {
      return undefined;
    }
  }

  /** The absolute path of a normalised relative path, if it (after symlinks) stays in the root. */
  private inside(rel: string): string | undefined {
    const abs = path.join(this.root, ...rel.split('/'));
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      // Does not exist (or a dangling link): fine to report as missing through the plain path.
      return abs;
    }
    return relativeInside(this.realRoot, real) === undefined ? undefined : abs;
  }

  private stat(abs: string): Stats | undefined {
    try {
      return statSync(abs);
    } catch {
      return undefined;
    }
  }
}
