/** Plain data the tracker returns and accepts, in MLflow's vocabulary (camelCase on this side). */

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run id as MLflow makes them: 32 lowercase hex digits (a uuid4 without dashes). */
export const RUN_ID_PATTERN = /^[0-9a-f]{32}$/;

/*
 * System tags (mlflow/utils/mlflow_tags.py, and Runwise's own), named once here. This module holds
 * plain data and constants only, so the extension host, the CLI and the webviews can all import it.
 */
/** The run's name; the tracker mirrors it into the run's name column. */
export const RUN_NAME_TAG = 'mlflow.runName';
/** The run's note (Markdown in MLflow's UI). */
export const NOTE_TAG = 'mlflow.note.content';
/** The parent run's id, for nested runs. */
export const PARENT_RUN_TAG = 'mlflow.parentRunId';
export const USER_TAG = 'mlflow.user';
/** Where a run came from: its kind ('LOCAL' for a script) and the script's path. */
export const SOURCE_TYPE_TAG = 'mlflow.source.type';
export const SOURCE_NAME_TAG = 'mlflow.source.name';
/** A dataset input's role in the run, e.g. 'training' or 'eval' (an input tag). */
export const DATASET_CONTEXT_TAG = 'mlflow.data.context';
/** Why Runwise ended a run that its owner left RUNNING. */
export const FAILURE_REASON_TAG = 'runwise.failure_reason';
/** The run tag where MLflow's server keeps each `runs/log-model` call's model JSON. */
export const LOGGED_MODELS_TAG = 'mlflow.log-model.history';
/** The git commit and branch the run's code was at (MLflow's MLFLOW_GIT_COMMIT, MLFLOW_GIT_BRANCH). */
export const GIT_COMMIT_TAG = 'mlflow.source.git.commit';
export const GIT_BRANCH_TAG = 'mlflow.source.git.branch';
/** Whether the workspace had uncommitted changes at that commit ('true'/'false'; MLflow has no such tag). */
export const GIT_DIRTY_TAG = 'runwise.git.dirty';
/* Pipeline runs (core/pipeline): one parent run per pipeline run, one child run per stage run. */
/** 'pipeline' on a pipeline run, 'stage' on a stage's run. */
export const RUN_KIND_TAG = 'runwise.kind';
/** The stage's id (`train`, `sub/dvc.yaml:train@us`). */
export const STAGE_TAG = 'runwise.stage';
/** The pipeline file of a stage run; the files, comma-separated, of a pipeline run. */
export const PIPELINE_TAG = 'runwise.pipeline';
/** The stage's commands, one a line. */
export const CMD_TAG = 'runwise.cmd';
/** The last command's exit code, `signal SIGKILL`, or `none` when no command ran. */
export const EXIT_CODE_TAG = 'runwise.exit_code';
/** How long the stage's commands ran, in milliseconds. */
export const DURATION_TAG = 'runwise.duration_ms';
/** On a pipeline run: how many gates passed and failed (`3 passed, 1 failed`). */
export const GATES_TAG = 'runwise.gates';
/** On a stage's run whose metrics a gate rejected: the gate, as `metric op value` (its `previous.` is not this run). */
export const GATE_FAILED_TAG = 'runwise.gate_failed';
/**
 * The sha256 of the model a run used or evaluated (of the file; of a folder, the registry's manifest
 * hash): the model registry finds a version's evaluation runs by it.
 */
export const MODEL_SHA256_TAG = 'runwise.model.sha256';
/** MLflow's tag on a logged model: the registered versions made from it, a JSON list of {name, version}. */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';
/** What a pipeline's stage run wrote (a JSON list of {path, md5}, core/pipeline/stageTracking.ts); lineage reads it back. */
export const OUTPUTS_ARTIFACT = 'runwise/outputs.json';
/** The JSON report an evaluation run stores (core/evaluation); the registry's cards read it back. */
export const EVALUATION_REPORT_ARTIFACT = 'evaluation/report.json';
/** The JSON report a drift run stores (runwise drift --log, the pipeline's drift step, a watched folder). */
export const DRIFT_REPORT_ARTIFACT = 'drift/report.json';
export type LifecycleStage = 'active' | 'deleted';
/** Which runs or experiments a search sees, as MLflow's ViewType. */
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  parentRunId: string | null;
}

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
  /**
   * MLflow 3: the logged model the point is about. A point logged with one also lands in the
   * model's metrics (`LoggedModel.metrics`), with the dataset it was computed on if named.
   */
  modelId?: string;
  datasetName?: string;
  datasetDigest?: string;
}

export interface Param {
  key: string;
  value: string;
}

export interface Tag {
  key: string;
  value: string;
}

export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  dataset: Dataset;
  tags: Tag[];
}

export interface Run {
  info: RunInfo;
  /** Latest value of each metric. */
  metrics: Metric[];
  params: Param[];
  tags: Tag[];
  inputs: DatasetInput[];
  /** Logged models the run used (runs/log-inputs' `models`); absent when none. */
  modelInputs?: LoggedModelInput[];
  /** Logged models the run produced (runs/outputs); absent when none. */
  modelOutputs?: LoggedModelOutput[];
}

// -----------------------------------------------------------------------------------------------
// MLflow 3 logged models

/** LoggedModelStatus in service.proto, in number order (0 to 3). */
export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_STATUS_UNSPECIFIED',
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

export interface LoggedModelInput {
  modelId: string;
}

export interface LoggedModelOutput {
  modelId: string;
  step: number;
}

/** A point linked to a model: the run that logged it and the dataset it was computed on. */
export interface LoggedModelMetric extends Metric {
  modelId: string;
  runId: string;
}

export interface LoggedModel {
  /** `m-<32 hex>`. */
  modelId: string;
  experimentId: string;
  name: string;
  /** `mlflow-artifacts:/<experiment_id>/models/<model_id>/artifacts`. */
  artifactUri: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  status: LoggedModelStatus;
  statusMessage?: string;
  modelType?: string;
  sourceRunId?: string;
  lifecycleStage: LifecycleStage;
  tags: Tag[];
  params: Param[];
  /** Every point logged with this model's id, in logging order of (key, step, timestamp). */
  metrics: LoggedModelMetric[];
}

export interface CreateLoggedModelOptions {
  experimentId?: string;
  /** A random readable name when absent. */
  name?: string;
  sourceRunId?: string;
  modelType?: string;
  tags?: readonly Tag[];
  params?: readonly Param[];
}

/** One ordering of search-logged-models, as SearchLoggedModels.OrderBy. */
export interface LoggedModelOrder {
  /** An attribute (`name`, `creation_time`, …) or `metrics.<key>`. */
  fieldName: string;
  /** Default true. */
  ascending?: boolean;
  /** For a metric: only its points on this dataset (and digest) count. */
  datasetName?: string;
  datasetDigest?: string;
}

export interface LoggedModelSearch {
  experimentIds: string[];
  /** name, status, model_type, source_run_id, creation_time…, `metrics.`, `params.`, `tags.` comparisons. */
  filter?: string;
  /** Metric comparisons count only points on these datasets. */
  datasets?: { datasetName: string; datasetDigest?: string }[];
  orderBy?: LoggedModelOrder[];
  maxResults?: number;
  pageToken?: string;
}

export interface ArtifactRecord {
  /** Path inside the run's artifact root, `/`-separated, never absolute, never `..`. */
  path: string;
  size: number;
  sha256: string;
}

export interface ArtifactListEntry {
  path: string;
  isDir: boolean;
  /** Size in bytes; absent for directories. */
  fileSize?: number;
}

/** One point of a downsampled metric history: a step bucket with its min, max and last value. */
export interface MetricBucket {
  /** The step of the last point in the bucket. */
  step: number;
  min: number;
  max: number;
  last: number;
  /** How many points the bucket holds. */
  count: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque token for the next page, absent on the last one. */
  nextPageToken?: string;
}

export interface RunSearch {
  experimentIds?: string[];
  /** MLflow filter syntax, plus `or` and parentheses. */
  filter?: string;
  /** Each like `metrics.acc DESC`, `attributes.start_time`, `params.lr ASC`. */
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  viewType?: ViewType;
}

export interface ExperimentSearch {
  /** Over `name`, `tags.<key>`, `attributes.creation_time|last_update_time|name`. */
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  viewType?: ViewType;
}
