/** Plain data the tracker returns and accepts, in MLflow's vocabulary (camelCase on this side). */

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
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
