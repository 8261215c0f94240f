/**
 * Errors of the tracking endpoint in MLflow's shape: `{"error_code": "...", "message": "..."}` with
 * the HTTP status MLflow's server gives each code. Anything else thrown while serving a request
 * becomes 500 INTERNAL_ERROR.
 */
import { BlobTooLargeError } from '../tracker/artifactStore';
import { TrackerError } from '../tracker/trackerError';
import { damagedTracker } from '../tracker/trackerOpenError';
import { PathOutsideWorkspaceError } from '../workspace/workspacePath';

export type ErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'INVALID_STATE'
  | 'BAD_REQUEST'
  | 'ENDPOINT_NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_IMPLEMENTED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'INTERNAL_ERROR';

/**
 * MLflow's mapping of error codes to HTTP statuses (mlflow/exceptions.py), except INVALID_STATE: MLflow
 * answers it with 500, which the mlflow client retries 7 times with backoff (408/429/500/502/503/504
 * are its transient codes, mlflow/utils/request_utils.py); a 400 fails at once, as a state error should.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  INVALID_STATE: 400,
  BAD_REQUEST: 400,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    status?: number,
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status ?? HTTP_STATUS[code];
  }
}

export function invalidParameter(message: string): HttpError {
  return new HttpError('INVALID_PARAMETER_VALUE', message);
}

export function resourceNotFound(message: string): HttpError {
  return new HttpError('RESOURCE_DOES_NOT_EXIST', message);
}

export interface ErrorReply {
  status: number;
  body: { error_code: ErrorCode; message: string };
  /** True for an error nobody expected (a bug or an I/O failure), worth logging. */
  unexpected: boolean;
}

/** What to answer for an error thrown while serving a request. */
export function errorReply(e: unknown): ErrorReply {
  if (e instanceof HttpError) return reply(e.code, e.message, e.status);
  if (e instanceof TrackerError) return reply(e.code, e.message);
  if (e instanceof PathOutsideWorkspaceError) return reply('INVALID_PARAMETER_VALUE', `Invalid path: ${e.message}`);
  if (e instanceof BlobTooLargeError) return reply('INVALID_PARAMETER_VALUE', `The upload is too large: ${e.message}`);
  // A damaged tracker is no request's fault, but a 500 would make the mlflow client retry for minutes.
  const damaged = damagedTracker(e);
  if (damaged) return { ...reply(damaged.code, damaged.message), unexpected: true };
  const message = e instanceof Error ? e.message : String(e);
  return { ...reply('INTERNAL_ERROR', `Internal error: ${message}`), unexpected: true };
}

function reply(code: ErrorCode, message: string, status = HTTP_STATUS[code]): ErrorReply {
  return { status, body: { error_code: code, message }, unexpected: false };
}
