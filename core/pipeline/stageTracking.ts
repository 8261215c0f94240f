/**
 * What a pipeline run leaves in the tracker, as MLflow nests runs: one parent run per `runwise run`
 * and one child run per stage run (`mlflow.parentRunId`). A stage's child run holds:
 *
 * - params: the stage's param values after it ran, flattened (`train.lr`; a file other than
 *   params.yaml prefixes its keys: `conf/model.yaml:depth`);
 * - tags: runwise.stage, runwise.pipeline (file), runwise.cmd, runwise.exit_code,
 *   runwise.duration_ms, and MLflow's mlflow.source.git.commit plus runwise.git.dirty when the
 *   workspace is in a git repository;
 * - dataset inputs: each dependency with its hash as digest;
 * - outputs: `runwise/outputs.json`, an artifact listing each output's path, kind, md5, size (and
 *   file count for a folder). The bytes are not copied: a model or a data set may be gigabytes, and
 *   the lock file plus DVC's hashes already identify them. JSON rather than tags because a tag
 *   value is limited to 8000 characters (a folder of many outputs overflows it), and MLflow has no
 *   output-dataset entity for runs; an artifact is listed and downloaded like any other;
 * - the stage's log as the artifact `runwise/stage.log`;
 * - metrics read from its metrics/plots/DVCLive files (beside what the script logged itself
 *   through MLFLOW_RUN_ID).
 *
 * Status: FINISHED, FAILED, or KILLED when cancelled. A runner killed mid-stage leaves its runs
 * RUNNING, owned by its process: the tracker marks them FAILED on its next open (orphan recovery).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DATASET_CONTEXT_TAG, PARENT_RUN_TAG, SOURCE_NAME_TAG, SOURCE_TYPE_TAG, type Metric, type Param, type RunStatus, type Tag } from '../tracker/model';
import { MAX_ENTITIES_PER_BATCH, MAX_PARAM_VAL_LENGTH, MAX_PARAMS_TAGS_PER_BATCH, MAX_TAG_VAL_LENGTH } from '../tracker/limits';
import type { Tracker } from '../tracker/tracker';
import type { StageMetrics } from './metricsFiles';
import type { LockEntry, PathHash, PipelineStage } from './pipelineModel';

/** Runwise's tags on pipeline runs. */
export const RUN_KIND_TAG = 'runwise.kind';
export const STAGE_TAG = 'runwise.stage';
export const PIPELINE_TAG = 'runwise.pipeline';
export const CMD_TAG = 'runwise.cmd';
export const EXIT_CODE_TAG = 'runwise.exit_code';
export const DURATION_TAG = 'runwise.duration_ms';
export const GIT_DIRTY_TAG = 'runwise.git.dirty';
/** MLflow's git tags (mlflow/utils/mlflow_tags.py). */
export const GIT_COMMIT_TAG = 'mlflow.source.git.commit';
export const GIT_BRANCH_TAG = 'mlflow.source.git.branch';
export const OUTPUTS_ARTIFACT = 'runwise/outputs.json';
export const LOG_ARTIFACT = 'runwise/stage.log';
export const DEFAULT_PARAMS_FILE = 'params.yaml';

export interface GitState {
  commit: string;
  branch?: string;
  dirty: boolean;
}

/** The commit the workspace is at and whether it has changes, or undefined when git or a repository is absent. */
export function readGitState(root: string): GitState | undefined {
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
    let branch: string | undefined;
    try {
      branch = git('symbolic-ref', '--short', '-q', 'HEAD') || undefined;
    } catch {
      branch = undefined; // a detached HEAD
    }
    // Runwise's own state is not a change of the user's.
    const dirty = git('status', '--porcelain', '--untracked-files=normal', '--', '.', ':(exclude).runwise') !== '';
    return { commit, ...(branch ? { branch } : {}), dirty };
  } catch {
    return undefined;
  }
}

function gitTags(git: GitState | undefined): Tag[] {
  if (!git) return [];
  return [
    { key: GIT_COMMIT_TAG, value: git.commit },
    ...(git.branch ? [{ key: GIT_BRANCH_TAG, value: git.branch }] : []),
    { key: GIT_DIRTY_TAG, value: String(git.dirty) },
  ];
}

function clip(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

/** The parent run of one `runwise run`. */
export function startPipelineRun(tracker: Tracker, options: { experimentId: string; files: readonly string[]; runName?: string; git?: GitState }): string {
  const run = tracker.createRun({
    experimentId: options.experimentId,
    ...(options.runName ? { runName: options.runName } : {}),
    tags: [
      { key: RUN_KIND_TAG, value: 'pipeline' },
      { key: PIPELINE_TAG, value: clip(options.files.join(', '), MAX_TAG_VAL_LENGTH) },
      { key: SOURCE_TYPE_TAG, value: 'PROJECT' },
      { key: SOURCE_NAME_TAG, value: clip(options.files.join(', '), MAX_TAG_VAL_LENGTH) },
      ...gitTags(options.git),
    ],
  });
  return run.info.runId;
}

/** A stage's child run, RUNNING, before its command starts (so the command can log into it). */
export function startStageRun(tracker: Tracker, options: { experimentId: string; parentRunId: string; stage: PipelineStage; git?: GitState }): string {
  const { stage } = options;
  const run = tracker.createRun({
    experimentId: options.experimentId,
    runName: stage.id,
    tags: [
      { key: PARENT_RUN_TAG, value: options.parentRunId },
      { key: RUN_KIND_TAG, value: 'stage' },
      { key: STAGE_TAG, value: stage.id },
      { key: PIPELINE_TAG, value: stage.file },
      { key: CMD_TAG, value: clip(stage.builtin ? `(built-in ${stage.builtin})` : stage.cmd.join('\n'), MAX_TAG_VAL_LENGTH) },
      { key: SOURCE_TYPE_TAG, value: 'PROJECT' },
      { key: SOURCE_NAME_TAG, value: `${stage.file}:${stage.line}` },
      ...gitTags(options.git),
    ],
  });
  return run.info.runId;
}

/** `file → key → value` (a lock entry's params) as MLflow params. */
export function flattenParams(params: LockEntry['params']): Param[] {
  const out = new Map<string, string>();
  const put = (key: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) put(`${key}.${k}`, v);
      return;
    }
    const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
    out.set(key, clip(text, MAX_PARAM_VAL_LENGTH));
  };
  for (const [file, values] of Object.entries(params)) {
    for (const [k, v] of Object.entries(values)) put(file === DEFAULT_PARAMS_FILE ? k : `${file}:${k}`, v);
  }
  return [...out].map(([key, value]) => ({ key, value }));
}

/** Metric points for the tracker from what the stage's files held. */
export function metricPoints(metrics: StageMetrics, timestamp: number): Metric[] {
  const points: Metric[] = [];
  for (const [key, series] of metrics.series) for (const p of series) points.push({ key, value: p.value, step: p.step, timestamp });
  // A scalar after its series, so the latest value is the scalar's when both share a step.
  for (const [key, p] of metrics.scalars) points.push({ key, value: p.value, step: p.step, timestamp });
  return points;
}

export interface StageOutputRecord {
  path: string;
  kind: string;
  md5: string | null;
  size: number | null;
  nfiles?: number;
}

export interface StageRunEnd {
  status: RunStatus;
  exitCode: number | null;
  signal?: string | null;
  durationMs: number;
  /** The lock entry after the stage ran (params, dep and out hashes); absent when it failed. */
  entry?: LockEntry;
  /** Dependency hashes, for the dataset inputs (workspace-relative path → hash). */
  deps: ReadonlyMap<string, PathHash | undefined>;
  outputs: readonly StageOutputRecord[];
  metrics?: StageMetrics;
  /** Absolute path of the stage's log file. */
  logFile?: string;
}

/** Records the end of a stage run: everything listed in this module's comment. */
export async function finishStageRun(tracker: Tracker, runId: string, end: StageRunEnd, now = Date.now()): Promise<void> {
  const tags: Tag[] = [
    { key: EXIT_CODE_TAG, value: end.exitCode === null ? (end.signal ? `signal ${end.signal}` : 'none') : String(end.exitCode) },
    { key: DURATION_TAG, value: String(Math.round(end.durationMs)) },
  ];
  const params = end.entry ? flattenParams(end.entry.params) : [];
  for (let i = 0; i < Math.max(params.length, 1); i += MAX_PARAMS_TAGS_PER_BATCH) {
    tracker.logBatch(runId, { params: params.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH), ...(i === 0 ? { tags } : {}) });
  }
  const points = end.metrics ? metricPoints(end.metrics, now) : [];
  for (let i = 0; i < points.length; i += MAX_ENTITIES_PER_BATCH) tracker.logBatch(runId, { metrics: points.slice(i, i + MAX_ENTITIES_PER_BATCH) });
  const inputs = [...end.deps].flatMap(([dep, hash]) =>
    hash
      ? [
          {
            dataset: { name: dep, digest: hash.md5, sourceType: 'local', source: dep },
            tags: [{ key: DATASET_CONTEXT_TAG, value: 'dependency' }],
          },
        ]
      : [],
  );
  if (inputs.length > 0) tracker.logInputs(runId, inputs);
  if (end.outputs.length > 0) await tracker.putArtifact(runId, OUTPUTS_ARTIFACT, Buffer.from(`${JSON.stringify(end.outputs, null, 2)}\n`));
  if (end.logFile && existsSync(end.logFile)) await tracker.putArtifact(runId, LOG_ARTIFACT, path.resolve(end.logFile));
  tracker.updateRun(runId, { status: end.status, endTime: now });
}

/** Ends a run (the pipeline's parent run, or a stage run that never started its command). */
export function endRun(tracker: Tracker, runId: string, status: RunStatus, tags: readonly Tag[] = []): void {
  if (tags.length > 0) tracker.logBatch(runId, { tags });
  tracker.updateRun(runId, { status, endTime: Date.now() });
}

/**
 * The latest value of `metric` in the last successful (FINISHED) run of stage `stageId` before this
 * one, or undefined when the stage has no such run. `missing` says the run exists but lacks it.
 */
export function previousStageMetric(
  tracker: Tracker,
  options: { experimentId: string; stageId: string; metric: string; excludeRunIds: readonly string[] },
): { value: number; runId: string } | { missing: string } | undefined {
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const page = tracker.searchRuns({
    experimentIds: [options.experimentId],
    filter: `tags.\`${STAGE_TAG}\` = ${quote(options.stageId)} and attributes.status = 'FINISHED'`,
    orderBy: ['attributes.start_time DESC'],
    maxResults: options.excludeRunIds.length + 1,
  });
  const run = page.items.find((r) => !options.excludeRunIds.includes(r.info.runId));
  if (!run) return undefined;
  const m = run.metrics.find((x) => x.key === options.metric);
  if (!m) return { missing: `the previous successful run of stage '${options.stageId}' (${run.info.runId.slice(0, 8)}) has no metric '${options.metric}'` };
  return { value: m.value, runId: run.info.runId };
}
