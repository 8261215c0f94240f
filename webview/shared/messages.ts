/**
 * Every message between the extension host and a webview, typed once here; both sides import this
 * module (the host from client/, the page from webview/). Nothing else may be posted. The host
 * checks what a page sends with `isWebviewMessage` before acting on it: a webview is a browser page
 * and its messages are input like any other.
 *
 * Values are JSON-safe: metric values that JSON cannot carry (NaN, ±Infinity) travel as strings.
 */

export type RunStatusText = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** A metric value as it travels: a finite number, or 'NaN' / 'Infinity' / '-Infinity'. */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function toWireNumber(v: number): WireNumber {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function fromWireNumber(v: WireNumber): number {
  return typeof v === 'number' ? v : Number(v);
}

/** Everything the run details view shows of one run. */
export interface RunDetails {
  runId: string;
  runName: string;
  experimentId: string;
  experimentName: string;
  status: RunStatusText;
  lifecycleStage: 'active' | 'deleted';
  /** Milliseconds since the epoch. */
  startTime: number;
  endTime: number | null;
  userId: string;
  parentRunId: string | null;
  note: string | null;
  params: { key: string; value: string }[];
  metrics: { key: string; value: WireNumber; step: number; timestamp: number }[];
  /** The run's own tags; `mlflow.*` system tags are left out (name, note, parent are shown above). */
  tags: { key: string; value: string }[];
  datasets: { name: string; digest: string; source: string }[];
}

// ------------------------------------------------------------------------------------------------
// Run details view

/** Host → page. */
export type RunDetailsHostMessage =
  /** Show this run (first load and every time it changes in the tracker). */
  | { type: 'run'; run: RunDetails }
  /** The run is gone (deleted, or the tracker cannot be read); `reason` says which. */
  | { type: 'runMissing'; runId: string; reason: string };

/** Page → host. Each run action names the run the page shows. */
export type RunDetailsWebviewMessage =
  | { type: 'ready' }
  | { type: 'renameRun'; runId: string }
  | { type: 'editNote'; runId: string }
  | { type: 'deleteRun'; runId: string }
  | { type: 'copyRunId'; runId: string };

const RUN_ACTIONS: ReadonlySet<string> = new Set(['renameRun', 'editNote', 'deleteRun', 'copyRunId']);

/** Is `m` a message the run details page may send? (The host ignores anything else.) */
export function isRunDetailsWebviewMessage(m: unknown): m is RunDetailsWebviewMessage {
  if (typeof m !== 'object' || m === null) return false;
  const { type, runId } = m as { type?: unknown; runId?: unknown };
  if (type === 'ready') return true;
  return typeof type === 'string' && RUN_ACTIONS.has(type) && typeof runId === 'string' && /^[0-9a-f]{32}$/.test(runId);
}
