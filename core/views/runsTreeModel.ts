/**
 * The Runs view as plain data: experiments → runs (child runs under their parent), each node with
 * its label, description, tooltip and status, built from what the tracker returns. The extension
 * turns these nodes into tree items one to one; everything that decides what the view shows lives
 * here, testable without an editor.
 *
 * The model is fed by `Tracker.changesSince`: a first full load, then only the runs and experiments
 * that changed. `apply` says which nodes moved so the view refreshes just those.
 */
import type { Experiment, Run, RunStatus } from '../tracker/model';
import type { TrackerChanges } from '../tracker/tracker';

/**
 * MLflow's note tag (the tracker's NOTE_TAG). Spelled out here so this module imports the tracker
 * for its types only: the extension loads the view model at activation and the tracker on first use.
 */
export const RUN_NOTE_TAG = 'mlflow.note.content';

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
  /** For `when` clauses of context menus: 'runwise.experiment', 'runwise.run', 'runwise.run.running'. */
  contextValue: string;
}

export interface RunsTreeOptions {
  /** Metrics to show in a run's description, in this order; others fill up to `maxMetrics`. */
  keyMetrics?: readonly string[];
  /** How many metrics a description shows (default 3). */
  maxMetrics?: number;
  /** Runs listed per experiment (and per parent run) before a "more" row (default 200). */
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
  const note = run.tags.find((t) => t.key === RUN_NOTE_TAG)?.value;
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
  };
}

/** A metric value in at most 4 significant digits, without trailing zeros. */
export function formatMetricValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

/** A duration in ms as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The metrics a run's description shows: configured keys first, then well-known names, then by name. */
export function keyMetricsOf(run: RunSummary, keyMetrics: readonly string[] = [], max = 3): [string, number][] {
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

const STATUS_TEXT: Record<RunStatus, string> = {
  RUNNING: 'running',
  SCHEDULED: 'scheduled',
  FINISHED: 'finished',
  FAILED: 'failed',
  KILLED: 'killed',
};

export class RunsTreeModel {
  private readonly experiments = new Map<string, ExperimentSummary>();
  private readonly runs = new Map<string, RunSummary>();
  private marker: number | undefined;
  private readonly options: Required<Omit<RunsTreeOptions, 'now'>> & { now: () => number };

  constructor(options: RunsTreeOptions = {}) {
    this.options = {
      keyMetrics: options.keyMetrics ?? [],
      maxMetrics: options.maxMetrics ?? 3,
      maxRunsPerExperiment: options.maxRunsPerExperiment ?? 200,
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
    this.marker = changes.marker;
    if (!changes.full && this.rootSignature() !== rootsBefore) rootsChanged = true;
    return { unchanged: !rootsChanged && touched.size === 0, rootsChanged, experiments: [...touched] };
  }

  private applyExperiment(e: Experiment): void {
    if (e.lifecycleStage === 'deleted') this.experiments.delete(e.experimentId);
    else this.experiments.set(e.experimentId, { experimentId: e.experimentId, name: e.name });
  }

  /** What the roots depend on: shown experiments, their names and their descriptions. */
  private rootSignature(): string {
    return JSON.stringify(this.roots().map((n) => [n.id, n.label, n.description]));
  }

  getRun(runId: string): RunSummary | undefined {
    return this.runs.get(runId);
  }

  /** Runs in the RUNNING state (deleted ones excluded). */
  runningRuns(): RunSummary[] {
    return [...this.runs.values()].filter((r) => r.status === 'RUNNING');
  }

  get runCount(): number {
    return this.runs.size;
  }

  /**
   * The top level: experiments, by name; the Default experiment (0) only when it has runs. A run
   * whose experiment the model does not know (deleted experiment) is not shown.
   */
  roots(): RunsTreeNode[] {
    const counts = new Map<string, { total: number; running: number }>();
    for (const r of this.runs.values()) {
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
      id: `experiment:${e.experimentId}`,
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
    const inExperiment = [...this.runs.values()].filter((r) => r.experimentId === node.experimentId);
    const ids = new Set(inExperiment.map((r) => r.runId));
    const parentOf = (r: RunSummary) => (r.parentRunId && ids.has(r.parentRunId) && r.parentRunId !== r.runId ? r.parentRunId : undefined);
    const list = inExperiment
      .filter((r) => (node.kind === 'experiment' ? parentOf(r) === undefined : parentOf(r) === node.runId))
      .sort((a, b) => b.startTime - a.startTime || (a.runId < b.runId ? -1 : 1));
    const hasChildren = new Set(inExperiment.map(parentOf).filter((p): p is string => p !== undefined));
    const max = this.options.maxRunsPerExperiment;
    const nodes = list.slice(0, max).map((r) => this.runNode(r, hasChildren.has(r.runId)));
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

  /** The node of one run, or undefined when the model does not have it. */
  nodeOfRun(runId: string): RunsTreeNode | undefined {
    const r = this.runs.get(runId);
    if (!r) return undefined;
    const hasChildren = [...this.runs.values()].some((c) => c.parentRunId === runId && c.runId !== runId);
    return this.runNode(r, hasChildren);
  }

  /** The parent row of a run (its parent run, else its experiment), for the view's reveal. */
  parentOf(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'experiment') return undefined;
    const run = node.runId ? this.runs.get(node.runId) : undefined;
    if (run?.parentRunId && this.runs.get(run.parentRunId)?.experimentId === run.experimentId) return this.nodeOfRun(run.parentRunId);
    return this.roots().find((e) => e.experimentId === node.experimentId);
  }

  runNode(r: RunSummary, hasChildren = false): RunsTreeNode {
    const metrics = keyMetricsOf(r, this.options.keyMetrics, this.options.maxMetrics);
    const description = metrics.length
      ? metrics.map(([k, v]) => `${k} ${formatMetricValue(v)}`).join(' · ')
      : r.status === 'RUNNING'
        ? 'running'
        : STATUS_TEXT[r.status];
    return {
      id: `run:${r.runId}`,
      kind: 'run',
      label: r.runName,
      description,
      tooltip: this.runTooltip(r),
      icon: r.status,
      collapsible: hasChildren ? 'collapsed' : 'none',
      experimentId: r.experimentId,
      runId: r.runId,
      contextValue: r.status === 'RUNNING' ? 'runwise.run.running' : 'runwise.run',
    };
  }

  /** Plain text: name, status and timing, params, every latest metric, the note. */
  runTooltip(r: RunSummary): string {
    const lines = [r.runName];
    const end = r.endTime ?? (r.status === 'RUNNING' ? this.options.now() : null);
    const timing = `started ${new Date(r.startTime).toISOString().replace('T', ' ').slice(0, 19)}${end != null ? `, ${r.status === 'RUNNING' ? 'running for' : 'took'} ${formatDuration(end - r.startTime)}` : ''}`;
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
    return lines.join('\n');
  }
}

function clip(s: string, max = 120): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
