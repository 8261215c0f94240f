/**
 * MLflow's REST messages (service.proto in protobuf-JSON form, snake_case field names) to and from
 * the tracker's types. Requests are validated here, before the tracker is called, with MLflow's
 * messages ("Missing value for required parameter 'run_id'. …", "Invalid value "abc" for parameter
 * 'value' supplied. …"), so a malformed request never reaches a write.
 *
 * Parsing follows protobuf-JSON: int64 fields may be JSON numbers or decimal strings, doubles may be
 * numbers or the strings "NaN", "Infinity", "-Infinity" (or a numeric string), enums may be names or
 * numbers, `null` is the same as absent, unknown fields are ignored. Responses follow MLflow's
 * Python server: int64s as numbers, non-finite doubles as strings, empty repeated fields and unset
 * optional fields left out.
 */
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { CreateRunOptions, LogBatch, UpdateRunOptions } from '../tracker/tracker';
import {
  MAX_ENTITIES_PER_BATCH,
  MAX_METRICS_PER_BATCH,
  MAX_PARAMS_TAGS_PER_BATCH,
} from '../tracker/limits';
import type {
  ArtifactListEntry,
  CreateLoggedModelOptions,
  DatasetInput,
  Experiment,
  ExperimentSearch,
  LoggedModel,
  LoggedModelInput,
  LoggedModelMetric,
  LoggedModelOrder,
  LoggedModelOutput,
  LoggedModelSearch,
  LoggedModelStatus,
  Metric,
  Param,
  Run,
  RunInfo,
  RunSearch,
  RunStatus,
  Tag,
  ViewType,
} from '../tracker/model';
import { LOGGED_MODEL_STATUSES, RUN_STATUSES } from '../tracker/model';
import { MAX_SEARCH_EXPERIMENT_IDS } from '../tracker/search/runSearchSql';
import type { DatasetInputJson, DatasetJson, Double, ExperimentJson, MetricJson, RunInfoJson, RunJson } from '../mlflow/restApi';
import { HttpError } from './httpErrors';

/** A decoded request: the JSON body of a POST, or the query parameters of a GET. */
export type Message = Record<string, unknown>;

const DOCS_HINT = ' See the API docs for more information about request parameters.';

/** Repeated fields that may appear several times in a GET query string. */
const REPEATED_QUERY_FIELDS: ReadonlySet<string> = new Set(['order_by', 'experiment_ids', 'stages']);

const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];

/**
 * `order_by` clauses one search takes (MLflow sets no bound): each metric, param or tag it orders
 * by is a join, and SQLite joins at most 64 tables in one statement.
 */
export const MAX_ORDER_BY_CLAUSES = 32;
/** How deep arrays and objects may nest in a model's JSON (runs/log-model): MLflow's own nest a few levels. */
export const MAX_MODEL_JSON_NESTING = 64;
/** Characters of a value quoted in an error message. */
const SHOWN_LIMIT = 200;

// -----------------------------------------------------------------------------------------------
// Errors

export function missingParameter(path: string): HttpError {
  return new HttpError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${path}'.${DOCS_HINT}`);
}

export function invalidParameterValue(path: string, value: unknown, detail = ''): HttpError {
  const hint = detail || ` Hint: Value was of type '${pythonTypeName(value)}'.`;
  return new HttpError('INVALID_PARAMETER_VALUE', `Invalid value ${shown(value)} for parameter '${path}' supplied.${hint}${DOCS_HINT}`);
}

function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/**
 * A request value as JSON for an error message, cut after SHOWN_LIMIT characters. It writes only
 * what it shows: a value nested a million levels deep (a hostile body) is not walked to the bottom.
 */
function shown(value: unknown): string {
  let text = '';
  /** Appends `v`; false once the text is past the limit. */
  const write = (v: unknown): boolean => {
    if (Array.isArray(v)) {
      text += '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) text += ',';
        if (text.length > SHOWN_LIMIT || !write(v[i])) return false;
      }
      text += ']';
    } else if (v !== null && typeof v === 'object') {
      text += '{';
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        text += `${first ? '' : ','}${JSON.stringify(k)}:`;
        first = false;
        if (text.length > SHOWN_LIMIT || !write(item)) return false;
      }
      text += '}';
    } else {
      // NaN and ±Infinity (a bare one in a body, as Python's json writes them) as written, not as JSON's null.
      text += typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
    }
    return text.length <= SHOWN_LIMIT;
  };
  write(value);
  return text.length > SHOWN_LIMIT ? `${text.slice(0, SHOWN_LIMIT)}…` : text;
}

/** Whether arrays and objects nest deeper than `limit` in `value`; walked without recursion. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: item, depth: depth + 1 });
  }
  return false;
}

// -----------------------------------------------------------------------------------------------
// Decoding bodies and query strings

/**
 * A JSON string (left alone) or a bare NaN / Infinity / -Infinity token outside strings (captured).
 * The closing quote is optional: an unterminated string then runs to the end once, where requiring
 * it made the scan restart at every quote inside it (quadratic on a malformed body).
 */
const BARE_NON_FINITE = /"(?:[^"\\]|\\.)*"?|(-?Infinity|NaN)/g;

/**
 * What a bare non-finite token reads as while the relaxed body is parsed (written escaped into it:
 * `"\u0000bare<id>:NaN"`), `<id>` new for each body, so that no string the client sent reads as one.
 */
const NON_FINITE_MARK = '\u0000bare';
const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/** Parses a JSON request body; an empty body is an empty message. */
export function parseJsonBody(body: Buffer): Message {
  if (body.length === 0) return {};
  // JSON text is UTF-8 (RFC 8259): bytes that are not would be stored as U+FFFD.
  if (!isUtf8(body)) throw new HttpError('INVALID_PARAMETER_VALUE', 'The request body is not valid UTF-8: JSON must be sent encoded as UTF-8.');
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // Python's json (which MLflow's server parses with) accepts bare NaN and ±Infinity, and
    // clients that post `json=` from Python send them: read them as the numbers they are (a bare NaN
    // where a string goes is then refused, as MLflow's _assert_string refuses a float).
    const id = randomUUID();
    const mark = `${NON_FINITE_MARK}${id}:`;
    const relaxed = text.replace(BARE_NON_FINITE, (m: string, bare: string | undefined) => (bare ? `"\\u0000bare${id}:${bare}"` : m));
    try {
      if (relaxed === text) throw e;
      value = JSON.parse(relaxed, (_key, v: unknown) => (typeof v === 'string' && v.startsWith(mark) ? NON_FINITE[v.slice(mark.length)] ?? v : v));
    } catch {
      throw new HttpError('BAD_REQUEST', `Malformed JSON in the request body: ${(e as Error).message}`);
    }
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError('BAD_REQUEST', `The request body must be a JSON object, not ${pythonTypeName(value) === 'list' ? 'an array' : typeof value}.`);
  }
  // An escaped lone surrogate (`"\udfff"`) parses into a string that has no UTF-8 form: SQLite would
  // store bytes no UTF-8 reader takes back. Only bodies that escape a surrogate are walked.
  if (SURROGATE_ESCAPE.test(text) && !wellFormedStrings(value)) {
    throw new HttpError('INVALID_PARAMETER_VALUE', 'The request body holds a string with a lone UTF-16 surrogate (an escape such as \\udfff without its pair): it has no UTF-8 form.');
  }
  return value as Message;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every string (keys included) in a parsed JSON value is well-formed Unicode; iterative, so any depth is fine. */
function wellFormedStrings(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return false;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return false;
        stack.push(item);
      }
    }
  }
  return true;
}

/** The query parameters of a GET as a message: repeated fields as arrays, others their first value. */
export function parseQuery(search: string): Message {
  const out: Message = Object.create(null) as Message;
  for (const [key, value] of new URLSearchParams(search)) {
    if (REPEATED_QUERY_FIELDS.has(key)) {
      const prior = out[key];
      if (Array.isArray(prior)) prior.push(value);
      else out[key] = [value];
    } else if (!(key in out)) {
      out[key] = value;
    }
  }
  return out;
}

// -----------------------------------------------------------------------------------------------
// Field readers. `path` names the field in messages (e.g. `metrics[3].value`). The exported ones
// also read the Model Registry's requests (registryRoutes.ts).

export function field(msg: Message, name: string): unknown {
  if (!Object.hasOwn(msg, name)) return undefined;
  const v = msg[name];
  return v === null ? undefined : v;
}

export function optString(msg: Message, name: string, path = name): string | undefined {
  const v = field(msg, name);
  if (v === undefined || typeof v === 'string') return v;
  throw invalidParameterValue(path, v);
}

export function reqString(msg: Message, name: string, path = name): string {
  const v = optString(msg, name, path);
  if (v === undefined || v === '') throw missingParameter(path);
  return v;
}

/** A string field whose absence means the empty string (proto2's default). */
export function stringOrEmpty(msg: Message, name: string, path = name): string {
  return optString(msg, name, path) ?? '';
}

/** An experiment id: a string in service.proto, also accepted as a JSON integer. */
function optExperimentId(msg: Message, name: string, path = name): string | undefined {
  const v = field(msg, name);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return optString(msg, name, path);
}

function reqExperimentId(msg: Message, name = 'experiment_id'): string {
  const v = optExperimentId(msg, name);
  if (v === undefined || v === '') throw missingParameter(name);
  return v;
}

const INT_TEXT = /^-?\d{1,16}$/;

function int64Value(v: unknown, path: string): number {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v;
  } else if (typeof v === 'string' && INT_TEXT.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
  }
  throw invalidParameterValue(path, v);
}

export function optInt64(msg: Message, name: string, path = name): number | undefined {
  const v = field(msg, name);
  return v === undefined ? undefined : int64Value(v, path);
}

function reqInt64(msg: Message, name: string, path = name): number {
  const v = field(msg, name);
  if (v === undefined || v === '') throw missingParameter(path);
  return int64Value(v, path);
}

const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function doubleValue(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (FLOAT_TEXT.test(v)) return Number(v);
  }
  throw invalidParameterValue(path, v);
}

function reqDouble(msg: Message, name: string, path = name): number {
  const v = field(msg, name);
  if (v === undefined || v === '') throw missingParameter(path);
  return doubleValue(v, path);
}

function optList(msg: Message, name: string, path = name): unknown[] {
  const v = field(msg, name);
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  throw invalidParameterValue(path, v);
}

function asMessage(v: unknown, path: string): Message {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Message;
  throw invalidParameterValue(path, v);
}

/** A repeated string field; a lone string (one query parameter) is a list of one. */
export function stringList(msg: Message, name: string): string[] {
  const v = field(msg, name);
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  return items.map((item, i) => {
    if (typeof item === 'number' && name === 'experiment_ids' && Number.isSafeInteger(item)) return String(item);
    if (typeof item !== 'string') throw invalidParameterValue(Array.isArray(v) ? `${name}[${i}]` : name, item);
    return item;
  });
}

/** A repeated field of at most `max` items (checked before any item is read). */
function boundedList<T>(name: string, items: T[], max: number): T[] {
  if (items.length > max) {
    throw new HttpError('INVALID_PARAMETER_VALUE', `Invalid value for parameter '${name}': ${items.length} items given, a request may send at most ${max}.${DOCS_HINT}`);
  }
  return items;
}

/** `experiment_ids` of a search, bounded. */
function experimentIdList(msg: Message): string[] {
  const v = field(msg, 'experiment_ids');
  if (Array.isArray(v)) boundedList('experiment_ids', v, MAX_SEARCH_EXPERIMENT_IDS);
  return stringList(msg, 'experiment_ids');
}

/** `order_by` clauses of a search, bounded. */
function orderByList(msg: Message): string[] {
  return boundedList('order_by', stringList(msg, 'order_by'), MAX_ORDER_BY_CLAUSES);
}

/** A proto enum given by name or by number (numbers start at 1, in `names` order). */
function optEnum<T extends string>(msg: Message, name: string, names: readonly T[]): T | undefined {
  const v = field(msg, name);
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    if ((names as readonly string[]).includes(v)) return v as T;
    if (/^\d+$/.test(v) && names[Number(v) - 1] !== undefined) return names[Number(v) - 1];
  } else if (typeof v === 'number' && Number.isInteger(v) && names[v - 1] !== undefined) {
    return names[v - 1];
  }
  throw invalidParameterValue(name, v, ` It must be one of ${names.join(', ')}.`);
}

/** `run_id`, or the legacy `run_uuid`. */
function reqRunId(msg: Message): string {
  const id = optString(msg, 'run_id') || optString(msg, 'run_uuid');
  if (!id) throw missingParameter('run_id');
  return id;
}

export function keyValueList(msg: Message, name: string): Tag[] {
  const items = optList(msg, name);
  const out: Tag[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const path = `${name}[${i}]`;
    const item = asMessage(items[i], path);
    out[i] = { key: reqString(item, 'key', `${path}.key`), value: stringOrEmpty(item, 'value', `${path}.value`) };
  }
  return out;
}

// -----------------------------------------------------------------------------------------------
// Requests

export function parseCreateExperiment(msg: Message): { name: string; artifactLocation?: string; tags: Tag[] } {
  const name = reqString(msg, 'name');
  const artifactLocation = optString(msg, 'artifact_location');
  const tags = keyValueList(msg, 'tags');
  return artifactLocation ? { name, artifactLocation, tags } : { name, tags };
}

/** Requests that name only an experiment: experiments/get, experiments/delete, experiments/restore. */
export function parseExperimentRef(msg: Message): string {
  return reqExperimentId(msg);
}

/** experiments/update (UpdateExperiment): MLflow's handler requires `new_name`. */
export function parseUpdateExperiment(msg: Message): { experimentId: string; newName: string } {
  return { experimentId: reqExperimentId(msg), newName: reqString(msg, 'new_name') };
}

export function parseDeleteExperimentTag(msg: Message): { experimentId: string; key: string } {
  return { experimentId: reqExperimentId(msg), key: reqString(msg, 'key') };
}

export function parseGetExperimentByName(msg: Message): string {
  return reqString(msg, 'experiment_name');
}

export function parseSearchExperiments(msg: Message): ExperimentSearch {
  const search: ExperimentSearch = {};
  const maxResults = optInt64(msg, 'max_results');
  if (maxResults !== undefined) search.maxResults = maxResults;
  const pageToken = optString(msg, 'page_token');
  if (pageToken) search.pageToken = pageToken;
  const filter = optString(msg, 'filter');
  if (filter) search.filter = filter;
  const orderBy = orderByList(msg);
  if (orderBy.length > 0) search.orderBy = orderBy;
  const viewType = optEnum(msg, 'view_type', VIEW_TYPES);
  if (viewType) search.viewType = viewType;
  return search;
}

export function parseSetExperimentTag(msg: Message): { experimentId: string; tag: Tag } {
  const experimentId = reqExperimentId(msg);
  return { experimentId, tag: { key: reqString(msg, 'key'), value: stringOrEmpty(msg, 'value') } };
}

export function parseCreateRun(msg: Message): CreateRunOptions {
  const options: CreateRunOptions = { tags: keyValueList(msg, 'tags') };
  const experimentId = optExperimentId(msg, 'experiment_id');
  if (experimentId) options.experimentId = experimentId;
  const userId = optString(msg, 'user_id');
  if (userId) options.userId = userId;
  const runName = optString(msg, 'run_name');
  if (runName) options.runName = runName;
  const startTime = optInt64(msg, 'start_time');
  if (startTime !== undefined) options.startTime = startTime;
  return options;
}

/** Requests that name only a run: runs/get, runs/delete, runs/restore. */
export function parseRunRef(msg: Message): string {
  return reqRunId(msg);
}

export function parseUpdateRun(msg: Message): { runId: string; update: UpdateRunOptions } {
  const runId = reqRunId(msg);
  const update: UpdateRunOptions = {};
  const status = optEnum<RunStatus>(msg, 'status', RUN_STATUSES);
  if (status) update.status = status;
  const endTime = optInt64(msg, 'end_time');
  if (endTime !== undefined) update.endTime = endTime;
  const runName = optString(msg, 'run_name');
  if (runName) update.runName = runName;
  return { runId, update };
}

function metricOf(item: Message, path: string): Metric {
  // The common shape, checked without building error paths: a log-batch holds up to 1000 of these.
  const { key, value, timestamp, step } = item;
  if (
    typeof key === 'string' &&
    key !== '' &&
    typeof value === 'number' &&
    Number.isSafeInteger(timestamp) &&
    (step === undefined || Number.isSafeInteger(step)) &&
    !Object.hasOwn(item, 'model_id') &&
    !Object.hasOwn(item, 'dataset_name') &&
    !Object.hasOwn(item, 'dataset_digest') &&
    Object.hasOwn(item, 'key')
  ) {
    return { key, value, timestamp: timestamp as number, step: (step as number | undefined) ?? 0 };
  }
  const metric: Metric = {
    key: reqString(item, 'key', `${path}key`),
    value: reqDouble(item, 'value', `${path}value`),
    timestamp: reqInt64(item, 'timestamp', `${path}timestamp`),
    step: optInt64(item, 'step', `${path}step`) ?? 0,
  };
  // MLflow 3: a point may name the logged model it measures and the dataset it was computed on.
  const modelId = optString(item, 'model_id', `${path}model_id`);
  if (modelId) metric.modelId = modelId;
  const datasetName = optString(item, 'dataset_name', `${path}dataset_name`);
  if (datasetName) metric.datasetName = datasetName;
  const datasetDigest = optString(item, 'dataset_digest', `${path}dataset_digest`);
  if (datasetDigest) metric.datasetDigest = datasetDigest;
  return metric;
}

export function parseLogMetric(msg: Message): { runId: string; metric: Metric } {
  return { runId: reqRunId(msg), metric: metricOf(msg, '') };
}

export function parseLogParam(msg: Message): { runId: string; param: Param } {
  return { runId: reqRunId(msg), param: { key: reqString(msg, 'key'), value: stringOrEmpty(msg, 'value') } };
}

export function parseSetTag(msg: Message): { runId: string; tag: Tag } {
  return { runId: reqRunId(msg), tag: { key: reqString(msg, 'key'), value: stringOrEmpty(msg, 'value') } };
}

export function parseDeleteTag(msg: Message): { runId: string; key: string } {
  return { runId: reqRunId(msg), key: reqString(msg, 'key') };
}

function checkBatchLimit(entity: string, limit: number, count: number): void {
  if (count > limit) {
    throw new HttpError(
      'INVALID_PARAMETER_VALUE',
      `A batch logging request can contain at most ${limit} ${entity}. Got ${count} ${entity}. ` +
        `Please split up ${entity} across multiple requests and try again.`,
    );
  }
}

/** runs/log-batch: MLflow's batch limits first, then every entity, in one pass. */
export function parseLogBatch(msg: Message): { runId: string; batch: LogBatch } {
  const runId = reqRunId(msg);
  const rawMetrics = optList(msg, 'metrics');
  const rawParams = optList(msg, 'params');
  const rawTags = optList(msg, 'tags');
  checkBatchLimit('metrics', MAX_METRICS_PER_BATCH, rawMetrics.length);
  checkBatchLimit('params', MAX_PARAMS_TAGS_PER_BATCH, rawParams.length);
  checkBatchLimit('tags', MAX_PARAMS_TAGS_PER_BATCH, rawTags.length);
  checkBatchLimit('metrics, params, and tags', MAX_ENTITIES_PER_BATCH, rawMetrics.length + rawParams.length + rawTags.length);
  const metrics: Metric[] = new Array(rawMetrics.length);
  for (let i = 0; i < rawMetrics.length; i++) {
    const path = `metrics[${i}]`;
    metrics[i] = metricOf(asMessage(rawMetrics[i], path), `${path}.`);
  }
  const params: Param[] = keyValueList(msg, 'params');
  const tags: Tag[] = keyValueList(msg, 'tags');
  return { runId, batch: { metrics, params, tags } };
}

export function parseLogInputs(msg: Message): { runId: string; inputs: DatasetInput[]; models: LoggedModelInput[] } {
  const runId = reqRunId(msg);
  const items = optList(msg, 'datasets');
  const inputs: DatasetInput[] = items.map((raw, i) => {
    const path = `datasets[${i}]`;
    const item = asMessage(raw, path);
    const d = field(item, 'dataset');
    if (d === undefined) throw missingParameter(`${path}.dataset`);
    const ds = asMessage(d, `${path}.dataset`);
    const p = `${path}.dataset.`;
    const dataset: DatasetInput['dataset'] = {
      name: reqString(ds, 'name', `${p}name`),
      digest: reqString(ds, 'digest', `${p}digest`),
      sourceType: reqString(ds, 'source_type', `${p}source_type`),
      source: reqString(ds, 'source', `${p}source`),
    };
    const schema = optString(ds, 'schema', `${p}schema`);
    if (schema !== undefined) dataset.schema = schema;
    const profile = optString(ds, 'profile', `${p}profile`);
    if (profile !== undefined) dataset.profile = profile;
    return { dataset, tags: keyValueList(item, 'tags') };
  });
  // MLflow 3: the logged models the run used (LogInputs.models, ModelInput).
  const models = optList(msg, 'models').map((raw, i) => ({ modelId: reqString(asMessage(raw, `models[${i}]`), 'model_id', `models[${i}].model_id`) }));
  return { runId, inputs, models };
}

/** The run tag where MLflow's server keeps each `runs/log-model` call's model JSON (named in core/tracker/model.ts). */
export { LOGGED_MODELS_TAG } from '../tracker/model';

/** Fields `_log_model` in mlflow/server/handlers.py requires of the model JSON, in the order named. */
const LOG_MODEL_REQUIRED_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'] as const;

/**
 * runs/log-model, which mlflow.<flavor>.log_model sends after uploading the model's files: `model_json`
 * must be a JSON object with MLflow's mandatory fields, checked with the server's messages.
 */
export function parseLogModel(msg: Message): { runId: string; model: Message } {
  const runId = reqRunId(msg);
  const modelJson = reqString(msg, 'model_json');
  let model: unknown;
  try {
    model = JSON.parse(modelJson);
  } catch {
    model = undefined;
  }
  if (model === null || typeof model !== 'object' || Array.isArray(model)) {
    throw new HttpError('INVALID_PARAMETER_VALUE', `Malformed model info. \n ${modelJson} \n is not a valid JSON.`);
  }
  const missing = LOG_MODEL_REQUIRED_FIELDS.filter((f) => !Object.hasOwn(model as object, f));
  if (missing.length > 0) {
    throw new HttpError('INVALID_PARAMETER_VALUE', `Model json is missing mandatory fields: {${missing.map((f) => `'${f}'`).join(', ')}}`);
  }
  // The model is written back into the run's tag as JSON, which recurses as deep as the value nests.
  if (nestsDeeperThan(model, MAX_MODEL_JSON_NESTING)) {
    throw new HttpError('INVALID_PARAMETER_VALUE', `Malformed model info: its JSON nests arrays and objects deeper than ${MAX_MODEL_JSON_NESTING} levels.`);
  }
  return { runId, model: model as Message };
}

/**
 * The `mlflow.log-model.history` tag value with `model` appended, as MLflow's stores keep it: a JSON
 * list of the models logged to the run. A prior value that is not a JSON list is replaced.
 */
export function appendLoggedModel(prior: string | undefined, model: Message): string {
  let list: unknown[] = [];
  if (prior !== undefined) {
    try {
      const parsed: unknown = JSON.parse(prior);
      if (Array.isArray(parsed)) list = parsed;
    } catch {
      /* not MLflow's format: start a new list */
    }
  }
  return JSON.stringify([...list, model]);
}

export function parseSearchRuns(msg: Message): RunSearch {
  const search: RunSearch = {};
  const experimentIds = experimentIdList(msg);
  if (experimentIds.length > 0) search.experimentIds = experimentIds;
  const filter = optString(msg, 'filter');
  if (filter) search.filter = filter;
  const viewType = optEnum(msg, 'run_view_type', VIEW_TYPES);
  if (viewType) search.viewType = viewType;
  const maxResults = optInt64(msg, 'max_results');
  if (maxResults !== undefined) search.maxResults = maxResults;
  const orderBy = orderByList(msg);
  if (orderBy.length > 0) search.orderBy = orderBy;
  const pageToken = optString(msg, 'page_token');
  if (pageToken) search.pageToken = pageToken;
  return search;
}

export function parseGetMetricHistory(msg: Message): { runId: string; key: string; maxResults?: number; pageToken?: string } {
  const out: { runId: string; key: string; maxResults?: number; pageToken?: string } = {
    runId: reqRunId(msg),
    key: reqString(msg, 'metric_key'),
  };
  const maxResults = optInt64(msg, 'max_results');
  if (maxResults !== undefined) out.maxResults = maxResults;
  const pageToken = optString(msg, 'page_token');
  if (pageToken) out.pageToken = pageToken;
  return out;
}

// -----------------------------------------------------------------------------------------------
// Responses

/** A double as protobuf-JSON writes it: non-finite values as strings. */
export function doubleJson(v: number): Double {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

function keyValues(list: readonly { key: string; value: string }[]): { key: string; value: string }[] {
  return list.map((t) => ({ key: t.key, value: t.value }));
}

export function experimentJson(e: Experiment): ExperimentJson {
  const out: ExperimentJson = {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
  };
  const tags = Object.entries(e.tags);
  if (tags.length > 0) out.tags = tags.map(([key, value]) => ({ key, value }));
  return out;
}

export function runInfoJson(i: RunInfo): RunInfoJson {
  return {
    run_id: i.runId,
    run_uuid: i.runId,
    run_name: i.runName,
    experiment_id: i.experimentId,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    ...(i.endTime != null ? { end_time: i.endTime } : {}),
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
  };
}

export function metricJson(m: Metric): MetricJson {
  return { key: m.key, value: doubleJson(m.value), timestamp: m.timestamp, step: m.step };
}

export function datasetInputJson(d: DatasetInput): DatasetInputJson {
  const dataset: DatasetJson = { name: d.dataset.name, digest: d.dataset.digest, source_type: d.dataset.sourceType, source: d.dataset.source };
  if (d.dataset.schema !== undefined) dataset.schema = d.dataset.schema;
  if (d.dataset.profile !== undefined) dataset.profile = d.dataset.profile;
  return d.tags.length > 0 ? { tags: keyValues(d.tags), dataset } : { dataset };
}

export function runJson(r: Run): RunJson {
  const data: RunJson['data'] = {};
  if (r.metrics.length > 0) data.metrics = r.metrics.map(metricJson);
  if (r.params.length > 0) data.params = keyValues(r.params);
  if (r.tags.length > 0) data.tags = keyValues(r.tags);
  const inputs: RunJson['inputs'] = {};
  if (r.inputs.length > 0) inputs.dataset_inputs = r.inputs.map(datasetInputJson);
  if (r.modelInputs?.length) inputs.model_inputs = r.modelInputs.map((m) => ({ model_id: m.modelId }));
  const out: RunJson = { info: runInfoJson(r.info), data, inputs };
  // RunOutputs (MLflow 3): the logged models the run produced, from runs/outputs.
  if (r.modelOutputs?.length) out.outputs = { model_outputs: r.modelOutputs.map((m) => ({ model_id: m.modelId, step: m.step })) };
  return out;
}

/** A page of results under `field`, MLflow-style: empty lists and the last page's token left out. */
export function pageJson<T>(field: string, page: { items: readonly T[]; nextPageToken?: string }, toJson: (item: T) => unknown): Message {
  const out: Message = {};
  if (page.items.length > 0) out[field] = page.items.map(toJson);
  if (page.nextPageToken) out.next_page_token = page.nextPageToken;
  return out;
}

/** mlflow-artifacts list entries: names relative to the listed directory, as MLflow's proxy answers. */
export function artifactListJson(entries: readonly ArtifactListEntry[]): Message {
  if (entries.length === 0) return {};
  return {
    files: entries.map((e) => {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      return e.isDir ? { path: name, is_dir: true } : { path: name, is_dir: false, file_size: e.fileSize ?? 0 };
    }),
  };
}

// -----------------------------------------------------------------------------------------------
// MLflow 3 logged models (service.proto: CreateLoggedModel, GetLoggedModel, FinalizeLoggedModel,
// DeleteLoggedModel, SetLoggedModelTags, DeleteLoggedModelTag, LogLoggedModelParamsRequest,
// SearchLoggedModels, ListLoggedModelArtifacts, LogOutputs; handlers in mlflow/server/handlers.py)

/** A message's `model_id` against the one in the URL (`logged-models/{model_id}`): they must agree. */
export function modelIdOf(msg: Message, fromPath: string): string {
  const inBody = optString(msg, 'model_id');
  if (inBody && inBody !== fromPath) {
    throw new HttpError('INVALID_PARAMETER_VALUE', `The request body names model '${inBody}' but the URL names '${fromPath}'.`);
  }
  return fromPath;
}

export function parseCreateLoggedModel(msg: Message): CreateLoggedModelOptions & { experimentId: string } {
  const out: CreateLoggedModelOptions & { experimentId: string } = {
    experimentId: reqExperimentId(msg),
    params: keyValueList(msg, 'params'),
    tags: keyValueList(msg, 'tags'),
  };
  const name = optString(msg, 'name');
  if (name) out.name = name;
  const modelType = optString(msg, 'model_type');
  if (modelType) out.modelType = modelType;
  const sourceRunId = optString(msg, 'source_run_id');
  if (sourceRunId) out.sourceRunId = sourceRunId;
  return out;
}

/** FinalizeLoggedModel.status: a LoggedModelStatus name or number (LOGGED_MODEL_READY or 2). */
export function parseFinalizeLoggedModel(msg: Message): LoggedModelStatus {
  const v = field(msg, 'status');
  if (v === undefined || v === '') throw missingParameter('status');
  if (typeof v === 'string' && (LOGGED_MODEL_STATUSES as readonly string[]).includes(v)) return v as LoggedModelStatus;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  const byNumber = Number.isInteger(n) ? LOGGED_MODEL_STATUSES[n] : undefined;
  if (byNumber) return byNumber;
  throw invalidParameterValue('status', v, ` It must be one of ${LOGGED_MODEL_STATUSES.join(', ')} (or 0 to 3).`);
}

export function parseSetLoggedModelTags(msg: Message): Tag[] {
  return keyValueList(msg, 'tags');
}

export function parseLogLoggedModelParams(msg: Message): Param[] {
  return keyValueList(msg, 'params');
}

/** A bool field: JSON true/false, or the query strings true/false/True/False. */
export function optBool(msg: Message, name: string, path = name): boolean | undefined {
  const v = field(msg, name);
  if (v === undefined || typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw invalidParameterValue(path, v);
}

export function parseSearchLoggedModels(msg: Message): LoggedModelSearch {
  const experimentIds = experimentIdList(msg);
  if (experimentIds.length === 0) throw missingParameter('experiment_ids');
  const search: LoggedModelSearch = { experimentIds };
  const filter = optString(msg, 'filter');
  if (filter) search.filter = filter;
  const datasets = optList(msg, 'datasets').map((raw, i) => {
    const d = asMessage(raw, `datasets[${i}]`);
    const out: { datasetName: string; datasetDigest?: string } = { datasetName: reqString(d, 'dataset_name', `datasets[${i}].dataset_name`) };
    const digest = optString(d, 'dataset_digest', `datasets[${i}].dataset_digest`);
    if (digest) out.datasetDigest = digest;
    return out;
  });
  if (datasets.length > 0) search.datasets = datasets;
  const maxResults = optInt64(msg, 'max_results');
  if (maxResults !== undefined) search.maxResults = maxResults;
  const orderBy = boundedList('order_by', optList(msg, 'order_by'), MAX_ORDER_BY_CLAUSES).map((raw, i): LoggedModelOrder => {
    const path = `order_by[${i}]`;
    const o = asMessage(raw, path);
    const order: LoggedModelOrder = { fieldName: reqString(o, 'field_name', `${path}.field_name`) };
    const ascending = optBool(o, 'ascending', `${path}.ascending`);
    if (ascending !== undefined) order.ascending = ascending;
    const datasetName = optString(o, 'dataset_name', `${path}.dataset_name`);
    if (datasetName) order.datasetName = datasetName;
    const datasetDigest = optString(o, 'dataset_digest', `${path}.dataset_digest`);
    if (datasetDigest) order.datasetDigest = datasetDigest;
    return order;
  });
  if (orderBy.length > 0) search.orderBy = orderBy;
  const pageToken = optString(msg, 'page_token');
  if (pageToken) search.pageToken = pageToken;
  return search;
}

/** runs/outputs (LogOutputs): the run and the models it produced, each with its step. */
export function parseLogOutputs(msg: Message): { runId: string; outputs: LoggedModelOutput[] } {
  const runId = reqRunId(msg);
  const outputs = optList(msg, 'models').map((raw, i) => {
    const path = `models[${i}]`;
    const m = asMessage(raw, path);
    return { modelId: reqString(m, 'model_id', `${path}.model_id`), step: optInt64(m, 'step', `${path}.step`) ?? 0 };
  });
  return { runId, outputs };
}

/** A Metric of LoggedModelData: the point with the run that logged it and its dataset. */
export function loggedModelMetricJson(m: LoggedModelMetric): Message {
  const out: Message = { key: m.key, value: doubleJson(m.value), timestamp: m.timestamp, step: m.step };
  if (m.datasetName !== undefined) out.dataset_name = m.datasetName;
  if (m.datasetDigest !== undefined) out.dataset_digest = m.datasetDigest;
  out.model_id = m.modelId;
  out.run_id = m.runId;
  return out;
}

/** LoggedModel as MLflow's server writes it (LoggedModel.to_proto): `info` and `data`. */
export function loggedModelJson(m: LoggedModel): Message {
  const info: Message = {
    model_id: m.modelId,
    experiment_id: m.experimentId,
    name: m.name,
    creation_timestamp_ms: m.creationTimestamp,
    last_updated_timestamp_ms: m.lastUpdatedTimestamp,
    artifact_uri: m.artifactUri,
    status: m.status,
  };
  if (m.modelType !== undefined) info.model_type = m.modelType;
  if (m.sourceRunId !== undefined) info.source_run_id = m.sourceRunId;
  if (m.statusMessage !== undefined) info.status_message = m.statusMessage;
  if (m.tags.length > 0) info.tags = keyValues(m.tags);
  const data: Message = {};
  if (m.params.length > 0) data.params = keyValues(m.params);
  if (m.metrics.length > 0) data.metrics = m.metrics.map(loggedModelMetricJson);
  return { info, data };
}

/**
 * ListLoggedModelArtifacts.Response: the entries under a directory of the model's files, named by
 * their path from the model's artifact root, with that root.
 */
export function loggedModelArtifactListJson(rootUri: string, entries: readonly ArtifactListEntry[]): Message {
  const out: Message = { root_uri: rootUri };
  if (entries.length > 0) {
    out.files = entries.map((e) => (e.isDir ? { path: e.path, is_dir: true } : { path: e.path, is_dir: false, file_size: e.fileSize ?? 0 }));
  }
  return out;
}
