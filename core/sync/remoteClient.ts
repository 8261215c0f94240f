/**
 * How push and pull talk to an MLflow Tracking Server: its REST API only (service.proto's routes,
 * the model registry, the `mlflow-artifacts` proxy), over kept-alive connections with a few
 * requests in flight, retried with exponential backoff and jitter.
 *
 * Retry policy. 429 and 503 (the server did nothing), other 5xx, connection refused, connection reset
 * and timeouts are retried, honouring Retry-After, up to `maxAttempts`. A request that is not
 * idempotent (`ambiguousFails`: a metrics batch, whose points are append-only) is not resent after
 * a failure that may have been applied (a reset or timeout once the request was sent, 500/502/504):
 * it fails with `AmbiguousSendError` and its caller re-reads the remote before going on, so a point
 * is neither lost nor stored twice. 401/403 name the remote and where its credentials come from; a
 * route the server does not have names the route and the MLflow version that brought it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import {
  MLFLOW_ARTIFACTS_PREFIX,
  MLFLOW_ARTIFACTS_ROUTES,
  MLFLOW_REGISTRY_ROUTES,
  MLFLOW_ROUTES,
  routeUrl,
  type HttpMethod,
  type MlflowRegistryRpc,
  type MlflowRpc,
  type RestRoute,
} from '../mlflow/restApi';
import { authorizationHeader, describeAuth, type Remote } from './remoteConfig';
import { SyncError } from './syncError';

/** An error answer of the server (`error_code` as MLflow's databricks.proto names them). */
export class RemoteRequestError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'RemoteRequestError';
  }
}

/** A non-idempotent request failed in a way that may have been applied: re-read before going on. */
export class AmbiguousSendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmbiguousSendError';
  }
}

/** The MLflow release that brought a route, for the message when a server lacks it. */
const ROUTE_SINCE: Readonly<Record<string, string>> = {
  'runs/log-inputs': '2.4',
  'registered-models/alias': '2.3',
  'mlflow-artifacts': '1.24',
  'metrics/get-history': '2.0 (with max_results and page_token)',
};
const DEFAULT_SINCE = '2.0';

export interface RemoteClientOptions {
  /** Requests in flight at once; default 6. */
  concurrency?: number;
  /** Attempts per request; default 6. */
  maxAttempts?: number;
  /** Backoff before the 2nd attempt, doubled each time (with jitter), at most `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Called after each attempt that will be retried (for progress lines). */
  onRetry?: (what: string, reason: string, delayMs: number) => void;
}

interface Attempt {
  method: HttpMethod;
  path: string;
  body?: Buffer;
  file?: string;
  contentType?: string;
  ambiguousFails?: boolean;
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
/** Answers after which the request may have been applied. */
const AMBIGUOUS_STATUSES = new Set([500, 502, 504]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);
/** Failures where the request never reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class RemoteClient {
  readonly base: URL;
  private readonly auth: string | undefined;
  private readonly agent: http.Agent;
  private readonly concurrency: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Requests sent, for tests and the progress summary. */
  requests = 0;
  bytesSent = 0;

  constructor(
    readonly remote: Remote,
    private readonly options: RemoteClientOptions = {},
  ) {
    this.base = new URL(remote.uri);
    this.auth = authorizationHeader(remote, options.env);
    this.concurrency = Math.max(1, options.concurrency ?? 6);
    const agentOptions = { keepAlive: true, maxSockets: this.concurrency, keepAliveMsecs: 1000 };
    this.agent = this.base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Calls one rpc of MLflow's tracking service or model registry; a GET carries the message as query parameters. */
  async rpc<T = Record<string, unknown>>(rpc: MlflowRpc | MlflowRegistryRpc, message: Record<string, unknown>, options: { ambiguousFails?: boolean } = {}): Promise<T> {
    const route: RestRoute = rpc in MLFLOW_ROUTES ? MLFLOW_ROUTES[rpc as MlflowRpc] : MLFLOW_REGISTRY_ROUTES[rpc as MlflowRegistryRpc];
    const base = routeUrl(route);
    if (route.method === 'GET') {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(message)) {
        if (v === undefined) continue;
        for (const item of Array.isArray(v) ? v : [v]) query.append(k, String(item));
      }
      const qs = query.toString();
      return (await this.json({ method: route.method, path: qs ? `${base}?${qs}` : base })) as T;
    }
    return this.rpcJson<T>(rpc, JSON.stringify(message), options);
  }

  /** Calls one POST rpc with its message already written as JSON text. */
  async rpcJson<T = Record<string, unknown>>(rpc: MlflowRpc | MlflowRegistryRpc, json: string, options: { ambiguousFails?: boolean } = {}): Promise<T> {
    const route: RestRoute = rpc in MLFLOW_ROUTES ? MLFLOW_ROUTES[rpc as MlflowRpc] : MLFLOW_REGISTRY_ROUTES[rpc as MlflowRegistryRpc];
    if (route.method === 'GET') throw new Error(`${rpc} is a GET: its message goes in the query string`);
    const body = Buffer.from(json);
    return (await this.json({ method: route.method, path: routeUrl(route), body, contentType: 'application/json', ambiguousFails: options.ambiguousFails })) as T;
  }

  /** The entries directly under `dir` of the artifact proxy (`{ files: [{ path, is_dir, file_size }] }`). */
  async listArtifacts(dir: string): Promise<{ path: string; is_dir?: boolean; file_size?: number | string }[]> {
    const route = MLFLOW_ARTIFACTS_ROUTES.ListArtifacts;
    const reply = (await this.json({ method: route.method, path: `${routeUrl(route, {}, MLFLOW_ARTIFACTS_PREFIX)}?${new URLSearchParams({ path: dir })}` })) as {
      files?: { path: string; is_dir?: boolean; file_size?: number | string }[];
    };
    return reply.files ?? [];
  }

  /** PUTs a local file through the artifact proxy at `artifactPath` (`<experiment>/<run>/artifacts/…`). */
  async uploadArtifact(artifactPath: string, file: string): Promise<void> {
    const route = MLFLOW_ARTIFACTS_ROUTES.UploadArtifact;
    await this.json({ method: route.method, path: routeUrl(route, { artifact_path: artifactPath }, MLFLOW_ARTIFACTS_PREFIX), file, contentType: 'application/octet-stream' });
  }

  /** GETs a file of the artifact proxy into `dest`. */
  async downloadArtifact(artifactPath: string, dest: string): Promise<void> {
    const route = MLFLOW_ARTIFACTS_ROUTES.DownloadArtifact;
    await this.send({ method: route.method, path: routeUrl(route, { artifact_path: artifactPath }, MLFLOW_ARTIFACTS_PREFIX) }, dest);
  }

  private async json(a: Attempt): Promise<unknown> {
    const text = await this.send(a);
    return text.trim() ? JSON.parse(text) : {};
  }

  private async acquire(): Promise<void> {
    if (this.inFlight < this.concurrency) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  private checkAborted(): void {
    if (this.options.signal?.aborted) throw new SyncError('cancelled', true);
  }

  /** Sends with retries; returns the body text (or writes it to `dest`). */
  private async send(a: Attempt, dest?: string): Promise<string> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    const what = `${a.method} ${a.path.replace(/\?.*$/, '')}`;
    for (let attempt = 1; ; attempt++) {
      this.checkAborted();
      await this.acquire();
      let outcome: { status: number; text: string; retryAfter?: string } | { error: NodeJS.ErrnoException; sent: boolean };
      try {
        outcome = await this.once(a, dest);
      } catch (e) {
        outcome = { error: e as NodeJS.ErrnoException, sent: true };
      } finally {
        this.release();
      }
      this.checkAborted();
      let reason: string;
      let retryAfterMs: number | undefined;
      if ('status' in outcome) {
        const { status, text } = outcome;
        if (status < 400) return text;
        if (!RETRY_STATUSES.has(status)) throw this.errorFor(a, status, text);
        if (a.ambiguousFails && AMBIGUOUS_STATUSES.has(status)) throw new AmbiguousSendError(`${what}: HTTP ${status}; it may have been applied`);
        reason = `HTTP ${status}`;
        retryAfterMs = parseRetryAfter(outcome.retryAfter);
      } else {
        const code = outcome.error.code ?? '';
        if (!NETWORK_CODES.has(code)) throw outcome.error;
        if (a.ambiguousFails && outcome.sent && !NOT_SENT_CODES.has(code)) {
          throw new AmbiguousSendError(`${what}: ${outcome.error.message}; it may have been applied`);
        }
        reason = `${outcome.error.message || code}`;
      }
      if (attempt >= maxAttempts) {
        throw new SyncError(`${what} to remote '${this.remote.name}' (${this.remote.uri}) failed after ${attempt} attempts: ${reason}`);
      }
      const base = this.options.baseDelayMs ?? 250;
      const cap = this.options.maxDelayMs ?? 10_000;
      const backoff = Math.min(cap, base * 2 ** (attempt - 1));
      const delay = retryAfterMs !== undefined ? Math.min(retryAfterMs, 60_000) : backoff / 2 + Math.random() * (backoff / 2);
      this.options.onRetry?.(what, reason, delay);
      await abortableSleep(delay, this.options.signal);
    }
  }

  private errorFor(a: Attempt, status: number, text: string): Error {
    let code = '';
    let message = '';
    try {
      const data = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      if (data && typeof data === 'object') {
        code = typeof data.error_code === 'string' ? data.error_code : '';
        message = typeof data.message === 'string' ? data.message : '';
      }
    } catch {
      // not JSON (a proxy's page, Flask's 404): described below
    }
    const where = `remote '${this.remote.name}' (${this.remote.uri})`;
    if (status === 401 || status === 403) {
      return new SyncError(
        `${where} refused the request (HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message.slice(0, 200)}` : ''}); it was sent with ${describeAuth(this.remote)}`,
      );
    }
    const routePath = a.path.replace(/\?.*$/, '');
    if ((status === 404 && (code === 'ENDPOINT_NOT_FOUND' || code === '')) || status === 405 || (status === 501 && code !== 'NOT_IMPLEMENTED')) {
      const route = routePath.replace(/^\/(ajax-)?api\/2\.0\/mlflow(-artifacts)?\//, '');
      const since = Object.entries(ROUTE_SINCE).find(([k]) => route.startsWith(k) || routePath.includes(`/${k}/`))?.[1] ?? DEFAULT_SINCE;
      return new SyncError(`the server at ${this.remote.uri} does not serve ${a.method} ${routePath} (HTTP ${status}); MLflow ≥ ${since} is needed`);
    }
    return new RemoteRequestError(code || `HTTP_${status}`, `${a.method} ${routePath} on ${where}: ${message.slice(0, 500) || text.trim().slice(0, 200) || `HTTP ${status}`}`, status);
  }

  private once(a: Attempt, dest?: string): Promise<{ status: number; text: string; retryAfter?: string } | { error: NodeJS.ErrnoException; sent: boolean }> {
    return new Promise((resolve) => {
      const url = new URL(this.base.pathname.replace(/\/+$/, '') + a.path, this.base);
      const headers: Record<string, string | number> = { Accept: 'application/json' };
      if (this.auth) headers.Authorization = this.auth;
      let size = 0;
      if (a.file !== undefined) {
        size = fs.statSync(a.file).size;
        headers['Content-Length'] = size;
      } else if (a.body) {
        size = a.body.length;
        headers['Content-Length'] = size;
      }
      if (a.contentType && (a.body || a.file !== undefined)) headers['Content-Type'] = a.contentType;
      this.requests++;
      let sent = false;
      let done = false;
      const finish = (v: { status: number; text: string; retryAfter?: string } | { error: NodeJS.ErrnoException; sent: boolean }) => {
        if (!done) {
          done = true;
          resolve(v);
        }
      };
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(url, { method: a.method, headers, agent: this.agent, timeout: this.options.timeoutMs ?? 120_000, signal: this.options.signal }, (res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined;
        if (dest !== undefined && status < 400) {
          const out = fs.createWriteStream(dest);
          res.pipe(out);
          out.on('finish', () => finish({ status, text: '' }));
          out.on('error', (error: NodeJS.ErrnoException) => finish({ error, sent }));
          res.on('error', (error: NodeJS.ErrnoException) => finish({ error, sent }));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ status, text: Buffer.concat(chunks).toString('utf8'), retryAfter }));
        res.on('error', (error: NodeJS.ErrnoException) => finish({ error, sent }));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${this.options.timeoutMs ?? 120_000} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.name === 'AbortError' ? Object.assign(error, { code: 'ABORT_ERR' }) : error, sent }));
      req.on('finish', () => {
        sent = true;
        this.bytesSent += size;
      });
      if (a.file !== undefined) {
        const stream = fs.createReadStream(a.file);
        stream.on('error', (e) => req.destroy(e));
        stream.pipe(req);
      } else req.end(a.body);
    });
  }
}

/** Retry-After in ms: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new SyncError('cancelled', true));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new SyncError('cancelled', true));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
