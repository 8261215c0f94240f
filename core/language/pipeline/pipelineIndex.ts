/**
 * What the pipeline features know about one pipeline document, built once per document version:
 * its stages (with `foreach`/`matrix` expanded to DVC's generated names, `train@0`, `train@us`,
 * `train@cnn-32`), the paths each reads and writes after `${...}` substitution and `wdir`, the params
 * each tracks, the variables in scope, the datasets, and the StageGraph over them.
 *
 * It is the one explicit cache of the language analysis: the server may keep it per document
 * version; `isCurrent()` tells whether the workspace files it read (params and vars files) changed.
 */
import type { ParseYaml } from '../analyzeDocument';
import { isPipelineKind } from '../files/fileKinds';
import {
  interpolateString,
  dataNode,
  dataText,
  dvcText,
  resolveSegments,
  wholeSegments,
  type InterpolationScope,
  type ItemBinding,
  type VarsLayer,
} from './interpolation';
import type { AnalysisDiagnostic, AnalyzedDocument, Cancelled, WorkspaceView } from '../languageTypes';
import { DEFAULT_PARAMS_FILE, splitVarsEntry } from '../files/paramsFiles';
import { loadParamsFile, type ParamsFile } from '../files/paramsIndex';
import { BUILTIN_STEPS, DATA_EXTENSIONS, DRIFT_METRICS, metricsForTask, type BuiltinStep } from '../schema/builtinSteps';
import { StageGraph, type GraphStage } from './stageGraph';
import { parentDir, resolveWorkspacePath, type ResolvedPath } from '../files/workspacePaths';
import { asMap, asScalar, asSeq, deref, keyName, pairOf, scalarText, valueOf } from '../yaml/yamlAccess';
import { copiedNode, SHIFT_LINKS, shiftedFrom } from '../yaml/incrementalYaml';
import type { Span, YamlDocument, YamlMap, YamlNode, YamlPair, YamlScalar } from '../yaml/yamlTree';

/** Generated stages per foreach/matrix stage beyond which expansion stops (the rest is not checked). */
export const MAX_INSTANCES_PER_STAGE = 1000;

export type PathRole = 'dep' | 'out' | 'step-input' | 'step-output';

export interface PathRef {
  role: PathRole;
  /** Where it was declared: `deps`, `outs`, `metrics`, `plots`, `evaluate.model`, ... */
  field: string;
  /** The scalar in the document (for `- path: {flags}`, the key). */
  node: YamlScalar;
  raw: string;
  /** After `${...}` substitution; undefined when something does not resolve. */
  text: string | undefined;
  /** Relative to the stage's `wdir`; undefined when `text` or `wdir` is unresolved. */
  resolved: ResolvedPath | undefined;
  extensions?: readonly string[];
  /** The runner refuses a file without one of `extensions` (not merely unexpected). */
  strictType?: boolean;
}

export interface ParamRef {
  /** A key entry (`- train.lr`, or an item of `{file: [keys]}`), or the file key of `{file: }`. */
  node: YamlScalar;
  /** Workspace-relative params file; undefined when it is outside the workspace or unresolved. */
  file: string | undefined;
  /** Dotted key; undefined for a whole file (`{file: }` or `{file: []}`). */
  key: string | undefined;
  /** The `{file: ...}` key scalar, when the file is named explicitly. */
  fileNode: YamlScalar | undefined;
}

export interface StageInstance {
  /** `train`, or a generated `train@us`. */
  name: string;
  decl: StageDecl;
  /** The foreach key / matrix name fragment after `@`. */
  key: string | undefined;
  scope: InterpolationScope;
  /** Workspace-relative working directory; undefined when it does not resolve or leaves the workspace. */
  wdir: string | undefined;
  inputs: PathRef[];
  outputs: PathRef[];
  params: ParamRef[];
  /** `ds://name` dependencies. */
  datasets: { node: YamlScalar; name: string }[];
  /** Index into PipelineIndex.instances (and the graph). */
  index: number;
}

export type StageForm = 'plain' | 'foreach' | 'matrix';

export interface StageDecl {
  name: string;
  pair: YamlPair;
  /** The stage's mapping (null when it is not one). */
  map: YamlMap | null;
  /** The mapping with the stage's keys: `do` for foreach, the stage itself otherwise. */
  body: YamlMap | null;
  form: StageForm;
  /** What it runs: `cmd` or a built-in step (undefined when none or several). */
  step: 'cmd' | BuiltinStep | undefined;
  instances: StageInstance[];
  /** Expansion stopped at MAX_INSTANCES_PER_STAGE. */
  truncated: boolean;
  /** foreach/matrix data that did not resolve (`item` is then unknown). */
  unresolvedItems: boolean;
  /** Scope for the stage as written (the first generated stage's, or `item` unknown). */
  scope: InterpolationScope;
}

export interface VarsEntry {
  node: YamlScalar;
  /** Workspace-relative; undefined when outside or interpolated. */
  file: string | undefined;
  keys: string[] | undefined;
  /** Top-level (true) or stage `vars`. */
  topLevel: boolean;
}

export interface PipelineIndex {
  doc: AnalyzedDocument;
  /** Directory of the pipeline file ('' = workspace root). */
  dir: string;
  /** A Runwise pipeline (built-in steps and gates allowed) rather than dvc.yaml. */
  runwise: boolean;
  topScope: InterpolationScope;
  varsEntries: VarsEntry[];
  stages: StageDecl[];
  stageByName: ReadonlyMap<string, StageDecl>;
  instances: StageInstance[];
  instanceByName: ReadonlyMap<string, StageInstance>;
  graph: StageGraph;
  /** `datasets[].name` → its mapping. */
  datasets: ReadonlyMap<string, YamlMap>;
  /** Params/vars file (loaded on first use, kept in the index; undefined when it does not exist). */
  paramsFile(relPath: string): ParamsFile | undefined;
  /** The params/vars files loaded so far (what the next version's index may take over). */
  loadedParamsFiles: ReadonlyMap<string, ParamsFile | undefined>;
  /** Whether every workspace file the index read still has the text it read. */
  isCurrent(workspace: WorkspaceView): boolean;
  /** False when building was cancelled part way. */
  complete: boolean;
  /**
   * The workspace's other pipeline files, when the caller knows them (workspacePipelines.ts): what
   * their stages write, and the findings across files. Set by the analysis host and `runwise check`.
   */
  otherPipelines?: OtherPipelineFiles;
}

/** A stage of another pipeline file writing a path (its output's span is an offset in that file). */
export interface ForeignProducer {
  relPath: string;
  /** `train`, or a generated `train@us`. */
  stage: string;
  output: string;
  span: Span;
}

/** What the other pipeline files of a workspace contribute to one pipeline's analysis. */
export interface OtherPipelineFiles {
  /** Stages of pipeline files other than `exceptFile` whose outputs `path` is, lies in, or contains. */
  producersOf(path: string, exceptFile: string): ForeignProducer[];
  /** Findings across files for this pipeline (outputs also declared elsewhere, cycles across files); YAML offsets. */
  diagnosticsFor(index: PipelineIndex, cancelled?: Cancelled): AnalysisDiagnostic[];
  /** A value that changes whenever what `producersOf` answers may change (findings of a stage are kept while it is the same). */
  factsKey?(): unknown;
  /** The ids (as the runner addresses them: `train`, `sub/dvc.yaml:train`) of the stages of pipeline files other than `exceptFile`. */
  stageIdsExcept?(exceptFile: string): ReadonlySet<string>;
}

export interface BuildOptions {
  parse?: ParseYaml;
  cancelled?: Cancelled;
  /**
   * The index of the same document's previous version (the analysis host passes it): a stage whose
   * YAML is the very same nodes (a block the incremental parse reused), read with the same
   * top-level vars and params files, and at the same place among the generated stages, is taken
   * over instead of built again; so is a params file whose text is unchanged, and the graph when
   * every stage reads and writes the same paths. A stage whose YAML is a shifted copy of the
   * previous one (after an edit before it that changed the text's length) is taken over on the
   * same conditions, moved onto the copy's nodes (movedStage).
   */
  previous?: PipelineIndex;
  /** The current parse of a YAML file open in an editor, when `relPath` is one (the analysis host passes it). */
  openYaml?: (relPath: string) => { text: string; yaml: YamlDocument } | undefined;
}

/** The vars entries each stage declared (so a stage taken over declares them again). */
const stageVarsEntries = new WeakMap<StageDecl, VarsEntry[]>();

/** A stage taken over from the previous version onto a shifted copy of its YAML → that stage. */
const movedStages = new WeakMap<StageDecl, StageDecl>();

/**
 * The nearest earlier version of `decl` it was moved from (pipelineIndex's moveStage) that
 * `wanted` accepts, at most SHIFT_LINKS versions back, and how far every offset moved since.
 */
export function movedStage(decl: StageDecl, wanted: (earlier: StageDecl) => boolean = () => true): { from: StageDecl; delta: number } | undefined {
  let d = movedStages.get(decl);
  for (let i = 0; d && i < SHIFT_LINKS; i++, d = movedStages.get(d)) if (wanted(d)) return { from: d, delta: decl.pair.start - d.pair.start };
  return undefined;
}

function sameLayers(a: readonly VarsLayer[], b: readonly VarsLayer[]): boolean {
  const sameKeys = (x: readonly string[] | undefined, y: readonly string[] | undefined) => x === y || (!!x && !!y && x.length === y.length && x.every((k, i) => k === y[i]));
  return (
    a.length === b.length &&
    a.every((l, i) => {
      const m = b[i]!;
      return l.relPath === m.relPath && l.root === m.root && sameKeys(l.keys, m.keys) && l.origin?.start === m.origin?.start && l.origin?.end === m.origin?.end;
    })
  );
}

function sameGraphStages(a: readonly GraphStage[], b: readonly GraphStage[]): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((p, i) => p === y[i]);
  return a.length === b.length && a.every((s, i) => s === b[i] || (s.name === b[i]!.name && same(s.inputs, b[i]!.inputs) && same(s.outputs, b[i]!.outputs)));
}

/** A generated stage as the graph knows it: its name and the workspace paths it reads and writes. */
function graphStageOf(inst: StageInstance): GraphStage {
  return {
    name: inst.name,
    inputs: inst.inputs.flatMap((r) => (r.resolved?.kind === 'inside' ? [r.resolved.path] : [])),
    outputs: inst.outputs.flatMap((r) => (r.resolved?.kind === 'inside' ? [r.resolved.path] : [])),
  };
}

export function buildPipelineIndex(doc: AnalyzedDocument, workspace: WorkspaceView, options: BuildOptions = {}): PipelineIndex | undefined {
  if (!isPipelineKind(doc.kind)) return undefined;
  const { parse, openYaml } = options;
  const cancelled = options.cancelled ?? (() => false);
  const dir = parentDir(doc.relPath);
  const read = new Map<string, string | undefined>();
  const files = new Map<string, ParamsFile | undefined>();
  /**
   * The previous version's index, let go of when the build ends: the closures the index keeps
   * (paramsFile) would otherwise keep it, and through it every earlier version, alive.
   */
  let previous = options.previous;
  const priorFiles = previous?.loadedParamsFiles;
  /** An open editor's parse, or the previous version's load, of a file whose text is unchanged. */
  const loadedBefore = (relPath: string): ParamsFile | undefined => {
    const open = openYaml?.(relPath);
    const prior = priorFiles?.get(relPath);
    if (!open && !prior) return undefined;
    const text = workspace.readFile(relPath);
    if (prior && prior.text === text) return prior;
    return open && open.text === text ? { relPath, text, doc: open.yaml } : undefined;
  };
  const paramsFile = (relPath: string): ParamsFile | undefined => {
    if (files.has(relPath)) return files.get(relPath);
    const f = loadedBefore(relPath) ?? loadParamsFile(workspace, relPath, parse);
    files.set(relPath, f);
    read.set(relPath, f?.text);
    return f;
  };

  const root = asMap(doc.yaml.root);
  const varsEntries: VarsEntry[] = [];
  const topLayers = varsLayers(valueOf(root, 'vars'), dir, true, paramsFile, varsEntries);
  const defaultParams = resolveWorkspacePath(dir, DEFAULT_PARAMS_FILE);
  if (defaultParams.kind === 'inside') {
    const f = paramsFile(defaultParams.path);
    if (f?.doc) topLayers.push({ relPath: f.relPath, root: f.doc.root });
  }
  const topScope: InterpolationScope = { layers: topLayers };

  const datasets = new Map<string, YamlMap>();
  for (const item of asSeq(valueOf(root, 'datasets'))?.items ?? []) {
    const m = asMap(item);
    const name = scalarText(valueOf(m, 'name'));
    if (m && name !== undefined && !datasets.has(name)) datasets.set(name, m);
  }

  const runwise = doc.kind === 'runwise-pipeline';
  const stages: StageDecl[] = [];
  const instances: StageInstance[] = [];
  const stageByName = new Map<string, StageDecl>();
  const instanceByName = new Map<string, StageInstance>();
  let complete = true;
  const stagesMap = asMap(valueOf(root, 'stages'));
  const stagePairs = stagesMap?.items ?? [];
  let previousStages =
    previous && previous.complete && previous.dir === dir && previous.runwise === runwise && sameLayers(previous.topScope.layers, topLayers)
      ? new Map(previous.stages.map((d) => [d.pair, d]))
      : undefined;
  const inPrevious = (p: YamlPair) => previousStages!.has(p);
  /**
   * The previous version's stage for this very pair, or for the pair it is a shifted copy of
   * (moved onto the copy), when everything it read is unchanged.
   */
  const takeOver = (pair: YamlPair): StageDecl | undefined => {
    if (!previousStages) return undefined;
    let decl = previousStages.get(pair);
    const original = decl ? undefined : shiftedFrom(pair, inPrevious);
    if (original) decl = previousStages.get(original);
    const entries = decl && stageVarsEntries.get(decl);
    if (!decl || !entries) return undefined;
    if (!decl.instances.every((inst, i) => inst.index === instances.length + i)) return undefined;
    if (!entries.every((e) => e.file === undefined || paramsFile(e.file) === previous!.loadedParamsFiles.get(e.file))) return undefined;
    if (original) return moveStage(decl, original, pair, previous!.topScope.layers, topLayers, varsEntries);
    for (const e of entries) varsEntries.push(e);
    return decl;
  };
  /**
   * What the graph knows of each generated stage: a stage taken over is at its previous place
   * among the generated stages, with the same name and paths (the previous graph's entry).
   */
  const graphStages: GraphStage[] = [];
  for (let s = 0; s < stagePairs.length; s++) {
    if ((s & 63) === 63 && cancelled()) {
      complete = false;
      break;
    }
    let decl = takeOver(stagePairs[s]!);
    const takenOver = decl !== undefined;
    if (!decl) {
      const first = varsEntries.length;
      decl = buildStage(stagePairs[s]!, { dir, topScope, paramsFile, varsEntries, runwise });
      stageVarsEntries.set(decl, varsEntries.slice(first));
    }
    stages.push(decl);
    if (!stageByName.has(decl.name)) stageByName.set(decl.name, decl);
    for (const inst of decl.instances) {
      inst.index = instances.length;
      instances.push(inst);
      if (!instanceByName.has(inst.name)) instanceByName.set(inst.name, inst);
      graphStages.push(takenOver ? previous!.graph.stages[inst.index]! : graphStageOf(inst));
    }
  }

  const graph = previous && sameGraphStages(previous.graph.stages, graphStages) ? previous.graph : new StageGraph(graphStages);
  previous = undefined;
  previousStages = undefined;

  return {
    doc,
    dir,
    runwise,
    topScope,
    varsEntries,
    stages,
    stageByName,
    instances,
    instanceByName,
    graph,
    datasets,
    paramsFile,
    loadedParamsFiles: files,
    isCurrent: (ws) => [...read].every(([p, text]) => ws.readFile(p) === text),
    complete,
  };
}

/** What moving one stage onto a shifted copy of its YAML needs (moveStage). */
interface StageMove {
  original: YamlPair;
  copy: YamlPair;
  delta: number;
  /** How many top-level vars layers end each of the stage's layer lists, and the new index's. */
  topCount: number;
  newTop: readonly VarsLayer[];
  layers: Map<readonly VarsLayer[], readonly VarsLayer[]>;
  scopes: Map<InterpolationScope, InterpolationScope>;
}

/**
 * The stage `decl` (built on `original`) moved onto `copy`, a shifted copy of it: the same
 * declaration, instances, scopes and references, every YAML node of the stage replaced by its
 * copy and every span in it shifted; the top-level vars layers are the new index's (the caller
 * checked they are the same). What buildStage would give on `copy`, without resolving anything again.
 */
function moveStage(
  decl: StageDecl,
  original: YamlPair,
  copy: YamlPair,
  oldTop: readonly VarsLayer[],
  newTop: readonly VarsLayer[],
  varsEntries: VarsEntry[],
): StageDecl {
  const m: StageMove = { original, copy, delta: copy.start - original.start, topCount: oldTop.length, newTop, layers: new Map([[oldTop, newTop]]), scopes: new Map() };
  const moved: StageDecl = {
    name: decl.name,
    pair: copy,
    map: movedNodeOrNull(m, decl.map),
    body: movedNodeOrNull(m, decl.body),
    form: decl.form,
    step: decl.step,
    instances: [],
    truncated: decl.truncated,
    unresolvedItems: decl.unresolvedItems,
    scope: decl.scope,
  };
  for (const inst of decl.instances) {
    const inputs: PathRef[] = [];
    const outputs: PathRef[] = [];
    const params: ParamRef[] = [];
    const datasets: StageInstance['datasets'] = [];
    for (const r of inst.inputs) inputs.push(movedRef(m, r));
    for (const r of inst.outputs) outputs.push(movedRef(m, r));
    for (const p of inst.params) params.push({ node: movedNode(m, p.node), file: p.file, key: p.key, fileNode: p.fileNode && movedNode(m, p.fileNode) });
    for (const d of inst.datasets) datasets.push({ node: movedNode(m, d.node), name: d.name });
    moved.instances.push({ name: inst.name, decl: moved, key: inst.key, scope: movedScope(m, inst.scope), wdir: inst.wdir, inputs, outputs, params, datasets, index: inst.index });
  }
  moved.scope = movedScope(m, decl.scope);
  const entries: VarsEntry[] = [];
  for (const e of stageVarsEntries.get(decl) ?? []) {
    const entry = { node: movedNode(m, e.node), file: e.file, keys: e.keys, topLevel: e.topLevel };
    entries.push(entry);
    varsEntries.push(entry);
  }
  stageVarsEntries.set(moved, entries);
  movedStages.set(moved, decl);
  // A longer chain of moves would keep every earlier version's stage alive.
  let earlier: StageDecl | undefined = decl;
  for (let n = 1; earlier && n < SHIFT_LINKS; n++) earlier = movedStages.get(earlier);
  if (earlier) movedStages.delete(earlier);
  return moved;
}

/** A node of the stage → its copy; any other node (the top-level vars', a params file's) is kept. */
function movedNode<T extends YamlNode | YamlPair>(m: StageMove, n: T): T {
  return copiedNode(m.original, m.copy, n) ?? n;
}

function movedNodeOrNull<T extends YamlNode>(m: StageMove, n: T | null): T | null {
  return n === null ? null : movedNode(m, n);
}

function movedRef(m: StageMove, r: PathRef): PathRef {
  return { role: r.role, field: r.field, node: movedNode(m, r.node), raw: r.raw, text: r.text, resolved: r.resolved, extensions: r.extensions };
}

/**
 * A stage's layers are its own vars entries, then the top-level ones (buildStage): the same as the
 * previous index's (the caller checked), maybe as equal objects of an earlier version.
 */
function movedLayers(m: StageMove, layers: readonly VarsLayer[]): readonly VarsLayer[] {
  let out = m.layers.get(layers);
  if (out) return out;
  const own = layers.length - m.topCount;
  const list: VarsLayer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    if (i >= own) {
      list.push(m.newTop[i - own]!);
      continue;
    }
    // A stage's own vars entry: its origin is a node of the stage, its root one too unless it is a file's.
    const moved: VarsLayer = { relPath: l.relPath, root: l.relPath === '' ? movedNodeOrNull(m, l.root) : l.root };
    if (l.keys) moved.keys = l.keys;
    if (l.origin) moved.origin = { start: l.origin.start + m.delta, end: l.origin.end + m.delta };
    list.push(moved);
  }
  m.layers.set(layers, (out = list));
  return out;
}

function movedScope(m: StageMove, scope: InterpolationScope): InterpolationScope {
  let out = m.scopes.get(scope);
  if (out) return out;
  let item = scope.item;
  // The scope the item's data resolves in: the stage's, without the item (see ItemBinding).
  if (item?.kind === 'node') {
    const data = item.data ? { data: movedScope(m, item.data) } : {};
    item = { kind: 'node', node: item.relPath === '' ? movedNodeOrNull(m, item.node) : item.node, relPath: item.relPath, ...data };
  } else if (item?.kind === 'matrix') {
    // Matrix values may come from a params file whatever relPath says: those are not in the stage and are kept.
    const values = new Map<string, YamlNode | null>();
    for (const [k, v] of item.values) values.set(k, movedNodeOrNull(m, v));
    const data = item.data ? { data: new Map([...item.data].map(([k, scope]) => [k, movedScope(m, scope)] as const)) } : {};
    item = { kind: 'matrix', values, relPath: item.relPath, ...data };
  }
  out = { layers: movedLayers(m, scope.layers), item, key: scope.key };
  m.scopes.set(scope, out);
  return out;
}

interface StageBuildContext {
  dir: string;
  topScope: InterpolationScope;
  paramsFile: (relPath: string) => ParamsFile | undefined;
  varsEntries: VarsEntry[];
  runwise: boolean;
}

function varsLayers(
  node: YamlNode | null,
  baseDir: string | undefined,
  topLevel: boolean,
  paramsFile: (relPath: string) => ParamsFile | undefined,
  entries: VarsEntry[],
): VarsLayer[] {
  const layers: VarsLayer[] = [];
  for (const item of asSeq(node)?.items ?? []) {
    const m = asMap(item);
    if (m) {
      layers.push({ relPath: '', root: m, origin: { start: m.start, end: m.end } });
      continue;
    }
    const s = asScalar(item);
    if (!s || typeof s.value !== 'string') continue;
    const { file, keys } = splitVarsEntry(s.value);
    const r = baseDir !== undefined && !file.includes('${') ? resolveWorkspacePath(baseDir, file) : undefined;
    const rel = r?.kind === 'inside' ? r.path : undefined;
    entries.push({ node: s, file: rel, keys, topLevel });
    if (rel === undefined) continue;
    const f = paramsFile(rel);
    if (f?.doc) layers.push({ relPath: rel, root: f.doc.root, keys, origin: { start: s.start, end: s.end } });
  }
  return layers;
}

function buildStage(pair: YamlPair, ctx: StageBuildContext): StageDecl {
  const name = keyName(pair);
  const map = asMap(pair.value);
  const hasForeach = !!pairOf(map, 'foreach');
  const hasMatrix = !!pairOf(map, 'matrix');
  const form: StageForm = hasForeach || pairOf(map, 'do') ? 'foreach' : hasMatrix ? 'matrix' : 'plain';
  const body = form === 'foreach' ? asMap(valueOf(map, 'do')) : map;
  const stepKeys = ['cmd', ...(ctx.runwise ? BUILTIN_STEPS : [])].filter((k) => pairOf(body, k));
  const step = stepKeys.length === 1 ? (stepKeys[0] as StageDecl['step']) : undefined;
  const decl: StageDecl = {
    name,
    pair,
    map,
    body,
    form,
    step,
    instances: [],
    truncated: false,
    unresolvedItems: false,
    scope: ctx.topScope,
  };

  // Stage vars (relative to the stage's directory, which may itself need them: take the
  // pipeline directory when wdir is interpolated).
  const wdirRaw = scalarText(valueOf(body, 'wdir'));
  const wdirStatic = wdirRaw === undefined ? ctx.dir : wdirRaw.includes('${') ? undefined : resolvedDir(ctx.dir, wdirRaw);
  const stageVarsNode = valueOf(body, 'vars');
  const stageLayers = stageVarsNode ? varsLayers(stageVarsNode, wdirStatic ?? ctx.dir, false, ctx.paramsFile, ctx.varsEntries) : [];
  const baseLayers = stageLayers.length ? [...stageLayers, ...ctx.topScope.layers] : ctx.topScope.layers;
  const baseScope: InterpolationScope = { layers: baseLayers };

  const bindings: { suffix: string | undefined; item?: ItemBinding; key?: string }[] = [];
  if (form === 'foreach') {
    const data = resolveData(valueOf(map, 'foreach'), baseScope);
    if (!data) {
      decl.unresolvedItems = true;
      bindings.push({ suffix: undefined, item: { kind: 'unknown' } });
    } else {
      const { node: items, relPath } = data;
      // Data written in the pipeline file is resolved in the stage's scope, as DVC resolves it
      // before binding `item`; values that come from a params file (`foreach: ${models}`) are
      // taken as they are written there.
      const inline = relPath === '' ? baseScope : undefined;
      const m = asMap(items);
      const seq = asSeq(items);
      if (m) {
        for (const p of m.items) {
          if (bindings.length >= MAX_INSTANCES_PER_STAGE) {
            decl.truncated = true;
            break;
          }
          const key = inline ? (interpolateString(keyName(p), inline) ?? keyName(p)) : keyName(p);
          bindings.push({ suffix: key, item: { kind: 'node', node: p.value, relPath, data: inline }, key });
        }
      } else if (seq) {
        const composite = seq.items.some((it) => {
          const d = deref(dataNode(it, inline));
          return d !== null && d.kind !== 'scalar';
        });
        seq.items.forEach((it, i) => {
          if (bindings.length >= MAX_INSTANCES_PER_STAGE) {
            decl.truncated = true;
            return;
          }
          bindings.push({ suffix: composite ? String(i) : inline ? dataText(it, inline) : dvcText(asScalar(it)), item: { kind: 'node', node: it, relPath, data: inline } });
        });
      } else {
        decl.unresolvedItems = true;
        bindings.push({ suffix: undefined, item: { kind: 'unknown' } });
      }
    }
  } else if (form === 'matrix') {
    const dims: { name: string; values: (YamlNode | null)[]; data: InterpolationScope | undefined }[] = [];
    let ok = true;
    for (const p of asMap(valueOf(map, 'matrix'))?.items ?? []) {
      const data = resolveData(p.value, baseScope);
      const seq = asSeq(data?.node ?? null);
      if (!seq) ok = false;
      // As foreach data: values written here are resolved in the stage's scope, a params file's are not.
      else dims.push({ name: keyName(p), values: seq.items, data: data!.relPath === '' ? baseScope : undefined });
    }
    if (!ok || dims.length === 0) {
      decl.unresolvedItems = true;
      bindings.push({ suffix: undefined, item: { kind: 'unknown' } });
    } else {
      const total = dims.reduce((n, d) => n * d.values.length, 1);
      if (total > MAX_INSTANCES_PER_STAGE) decl.truncated = true;
      const count = Math.min(total, MAX_INSTANCES_PER_STAGE);
      for (let c = 0; c < count; c++) {
        let rest = c;
        const chosen: (YamlNode | null)[] = new Array(dims.length);
        const fragments: string[] = new Array(dims.length);
        for (let d = dims.length - 1; d >= 0; d--) {
          const dim = dims[d]!;
          const i = rest % dim.values.length;
          rest = Math.floor(rest / dim.values.length);
          const v = dim.values[i] ?? null;
          const dv = deref(dataNode(v, dim.data));
          chosen[d] = v;
          fragments[d] = dv && dv.kind !== 'scalar' ? `${dim.name}${i}` : dim.data ? dataText(v, dim.data) : dvcText(asScalar(v));
        }
        const values = new Map<string, YamlNode | null>(dims.map((dim, d) => [dim.name, chosen[d] ?? null]));
        // DVC defines `key` in a matrix stage too: the generated name's part after `@`.
        const suffix = fragments.join('-');
        const data = new Map(dims.flatMap((dim) => (dim.data ? [[dim.name, dim.data] as const] : [])));
        bindings.push({ suffix, item: { kind: 'matrix', values, relPath: '', ...(data.size ? { data } : {}) }, key: suffix });
      }
    }
  } else {
    bindings.push({ suffix: undefined });
  }

  for (const b of bindings) {
    const scope: InterpolationScope = { layers: baseLayers, item: b.item, key: b.key };
    const instName = b.suffix === undefined ? name : `${name}@${b.suffix}`;
    decl.instances.push(buildInstance(decl, instName, b.suffix, scope, ctx));
  }
  decl.scope = decl.instances[0]?.scope ?? baseScope;
  return decl;
}

function resolvedDir(base: string, wdir: string): string | undefined {
  const r = resolveWorkspacePath(base, wdir);
  return r.kind === 'inside' ? r.path : undefined;
}

/** foreach/matrix data: the node itself, or what a whole `${...}` string refers to. */
function resolveData(node: YamlNode | null, scope: InterpolationScope): { node: YamlNode | null; relPath: string } | undefined {
  const s = asScalar(node);
  if (s && typeof s.value === 'string') {
    const segments = wholeSegments(s);
    if (!segments) return undefined;
    const r = resolveSegments(segments, scope);
    return r.kind === 'found' ? { node: r.node, relPath: r.relPath } : undefined;
  }
  return node ? { node, relPath: '' } : undefined;
}

/** The paths each built-in step reads and writes, with the file types expected. */
/** `strict`: the runner refuses a file of another type (a dataset by its extension, a card by its name), so the editor says so as an error. */
const STEP_IO: Record<BuiltinStep, { inputs: [string, (readonly string[])?, boolean?][]; outputs: [string, (readonly string[])?][] }> = {
  evaluate: { inputs: [['model', ['.onnx']], ['data', DATA_EXTENSIONS, true]], outputs: [['output', ['.json']]] },
  register: { inputs: [['model'], ['card', ['.md', '.modelcard.yaml', '.modelcard.yml', 'model_card.json', 'model-card.json', 'modelcard.json'], true]], outputs: [] },
  drift: { inputs: [['reference', DATA_EXTENSIONS, true], ['current', DATA_EXTENSIONS, true]], outputs: [['output', ['.json']]] },
};

function buildInstance(decl: StageDecl, name: string, key: string | undefined, scope: InterpolationScope, ctx: StageBuildContext): StageInstance {
  const body = decl.body;
  const wdirRaw = scalarText(valueOf(body, 'wdir'));
  let wdir: string | undefined = ctx.dir;
  if (wdirRaw !== undefined) {
    const t = interpolateString(wdirRaw, scope);
    wdir = t === undefined ? undefined : resolvedDir(ctx.dir, t);
  }
  const inst: StageInstance = { name, decl, key, scope, wdir, inputs: [], outputs: [], params: [], datasets: [], index: -1 };
  const ref = (role: PathRole, field: string, node: YamlScalar, extensions?: readonly string[], strictType?: boolean): PathRef => {
    const raw = typeof node.value === 'string' ? node.value : String(node.value);
    const text = interpolateString(raw, scope);
    const resolved = text === undefined || wdir === undefined ? undefined : resolveWorkspacePath(wdir, text);
    return { role, field, node, raw, text, resolved, extensions, ...(strictType ? { strictType } : {}) };
  };

  for (const item of asSeq(valueOf(body, 'deps'))?.items ?? []) {
    const s = asScalar(item);
    if (!s || s.value === null) continue;
    const v = String(s.value);
    if (v.startsWith('ds://')) inst.datasets.push({ node: s, name: v.slice(5) });
    else inst.inputs.push(ref('dep', 'deps', s));
  }
  for (const field of ['outs', 'metrics', 'plots']) {
    for (const item of asSeq(valueOf(body, field))?.items ?? []) {
      const s = asScalar(item);
      if (s && s.value !== null) inst.outputs.push(ref('out', field, s));
      for (const p of asMap(item)?.items ?? []) if (p.key.value !== null) inst.outputs.push(ref('out', field, p.key));
    }
  }
  if (ctx.runwise) {
    for (const step of BUILTIN_STEPS) {
      const cfg = asMap(valueOf(body, step));
      if (!cfg) continue;
      for (const [field, ext, strict] of STEP_IO[step].inputs) {
        const s = asScalar(valueOf(cfg, field));
        if (s && s.value !== null) inst.inputs.push(ref('step-input', `${step}.${field}`, s, ext, strict));
      }
      for (const [field, ext] of STEP_IO[step].outputs) {
        const s = asScalar(valueOf(cfg, field));
        if (s && s.value !== null) inst.outputs.push(ref('step-output', `${step}.${field}`, s, ext));
      }
    }
  }
  const defaultFile = wdir === undefined ? undefined : resolvedDir(wdir, DEFAULT_PARAMS_FILE);
  for (const entry of asSeq(valueOf(body, 'params'))?.items ?? []) {
    const s = asScalar(entry);
    if (s && s.value !== null) {
      inst.params.push({ node: s, file: defaultFile, key: interpolateString(String(s.value), scope) ?? String(s.value), fileNode: undefined });
      continue;
    }
    for (const p of asMap(entry)?.items ?? []) {
      const fileText = interpolateString(keyName(p), scope);
      const file = fileText === undefined || wdir === undefined ? undefined : resolvedDir(wdir, fileText);
      const keys = asSeq(p.value)?.items ?? [];
      const keyScalars = keys.map((k) => asScalar(k)).filter((k): k is YamlScalar => !!k && k.value !== null);
      if (keyScalars.length === 0) inst.params.push({ node: p.key, file, key: undefined, fileNode: p.key });
      for (const k of keyScalars) inst.params.push({ node: k, file, key: String(k.value), fileNode: p.key });
    }
  }
  return inst;
}

/** The stage declared under `name`, or the one that generates the instance named so (`train@small`). */
export function stageDeclNamed(index: Pick<PipelineIndex, 'stageByName' | 'instanceByName'>, name: string | undefined): StageDecl | undefined {
  return name === undefined ? undefined : (index.stageByName.get(name) ?? index.instanceByName.get(name)?.decl);
}

/**
 * The stage whose metrics a gate reads, as the runner finds it (core/pipeline/gates.ts gateTarget):
 * the prefix of `stage:metric` when it names a stage, else the gate's `stage:`.
 */
export function gateStageDecl(index: Pick<PipelineIndex, 'stageByName' | 'instanceByName'>, metric: string | undefined, stage: string | undefined): StageDecl | undefined {
  const colon = metric?.lastIndexOf(':') ?? -1;
  return (colon > 0 ? stageDeclNamed(index, metric!.slice(0, colon)) : undefined) ?? stageDeclNamed(index, stage);
}

/**
 * The file's `register` steps: the model name and alias each writes, one per stage a `foreach` or
 * `matrix` makes (`churn-${key}` → `churn-eu`, `churn-us`, as the run resolves them); a value whose
 * `${...}` does not resolve is given as written.
 */
export function registerSteps(index: Pick<PipelineIndex, 'stages' | 'instances'>): { name: string | undefined; alias: string | undefined }[] {
  return index.stages.flatMap((d) => {
    const register = asMap(valueOf(d.body, 'register'));
    if (!register) return [];
    const written = (key: string) => scalarText(valueOf(register, key));
    const instances = index.instances.filter((i) => i.decl === d);
    if (instances.length === 0) return [{ name: written('name'), alias: written('alias') }];
    return instances.map((inst) => {
      const resolved = (key: string) => {
        const raw = written(key);
        return raw !== undefined && raw.includes('${') ? (interpolateString(raw, inst.scope) ?? raw) : raw;
      };
      return { name: resolved('name'), alias: resolved('alias') };
    });
  });
}

/** Metrics a stage is known to produce (undefined when not known, e.g. a `cmd` stage). */
export function knownStageMetrics(decl: StageDecl): readonly string[] | undefined {
  const evaluate = asMap(valueOf(decl.body, 'evaluate'));
  if (evaluate) {
    const listed = (asSeq(valueOf(evaluate, 'metrics'))?.items ?? []).map((n) => scalarText(n)).filter((v): v is string => v !== undefined);
    if (listed.length) return listed;
    return metricsForTask(scalarText(valueOf(evaluate, 'task')));
  }
  if (asMap(valueOf(decl.body, 'drift'))) return DRIFT_METRICS;
  return undefined;
}
