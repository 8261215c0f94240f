/**
 * The run details webview's messages, typed once here; the host (client/runDetailsPanel.ts) and the
 * page (webview/runDetails/main.ts) both import this module. Nothing else may be posted. The host
 * checks what the page sends with `isRunDetailsWebviewMessage` before acting on it: a webview is a
 * browser page and its messages are input like any other.
 */
import type { LifecycleStage, RunStatus } from '../../core/tracker/model';
import type { LoggedModelSummary } from '../../core/views/loggedModelSummary';
import { isRunId, type WireNumber } from '../shared/messages';

/** Everything the run details view shows of one run. */
export interface RunDetails {
  runId: string;
  runName: string;
  experimentId: string;
  experimentName: string;
  status: RunStatus;
  lifecycleStage: LifecycleStage;
  /** Milliseconds since the epoch. */
  startTime: number;
  /**
   * The start time as the host formats it (local time of the extension host, as the Runs view shows
   * it): the page's own time zone may differ (a remote host, code-server in a browser elsewhere).
   */
  startTimeText: string;
  endTime: number | null;
  userId: string;
  parentRunId: string | null;
  note: string | null;
  params: { key: string; value: string }[];
  /** Latest values; `history` is the metric downsampled for a sparkline (null: NaN or infinite). */
  metrics: { key: string; value: WireNumber; step: number; timestamp: number; history?: (number | null)[] }[];
  /** The run's own tags; `mlflow.*` system tags are left out (name, note, parent are shown above). */
  tags: { key: string; value: string }[];
  datasets: { name: string; digest: string; source: string }[];
  /** The models the run logged (MLflow 3 logged models), with their top-level files. */
  loggedModels: LoggedModelSummary[];
  /** Every artifact file of the run (at most a couple of thousand; then `artifactsTruncated`). */
  artifacts?: { path: string; size: number }[];
  artifactsTruncated?: boolean;
  /** The end of the pipeline stage's log (`runwise/stage.log`), when the run is a stage run. */
  stageLog?: { text: string; truncated: boolean } | null;
  /** Registered model versions whose source is this run. */
  modelVersions?: { name: string; version: string; aliases: string[]; stage: string; status: string; sha256: string }[];
}

/** A preview of one artifact, by what it is (see core/views/artifactPreview.ts). */
export type ArtifactPreviewMessage =
  | { kind: 'image'; path: string; size: number; dataUri: string }
  | { kind: 'json' | 'text'; path: string; size: number; text: string; truncated: boolean }
  | { kind: 'csv'; path: string; size: number; rows: string[][]; truncated: boolean }
  | { kind: 'binary'; path: string; size: number }
  | { kind: 'tooLarge'; path: string; size: number; limit: number }
  | { kind: 'error'; path: string; message: string };

/** Host → page. */
export type RunDetailsHostMessage =
  /** Show this run (first load and every time it changes in the tracker). */
  | { type: 'run'; run: RunDetails }
  /** The run is gone (deleted, or the tracker cannot be read); `reason` says which. */
  | { type: 'runMissing'; runId: string; reason: string }
  /** The answer to `previewArtifact`. */
  | { type: 'artifactPreview'; runId: string; preview: ArtifactPreviewMessage };

/** Page → host. Each run action names the run the page shows. */
export type RunDetailsWebviewMessage =
  | { type: 'ready' }
  | { type: 'renameRun'; runId: string }
  | { type: 'editNote'; runId: string }
  | { type: 'deleteRun'; runId: string }
  | { type: 'copyRunId'; runId: string }
  /** Preview an artifact in the page (`path` as listed in `RunDetails.artifacts`). */
  | { type: 'previewArtifact'; runId: string; path: string }
  /** Open an artifact in an editor tab. */
  | { type: 'openArtifact'; runId: string; path: string };

/** Longest artifact path the host takes from the page. */
const MAX_ARTIFACT_PATH = 4096;

const RUN_ACTIONS: ReadonlySet<string> = new Set(['renameRun', 'editNote', 'deleteRun', 'copyRunId']);

/** Is `m` a message the run details page may send? (The host ignores anything else.) */
export function isRunDetailsWebviewMessage(m: unknown): m is RunDetailsWebviewMessage {
  if (typeof m !== 'object' || m === null) return false;
  const { type, runId } = m as { type?: unknown; runId?: unknown };
  if (type === 'ready') return true;
  if (type === 'previewArtifact' || type === 'openArtifact') {
    const p = (m as { path?: unknown }).path;
    return isRunId(runId) && typeof p === 'string' && p.length > 0 && p.length <= MAX_ARTIFACT_PATH;
  }
  return typeof type === 'string' && RUN_ACTIONS.has(type) && isRunId(runId);
}
