/**
 * How the Node tracking client talks to a tracking endpoint: one request at a time over HTTP(S),
 * with the retry policy below. Shared by the client in the script's process and by the sender that
 * delivers what is left at exit (exitSender.ts), so both retry alike.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { CLIENT_PID_HEADER, type HttpMethod } from '../mlflow/restApi';

const REQUEST_TIMEOUT_MS = 60_000;
/** Before the 2nd, 3rd and 4th attempt. */
const RETRY_DELAYS_MS = [250, 750, 2000];

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
export type FailureKind = 'refused' | 'reset' | 'timeout';
export const ALWAYS: readonly FailureKind[] = ['refused', 'reset', 'timeout'];
export const METRICS_RETRY: readonly FailureKind[] = ['refused', 'reset'];
export const CREATE_RETRY: readonly FailureKind[] = ['refused'];

const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function failureKind(e: unknown): FailureKind {
  const code = (e as { code?: string } | null)?.code ?? '';
  if (REFUSED_CODES.has(code)) return 'refused';
  if (RESET_CODES.has(code)) return 'reset';
  return 'timeout';
}

export interface RequestSpec {
  method: HttpMethod;
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

export class Http {
  private readonly base: URL;

  constructor(
    trackingUri: string,
    readonly token: string | undefined,
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
        spec.onWritten?.(false); // resent by the exit sender if the process ends during the retries
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
      // The pid makes this process the owner of the runs it creates or resumes (checked by the endpoint).
      const headers: Record<string, string | number> = { Accept: 'application/json', [CLIENT_PID_HEADER]: process.pid };
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
