/**
 * What each stage looked like the last time it ran: `runwise.lock` beside the pipeline file
 * (`name.pipeline.lock` beside `name.pipeline.yaml`), YAML in dvc.lock's shape:
 *
 *   schema: '2.0'
 *   stages:
 *     train:
 *       cmd: python train.py
 *       deps:
 *       - path: data/train.csv        # relative to the stage's wdir, as the pipeline writes it
 *         hash: md5
 *         md5: 0c1ea4…
 *         size: 1024
 *       params:
 *         params.yaml:
 *           train.lr: 0.01
 *       outs:
 *       - path: model                  # a directory: md5 ends with .dir, and nfiles
 *         hash: md5
 *         md5: 5f2e…​.dir
 *         size: 4096
 *         nfiles: 3
 *
 * Stages are kept in pipeline file order; writing replaces one stage's entry and leaves the others
 * as they are, through a temporary file, fsync and rename. Beside a `dvc.yaml`, DVC's `dvc.lock` is
 * read too: a stage Runwise has not run yet is compared with DVC's record of it (DVC 2 entries,
 * `md5` without `hash: md5`, are compared with DVC 2's md5-dos2unix). A lock file that is not valid
 * is refused with its file and line, and never overwritten: fix or delete it.
 */
import { runwiseFile } from '../tracker/trackerFiles';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Node as YNode } from 'yaml';
import type { WorkspaceView } from '../language/languageTypes';
import { FileSystemWorkspace } from '../language/files/fileSystemWorkspace';
import type { ParamsFile } from '../language/files/paramsIndex';
import { relativePath, resolveWorkspacePath } from '../language/files/workspacePaths';
import { runwiseDir } from '../workspace/workspacePath';
import { ParamsSyntaxError } from './paramsSyntaxError';
import type { LockEntry, LockPath, PathHasher, PipelineGraph, PipelineStage, StageParams } from './pipelineModel';
import { writeFileAtomic } from '../workspace/atomicWrite';
import { comparePythonStrings } from './fileHash';
import { DEFAULT_PARAMS_FILE } from '../language/files/paramsFiles';
import { lockFileOf } from '../language/files/pipelineFileNames';

export class LockFileError extends Error {
  constructor(
    /** Workspace-relative lock file. */
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = 'LockFileError';
  }
}

/**
 * A params file whose values a lock entry records (TOML, Python) cannot be read: refused with its
 * file and line as a broken lock file is, since the state it describes cannot be compared either.
 */
export class ParamsFileError extends LockFileError {
  constructor(file: string, line: number, column: number, reason: string) {
    super(file, line, column, reason);
    this.name = 'ParamsFileError';
  }
}

/** The previous state of one pipeline file's stages. */
export interface LockState {
  /** Workspace-relative runwise.lock of the pipeline. */
  lockFile: string;
  /** Entries by stage name (from runwise.lock, else from dvc.lock). */
  stages: Map<string, LockEntry>;
  /** Where each entry came from. */
  sources: Map<string, string>;
}

export { lockFileOf };

/** DVC's lock file for a dvc.yaml, else undefined. */
function dvcLockOf(pipelineFile: string): string | undefined {
  const base = path.posix.basename(pipelineFile);
  if (base !== 'dvc.yaml' && base !== 'dvc.yml') return undefined;
  const dir = path.posix.dirname(pipelineFile);
  return dir === '.' ? 'dvc.lock' : `${dir}/dvc.lock`;
}

function absolute(root: string, rel: string): string {
  return path.join(root, ...rel.split('/'));
}

/** Reads the previous state of a pipeline file's stages; throws LockFileError for a broken lock file. */
export function readLockState(root: string, pipelineFile: string): LockState {
  const lockFile = lockFileOf(pipelineFile);
  const stages = new Map<string, LockEntry>();
  const sources = new Map<string, string>();
  const dvcLock = dvcLockOf(pipelineFile);
  for (const file of [lockFile, ...(dvcLock ? [dvcLock] : [])]) {
    const parsed = parseLockFile(root, file);
    if (!parsed) continue;
    for (const [name, entry] of parsed) {
      if (stages.has(name)) continue;
      stages.set(name, entry);
      sources.set(name, file);
    }
  }
  return { lockFile, stages, sources };
}

/** The lock states of every pipeline file of a graph, by pipeline file. */
export function readLockStates(graph: PipelineGraph): Map<string, LockState> {
  return new Map(graph.files.map((f) => [f, readLockState(graph.root, f)]));
}

/** The entries of one lock file, in file order; undefined when it does not exist. */
export function parseLockFile(root: string, file: string): Map<string, LockEntry> | undefined {
  const abs = absolute(root, file);
  let st;
  try {
    st = statSync(abs, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    throw new LockFileError(file, 1, 1, `cannot be read: ${(e as Error).message}`);
  }
  if (!st) return undefined;
  const key = `${st.size}:${st.mtimeNs}:${st.ino}`;
  const known = parsedLocks.get(abs);
  if (known?.key === key) return new Map(known.entries);
  const store = parsedLockStore(root);
  const stored = store.files[file];
  if (stored?.key === key) {
    parsedLocks.set(abs, { key, entries: new Map(stored.entries), texts: new Map() });
    return new Map(stored.entries);
  }
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new LockFileError(file, 1, 1, `cannot be read: ${(e as Error).message}`);
  }
  const entries = parseLockText(file, text);
  parsedLocks.set(abs, { key, entries: new Map(entries), texts: new Map() });
  // A file written in the last instants may change again without its mtime moving: not stored.
  if (BigInt(Date.now()) * 1_000_000n - st.mtimeNs >= RACY_NS) {
    store.files[file] = { key, entries: [...entries] };
    saveParsedLockStore(root, store);
  }
  return entries;
}

/**
 * Parsed lock files, so that a large lock is parsed once rather than at every status: in memory by
 * absolute path, and in `.runwise/cache/locks.json` by workspace-relative path, each valid while
 * the file's size, mtime (ns) and inode are what they were when it was parsed.
 */
interface ParsedLock {
  key: string;
  entries: Map<string, LockEntry>;
  /** Each entry's YAML (as written under `stages:`), for rewriting the file without re-serialising every entry. */
  texts: Map<string, string>;
}
interface ParsedLockStore {
  version: number;
  files: Record<string, { key: string; entries: [string, LockEntry][] }>;
}
const PARSED_LOCK_VERSION = 1;
const RACY_NS = 2_000_000_000n;
const parsedLocks = new Map<string, ParsedLock>();
const parsedLockStores = new Map<string, ParsedLockStore>();

function parsedLockStorePath(root: string): string {
  return path.join(runwiseDir(root), 'cache', 'locks.json');
}

function parsedLockStore(root: string): ParsedLockStore {
  const known = parsedLockStores.get(root);
  if (known) return known;
  let store: ParsedLockStore = { version: PARSED_LOCK_VERSION, files: {} };
  try {
    const data = JSON.parse(readFileSync(parsedLockStorePath(root), 'utf8')) as ParsedLockStore;
    if (data.version === PARSED_LOCK_VERSION && typeof data.files === 'object' && data.files !== null) store = data;
  } catch {
    /* none yet, or unreadable: start empty (it is only a cache) */
  }
  parsedLockStores.set(root, store);
  return store;
}

/**
 * Whether parsed lock files are recorded in `.runwise/cache/locks.json`, or kept in memory only:
 * the editor turns it off in an untrusted workspace (Restricted Mode), where Runwise writes nothing.
 */
let recordParsedLocks = true;
export function setParsedLockRecording(on: boolean): void {
  recordParsedLocks = on;
}

function saveParsedLockStore(root: string, store: ParsedLockStore): void {
  if (!recordParsedLocks) return;
  try {
    // Its folders real and the file no link (a cloned repository may ship one): a cache that cannot
    // be written so is only slower next time.
    writeFileAtomic(runwiseFile(root, 'cache', 'locks.json'), JSON.stringify(store));
  } catch {
    /* a cache that cannot be written is only slower next time */
  }
}

/** The `yaml` package, loaded on use: a lock answered from its parsed copy needs no YAML parser. */
const yamlPackage = () => require('yaml') as typeof import('yaml');

export function parseLockText(file: string, text: string): Map<string, LockEntry> {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yamlPackage();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const fail = (node: YNode | null | undefined, reason: string): never => {
    const pos = lines.linePos(node?.range?.[0] ?? 0);
    throw new LockFileError(file, pos.line, pos.col, reason);
  };
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
    throw new LockFileError(file, pos.line, pos.col, `is not valid YAML: ${err.message.split('\n')[0]}`);
  }
  const out = new Map<string, LockEntry>();
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return out;
  if (!isMap(doc.contents)) return fail(doc.contents, "expected a mapping with 'schema' and 'stages'");
  const schema = doc.contents.get('schema', true);
  if (schema !== undefined && !(isScalar(schema) && String(schema.value) === '2.0')) {
    return fail(schema as YNode, `unsupported lock file schema '${isScalar(schema) ? String(schema.value) : '?'}' (expected '2.0')`);
  }
  const stagesNode = doc.contents.get('stages', true) as YNode | undefined;
  if (stagesNode === undefined || (isScalar(stagesNode) && stagesNode.value === null)) return out;
  if (!isMap(stagesNode)) return fail(stagesNode, "'stages' must be a mapping of stage names to entries");
  for (const pair of stagesNode.items) {
    const key = pair.key as YNode;
    const name = isScalar(key) ? String(key.value) : fail(key, 'a stage name must be a string');
    const value = pair.value as YNode | null;
    if (!isMap(value)) return fail(value ?? key, `stage '${name}' must be a mapping (cmd, deps, params, outs)`);
    const cmdNode = value.get('cmd', true) as YNode | undefined;
    let cmd: string | string[] = '';
    if (isScalar(cmdNode)) cmd = String(cmdNode.value ?? '');
    else if (isSeq(cmdNode)) cmd = cmdNode.items.map((it) => (isScalar(it) ? String(it.value ?? '') : fail(it as YNode, `a command of stage '${name}' must be a string`)));
    else if (cmdNode !== undefined) fail(cmdNode, `'cmd' of stage '${name}' must be a string or a list of strings`);
    const paths = (field: 'deps' | 'outs'): LockPath[] => {
      const node = value.get(field, true) as YNode | undefined;
      if (node === undefined || (isScalar(node) && node.value === null)) return [];
      if (!isSeq(node)) return fail(node, `'${field}' of stage '${name}' must be a list`);
      return node.items.map((item) => {
        const it = item as YNode;
        if (!isMap(it)) return fail(it, `an entry of '${field}' in stage '${name}' must be a mapping with 'path'`);
        const js = it.toJSON() as Record<string, unknown>;
        if (typeof js.path !== 'string') return fail(it, `an entry of '${field}' in stage '${name}' has no 'path'`);
        if (js.md5 !== undefined && typeof js.md5 !== 'string') return fail(it, `'md5' of '${js.path}' in stage '${name}' must be a string`);
        const entry: LockPath = {
          path: js.path,
          hash: js.hash === 'md5' ? 'md5' : 'md5-dos2unix',
          md5: typeof js.md5 === 'string' ? js.md5 : '',
          size: typeof js.size === 'number' ? js.size : -1,
        };
        if (typeof js.nfiles === 'number') entry.nfiles = js.nfiles;
        return entry;
      });
    };
    const paramsNode = value.get('params', true) as YNode | undefined;
    let params: Record<string, Record<string, unknown>> = {};
    if (paramsNode !== undefined && !(isScalar(paramsNode) && paramsNode.value === null)) {
      if (!isMap(paramsNode)) fail(paramsNode, `'params' of stage '${name}' must be a mapping of files to values`);
      params = paramsNode.toJSON() as Record<string, Record<string, unknown>>;
      for (const [f, values] of Object.entries(params)) {
        if (values === null) params[f] = {};
        else if (typeof values !== 'object' || Array.isArray(values)) fail(paramsNode, `params of '${f}' in stage '${name}' must be a mapping`);
      }
    }
    out.set(name, { cmd, deps: paths('deps'), params, outs: paths('outs') });
  }
  return out;
}

/** The lock entry of a stage that has just run: its command, what its deps, params and outs are now. */
export function stageLockEntry(graph: PipelineGraph, stage: PipelineStage, hashes: PathHasher, workspace: WorkspaceView = new FileSystemWorkspace(graph.root)): LockEntry {
  const describe = (p: string, what: string) => {
    const h = hashes.hash(p);
    if (!h) throw new Error(`Stage '${stage.id}': ${what} '${p}' does not exist after it ran`);
    const entry: LockPath = { path: relativePath(stage.wdir, p), hash: 'md5', md5: h.md5, size: h.size };
    if (h.nfiles !== undefined) entry.nfiles = h.nfiles;
    return entry;
  };
  return {
    cmd: lockCommand(stage),
    deps: stage.deps.map((d) => describe(d, 'dependency')).sort(byPath),
    params: paramValuesForLock(stage, workspace),
    outs: stage.outs.map((o) => describe(o.path, 'output')).sort(byPath),
  };
}

function byPath(a: LockPath, b: LockPath): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The `cmd` a lock entry records: the command (a list when there are several), or the built-in step and its settings. */
export function lockCommand(stage: PipelineStage): string | string[] {
  if (stage.builtin) return `runwise:${stage.builtin} ${JSON.stringify(stage.builtinConfig ?? {})}`;
  return stage.cmd.length === 1 ? stage.cmd[0]! : stage.cmd;
}

/**
 * params file (as the pipeline writes it, relative to wdir) → key → value, for a lock entry, in
 * DVC's order (_serialize_params_values in dvc/stage/serialize.py): params.yaml first, the other
 * files by path, each file's keys sorted.
 */
function paramValuesForLock(stage: PipelineStage, workspace: WorkspaceView): Record<string, Record<string, unknown>> {
  const files: [string, Record<string, unknown>][] = [];
  for (const p of stage.params) {
    const values = readParamValues(workspace, p);
    const shown: Record<string, unknown> = {};
    for (const k of [...values.keys()].sort(comparePythonStrings)) {
      const v = values.get(k);
      if (v !== undefined) shown[k] = v;
    }
    files.push([relativePath(stage.wdir, p.file), shown]);
  }
  files.sort(([a], [b]) => (a === DEFAULT_PARAMS_FILE ? -1 : b === DEFAULT_PARAMS_FILE ? 1 : comparePythonStrings(a, b)));
  return Object.fromEntries(files);
}


/**
 * Params files parsed during one plan, by workspace-relative path (or what parsing threw): stages
 * that track the same file share one parse. Only for a span in which the files do not change.
 */
export type ParsedParamsFiles = Map<string, ParamsFile | undefined | Error>;

/**
 * The current values of tracked params: each key (glob keys expanded to the keys they match), or
 * every top-level key of a file tracked whole; undefined for a key the file does not have. YAML,
 * JSON, TOML and Python params files are read (paramsFormats.ts); ParamsFileError for a TOML or
 * Python file that does not parse.
 */
export function readParamValues(workspace: WorkspaceView, params: StageParams, parsed?: ParsedParamsFiles): Map<string, unknown> {
  // Loaded on use (they bring the YAML, TOML and Python parsers): a pipeline without params needs none.
  const loadParamsValues = (ws: WorkspaceView, file: string) => {
    const known = parsed?.get(file);
    if (known instanceof Error) throw known;
    if (known !== undefined || parsed?.has(file)) return known;
    try {
      const loaded = (require('./paramsFormats') as typeof import('./paramsFormats')).loadParamsValues(ws, file);
      parsed?.set(file, loaded);
      return loaded;
    } catch (e) {
      if (e instanceof Error) parsed?.set(file, e);
      throw e;
    }
  };
  const { lookupPath, paramGlobMatches, isParamGlob, splitKeyPath } = require('../language/files/paramsIndex') as typeof import('../language/files/paramsIndex');
  const { toJs } = require('../language/yaml/nodeAt') as typeof import('../language/yaml/nodeAt');
  const { asMap, keyName } = require('../language/yaml/yamlAccess') as typeof import('../language/yaml/yamlAccess');
  const out = new Map<string, unknown>();
  let file;
  try {
    file = loadParamsValues(workspace, params.file);
  } catch (e) {
    if (e instanceof ParamsSyntaxError) throw new ParamsFileError(params.file, e.line, e.column, e.reason);
    throw e;
  }
  if (!file?.doc) {
    for (const k of params.keys ?? []) out.set(k, undefined);
    return out;
  }
  if (params.keys === undefined) {
    for (const p of asMap(file.doc.root)?.items ?? []) out.set(keyName(p), toJs(p.value));
    return out;
  }
  for (const key of params.keys) {
    if (isParamGlob(key)) {
      for (const m of paramGlobMatches(file, key, 10_000)) out.set(m.key, toJs(m.node));
      continue;
    }
    const found = lookupPath(file.doc.root, splitKeyPath(key));
    out.set(key, found ? toJs(found.node) : undefined);
  }
  return out;
}

/** A lock entry's path resolved against the stage's wdir (undefined when it leaves the workspace). */
export function lockPathInWorkspace(stage: PipelineStage, p: LockPath): string | undefined {
  const r = resolveWorkspacePath(stage.wdir, p.path);
  return r.kind === 'inside' ? r.path : undefined;
}

/**
 * Replaces one stage's entry in the pipeline file's runwise.lock, other entries untouched, stages
 * ordered as the pipeline file declares them (entries of stages no longer declared stay, after).
 * Atomic: written to a temporary file, fsynced, renamed over the lock file.
 */
export function writeLockEntry(graph: PipelineGraph, stage: PipelineStage, entry: LockEntry): void {
  const lockFile = lockFileOf(stage.file);
  const abs = absolute(graph.root, lockFile);
  const existing = parseLockFile(graph.root, lockFile) ?? new Map<string, LockEntry>();
  const texts = parsedLocks.get(abs)?.texts ?? new Map<string, string>();
  existing.set(stage.name, entry);
  texts.delete(stage.name);
  const declared = graph.stages
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.file === stage.file)
    .sort((a, b) => a.s.line - b.s.line || a.i - b.i)
    .map(({ s }) => s.name);
  const names = [...declared.filter((n) => existing.has(n)), ...[...existing.keys()].filter((n) => !declared.includes(n))];
  let text = "schema: '2.0'\nstages:\n";
  for (const n of names) {
    let t = texts.get(n);
    if (t === undefined) {
      t = yamlPackage().stringify({ [n]: lockEntryForYaml(existing.get(n)!) }, { indentSeq: false, lineWidth: 0, singleQuote: true }).replace(/^(?=.)/gm, '  ');
      texts.set(n, t);
    }
    text += t;
  }
  writeFileAtomic(abs, text);
  const st = statSync(abs, { bigint: true });
  parsedLocks.set(abs, { key: `${st.size}:${st.mtimeNs}:${st.ino}`, entries: new Map(names.map((n) => [n, existing.get(n)!])), texts });
}

function lockEntryForYaml(e: LockEntry): Record<string, unknown> {
  const pathYaml = (p: LockPath) => ({
    path: p.path,
    ...(p.hash === 'md5' ? { hash: 'md5' } : {}),
    md5: p.md5,
    size: p.size,
    ...(p.nfiles !== undefined ? { nfiles: p.nfiles } : {}),
  });
  return {
    cmd: e.cmd,
    ...(e.deps.length ? { deps: e.deps.map(pathYaml) } : {}),
    ...(Object.keys(e.params).length ? { params: e.params } : {}),
    ...(e.outs.length ? { outs: e.outs.map(pathYaml) } : {}),
  };
}
