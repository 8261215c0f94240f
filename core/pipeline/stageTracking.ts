/**
 * What a pipeline run leaves in the tracker, as MLflow nests runs: one parent run per `runwise run`
 * and one child run per stage run (`mlflow.parentRunId`). A stage's child run holds:
 *
 * - params: the stage's param values after it ran, flattened (`train.lr`; a file other than the
 *   pipeline's params.yaml prefixes its keys with its workspace path: `conf/model.yaml:depth`);
 * - tags (named in core/tracker/model.ts): runwise.stage, runwise.pipeline (file), runwise.cmd,
 *   runwise.exit_code, runwise.duration_ms, and MLflow's mlflow.source.git.commit and
 *   mlflow.source.git.branch plus runwise.git.dirty when the workspace is in a git repository;
 * - dataset inputs: each dependency with its hash as digest;
 * - outputs: `runwise/outputs.json`, an artifact listing each output's path, kind, md5, size (and
 *   file count for a folder). The bytes are not copied: a model or a data set may be gigabytes, and
 *   the lock file plus DVC's hashes already identify them. JSON rather than tags because a tag
 *   value is limited to 8000 characters (a folder of many outputs overflows it), and MLflow has no
 *   output-dataset entity for runs; an artifact is listed and downloaded like any other;
 * - the stage's log as the artifact `runwise/stage.log`;
 * - metrics read from its metrics/plots/DVCLive files (beside what the script logged itself
 *   through MLFLOW_RUN_ID), a metrics file's value as the key's latest (metricPoints).
 *
 * Status: FINISHED, FAILED, or KILLED when cancelled. A runner killed mid-stage leaves its runs
 * RUNNING, owned by its process: the tracker marks them FAILED on its next open (orphan recovery),
 * and the next runner stops the stage's processes and gives the reason (stageGroupRecords.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  CMD_TAG,
  DATASET_CONTEXT_TAG,
  DURATION_TAG,
  EXIT_CODE_TAG,
  GATE_FAILED_TAG,
  GIT_BRANCH_TAG,
  GIT_COMMIT_TAG,
  GIT_DIRTY_TAG,
  PARENT_RUN_TAG,
  PIPELINE_TAG,
  RUN_KIND_TAG,
  SOURCE_NAME_TAG,
  SOURCE_TYPE_TAG,
  OUTPUTS_ARTIFACT,
  STAGE_TAG,
  type Metric,
  type Param,
  type RunStatus,
  type Tag,
} from '../tracker/model';
import { DEFAULT_PARAMS_FILE } from '../language/files/paramsFiles';
import { parentDir, resolveWorkspacePath } from '../language/files/workspacePaths';
import { MAX_ENTITIES_PER_BATCH, MAX_PARAM_VAL_LENGTH, MAX_PARAMS_TAGS_PER_BATCH, MAX_TAG_VAL_LENGTH } from '../tracker/limits';
import type { Tracker } from '../tracker/tracker';
import type { StageMetrics } from './metricsFiles';
import type { LockEntry, PathHash, PipelineStage } from './pipelineModel';

/** Kept for importers of the stage tag from here; its home, with the other tag names, is core/tracker/model.ts. */
export { STAGE_TAG };
/** Kept for importers from here; its home is core/tracker/model.ts, where lineage reads it. */
export { OUTPUTS_ARTIFACT };
export const LOG_ARTIFACT = 'runwise/stage.log';

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

/**
 * `file → key → value` (a lock entry's params) as MLflow params. The lock names each file relative
 * to the stage's wdir (`../params.yaml`); the keys of the pipeline's default params file
 * (`params.yaml` beside the pipeline file, the workspace's for a root pipeline) are logged bare,
 * those of any other file as `<workspace-relative file>:key`, so a key's name does not depend on
 * the wdir of the stage that read it.
 */
export function flattenParams(params: LockEntry['params'], stage: Pick<PipelineStage, 'file' | 'wdir'>): Param[] {
  const defaultFile = resolveWorkspacePath(parentDir(stage.file), DEFAULT_PARAMS_FILE);
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
    const resolved = resolveWorkspacePath(stage.wdir, file);
    // A file outside the workspace cannot be tracked (the pipeline loader refuses it); its name stays as written.
    const name = resolved.kind === 'inside' ? resolved.path : file;
    const bare = defaultFile.kind === 'inside' && name === defaultFile.path;
    for (const [k, v] of Object.entries(values)) put(bare ? k : `${name}:${k}`, v);
  }
  return [...out].map(([key, value]) => ({ key, value }));
}

/** Whether two metric values are the same point value (NaN is NaN). */
function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Metric points for the tracker from what the stage's files held. `logged` is the latest point of
 * each key the run already has (what the script logged through the endpoint).
 *
 * A series (plots, DVCLive) is logged at its own steps. A scalar (a metrics file's value) is the
 * stage's final value of its key, so it must become the key's latest value (MLflow's latest: the
 * largest step, then the latest timestamp) without going back in the key's history: it is logged
 * at the largest step the key has, in the run or in this stage's series (0 when none, or the
 * DVCLive step when that is larger), with a timestamp after that step's point; and not at all when
 * it equals the latest value already there, which is then the same point.
 */
export function metricPoints(metrics: StageMetrics, timestamp: number, logged: ReadonlyMap<string, Pick<Metric, 'value' | 'step' | 'timestamp'>> = new Map()): Metric[] {
  const points: Metric[] = [];
  for (const [key, series] of metrics.series) for (const p of series) points.push({ key, value: p.value, step: p.step, timestamp });
  for (const [key, p] of metrics.scalars) {
    let latest = logged.get(key);
    for (const q of metrics.series.get(key) ?? []) {
      if (!latest || q.step > latest.step || (q.step === latest.step && timestamp >= latest.timestamp)) latest = { value: q.value, step: q.step, timestamp };
    }
    if (!latest || p.step > latest.step) {
      points.push({ key, value: p.value, step: p.step, timestamp });
      continue;
    }
    if (sameValue(p.value, latest.value)) continue;
    points.push({ key, value: p.value, step: latest.step, timestamp: Math.max(timestamp, latest.timestamp + 1) });
  }
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
  /** Where its params files are named from (the lock names them relative to the wdir). */
  stage: Pick<PipelineStage, 'file' | 'wdir'>;
}

/** Records the end of a stage run: everything listed in this module's comment. */
export async function finishStageRun(tracker: Tracker, runId: string, end: StageRunEnd, now = Date.now()): Promise<void> {
  const tags: Tag[] = [
    { key: EXIT_CODE_TAG, value: end.exitCode === null ? (end.signal ? `signal ${end.signal}` : 'none') : String(end.exitCode) },
    { key: DURATION_TAG, value: String(Math.round(end.durationMs)) },
  ];
  const params = end.entry ? flattenParams(end.entry.params, end.stage) : [];
  for (let i = 0; i < Math.max(params.length, 1); i += MAX_PARAMS_TAGS_PER_BATCH) {
    tracker.logBatch(runId, { params: params.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH), ...(i === 0 ? { tags } : {}) });
  }
  const logged = end.metrics ? new Map(tracker.getRun(runId).metrics.map((m) => [m.key, m])) : undefined;
  const points = end.metrics ? metricPoints(end.metrics, now, logged) : [];
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
  // The last run that succeeded and that no gate rejected: a rejected model is no baseline to beat.
  const page = tracker.searchRuns({
    experimentIds: [options.experimentId],
    filter: `tags.\`${STAGE_TAG}\` = ${quote(options.stageId)} and attributes.status = 'FINISHED'`,
    orderBy: ['attributes.start_time DESC'],
    maxResults: options.excludeRunIds.length + 100,
  });
  const run = page.items.find((r) => !options.excludeRunIds.includes(r.info.runId) && !r.tags.some((t) => t.key === GATE_FAILED_TAG));
  if (!run) return undefined;
  const m = run.metrics.find((x) => x.key === options.metric);
  if (!m) return { missing: `the previous accepted run of stage '${options.stageId}' (${run.info.runId.slice(0, 8)}) has no metric '${options.metric}'` };
  return { value: m.value, runId: run.info.runId };
}
