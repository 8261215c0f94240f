/**
 * The workspace's pipelines as one graph of runnable stages. Each pipeline file goes through the
 * language analysis the editor uses (parse, schema, `foreach`/`matrix` expansion, `${...}`
 * substitution, params and paths checks), so a file the editor marks with an error is refused here
 * with the same diagnostics before anything runs. Across files the loader then refuses what no
 * single file shows: two stages writing one output (or one inside the other's), a dependency cycle,
 * and a path that leaves the workspace through a symbolic link.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnalysisDiagnostic } from '../language/languageTypes';
import { FileSystemWorkspace } from '../language/files/fileSystemWorkspace';
import type { PipelineIndex, StageInstance } from '../language/pipeline/pipelineIndex';
import { StageGraph } from '../language/pipeline/stageGraph';
import { positionAt } from '../language/text/lineIndex';
import { asMap, asScalar, asSeq, scalarText, valueOf } from '../language/yaml/yamlAccess';
import type { YamlNode, YamlScalar } from '../language/yaml/yamlTree';
import { normalizeRelativePath, PathOutsideWorkspaceError, realRootOf } from '../workspace/workspacePath';
import { defaultPipelineFile, lockFileOf, sharedLockMessage, stageIdOf } from '../language/files/pipelineFileNames';
import { expandGroupGates } from './gates';
import { PipelineLoadCache, RecordingWorkspace, textMd5, type WalkRecord } from './pipelineLoadCache';
import {
  PipelineLoadError,
  type BuiltinStepName,
  type GateOp,
  type GateRule,
  type PipelineDiagnostic,
  type PipelineGraph,
  type PipelineStage,
  LABEL_TEMPLATES,
  type PlotProps,
  type StageOut,
  type StageParams,
} from './pipelineModel';

export interface LoadOptions {
  /** One pipeline file (workspace-relative or absolute inside the workspace); default: every pipeline file found. */
  pipelineFile?: string;
  signal?: AbortSignal;
  /**
   * Answer from `.runwise/cache/pipelines.json` when the pipeline files and what their analysis
   * read are unchanged since the last successful load, and record this load there. Off by default:
   * it writes into the workspace (the CLI turns it on; the editor, which may not write in an
   * untrusted workspace, keeps its parses in memory).
   */
  cache?: boolean;
}

/** Folders never searched for pipeline files (besides every folder whose name starts with a dot). */
const SKIPPED_DIRS = new Set(['node_modules', '__pycache__']);
const MAX_WALK_DEPTH = 24;
const MAX_WALK_ENTRIES = 200_000;
const GATE_OPS: readonly GateOp[] = ['>=', '>', '<=', '<', '==', '!='];

/** File kinds, loaded on use (they bring the YAML parser): a walk answered from the load record needs none. */
const fileKinds = () => require('../language/files/fileKinds') as typeof import('../language/files/fileKinds');

/** Pipeline files of the workspace, sorted: `runwise.yaml`, `*.pipeline.yaml`, `dvc.yaml` (walk bounded). */
export function findPipelineFiles(root: string): string[] {
  return walkPipelineFiles(path.resolve(root)).files;
}

/** The walk behind findPipelineFiles, with the folders it listed; `dirs` is empty when the walk was cut short. */
function walkPipelineFiles(root: string): WalkRecord {
  const out: string[] = [];
  const dirs: WalkRecord['dirs'] = [];
  let complete = true;
  let seen = 0;
  const { fileKindByName, isPipelineKind } = fileKinds();
  const walk = (dirAbs: string, dirRel: string, depth: number) => {
    let entries;
    try {
      const st = statSync(dirAbs);
      entries = readdirSync(dirAbs, { withFileTypes: true });
      dirs.push([dirRel, st.mtimeMs, st.ino]);
    } catch {
      complete = false;
      return;
    }
    for (const e of entries) {
      if (++seen > MAX_WALK_ENTRIES) {
        complete = false;
        return;
      }
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      // Symbolic links are not followed: they may lead out of the workspace or round in a circle.
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && !SKIPPED_DIRS.has(e.name) && depth < MAX_WALK_DEPTH) walk(path.join(dirAbs, e.name), rel, depth + 1);
      } else if (e.isFile()) {
        const kind = fileKindByName(rel);
        if (kind && isPipelineKind(kind)) out.push(rel);
      }
    }
  };
  walk(root, '', 0);
  const files = out.sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : a > b ? 1 : 0));
  return { dirs: complete ? dirs : [], files };
}

/** Loads the pipelines of the workspace at `root`; throws PipelineLoadError when they cannot run. */
export function loadPipeline(root: string, options: LoadOptions = {}): PipelineGraph {
  const absRoot = path.resolve(root);
  const view = new FileSystemWorkspace(absRoot);
  const cache = options.cache === true ? new PipelineLoadCache(absRoot) : undefined;
  const cancelled = () => options.signal?.aborted === true;
  const checkCancelled = () => {
    if (cancelled()) throw new PipelineLoadError('Loading the pipelines was cancelled', []);
  };

  let files: string[];
  let walked: WalkRecord | undefined;
  if (options.pipelineFile !== undefined) files = [namedPipelineFile(absRoot, options.pipelineFile, view)];
  else {
    const known = cache?.walk(absRoot);
    if (known) files = known;
    else {
      walked = walkPipelineFiles(absRoot);
      files = walked.files;
      if (walked.dirs.length) cache?.setWalk(walked);
    }
  }
  if (files.length === 0) throw new PipelineLoadError(`No pipeline file (runwise.yaml, *.pipeline.yaml, dvc.yaml) in ${absRoot}`, []);

  const diagnostics: PipelineDiagnostic[] = [];
  const texts = new Map<string, string>();
  for (const file of files) {
    const text = view.readFile(file);
    if (text === undefined) diagnostics.push({ file, line: 1, column: 1, code: 'unreadable-file', message: `Cannot read ${file}`, severity: 'error' });
    else texts.set(file, text);
  }
  const links = new LinkCheck(absRoot);

  // Unchanged since the last successful load: its stages, once their paths are checked for links again.
  const record = diagnostics.length === 0 ? cache?.load(files, texts, view) : undefined;
  if (record) links.prefetch(record.stages.flatMap((s) => [...s.deps, ...s.outs.map((o) => o.path)]));
  if (record && record.stages.every((s) => s.deps.every((d) => links.inside(d)) && s.outs.every((o) => links.inside(o.path)))) {
    checkCancelled();
    if (walked) cache?.save();
    // Recorded after a load that found no overlap and no cycle among these same stages, with their edges.
    return assembleGraph(absRoot, files, record.stages, record.gates, record.upstream);
  }

  const recording = new RecordingWorkspace(view);
  // Loaded here: a load answered from the record above starts without the language analysis.
  const { createLanguageService } = require('../language/languageService') as typeof import('../language/languageService');
  const service = createLanguageService(recording);
  const loaded: { file: string; index: PipelineIndex; lineStarts: number[] }[] = [];
  /** Gates naming no stage of their own file: stages of another file, or errors. */
  const gateStages: { file: string; stage: string; diagnostic: PipelineDiagnostic }[] = [];
  for (const file of files) {
    checkCancelled();
    const text = texts.get(file);
    if (text === undefined) continue;
    const doc = service.analyze(pathToFileURL(path.join(absRoot, ...file.split('/'))).href, file, text);
    const index = doc ? service.pipelineIndex(doc, cancelled) : undefined;
    if (!doc || !index) {
      diagnostics.push({ file, line: 1, column: 1, code: 'not-a-pipeline', message: `${file} is not a pipeline file`, severity: 'error' });
      continue;
    }
    checkCancelled();
    // The diagnostics' existence checks only warn (missing-path): a load record does not depend on them.
    recording.notingExistence = false;
    const found = service.diagnostics(doc, cancelled, index);
    recording.notingExistence = true;
    for (const d of found) {
      if (d.severity !== 'error') continue;
      // A gate naming a stage of another file (`train` of the root dvc.yaml) is judged once every file is read.
      const named = (d.data as { stage?: unknown } | undefined)?.stage;
      if (d.code === 'unknown-stage' && typeof named === 'string') gateStages.push({ file, stage: named, diagnostic: toDiagnostic(file, doc.yaml.lineStarts, d) });
      else diagnostics.push(toDiagnostic(file, doc.yaml.lineStarts, d));
    }
    loaded.push({ file, index, lineStarts: doc.yaml.lineStarts });
  }
  checkCancelled();
  if (gateStages.length > 0) {
    const main = defaultPipelineFile(files);
    const idsIn = (l: (typeof loaded)[number]) => l.index.instances.map((i) => stageIdOf(l.file, i.name, l.file === main));
    for (const g of gateStages) if (!loaded.some((l) => l.file !== g.file && idsIn(l).includes(g.stage))) diagnostics.push(g.diagnostic);
  }
  if (diagnostics.length) throw refusal(diagnostics);

  // Stages, in file order then declaration order.
  const defaultFile = defaultPipelineFile(files);
  const stages: PipelineStage[] = [];
  const gates: GateRule[] = [];
  /** Files the top-level `plots:` draws with a confusion template (workspace-relative). */
  const labelPlots: string[] = [];
  for (const { file, index, lineStarts } of loaded) {
    const at = (node: { start: number }) => positionAt({ lineStarts }, node.start);
    const problem = (node: { start: number }, code: string, message: string) => {
      const p = at(node);
      diagnostics.push({ file, line: p.line + 1, column: p.character + 1, code, message, severity: 'error' });
    };
    for (const inst of index.instances) {
      const stage = toStage(inst, file, file === defaultFile, at(inst.decl.pair.key).line + 1, problem, links);
      if (stage) stages.push(stage);
    }
    // A gate on a foreach group becomes one per stage here, where each stage's scope resolves its
    // `${...}` (`model: churn-${item.name}`); the load record keeps the rules so expanded.
    if (index.runwise) {
      const scopes = new Map(index.instances.map((i) => [i.name, i.scope]));
      const own = index.instances.map((i) => ({ id: '', name: i.name, file }));
      const { interpolateString } = require('../language/pipeline/interpolation') as typeof import('../language/pipeline/interpolation');
      gates.push(...expandGroupGates(readGates(index, file, at, problem), own, (text, stage) => interpolateString(text, scopes.get(stage)!)));
    }
    labelPlots.push(...confusionPlotFiles(index, file));
  }
  if (diagnostics.length) throw refusal(diagnostics);
  markLabelPlots(stages, labelPlots);
  const edges: number[][] = [];
  const graph = assembleGraph(absRoot, loaded.map((l) => l.file), stages, gates, undefined, edges);
  if (cache) {
    cache.setLoad(files, { texts: [...texts].map(([f, t]) => [f, textMd5(t)]), reads: [...recording.reads.values()], stages, gates, upstream: edges });
    cache.save();
  }
  return graph;
}

/**
 * The graph of stages (in file then declaration order) across files; throws PipelineLoadError for
 * what no single file shows. `known`: the upstream stages of each stage (by index) from a load that
 * found these same stages free of overlaps and cycles; else computed, and given back in `edgesOut`.
 */
function assembleGraph(absRoot: string, files: string[], stages: PipelineStage[], gates: GateRule[], known?: number[][], edgesOut?: number[][]): PipelineGraph {
  const diagnostics: PipelineDiagnostic[] = [];
  const byId = new Map<string, PipelineStage>();
  /** Stages by lock file and name: two files sharing a lock (dvc.yaml and runwise.yaml in one folder) cannot share a stage name. */
  const byLockEntry = new Map<string, PipelineStage>();
  for (const s of stages) {
    const prev = byId.get(s.id);
    if (prev) diagnostics.push(stageDiagnostic(s, 'duplicate-stage', `Stage '${s.id}' is defined twice (${prev.file}:${prev.line} and here)`));
    else byId.set(s.id, s);
    const entry = `${lockFileOf(s.file)}\0${s.name}`;
    const other = byLockEntry.get(entry);
    if (other && other.file !== s.file) diagnostics.push(stageDiagnostic(s, 'shared-lock-stage', sharedLockMessage(s.name, other.file, lockFileOf(s.file))));
    else if (!other) byLockEntry.set(entry, s);
  }

  // The graph across files: edges from deps and outs, an output directory feeding the files below it.
  const graph = known ? edgesGraph(known) : new StageGraph(stages.map((s) => ({ name: s.id, inputs: s.deps, outputs: s.outs.map((o) => o.path) })));
  for (const o of graph instanceof StageGraph ? graph.overlappingOutputs() : []) {
    const a = stages[o.first]!;
    const b = stages[o.second]!;
    const what = o.kind === 'same' ? `'${o.firstPath}'` : `'${o.secondPath}' (inside '${o.firstPath}')`;
    diagnostics.push(
      stageDiagnostic(b, 'overlapping-outputs', `Stages '${a.id}' (${a.file}:${a.line}) and '${b.id}' (${b.file}:${b.line}) both write ${what}; an output belongs to one stage`),
    );
  }
  for (const cycle of graph instanceof StageGraph ? graph.cycles() : []) {
    const names = cycle.map((i) => `'${stages[i]!.id}' (${stages[i]!.file}:${stages[i]!.line})`);
    diagnostics.push(stageDiagnostic(stages[cycle[0]!]!, 'stage-cycle', `Dependency cycle between stages ${names.join(', ')}: each reads what another writes`));
  }
  if (diagnostics.length) throw refusal(diagnostics);

  if (edgesOut) for (let i = 0; i < stages.length; i++) edgesOut.push(graph.upstream(i));
  const order = topologicalOrder(stages.length, (i) => graph.upstream(i));
  const ordered = order.map((i) => stages[i]!);
  const idsOf = (list: number[]) => list.sort((a, b) => a - b).map((i) => stages[i]!.id);
  const positionOf = new Map(stages.map((s, i) => [s.id, i]));
  const indexOf = (id: string) => {
    const i = positionOf.get(id);
    if (i === undefined) throw new Error(`Unknown stage '${id}'`);
    return i;
  };
  return {
    root: absRoot,
    files,
    stages: ordered,
    byId,
    upstream: (id) => idsOf(graph.upstream(indexOf(id))),
    downstream: (id) => idsOf(graph.downstream(indexOf(id))),
    gates,
  };
}

/** A graph from recorded edges (upstream stage indexes by stage index). */
function edgesGraph(upstream: number[][]): { upstream(i: number): number[]; downstream(i: number): number[] } {
  const downstream: number[][] = upstream.map(() => []);
  upstream.forEach((ups, i) => {
    for (const u of ups) downstream[u]?.push(i);
  });
  return { upstream: (i) => [...(upstream[i] ?? [])], downstream: (i) => [...(downstream[i] ?? [])] };
}

/**
 * Whether creating or reading a workspace path stays inside the workspace after symbolic links
 * (FileSystemWorkspace.canWrite's rule: the path, or else its nearest existing ancestor, resolves
 * inside), with each folder's real path resolved once for all the paths below it.
 */
/** A folder is listed for the link check when at least this many of the checked paths are in it. */
const LISTED_FOLDER_MIN_PATHS = 16;

class LinkCheck {
  private readonly root: string;
  private readonly realRoot: string;
  private readonly rootPrefix: string;
  /** Real path of a path or of its nearest existing ancestor; null for a dangling link. */
  private readonly real = new Map<string, string | null>();

  constructor(root: string) {
    this.root = root;
    const real = realRootOf(root);
    this.realRoot = real;
    this.rootPrefix = real.endsWith(path.sep) ? real : `${real}${path.sep}`;
  }

  /**
   * Learns the paths that share a folder with many others from one listing of that folder instead of
   * an `lstat` each: an entry that is no link resolves below its folder's real path. A name the
   * listing does not show exactly (missing, or another case on a case-insensitive disk) is left to
   * `inside`'s own lstat.
   */
  prefetch(rels: Iterable<string>): void {
    const byParent = new Map<string, string[]>();
    for (const rel of rels) {
      if (rel === '' || this.real.has(rel)) continue;
      const slash = rel.lastIndexOf('/');
      const parent = slash < 0 ? '' : rel.slice(0, slash);
      const names = byParent.get(parent);
      if (names) names.push(rel);
      else byParent.set(parent, [rel]);
    }
    for (const [parent, rels] of byParent) {
      if (rels.length < LISTED_FOLDER_MIN_PATHS) continue;
      let entries;
      try {
        entries = readdirSync(parent === '' ? this.root : `${this.root}${path.sep}${parent}`, { withFileTypes: true });
      } catch {
        continue; // no such folder, or not one: each path is checked on its own
      }
      const linkByName = new Map(entries.map((e) => [e.name, e.isSymbolicLink()]));
      const realParent = this.realOf(parent);
      for (const rel of rels) {
        const name = parent === '' ? rel : rel.slice(parent.length + 1);
        if (linkByName.get(name) !== false) continue;
        this.real.set(rel, realParent === null ? null : `${realParent}${path.sep}${name}`);
      }
    }
  }

  inside(rel: string): boolean {
    if (rel === '') return false;
    const r = this.realOf(rel);
    // Real paths are absolute and normalised: inside means the root itself or below it.
    return r !== null && (r === this.realRoot || r.startsWith(this.rootPrefix));
  }

  private realOf(rel: string): string | null {
    if (rel === '') return this.realRoot;
    const known = this.real.get(rel);
    if (known !== undefined) return known;
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    const abs = `${this.root}${path.sep}${rel}`;
    let st;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    let result: string | null;
    if (!st) result = this.realOf(parent);
    else if (st.isSymbolicLink()) {
      try {
        result = realpathSync(abs);
      } catch {
        result = null;
      }
    } else {
      const p = this.realOf(parent);
      result = p === null ? null : `${p}${path.sep}${rel.slice(slash + 1)}`;
    }
    this.real.set(rel, result);
    return result;
  }
}

function namedPipelineFile(root: string, given: string, view: FileSystemWorkspace): string {
  let rel: string | undefined;
  if (path.isAbsolute(given)) rel = view.relativePath(given);
  else {
    try {
      rel = normalizeRelativePath(given.split(path.sep).join('/'));
    } catch (e) {
      if (!(e instanceof PathOutsideWorkspaceError)) throw e;
    }
  }
  const fail = (message: string) => new PipelineLoadError(message, [{ file: given, line: 1, column: 1, code: 'bad-pipeline-file', message, severity: 'error' }]);
  if (rel === undefined) throw fail(`'${given}' is outside the workspace (${root})`);
  const { fileKindByName, isPipelineKind } = fileKinds();
  const kind = fileKindByName(rel);
  if (!kind || !isPipelineKind(kind)) throw fail(`'${given}' is not a pipeline file (runwise.yaml, *.pipeline.yaml or dvc.yaml)`);
  if (view.readFile(rel) === undefined) throw fail(`'${given}' does not exist`);
  return rel;
}

function toDiagnostic(file: string, lineStarts: number[], d: AnalysisDiagnostic): PipelineDiagnostic {
  const p = positionAt({ lineStarts }, d.start);
  return { file, line: p.line + 1, column: p.character + 1, code: d.code, message: d.message, severity: d.severity };
}

function stageDiagnostic(s: PipelineStage, code: string, message: string): PipelineDiagnostic {
  return { file: s.file, line: s.line, column: 1, code, message, severity: 'error' };
}

function refusal(diagnostics: PipelineDiagnostic[]): PipelineLoadError {
  const files = new Set(diagnostics.map((d) => d.file));
  const n = diagnostics.length;
  return new PipelineLoadError(`${n} error${n === 1 ? '' : 's'} in ${[...files].join(', ')}`, diagnostics);
}

type Problem = (node: { start: number }, code: string, message: string) => void;

function toStage(inst: StageInstance, file: string, isDefault: boolean, line: number, problem: Problem, links: LinkCheck): PipelineStage | undefined {
  const body = inst.decl.body;
  const keyNode = inst.decl.pair.key;
  let ok = true;
  const fail = (node: { start: number }, code: string, message: string) => {
    problem(node, code, message);
    ok = false;
  };
  if (inst.wdir === undefined) fail(keyNode, 'unresolved-wdir', `The working directory of stage '${inst.name}' does not resolve inside the workspace`);

  // Commands, substituted. (Loaded here, as the language service is: only a full load builds stages.)
  const { interpolateString } = require('../language/pipeline/interpolation') as typeof import('../language/pipeline/interpolation');
  const cmd: string[] = [];
  const cmdNode = valueOf(body, 'cmd');
  const cmdItems: (YamlNode | null)[] = asSeq(cmdNode)?.items ?? (cmdNode ? [cmdNode] : []);
  for (const item of cmdItems) {
    const raw = scalarText(item);
    if (raw === undefined) continue;
    // A mapping in a command is unpacked into options, as DVC does.
    const text = interpolateString(raw, inst.scope, { unpackMappings: true });
    if (text === undefined) fail(item ?? keyNode, 'unresolved-variable', `The command of stage '${inst.name}' has a \${...} that does not resolve (to a value, or a mapping of values)`);
    else cmd.push(text);
  }
  const step = inst.decl.step;
  if (step === undefined) fail(keyNode, 'no-command', `Stage '${inst.name}' has no command (cmd, or one built-in step)`);
  const builtin: BuiltinStepName | undefined = step !== undefined && step !== 'cmd' ? step : undefined;

  // Paths: inside the workspace, also after symbolic links.
  const pathOf = (ref: StageInstance['inputs'][number]): string | undefined => {
    if (ref.resolved?.kind === 'external') return undefined;
    if (ref.resolved?.kind !== 'inside') {
      fail(ref.node, 'path-outside-workspace', `'${ref.raw}' in stage '${inst.name}' ${ref.resolved?.kind === 'outside' ? ref.resolved.reason : 'does not resolve'}`);
      return undefined;
    }
    if (!links.inside(ref.resolved.path)) {
      fail(ref.node, 'path-outside-workspace', `'${ref.raw}' in stage '${inst.name}' leads out of the workspace through a symbolic link`);
      return undefined;
    }
    return ref.resolved.path;
  };
  const deps: string[] = [];
  for (const ref of inst.inputs) {
    const p = pathOf(ref);
    if (p !== undefined && !deps.includes(p)) deps.push(p);
  }
  // A plot's x and y may be `${...}` (`y: ${metric}`): resolved as the command is, else left out.
  const flags = outputFlags(body, (text) => interpolateString(text, inst.scope));
  const outs: StageOut[] = [];
  for (const ref of inst.outputs) {
    const p = pathOf(ref);
    if (p === undefined) continue;
    const kind = ref.field === 'metrics' || ref.field === 'plots' ? ref.field : 'out';
    const f = flags.get(ref.node);
    outs.push({ path: p, kind, cache: f?.cache ?? true, persist: f?.persist ?? false, ...(kind === 'plots' && f?.plot ? { plot: f.plot } : {}) });
  }

  const params: StageParams[] = [];
  for (const ref of inst.params) {
    if (ref.file === undefined) {
      fail(ref.node, 'path-outside-workspace', `The params file of '${scalarText(ref.node) ?? ''}' in stage '${inst.name}' is outside the workspace`);
      continue;
    }
    let entry = params.find((p) => p.file === ref.file);
    if (!entry) params.push((entry = { file: ref.file, keys: [] }));
    if (ref.key === undefined) entry.keys = undefined;
    else if (entry.keys && !entry.keys.includes(ref.key)) entry.keys.push(ref.key);
  }

  if (!ok) return undefined;
  return {
    id: stageIdOf(file, inst.name, isDefault),
    name: inst.name,
    file,
    line,
    cmd: builtin ? [] : cmd,
    ...(builtin ? { builtin, builtinConfig: (require('./builtinStepSettings') as typeof import('./builtinStepSettings')).builtinStepSettings(valueOf(body, builtin), inst.scope) } : {}),
    wdir: inst.wdir ?? '',
    deps,
    outs,
    params,
    frozen: asScalar(valueOf(body, 'frozen'))?.value === true,
    alwaysChanged: asScalar(valueOf(body, 'always_changed'))?.value === true,
  };
}

/** `cache:` and `persist:` of each `- path: {flags}` output (and a plot's x, y and template), by the path's key node. */
function outputFlags(body: ReturnType<typeof asMap>, resolve: (text: string) => string | undefined): Map<YamlScalar, { cache: boolean; persist: boolean; plot?: PlotProps }> {
  const out = new Map<YamlScalar, { cache: boolean; persist: boolean; plot?: PlotProps }>();
  for (const field of ['outs', 'metrics', 'plots']) {
    for (const item of asSeq(valueOf(body, field))?.items ?? []) {
      for (const p of asMap(item)?.items ?? []) {
        const m = asMap(p.value);
        const flags: { cache: boolean; persist: boolean; plot?: PlotProps } = { cache: asScalar(valueOf(m, 'cache'))?.value !== false, persist: asScalar(valueOf(m, 'persist'))?.value === true };
        if (field === 'plots' && m) {
          const text = (node: YamlNode | null) => {
            const raw = scalarText(node);
            return raw === undefined ? undefined : resolve(raw);
          };
          const x = text(valueOf(m, 'x'));
          const yNode = valueOf(m, 'y');
          const y = asSeq(yNode) ? asSeq(yNode)!.items.map(text).filter((t): t is string => t !== undefined) : text(yNode) !== undefined ? [text(yNode)!] : undefined;
          const template = text(valueOf(m, 'template'));
          const plot: PlotProps = { ...(x !== undefined ? { x } : {}), ...(y ? { y } : {}), ...(template !== undefined ? { template } : {}) };
          if (Object.keys(plot).length) flags.plot = plot;
        }
        out.set(p.key, flags);
      }
    }
  }
  return out;
}

/**
 * The files a pipeline file's top-level `plots:` draws with a confusion template (DVC 3's layout:
 * `- Confusion: {template: confusion, x: actual, y: {eval/cm/test.json: predicted}}`, or the file
 * as the entry's key), workspace-relative.
 */
function confusionPlotFiles(index: PipelineIndex, file: string): string[] {
  const dir = path.posix.dirname(file);
  const out: string[] = [];
  for (const item of asSeq(valueOf(asMap(index.doc.yaml.root), 'plots'))?.items ?? []) {
    for (const p of asMap(item)?.items ?? []) {
      const props = asMap(p.value);
      const template = scalarText(valueOf(props, 'template'));
      if (template === undefined || !LABEL_TEMPLATES.has(template)) continue;
      const y = asMap(valueOf(props, 'y'));
      const files = y ? y.items.map((f) => scalarText(f.key)) : [scalarText(p.key)];
      for (const f of files) if (f !== undefined) out.push(path.posix.normalize(dir === '.' ? f : `${dir}/${f}`));
    }
  }
  return out;
}

/** Stage plots outputs that are, or hold, a top-level confusion plot's file: no metric series are read from those files. */
function markLabelPlots(stages: PipelineStage[], files: readonly string[]): void {
  if (files.length === 0) return;
  for (const stage of stages) {
    for (const out of stage.outs) {
      if (out.kind !== 'plots') continue;
      if (files.includes(out.path)) out.plot = { ...out.plot, template: out.plot?.template ?? 'confusion' };
      const inside = files.filter((f) => f.startsWith(`${out.path}/`));
      if (inside.length) out.plot = { ...out.plot, labelFiles: inside };
    }
  }
}

function readGates(index: PipelineIndex, file: string, at: (node: { start: number }) => { line: number }, problem: Problem): GateRule[] {
  const rules: GateRule[] = [];
  for (const item of asSeq(valueOf(asMap(index.doc.yaml.root), 'gates'))?.items ?? []) {
    const m = asMap(item);
    if (!m || !item) continue;
    const metric = scalarText(valueOf(m, 'metric'));
    const op = scalarText(valueOf(m, 'op')) as GateOp | undefined;
    const valueNode = asScalar(valueOf(m, 'value'));
    const value = valueNode?.value;
    if (metric === undefined || op === undefined || !GATE_OPS.includes(op) || (typeof value !== 'number' && typeof value !== 'string')) {
      problem(item, 'invalid-gate', 'A gate needs `metric`, `op` (>=, >, <=, <, ==, !=) and a `value`');
      continue;
    }
    const stage = scalarText(valueOf(m, 'stage'));
    const model = scalarText(valueOf(m, 'model'));
    const message = scalarText(valueOf(m, 'message'))?.trim();
    rules.push({ file, line: at(item).line + 1, metric, op, value, ...(stage !== undefined ? { stage } : {}), ...(model !== undefined ? { model } : {}), ...(message ? { message } : {}) });
  }
  return rules;
}

/** Kahn's algorithm, the lowest index first among the ready stages (file then declaration order). */
function topologicalOrder(n: number, upstreamOf: (i: number) => number[]): number[] {
  const indegree = new Int32Array(n);
  const down: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (const u of upstreamOf(i)) {
      if (u === i) continue;
      indegree[i]!++;
      down[u]!.push(i);
    }
  }
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    for (let c = heap.length - 1; c > 0; ) {
      const p = (c - 1) >> 1;
      if (heap[p]! <= heap[c]!) break;
      [heap[p], heap[c]] = [heap[c]!, heap[p]!];
      c = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let p = 0; ; ) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < heap.length && heap[l]! < heap[m]!) m = l;
        if (r < heap.length && heap[r]! < heap[m]!) m = r;
        if (m === p) break;
        [heap[p], heap[m]] = [heap[m]!, heap[p]!];
        p = m;
      }
    }
    return top;
  };
  for (let i = 0; i < n; i++) if (indegree[i] === 0) push(i);
  const order: number[] = [];
  while (heap.length) {
    const v = pop();
    order.push(v);
    for (const w of down[v]!) if (--indegree[w]! === 0) push(w);
  }
  return order;
}
