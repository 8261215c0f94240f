/** A push or pull that cannot go on: a bad remote, refused credentials, a route the server lacks. */
export class SyncError extends Error {
  constructor(
    message: string,
    /** Set when the user cancelled. */
    readonly cancelled = false,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}
