/**
 * Which stages run and why, decided as `dvc repro` decides: a stage runs when it never ran, its
 * command changed, a dependency's hash changed or it is missing, a tracked param's value changed,
 * an output is missing or changed, it is `always_changed`, a stage upstream of it runs, or the run
 * is forced. A `frozen` stage never runs; its decision still lists why it would be stale. A stage
 * that runs only because of its upstream stages is checked again when its turn comes
 * (pipelineRun.ts): when they wrote what it read last time, it does not run, as in `dvc repro`.
 *
 * Targets (stage ids or names, or a foreach/matrix stage's name for all its generated stages)
 * select the stages with everything upstream of them, as `dvc repro TARGET` does; with
 * `downstream`, the targets and everything downstream of them instead.
 */
import { isDeepStrictEqual } from 'node:util';
import type { WorkspaceView } from '../language/languageTypes';
import { FileSystemWorkspace } from '../language/files/fileSystemWorkspace';
import { resolveWorkspacePath } from '../language/files/workspacePaths';
import { lockCommand, lockPathInWorkspace, readLockStates, readParamValues, type LockState, type ParsedParamsFiles } from './lockFile';
import type { ChangeReason, LockEntry, LockPath, PathHasher, PipelineGraph, PipelineStage, StageDecision } from './pipelineModel';

export interface PlanOptions {
  /** Stage ids or names; default: every stage. */
  targets?: readonly string[];
  /** Select the targets and what is downstream of them (instead of what is upstream). */
  downstream?: boolean;
  /** Run the selected stages whatever their state (frozen ones excepted). */
  force?: boolean;
  hashes: PathHasher;
  /** Previous states by pipeline file (read from the lock files when not given). */
  locks?: ReadonlyMap<string, LockState>;
  /** Where params files are read (the file system under the graph's root by default). */
  workspace?: WorkspaceView;
}

export class StageTargetError extends Error {
  constructor(
    readonly target: string,
    known: readonly string[],
  ) {
    const shown = known.slice(0, 10).join(', ') + (known.length > 10 ? ', …' : '');
    super(`No stage '${target}' in the pipelines${known.length ? ` (stages: ${shown})` : ''}`);
    this.name = 'StageTargetError';
  }
}

/** The ids a target names: a stage id, a stage name, or a foreach/matrix stage's name (`train` → `train@us`, …). */
export function resolveTarget(graph: PipelineGraph, target: string): string[] {
  if (graph.byId.has(target)) return [target];
  const byName = graph.stages.filter((s) => s.name === target);
  if (byName.length) return byName.map((s) => s.id);
  const generated = graph.stages.filter((s) => s.id.startsWith(`${target}@`) || s.name.startsWith(`${target}@`));
  if (generated.length) return generated.map((s) => s.id);
  throw new StageTargetError(target, graph.stages.map((s) => s.id));
}

/**
 * The ids of the stages a run with these targets covers. A frozen stage's links to the stages it
 * depends on are cut, as dvc repro cuts them (_remove_frozen_stages): its upstream stages are not
 * selected through it, nor is it reached from them going downstream.
 */
export function selectStages(graph: PipelineGraph, targets: readonly string[] | undefined, downstream = false): Set<string> {
  if (!targets || targets.length === 0) return new Set(graph.stages.map((s) => s.id));
  const selected = new Set<string>();
  const stack = targets.flatMap((t) => resolveTarget(graph, t));
  const frozen = (id: string) => graph.byId.get(id)?.frozen === true;
  while (stack.length) {
    const id = stack.pop()!;
    if (selected.has(id)) continue;
    selected.add(id);
    if (downstream) stack.push(...graph.downstream(id).filter((d) => !frozen(d)));
    else if (!frozen(id)) stack.push(...graph.upstream(id));
  }
  return selected;
}

/** Decisions for the selected stages, in the graph's topological order. */
/**
 * For a run of `stages` alone (`run --single`, the editor's Run Stage): the stages above them that
 * are out of date on their own (what they read changed, or they never ran), with why. Not one due
 * only to its upstream (which may write the same bytes again), nor `always_changed`: an
 * orchestrator ran those in its earlier tasks. Their gates are not judged on old metrics.
 */
export function staleAbove(graph: PipelineGraph, stages: ReadonlySet<string>, hashes: PathHasher): Map<string, string> {
  const own = (r: ChangeReason) => r.kind !== 'upstream' && r.kind !== 'forced' && r.kind !== 'always-changed' && r.kind !== 'callback';
  const plan = planRun(graph, { targets: [...stages], hashes });
  return new Map(plan.filter((d) => d.action === 'run' && !stages.has(d.id) && d.reasons.some(own)).map((d) => [d.id, d.reasons.filter(own).map(describeReason).join('; ')]));
}

export function planRun(graph: PipelineGraph, options: PlanOptions): StageDecision[] {
  const selected = selectStages(graph, options.targets, options.downstream);
  const locks = options.locks ?? readLockStates(graph);
  const workspace = options.workspace ?? new FileSystemWorkspace(graph.root);
  const runs = new Set<string>();
  // Stages tracking keys of one params file (the usual params.yaml) share its parse.
  const paramsFiles: ParsedParamsFiles = new Map();
  const decisions: StageDecision[] = [];
  for (const stage of graph.stages) {
    if (!selected.has(stage.id)) continue;
    const reasons: ChangeReason[] = [];
    if (options.force && !stage.frozen) reasons.push({ kind: 'forced' });
    const entry = locks.get(stage.file)?.stages.get(stage.name);
    if (!entry) reasons.push({ kind: 'never-run' });
    if (stage.alwaysChanged) reasons.push({ kind: 'always-changed' });
    else if (isCallback(stage)) reasons.push({ kind: 'callback' });
    // A frozen stage's links to its upstream stages are cut (see selectStages).
    if (!stage.frozen) for (const up of graph.upstream(stage.id)) if (runs.has(up)) reasons.push({ kind: 'upstream', stage: up });
    if (entry) reasons.push(...compareWithLock(stage, entry, options.hashes, workspace, paramsFiles));
    else if (stage.frozen) {
      for (const out of stage.outs) if (!options.hashes.hash(out.path)) reasons.push({ kind: 'out-missing', path: out.path });
    } else {
      // A stage never run whose dependency neither exists nor comes from a stage would fail at once:
      // said now (`status`, `run --dry`), not only when the run stops on it.
      for (const dep of stage.deps) if (!produced(graph, dep) && !options.hashes.hash(dep)) reasons.push({ kind: 'dep-missing', path: dep });
    }
    const action = stage.frozen ? 'frozen' : reasons.length ? 'run' : 'skip';
    if (action === 'run') runs.add(stage.id);
    decisions.push({ id: stage.id, action, reasons });
  }
  return decisions;
}

/** Whether a stage's output is the path, lies in it, or holds it. */
function produced(graph: PipelineGraph, dep: string): boolean {
  return graph.stages.some((s) => s.outs.some((o) => o.path === dep || dep.startsWith(`${o.path}/`) || o.path.startsWith(`${dep}/`)));
}

/** DVC's `Stage.is_callback`: a command and no dependency (params count as ones) or output. */
function isCallback(stage: PipelineStage): boolean {
  return !stage.builtin && stage.cmd.length > 0 && stage.deps.length === 0 && stage.params.length === 0 && stage.outs.length === 0;
}

/** What differs between a stage now and its lock entry. */
export function compareWithLock(stage: PipelineStage, entry: LockEntry, hashes: PathHasher, workspace: WorkspaceView, paramsFiles?: ParsedParamsFiles): ChangeReason[] {
  const reasons: ChangeReason[] = [];
  const cmdNow = lockCommand(stage);
  if (!sameCommand(cmdNow, entry.cmd)) reasons.push({ kind: 'cmd-changed' });

  const recorded = (list: LockPath[]) => {
    const m = new Map<string, LockPath>();
    for (const p of list) {
      const rel = lockPathInWorkspace(stage, p);
      if (rel !== undefined) m.set(rel, p);
    }
    return m;
  };
  const deps = recorded(entry.deps);
  for (const dep of stage.deps) {
    const before = deps.get(dep);
    const now = hashes.hash(dep, before?.hash ?? 'md5');
    if (!now) reasons.push({ kind: 'dep-missing', path: dep });
    else if (!before) reasons.push({ kind: 'dep-added', path: dep });
    else if (before.md5 !== now.md5) reasons.push({ kind: 'dep-changed', path: dep });
  }
  // Stricter than DVC, which ignores a lock entry the stage no longer lists: the command may read it still.
  for (const p of deps.keys()) if (!stage.deps.includes(p)) reasons.push({ kind: 'dep-removed', path: p });

  const recordedParams = new Map<string, Record<string, unknown>>();
  for (const [file, values] of Object.entries(entry.params)) {
    const r = resolveWorkspacePath(stage.wdir, file);
    if (r.kind === 'inside') recordedParams.set(r.path, values ?? {});
  }
  for (const p of stage.params) {
    const before = recordedParams.get(p.file) ?? {};
    const now = readParamValues(workspace, p, paramsFiles);
    for (const [key, value] of now) {
      if (value === undefined || !(key in before) || !isDeepStrictEqual(before[key], value)) reasons.push({ kind: 'param-changed', file: p.file, key });
    }
    // A file tracked whole: a key that is gone changed too.
    if (p.keys === undefined) for (const key of Object.keys(before)) if (!now.has(key)) reasons.push({ kind: 'param-changed', file: p.file, key });
  }
  for (const [file, values] of recordedParams) {
    if (stage.params.some((p) => p.file === file)) continue;
    for (const key of Object.keys(values)) reasons.push({ kind: 'param-changed', file, key });
  }

  const outs = recorded(entry.outs);
  for (const out of stage.outs) {
    const before = outs.get(out.path);
    const now = hashes.hash(out.path, before?.hash ?? 'md5');
    if (!now) reasons.push({ kind: 'out-missing', path: out.path });
    else if (!before || before.md5 !== now.md5) reasons.push({ kind: 'out-changed', path: out.path });
  }
  for (const p of outs.keys()) if (!stage.outs.some((o) => o.path === p)) reasons.push({ kind: 'out-changed', path: p });
  return reasons;
}

function sameCommand(a: string | string[], b: string | string[]): boolean {
  const list = (c: string | string[]) => (typeof c === 'string' ? [c] : c);
  return isDeepStrictEqual(list(a), list(b));
}

/** Short human text for a reason: "data/train.csv changed". */
export function describeReason(r: ChangeReason): string {
  switch (r.kind) {
    case 'never-run':
      return 'never ran';
    case 'forced':
      return 'forced';
    case 'always-changed':
      return 'always_changed is set';
    case 'callback':
      return 'no dependencies or outputs: runs every time';
    case 'upstream':
      return `upstream stage ${r.stage} runs`;
    case 'cmd-changed':
      return 'command changed';
    case 'dep-changed':
      return `${r.path} changed`;
    case 'dep-added':
      return `${r.path} added as a dependency`;
    case 'dep-removed':
      return `${r.path} no longer a dependency`;
    case 'dep-missing':
      return `${r.path} is missing`;
    case 'out-missing':
      return `output ${r.path} is missing`;
    case 'out-changed':
      return `output ${r.path} changed`;
    case 'param-changed':
      return `param ${r.key} changed (${r.file})`;
  }
}
