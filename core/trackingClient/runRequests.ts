/**
 * What the Node tracking client sends: logged values as MLflow's wire shapes, the queued operations
 * of a run and the request each becomes, and the experiment/run creation both the client and the
 * exit sender perform.
 */
import {
  MLFLOW_ARTIFACTS_PREFIX,
  MLFLOW_ARTIFACTS_ROUTES,
  MLFLOW_ROUTES,
  routeUrl,
  type DatasetInputJson,
  type HttpMethod,
  type MlflowRequests,
  type MlflowResponses,
  type MlflowRpc,
  type RestRoute,
} from '../mlflow/restApi';
import { ALWAYS, CREATE_RETRY, METRICS_RETRY, RunwiseTrackingError, type FailureKind, type Http } from './httpTransport';

export const TERMINAL_STATUSES = ['FINISHED', 'FAILED', 'KILLED'] as const;
/** MLflow's default experiment (DEFAULT_EXPERIMENT_ID): where runs go when no experiment is named. */
export const DEFAULT_EXPERIMENT_ID = '0';
export type RunEndStatus = (typeof TERMINAL_STATUSES)[number];

// -------------------------------------------------------------------------------------------------
// Values

export interface Entity {
  key: string;
  value: string | number;
  timestamp?: number;
  step?: number;
}

export function metricValue(value: unknown): number | string {
  const v = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(v)) {
    if (typeof value === 'number' || /^\s*[+-]?nan\s*$/i.test(String(value))) return 'NaN';
    throw new TypeError(`metric value must be a number, got ${String(value)}`);
  }
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function integer(value: unknown, what: string): number {
  const v = Math.trunc(Number(value));
  if (!Number.isFinite(v)) throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  return v;
}

export const sizeOf = (e: Entity): number => Buffer.byteLength(JSON.stringify(e)) + 1; // + the comma

/** The artifact proxy path of a run's root, from its run info (`mlflow-artifacts:/…` or the default layout). */
export function artifactRoot(info: Record<string, unknown>): string {
  const uri = String(info.artifact_uri ?? '');
  if (uri.startsWith('mlflow-artifacts:')) {
    let rest = uri.slice('mlflow-artifacts:'.length);
    if (rest.startsWith('//')) rest = rest.slice(2).replace(/^[^/]*/, ''); // mlflow-artifacts://host:port/path
    rest = rest.replace(/^\/+|\/+$/g, '');
    if (rest) return rest;
  }
  return `${String(info.experiment_id)}/${String(info.run_id ?? info.run_uuid)}/artifacts`;
}

// -------------------------------------------------------------------------------------------------
// Runs and queued operations

export interface CreateSpec {
  experimentName?: string;
  experimentId?: string;
  body: { run_name?: string; start_time: number; user_id: string; tags: { key: string; value: string }[] };
}

/** A run as this client knows it; `id` is unknown until runs/create has answered. */
export interface RunSlot {
  id?: string;
  root?: string;
  /** Created here, so ended here (at endRun or exit). */
  owned: boolean;
  create?: CreateSpec;
  creating?: Promise<string>;
  createError?: unknown;
}

export type Op = { run: RunSlot; written: boolean } & (
  | { kind: 'batch'; body: { metrics: Entity[]; params: Entity[]; tags: Entity[] }; hasMetrics: boolean }
  | { kind: 'inputs'; datasets: unknown[] }
  | { kind: 'artifact'; file: string; dest: string }
  | { kind: 'end'; status: RunEndStatus; endTime: number }
);

export interface OpRequest {
  method: HttpMethod;
  path: string;
  body?: unknown;
  file?: string;
  retryOn: readonly FailureKind[];
}

/** Which failures an op's request is retried on (see httpTransport.ts): a metrics batch is not retried after a timeout. */
export function retryPolicyOf(op: Op): readonly FailureKind[] {
  return op.kind === 'batch' && op.hasMetrics ? METRICS_RETRY : ALWAYS;
}

/** An rpc's request: a GET carries its message as query parameters, the others as a JSON body. */
function rpcRequest<R extends MlflowRpc>(rpc: R, message: MlflowRequests[R & keyof MlflowRequests]): { method: HttpMethod; path: string; body?: unknown } {
  const route: RestRoute = MLFLOW_ROUTES[rpc];
  if (route.method !== 'GET') return { method: route.method, path: routeUrl(route), body: message };
  const query = new URLSearchParams(Object.entries(message as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)]));
  return { method: 'GET', path: `${routeUrl(route)}?${query}` };
}

/** Calls one rpc of MLflow's tracking service and returns its response message. */
export async function callRpc<R extends MlflowRpc & keyof MlflowRequests & keyof MlflowResponses>(
  http: Http,
  rpc: R,
  message: MlflowRequests[R],
  retryOn: readonly FailureKind[],
): Promise<MlflowResponses[R]> {
  return (await http.call({ ...rpcRequest(rpc, message), retryOn })) as MlflowResponses[R];
}

/** The request an op becomes for the run `runId`; an artifact upload needs the run's artifact `root`. */
export function opRequest(op: Op, runId: string, root?: string): OpRequest {
  const retryOn = retryPolicyOf(op);
  switch (op.kind) {
    case 'batch':
      return { ...rpcRequest('LogBatch', { run_id: runId, ...op.body } as MlflowRequests['LogBatch']), retryOn };
    case 'inputs':
      return { ...rpcRequest('LogInputs', { run_id: runId, datasets: op.datasets as DatasetInputJson[] }), retryOn };
    case 'artifact': {
      if (root === undefined) throw new Error('an artifact upload needs the run\'s artifact root');
      const route = MLFLOW_ARTIFACTS_ROUTES.UploadArtifact;
      return { method: route.method, path: routeUrl(route, { artifact_path: `${root}/${op.dest}` }, MLFLOW_ARTIFACTS_PREFIX), file: op.file, retryOn };
    }
    case 'end':
      return { ...rpcRequest('UpdateRun', { run_id: runId, status: op.status, end_time: op.endTime }), retryOn };
  }
}

/** MLflow's refusal (`set_experiment`, mlflow/tracking/fluent.py) to log into a deleted experiment. */
export function deletedExperimentError(name: string): RunwiseTrackingError {
  return new RunwiseTrackingError(
    'INVALID_PARAMETER_VALUE',
    `Cannot set a deleted experiment '${name}' as the active experiment. You can restore the experiment, or permanently delete the experiment to create a new one.`,
  );
}

/**
 * The id of the experiment named `name`, created when missing (a concurrent creation is looked up
 * again); a deleted one is refused, as MLflow's `set_experiment` does.
 */
export async function experimentIdByName(http: Http, name: string): Promise<string> {
  for (let i = 0; i < 2; i++) {
    try {
      const { experiment } = await callRpc(http, 'GetExperimentByName', { experiment_name: name }, ALWAYS);
      if (experiment.lifecycle_stage === 'deleted') throw deletedExperimentError(experiment.name || name);
      return experiment.experiment_id;
    } catch (e) {
      if (!(e instanceof RunwiseTrackingError) || e.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw e;
    }
    try {
      return String((await callRpc(http, 'CreateExperiment', { name }, CREATE_RETRY)).experiment_id);
    } catch (e) {
      // Created meanwhile by someone else: look it up again.
      if (!(e instanceof RunwiseTrackingError) || e.errorCode !== 'RESOURCE_ALREADY_EXISTS') throw e;
    }
  }
  throw new RunwiseTrackingError('INTERNAL_ERROR', `could not get or create experiment '${name}'`);
}

/** Creates the run a slot describes and fills in its id and artifact root. */
export async function createRun(http: Http, slot: RunSlot): Promise<string> {
  const spec = slot.create!;
  const experimentId = spec.experimentId ?? (spec.experimentName ? await experimentIdByName(http, spec.experimentName) : DEFAULT_EXPERIMENT_ID);
  const info = (await callRpc(http, 'CreateRun', { ...spec.body, experiment_id: experimentId }, CREATE_RETRY)).run.info;
  slot.id = String(info.run_id ?? info.run_uuid);
  slot.root = artifactRoot(info as unknown as Record<string, unknown>);
  return slot.id;
}

/**
 * The id of the slot's run, created on first need: one creation for all who ask, and a failed one
 * is remembered, so every op of that run fails with it instead of creating again.
 */
export function ensureRunCreated(http: Http, slot: RunSlot): Promise<string> {
  if (slot.id) return Promise.resolve(slot.id);
  if (slot.createError !== undefined) return Promise.reject(slot.createError);
  slot.creating ??= createRun(http, slot).catch((e: unknown) => {
    slot.createError = e;
    throw e;
  });
  return slot.creating;
}

/** The artifact root of an existing run, read from the server when the slot does not know it. */
export async function runArtifactRoot(http: Http, slot: RunSlot): Promise<string> {
  if (!slot.root) {
    const info = (await callRpc(http, 'GetRun', { run_id: slot.id! }, ALWAYS)).run.info;
    slot.root = artifactRoot(info as unknown as Record<string, unknown>);
  }
  return slot.root;
}

/** Sends one op's request for the run `runId`. */
export async function sendOp(http: Http, op: Op, runId: string, onWritten?: (written: boolean) => void): Promise<void> {
  const root = op.kind === 'artifact' ? await runArtifactRoot(http, op.run) : undefined;
  await http.call({ ...opRequest(op, runId, root), onWritten });
}
