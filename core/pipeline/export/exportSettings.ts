/**
 * What every export format shares: the options, where the workspace volume is mounted, which Secret
 * holds the tracking token (by name only), and the command each task runs.
 */
import * as path from 'node:path';
import type { PipelineGraph } from '../pipelineModel';
import { isDnsLabel, sanitizedLabel } from './exportTasks';

export type ExportFormat = 'argo' | 'kubeflow' | 'airflow';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['argo', 'kubeflow', 'airflow'];

export type AirflowOperator = 'bash' | 'k8s';

export interface ExportOptions {
  format: ExportFormat;
  /** DNS-1123 label: the workflow's name prefix, the KFP pipeline name, the Airflow dag_id. */
  name: string;
  /** Container image with `runwise` and what the stages' commands need; not used by Airflow's BashOperator. */
  image?: string;
  /** The team's MLflow Tracking Server; without it, a parameter given when the pipeline is submitted. */
  trackingUri?: string;
  /** Airflow only: BashOperator (default) or KubernetesPodOperator. */
  operator?: AirflowOperator;
}

/** Where the workspace volume is mounted in every task. */
export const WORKSPACE_MOUNT = '/workspace';
/** The PersistentVolumeClaim holding the workspace (Argo: a workflow parameter defaulting to it). */
export const WORKSPACE_CLAIM = 'runwise-workspace';
/** The Secret holding the tracking server's token: only its name and key are written, never a value. */
export const TRACKING_SECRET = { name: 'runwise-tracking', key: 'token' } as const;
export const TRACKING_URI_ENV = 'MLFLOW_TRACKING_URI';
export const TRACKING_TOKEN_ENV = 'MLFLOW_TRACKING_TOKEN';

export class ExportOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportOptionsError';
  }
}

/**
 * The command line a task runs, as arguments after `runwise` (`null` workspace: none given, the
 * working directory is it): the stage alone, its runs then pushed to the server MLFLOW_TRACKING_URI
 * names (`--push`), so each stage's run lands in the team's tracker with a local run's tags.
 */
export function stageArgs(stageId: string, workspace: string | null = WORKSPACE_MOUNT): string[] {
  return ['run', stageId, '--single', ...(workspace !== null ? ['--workspace', workspace] : []), '--push'];
}

/** The pipeline files the graph came from, for the generated file's header. */
export function sourceNote(graph: PipelineGraph): string {
  return graph.files.join(', ');
}

/** The export's name: `--name` (a DNS-1123 label) or the workspace folder's name made into one. */
export function exportName(given: string | undefined, workspaceRoot: string): string {
  if (given !== undefined) {
    if (!isDnsLabel(given)) throw new ExportOptionsError(`--name '${given}' is not a DNS-1123 label (at most 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)`);
    return given;
  }
  return sanitizedLabel(path.basename(workspaceRoot), 40) || 'runwise-pipeline';
}
