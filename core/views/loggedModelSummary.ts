/**
 * A run's logged models (MLflow 3: the models a run produced, `runs/outputs`) as the run details
 * webview and `runwise runs show` present them: name, id, flavors, status and the files at the top
 * of the model's artifact root. Plain data and pure functions, no Node: the webview imports this
 * module; core/views/runLoggedModels.ts builds the summaries from the tracker.
 */
import type { ArtifactListEntry, LoggedModelStatus } from '../tracker/model';

export interface LoggedModelSummary {
  modelId: string;
  name: string;
  /**
   * The model's flavors, as the `flavors` mapping of its `MLmodel` file names them (e.g.
   * `python_function`, `sklearn`), in file order; absent when the model has no readable `MLmodel`.
   */
  flavors?: string[];
  status: LoggedModelStatus;
  /** The entries at the root of the model's files, as `Tracker.listLoggedModelArtifacts` lists them. */
  artifacts: ArtifactListEntry[];
}

const STATUS_TEXT: Record<LoggedModelStatus, string> = {
  LOGGED_MODEL_STATUS_UNSPECIFIED: 'unknown',
  LOGGED_MODEL_PENDING: 'pending',
  LOGGED_MODEL_READY: 'ready',
  LOGGED_MODEL_UPLOAD_FAILED: 'upload failed',
};

/** A model status for people: `ready`, `pending`, `upload failed`. */
export function loggedModelStatusText(status: LoggedModelStatus): string {
  return STATUS_TEXT[status] ?? String(status).toLowerCase();
}

/** Flavors for people: `python_function, sklearn`, or `-` when unknown. */
export function loggedModelFlavorsText(model: LoggedModelSummary): string {
  return model.flavors?.length ? model.flavors.join(', ') : '-';
}
