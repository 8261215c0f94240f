/**
 * What the last successful load of the workspace's pipelines found, in `.runwise/cache/pipelines.json`,
 * so that `runwise status` on unchanged pipelines skips the language analysis:
 *
 * - the pipeline files found by the walk, with the (mtime, inode) of every folder walked: while no
 *   folder's mtime moved, no file was added, removed or renamed in it, so the walk's answer stands;
 * - per set of pipeline files: the md5 of each file's text, what the analysis read through the
 *   workspace view (each file's text md5, each folder listing, each existence asked outside the
 *   diagnostics), and the stages and gates it produced.
 *
 * A load is answered from the record only when every pipeline file's text and every read gives the
 * same answer as then and the analysis code is the same (size and mtime of the module that runs it):
 * a record is written only after a load that found no error, so a file with an error is always
 * analysed in full and refused with its diagnostics. The diagnostics' own existence checks are not
 * recorded: the ones they make (`missing-path`) are warnings, which never refuse a load.
 *
 * A cache file that cannot be read or parsed is ignored (the next successful load replaces it).
 */
import { writeNewFile } from '../workspace/atomicWrite';
import { runwiseFile } from '../tracker/trackerFiles';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { WorkspaceView } from '../language/languageTypes';
import { runwiseDir } from '../workspace/workspacePath';
import type { GateRule, PipelineStage } from './pipelineModel';

const VERSION = 6;
/** Folders modified this recently are not trusted to show the next change in their mtime. */
const RACY_MS = 2000;
/** Records kept (one per set of pipeline files loaded: the whole workspace, a `--pipeline FILE`). */
const MAX_RECORDS = 8;

/** One read the analysis made: `f` a file's text md5 ('-' missing), `d` a listing's md5, `e` an existence ('1'/'0'). */
export type RecordedRead = [kind: 'f' | 'd' | 'e', path: string, answer: string];

export interface LoadRecord {
  texts: [file: string, md5: string][];
  reads: RecordedRead[];
  stages: PipelineStage[];
  gates: GateRule[];
  /** The upstream stages of each stage, by index into `stages`. */
  upstream: number[][];
}

export interface WalkRecord {
  dirs: [rel: string, mtimeMs: number, ino: number][];
  files: string[];
}

interface CacheFile {
  version: number;
  walk?: WalkRecord;
  /** By the analysis code they came from and the pipeline files loaded (the CLI and the editor run different bundles). */
  loads: Record<string, LoadRecord>;
}

export function textMd5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/**
 * The code running the analysis: size and mtime of this module and of the language service's (in the
 * built CLI, the pipeline loader's bundle and the language analysis bundle it loads on use).
 */
function codeSignature(): string {
  try {
    return [__filename, require.resolve('../language/languageService')]
      .map((file) => {
        const st = statSync(file);
        return `${st.size}:${st.mtimeMs}`;
      })
      .join(',');
  } catch {
    return 'unknown';
  }
}

export class PipelineLoadCache {
  private readonly file: string;
  private readonly root: string;
  private readonly code = codeSignature();
  private data: CacheFile;

  constructor(root: string) {
    this.root = root;
    this.file = path.join(runwiseDir(root), 'cache', 'pipelines.json');
    this.data = { version: VERSION, loads: {} };
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as CacheFile;
      if (parsed.version === VERSION && typeof parsed.loads === 'object' && parsed.loads !== null) this.data = parsed;
    } catch {
      /* none yet, or unreadable: start empty (it is only a cache) */
    }
  }

  /** The pipeline files of the last walk, when no folder it walked has changed since. */
  walk(root: string): string[] | undefined {
    const w = this.data.walk;
    if (!w || !Array.isArray(w.dirs) || !Array.isArray(w.files)) return undefined;
    const now = Date.now();
    for (const [rel, mtime, ino] of w.dirs) {
      const st = statSync(rel === '' ? root : `${root}${path.sep}${rel}`, { throwIfNoEntry: false });
      if (!st || !st.isDirectory() || st.mtimeMs !== mtime || st.ino !== ino || now - st.mtimeMs < RACY_MS) return undefined;
    }
    return [...w.files];
  }

  /** Remembers a walk, unless a folder was modified too recently to be trusted. */
  setWalk(record: WalkRecord): void {
    const now = Date.now();
    if (record.dirs.some(([, mtime]) => now - mtime < RACY_MS)) delete this.data.walk;
    else this.data.walk = record;
  }

  /** The record of a load of these pipeline files, when every text and read still answers the same. */
  load(files: readonly string[], texts: ReadonlyMap<string, string>, view: WorkspaceView): LoadRecord | undefined {
    const rec = this.data.loads[this.key(files)];
    if (!rec || !Array.isArray(rec.texts) || !Array.isArray(rec.reads) || !Array.isArray(rec.stages) || !Array.isArray(rec.upstream)) return undefined;
    if (rec.upstream.length !== rec.stages.length || !rec.upstream.every((u) => Array.isArray(u) && u.every((i) => Number.isInteger(i) && i >= 0 && i < rec.stages.length))) return undefined;
    if (rec.texts.length !== files.length || !rec.stages.every(isStage) || !Array.isArray(rec.gates)) return undefined;
    for (const [file, md5] of rec.texts) {
      const text = texts.get(file);
      if (text === undefined || textMd5(text) !== md5) return undefined;
    }
    for (const [kind, p, answer] of rec.reads) if (readAnswer(view, kind, p) !== answer) return undefined;
    return rec;
  }

  /** Remembers a successful load; false (nothing kept) when its stages do not survive JSON. */
  setLoad(files: readonly string[], record: LoadRecord): boolean {
    const copy = JSON.parse(JSON.stringify(record)) as LoadRecord;
    if (!isDeepStrictEqual(copy.stages, record.stages) || !isDeepStrictEqual(copy.gates, record.gates)) return false;
    const key = this.key(files);
    delete this.data.loads[key];
    const keys = Object.keys(this.data.loads);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_RECORDS + 1))) delete this.data.loads[k];
    this.data.loads[key] = copy;
    return true;
  }

  private key(files: readonly string[]): string {
    return `${this.code}\n${files.join('\n')}`;
  }

  /** Writes the cache; a failure to write is not fatal (the next load is only slower). */
  save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      // Its folders real, the file no link (a cloned repository may ship one).
      runwiseFile(this.root, 'cache', 'pipelines.json');
      writeNewFile(tmp, JSON.stringify(this.data));
      renameSync(tmp, this.file);
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing was written */
      }
    }
  }
}

/** The shape of a recorded stage (a damaged record is ignored, not trusted). */
function isStage(v: unknown): v is PipelineStage {
  const s = v as PipelineStage;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.id === 'string' &&
    typeof s.name === 'string' &&
    typeof s.file === 'string' &&
    typeof s.line === 'number' &&
    typeof s.wdir === 'string' &&
    Array.isArray(s.cmd) &&
    s.cmd.every((c) => typeof c === 'string') &&
    Array.isArray(s.deps) &&
    s.deps.every((d) => typeof d === 'string') &&
    Array.isArray(s.outs) &&
    s.outs.every((o) => typeof o === 'object' && o !== null && typeof o.path === 'string') &&
    Array.isArray(s.params) &&
    typeof s.frozen === 'boolean' &&
    typeof s.alwaysChanged === 'boolean' &&
    // A built-in step carries its settings (the lock records them).
    (s.builtin === undefined || (typeof s.builtinConfig === 'object' && s.builtinConfig !== null && !Array.isArray(s.builtinConfig)))
  );
}

function readAnswer(view: WorkspaceView, kind: RecordedRead[0], p: string): string {
  if (kind === 'f') {
    const text = view.readFile(p);
    return text === undefined ? '-' : textMd5(text);
  }
  if (kind === 'd') {
    const entries = view.listDir(p);
    return entries === undefined ? '-' : textMd5(entries.join('\n'));
  }
  return view.exists(p) ? '1' : '0';
}

/**
 * A workspace view that notes what is read through it (each path and kind once), for a load record.
 * `exists` is noted only while `notingExistence` is set.
 */
export class RecordingWorkspace implements WorkspaceView {
  readonly reads = new Map<string, RecordedRead>();
  notingExistence = true;

  constructor(private readonly inner: WorkspaceView) {}

  readFile(relPath: string): string | undefined {
    const text = this.inner.readFile(relPath);
    this.note('f', relPath, () => (text === undefined ? '-' : textMd5(text)));
    return text;
  }

  exists(relPath: string): boolean {
    const e = this.inner.exists(relPath);
    if (this.notingExistence) this.note('e', relPath, () => (e ? '1' : '0'));
    return e;
  }

  listDir(relPath: string): string[] | undefined {
    const entries = this.inner.listDir(relPath);
    this.note('d', relPath, () => (entries === undefined ? '-' : textMd5(entries.join('\n'))));
    return entries;
  }

  private note(kind: RecordedRead[0], p: string, answer: () => string): void {
    const key = `${kind}:${p}`;
    if (!this.reads.has(key)) this.reads.set(key, [kind, p, answer()]);
  }
}
