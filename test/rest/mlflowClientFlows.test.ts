/**
 * The real `mlflow` client's request sequences, replayed against the endpoint. Each flow sends what
 * the client's source sends (method, path, query or body, as `message_to_json` and python-requests
 * shape them) and checks the replies the way the client reads them: `verify_rest_response` (a 200
 * must be a JSON object, an error a JSON object with a known `error_code`), `parse_dict` (protobuf
 * `ParseDict` with `ignore_unknown_fields=True`: every known field of the right JSON type), then the
 * fields the calling code uses.
 *
 * Sources (mlflow/mlflow, 2.x and 3.x): tracking/fluent.py (set_experiment, start_run, end_run,
 * log_metric, log_input, search_runs), tracking/_tracking_service/client.py (create_run,
 * set_terminated, _log_url, get_metric_history), store/tracking/rest_store.py (every request body),
 * utils/rest_utils.py (http_request, call_endpoint, verify_rest_response), utils/request_utils.py
 * (retried statuses), store/artifact/mlflow_artifacts_repo.py and http_artifact_repo.py (artifact
 * URLs, PUT/GET/list, multipart and presigned fallbacks, /server-info), models/model.py (log_model).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_JSON_BODY_BYTES, startTrackingServer, UNSUPPORTED_MULTIPART_UPLOAD_MESSAGE, type TrackingServer } from '../../core/endpoint/trackingServer';
import {
  MLFLOW_ARTIFACTS_PREFIX,
  MLFLOW_ARTIFACTS_ROUTES as A,
  MLFLOW_ROUTES as R,
  routeUrl,
  type RestRoute,
} from '../../core/mlflow/restApi';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

// -----------------------------------------------------------------------------------------------
// What python-requests puts on the wire for mlflow's http_request

interface Wire {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

interface SendOptions {
  /** JSON body (call_endpoint's `json=`), or raw bytes (an artifact PUT's `data=`). */
  body?: unknown;
  /** Query parameters (call_endpoint's `params=` for GET): lists repeat the key, as requests does. */
  params?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Authorization header; default `Bearer <token>` (MLFLOW_TRACKING_TOKEN); null sends none. */
  authorization?: string | null;
}

/** How requests encodes `params`: str() of each value, None dropped, lists as repeated keys. */
function encodeParams(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, typeof item === 'boolean' ? (item ? 'True' : 'False') : String(item));
  }
  return q.toString();
}

function send(s: TrackingServer, method: string, urlPath: string, options: SendOptions = {}): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Host: `127.0.0.1:${s.port}`,
      'User-Agent': 'mlflow-python-client/3.1.0',
      'Accept-Encoding': 'gzip, deflate',
      Accept: '*/*',
      Connection: 'keep-alive',
      ...options.headers,
    };
    const auth = options.authorization === undefined ? `Bearer ${s.token}` : options.authorization;
    if (auth !== null) headers.Authorization = auth;
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      if (Buffer.isBuffer(options.body)) payload = options.body;
      else {
        payload = Buffer.from(JSON.stringify(options.body));
        headers['Content-Type'] = 'application/json';
      }
      headers['Content-Length'] = String(payload.length);
    }
    const full = options.params ? `${urlPath}?${encodeParams(options.params)}` : urlPath;
    const req = http.request({ host: '127.0.0.1', port: s.port, method, path: full, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// -----------------------------------------------------------------------------------------------
// verify_rest_response and RestException (mlflow/utils/rest_utils.py, mlflow/exceptions.py)

/** ErrorCode names the client maps back (databricks.proto), with the status MLflow gives each. */
const ERROR_CODES: Readonly<Record<string, number>> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  BAD_REQUEST: 400,
  INVALID_STATE: 500,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_IMPLEMENTED: 501,
  INTERNAL_ERROR: 500,
};
/** Statuses http_request retries 7 times with backoff (_TRANSIENT_FAILURE_RESPONSE_CODES). */
const RETRIED = new Set([408, 429, 500, 502, 503, 504]);

class RestException extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly detail: string,
  ) {
    super(`${errorCode}: ${detail}`);
  }
}

function parseObject(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** What verify_rest_response accepts; an error becomes the RestException the caller sees. */
function verifyRestResponse(w: Wire, endpoint: string): Json {
  const obj = parseObject(w.text);
  if (w.status !== 200) {
    assert.ok(obj, `an error from ${endpoint} must be a JSON object (else the client reports only the status): ${w.text}`);
    assert.ok(Object.hasOwn(ERROR_CODES, obj.error_code), `error_code ${obj.error_code} must be an ErrorCode name`);
    assert.equal(typeof obj.message, 'string');
    assert.ok(!RETRIED.has(w.status) || obj.error_code === 'INTERNAL_ERROR', `a ${w.status} is retried by the client; ${obj.error_code} must not be`);
    throw new RestException(w.status, obj.error_code, obj.message);
  }
  assert.ok(obj, `a 200 from ${endpoint} must be a JSON object (verify_rest_response): ${w.text.slice(0, 200)}`);
  return obj;
}

async function restError(p: Promise<unknown>): Promise<RestException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RestException) return e;
    throw e;
  }
  assert.fail('expected the call to fail');
}

// -----------------------------------------------------------------------------------------------
// parse_dict: protobuf ParseDict(ignore_unknown_fields=True) over service.proto's messages

type Scalar = 'string' | 'int64' | 'double' | 'bool';
interface Field {
  type: Scalar | { enum: readonly string[] } | { message: string };
  repeated?: true;
}
const str: Field = { type: 'string' };
const int64: Field = { type: 'int64' };
const msg = (name: string, repeated?: true): Field => (repeated ? { type: { message: name }, repeated } : { type: { message: name } });
const KEY_VALUE = { key: str, value: str };

const PROTO: Readonly<Record<string, Readonly<Record<string, Field>>>> = {
  Experiment: {
    experiment_id: str,
    name: str,
    artifact_location: str,
    lifecycle_stage: str,
    last_update_time: int64,
    creation_time: int64,
    tags: msg('ExperimentTag', true),
  },
  ExperimentTag: KEY_VALUE,
  Run: { info: msg('RunInfo'), data: msg('RunData'), inputs: msg('RunInputs'), outputs: msg('RunOutputs') },
  RunInfo: {
    run_id: str,
    run_uuid: str,
    run_name: str,
    experiment_id: str,
    user_id: str,
    status: { type: { enum: ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] } },
    start_time: int64,
    end_time: int64,
    artifact_uri: str,
    lifecycle_stage: str,
  },
  RunData: { metrics: msg('Metric', true), params: msg('Param', true), tags: msg('RunTag', true) },
  Metric: { key: str, value: { type: 'double' }, timestamp: int64, step: int64, dataset_name: str, dataset_digest: str, model_id: str, run_id: str },
  Param: KEY_VALUE,
  RunTag: KEY_VALUE,
  RunInputs: { dataset_inputs: msg('DatasetInput', true), model_inputs: msg('ModelInput', true) },
  RunOutputs: { model_outputs: msg('ModelOutput', true) },
  ModelInput: { model_id: str },
  ModelOutput: { model_id: str, step: int64 },
  DatasetInput: { tags: msg('InputTag', true), dataset: msg('Dataset') },
  InputTag: KEY_VALUE,
  Dataset: { name: str, digest: str, source_type: str, source: str, schema: str, profile: str },
  FileInfo: { path: str, is_dir: { type: 'bool' }, file_size: int64 },
  'CreateExperiment.Response': { experiment_id: str },
  'GetExperiment.Response': { experiment: msg('Experiment') },
  'SearchExperiments.Response': { experiments: msg('Experiment', true), next_page_token: str },
  'CreateRun.Response': { run: msg('Run') },
  'GetRun.Response': { run: msg('Run') },
  'UpdateRun.Response': { run_info: msg('RunInfo') },
  'SearchRuns.Response': { runs: msg('Run', true), next_page_token: str },
  'GetMetricHistory.Response': { metrics: msg('Metric', true), next_page_token: str },
  'ListArtifacts.Response': { files: msg('FileInfo', true) },
  // MLflow 3's logged models
  LoggedModel: { info: msg('LoggedModelInfo'), data: msg('LoggedModelData') },
  LoggedModelInfo: {
    model_id: str,
    experiment_id: str,
    name: str,
    creation_timestamp_ms: int64,
    last_updated_timestamp_ms: int64,
    artifact_uri: str,
    status: { type: { enum: ['LOGGED_MODEL_STATUS_UNSPECIFIED', 'LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] } },
    creator_id: int64,
    model_type: str,
    source_run_id: str,
    status_message: str,
    tags: msg('LoggedModelTag', true),
    registrations: msg('LoggedModelRegistrationInfo', true),
  },
  LoggedModelTag: KEY_VALUE,
  LoggedModelRegistrationInfo: { name: str, version: str },
  LoggedModelData: { params: msg('LoggedModelParameter', true), metrics: msg('Metric', true) },
  LoggedModelParameter: KEY_VALUE,
  'CreateLoggedModel.Response': { model: msg('LoggedModel') },
  'GetLoggedModel.Response': { model: msg('LoggedModel') },
  'FinalizeLoggedModel.Response': { model: msg('LoggedModel') },
  'SearchLoggedModels.Response': { models: msg('LoggedModel', true), next_page_token: str },
  'ListLoggedModelArtifacts.Response': { files: msg('FileInfo', true), root_uri: str },
  Empty: {},
};

/** Fails where ParseDict would raise ParseError; unknown fields pass, as ignore_unknown_fields allows. */
function parseDict(value: unknown, message: string, where = message): void {
  const fields = PROTO[message];
  assert.ok(fields, `no schema for ${message}`);
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${where}: a message must be a JSON object`);
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const f = fields[name];
    if (!f || v === null) continue;
    if (f.repeated) {
      assert.ok(Array.isArray(v), `${where}.${name}: a repeated field must be a list`);
      v.forEach((item, i) => checkValue(item, f, `${where}.${name}[${i}]`));
    } else checkValue(v, f, `${where}.${name}`);
  }
}

function checkValue(v: unknown, f: Field, where: string): void {
  const t = f.type;
  if (t === 'string') assert.equal(typeof v, 'string', `${where}: Invalid string value`);
  else if (t === 'bool') assert.equal(typeof v, 'boolean', `${where}: Invalid bool value`);
  else if (t === 'int64') {
    assert.ok((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)), `${where}: Couldn't parse integer: ${String(v)}`);
  } else if (t === 'double') {
    assert.ok(typeof v === 'number' || (typeof v === 'string' && (['NaN', 'Infinity', '-Infinity'].includes(v) || Number.isFinite(Number(v)))), `${where}: Couldn't parse float: ${String(v)}`);
  } else if ('enum' in t) {
    assert.ok((typeof v === 'string' && t.enum.includes(v)) || typeof v === 'number', `${where}: invalid enum value ${String(v)}`);
  } else parseDict(v, t.message, where);
}

// -----------------------------------------------------------------------------------------------
// The client: RestStore requests as rest_store.py builds them

/** The artifact proxy's list route, the root its file routes extend (`artifacts/<path>`). */
const ARTIFACTS_ROOT = routeUrl(A.ListArtifacts, {}, MLFLOW_ARTIFACTS_PREFIX);
const artifactsUrl = (route: RestRoute, artifactPath: string): string => routeUrl(route, { artifact_path: artifactPath }, MLFLOW_ARTIFACTS_PREFIX);

class MlflowClient {
  constructor(
    readonly s: TrackingServer,
    private readonly authorization?: string | null,
  ) {}

  /**
   * rest_utils.call_endpoint with the method and path service.proto gives the rpc (`pathParams` fill
   * its `{name}`s): GET sends the message as query params, anything else as JSON; a call without a
   * message (`json_body=None`, as get_logged_model and delete_logged_model_tag make) sends neither.
   */
  async call(route: RestRoute, body: Record<string, unknown> | undefined, response: keyof typeof PROTO, pathParams: Record<string, string> = {}): Promise<Json> {
    const options: SendOptions = body === undefined ? {} : route.method === 'GET' ? { params: body } : { body };
    if (this.authorization !== undefined) options.authorization = this.authorization;
    const url = routeUrl(route, pathParams);
    const reply = verifyRestResponse(await send(this.s, route.method, url, options), url);
    parseDict(reply, response);
    return reply;
  }

  getExperimentByName(name: string): Promise<Json> {
    return this.call(R.GetExperimentByName, { experiment_name: name }, 'GetExperiment.Response');
  }

  createExperiment(name: string): Promise<Json> {
    return this.call(R.CreateExperiment, { name }, 'CreateExperiment.Response');
  }

  getExperiment(id: string): Promise<Json> {
    return this.call(R.GetExperiment, { experiment_id: id }, 'GetExperiment.Response');
  }

  getRun(runId: string): Promise<Json> {
    return this.call(R.GetRun, { run_uuid: runId, run_id: runId }, 'GetRun.Response');
  }

  updateRunInfo(runId: string, status: string, endTime: number | null): Promise<Json> {
    const body: Record<string, unknown> = { run_uuid: runId, run_id: runId, status };
    if (endTime != null) body.end_time = endTime;
    return this.call(R.UpdateRun, body, 'UpdateRun.Response');
  }

  logBatch(runId: string, batch: { metrics?: Json[]; params?: Json[]; tags?: Json[] }): Promise<Json> {
    const body: Record<string, unknown> = { run_id: runId };
    // message_to_json leaves empty repeated fields out.
    if (batch.metrics?.length) body.metrics = batch.metrics;
    if (batch.params?.length) body.params = batch.params;
    if (batch.tags?.length) body.tags = batch.tags;
    return this.call(R.LogBatch, body, 'Empty');
  }

  getMetricHistory(runId: string, key: string, pageToken?: string): Promise<Json> {
    const body: Record<string, unknown> = { run_uuid: runId, run_id: runId, metric_key: key, max_results: 25000 };
    if (pageToken) body.page_token = pageToken;
    return this.call(R.GetMetricHistory, body, 'GetMetricHistory.Response');
  }
}

/** fluent.set_experiment: get-by-name; if RESOURCE_DOES_NOT_EXIST (→ None), create then get. */
async function setExperiment(c: MlflowClient, name: string): Promise<Json> {
  try {
    return (await c.getExperimentByName(name)).experiment;
  } catch (e) {
    if (!(e instanceof RestException && e.errorCode === 'RESOURCE_DOES_NOT_EXIST')) throw e;
  }
  const id = (await c.createExperiment(name)).experiment_id;
  return (await c.getExperiment(id)).experiment;
}

/** The tags context_registry.resolve_tags adds to a new run (user, source name and type, git). */
function contextTags(runName?: string): Json[] {
  const tags = [
    { key: 'mlflow.user', value: 'alice' },
    { key: 'mlflow.source.name', value: 'train.py' },
    { key: 'mlflow.source.type', value: 'LOCAL' },
    { key: 'mlflow.source.git.commit', value: '0123456789abcdef0123456789abcdef01234567' },
  ];
  if (runName) tags.push({ key: 'mlflow.runName', value: runName });
  return tags;
}

/** fluent.start_run for a new run: TrackingServiceClient.create_run → RestStore.create_run. */
async function startRun(c: MlflowClient, experimentId: string, runName?: string): Promise<Json> {
  const body: Record<string, unknown> = { experiment_id: experimentId, user_id: 'alice', start_time: Date.now(), tags: contextTags(runName) };
  if (runName) body.run_name = runName;
  return (await c.call(R.CreateRun, body, 'CreateRun.Response')).run;
}

/** fluent.end_run → set_terminated: _log_url reads the run, then update_run_info. */
async function endRun(c: MlflowClient, runId: string, status = 'FINISHED'): Promise<Json> {
  await c.getRun(runId);
  return (await c.updateRunInfo(runId, status, Date.now())).run_info;
}

/** MlflowArtifactsRepository.resolve_uri (3.x) for an `mlflow-artifacts:` artifact URI. */
function resolveArtifactUri(artifactUri: string, trackingUri: string): string {
  const base = ARTIFACTS_ROOT;
  const track = new URL(trackingUri);
  const uriPath = artifactUri.replace(/^mlflow-artifacts:/, '');
  let resolved = uriPath === '/' ? `${base}/` : uriPath === base ? base : `${track.pathname}/${base}/${uriPath}`;
  resolved = resolved.replace(/\/\/+/g, '/');
  return `${track.protocol}//${track.host}${resolved}`.replace(/\/+$/, '');
}

/** HttpArtifactRepository as the client drives it, rooted at a run's resolved artifact URI. */
class ArtifactRepo {
  readonly root: string;

  constructor(
    readonly s: TrackingServer,
    artifactUri: string,
  ) {
    this.root = new URL(resolveArtifactUri(artifactUri, s.uri)).pathname;
  }

  /** log_artifact: PUT <root>/<artifact_path>/<file name>, Content-Type guessed from the name. */
  async logArtifact(fileName: string, data: Buffer, artifactPath?: string, wireName = fileName): Promise<void> {
    const endpoint = artifactPath ? `/${artifactPath}/${wireName}` : `/${wireName}`;
    const w = await send(this.s, 'PUT', `${this.root}${endpoint}`, { body: data, headers: { 'Content-Type': guessMime(fileName) } });
    assert.ok(w.status >= 200 && w.status < 300, `augmented_raise_for_status: ${w.status} ${w.text}`);
  }

  /** list_artifacts: GET /api/2.0/mlflow-artifacts/artifacts?path=<root tail>[/<path>]. */
  async listArtifacts(p?: string): Promise<{ path: string; isDir: boolean; fileSize: number | null }[]> {
    const tail = this.root.split('/mlflow-artifacts/artifacts')[1]!.replace(/^\/+/, '');
    const w = await send(this.s, 'GET', ARTIFACTS_ROOT, { params: { path: p ? `${tail}/${p}` : tail } });
    assert.equal(w.status, 200, w.text);
    const reply = parseObject(w.text);
    parseDict(reply, 'ListArtifacts.Response');
    const infos = (reply.files ?? []).map((f: Json) => {
      assert.ok('is_dir' in f, 'the client reads f["is_dir"] without a default');
      assert.ok(!f.path.includes('/') && f.path !== '..', 'validate_path_is_safe: names relative to the listed directory');
      return { path: p ? `${p}/${f.path}` : f.path, isDir: f.is_dir, fileSize: 'file_size' in f ? Number(f.file_size) : null };
    });
    return infos.sort((a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1));
  }

  /** _download_file: GET <root>/<path>, streamed. */
  async download(p: string): Promise<Buffer> {
    const w = await send(this.s, 'GET', `${this.root}/${p}`);
    assert.equal(w.status, 200, w.text);
    return w.body;
  }
}

function guessMime(name: string): string {
  if (name.endsWith('.txt')) return 'text/plain';
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.png')) return 'image/png';
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'application/x-yaml';
  return 'application/octet-stream';
}

const tagMap = (run: Json): Record<string, string> => Object.fromEntries((run.data.tags ?? []).map((t: Json) => [t.key, t.value]));

// -----------------------------------------------------------------------------------------------

const workspaces: string[] = [];
after(() => {
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
});

async function freshServer(): Promise<TrackingServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runwise-mlflow-flows-'));
  workspaces.push(dir);
  return startTrackingServer({ workspace: dir });
}

describe('mlflow client flows: experiments and runs', () => {
  let s: TrackingServer;
  let c: MlflowClient;
  before(async () => {
    s = await freshServer();
    c = new MlflowClient(s);
  });
  after(() => s.close());

  it('set_experiment: get-by-name answers RESOURCE_DOES_NOT_EXIST (→ None), then create and get; again it is found', async () => {
    const missing = await restError(c.getExperimentByName('x'));
    assert.equal(missing.status, 404);
    assert.equal(missing.errorCode, 'RESOURCE_DOES_NOT_EXIST');
    const exp = await setExperiment(c, 'x');
    assert.equal(exp.name, 'x');
    assert.equal(exp.lifecycle_stage, 'active', 'set_experiment refuses an experiment that is not active');
    assert.match(exp.experiment_id, /^\d+$/);
    assert.equal(exp.artifact_location, `mlflow-artifacts:/${exp.experiment_id}`);
    assert.deepEqual(await setExperiment(c, 'x'), exp);
    // Two processes racing: the loser's create gets RESOURCE_ALREADY_EXISTS and reads the experiment.
    const raced = await restError(c.createExperiment('x'));
    assert.equal(raced.errorCode, 'RESOURCE_ALREADY_EXISTS');
    assert.equal(raced.status, 400);
  });

  it('start_run: create_run with the context tags; run_name optional, the server names the run', async () => {
    const exp = await setExperiment(c, 'runs');
    const named = await startRun(c, exp.experiment_id, 'first');
    assert.equal(named.info.run_name, 'first');
    assert.equal(named.info.status, 'RUNNING');
    assert.equal(named.info.user_id, 'alice');
    assert.equal(named.info.experiment_id, exp.experiment_id);
    assert.equal(named.info.artifact_uri, `mlflow-artifacts:/${exp.experiment_id}/${named.info.run_id}/artifacts`);
    assert.equal(named.info.end_time, undefined);
    const tags = tagMap(named);
    for (const t of contextTags('first')) assert.equal(tags[t.key], t.value, t.key);
    assert.deepEqual(named.inputs, {}, 'run.inputs is present (read by _log_inputs_for_metrics_if_necessary)');

    const unnamed = await startRun(c, exp.experiment_id);
    assert.ok(unnamed.info.run_name.length > 0);
    assert.equal(tagMap(unnamed)['mlflow.runName'], unnamed.info.run_name);
    // With no experiment set and no MLFLOW_EXPERIMENT_* variable the default experiment "0" is used.
    assert.equal((await startRun(c, '0')).info.experiment_id, '0');
  });

  it('start_run with MLFLOW_RUN_ID: get the run, update it to RUNNING keeping end_time, tags by log-batch, get again', async () => {
    const exp = await setExperiment(c, 'resume');
    // A run that Runwise created (e.g. a pipeline step) and handed over in MLFLOW_RUN_ID.
    const handed = s.tracker.createRun({ experimentId: exp.experiment_id, runName: 'step-train', status: 'SCHEDULED' }).info.runId;
    const run = (await c.getRun(handed)).run;
    assert.equal(run.info.lifecycle_stage, 'active', 'start_run refuses a deleted run');
    assert.equal(run.info.experiment_id, exp.experiment_id, 'start_run compares it with the active experiment');
    // end_time is None for a run that never ended: message_to_json leaves it out.
    const resumed = (await c.updateRunInfo(handed, 'RUNNING', run.info.end_time ?? null)).run_info;
    assert.equal(resumed.status, 'RUNNING');
    assert.equal(resumed.end_time, undefined);
    await c.logBatch(handed, { tags: [{ key: 'mlflow.note.content', value: 'resumed' }] });
    const again = (await c.getRun(handed)).run;
    assert.equal(tagMap(again)['mlflow.note.content'], 'resumed');
    assert.equal(again.info.run_name, 'step-train');

    // Resuming a finished run sends its previous end_time back with RUNNING.
    const finished = await endRun(c, handed);
    assert.equal(finished.status, 'FINISHED');
    assert.equal(typeof finished.end_time, 'number');
    const reopened = (await c.updateRunInfo(handed, 'RUNNING', (await c.getRun(handed)).run.info.end_time)).run_info;
    assert.equal(reopened.status, 'RUNNING');
    assert.equal(reopened.end_time, finished.end_time);
  });

  it('log_param(s), set_tag(s), delete_tag: the single routes and log-batch', async () => {
    const runId = (await startRun(c, '0', 'params')).info.run_id;
    await c.call(R.LogParam, { run_uuid: runId, run_id: runId, key: 'lr', value: '0.01' }, 'Empty');
    await c.logBatch(runId, { params: [{ key: 'epochs', value: '10' }, { key: 'lr', value: '0.01' }] });
    const changed = await restError(c.logBatch(runId, { params: [{ key: 'lr', value: '0.02' }] }));
    assert.equal(changed.errorCode, 'INVALID_PARAMETER_VALUE');
    assert.equal(changed.status, 400, 'not retried');
    await c.call(R.SetTag, { run_uuid: runId, run_id: runId, key: 'team', value: 'vision' }, 'Empty');
    await c.logBatch(runId, { tags: [{ key: 'stage', value: 'dev' }, { key: 'gone', value: 'x' }] });
    await c.call(R.DeleteTag, { run_id: runId, key: 'gone' }, 'Empty');
    const run = (await c.getRun(runId)).run;
    assert.deepEqual(run.data.params, [
      { key: 'epochs', value: '10' },
      { key: 'lr', value: '0.01' },
    ]);
    const tags = tagMap(run);
    assert.equal(tags.team, 'vision');
    assert.equal(tags.stage, 'dev');
    assert.equal(tags.gone, undefined);
  });

  it('log_metric (MLflow 3: two runs/get first), log_metrics, NaN and ±Infinity as protobuf-JSON strings', async () => {
    const runId = (await startRun(c, '0', 'metrics')).info.run_id;
    // _log_inputs_for_metrics_if_necessary and _get_model_ids_for_new_metric_if_exist read the run.
    for (let i = 0; i < 2; i++) {
      const run = (await c.getRun(runId)).run;
      assert.ok(Array.isArray(run.inputs.dataset_inputs ?? []));
    }
    await c.call(R.LogMetric, { run_uuid: runId, run_id: runId, key: 'loss', value: 0.5, timestamp: 1700000000000, step: 0 }, 'Empty');
    await c.call(R.LogMetric, { run_uuid: runId, run_id: runId, key: 'loss', value: 'NaN', timestamp: 1700000000001, step: 1 }, 'Empty');
    // MLflow 3's Metric.to_proto adds run_id (and model_id, dataset_* when set) to each metric.
    await c.logBatch(runId, {
      metrics: [
        { key: 'acc', value: 0.9, timestamp: 1700000000002, step: 1, run_id: runId },
        { key: 'big', value: 'Infinity', timestamp: 1700000000002, step: 1, run_id: runId },
        { key: 'small', value: '-Infinity', timestamp: 1700000000002, step: 1, run_id: runId },
      ],
    });
    const metrics = Object.fromEntries((await c.getRun(runId)).run.data.metrics.map((m: Json) => [m.key, m.value]));
    assert.deepEqual(metrics, { acc: 0.9, big: 'Infinity', loss: 'NaN', small: '-Infinity' });
  });

  it('log_metric(synchronous=False): the async queue merges several calls into one log-batch', async () => {
    const runId = (await startRun(c, '0', 'async')).info.run_id;
    // AsyncLoggingQueue._fetch_batch_from_queue: one run, up to 1000 items, 100 params, 100 tags;
    // a param logged twice with one value and a tag set twice (the last wins) can land together.
    const metrics = Array.from({ length: 890 }, (_, i) => ({ key: `m${i % 3}`, value: i, timestamp: 1700000000000 + i, step: Math.floor(i / 3) }));
    const params = [...Array.from({ length: 99 }, (_, i) => ({ key: `p${i}`, value: String(i) })), { key: 'p0', value: '0' }];
    const tags = [{ key: 'phase', value: 'warmup' }, ...Array.from({ length: 8 }, (_, i) => ({ key: `t${i}`, value: 'x' })), { key: 'phase', value: 'train' }];
    assert.equal(metrics.length + params.length + tags.length, 1000);
    await c.logBatch(runId, { metrics, params, tags });
    const run = (await c.getRun(runId)).run;
    assert.equal(run.data.params.length, 99);
    assert.equal(tagMap(run).phase, 'train');
    assert.equal((await c.getMetricHistory(runId, 'm0')).metrics.length, 297);
  });

  it('log_input(dataset, context=...): a pandas dataset as Dataset._to_mlflow_entity sends it', async () => {
    const runId = (await startRun(c, '0', 'inputs')).info.run_id;
    const dataset = {
      name: 'dataset',
      digest: '3d8e1f0a',
      source_type: 'local',
      source: '{"uri": "/data/train.csv"}',
      schema: '{"mlflow_colspec": [{"type": "double", "name": "x", "required": true}, {"type": "long", "name": "y", "required": true}]}',
      profile: '{"num_rows": 3, "num_elements": 6}',
    };
    await c.call(R.LogInputs, { run_id: runId, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }] }, 'Empty');
    // MLflow 3 sends log-inputs with datasets and models both empty too (message_to_json drops them).
    await c.call(R.LogInputs, { run_id: runId }, 'Empty');
    const run = (await c.getRun(runId)).run;
    assert.deepEqual(run.inputs.dataset_inputs, [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }]);
  });

  it('log_input: a schema near MLflow\'s 1 MiB limit fits although the body is over the 1 MB JSON limit', async () => {
    const runId = (await startRun(c, '0', 'wide')).info.run_id;
    const cols = Array.from({ length: 16500 }, (_, i) => ({ type: 'double', name: `feature_${i}`, required: true }));
    const schema = JSON.stringify({ mlflow_colspec: cols });
    assert.ok(schema.length < 1048575);
    const body = { run_id: runId, datasets: [{ dataset: { name: 'wide', digest: 'abcd1234', source_type: 'local', source: '{"uri": "w.csv"}', schema } }] };
    assert.ok(JSON.stringify(body).length > MAX_JSON_BODY_BYTES);
    await c.call(R.LogInputs, body, 'Empty');
    assert.equal((await c.getRun(runId)).run.inputs.dataset_inputs[0].dataset.schema, schema);
  });

  it('end_run: _log_url reads the run, then update to FINISHED with end_time; KILLED and FAILED too', async () => {
    for (const status of ['FINISHED', 'FAILED', 'KILLED']) {
      const runId = (await startRun(c, '0', `end-${status}`)).info.run_id;
      const before = Date.now();
      const info = await endRun(c, runId, status);
      assert.equal(info.status, status);
      assert.ok(info.end_time >= before);
      assert.equal((await c.getRun(runId)).run.info.status, status);
    }
  });

  it('get_run / delete_run / restore: RESOURCE_DOES_NOT_EXIST for an unknown run; deleted runs leave ACTIVE_ONLY searches', async () => {
    const missing = await restError(c.getRun('0123456789abcdef0123456789abcdef'));
    assert.equal(missing.errorCode, 'RESOURCE_DOES_NOT_EXIST');
    assert.equal(missing.status, 404);
    const exp = await setExperiment(c, 'deletions');
    const runId = (await startRun(c, exp.experiment_id, 'doomed')).info.run_id;
    await c.call(R.DeleteRun, { run_id: runId }, 'Empty');
    assert.equal((await c.getRun(runId)).run.info.lifecycle_stage, 'deleted');
    const search = (viewType: string): Promise<Json> =>
      c.call(R.SearchRuns, { experiment_ids: [exp.experiment_id], filter: '', run_view_type: viewType, max_results: 1000 }, 'SearchRuns.Response');
    assert.deepEqual(await search('ACTIVE_ONLY'), {});
    assert.equal((await search('DELETED_ONLY')).runs.length, 1);
    assert.equal((await search('ALL')).runs.length, 1);
    await c.call(R.RestoreRun, { run_id: runId }, 'Empty');
    assert.equal((await search('ACTIVE_ONLY')).runs.length, 1);
  });

  // MlflowClient.rename_experiment, delete_experiment, restore_experiment, delete_experiment_tag:
  // RestStore sends UpdateExperiment(experiment_id=str(id), new_name=...), DeleteExperiment and
  // RestoreExperiment(experiment_id=str(id)), DeleteExperimentTag(experiment_id, key), all POST; the
  // server (handlers.py, SqlAlchemyStore) answers each with an empty message.
  const searchExperiments = (viewType: string): Promise<Json> =>
    c.call(R.SearchExperiments, { view_type: viewType, max_results: 1000 }, 'SearchExperiments.Response');
  const searchRuns = (experimentId: string, viewType: string): Promise<Json> =>
    c.call(R.SearchRuns, { experiment_ids: [experimentId], filter: '', run_view_type: viewType, max_results: 1000 }, 'SearchRuns.Response');
  const names = (page: Json): string[] => (page.experiments ?? []).map((e: Json) => e.name).sort();

  it('rename_experiment: experiments/update with new_name; get-by-name finds the new name only', async () => {
    const exp = await setExperiment(c, 'before');
    assert.deepEqual(await c.call(R.UpdateExperiment, { experiment_id: exp.experiment_id, new_name: 'after' }, 'Empty'), {});
    const renamed = (await c.getExperiment(exp.experiment_id)).experiment;
    assert.equal(renamed.name, 'after');
    assert.ok(renamed.last_update_time >= exp.last_update_time);
    assert.equal((await c.getExperimentByName('after')).experiment.experiment_id, exp.experiment_id);
    assert.equal((await restError(c.getExperimentByName('before'))).errorCode, 'RESOURCE_DOES_NOT_EXIST');

    await setExperiment(c, 'taken');
    const taken = await restError(c.call(R.UpdateExperiment, { experiment_id: exp.experiment_id, new_name: 'taken' }, 'Empty'));
    assert.deepEqual([taken.status, taken.errorCode], [400, 'RESOURCE_ALREADY_EXISTS']);
    const noName = await restError(c.call(R.UpdateExperiment, { experiment_id: exp.experiment_id }, 'Empty'));
    assert.deepEqual([noName.status, noName.errorCode], [400, 'INVALID_PARAMETER_VALUE']);
    assert.match(noName.detail, /Missing value for required parameter 'new_name'/);
    const unknown = await restError(c.call(R.UpdateExperiment, { experiment_id: '424242', new_name: 'x' }, 'Empty'));
    assert.deepEqual([unknown.status, unknown.errorCode], [404, 'RESOURCE_DOES_NOT_EXIST']);
    assert.equal(unknown.detail, 'No Experiment with id=424242 exists');
  });

  it('delete_experiment: the experiment leaves ACTIVE_ONLY, shows under DELETED_ONLY, its runs are deleted with it', async () => {
    const exp = await setExperiment(c, 'doomed');
    const runs = [(await startRun(c, exp.experiment_id, 'a')).info.run_id, (await startRun(c, exp.experiment_id, 'b')).info.run_id];
    assert.deepEqual(await c.call(R.DeleteExperiment, { experiment_id: exp.experiment_id }, 'Empty'), {});

    assert.ok(!names(await searchExperiments('ACTIVE_ONLY')).includes('doomed'));
    assert.deepEqual(names(await searchExperiments('DELETED_ONLY')), ['doomed']);
    assert.ok(names(await searchExperiments('ALL')).includes('doomed'));
    // get_experiment and get-by-name still answer, with lifecycle_stage deleted: fluent.set_experiment
    // reads that and refuses to set a deleted experiment active.
    assert.equal((await c.getExperiment(exp.experiment_id)).experiment.lifecycle_stage, 'deleted');
    assert.equal((await c.getExperimentByName('doomed')).experiment.lifecycle_stage, 'deleted');
    assert.deepEqual(await searchRuns(exp.experiment_id, 'ACTIVE_ONLY'), {});
    assert.equal((await searchRuns(exp.experiment_id, 'DELETED_ONLY')).runs.length, 2);
    for (const runId of runs) assert.equal((await c.getRun(runId)).run.info.lifecycle_stage, 'deleted');

    // Deleting again, renaming, tagging or starting a run in it: refused, as MLflow's SQL store refuses them.
    const again = await restError(c.call(R.DeleteExperiment, { experiment_id: exp.experiment_id }, 'Empty'));
    assert.deepEqual([again.status, again.errorCode, again.detail], [404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${exp.experiment_id} exists`]);
    const rename = await restError(c.call(R.UpdateExperiment, { experiment_id: exp.experiment_id, new_name: 'x' }, 'Empty'));
    // MLflow answers INVALID_STATE with 500, which its client retries 7 times; the endpoint says 400 (see httpErrors.ts).
    assert.deepEqual([rename.status, rename.errorCode, rename.detail], [400, 'INVALID_STATE', 'Cannot rename a non-active experiment.']);
    const tag = await restError(c.call(R.SetExperimentTag, { experiment_id: exp.experiment_id, key: 'k', value: 'v' }, 'Empty'));
    assert.deepEqual([tag.status, tag.errorCode], [400, 'INVALID_PARAMETER_VALUE']);
    assert.match(tag.detail, /must be in the 'active' state. Current state is deleted/);
    const run = await restError(startRun(c, exp.experiment_id, 'late'));
    assert.equal(run.errorCode, 'INVALID_PARAMETER_VALUE');
    // The name stays taken while the experiment is deleted.
    assert.equal((await restError(c.createExperiment('doomed'))).errorCode, 'RESOURCE_ALREADY_EXISTS');
  });

  it('restore_experiment: the experiment and its runs are active again; restoring an active one is RESOURCE_DOES_NOT_EXIST', async () => {
    const exp = await setExperiment(c, 'phoenix');
    const runId = (await startRun(c, exp.experiment_id, 'r')).info.run_id;
    await c.call(R.DeleteExperiment, { experiment_id: exp.experiment_id }, 'Empty');
    assert.deepEqual(await c.call(R.RestoreExperiment, { experiment_id: exp.experiment_id }, 'Empty'), {});
    assert.ok(names(await searchExperiments('ACTIVE_ONLY')).includes('phoenix'));
    assert.equal((await searchRuns(exp.experiment_id, 'ACTIVE_ONLY')).runs[0].info.run_id, runId);
    const active = await restError(c.call(R.RestoreExperiment, { experiment_id: exp.experiment_id }, 'Empty'));
    assert.deepEqual([active.status, active.errorCode], [404, 'RESOURCE_DOES_NOT_EXIST']);
    const missing = await restError(c.call(R.DeleteExperiment, {}, 'Empty'));
    assert.deepEqual([missing.status, missing.errorCode], [400, 'INVALID_PARAMETER_VALUE']);
    assert.match(missing.detail, /Missing value for required parameter 'experiment_id'/);
  });

  it('delete_experiment_tag: experiments/delete-experiment-tag; a tag that is not there is RESOURCE_DOES_NOT_EXIST', async () => {
    const exp = await setExperiment(c, 'tagged');
    await c.call(R.SetExperimentTag, { experiment_id: exp.experiment_id, key: 'team', value: 'ml' }, 'Empty');
    await c.call(R.SetExperimentTag, { experiment_id: exp.experiment_id, key: 'stage', value: 'dev' }, 'Empty');
    assert.deepEqual(await c.call(R.DeleteExperimentTag, { experiment_id: exp.experiment_id, key: 'team' }, 'Empty'), {});
    assert.deepEqual((await c.getExperiment(exp.experiment_id)).experiment.tags, [{ key: 'stage', value: 'dev' }]);
    const gone = await restError(c.call(R.DeleteExperimentTag, { experiment_id: exp.experiment_id, key: 'team' }, 'Empty'));
    assert.deepEqual([gone.status, gone.errorCode, gone.detail], [404, 'RESOURCE_DOES_NOT_EXIST', `No tag with name: team in experiment with id ${exp.experiment_id}`]);
    const noKey = await restError(c.call(R.DeleteExperimentTag, { experiment_id: exp.experiment_id }, 'Empty'));
    assert.match(noKey.detail, /Missing value for required parameter 'key'/);
  });
});

describe('mlflow client flows: search_runs and metric history', () => {
  let s: TrackingServer;
  let c: MlflowClient;
  let exp: string;
  before(async () => {
    s = await freshServer();
    c = new MlflowClient(s);
    exp = (await setExperiment(c, 'search')).experiment_id;
    for (let i = 0; i < 5; i++) {
      const runId = (await startRun(c, exp, `run-${i}`)).info.run_id;
      await c.logBatch(runId, { metrics: [{ key: 'acc', value: i / 10, timestamp: 1700000000000 + i, step: 0 }], params: [{ key: 'i', value: String(i) }] });
      await endRun(c, runId);
    }
  });
  after(() => s.close());

  it('search_runs: pages with next_page_token until it is absent (get_results_from_paginated_fn)', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const body: Record<string, unknown> = { experiment_ids: [exp], filter: '', run_view_type: 'ACTIVE_ONLY', max_results: 2 };
      if (token) body.page_token = token;
      const page = await c.call(R.SearchRuns, body, 'SearchRuns.Response');
      names.push(...page.runs.map((r: Json) => r.info.run_name));
      // RestStore._search_runs: an absent (or empty) token ends the loop.
      token = page.next_page_token || undefined;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    // MLflow's default order: start_time DESC.
    assert.deepEqual(names, ['run-4', 'run-3', 'run-2', 'run-1', 'run-0']);
  });

  it('search_runs(filter_string, order_by, run_view_type as a number): what mlflow.search_runs builds its DataFrame from', async () => {
    const found = await c.call(
      R.SearchRuns,
      { experiment_ids: [exp], filter: 'metrics.acc > 0.15 and params.i != \'4\'', run_view_type: 1, max_results: 10000, order_by: ['metrics.acc DESC'] },
      'SearchRuns.Response',
    );
    assert.deepEqual(
      found.runs.map((r: Json) => [r.info.run_name, r.info.status, r.data.metrics[0].value, r.data.params[0].value]),
      [
        ['run-3', 'FINISHED', 0.3, '3'],
        ['run-2', 'FINISHED', 0.2, '2'],
      ],
    );
    assert.equal(found.next_page_token, undefined);
  });

  it('search_experiments (search_all_experiments=True) and get_experiment', async () => {
    const all = await c.call(R.SearchExperiments, { view_type: 'ACTIVE_ONLY', max_results: 1000 }, 'SearchExperiments.Response');
    assert.deepEqual(all.experiments.map((e: Json) => e.name).sort(), ['Default', 'search']);
    assert.equal((await c.getExperiment(exp)).experiment.name, 'search');
  });

  it('get_metric_history: max_results=25000 per page, then page_token until none (25,001 points)', async () => {
    const runId = (await startRun(c, exp, 'long')).info.run_id;
    const total = 25001;
    for (let start = 0; start < total; start += 1000) {
      const n = Math.min(1000, total - start);
      await c.logBatch(runId, { metrics: Array.from({ length: n }, (_, j) => ({ key: 'loss', value: 1 / (start + j + 1), timestamp: 1700000000000 + start + j, step: start + j })) });
    }
    const first = await c.getMetricHistory(runId, 'loss');
    assert.equal(first.metrics.length, 25000);
    assert.equal(typeof first.next_page_token, 'string');
    const second = await c.getMetricHistory(runId, 'loss', first.next_page_token);
    assert.equal(second.metrics.length, 1);
    assert.equal(second.next_page_token, undefined);
    const steps = [...first.metrics, ...second.metrics].map((m: Json) => m.step);
    assert.deepEqual(steps, Array.from({ length: total }, (_, i) => i));
    // A key never logged: an empty history, not an error.
    assert.deepEqual(await c.getMetricHistory(runId, 'never'), {});
  });
});

describe('mlflow client flows: artifacts through the mlflow-artifacts proxy', () => {
  let s: TrackingServer;
  let c: MlflowClient;
  let run: Json;
  let repo: ArtifactRepo;
  before(async () => {
    s = await freshServer();
    c = new MlflowClient(s);
    run = await startRun(c, (await setExperiment(c, 'artifacts')).experiment_id, 'art');
    repo = new ArtifactRepo(s, run.info.artifact_uri);
  });
  after(() => s.close());

  it('resolves mlflow-artifacts:/<exp>/<run>/artifacts against the tracking URI', () => {
    assert.equal(
      resolveArtifactUri(run.info.artifact_uri, s.uri),
      `${s.uri}/api/2.0/mlflow-artifacts/artifacts/${run.info.experiment_id}/${run.info.run_id}/artifacts`,
    );
    // A tracking URI with a trailing slash resolves to the same place.
    assert.equal(resolveArtifactUri(run.info.artifact_uri, `${s.uri}/`), resolveArtifactUri(run.info.artifact_uri, s.uri));
  });

  it('log_artifact(s), log_text, log_dict, log_figure, an empty file: PUT each; list and download read them back', async () => {
    const figure = randomBytes(40 * 1024);
    await repo.logArtifact('notes.txt', Buffer.from('hello'));
    await repo.logArtifact('config.yaml', Buffer.from('a: 1\n'), 'configs');
    await repo.logArtifact('deep.txt', Buffer.from('deep'), 'configs/nested');
    await repo.logArtifact('file.txt', Buffer.from('text1'), 'dir'); // log_text(..., "dir/file.txt")
    await repo.logArtifact('data.json', Buffer.from('{"k": "v"}')); // log_dict(..., "data.json")
    await repo.logArtifact('plot.png', figure); // log_figure(fig, "plot.png")
    await repo.logArtifact('empty.txt', Buffer.alloc(0));

    assert.deepEqual(await repo.listArtifacts(), [
      { path: 'configs', isDir: true, fileSize: null },
      { path: 'data.json', isDir: false, fileSize: 10 },
      { path: 'dir', isDir: true, fileSize: null },
      { path: 'empty.txt', isDir: false, fileSize: 0 },
      { path: 'notes.txt', isDir: false, fileSize: 5 },
      { path: 'plot.png', isDir: false, fileSize: figure.length },
    ]);
    assert.deepEqual(await repo.listArtifacts('configs'), [
      { path: 'configs/config.yaml', isDir: false, fileSize: 5 },
      { path: 'configs/nested', isDir: true, fileSize: null },
    ]);
    // download_artifacts first lists the path: a file lists as nothing, so it is fetched as a file.
    assert.deepEqual(await repo.listArtifacts('notes.txt'), []);
    assert.equal((await repo.download('notes.txt')).toString(), 'hello');
    assert.equal((await repo.download('configs/nested/deep.txt')).toString(), 'deep');
    assert.ok((await repo.download('plot.png')).equals(figure));
    assert.equal((await repo.download('empty.txt')).length, 0);
  });

  it('log_image(key=..., step=...): names with % reach the server %25-encoded (requests requote_uri fallback)', async () => {
    const name = 'loss%step%3%timestamp%1700000000000%g1b2c3d4-5e6f.png';
    await repo.logArtifact(name, Buffer.from('png'), 'images', encodeURIComponent(name));
    assert.deepEqual(
      (await repo.listArtifacts('images')).map((f) => f.path),
      [`images/${name}`],
    );
    assert.equal((await repo.download(`images/${encodeURIComponent(name)}`)).toString(), 'png');
  });

  it('mlflow 2.x log_model: upload the model directory, then runs/log-model appends to mlflow.log-model.history', async () => {
    const runId = run.info.run_id;
    for (const f of ['MLmodel', 'model.pkl', 'conda.yaml', 'python_env.yaml', 'requirements.txt']) {
      await repo.logArtifact(f, Buffer.from(`content of ${f}`), 'model');
    }
    const modelJson = (artifactPath: string): string =>
      JSON.stringify({
        run_id: runId,
        artifact_path: artifactPath,
        utc_time_created: '2025-01-01 12:00:00.000000',
        flavors: { python_function: { loader_module: 'mlflow.sklearn', python_version: '3.11.9' }, sklearn: { sklearn_version: '1.5.0' } },
        model_uuid: 'f2b8c5a1d3e44b6f9a0c1d2e3f4a5b6c',
        mlflow_version: '2.19.0',
      });
    await c.call(R.LogModel, { run_id: runId, model_json: modelJson('model') }, 'Empty');
    await c.call(R.LogModel, { run_id: runId, model_json: modelJson('model2') }, 'Empty');
    const history = JSON.parse(tagMap((await c.getRun(runId)).run)['mlflow.log-model.history']!);
    assert.deepEqual(
      history.map((m: Json) => [m.artifact_path, m.run_id, Object.keys(m.flavors)]),
      [
        ['model', runId, ['python_function', 'sklearn']],
        ['model2', runId, ['python_function', 'sklearn']],
      ],
    );
    assert.deepEqual(
      (await repo.listArtifacts('model')).map((f) => f.path),
      ['model/MLmodel', 'model/conda.yaml', 'model/model.pkl', 'model/python_env.yaml', 'model/requirements.txt'],
    );
    // Model.log swallows an MlflowException here with a warning; the server's checks still apply.
    const malformed = await restError(c.call(R.LogModel, { run_id: runId, model_json: 'not json' }, 'Empty'));
    assert.equal(malformed.errorCode, 'INVALID_PARAMETER_VALUE');
    assert.match(malformed.detail, /^Malformed model info/);
    const partial = await restError(c.call(R.LogModel, { run_id: runId, model_json: JSON.stringify({ run_id: runId, artifact_path: 'm' }) }, 'Empty'));
    assert.equal(partial.detail, "Model json is missing mandatory fields: {'flavors', 'utc_time_created'}");
    assert.equal(JSON.parse(tagMap((await c.getRun(runId)).run)['mlflow.log-model.history']!).length, 2);
  });

  it('mlflow 3 LoggedModel API: unknown models are RESOURCE_DOES_NOT_EXIST (404, not retried), a create without experiment INVALID_PARAMETER_VALUE', async () => {
    const unknown = 'm-0123456789abcdef0123456789abcdef';
    for (const [route, body] of [
      [R.GetLoggedModel, undefined],
      [R.FinalizeLoggedModel, { model_id: unknown, status: 'LOGGED_MODEL_READY' }],
      [R.LogOutputs, { run_id: run.info.run_id, models: [{ model_id: unknown, step: 0 }] }],
    ] as const) {
      const e = await restError(c.call(route, body, 'Empty', { model_id: unknown }));
      assert.equal(e.status, 404, route.path);
      assert.equal(e.errorCode, 'RESOURCE_DOES_NOT_EXIST', route.path);
      assert.match(e.detail, /Logged model with ID 'm-0123456789abcdef0123456789abcdef' not found/, route.path);
    }
    const missing = await restError(c.call(R.CreateLoggedModel, { name: 'model' }, 'Empty'));
    assert.equal(missing.errorCode, 'INVALID_PARAMETER_VALUE');
    assert.match(missing.detail, /'experiment_id'/);
  });

  it('multipart upload (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true): mpu/create is 501 with the message the client falls back on', async () => {
    const tail = repo.root.split('/mlflow-artifacts/artifacts/')[1]!;
    const create = await send(s, 'POST', artifactsUrl(A.CreateMultipartUpload, `${tail}/big`), { body: { path: '/tmp/weights.bin', num_parts: 3 } });
    assert.equal(create.status, 501);
    const reply = parseObject(create.text);
    assert.equal(reply.error_code, 'NOT_IMPLEMENTED');
    // HttpArtifactRepository._try_multipart_upload: e.response.json()["message"].startswith(MESSAGE).
    assert.ok(reply.message.startsWith('Multipart upload is not supported for the current artifact repository'));
    assert.equal(UNSUPPORTED_MULTIPART_UPLOAD_MESSAGE, 'Multipart upload is not supported for the current artifact repository');
    for (const op of [A.CompleteMultipartUpload, A.AbortMultipartUpload]) {
      assert.equal((await send(s, op.method, artifactsUrl(op, `${tail}/big`), { body: { path: '/tmp/weights.bin', upload_id: 'u' } })).status, 501);
    }
    // The fallback: one PUT of the whole file.
    const big = randomBytes(2 * 1024 * 1024 + 17);
    await repo.logArtifact('weights.bin', big, 'big');
    assert.ok((await repo.download('big/weights.bin')).equals(big));
  });

  it('multipart download: /server-info says multipart off (as MLflow answers it); a forced presigned request (mpd/presigned) gets 501; the proxied GET serves the file', async () => {
    // MlflowArtifactsRepository._fetch_server_capabilities reads multipart_uploads_enabled and
    // multipart_downloads_enabled from a 200; the workspace probe reads workspaces_enabled.
    for (const at of ['/api/3.0/mlflow/server-info', '/ajax-api/3.0/mlflow/server-info']) {
      const info = await send(s, 'GET', at);
      assert.equal(info.status, 200, at);
      assert.deepEqual(parseObject(info.text), { store_type: 'SqlStore', workspaces_enabled: false, trace_archival_enabled: false, multipart_uploads_enabled: false, multipart_downloads_enabled: false });
    }
    assert.equal((await send(s, 'POST', '/api/3.0/mlflow/server-info')).status, 405);
    // With MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD=true, http_artifact_repo's _get_presigned_download_url
    // asks /mlflow-artifacts/mpd/presigned/<path>: answered 501, saying where the file is served.
    const tail = repo.root.split('/mlflow-artifacts/artifacts/')[1]!;
    const presigned = await send(s, 'GET', `/api/2.0/mlflow-artifacts/mpd/presigned/${tail}/notes.txt`);
    assert.equal(presigned.status, 501);
    assert.match(parseObject(presigned.text).message, /Presigned downloads are not supported .* GET \/api\/2\.0\/mlflow-artifacts\/artifacts/);
    assert.equal((await repo.download('notes.txt')).toString(), 'hello');
  });
});

describe('mlflow client flows: credentials and errors', () => {
  let s: TrackingServer;
  before(async () => {
    s = await freshServer();
  });
  after(() => s.close());

  it('MLFLOW_TRACKING_TOKEN is sent as "Authorization: Bearer <token>" and accepted', async () => {
    assert.equal((await new MlflowClient(s).getExperiment('0')).experiment.name, 'Default');
  });

  it('MLFLOW_TRACKING_USERNAME/PASSWORD make the client send Basic instead: 401 saying so', async () => {
    const basic = `Basic ${Buffer.from(`alice:${s.token}`).toString('base64')}`;
    const e = await restError(new MlflowClient(s, basic).getExperiment('0'));
    assert.equal(e.status, 401);
    assert.equal(e.errorCode, 'UNAUTHENTICATED');
    assert.match(e.detail, /MLFLOW_TRACKING_USERNAME/);
    const none = await restError(new MlflowClient(s, null).getExperiment('0'));
    assert.match(none.detail, /MLFLOW_TRACKING_TOKEN/);
    const wrong = await restError(new MlflowClient(s, 'Bearer not-the-token').getExperiment('0'));
    assert.match(wrong.detail, /does not match/);
  });

  it('deterministic errors are JSON with a known error_code and a status the client does not retry', async () => {
    const c = new MlflowClient(s);
    const runId = (await startRun(c, '0', 'errors')).info.run_id;
    const failures: [string, Promise<unknown>][] = [
      ['missing run_id', c.call(R.LogMetric, { key: 'm', value: 1, timestamp: 1 }, 'Empty')],
      ['bad value', c.call(R.LogMetric, { run_id: runId, key: 'm', value: 'abc', timestamp: 1 }, 'Empty')],
      ['unknown experiment', c.call(R.CreateRun, { experiment_id: '424242', start_time: 1, tags: [] }, 'CreateRun.Response')],
      ['unknown run', c.getRun('f'.repeat(32))],
      ['bad filter', c.call(R.SearchRuns, { experiment_ids: ['0'], filter: 'metrics.acc >> 1' }, 'SearchRuns.Response')],
      ['bad page token', c.call(R.SearchRuns, { experiment_ids: ['0'], page_token: '%%%' }, 'SearchRuns.Response')],
      ['V3 traces (the client falls back to V2 on ENDPOINT_NOT_FOUND)', restCall(s, 'POST', '/api/3.0/mlflow/traces', { trace: {} })],
      ['registered model without a name', c.call({ method: 'POST', path: 'registered-models/create' }, { name: '' }, 'Empty')],
    ];
    for (const [what, p] of failures) {
      const e = await restError(p);
      assert.ok(e.status >= 400 && e.status < 500, `${what}: ${e.status} ${e.message}`);
      assert.equal(e.status, ERROR_CODES[e.errorCode], `${what}: ${e.errorCode} answered with MLflow's status for it`);
    }
  });
});

async function restCall(s: TrackingServer, method: string, endpoint: string, body: unknown): Promise<Json> {
  return verifyRestResponse(await send(s, method, endpoint, { body }), endpoint);
}

// -----------------------------------------------------------------------------------------------
// MLflow 3: mlflow.<flavor>.log_model and the LoggedModel API. Sources (mlflow/mlflow 3.x):
// models/model.py (Model.log: get_run for the run's params, _create_logged_model, log_outputs,
// log_model_metrics_for_step, log_model_artifacts, finalize on leaving _use_logged_model),
// tracking/fluent.py (_create_logged_model: context tags, _use_logged_model: READY or FAILED),
// tracking/_tracking_service/client.py (create_logged_model, log_model_artifacts through the
// model's artifact_location), store/tracking/rest_store.py (every body and route below),
// utils/rest_utils.py (get_logged_model_endpoint, call_endpoint without a body),
// server/handlers.py (_create_logged_model … _search_logged_models, PATCH and DELETE routes),
// store/artifact/models_artifact_repo.py (models:/<model_id> → get_logged_model().artifact_location).

/** What resolve_tags adds to a new logged model (fluent._create_logged_model). */
const MODEL_CONTEXT_TAGS = [
  { key: 'mlflow.user', value: 'alice' },
  { key: 'mlflow.source.name', value: 'train.py' },
  { key: 'mlflow.source.type', value: 'LOCAL' },
];

/** The files flavor.save_model writes for mlflow.sklearn.log_model, uploaded by log_model_artifacts. */
function sklearnModelFiles(modelId: string, artifactUri: string): Record<string, Buffer> {
  return {
    MLmodel: Buffer.from(
      `artifact_path: ${artifactUri}\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\nmlflow_version: 3.1.0\nmodel_id: ${modelId}\nmodel_uuid: ${modelId}\n`,
    ),
    'model.pkl': randomBytes(3000),
    'conda.yaml': Buffer.from('dependencies:\n- python=3.11\n'),
    'python_env.yaml': Buffer.from('python: 3.11.9\n'),
    'requirements.txt': Buffer.from('mlflow==3.1.0\nscikit-learn==1.5.0\n'),
    'metadata/MLmodel': Buffer.from('flavors: {}\n'),
  };
}

/**
 * mlflow.sklearn.log_model(model, name=name) inside start_run, request by request as Model.log sends
 * them in MLflow 3; returns the model as the client last read it, and the requests made.
 */
async function logModel3(c: MlflowClient, s: TrackingServer, runId: string, name: string): Promise<{ model: Json; files: Record<string, Buffer>; requests: string[] }> {
  const requests: string[] = [];
  // 1. params = {**params, **client.get_run(run_id).data.params}
  requests.push('GetRun');
  const run = (await c.getRun(runId)).run;
  const params = (run.data.params ?? []).map((p: Json) => ({ key: p.key, value: p.value }));
  // 2. _create_logged_model → RestStore.create_logged_model (model_type None: left out).
  requests.push('CreateLoggedModel');
  const created = (
    await c.call(
      R.CreateLoggedModel,
      { experiment_id: run.info.experiment_id, name, source_run_id: runId, params, tags: MODEL_CONTEXT_TAGS },
      'CreateLoggedModel.Response',
    )
  ).model;
  const modelId: string = created.info.model_id;
  assert.match(modelId, /^m-[0-9a-f]{32}$/);
  assert.equal(created.info.status, 'LOGGED_MODEL_PENDING');
  // 3. client.log_outputs(run_id, [LoggedModelOutput(model_id, step=0)])
  requests.push('LogOutputs');
  await c.call(R.LogOutputs, { run_id: runId, models: [{ model_id: modelId, step: 0 }] }, 'Empty');
  // 4. log_model_metrics_for_step: the run's points at step 0, re-logged with the model's id.
  requests.push('GetRun');
  const keys: string[] = ((await c.getRun(runId)).run.data.metrics ?? []).map((m: Json) => m.key);
  const linked: Json[] = [];
  for (const key of keys) {
    requests.push('GetMetricHistory');
    const history = (await c.getMetricHistory(runId, key)).metrics ?? [];
    for (const m of history) {
      if (Number(m.step) === 0 && m.model_id === undefined) linked.push({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step, model_id: modelId, run_id: runId });
    }
  }
  requests.push('LogBatch');
  await c.logBatch(runId, { metrics: linked });
  // 5. log_model_artifacts: the repository of the model's artifact_location, then a PUT per file.
  requests.push('GetLoggedModel');
  const artifactUri: string = (await c.call(R.GetLoggedModel, undefined, 'GetLoggedModel.Response', { model_id: modelId })).model.info.artifact_uri;
  const repo = new ArtifactRepo(s, artifactUri);
  const files = sklearnModelFiles(modelId, artifactUri);
  for (const [rel, data] of Object.entries(files)) {
    requests.push('UploadArtifact');
    const slash = rel.lastIndexOf('/');
    await repo.logArtifact(rel.slice(slash + 1), data, slash < 0 ? undefined : rel.slice(0, slash));
  }
  // 6. _use_logged_model exits cleanly: finalize_logged_model(model_id, READY).
  requests.push('FinalizeLoggedModel');
  const model = (await c.call(R.FinalizeLoggedModel, { model_id: modelId, status: 'LOGGED_MODEL_READY' }, 'FinalizeLoggedModel.Response', { model_id: modelId })).model;
  return { model, files, requests };
}

/** mlflow.load_model("models:/<model_id>"): the model's artifact_location, then the proxied download of every file. */
async function loadLoggedModel(c: MlflowClient, s: TrackingServer, modelId: string): Promise<Record<string, Buffer>> {
  const artifactUri = (await c.call(R.GetLoggedModel, undefined, 'GetLoggedModel.Response', { model_id: modelId })).model.info.artifact_uri;
  const repo = new ArtifactRepo(s, artifactUri);
  const out: Record<string, Buffer> = {};
  const walk = async (dir?: string): Promise<void> => {
    for (const f of await repo.listArtifacts(dir)) {
      if (f.isDir) await walk(f.path);
      else out[f.path] = await repo.download(f.path);
    }
  };
  await walk();
  return out;
}

describe('mlflow client flows: MLflow 3 log_model and logged models', () => {
  let s: TrackingServer;
  let c: MlflowClient;
  let exp: Json;
  let runId: string;
  let logged: Awaited<ReturnType<typeof logModel3>>;
  before(async () => {
    s = await freshServer();
    c = new MlflowClient(s);
    exp = await setExperiment(c, 'models3');
    runId = (await startRun(c, exp.experiment_id, 'train')).info.run_id;
    // mlflow.log_params / log_metric before log_model, as a training script does.
    await c.logBatch(runId, {
      params: [{ key: 'n_estimators', value: '100' }],
      metrics: [
        { key: 'acc', value: 0.91, timestamp: 1700000000000, step: 0 },
        { key: 'loss', value: 'NaN', timestamp: 1700000000000, step: 0 },
        { key: 'acc', value: 0.93, timestamp: 1700000000500, step: 1 },
      ],
    });
    logged = await logModel3(c, s, runId, 'model');
  });
  after(() => s.close());

  it('log_model: create (PENDING, source run, run params, context tags) → outputs → linked metrics → files under the model root → READY', () => {
    const m = logged.model;
    assert.deepEqual(logged.requests.filter((r, i, all) => all.indexOf(r) === i), [
      'GetRun',
      'CreateLoggedModel',
      'LogOutputs',
      'GetMetricHistory',
      'LogBatch',
      'GetLoggedModel',
      'UploadArtifact',
      'FinalizeLoggedModel',
    ]);
    // What LoggedModel.from_proto and ModelInfo read.
    assert.equal(m.info.status, 'LOGGED_MODEL_READY');
    assert.equal(m.info.name, 'model');
    assert.equal(m.info.experiment_id, exp.experiment_id);
    assert.equal(m.info.source_run_id, runId);
    assert.equal(m.info.artifact_uri, `mlflow-artifacts:/${exp.experiment_id}/models/${m.info.model_id}/artifacts`);
    assert.ok(m.info.last_updated_timestamp_ms >= m.info.creation_timestamp_ms);
    assert.deepEqual(m.info.tags, MODEL_CONTEXT_TAGS.slice().sort((a, b) => (a.key < b.key ? -1 : 1)));
    assert.deepEqual(m.data.params, [{ key: 'n_estimators', value: '100' }]);
    assert.deepEqual(
      m.data.metrics.map((x: Json) => [x.key, x.value, x.step, x.model_id, x.run_id]),
      [
        ['acc', 0.91, 0, m.info.model_id, runId],
        ['loss', 'NaN', 0, m.info.model_id, runId],
      ],
      'the run points at step 0, linked to the model',
    );
  });

  it("the run: outputs.model_outputs names the model; its own metric history is not doubled by log_model's re-logging", async () => {
    const run = (await c.getRun(runId)).run;
    assert.deepEqual(run.outputs, { model_outputs: [{ model_id: logged.model.info.model_id, step: 0 }] });
    assert.deepEqual(
      ((await c.getMetricHistory(runId, 'acc')).metrics ?? []).map((m: Json) => [m.step, m.value]),
      [
        [0, 0.91],
        [1, 0.93],
      ],
    );
    assert.equal((await c.getMetricHistory(runId, 'loss')).metrics.length, 1);
  });

  it('mlflow.load_model("models:/<model_id>"): get the logged model, then list and download its files through the proxy', async () => {
    const files = await loadLoggedModel(c, s, logged.model.info.model_id);
    assert.deepEqual(Object.keys(files).sort(), Object.keys(logged.files).sort());
    for (const [rel, data] of Object.entries(logged.files)) assert.ok(files[rel]!.equals(data), rel);
    // The UI's ListLoggedModelArtifacts: paths from the model's root, and that root.
    const listed = await c.call(R.ListLoggedModelArtifacts, { artifact_directory_path: 'metadata' }, 'ListLoggedModelArtifacts.Response', { model_id: logged.model.info.model_id });
    assert.deepEqual(listed, { root_uri: logged.model.info.artifact_uri, files: [{ path: 'metadata/MLmodel', is_dir: false, file_size: 12 }] });
    // A model's files are not reachable under another experiment.
    const other = await send(s, 'GET', ARTIFACTS_ROOT, { params: { path: `0/models/${logged.model.info.model_id}/artifacts` } });
    assert.equal(other.status, 404);
  });

  it('search_logged_models: by experiment, filter and order_by, paged until next_page_token is absent', async () => {
    const second = await logModel3(c, s, runId, 'model2');
    const search = (body: Json) => c.call(R.SearchLoggedModels, body, 'SearchLoggedModels.Response');
    const all = await search({ experiment_ids: [exp.experiment_id], order_by: [{ field_name: 'creation_time', ascending: true }] });
    assert.deepEqual(all.models.map((m: Json) => m.info.name), ['model', 'model2']);
    assert.equal(all.next_page_token, undefined);
    const named = await search({ experiment_ids: [exp.experiment_id], filter: "name = 'model2' AND status = 'READY'" });
    assert.deepEqual(named.models.map((m: Json) => m.info.model_id), [second.model.info.model_id]);
    const byMetric = await search({ experiment_ids: [exp.experiment_id], filter: 'metrics.acc > 0.9', order_by: [{ field_name: 'metrics.acc', ascending: false }], max_results: 1 });
    assert.equal(byMetric.models.length, 1);
    const next = await search({ experiment_ids: [exp.experiment_id], filter: 'metrics.acc > 0.9', order_by: [{ field_name: 'metrics.acc', ascending: false }], max_results: 1, page_token: byMetric.next_page_token });
    assert.equal(next.models.length, 1);
    assert.equal(next.next_page_token, undefined);
    assert.notEqual(next.models[0].info.model_id, byMetric.models[0].info.model_id);
    // Nothing matches: no `models` at all (an empty repeated field is left out).
    assert.deepEqual(await search({ experiment_ids: [exp.experiment_id], filter: "tags.stage = 'prod'" }), {});
    const bad = await restError(search({ experiment_ids: [exp.experiment_id], filter: "datasets.name = 'x'" }));
    assert.equal(bad.errorCode, 'INVALID_PARAMETER_VALUE');
    assert.match(bad.detail, /position 0/);
    const noIds = await restError(search({ filter: '' }));
    assert.match(noIds.detail, /'experiment_ids'/);
  });

  it('set_logged_model_tags (PATCH …/tags), delete_logged_model_tag (DELETE …/tags/<key>, no body), log_model_params, log_metric(model_id=…)', async () => {
    const id = logged.model.info.model_id;
    await c.call(R.SetLoggedModelTags, { tags: [{ key: 'stage', value: 'prod' }, { key: 'note', value: 'a b' }] }, 'Empty', { model_id: id });
    await c.call(R.DeleteLoggedModelTag, undefined, 'Empty', { model_id: id, tag_key: 'note' });
    await c.call(R.LogLoggedModelParams, { model_id: id, params: [{ key: 'max_depth', value: '5' }] }, 'Empty', { model_id: id });
    await c.call(R.LogMetric, { run_uuid: runId, run_id: runId, key: 'f1', value: 0.8, timestamp: 1700000001000, step: 2, model_id: id, dataset_name: 'val', dataset_digest: 'd1' }, 'Empty');
    const m = (await c.call(R.GetLoggedModel, undefined, 'GetLoggedModel.Response', { model_id: id })).model;
    assert.equal(m.info.tags.find((t: Json) => t.key === 'stage').value, 'prod');
    assert.equal(m.info.tags.find((t: Json) => t.key === 'note'), undefined);
    assert.deepEqual(m.data.params.map((p: Json) => p.key), ['max_depth', 'n_estimators']);
    assert.deepEqual(m.data.metrics.find((x: Json) => x.key === 'f1'), { key: 'f1', value: 0.8, timestamp: 1700000001000, step: 2, dataset_name: 'val', dataset_digest: 'd1', model_id: id, run_id: runId });
    const gone = await restError(c.call(R.DeleteLoggedModelTag, undefined, 'Empty', { model_id: id, tag_key: 'note' }));
    assert.equal(gone.errorCode, 'RESOURCE_DOES_NOT_EXIST');
    const changed = await restError(c.call(R.LogLoggedModelParams, { model_id: id, params: [{ key: 'max_depth', value: '6' }] }, 'Empty', { model_id: id }));
    assert.equal(changed.errorCode, 'INVALID_PARAMETER_VALUE');
    const mismatch = await restError(c.call(R.FinalizeLoggedModel, { model_id: 'm-other', status: 'LOGGED_MODEL_READY' }, 'Empty', { model_id: id }));
    assert.equal(mismatch.errorCode, 'INVALID_PARAMETER_VALUE');
    const wrongMethod = await send(s, 'PUT', routeUrl(R.GetLoggedModel, { model_id: id }), { body: {} });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, 'GET, PATCH, DELETE');
  });

  it('a failed upload is finalized LOGGED_MODEL_UPLOAD_FAILED (status as a number too); delete_logged_model hides it', async () => {
    const created = (await c.call(R.CreateLoggedModel, { experiment_id: exp.experiment_id }, 'CreateLoggedModel.Response')).model;
    assert.match(created.info.name, /^[a-z]+-[a-z]+-\d{3}$/, 'an unnamed model gets a random name');
    const id = created.info.model_id;
    const failed = (await c.call(R.FinalizeLoggedModel, { model_id: id, status: 3 }, 'FinalizeLoggedModel.Response', { model_id: id })).model;
    assert.equal(failed.info.status, 'LOGGED_MODEL_UPLOAD_FAILED');
    await c.call(R.DeleteLoggedModel, { model_id: id }, 'Empty', { model_id: id });
    const e = await restError(c.call(R.GetLoggedModel, undefined, 'GetLoggedModel.Response', { model_id: id }));
    assert.equal(e.errorCode, 'RESOURCE_DOES_NOT_EXIST');
    const search = await c.call(R.SearchLoggedModels, { experiment_ids: [exp.experiment_id] }, 'SearchLoggedModels.Response');
    assert.ok(!search.models.some((m: Json) => m.info.model_id === id));
    const upload = await send(s, 'PUT', artifactsUrl(A.UploadArtifact, `${exp.experiment_id}/models/${id}/artifacts/MLmodel`), { body: Buffer.from('x') });
    assert.equal(upload.status, 404);
  });
});
