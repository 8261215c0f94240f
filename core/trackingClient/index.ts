/**
 * Runwise tracking client for Node ≥ 20 scripts that don't use the `mlflow` package; no dependencies.
 *
 *   const rw = require('runwise/client');            // or import * as rw from '.../trackingClient'
 *   rw.logParams({ lr: 0.01 }); rw.logMetric('loss', 0.3, 1); rw.logArtifact('model.bin');
 *   await rw.endRun();                                // optional: at exit everything is sent anyway
 *
 * Reads MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_NAME. Logging calls
 * are synchronous and buffered (sent within 1 s, in batches); `flush()`/`endRun()` surface errors. A run
 * this module created is ended at exit, even through `process.exit()`: FINISHED, or FAILED after a crash.
 * `new TrackingClient({ trackingUri, token, runId })` gives an independent client.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  MAX_ENTITIES_PER_BATCH,
  MAX_METRICS_PER_BATCH,
  MAX_PARAMS_TAGS_PER_BATCH as MAX_PARAMS_PER_BATCH,
  MAX_PARAMS_TAGS_PER_BATCH as MAX_TAGS_PER_BATCH,
} from '../tracker/limits';

/** The server takes 1 MiB; stay below it with room for the envelope. */
const MAX_BATCH_BYTES = 1_000_000;
/** From the first buffered item to its batch being sent. */
const FLUSH_INTERVAL_MS = 1000;
const REQUEST_TIMEOUT_MS = 60_000;
/** Before the 2nd, 3rd and 4th attempt. */
const RETRY_DELAYS_MS = [250, 750, 2000];
const TERMINAL_STATUSES = ['FINISHED', 'FAILED', 'KILLED'] as const;
export type RunEndStatus = (typeof TERMINAL_STATUSES)[number];

/** An error answered by the tracking server, or the failure to reach it. */
export class RunwiseTrackingError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'RunwiseTrackingError';
  }
}

export interface TrackingClientOptions {
  trackingUri: string;
  token?: string;
  /** An existing RUNNING run to log into; its owner ends it, this client never does. */
  runId?: string;
  /** Where runs are created when no runId is given (default 'Default'). */
  experimentName?: string;
  experimentId?: string;
}

export interface StartRunOptions {
  runName?: string;
  experimentName?: string;
  tags?: Record<string, unknown>;
}

export interface LogInputOptions {
  name: string;
  digest: string;
  source?: string;
  sourceType?: string;
  /** A string, or an object sent as JSON. */
  schema?: unknown;
  profile?: unknown;
  /** E.g. 'training' or 'eval' (the tag mlflow.data.context). */
  context?: string;
}

// -------------------------------------------------------------------------------------------------
// HTTP

/**
 * How a request failed, from surely-not-applied to maybe-applied.
 *
 * Retry policy. Answers 429/503 (busy, nothing done) and `refused` (connection refused, name not
 * resolved: the request never reached the server) are retried for every request. `reset` (the
 * connection broke before an answer) is retried for every request but runs/create: on a local
 * endpoint it means the server went away mid-request and its transaction was rolled back. `timeout`
 * (no answer in time: the server is probably still applying the request) is retried only for
 * idempotent requests: reads, params (the same key and value is accepted again), tags, status updates,
 * inputs, artifact uploads. A log-batch carrying metrics is not retried after a timeout, because metric
 * points are append-only on the server and a retry could store the whole batch twice; it fails
 * instead, so a possibly lost batch is reported, never silently doubled. runs/create is retried only
 * when `refused` (a retry could create a second run). The Python client does the same.
 */
type FailureKind = 'refused' | 'reset' | 'timeout';
const ALWAYS: readonly FailureKind[] = ['refused', 'reset', 'timeout'];
const METRICS_RETRY: readonly FailureKind[] = ['refused', 'reset'];
const CREATE_RETRY: readonly FailureKind[] = ['refused'];

const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function failureKind(e: unknown): FailureKind {
  const code = (e as { code?: string } | null)?.code ?? '';
  if (REFUSED_CODES.has(code)) return 'refused';
  if (RESET_CODES.has(code)) return 'reset';
  return 'timeout';
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  /** A local file sent as the raw body. */
  file?: string;
  retryOn: readonly FailureKind[];
  /** Called when the request has been fully handed to the OS on the current attempt. */
  onWritten?: (written: boolean) => void;
}

const noKeepAlive = { http: new http.Agent({ keepAlive: false }), https: new https.Agent({ keepAlive: false }) };

function errorFromResponse(status: number, text: string): RunwiseTrackingError {
  try {
    const data = JSON.parse(text || '{}') as { error_code?: unknown; message?: unknown };
    if (data && typeof data === 'object' && data.error_code) {
      return new RunwiseTrackingError(String(data.error_code), String(data.message ?? ''), status);
    }
  } catch {
    // not JSON: described below
  }
  const code =
    status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : status === 404 ? 'ENDPOINT_NOT_FOUND' : status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  return new RunwiseTrackingError(code, text.trim().slice(0, 500) || `HTTP ${status} with no message`, status);
}

class Http {
  private readonly base: URL;

  constructor(
    trackingUri: string,
    private readonly token: string | undefined,
  ) {
    let url: URL | undefined;
    try {
      url = new URL(trackingUri);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new RunwiseTrackingError(
        'INVALID_TRACKING_URI',
        `the tracking URI must be an http(s) URL of a tracking endpoint (got '${trackingUri}'); this client does not write to files or databases directly`,
      );
    }
    this.base = url;
  }

  get uri(): string {
    return this.base.href.replace(/\/+$/, '');
  }

  async call(spec: RequestSpec): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      try {
        const { status, text } = await this.once(spec);
        if (status < 400) return text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
        if (status !== 429 && status !== 503) throw errorFromResponse(status, text);
        reason = `HTTP ${status}`;
      } catch (e) {
        spec.onWritten?.(false); // resent by the exit handler if the process ends during the retries
        if (e instanceof RunwiseTrackingError) throw e;
        const kind = failureKind(e);
        reason = `${(e as Error).message} (${kind})`;
        if (!spec.retryOn.includes(kind)) {
          throw new RunwiseTrackingError('NETWORK_ERROR', `${spec.method} ${spec.path} failed: ${reason}; not retried, it may have been applied`);
        }
      }
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined) {
        throw new RunwiseTrackingError('NETWORK_ERROR', `${spec.method} ${spec.path} failed after ${attempt + 1} attempts: ${reason}`);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private once(spec: RequestSpec): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      spec.onWritten?.(false);
      const url = new URL(this.uri + spec.path);
      const headers: Record<string, string | number> = { Accept: 'application/json' };
      if (this.token) headers.Authorization = `Bearer ${this.token}`;
      let data: Buffer | undefined;
      if (spec.file !== undefined) {
        headers['Content-Type'] = 'application/octet-stream';
        headers['Content-Length'] = fs.statSync(spec.file).size;
      } else if (spec.body !== undefined) {
        data = Buffer.from(JSON.stringify(spec.body));
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = data.length;
      }
      const secure = url.protocol === 'https:';
      const req = (secure ? https : http).request(
        url,
        { method: spec.method, headers, agent: secure ? noKeepAlive.https : noKeepAlive.http, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.on('finish', () => spec.onWritten?.(true));
      if (spec.file !== undefined) {
        const stream = fs.createReadStream(spec.file);
        stream.on('error', (e) => req.destroy(e));
        stream.pipe(req);
      } else {
        req.end(data);
      }
    });
  }
}

// -------------------------------------------------------------------------------------------------
// Values

interface Entity {
  key: string;
  value: string | number;
  timestamp?: number;
  step?: number;
}

function metricValue(value: unknown): number | string {
  const v = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(v)) {
    if (typeof value === 'number' || /^\s*[+-]?nan\s*$/i.test(String(value))) return 'NaN';
    throw new TypeError(`metric value must be a number, got ${String(value)}`);
  }
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function integer(value: unknown, what: string): number {
  const v = Math.trunc(Number(value));
  if (!Number.isFinite(v)) throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  return v;
}

const sizeOf = (e: Entity): number => Buffer.byteLength(JSON.stringify(e)) + 1; // + the comma

function artifactRoot(info: Record<string, unknown>): string {
  const uri = String(info.artifact_uri ?? '');
  if (uri.startsWith('mlflow-artifacts:')) {
    let rest = uri.slice('mlflow-artifacts:'.length);
    if (rest.startsWith('//')) rest = rest.slice(2).replace(/^[^/]*/, ''); // mlflow-artifacts://host:port/path
    rest = rest.replace(/^\/+|\/+$/g, '');
    if (rest) return rest;
  }
  return `${String(info.experiment_id)}/${String(info.run_id ?? info.run_uuid)}/artifacts`;
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

// -------------------------------------------------------------------------------------------------
// Runs and queued operations

interface CreateSpec {
  experimentName?: string;
  experimentId?: string;
  body: { run_name?: string; start_time: number; user_id: string; tags: { key: string; value: string }[] };
}

/** A run as this client knows it; `id` is unknown until runs/create has answered. */
interface RunSlot {
  id?: string;
  root?: string;
  /** Created here, so ended here (at endRun or exit). */
  owned: boolean;
  create?: CreateSpec;
  creating?: Promise<string>;
  createError?: unknown;
}

type Op = { run: RunSlot; written: boolean } & (
  | { kind: 'batch'; body: { metrics: Entity[]; params: Entity[]; tags: Entity[] }; hasMetrics: boolean }
  | { kind: 'inputs'; datasets: unknown[] }
  | { kind: 'artifact'; file: string; dest: string }
  | { kind: 'end'; status: RunEndStatus; endTime: number }
);

/** The request an op becomes; `{ROOT}` in the path stands for the run's artifact root. */
function opRequest(op: Op, runId: string): { method: 'POST' | 'PUT'; path: string; body?: unknown; file?: string; retryOn: readonly FailureKind[] } {
  switch (op.kind) {
    case 'batch':
      return { method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: runId, ...op.body }, retryOn: op.hasMetrics ? METRICS_RETRY : ALWAYS };
    case 'inputs':
      return { method: 'POST', path: '/api/2.0/mlflow/runs/log-inputs', body: { run_id: runId, datasets: op.datasets }, retryOn: ALWAYS };
    case 'artifact':
      return { method: 'PUT', path: `/api/2.0/mlflow-artifacts/artifacts/{ROOT}/${encodePath(op.dest)}`, file: op.file, retryOn: ALWAYS };
    case 'end':
      return { method: 'POST', path: '/api/2.0/mlflow/runs/update', body: { run_id: runId, status: op.status, end_time: op.endTime }, retryOn: ALWAYS };
  }
}

/**
 * Run at exit by `node -e` in a child process, synchronously for the parent (spawnSync): sends what
 * the parent could not, since no async work runs in an 'exit' handler. Input on stdin:
 * {uri, token, runs: [{id?, root?, create?}], reqs: [{run, method, path, body?, file?, retryOn}]}.
 * Plain JavaScript in a string on purpose: a function's toString() would carry transpiler helpers.
 */
const EXIT_SENDER = String.raw`
const fs = require('fs');
const P = JSON.parse(fs.readFileSync(0, 'utf8'));
const base = P.uri.replace(/\/+$/, '');
const lib = base.startsWith('https:') ? require('https') : require('http');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function once(method, path, body, file) {
  return new Promise((resolve, reject) => {
    const data = file != null ? fs.readFileSync(file) : body != null ? Buffer.from(JSON.stringify(body)) : null;
    const h = { Accept: 'application/json' };
    if (P.token) h.Authorization = 'Bearer ' + P.token;
    if (data) { h['Content-Type'] = file != null ? 'application/octet-stream' : 'application/json'; h['Content-Length'] = data.length; }
    const req = lib.request(base + path, { method, headers: h, timeout: 30000 }, (res) => {
      const c = []; res.on('data', (x) => c.push(x));
      res.on('end', () => {
        const t = Buffer.concat(c).toString('utf8'); let j = {};
        try { j = t.trim() ? JSON.parse(t) : {}; } catch (e) { j = {}; }
        if (res.statusCode >= 400) reject(Object.assign(new Error((j.error_code || 'HTTP ' + res.statusCode) + ': ' + (j.message || t)), { status: res.statusCode, errorCode: j.error_code }));
        else resolve(j);
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(data || undefined);
  });
}
async function call(method, path, body, file, retryOn) {
  for (let i = 0; ; i++) {
    try { return await once(method, path, body, file); } catch (e) {
      const kind = e.status ? (e.status === 429 || e.status === 503 ? 'refused' : 'no') : /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/.test(e.code) ? 'refused' : /ECONNRESET|EPIPE|ECONNABORTED/.test(e.code) ? 'reset' : 'timeout';
      if (i >= 2 || !(retryOn || ['refused']).includes(kind)) throw e;
      await sleep(250 * 3 ** i);
    }
  }
}
async function experiment(c) {
  if (c.experimentId) return c.experimentId;
  const name = c.experimentName || 'Default';
  try { return (await call('GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=' + encodeURIComponent(name), null, null, ['refused', 'reset', 'timeout'])).experiment.experiment_id; }
  catch (e) { if (e.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw e; }
  return (await call('POST', '/api/2.0/mlflow/experiments/create', { name }, null, ['refused'])).experiment_id;
}
function rootOf(info) {
  let u = String(info.artifact_uri || '');
  if (u.startsWith('mlflow-artifacts:')) {
    u = u.slice(17); if (u.startsWith('//')) u = u.slice(2).replace(/^[^/]*/, '');
    u = u.replace(/^\/+|\/+$/g, ''); if (u) return u;
  }
  return info.experiment_id + '/' + (info.run_id || info.run_uuid) + '/artifacts';
}
async function runOf(run) {
  if (run.error) throw run.error;
  try {
    if (!run.id) {
      const body = Object.assign({}, run.create.body, { experiment_id: await experiment(run.create) });
      const info = (await call('POST', '/api/2.0/mlflow/runs/create', body, null, ['refused'])).run.info;
      run.id = info.run_id || info.run_uuid; run.root = rootOf(info);
    }
    return run;
  } catch (e) { run.error = e; throw e; }
}
(async () => {
  let failed = 0;
  for (const q of P.reqs) {
    try {
      const run = await runOf(P.runs[q.run]);
      let path = q.path;
      if (path.includes('{ROOT}')) {
        if (!run.root) run.root = rootOf((await call('GET', '/api/2.0/mlflow/runs/get?run_id=' + encodeURIComponent(run.id), null, null, ['refused', 'reset', 'timeout'])).run.info);
        path = path.replace('{ROOT}', run.root);
      }
      const body = q.body ? Object.assign({}, q.body, { run_id: run.id }) : null;
      await call(q.method, path, body, q.file, q.retryOn);
    } catch (e) {
      failed++;
      process.stderr.write('runwise client: at exit, ' + q.method + ' ' + q.path + ' failed: ' + (e && e.message || e) + '\n');
    }
  }
  process.exitCode = failed ? 1 : 0;
})();
`;

// -------------------------------------------------------------------------------------------------
// Client

const liveClients = new Set<TrackingClient>();
let hooksInstalled = false;
let crashed = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Observes an uncaught exception (or unhandled rejection) without handling it: Node still prints
  // the error and exits non-zero, and our 'exit' handler then ends the run as FAILED.
  process.on('uncaughtExceptionMonitor', () => {
    crashed = true;
  });
  // The event loop ran dry: flush and end runs asynchronously (this keeps the loop alive until done).
  process.on('beforeExit', () => {
    for (const c of liveClients) c.finishBeforeExit();
  });
  // process.exit(), a crash, or the end after beforeExit: send the rest synchronously.
  process.on('exit', () => {
    for (const c of liveClients) c.finishAtExit(crashed);
  });
}

export class TrackingClient {
  private readonly http: Http;
  private readonly token: string | undefined;
  private readonly givenRunId: string | undefined;
  private readonly experimentName: string | undefined;
  private readonly experimentId: string | undefined;
  private run: RunSlot | undefined;
  private metrics: { e: Entity; size: number }[] = [];
  private params = new Map<string, { e: Entity; size: number }>();
  private tags = new Map<string, { e: Entity; size: number }>();
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly ops: Op[] = [];
  private pumping: Promise<void> | undefined;
  private deferred: unknown;
  private finishing = false;

  constructor(options: TrackingClientOptions) {
    this.http = new Http(options.trackingUri, options.token || undefined);
    this.token = options.token || undefined;
    this.givenRunId = options.runId || undefined;
    this.experimentName = options.experimentName || undefined;
    this.experimentId = options.experimentId || undefined;
  }

  /** A client configured by MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_NAME/_ID. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): TrackingClient {
    const uri = env.MLFLOW_TRACKING_URI?.trim();
    if (!uri) {
      throw new RunwiseTrackingError(
        'MISSING_TRACKING_URI',
        'MLFLOW_TRACKING_URI is not set. Run this script from Runwise, or set it to the tracking endpoint (e.g. MLFLOW_TRACKING_URI=http://127.0.0.1:5123, plus MLFLOW_TRACKING_TOKEN).',
      );
    }
    return new TrackingClient({
      trackingUri: uri,
      token: env.MLFLOW_TRACKING_TOKEN?.trim(),
      runId: env.MLFLOW_RUN_ID?.trim(),
      experimentName: env.MLFLOW_EXPERIMENT_NAME?.trim(),
      experimentId: env.MLFLOW_EXPERIMENT_ID?.trim(),
    });
  }

  // --- runs

  /**
   * Starts the run to log into and resolves to its id: the given runId (MLFLOW_RUN_ID) when set, else
   * a new run in `experimentName` (or the client's, or 'Default'), creating the experiment if needed.
   * Logging without startRun() starts a run implicitly.
   */
  async startRun(options: StartRunOptions = {}): Promise<string> {
    this.throwDeferred();
    if (this.run) throw new RunwiseTrackingError('INVALID_STATE', `run ${this.run.id ?? '(being created)'} is already active; call endRun() first`);
    const slot = this.newSlot(options);
    this.run = slot;
    if (!slot.owned) {
      if (options.tags) this.setTags(options.tags);
      return slot.id!;
    }
    try {
      return await this.ensureCreated(slot);
    } catch (e) {
      if (this.run === slot) this.run = undefined;
      throw e;
    }
  }

  private newSlot(options: StartRunOptions): RunSlot {
    installExitHooks();
    liveClients.add(this);
    if (this.givenRunId) return { id: this.givenRunId, owned: false };
    const tags: Record<string, string> = { 'mlflow.source.type': 'LOCAL' };
    if (process.argv[1]) tags['mlflow.source.name'] = path.resolve(process.argv[1]);
    let user = process.env.USER || process.env.USERNAME || '';
    try {
      user ||= os.userInfo().username;
    } catch {
      // no user database entry: leave it empty
    }
    if (user) tags['mlflow.user'] = user;
    for (const [k, v] of Object.entries(options.tags ?? {})) tags[k] = String(v);
    const body: CreateSpec['body'] = { start_time: Date.now(), user_id: user, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) };
    if (options.runName) body.run_name = String(options.runName);
    const experimentName = options.experimentName || this.experimentName;
    return { owned: true, create: { experimentName, experimentId: options.experimentName ? undefined : this.experimentId, body } };
  }

  private currentRun(): RunSlot {
    return (this.run ??= this.newSlot({}));
  }

  private ensureCreated(slot: RunSlot): Promise<string> {
    if (slot.id) return Promise.resolve(slot.id);
    if (slot.createError) return Promise.reject(slot.createError);
    slot.creating ??= (async () => {
      try {
        const spec = slot.create!;
        const experimentId = spec.experimentId ?? (await this.experiment(spec.experimentName || 'Default'));
        const res = await this.http.call({ method: 'POST', path: '/api/2.0/mlflow/runs/create', body: { ...spec.body, experiment_id: experimentId }, retryOn: CREATE_RETRY });
        const info = (res.run as { info: Record<string, unknown> }).info;
        slot.id = String(info.run_id ?? info.run_uuid);
        slot.root = artifactRoot(info);
        return slot.id;
      } catch (e) {
        slot.createError = e;
        throw e;
      }
    })();
    return slot.creating;
  }

  private async experiment(name: string): Promise<string> {
    for (let i = 0; i < 2; i++) {
      try {
        const res = await this.http.call({ method: 'GET', path: `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`, retryOn: ALWAYS });
        return String((res.experiment as { experiment_id: unknown }).experiment_id);
      } catch (e) {
        if (!(e instanceof RunwiseTrackingError) || e.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw e;
      }
      try {
        const res = await this.http.call({ method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: { name }, retryOn: CREATE_RETRY });
        return String(res.experiment_id);
      } catch (e) {
        // Created meanwhile by someone else: look it up again.
        if (!(e instanceof RunwiseTrackingError) || e.errorCode !== 'RESOURCE_ALREADY_EXISTS') throw e;
      }
    }
    throw new RunwiseTrackingError('INTERNAL_ERROR', `could not get or create experiment '${name}'`);
  }

  /**
   * Sends everything buffered, and ends the run if this client created it (a run given by runId /
   * MLFLOW_RUN_ID belongs to whoever launched the process: it is only detached from).
   */
  async endRun(status: RunEndStatus = 'FINISHED'): Promise<void> {
    if (!TERMINAL_STATUSES.includes(status)) throw new TypeError(`status must be one of ${TERMINAL_STATUSES.join(', ')}`);
    const slot = this.run;
    if (slot) {
      this.moveBufferToOps();
      if (slot.owned) this.ops.push({ kind: 'end', run: slot, status, endTime: Date.now(), written: false });
      this.run = undefined;
    }
    await this.flush();
  }

  activeRunId(): string | undefined {
    return this.run?.id;
  }

  // --- buffered logging

  logParam(key: string, value: unknown): void {
    this.log('param', [{ key: String(key), value: String(value) }]);
  }

  logParams(params: Record<string, unknown>): void {
    this.log('param', Object.entries(params).map(([key, value]) => ({ key, value: String(value) })));
  }

  logMetric(key: string, value: number, step?: number, timestamp?: number): void {
    const e: Entity = {
      key: String(key),
      value: metricValue(value),
      timestamp: timestamp === undefined || timestamp === null ? Date.now() : integer(timestamp, 'timestamp'),
      step: step === undefined || step === null ? 0 : integer(step, 'step'),
    };
    this.log('metric', [e]);
  }

  logMetrics(metrics: Record<string, number>, step?: number): void {
    const timestamp = Date.now();
    const s = step === undefined || step === null ? 0 : integer(step, 'step');
    this.log('metric', Object.entries(metrics).map(([key, v]) => ({ key, value: metricValue(v), timestamp, step: s })));
  }

  setTag(key: string, value: unknown): void {
    this.log('tag', [{ key: String(key), value: String(value) }]);
  }

  setTags(tags: Record<string, unknown>): void {
    this.log('tag', Object.entries(tags).map(([key, value]) => ({ key, value: String(value) })));
  }

  private log(kind: 'metric' | 'param' | 'tag', entities: Entity[]): void {
    this.throwDeferred();
    this.currentRun();
    for (const e of entities) {
      let full = this.add(kind, e, false);
      if (full === undefined) {
        // A param changed while its first value is still buffered: the server refuses both in one
        // request, so send the first value, then let the server judge the change.
        this.moveBufferToOps();
        full = this.add(kind, e, true);
      }
      if (full) {
        this.moveBufferToOps();
        this.kick();
      }
    }
  }

  /** Buffers one entity; true when the buffer now holds a full batch, undefined for a changed param. */
  private add(kind: 'metric' | 'param' | 'tag', e: Entity, force: boolean): boolean | undefined {
    const size = sizeOf(e);
    if (kind === 'metric') {
      this.metrics.push({ e, size });
    } else {
      const table = kind === 'param' ? this.params : this.tags;
      const prior = table.get(e.key);
      if (prior) {
        if (kind === 'param' && prior.e.value === e.value) return false;
        if (kind === 'param' && !force) return undefined;
        this.bytes -= prior.size;
        table.delete(e.key); // a tag set again: last value wins, as on the server
      }
      table.set(e.key, { e, size });
    }
    this.bytes += size;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.moveBufferToOps();
        this.kick();
      }, FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
    const np = this.params.size;
    const nt = this.tags.size;
    const nm = this.metrics.length;
    return (
      nm >= MAX_METRICS_PER_BATCH || np >= MAX_PARAMS_PER_BATCH || nt >= MAX_TAGS_PER_BATCH || nm + np + nt >= MAX_ENTITIES_PER_BATCH || this.bytes >= MAX_BATCH_BYTES
    );
  }

  /** Cuts the buffer into log-batch requests within MLflow's limits and queues them. */
  private moveBufferToOps(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const slot = this.run;
    if (!slot) return;
    while (this.metrics.length > 0 || this.params.size > 0 || this.tags.size > 0) {
      let budget = MAX_BATCH_BYTES - 200;
      let count = 0;
      const body = { metrics: [] as Entity[], params: [] as Entity[], tags: [] as Entity[] };
      for (const [list, table, limit] of [
        [body.params, this.params, MAX_PARAMS_PER_BATCH],
        [body.tags, this.tags, MAX_TAGS_PER_BATCH],
      ] as const) {
        for (const [key, { e, size }] of table) {
          if (list.length >= limit || count >= MAX_ENTITIES_PER_BATCH || (size > budget && count > 0)) break;
          table.delete(key);
          list.push(e);
          budget -= size;
          count++;
        }
      }
      let i = 0;
      for (; i < this.metrics.length && count < MAX_ENTITIES_PER_BATCH && body.metrics.length < MAX_METRICS_PER_BATCH; i++) {
        const { e, size } = this.metrics[i]!;
        if (size > budget && count > 0) break;
        body.metrics.push(e);
        budget -= size;
        count++;
      }
      this.metrics.splice(0, i);
      this.ops.push({ kind: 'batch', run: slot, body, hasMetrics: body.metrics.length > 0, written: false });
    }
    this.bytes = 0;
  }

  // --- inputs and artifacts (queued, sent at once rather than after the 1 s delay)

  logInput(input: LogInputOptions): void {
    this.throwDeferred();
    const dataset: Record<string, string> = {
      name: String(input.name),
      digest: String(input.digest),
      source_type: String(input.sourceType ?? 'local'),
      source: String(input.source ?? ''),
    };
    if (input.schema !== undefined && input.schema !== null) dataset.schema = typeof input.schema === 'string' ? input.schema : JSON.stringify(input.schema);
    if (input.profile !== undefined && input.profile !== null) dataset.profile = typeof input.profile === 'string' ? input.profile : JSON.stringify(input.profile);
    const tags = input.context ? [{ key: 'mlflow.data.context', value: String(input.context) }] : [];
    this.ops.push({ kind: 'inputs', run: this.currentRun(), datasets: [{ tags, dataset }], written: false });
    this.kick();
  }

  /** Uploads a file (or a directory, recursively) into the run's artifacts, under `artifactPath`. */
  logArtifact(localPath: string, artifactPath?: string): void {
    this.throwDeferred();
    const stat = fs.statSync(localPath); // throws at once for a missing file
    const run = this.currentRun();
    const dir = (artifactPath ?? '').replace(/^\/+|\/+$/g, '');
    const base = path.basename(path.resolve(localPath));
    const files: [string, string][] = [];
    if (stat.isDirectory()) {
      const walk = (d: string, rel: string): void => {
        for (const ent of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const full = path.join(d, ent.name);
          if (ent.isDirectory()) walk(full, `${rel}/${ent.name}`);
          else if (ent.isFile()) files.push([full, `${rel}/${ent.name}`]);
        }
      };
      walk(localPath, base);
    } else {
      files.push([localPath, base]);
    }
    for (const [file, rel] of files) {
      this.ops.push({ kind: 'artifact', run, file: path.resolve(file), dest: dir ? `${dir}/${rel}` : rel, written: false });
    }
    this.kick();
  }

  // --- sending

  /** Sends everything buffered now; rejects with the first error met since the last call. */
  async flush(): Promise<void> {
    this.moveBufferToOps();
    this.kick();
    while (this.pumping) await this.pumping;
    this.throwDeferred();
  }

  private throwDeferred(): void {
    const e = this.deferred;
    if (e !== undefined) {
      this.deferred = undefined;
      throw e;
    }
  }

  private kick(): void {
    if (this.pumping || this.ops.length === 0) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.ops.length > 0) this.kick(); // queued after the loop's last look
    });
  }

  private async pump(): Promise<void> {
    while (this.ops.length > 0) {
      const op = this.ops[0]!;
      try {
        const runId = await this.ensureCreated(op.run);
        const req = opRequest(op, runId);
        if (req.path.includes('{ROOT}')) req.path = req.path.replace('{ROOT}', await this.rootOf(op.run));
        await this.http.call({ ...req, onWritten: (w) => (op.written = w) });
      } catch (e) {
        this.deferred ??= e; // kept for the next call to throw; the queue goes on
      }
      this.ops.shift();
    }
  }

  private async rootOf(slot: RunSlot): Promise<string> {
    if (!slot.root) {
      const res = await this.http.call({ method: 'GET', path: `/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(slot.id!)}`, retryOn: ALWAYS });
      slot.root = artifactRoot((res.run as { info: Record<string, unknown> }).info);
    }
    return slot.root;
  }

  // --- exit

  private hasWork(): boolean {
    return this.ops.length > 0 || this.metrics.length > 0 || this.params.size > 0 || this.tags.size > 0 || (this.run?.owned ?? false);
  }

  /** @internal 'beforeExit': flush and end an owned run, asynchronously. */
  finishBeforeExit(): void {
    if (this.finishing || !this.hasWork()) return;
    this.finishing = true;
    const done = this.run?.owned ? this.endRun('FINISHED') : this.flush();
    done
      .catch((e: unknown) => process.stderr.write(`runwise client: ${e instanceof Error ? e.message : String(e)}\n`))
      .finally(() => (this.finishing = false));
  }

  /**
   * @internal 'exit': no async work can run any more, so what is still unsent (buffered, queued, or
   * in flight but not yet fully handed to the OS) goes through a child process run synchronously.
   * A request fully written but not answered yet may or may not be applied, like a timeout: it is
   * sent again only when that is harmless (everything but a metrics batch, see the retry policy).
   */
  finishAtExit(crashedNow: boolean): void {
    this.moveBufferToOps();
    const slot = this.run;
    if (slot?.owned) this.ops.push({ kind: 'end', run: slot, status: crashedNow ? 'FAILED' : 'FINISHED', endTime: Date.now(), written: false });
    this.run = undefined;
    const pending = this.ops.filter((op) => !op.written || opRequest(op, '').retryOn.includes('timeout'));
    this.ops.length = 0;
    if (this.deferred !== undefined) {
      const e = this.deferred;
      this.deferred = undefined;
      process.stderr.write(`runwise client: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    if (pending.length === 0) return;
    const runs: RunSlot[] = [];
    const wireRuns: { id?: string; root?: string; create?: CreateSpec }[] = [];
    const reqs = pending.map((op) => {
      let i = runs.indexOf(op.run);
      if (i < 0) {
        i = runs.push(op.run) - 1;
        wireRuns.push(op.run.id ? { id: op.run.id, root: op.run.root } : { create: op.run.create });
      }
      const { method, path: p, body, file, retryOn } = opRequest(op, '');
      return { run: i, method, path: p, body, file, retryOn };
    });
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // the sender is plain JavaScript: no loaders needed
    const r = spawnSync(process.execPath, ['-e', EXIT_SENDER], {
      input: JSON.stringify({ uri: this.http.uri, token: this.token, runs: wireRuns, reqs }),
      stdio: ['pipe', 'ignore', 'inherit'],
      env,
      timeout: 120_000,
    });
    if (r.error) process.stderr.write(`runwise client: could not send the last logged values at exit: ${r.error.message}\n`);
  }
}

// -------------------------------------------------------------------------------------------------
// Module-level API: one default client, configured from the environment on first use.

let defaultClient: TrackingClient | undefined;

function client(): TrackingClient {
  return (defaultClient ??= TrackingClient.fromEnv());
}

export const startRun = (options?: StartRunOptions): Promise<string> => client().startRun(options);
export const logParam = (key: string, value: unknown): void => client().logParam(key, value);
export const logParams = (params: Record<string, unknown>): void => client().logParams(params);
export const logMetric = (key: string, value: number, step?: number, timestamp?: number): void => client().logMetric(key, value, step, timestamp);
export const logMetrics = (metrics: Record<string, number>, step?: number): void => client().logMetrics(metrics, step);
export const setTag = (key: string, value: unknown): void => client().setTag(key, value);
export const setTags = (tags: Record<string, unknown>): void => client().setTags(tags);
export const logInput = (input: LogInputOptions): void => client().logInput(input);
export const logArtifact = (localPath: string, artifactPath?: string): void => client().logArtifact(localPath, artifactPath);
export const flush = (): Promise<void> => (defaultClient ? defaultClient.flush() : Promise.resolve());
export const endRun = (status?: RunEndStatus): Promise<void> => (defaultClient ? defaultClient.endRun(status) : Promise.resolve());
export const activeRunId = (): string | undefined => defaultClient?.activeRunId();
