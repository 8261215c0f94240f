/**
 * MLflow's REST API, typed once: the routes of its tracking service (`MlflowService` in
 * mlflow/protos/service.proto) and of its artifact proxy (`MlflowArtifactsService` in
 * mlflow_artifacts.proto) that Runwise's endpoint serves, each keyed by its rpc's request message
 * name (`CreateExperiment`, `LogBatch`), and the JSON shapes of the messages they carry.
 *
 * The endpoint's route table (core/endpoint/trackingServer.ts) is built from MLFLOW_ROUTES; clients
 * and tests address routes through it instead of writing paths, so a path or a method is written
 * in one place. README.md's route table says which of MLflow's other routes are not served.
 *
 * Paths are relative to MLFLOW_API_PREFIX (or MLFLOW_ARTIFACTS_PREFIX); `{name}` is a path
 * parameter, as service.proto writes them. `method` is the one service.proto gives (and the
 * `mlflow` client sends); a route with `alsoGet` answers GET with the message as query parameters too.
 */
import type { RunStatus, ViewType } from '../tracker/model';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RestRoute {
  readonly method: HttpMethod;
  readonly path: string;
  readonly alsoGet?: true;
}

/**
 * Runwise's one addition to the wire: the request header in which a tracking client states its own
 * pid, a decimal number (the Python client, core/trackingClient/runwise_tracking.py, spells it out
 * too). The endpoint takes it only when that process holds the connection's socket (see
 * core/endpoint/peerProcess.ts); the `mlflow` client never sends it and is found by its socket.
 */
export const CLIENT_PID_HEADER = 'X-Runwise-Client-Pid';

/** Where the tracking service's routes are (`/ajax-api/2.0/mlflow`, MLflow's UI prefix, is answered too). */
export const MLFLOW_API_PREFIX = '/api/2.0/mlflow';
export const MLFLOW_AJAX_API_PREFIX = '/ajax-api/2.0/mlflow';
/** Where the artifact proxy's routes are (and under `/ajax-api/2.0/mlflow-artifacts`). */
export const MLFLOW_ARTIFACTS_PREFIX = '/api/2.0/mlflow-artifacts';
export const MLFLOW_AJAX_ARTIFACTS_PREFIX = '/ajax-api/2.0/mlflow-artifacts';

/** The tracking service's routes the endpoint serves, by rpc. */
export const MLFLOW_ROUTES = {
  // Experiments
  CreateExperiment: { method: 'POST', path: 'experiments/create' },
  GetExperiment: { method: 'GET', path: 'experiments/get' },
  GetExperimentByName: { method: 'GET', path: 'experiments/get-by-name' },
  SearchExperiments: { method: 'POST', path: 'experiments/search', alsoGet: true },
  UpdateExperiment: { method: 'POST', path: 'experiments/update' },
  DeleteExperiment: { method: 'POST', path: 'experiments/delete' },
  RestoreExperiment: { method: 'POST', path: 'experiments/restore' },
  SetExperimentTag: { method: 'POST', path: 'experiments/set-experiment-tag' },
  DeleteExperimentTag: { method: 'POST', path: 'experiments/delete-experiment-tag' },
  // Runs
  CreateRun: { method: 'POST', path: 'runs/create' },
  GetRun: { method: 'GET', path: 'runs/get' },
  UpdateRun: { method: 'POST', path: 'runs/update' },
  DeleteRun: { method: 'POST', path: 'runs/delete' },
  RestoreRun: { method: 'POST', path: 'runs/restore' },
  SearchRuns: { method: 'POST', path: 'runs/search' },
  LogMetric: { method: 'POST', path: 'runs/log-metric' },
  LogParam: { method: 'POST', path: 'runs/log-parameter' },
  SetTag: { method: 'POST', path: 'runs/set-tag' },
  DeleteTag: { method: 'POST', path: 'runs/delete-tag' },
  LogBatch: { method: 'POST', path: 'runs/log-batch' },
  LogInputs: { method: 'POST', path: 'runs/log-inputs' },
  LogOutputs: { method: 'POST', path: 'runs/outputs' },
  LogModel: { method: 'POST', path: 'runs/log-model' },
  GetMetricHistory: { method: 'GET', path: 'metrics/get-history' },
  // MLflow 3's logged models
  CreateLoggedModel: { method: 'POST', path: 'logged-models' },
  SearchLoggedModels: { method: 'POST', path: 'logged-models/search' },
  GetLoggedModel: { method: 'GET', path: 'logged-models/{model_id}' },
  FinalizeLoggedModel: { method: 'PATCH', path: 'logged-models/{model_id}' },
  DeleteLoggedModel: { method: 'DELETE', path: 'logged-models/{model_id}' },
  SetLoggedModelTags: { method: 'PATCH', path: 'logged-models/{model_id}/tags' },
  DeleteLoggedModelTag: { method: 'DELETE', path: 'logged-models/{model_id}/tags/{tag_key}' },
  LogLoggedModelParams: { method: 'POST', path: 'logged-models/{model_id}/params' },
  ListLoggedModelArtifacts: { method: 'GET', path: 'logged-models/{model_id}/artifacts/directories' },
} as const satisfies Record<string, RestRoute>;

export type MlflowRpc = keyof typeof MLFLOW_ROUTES;

/**
 * The Model Registry's routes (`ModelRegistryService` in mlflow/protos/model_registry.proto), under
 * the same prefix, by rpc. `registered-models/alias` carries three rpcs, one per method.
 * GetLatestVersions is POST in the proto and also GET (the client tries each, call_all_endpoints).
 */
export const MLFLOW_REGISTRY_ROUTES = {
  CreateRegisteredModel: { method: 'POST', path: 'registered-models/create' },
  RenameRegisteredModel: { method: 'POST', path: 'registered-models/rename' },
  UpdateRegisteredModel: { method: 'PATCH', path: 'registered-models/update' },
  DeleteRegisteredModel: { method: 'DELETE', path: 'registered-models/delete' },
  GetRegisteredModel: { method: 'GET', path: 'registered-models/get' },
  SearchRegisteredModels: { method: 'GET', path: 'registered-models/search' },
  GetLatestVersions: { method: 'POST', path: 'registered-models/get-latest-versions', alsoGet: true },
  SetRegisteredModelTag: { method: 'POST', path: 'registered-models/set-tag' },
  DeleteRegisteredModelTag: { method: 'DELETE', path: 'registered-models/delete-tag' },
  SetRegisteredModelAlias: { method: 'POST', path: 'registered-models/alias' },
  DeleteRegisteredModelAlias: { method: 'DELETE', path: 'registered-models/alias' },
  GetModelVersionByAlias: { method: 'GET', path: 'registered-models/alias' },
  CreateModelVersion: { method: 'POST', path: 'model-versions/create' },
  UpdateModelVersion: { method: 'PATCH', path: 'model-versions/update' },
  TransitionModelVersionStage: { method: 'POST', path: 'model-versions/transition-stage' },
  DeleteModelVersion: { method: 'DELETE', path: 'model-versions/delete' },
  GetModelVersion: { method: 'GET', path: 'model-versions/get' },
  SearchModelVersions: { method: 'GET', path: 'model-versions/search' },
  GetModelVersionDownloadUri: { method: 'GET', path: 'model-versions/get-download-uri' },
  SetModelVersionTag: { method: 'POST', path: 'model-versions/set-tag' },
  DeleteModelVersionTag: { method: 'DELETE', path: 'model-versions/delete-tag' },
} as const satisfies Record<string, RestRoute>;

export type MlflowRegistryRpc = keyof typeof MLFLOW_REGISTRY_ROUTES;

/** model_registry.proto's ModelVersion in protobuf-JSON; `version` is a string there. */
export interface ModelVersionJson {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description?: string;
  source: string;
  run_id?: string;
  status: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';
  run_link?: string;
  tags?: KeyValue[];
  aliases?: string[];
  model_id?: string;
}

/** model_registry.proto's RegisteredModel. */
export interface RegisteredModelJson {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description?: string;
  latest_versions?: ModelVersionJson[];
  tags?: KeyValue[];
  aliases?: { alias: string; version: string }[];
}

/**
 * The artifact proxy's routes the endpoint answers. The multipart-upload ones are answered 501
 * NOT_IMPLEMENTED with the message on which the client falls back to one PUT (artifacts are stored
 * locally); DeleteArtifact is not served.
 */
export const MLFLOW_ARTIFACTS_ROUTES = {
  ListArtifacts: { method: 'GET', path: 'artifacts' },
  DownloadArtifact: { method: 'GET', path: 'artifacts/{artifact_path}' },
  UploadArtifact: { method: 'PUT', path: 'artifacts/{artifact_path}' },
  CreateMultipartUpload: { method: 'POST', path: 'mpu/create/{artifact_path}' },
  CompleteMultipartUpload: { method: 'POST', path: 'mpu/complete/{artifact_path}' },
  AbortMultipartUpload: { method: 'POST', path: 'mpu/abort/{artifact_path}' },
} as const satisfies Record<string, RestRoute>;

/**
 * A route's URL path under its prefix, with its `{name}` parameters filled in (percent-encoded; an
 * `artifact_path` or `tag_key` keeps its slashes, as MLflow's clients send them).
 */
export function routeUrl(route: RestRoute, params: Readonly<Record<string, string>> = {}, prefix = MLFLOW_API_PREFIX): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`route ${route.path} needs the path parameter '${name}'`);
    const encoded = encodeURIComponent(value);
    return name === 'artifact_path' || name === 'tag_key' ? encoded.replace(/%2F/g, '/') : encoded;
  });
  return `${prefix}/${path}`;
}

// -----------------------------------------------------------------------------------------------
// Wire shapes: service.proto's messages in protobuf-JSON (snake_case). int64 fields are numbers
// here (MLflow's server writes them so; a request may also send decimal strings), doubles may be
// the strings "NaN", "Infinity", "-Infinity". Empty repeated fields and unset fields are left out.

export type Double = number | 'NaN' | 'Infinity' | '-Infinity';

export interface KeyValue {
  key: string;
  value: string;
}

export interface ExperimentJson {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  last_update_time: number;
  creation_time: number;
  tags?: KeyValue[];
}

export interface RunInfoJson {
  run_id: string;
  /** Deprecated in MLflow, still sent: the same as run_id. */
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
}

export interface MetricJson {
  key: string;
  value: Double;
  timestamp: number;
  step: number;
  dataset_name?: string;
  dataset_digest?: string;
  model_id?: string;
  run_id?: string;
}

export interface DatasetJson {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInputJson {
  tags?: KeyValue[];
  dataset: DatasetJson;
}

export interface RunJson {
  info: RunInfoJson;
  data: { metrics?: MetricJson[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs: { dataset_inputs?: DatasetInputJson[]; model_inputs?: { model_id: string }[] };
  outputs?: { model_outputs?: { model_id: string; step: number }[] };
}

/** A page of search results: `next_page_token` is absent on the last page. */
export interface PageJson {
  next_page_token?: string;
}

/** The request message of each rpc the endpoint serves (GET sends it as query parameters). */
export interface MlflowRequests {
  CreateExperiment: { name: string; artifact_location?: string; tags?: KeyValue[] };
  GetExperiment: { experiment_id: string };
  GetExperimentByName: { experiment_name: string };
  SearchExperiments: { max_results?: number; page_token?: string; filter?: string; order_by?: string[]; view_type?: ViewType };
  UpdateExperiment: { experiment_id: string; new_name: string };
  DeleteExperiment: { experiment_id: string };
  RestoreExperiment: { experiment_id: string };
  SetExperimentTag: { experiment_id: string; key: string; value: string };
  DeleteExperimentTag: { experiment_id: string; key: string };
  CreateRun: { experiment_id?: string; user_id?: string; run_name?: string; start_time?: number; tags?: KeyValue[] };
  GetRun: { run_id: string; run_uuid?: string };
  UpdateRun: { run_id: string; run_uuid?: string; status?: RunStatus; end_time?: number; run_name?: string };
  DeleteRun: { run_id: string };
  RestoreRun: { run_id: string };
  SearchRuns: { experiment_ids?: string[]; filter?: string; run_view_type?: ViewType; max_results?: number; order_by?: string[]; page_token?: string };
  LogMetric: { run_id: string; run_uuid?: string; key: string; value: Double; timestamp: number; step?: number; model_id?: string; dataset_name?: string; dataset_digest?: string };
  LogParam: { run_id: string; run_uuid?: string; key: string; value: string };
  SetTag: { run_id: string; run_uuid?: string; key: string; value: string };
  DeleteTag: { run_id: string; key: string };
  LogBatch: { run_id: string; metrics?: Omit<MetricJson, 'run_id'>[]; params?: KeyValue[]; tags?: KeyValue[] };
  LogInputs: { run_id: string; datasets?: DatasetInputJson[]; models?: { model_id: string }[] };
  LogOutputs: { run_id: string; models: { model_id: string; step?: number }[] };
  LogModel: { run_id: string; model_json: string };
  GetMetricHistory: { run_id: string; run_uuid?: string; metric_key: string; max_results?: number; page_token?: string };
}

/** The response message of each rpc above (the logged-model ones are built in core/endpoint/mlflowProtocol.ts). */
export interface MlflowResponses {
  CreateExperiment: { experiment_id: string };
  GetExperiment: { experiment: ExperimentJson };
  GetExperimentByName: { experiment: ExperimentJson };
  SearchExperiments: PageJson & { experiments?: ExperimentJson[] };
  UpdateExperiment: Record<string, never>;
  DeleteExperiment: Record<string, never>;
  RestoreExperiment: Record<string, never>;
  SetExperimentTag: Record<string, never>;
  DeleteExperimentTag: Record<string, never>;
  CreateRun: { run: RunJson };
  GetRun: { run: RunJson };
  UpdateRun: { run_info: RunInfoJson };
  DeleteRun: Record<string, never>;
  RestoreRun: Record<string, never>;
  SearchRuns: PageJson & { runs?: RunJson[] };
  LogMetric: Record<string, never>;
  LogParam: Record<string, never>;
  SetTag: Record<string, never>;
  DeleteTag: Record<string, never>;
  LogBatch: Record<string, never>;
  LogInputs: Record<string, never>;
  LogOutputs: Record<string, never>;
  LogModel: Record<string, never>;
  GetMetricHistory: PageJson & { metrics?: MetricJson[] };
}

/** An error reply, as MLflow's server sends it (`error_code` is a databricks.proto ErrorCode name). */
export interface ErrorJson {
  error_code: string;
  message: string;
}
