/**
 * What the editor shows about each stage (CodeLens, the Pipeline view): the plan's decision for it
 * (stageStatus.ts) combined with what this session saw it do (running since, last failure), as one
 * state and one short text ("up to date", "stale: data/train.csv changed", "running 0:42",
 * "failed: exit 2", "never run"). Also the paths whose change can change a state: the only paths
 * the editor watches. Plain data and functions; no editor API.
 */
import { lockFileOf } from './lockFile';
import type { ChangeReason, PipelineGraph, StageDecision } from './pipelineModel';
import { describeReason } from './stageStatus';

export type StageStateKind = 'up-to-date' | 'stale' | 'never-run' | 'running' | 'failed' | 'frozen' | 'unknown';

/** What this session saw of a stage's runs. */
export interface StageActivity {
  /** Set while the stage runs: when it started (ms since the epoch) and its run. */
  running?: { startedAt: number; runId?: string; logFile?: string };
  /** How its last run in this session ended. */
  last?: { status: 'succeeded' | 'failed' | 'cancelled' | 'not-run'; exitCode?: number | null; signal?: string | null; message?: string; runId?: string; logFile?: string };
}

export interface StageState {
  kind: StageStateKind;
  /** Why it is stale (or would be, when frozen). */
  reasons: ChangeReason[];
  /** While running. */
  startedAt?: number;
  /** Why the last run failed (failed only). */
  failure?: string;
}

/**
 * The state of one stage. A failure seen in this session stays shown while the stage is still out
 * of date; once the plan says it is up to date (a later run succeeded, e.g. from the CLI), that wins.
 * Without a decision (the plan could not be made, or the file watcher gave up) the state is unknown.
 */
export function stageState(decision: StageDecision | undefined, activity: StageActivity | undefined): StageState {
  if (activity?.running) return { kind: 'running', reasons: decision?.reasons ?? [], startedAt: activity.running.startedAt };
  const last = activity?.last;
  if (last && (last.status === 'failed' || last.status === 'cancelled') && decision?.action !== 'skip') {
    return { kind: 'failed', reasons: decision?.reasons ?? [], failure: failureText(last) };
  }
  if (!decision) return { kind: 'unknown', reasons: [] };
  if (decision.action === 'frozen') return { kind: 'frozen', reasons: decision.reasons };
  if (decision.action === 'skip') return { kind: 'up-to-date', reasons: [] };
  if (decision.reasons.some((r) => r.kind === 'never-run')) return { kind: 'never-run', reasons: decision.reasons };
  return { kind: 'stale', reasons: decision.reasons };
}

/** "exit 2", "killed by SIGTERM", "cancelled", or the runner's message. */
function failureText(last: NonNullable<StageActivity['last']>): string {
  if (last.status === 'cancelled') return 'cancelled';
  if (last.signal) return `killed by ${last.signal}`;
  if (typeof last.exitCode === 'number' && last.exitCode !== 0) return `exit ${last.exitCode}`;
  return clip(last.message ?? 'did not finish', 60);
}

/** The state in a few words, as a CodeLens or a tree row shows it. `now` (ms) times a running stage. */
export function stageStateText(state: StageState, now: number): string {
  switch (state.kind) {
    case 'up-to-date':
      return 'up to date';
    case 'never-run':
      return 'never run';
    case 'running':
      return `running ${formatElapsed(now - (state.startedAt ?? now))}`;
    case 'failed':
      return state.failure === 'cancelled' ? 'cancelled' : `failed: ${state.failure ?? ''}`;
    case 'unknown':
      return 'state unknown';
    case 'frozen':
      return state.reasons.length ? `frozen, stale: ${reasonsText(state.reasons)}` : 'frozen';
    case 'stale':
      return `stale: ${reasonsText(state.reasons)}`;
  }
}

/** The first reason, and how many more there are: "data/train.csv changed (+2 more)". */
export function reasonsText(reasons: readonly ChangeReason[]): string {
  if (reasons.length === 0) return '';
  const first = clip(describeReason(reasons[0]!), 60);
  return reasons.length > 1 ? `${first} (+${reasons.length - 1} more)` : first;
}

/** Elapsed time as a clock: 0:07, 1:42, 1:02:03. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Workspace-relative paths whose change can change a stage's state: the pipeline files, their lock
 * files (runwise.lock, and dvc.lock beside a dvc.yaml), every stage's deps and outs, and its params
 * files. Sorted, without repeats; nothing else in the workspace.
 */
export function watchedPaths(graph: Pick<PipelineGraph, 'files' | 'stages'>): string[] {
  const paths = new Set<string>();
  for (const file of graph.files) {
    paths.add(file);
    paths.add(lockFileOf(file));
    const base = file.slice(file.lastIndexOf('/') + 1);
    if (base === 'dvc.yaml' || base === 'dvc.yml') paths.add(file.slice(0, file.length - base.length) + 'dvc.lock');
  }
  for (const s of graph.stages) {
    for (const d of s.deps) paths.add(d);
    for (const o of s.outs) paths.add(o.path);
    for (const p of s.params) paths.add(p.file);
  }
  paths.delete('');
  return [...paths].sort();
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
