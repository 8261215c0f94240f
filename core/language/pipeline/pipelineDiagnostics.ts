/**
 * The checks of a pipeline beyond its schema, on the PipelineIndex: `${...}` that resolve to
 * nothing, params keys missing from their file, missing vars/params files, paths that do not exist
 * (warning) or leave the workspace (error), unknown `ds://` datasets, two stages writing the same
 * output, dependency cycles, gates naming unknown stages or metrics, evaluate metrics that do not
 * fit the task, invalid stage names. Spans are YAML offsets.
 */
import { boundedList, clip, formatSegments, interpolateString, resolveSegments, scalarInterpolations, scanInterpolations, wholeSegments, type InterpolationScope, type VarsLayer } from './interpolation';
import type { AnalysisDiagnostic, Cancelled, WorkspaceView } from '../languageTypes';
import { isParamGlob, lookupParam, matchesParamGlob, type ParamsFile } from '../files/paramsIndex';
import { GateSyntaxError, isAliasScope, parseGateValue, referencesOf } from './gateExpression';
import { didYouMean } from '../schema/didYouMean';
import { knownStageMetrics, movedStage, registerSteps, stageDeclNamed, type PathRef, type PipelineIndex, type StageDecl, type StageInstance } from './pipelineIndex';
import { EVALUATION_TASKS, metricsForTask } from '../schema/builtinSteps';
import { resolveWorkspacePath } from '../files/workspacePaths';
import { asMap, asScalar, asSeq, keyName, scalarText, valueOf } from '../yaml/yamlAccess';
import type { Span, YamlMap, YamlNode, YamlScalar } from '../yaml/yamlTree';

/** Characters DVC refuses in stage names (`@` is reserved for generated names). */
const INVALID_STAGE_NAME_CHARS = /[,.:;/\\@]/;

export function pipelineDiagnostics(index: PipelineIndex, workspace: WorkspaceView, cancelled: Cancelled): AnalysisDiagnostic[] {
  const out: AnalysisDiagnostic[] = [];
  const reported = new Set<string>();
  /** One diagnostic per code and span, however many generated stages hit it. */
  const report = (d: AnalysisDiagnostic) => {
    const k = `${d.code}:${d.start}:${d.end}`;
    if (reported.has(k)) return;
    reported.add(k);
    out.push(d);
  };
  const existsMemo = new Map<string, boolean>();
  const exists = (p: string) => {
    let e = existsMemo.get(p);
    if (e === undefined) existsMemo.set(p, (e = p === '' || workspace.exists(p)));
    return e;
  };

  checkVarsEntries(index, report);
  checkVarsRedefinitions(index, report);
  checkVarsLiteral(valueOf(asMap(index.doc.yaml.root), 'vars'), 'vars', report);
  const isDirectory = (p: string) => p !== '' && workspace.readFile(p) === undefined && workspace.listDir(p) !== undefined;
  checkTopLevelPaths(index, exists, isDirectory, report);
  const memo = stageFindingsMemo(index, workspace);
  for (let i = 0; i < index.stages.length; i++) {
    if ((i & 31) === 31 && cancelled()) return out;
    const decl = index.stages[i]!;
    const kept = memo.get(decl);
    if (kept) {
      for (const d of kept) report({ ...d });
      continue;
    }
    const found: AnalysisDiagnostic[] = [];
    const foundKeys = new Set<string>();
    const stageReport = (d: AnalysisDiagnostic) => {
      const k = `${d.code}:${d.start}:${d.end}`;
      if (foundKeys.has(k)) return;
      foundKeys.add(k);
      found.push(d);
    };
    memo.reading.length = 0;
    checkStageName(decl, stageReport);
    checkVarsLiteral(valueOf(decl.body, 'vars'), `stages.${decl.name}.vars`, stageReport);
    checkInterpolations(decl, stageReport);
    for (const inst of decl.instances) {
      checkWdir(inst, stageReport);
      for (const ref of inst.inputs) checkPath(index, ref, inst, exists, stageReport);
      for (const ref of inst.outputs) checkPath(index, ref, inst, exists, stageReport);
      checkParams(memo.recording, inst, isDirectory, stageReport);
      for (const ds of inst.datasets) {
        if (!index.datasets.has(ds.name)) {
          stageReport(at(ds.node, 'error', 'unknown-dataset', `Dataset '${clip(ds.name)}' is not declared in the top-level 'datasets'.`, { name: ds.name }));
        }
      }
    }
    checkEvaluateMetrics(decl, stageReport);
    checkInterpolatedSettings(decl, stageReport);
    memo.set(decl, found);
    for (const d of found) report({ ...d });
  }
  if (cancelled()) return out;
  checkOutputs(index, report);
  checkCycles(index, report);
  checkGates(index, report);
  return out;
}

type Report = (d: AnalysisDiagnostic) => void;

/**
 * How long a stage's findings are kept without a change notice (`workspaceFilesChanged`): they
 * answer whether paths exist, which the workspace view itself trusts for 2 s.
 */
export const STAGE_FINDINGS_TTL_MS = 1000;

/** The findings of one stage and everything outside the stage they were computed against. */
interface StageFindings {
  list: AnalysisDiagnostic[];
  at: number;
  epoch: number;
  workspace: WorkspaceView;
  graph: PipelineIndex['graph'];
  others: unknown;
  datasets: string;
  /** Params files the checks read, and what they were. */
  files: [string, ParamsFile | undefined][];
}

/**
 * Findings per stage declaration. A stage the next version's index took over (pipelineIndex.ts,
 * BuildOptions.previous) is the same object with the same nodes, resolved paths and scope; its
 * findings are taken over too while what they read outside the stage is the same: the graph of
 * the pipeline (produced paths), the other pipeline files' facts, the declared datasets, the
 * params files read, and what the workspace said about paths (no change notice, not older than
 * STAGE_FINDINGS_TTL_MS). A stage moved onto a shifted copy of its YAML (pipelineIndex.ts,
 * movedStage) takes over the findings of the stage it was moved from, shifted by as much.
 */
const stageFindings = new WeakMap<StageDecl, StageFindings>();
const hasStageFindings = (decl: StageDecl) => stageFindings.has(decl);
const workspaceEpochs = new WeakMap<WorkspaceView, number>();

/** Files were created, deleted or changed in the workspace: stage findings about paths are computed again. */
export function workspaceFilesChanged(workspace: WorkspaceView): void {
  workspaceEpochs.set(workspace, (workspaceEpochs.get(workspace) ?? 0) + 1);
}

function stageFindingsMemo(index: PipelineIndex, workspace: WorkspaceView) {
  const now = Date.now();
  const epoch = workspaceEpochs.get(workspace) ?? 0;
  const others = index.otherPipelines?.factsKey?.();
  const datasets = [...index.datasets.keys()].join('\n');
  const reading: [string, ParamsFile | undefined][] = [];
  /** Whether findings still hold: computed against the same workspace, graph, facts, datasets and params files. */
  const current = (k: StageFindings): boolean =>
    k.workspace === workspace &&
    k.epoch === epoch &&
    now - k.at < STAGE_FINDINGS_TTL_MS &&
    k.graph === index.graph &&
    k.others === others &&
    k.datasets === datasets &&
    k.files.every(([rel, f]) => index.paramsFile(rel) === f);
  const recording: PipelineIndex = {
    ...index,
    paramsFile: (relPath) => {
      const f = index.paramsFile(relPath);
      reading.push([relPath, f]);
      return f;
    },
  };
  return {
    reading,
    recording,
    get(decl: StageDecl): AnalysisDiagnostic[] | undefined {
      const own = stageFindings.get(decl);
      if (own) return current(own) ? own.list : undefined;
      const moved = movedStage(decl, hasStageFindings);
      const k = moved && stageFindings.get(moved.from);
      if (!moved || !k || !current(k)) return undefined;
      // Every finding of a stage lies in the stage; one that does not is not shifted blindly.
      const { start, end } = moved.from.pair;
      if (!k.list.every((d) => d.start >= start && d.end <= end)) return undefined;
      const list = k.list.map((d) => ({ ...d, start: d.start + moved.delta, end: d.end + moved.delta }));
      stageFindings.set(decl, { ...k, list });
      return list;
    },
    set(decl: StageDecl, list: AnalysisDiagnostic[]): void {
      // Without the other files' facts (no key for them) nothing is kept.
      if (index.otherPipelines && others === undefined) return;
      stageFindings.set(decl, { list: list.map((d) => ({ ...d })), at: now, epoch, workspace, graph: index.graph, others, datasets, files: [...reading] });
    },
  };
}

function at(span: Span, severity: AnalysisDiagnostic['severity'], code: string, message: string, data?: unknown): AnalysisDiagnostic {
  return { start: span.start, end: span.end, severity, code, message, ...(data === undefined ? {} : { data }) };
}

function checkStageName(decl: StageDecl, report: Report): void {
  const m = INVALID_STAGE_NAME_CHARS.exec(decl.name);
  if (m) report(at(decl.pair.key, 'error', 'invalid-stage-name', `A stage name cannot contain '${m[0]}'.`));
  else if (decl.name.trim() === '') report(at(decl.pair.key, 'error', 'invalid-stage-name', 'A stage needs a name.'));
}

function checkVarsEntries(index: PipelineIndex, report: Report): void {
  for (const v of index.varsEntries) {
    if (v.file === undefined) {
      const raw = String(v.node.value);
      if (!raw.includes('${') && resolveWorkspacePath(index.dir, raw).kind === 'outside') {
        report(at(v.node, 'error', 'path-outside-workspace', `'${clip(raw)}' is outside the workspace.`));
      }
      continue;
    }
    const f = index.paramsFile(v.file);
    if (!f) {
      report(at(v.node, 'error', 'missing-vars-file', `Vars file '${clip(v.file)}' does not exist.`, { file: v.file }));
      continue;
    }
    for (const key of v.keys ?? []) {
      if (f.doc && !lookupParam(f, key)) {
        report(at(v.node, 'error', 'missing-param', `'${clip(key)}' is not defined in '${clip(v.file)}'.`, { file: v.file, key }));
      }
    }
  }
}

/** DVC refuses `${...}` anywhere in `vars`, top-level or a stage's (check_interpolations: "interpolating is not allowed"). */
function checkVarsLiteral(node: YamlNode | null, where: string, report: Report): void {
  // The nodes as written: an alias is not followed (its anchor is checked where it stands).
  const visit = (n: YamlNode | null): void => {
    if (!n) return;
    if (n.kind === 'scalar') {
      // As DVC's KEYCRE: an escaped `\${` or a `${` never closed is text.
      if (typeof n.value === 'string' && n.value.includes('${') && scanInterpolations(n.value, 0).some((t) => !t.unclosed)) {
        report(at(n, 'error', 'vars-interpolation', `Interpolation is not allowed in '${where}': DVC reads vars as they are written.`));
      }
    } else if (n.kind === 'map') for (const p of n.items) visit(p.value);
    else if (n.kind === 'seq') for (const item of n.items) visit(item);
  };
  visit(node);
}

/** What a vars entry (or the implicit params.yaml) brought into DVC's context. */
interface VarsSource {
  name: string;
  /** The file, workspace-relative; '' for values written in the pipeline. */
  relPath: string;
  root: YamlNode | null;
  keys?: readonly string[];
}

/**
 * DVC loads params.yaml, then each `vars` entry in order, into one context without overwriting
 * (Context.load_from_vars → merge with overwrite=False): a key an earlier source already has is an
 * error ("cannot redefine 'a' from 'vars[0]' as it already exists in 'params.yaml'"), unless both
 * are mappings, which merge key by key. A file already loaded whole may be named again (nothing
 * more is loaded), not for some of its keys. A stage's vars are loaded the same way into a copy of
 * that context.
 */
function checkVarsRedefinitions(index: PipelineIndex, report: Report): void {
  const layers = index.topScope.layers;
  const params = layers.find((l) => l.origin === undefined);
  const initial: VarsSource[] = params ? [{ name: `'${params.relPath}'`, relPath: params.relPath, root: params.root }] : [];
  const top = addVarsLayers(initial, layers.filter((l) => l.origin !== undefined), 'vars', report);
  for (const decl of index.stages) {
    // A stage's scope is its own layers, then the pipeline's (pipelineIndex's baseLayers); counted,
    // not compared by identity: a stage taken over from the last analysis has moved copies of them.
    const own = decl.scope.layers.slice(0, Math.max(0, decl.scope.layers.length - layers.length)).filter((l) => l.origin !== undefined);
    if (own.length) addVarsLayers(top, own, `stages.${decl.name}.vars`, report);
  }
}

/** `sources` with `layers` added in order, each checked against what came before it. */
function addVarsLayers(initial: readonly VarsSource[], layers: readonly VarsLayer[], prefix: string, report: Report): VarsSource[] {
  const sources = [...initial];
  layers.forEach((layer, i) => {
    const name = `${prefix}[${i}]`;
    const origin = layer.origin!;
    if (layer.relPath !== '') {
      const whole = sources.find((s) => s.relPath === layer.relPath && !s.keys);
      if (whole && !layer.keys) return;
      if (whole) {
        report({ start: origin.start, end: origin.end, severity: 'error', code: 'vars-redefined', message: `'${clip(layer.relPath)}' is already loaded whole (${whole.name}): DVC cannot load some of its keys again.` });
        return;
      }
    }
    for (const pair of asMap(layer.root)?.items ?? []) {
      const key = keyName(pair);
      if (layer.keys && !layer.keys.includes(key)) continue;
      for (const earlier of sources) {
        if (earlier.keys && !earlier.keys.includes(key)) continue;
        const before = asMap(earlier.root)?.items.find((p) => keyName(p) === key);
        if (!before) continue;
        const clash = clashOf(before.value, pair.value, key);
        if (clash !== undefined) {
          report({ start: origin.start, end: origin.end, severity: 'error', code: 'vars-redefined', message: `Cannot redefine '${clip(clash)}' from ${name}: it already exists in ${earlier.name} (DVC does not overwrite).` });
        }
      }
    }
    sources.push({ name, relPath: layer.relPath, root: layer.root, ...(layer.keys ? { keys: layer.keys } : {}) });
  });
  return sources;
}

/**
 * The dotted key where two values clash (not both mappings), or undefined when they merge. Aliases
 * are followed, within a budget of pairs compared (an alias bomb on both sides stops there).
 */
function clashOf(a: YamlNode | null, b: YamlNode | null, path: string, budget = { pairs: 10_000 }): string | undefined {
  const ma = asMap(a);
  const mb = asMap(b);
  if (!ma || !mb) return path;
  for (const pair of mb.items) {
    if (--budget.pairs < 0) return undefined;
    const key = keyName(pair);
    const before = ma.items.find((p) => keyName(p) === key);
    if (!before) continue;
    const clash = clashOf(before.value, pair.value, `${path}.${key}`, budget);
    if (clash !== undefined) return clash;
  }
  return undefined;
}

function checkTopLevelPaths(index: PipelineIndex, exists: (p: string) => boolean, isDirectory: (p: string) => boolean, report: Report): void {
  const root = asMap(index.doc.yaml.root);
  for (const item of asSeq(valueOf(root, 'params'))?.items ?? []) {
    const s = asScalar(item);
    if (!s || typeof s.value !== 'string' || s.value.includes('${')) continue;
    const r = resolveWorkspacePath(index.dir, s.value);
    if (r.kind === 'outside') report(at(s, 'error', 'path-outside-workspace', `'${clip(s.value)}' ${r.reason}.`));
    else if (r.kind === 'inside' && isDirectory(r.path)) report(directoryParams(s, r.path));
    else if (r.kind === 'inside' && !exists(r.path) && !isProduced(index, r.path)) {
      report(at(s, 'warning', 'missing-params-file', `Params file '${clip(r.path)}' does not exist.`, { file: r.path }));
    }
  }
  const pathScalars: YamlScalar[] = [];
  for (const item of asSeq(valueOf(root, 'metrics'))?.items ?? []) {
    const s = asScalar(item);
    if (s) pathScalars.push(s);
  }
  const plots = valueOf(root, 'plots');
  for (const item of [...(asSeq(plots)?.items ?? []), ...(asMap(plots) ? [plots] : [])]) {
    const s = asScalar(item);
    if (s) pathScalars.push(s);
    for (const p of asMap(item)?.items ?? []) {
      pathScalars.push(p.key);
      for (const axis of ['x', 'y']) for (const q of asMap(valueOf(asMap(p.value), axis))?.items ?? []) pathScalars.push(q.key);
    }
  }
  for (const a of asMap(valueOf(root, 'artifacts'))?.items ?? []) {
    const s = asScalar(valueOf(asMap(a.value), 'path'));
    if (s) pathScalars.push(s);
  }
  for (const s of pathScalars) {
    if (typeof s.value !== 'string' || s.value.includes('${')) continue;
    const r = resolveWorkspacePath(index.dir, s.value);
    if (r.kind === 'outside') report(at(s, 'error', 'path-outside-workspace', `'${clip(s.value)}' ${r.reason}.`));
  }
}

function checkWdir(inst: StageInstance, report: Report): void {
  const w = asScalar(valueOf(inst.decl.body, 'wdir'));
  if (!w || typeof w.value !== 'string' || inst.wdir !== undefined || w.value.includes('${')) return;
  report(at(w, 'error', 'path-outside-workspace', `wdir '${clip(w.value)}' is outside the workspace.`));
}

function checkPath(index: PipelineIndex, ref: PathRef, inst: StageInstance, exists: (p: string) => boolean, report: Report): void {
  const r = ref.resolved;
  if (!r) return;
  const shown = ref.text ?? ref.raw;
  if (r.kind === 'outside') {
    report(at(ref.node, 'error', 'path-outside-workspace', `'${clip(shown)}' ${r.reason}${inst.name !== inst.decl.name ? ` (in ${clip(inst.name)})` : ''}.`));
    return;
  }
  if (r.kind === 'external') return;
  if (ref.extensions && ref.extensions.length) {
    const lower = r.path.toLowerCase();
    if (!ref.extensions.some((e) => lower.endsWith(e))) {
      report(
        ref.strictType
          ? at(ref.node, 'error', 'unexpected-file-type', `'${ref.field}' takes a ${ref.extensions.join(', ')} file; the run refuses any other.`)
          : at(ref.node, 'warning', 'unexpected-file-type', `'${ref.field}' expects a ${ref.extensions.join(' or ')} file.`),
      );
    }
  }
  if (ref.role === 'out' || ref.role === 'step-output') return;
  // A path with a `.dvc` file beside it is tracked by DVC (`dvc add`): a fresh clone has only the
  // `.dvc` file until `dvc pull`, and `dvc repro` reads the data from the cache.
  if (exists(r.path) || exists(`${r.path.replace(/\/+$/, '')}.dvc`) || isProduced(index, r.path)) return;
  report(
    at(ref.node, 'warning', 'missing-path', `'${clip(r.path)}' does not exist and no stage produces it.`, {
      path: r.path,
      directory: /\/$/.test(shown),
    }),
  );
}

/** Whether a stage writes `path` (or a directory holding it): one of this pipeline's, or one in another pipeline file of the workspace. */
function isProduced(index: PipelineIndex, path: string): boolean {
  if (index.graph.isProduced(path)) return true;
  return index.otherPipelines !== undefined && index.otherPipelines.producersOf(path, index.doc.relPath).length > 0;
}

/** DVC reads params from files; a directory named as a params file fails when DVC loads it. */
function directoryParams(span: Span, path: string): AnalysisDiagnostic {
  return at(span, 'error', 'params-file-is-directory', `'${clip(path)}' is a directory; DVC expects a params file (YAML, JSON, TOML or Python).`, { file: path });
}

function checkParams(index: PipelineIndex, inst: StageInstance, isDirectory: (p: string) => boolean, report: Report): void {
  for (const p of inst.params) {
    if (p.file === undefined) {
      if (p.fileNode && typeof p.fileNode.value === 'string' && !p.fileNode.value.includes('${')) {
        report(at(p.fileNode, 'error', 'path-outside-workspace', `'${clip(p.fileNode.value)}' is outside the workspace.`));
      }
      continue;
    }
    const f = index.paramsFile(p.file);
    if (!f) {
      if (isDirectory(p.file)) {
        report(directoryParams(p.fileNode ?? p.node, p.file));
        continue;
      }
      if (isProduced(index, p.file)) continue;
      report(at(p.fileNode ?? p.node, 'error', 'missing-params-file', `Params file '${clip(p.file)}' does not exist.`, { file: p.file, key: p.key }));
      continue;
    }
    if (p.key === undefined || !f.doc || p.key.includes('${')) continue;
    if (isParamGlob(p.key) ? !matchesParamGlob(f, p.key) : !lookupParam(f, p.key)) {
      const what = isParamGlob(p.key) ? 'matches no key in' : 'is not defined in';
      report(at(p.node, 'error', 'missing-param', `'${clip(p.key)}' ${what} '${clip(p.file)}'.`, { file: p.file, key: p.key }));
    }
  }
}

/** `${...}` in a stage: syntax, and resolution in every generated stage's scope. */
function checkInterpolations(decl: StageDecl, report: Report): void {
  const scopes: { scope: InterpolationScope; name: string }[] = decl.instances.map((i) => ({ scope: i.scope, name: i.name }));
  const visitScalar = (s: YamlScalar, scopesHere: { scope: InterpolationScope; name: string }[]) => {
    for (const t of scalarInterpolations(s)) {
      if (t.unclosed) {
        report(at(t, 'error', 'interpolation-syntax', "'${' is not closed by '}' (write '\\${' for a literal '${')."));
        continue;
      }
      if (!t.segments) {
        report(at(t, 'error', 'interpolation-syntax', `'${clip(t.expr)}' is not a variable name (e.g. 'train.lr', 'item.x', 'layers[0]').`));
        continue;
      }
      for (const { scope, name } of scopesHere) {
        const r = resolveSegments(t.segments, scope);
        if (r.kind === 'missing') {
          const where = scopesHere.length > 1 || name !== decl.name ? ` (in ${clip(name)})` : '';
          report(at(t, 'error', 'unresolved-variable', `${r.message}${where}.`, { name: formatSegments(t.segments) }));
          break;
        }
      }
    }
  };
  const walk = (node: YamlNode | null, scopesHere: { scope: InterpolationScope; name: string }[], depth: number) => {
    if (!node || depth > 64) return;
    if (node.kind === 'scalar') return visitScalar(node, scopesHere);
    if (node.kind === 'seq') for (const it of node.items) walk(it, scopesHere, depth + 1);
    else if (node.kind === 'map') {
      for (const p of node.items) {
        const k = keyName(p);
        if (depth === 0 && k === 'vars') continue;
        if (p.key.source.includes('${')) visitScalar(p.key, scopesHere);
        walk(p.value, scopesHere, depth + 1);
      }
    }
  };
  if (decl.form === 'foreach') {
    // foreach data is resolved in the stage's scope without `item`.
    const plain = scopes.map((s) => ({ scope: { layers: s.scope.layers }, name: decl.name })).slice(0, 1);
    walk(valueOf(decl.map, 'foreach'), plain, 1);
  } else if (decl.form === 'matrix') {
    const plain = scopes.map((s) => ({ scope: { layers: s.scope.layers }, name: decl.name })).slice(0, 1);
    walk(valueOf(decl.map, 'matrix'), plain, 1);
  }
  if (!decl.body) return;
  const bodyScopes = scopes.length ? scopes : [{ scope: decl.scope, name: decl.name }];
  for (const p of decl.body.items) {
    const k = keyName(p);
    if (k === 'vars' || k === 'matrix' || k === 'foreach') continue;
    walk(p.value, bodyScopes, 1);
  }
}

/** Every metric an `evaluate` step can give, whatever its task. */
const EVALUATION_METRIC_NAMES: ReadonlySet<string> = new Set([...metricsForTask('classification'), ...metricsForTask('regression')]);

function checkEvaluateMetrics(decl: StageDecl, report: Report): void {
  const cfg = asMap(valueOf(decl.body, 'evaluate'));
  if (!cfg) return;
  const taskText = scalarText(valueOf(cfg, 'task')) ?? 'classification';
  if (!(EVALUATION_TASKS as readonly string[]).includes(taskText)) return;
  const allowed = metricsForTask(taskText);
  for (const item of asSeq(valueOf(cfg, 'metrics'))?.items ?? []) {
    const s = asScalar(item);
    const v = scalarText(s);
    // A name no task gives is the schema's to report (with its "did you mean").
    if (!s || v === undefined || allowed.includes(v) || !EVALUATION_METRIC_NAMES.has(v)) continue;
    report(at(s, 'error', 'invalid-value', `'${clip(v)}' is not a ${taskText} metric; with task '${taskText}' use ${allowed.join(', ')}.`));
  }
  // A threshold decides a binary classifier's predictions only (the evaluation warns that it went unused).
  const threshold = asScalar(valueOf(cfg, 'threshold'));
  if (threshold && (taskText === 'regression' || taskText === 'multiclass')) {
    report(at(threshold, 'warning', 'unused-setting', `threshold is not used with task '${taskText}': it decides P(class 1) > threshold for a binary classifier${taskText === 'multiclass' ? ' (a multiclass row is predicted as its most probable class)' : ''}.`));
  }
  // One column: the runner refuses a list of more (an evaluation is sliced by one column at a time).
  const slices = asSeq(valueOf(cfg, 'slice_by'));
  if (slices && slices.items.length > 1) {
    report(at(slices, 'error', 'invalid-value', `slice_by takes one column (got ${slices.items.length}); an evaluation is sliced by one column at a time: make a stage per column.`));
  }
}

/** What an evaluate step's setting written as one `${...}` must resolve to (the run keeps the value's type, as DVC does). */
const TYPED_SETTINGS: Record<string, { ok: (n: YamlNode) => boolean; expected: string }> = {
  threshold: { ok: (n) => n.kind === 'scalar' && typeof n.value === 'number' && n.value >= 0 && n.value <= 1, expected: 'a number from 0 to 1' },
  batch_size: { ok: (n) => n.kind === 'scalar' && typeof n.value === 'number' && Number.isInteger(n.value) && n.value >= 1 && n.value <= 1_000_000, expected: 'a whole number from 1 to 1,000,000' },
  features: { ok: (n) => n.kind === 'seq', expected: 'a list of column names' },
};

/**
 * An evaluate step's `threshold`, `batch_size` or `features` written as one `${...}`: checked as the
 * run will take it, the value it names (a quoted `'0.4'` in params is text, which the run refuses).
 */
function checkInterpolatedSettings(decl: StageDecl, report: Report): void {
  const cfg = asMap(valueOf(decl.body, 'evaluate'));
  if (!cfg) return;
  for (const [key, want] of Object.entries(TYPED_SETTINGS)) {
    const node = asScalar(valueOf(cfg, key));
    const segments = wholeSegments(node);
    if (!node || !segments) continue;
    for (const inst of decl.instances) {
      const r = resolveSegments(segments, inst.scope);
      if (r.kind !== 'found' || r.text !== undefined || !r.node) continue;
      const value = r.node.kind === 'alias' ? r.node.target : r.node;
      if (!value || want.ok(value)) continue;
      const shown = value.kind === 'scalar' ? `${JSON.stringify(value.value)}${typeof value.value === 'string' ? ' (text)' : ''}` : value.kind === 'seq' ? 'a list' : 'a mapping';
      report(at(node, 'error', 'invalid-value', `'${clip(node.value as string)}' is ${shown}${decl.instances.length > 1 ? ` in ${clip(inst.name)}` : ''}: ${key} takes ${want.expected}.`));
      break;
    }
  }
}

function outputRef(inst: StageInstance, path: string): PathRef | undefined {
  return inst.outputs.find((r) => r.resolved?.kind === 'inside' && r.resolved.path === path);
}

function checkOutputs(index: PipelineIndex, report: Report): void {
  for (const o of index.graph.overlappingOutputs()) {
    const a = index.instances[o.first]!;
    const b = index.instances[o.second]!;
    const ref = outputRef(b, o.secondPath);
    if (!ref) continue;
    const sameDecl = a.decl === b.decl;
    const message =
      o.kind === 'same'
        ? sameDecl
          ? `Every stage generated from '${clip(b.decl.name)}' writes '${clip(o.secondPath)}'; make the path depend on \${item}.`
          : `'${clip(o.secondPath)}' is also an output of stage '${clip(a.name)}'.`
        : `'${clip(o.secondPath)}' is inside '${clip(o.firstPath)}', an output of stage '${clip(a.name)}'.`;
    report(at(ref.node, 'error', 'duplicate-output', message, { stage: a.name, path: o.firstPath }));
  }
}

function checkCycles(index: PipelineIndex, report: Report): void {
  for (const comp of index.graph.cycles()) {
    const members = new Set(comp);
    const cycleText = cyclePath(comp.map((i) => index.instances[i]!.name));
    for (const i of comp) {
      const inst = index.instances[i]!;
      for (const ref of inst.inputs) {
        if (ref.resolved?.kind !== 'inside') continue;
        const producers = index.graph.producersOf(ref.resolved.path).filter((p) => members.has(p));
        if (producers.length === 0) continue;
        const producer = index.instances[producers[0]!]!;
        report(
          at(ref.node, 'error', 'stage-cycle', `Dependency cycle: '${clip(ref.resolved.path)}' is written by '${clip(producer.name)}', which depends on this stage (${cycleText}).`),
        );
      }
    }
  }
}

/** Stages shown at each end of a long cycle. */
const CYCLE_HEAD = 3;
const CYCLE_TAIL = 2;

/**
 * `a → b → c → a`; a long cycle keeps its first and last stages and counts the rest
 * (`a → b → c → … (2,494 more) … → w → x → a`), so each message has a bounded size however many
 * stages the cycle has (one message per stage would otherwise add up to N²).
 */
export function cyclePath(names: readonly string[]): string {
  const shown = (list: readonly string[]) => list.map((n) => clip(n, 60));
  if (names.length <= CYCLE_HEAD + CYCLE_TAIL + 1) return shown([...names, names[0]!]).join(' → ');
  const hidden = names.length - CYCLE_HEAD - CYCLE_TAIL;
  return [
    ...shown(names.slice(0, CYCLE_HEAD)),
    `… (${hidden.toLocaleString('en-US')} more) …`,
    ...shown(names.slice(names.length - CYCLE_TAIL)),
    clip(names[0]!, 60),
  ].join(' → ');
}


/**
 * A gate on a foreach or matrix stage is one gate per generated stage (the runner expands it): its
 * `model:` and its metrics file may say which with `${...}`, resolved in each stage's scope; a
 * `${...}` anywhere else, or that a stage cannot resolve, is an error, and so is one metrics file
 * for every stage (each would read the same numbers).
 */
function checkGroupGate(index: PipelineIndex, gate: YamlMap, byStageKey: StageDecl | undefined, report: Report): void {
  const metricNode = asScalar(valueOf(gate, 'metric'));
  const metric = scalarText(metricNode);
  const colon = metric?.lastIndexOf(':') ?? -1;
  const prefix = colon > 0 ? metric!.slice(0, colon) : undefined;
  const prefixDecl = prefix !== undefined ? stageDeclNamed(index, prefix) : undefined;
  const byPrefix = prefixDecl && prefixDecl.name === prefix ? prefixDecl : undefined;
  const group = [byPrefix, byStageKey].find((d) => d !== undefined && d.form !== 'plain');
  const modelNode = asScalar(valueOf(gate, 'model'));
  const model = scalarText(modelNode);
  if (modelNode && model?.includes('${')) {
    if (!group) report(at(modelNode, 'error', 'invalid-value', `A gate's model takes \${...} only on a foreach or matrix stage's gate, resolved in each of its stages ('${clip(model)}' names no such stage's gate).`));
    else {
      const unresolved = group.instances.find((inst) => interpolateString(model, inst.scope) === undefined);
      if (unresolved) report(at(modelNode, 'error', 'unresolved-variable', `'${clip(model)}' does not resolve in ${clip(unresolved.name)}: a gate on '${clip(group.name)}' reads each of its stages' variables (\${key}, \${item}, \${item.x}).`));
    }
  }
  // A metrics file with the group in `stage:`: each stage reads the file named, so it must name each one's own.
  if (metricNode && group && group === byStageKey && !byPrefix && prefix !== undefined && /[./]/.test(prefix) && !prefix.includes('${')) {
    report(at(metricNode, 'error', 'invalid-value', `Every stage of '${clip(group.name)}' would read this one file: name each stage's own with \${...} (as its metrics are named), or give one stage (${clip(group.instances[0]?.name ?? group.name)}).`));
  }
}

function checkGates(index: PipelineIndex, report: Report): void {
  if (!index.runwise) return;
  // A stage of another pipeline file, by the id the runner gives it (`train` of the root dvc.yaml):
  // the run reads its metrics, though this file cannot say which it gives.
  let foreign: ReadonlySet<string> | undefined;
  const isForeignStage = (name: string) => (foreign ??= index.otherPipelines?.stageIdsExcept?.(index.doc.relPath) ?? new Set()).has(name);
  for (const item of asSeq(valueOf(asMap(index.doc.yaml.root), 'gates'))?.items ?? []) {
    const gate = asMap(item);
    if (!gate) continue;
    const stageNode = asScalar(valueOf(gate, 'stage'));
    const stageName = scalarText(stageNode);
    let stage: StageDecl | undefined;
    if (stageNode && stageName !== undefined) {
      stage = stageDeclNamed(index, stageName);
      if (!stage && !isForeignStage(stageName)) report(at(stageNode, 'error', 'unknown-stage', `No stage named '${clip(stageName)}'.`, { stage: stageName }));
    }
    const valueNode = asScalar(valueOf(gate, 'value'));
    const references = checkGateValue(index, valueNode, report);
    if (valueNode && references.length > 0) checkAliasReferences(index, gate, valueNode, references, report);
    checkGroupGate(index, gate, stageName !== undefined && stage?.name === stageName ? stage : undefined, report);
    const metricNode = asScalar(valueOf(gate, 'metric'));
    const metric = scalarText(metricNode);
    if (!metricNode || metric === undefined) continue;
    let name = metric;
    const colon = metric.lastIndexOf(':');
    if (colon > 0) {
      const source = metric.slice(0, colon);
      name = metric.slice(colon + 1);
      const looksLikeFile = /[./]/.test(source);
      if (!looksLikeFile || isForeignStage(source)) {
        stage = stageDeclNamed(index, source);
        if (!stage && isForeignStage(source)) continue;
        if (!stage) {
          const shift = quoteShift(metricNode);
          report(at({ start: metricNode.start + shift, end: metricNode.start + shift + colon }, 'error', 'unknown-stage', `No stage named '${clip(source)}'.`, { stage: source }));
          continue;
        }
      } else stage = undefined;
    }
    const known = stage && knownStageMetrics(stage);
    if (known && !known.includes(name)) {
      const near = didYouMean(name, known);
      report(at(metricNode, 'warning', 'unknown-metric', `Stage '${clip(stage!.name)}' does not produce a metric '${clip(name)}' (${near ? `did you mean '${near}'? It produces` : 'it produces'} ${boundedList(known)}).`));
    }
    // `previous.x` and `champion.x` read the same stage's metric x (of its last run, of the alias's evaluation).
    if (known && valueNode) {
      for (const r of references) {
        if (known.includes(r.metric)) continue;
        const near = didYouMean(r.metric, known);
        report(at(valueNode, 'warning', 'unknown-metric', `'${clip(r.text)}': stage '${clip(stage!.name)}' does not produce a metric '${clip(r.metric)}' (${near ? `did you mean '${r.scope}.${near}'? It produces` : 'it produces'} ${boundedList(known)}).`));
      }
    }
  }
}

/** A gate's value written as an expression (`previous.loss * 1.05`) must parse as the runner reads it; its references. */
function checkGateValue(index: PipelineIndex, node: YamlScalar | null, report: Report): GateReference[] {
  if (!node || typeof node.value !== 'string') return [];
  try {
    return referencesOf(parseGateValue({ file: index.doc.relPath, line: 0, value: node.value }));
  } catch (e) {
    if (!(e instanceof GateSyntaxError)) throw e;
    report(at(node, 'error', 'invalid-gate-value', `Invalid gate value: ${e.detail} (at character ${e.position + 1}).`));
    return [];
  }
}

type GateReference = ReturnType<typeof referencesOf>[number];

/**
 * A registry alias in a gate's value (`champion.roc_auc`) is read from the gate's `model`, or the
 * one model the file's `register` steps register (core/pipeline/gates.ts modelOf): without either
 * the run fails the gate, so that is an error here. An alias that no `register` step of the file
 * sets, when they set others, is most likely a typo: while no version holds it the gate passes, so
 * it is said (a warning: an alias can also be set by hand, `runwise models alias`).
 */
function checkAliasReferences(index: PipelineIndex, gate: YamlMap, valueNode: YamlScalar, references: readonly GateReference[], report: Report): void {
  const aliasRefs = references.filter((r) => isAliasScope(r.scope));
  if (aliasRefs.length === 0) return;
  const steps = registerSteps(index);
  const gateModel = scalarText(valueOf(gate, 'model'));
  const names = [...new Set(steps.map((s) => s.name).filter((n): n is string => n !== undefined))];
  // A name or alias written with `${...}` is known when the run resolves it (a foreach register
  // step may register several): nothing is said here that the run could contradict.
  const interpolated = (v: string | undefined) => v !== undefined && v.includes('${');
  // The register steps of the model the gate reads: the one step of the file whatever its name,
  // or those of the gate's `model:` (or of the one name the file registers).
  let relevant: typeof steps;
  if (gateModel === undefined && steps.length === 1 && steps[0]!.name !== undefined) relevant = steps;
  else {
    if (gateModel === undefined && names.some(interpolated)) return;
    if (gateModel === undefined && names.length !== 1) {
      const why = names.length === 0 ? 'this file registers no model' : `this file registers ${names.map((n) => `'${clip(n)}'`).join(', ')}`;
      report(at(valueNode, 'error', 'alias-without-model', `'${clip(aliasRefs[0]!.text)}' reads a registered model's alias, but ${why}: add \`model: NAME\` to the gate${names.length === 0 ? ' (or a `register` step to the file)' : ''}.`));
      return;
    }
    if (gateModel !== undefined && names.some(interpolated)) return;
    relevant = steps.filter((s) => s.name === (gateModel ?? names[0]));
    // A `model:` no step of the file registers, close to one that one does: a typo, and the gate
    // would pass for ever (no champion). One registered by hand, named unlike these, is not flagged.
    const near = gateModel !== undefined && relevant.length === 0 && !interpolated(gateModel) ? didYouMean(gateModel, names) : undefined;
    if (near) {
      const modelNode = asScalar(valueOf(gate, 'model'));
      if (modelNode) report(at(modelNode, 'warning', 'unknown-model', `No \`register\` step in this file registers '${clip(gateModel!)}' (did you mean '${clip(near)}'?): while it is not registered, the gate passes.`));
      return;
    }
  }
  const model = gateModel ?? relevant[0]?.name ?? names[0]!;
  if (relevant.some((s) => interpolated(s.alias))) return;
  const set = [...new Set(relevant.filter((s) => s.alias !== undefined).map((s) => s.alias!))];
  if (set.length === 0) return;
  for (const r of aliasRefs) {
    if (set.includes(r.scope)) continue;
    const near = didYouMean(r.scope, set);
    report(
      at(valueNode, 'warning', 'unknown-alias', `No \`register\` step here sets the alias '${clip(r.scope)}' of '${clip(model)}' (${near ? `did you mean '${near}'? They set` : 'they set'} ${set.map((a) => `'${clip(a)}'`).join(', ')}): while no version holds it, the gate passes.`),
    );
  }
}

function quoteShift(s: YamlScalar): number {
  return s.style === 'single' || s.style === 'double' ? 1 : 0;
}
