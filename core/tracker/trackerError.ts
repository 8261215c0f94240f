/**
 * Errors the tracker raises, with MLflow's error codes so the endpoint can answer in MLflow's shape
 * and the CLI can tell a user's mistake (exit 1) from a bug.
 */
export type TrackerErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'INVALID_STATE'
  | 'BAD_REQUEST';

export class TrackerError extends Error {
  constructor(
    readonly code: TrackerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TrackerError';
  }
}

export function invalid(message: string): TrackerError {
  return new TrackerError('INVALID_PARAMETER_VALUE', message);
}

export function notFound(message: string): TrackerError {
  return new TrackerError('RESOURCE_DOES_NOT_EXIST', message);
}
