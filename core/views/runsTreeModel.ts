/**
 * The Runs view as plain data: experiments → runs (child runs under their parent), each node with
 * its label, description, tooltip and status, built from what the tracker returns. The extension
 * turns these nodes into tree items one to one; everything that decides what the view shows lives
 * here, testable without an editor.
 *
 * The model is fed by `Tracker.changesSince`: a first full load, then only the runs and experiments
 * that changed. `apply` says which nodes moved so the view refreshes just those.
 */
import { MODEL_SHA256_TAG, NOTE_TAG, type Experiment, type Run, type RunStatus } from '../tracker/model';
import type { TrackerChanges } from '../tracker/tracker';
import { formatDuration, formatMetricCompact, formatMetricValue, formatTimestamp } from './displayFormat';
import { ORIGIN_REMOTE_TAG, PUSHED_TAG_PREFIX } from '../sync/syncTags';

/** What the view keeps of a run: enough for its row, its tooltip and the status bar. */
export interface RunSummary {
  runId: string;
  runName: string;
  experimentId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  /** Latest value of each metric, by key (NaN stays NaN). */
  metrics: ReadonlyMap<string, number>;
  params: ReadonlyMap<string, string>;
  note: string | undefined;
  /** Remotes the run was pushed to (its `runwise.pushed.<remote>` tags), and the one it was pulled from. */
  pushedTo?: readonly string[];
  pulledFrom?: string;
  /** An evaluation run (it records the evaluated model's hash): its row offers the evaluation report. */
  evaluation?: boolean;
}

export interface ExperimentSummary {
  experimentId: string;
  name: string;
}

export type RunsTreeNodeKind = 'experiment' | 'run' | 'more';

/** One row of the Runs view. `icon` is a status for runs, 'experiment' or 'more' otherwise. */
export interface RunsTreeNode {
  /** Stable across refreshes: `experiment:<id>`, `run:<runId>`, `more:<experimentId>`. */
  id: string;
  kind: RunsTreeNodeKind;
  label: string;
  description: string;
  /** Plain text (never Markdown): run names and params are shown as they are. */
  tooltip: string;
  icon: RunStatus | 'experiment' | 'more';
  collapsible: 'none' | 'collapsed' | 'expanded';
  experimentId: string;
  runId?: string;
  /** For `when` clauses of context menus: 'runwise.experiment', 'runwise.run', 'runwise.run.running', 'runwise.run.evaluation'. */
  contextValue: string;
}

/**
 * What the Runs view shows when the user has set nothing: the defaults of the `runwise.runs.*`
 * settings (client/settings.ts takes them from here; package.json declares the same, held equal by
 * test/unit/settings.test.ts).
 */
export const RUNS_VIEW_DEFAULTS = { keyMetrics: [] as readonly string[], maxMetrics: 3, maxRunsPerExperiment: 200 } as const;

export interface RunsTreeOptions {
  /** Metrics to show in a run's description, in this order; others fill up to `maxMetrics`. */
  keyMetrics?: readonly string[];
  /** How many metrics a description shows (default RUNS_VIEW_DEFAULTS.maxMetrics). */
  maxMetrics?: number;
  /** Runs listed per experiment (and per parent run) before a "more" row (default RUNS_VIEW_DEFAULTS.maxRunsPerExperiment). */
  maxRunsPerExperiment?: number;
  /** Clock, for the "running for" text in tooltips. */
  now?: () => number;
}

/** What `apply` changed, so a view can refresh only that. */
export interface RunsTreeUpdate {
  /** Nothing visible moved. */
  unchanged: boolean;
  /** The experiment list itself changed (added, removed, renamed): refresh the roots. */
  rootsChanged: boolean;
  /** Experiments whose runs changed (ids). */
  experiments: string[];
}

/** Metric names shown first when no key metrics are configured (matched case-insensitively). */
const PREFERRED_METRICS = [/^(val|valid|validation|test|eval)[_./-]?acc(uracy)?$/, /^acc(uracy)?$/, /f1/, /auc/, /^(val|valid|validation|test|eval)[_./-]?loss$/, /^loss$/, /rmse|mae|r2/];

export function summarizeRun(run: Run): RunSummary {
  const note = run.tags.find((t) => t.key === NOTE_TAG)?.value;
  return {
    runId: run.info.runId,
    runName: run.info.runName,
    experimentId: run.info.experimentId,
    status: run.info.status,
    startTime: run.info.startTime,
    endTime: run.info.endTime,
    parentRunId: run.info.parentRunId,
    metrics: new Map(run.metrics.map((m) => [m.key, m.value])),
    params: new Map(run.params.map((p) => [p.key, p.value])),
    note: note === '' ? undefined : note,
    ...syncedWith(run),
    ...(run.tags.some((t) => t.key === MODEL_SHA256_TAG) ? { evaluation: true } : {}),
  };
}

function syncedWith(run: Run): Pick<RunSummary, 'pushedTo' | 'pulledFrom'> {
  const pushedTo = run.tags.filter((t) => t.key.startsWith(PUSHED_TAG_PREFIX)).map((t) => t.key.slice(PUSHED_TAG_PREFIX.length));
  const pulledFrom = run.tags.find((t) => t.key === ORIGIN_REMOTE_TAG)?.value;
  return { ...(pushedTo.length ? { pushedTo } : {}), ...(pulledFrom ? { pulledFrom } : {}) };
}

/** The cloud mark of a run's row: where it was pushed to or pulled from. */
function syncMark(r: RunSummary): string {
  const remotes = [...(r.pushedTo ?? []), ...(r.pulledFrom ? [r.pulledFrom] : [])];
  return remotes.length ? ` ☁ ${[...new Set(remotes)].join(', ')}` : '';
}

/** The metrics a run's description shows: configured keys first, then well-known names, then by name. */
export function keyMetricsOf(run: RunSummary, keyMetrics: readonly string[], max: number): [string, number][] {
  const out: [string, number][] = [];
  const taken = new Set<string>();
  const take = (k: string) => {
    if (out.length >= max || taken.has(k)) return;
    const v = run.metrics.get(k);
    if (v === undefined) return;
    taken.add(k);
    out.push([k, v]);
  };
  for (const k of keyMetrics) take(k);
  const keys = [...run.metrics.keys()].sort();
  for (const re of PREFERRED_METRICS) for (const k of keys) if (re.test(k.toLowerCase())) take(k);
  for (const k of keys) take(k);
  return out;
}

/** A run's key metrics on one line, compact (`accuracy 0.9123 · loss 0.23`); '' when it has none. */
export function keyMetricsText(run: RunSummary, keyMetrics: readonly string[], max: number): string {
  return keyMetricsOf(run, keyMetrics, max)
    .map(([k, v]) => `${k} ${formatMetricCompact(v)}`)
    .join(' · ');
}

const STATUS_TEXT: Record<RunStatus, string> = {
  RUNNING: 'running',
  SCHEDULED: 'scheduled',
  FINISHED: 'finished',
  FAILED: 'failed',
  KILLED: 'killed',
};

/** Where each shown run sits: its parent in the tree (if any) and the runs under each row. */
interface RunsLayout {
  /** Runs of experiments the view shows, by id. */
  shown: Map<string, RunSummary>;
  /** The run a run is listed under; absent for a run listed under its experiment. */
  parent: Map<string, string>;
  /** The runs under a row (`experiment:<id>` or `run:<runId>`), newest first. */
  children: Map<string, RunSummary[]>;
}

/**
 * Lays the runs out as a tree, whatever their parent tags say. A run is listed under its parent
 * run when that run is shown and in the same experiment, and under its experiment otherwise
 * (parent missing, deleted, or in another experiment).
 *
 * Parent cycles (A→B→A, a run its own parent: MLflow's REST API accepts them, and databases
 * written before the tracker refused them may hold them) cannot be drawn as a tree. Every run ON a
 * cycle is listed under its experiment, as if it had no parent; runs whose parent chain merely
 * leads into a cycle stay under their own parent. So every run is listed exactly once and every
 * parent chain ends at the experiment. Linear in the number of runs.
 */
function layoutRuns(runs: Iterable<RunSummary>, shownExperiments: ReadonlyMap<string, unknown>): RunsLayout {
  const shown = new Map<string, RunSummary>();
  for (const r of runs) if (shownExperiments.has(r.experimentId)) shown.set(r.runId, r);
  const declared = (r: RunSummary): RunSummary | undefined => {
    const p = r.parentRunId ? shown.get(r.parentRunId) : undefined;
    return p && p.experimentId === r.experimentId ? p : undefined;
  };
  // Find the runs on cycles: walk each parent chain once (0 unseen, 1 on the walk, 2 done).
  const state = new Map<string, 1 | 2>();
  const onCycle = new Set<string>();
  for (const start of shown.values()) {
    const path: string[] = [];
    let cur: RunSummary | undefined = start;
    while (cur && !state.has(cur.runId)) {
      state.set(cur.runId, 1);
      path.push(cur.runId);
      cur = declared(cur);
    }
    if (cur && state.get(cur.runId) === 1) for (const id of path.slice(path.indexOf(cur.runId))) onCycle.add(id);
    for (const id of path) state.set(id, 2);
  }
  const parent = new Map<string, string>();
  const children = new Map<string, RunSummary[]>();
  for (const r of shown.values()) {
    const p = onCycle.has(r.runId) ? undefined : declared(r);
    if (p) parent.set(r.runId, p.runId);
    const key = p ? `run:${p.runId}` : `experiment:${r.experimentId}`;
    const list = children.get(key);
    if (list) list.push(r);
    else children.set(key, [r]);
  }
  for (const list of children.values()) list.sort((a, b) => b.startTime - a.startTime || (a.runId < b.runId ? -1 : 1));
  return { shown, parent, children };
}

export class RunsTreeModel {
  /** Active experiments, by id; a deleted one leaves (and its runs with it) until it is restored. */
  private readonly experiments = new Map<string, ExperimentSummary>();
  /**
   * Every active run the tracker reported, whether or not its experiment is shown: a run of a
   * deleted experiment is kept (hidden) so that restoring the experiment brings it back even when
   * the tracker does not report the run again.
   */
  private readonly runs = new Map<string, RunSummary>();
  /** Derived from `experiments` and `runs`; rebuilt on first use after a change. */
  private cachedLayout: RunsLayout | undefined;
  private marker: number | undefined;
  private readonly options: Required<Omit<RunsTreeOptions, 'now'>> & { now: () => number };

  constructor(options: RunsTreeOptions = {}) {
    this.options = {
      keyMetrics: options.keyMetrics ?? RUNS_VIEW_DEFAULTS.keyMetrics,
      maxMetrics: options.maxMetrics ?? RUNS_VIEW_DEFAULTS.maxMetrics,
      maxRunsPerExperiment: options.maxRunsPerExperiment ?? RUNS_VIEW_DEFAULTS.maxRunsPerExperiment,
      now: options.now ?? Date.now,
    };
  }

  /** The marker to pass to `Tracker.changesSince` next; undefined before the first load. */
  get changeMarker(): number | undefined {
    return this.marker;
  }

  /** Changes how descriptions are made (settings changed); the caller refreshes the whole view. */
  configure(options: Pick<RunsTreeOptions, 'keyMetrics' | 'maxMetrics' | 'maxRunsPerExperiment'>): void {
    if (options.keyMetrics) this.options.keyMetrics = options.keyMetrics;
    if (options.maxMetrics) this.options.maxMetrics = options.maxMetrics;
    if (options.maxRunsPerExperiment) this.options.maxRunsPerExperiment = options.maxRunsPerExperiment;
  }

  /** Merges what the tracker reported. A full load replaces everything. */
  apply(changes: TrackerChanges): RunsTreeUpdate {
    const touched = new Set<string>();
    let rootsChanged = false;
    if (changes.full) {
      this.experiments.clear();
      this.runs.clear();
      rootsChanged = true;
    }
    const rootsBefore = changes.full ? '' : this.rootSignature();
    for (const e of changes.experiments) this.applyExperiment(e);
    for (const r of changes.runs) {
      const before = this.runs.get(r.info.runId);
      if (before) touched.add(before.experimentId);
      if (r.info.lifecycleStage === 'deleted') {
        if (before) this.runs.delete(r.info.runId);
        continue;
      }
      this.runs.set(r.info.runId, summarizeRun(r));
      touched.add(r.info.experimentId);
    }
    this.cachedLayout = undefined;
    this.marker = changes.marker;
    if (!changes.full && this.rootSignature() !== rootsBefore) rootsChanged = true;
    const experiments = [...touched].filter((id) => this.experiments.has(id));
    return { unchanged: !rootsChanged && experiments.length === 0, rootsChanged, experiments };
  }

  private applyExperiment(e: Experiment): void {
    if (e.lifecycleStage === 'deleted') this.experiments.delete(e.experimentId);
    else this.experiments.set(e.experimentId, { experimentId: e.experimentId, name: e.name });
  }

  private get layout(): RunsLayout {
    this.cachedLayout ??= layoutRuns(this.runs.values(), this.experiments);
    return this.cachedLayout;
  }

  /** What the roots depend on: shown experiments, their names and their descriptions. */
  private rootSignature(): string {
    return JSON.stringify(this.roots().map((n) => [n.id, n.label, n.description]));
  }

  /** A run the view shows (not deleted, in a shown experiment). */
  getRun(runId: string): RunSummary | undefined {
    return this.layout.shown.get(runId);
  }

  /** Shown runs in the RUNNING state. */
  runningRuns(): RunSummary[] {
    return [...this.layout.shown.values()].filter((r) => r.status === 'RUNNING');
  }

  /** How many runs the view shows. */
  get runCount(): number {
    return this.layout.shown.size;
  }

  /** The top level: active experiments, by name; the Default experiment (0) only when it has runs. */
  roots(): RunsTreeNode[] {
    const counts = new Map<string, { total: number; running: number }>();
    for (const r of this.layout.shown.values()) {
      const c = counts.get(r.experimentId) ?? { total: 0, running: 0 };
      c.total++;
      if (r.status === 'RUNNING') c.running++;
      counts.set(r.experimentId, c);
    }
    return [...this.experiments.values()]
      .filter((e) => e.experimentId !== '0' || counts.has('0'))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || Number(a.experimentId) - Number(b.experimentId))
      .map((e) => this.experimentNode(e, counts.get(e.experimentId) ?? { total: 0, running: 0 }));
  }

  experimentNode(e: ExperimentSummary, count: { total: number; running: number }): RunsTreeNode {
    const description = count.total === 0 ? 'no runs' : `${count.total} run${count.total === 1 ? '' : 's'}${count.running ? ` · ${count.running} running` : ''}`;
    return {
      // An experiment drawn with no runs is another row to VS Code than one with runs: it keeps a
      // row's first collapsible state by id, so one created by a script just before its run
      // (set_experiment, then start_run) was shown collapsed, its run hidden.
      id: count.total === 0 ? `experiment:${e.experimentId}:empty` : `experiment:${e.experimentId}`,
      kind: 'experiment',
      label: e.name,
      description,
      tooltip: `Experiment ${e.name} (id ${e.experimentId})\n${description}`,
      icon: 'experiment',
      collapsible: count.total === 0 ? 'none' : 'expanded',
      experimentId: e.experimentId,
      contextValue: 'runwise.experiment',
    };
  }

  /** The rows under a node: an experiment's top-level runs, or a run's child runs; newest first. */
  children(node: RunsTreeNode): RunsTreeNode[] {
    if (node.kind === 'more') return [];
    const key = node.kind === 'experiment' ? `experiment:${node.experimentId}` : `run:${node.runId}`;
    const list = this.layout.children.get(key) ?? [];
    const max = this.options.maxRunsPerExperiment;
    const nodes = list.slice(0, max).map((r) => this.runNode(r, this.hasChildRuns(r.runId)));
    if (list.length > max) {
      const rest = list.length - max;
      nodes.push({
        id: `more:${node.id}`,
        kind: 'more',
        label: `${rest} more run${rest === 1 ? '' : 's'}`,
        description: 'older runs: `runwise runs list`',
        tooltip: `Only the ${max} newest runs are listed here (setting runwise.runs.maxPerExperiment). Use \`runwise runs list --experiment ${node.experimentId}\` for all.`,
        icon: 'more',
        collapsible: 'none',
        experimentId: node.experimentId,
        contextValue: 'runwise.more',
      });
    }
    return nodes;
  }

  private hasChildRuns(runId: string): boolean {
    return this.layout.children.has(`run:${runId}`);
  }

  /** The node of one shown run, or undefined when the view does not show it. */
  nodeOfRun(runId: string): RunsTreeNode | undefined {
    const r = this.layout.shown.get(runId);
    return r ? this.runNode(r, this.hasChildRuns(runId)) : undefined;
  }

  /**
   * The row a node is listed under (its parent run, else its experiment), for the view's reveal;
   * undefined for an experiment. Following it from any row reaches an experiment in as many steps
   * as the row is deep, whatever the runs' parent tags hold.
   */
  parentOf(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'experiment') return undefined;
    const under = node.kind === 'more' ? /^more:run:(.+)$/.exec(node.id)?.[1] : node.runId && this.layout.parent.get(node.runId);
    const parentRun = under ? this.nodeOfRun(under) : undefined;
    if (parentRun) return parentRun;
    return this.roots().find((e) => e.experimentId === node.experimentId);
  }

  /** A run's key metrics on one line, as its row shows them (the configured keys and count). */
  metricsText(r: RunSummary): string {
    return keyMetricsText(r, this.options.keyMetrics, this.options.maxMetrics);
  }

  runNode(r: RunSummary, hasChildren = false): RunsTreeNode {
    const metrics = this.metricsText(r);
    return {
      id: `run:${r.runId}`,
      kind: 'run',
      label: r.runName,
      description: `${metrics || STATUS_TEXT[r.status]}${syncMark(r)}`,
      tooltip: this.runTooltip(r),
      icon: r.status,
      collapsible: hasChildren ? 'collapsed' : 'none',
      experimentId: r.experimentId,
      runId: r.runId,
      contextValue: r.status === 'RUNNING' ? 'runwise.run.running' : r.evaluation ? 'runwise.run.evaluation' : 'runwise.run',
    };
  }

  /** Plain text: name, status and timing, params, every latest metric (in full), the note. */
  runTooltip(r: RunSummary): string {
    const lines = [r.runName];
    const end = r.endTime ?? (r.status === 'RUNNING' ? this.options.now() : null);
    const timing = `started ${formatTimestamp(r.startTime)}${end != null ? `, ${r.status === 'RUNNING' ? 'running for' : 'took'} ${formatDuration(end - r.startTime)}` : ''}`;
    lines.push(`${STATUS_TEXT[r.status]} · ${timing}`);
    lines.push(`run id ${r.runId}`);
    if (r.params.size) {
      lines.push('', 'Params');
      for (const [k, v] of [...r.params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`  ${k} = ${clip(v)}`);
    }
    if (r.metrics.size) {
      lines.push('', 'Metrics (latest)');
      for (const [k, v] of [...r.metrics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`  ${k} = ${formatMetricValue(v)}`);
    }
    if (r.note) lines.push('', 'Note', clip(r.note, 500));
    if (r.pushedTo?.length) lines.push('', `Pushed to ${r.pushedTo.join(', ')}`);
    if (r.pulledFrom) lines.push('', `Pulled from ${r.pulledFrom}`);
    return lines.join('\n');
  }
}

function clip(s: string, max = 120): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
