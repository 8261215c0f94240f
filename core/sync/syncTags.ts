/**
 * The tags that tie a local run to its copy on a remote. They are ordinary run tags, so a push reads
 * and writes them through MLflow's REST API as any client would.
 */

/** On the remote copy: the local run it was pushed from (how a second push finds it). */
export const SOURCE_RUN_TAG = 'runwise.source_run_id';
/**
 * On the remote copy, written last: a digest of what the push sent (metric counts per key, params,
 * tags, inputs, artifacts, status). A run whose digest still matches is up to date without reading
 * its history back; a push that stopped before writing it is compared in full the next time.
 */
export const SYNC_STATE_TAG = 'runwise.sync.state';
/** On a local run after a successful push to remote NAME: `runwise.pushed.NAME` = the remote run's id. */
export const PUSHED_TAG_PREFIX = 'runwise.pushed.';
/** On a pulled run: the remote it came from and its id there. */
export const ORIGIN_REMOTE_TAG = 'runwise.origin.remote';
export const ORIGIN_RUN_TAG = 'runwise.origin.run_id';
/** On a registered model version pushed to a remote: `NAME/VERSION` of the local version. */
export const SOURCE_VERSION_TAG = 'runwise.source_model_version';

export const pushedTag = (remote: string): string => `${PUSHED_TAG_PREFIX}${remote}`;

/** Tags that describe this workspace's view of a run, not the run: never copied to a remote. */
export function isLocalOnlyTag(key: string): boolean {
  return key.startsWith(PUSHED_TAG_PREFIX) || key === SYNC_STATE_TAG || key === SOURCE_RUN_TAG;
}

/** A string literal in MLflow's filter syntax. */
export const filterLiteral = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
