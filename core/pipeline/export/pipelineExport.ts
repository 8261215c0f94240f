/**
 * `runwise export-pipeline`: the workspace's stage graph (the runner's own: foreach/matrix expanded,
 * params resolved, edges from deps and outs) as an orchestrator's pipeline. Each stage becomes a task
 * whose container (or shell) runs `runwise run STAGE --single`, so the orchestrator only schedules:
 * what a stage runs, what it records and when it is up to date stay the runner's.
 *
 * How the workspace reaches the task: one PersistentVolumeClaim holding the checked-out workspace,
 * mounted at /workspace in every task. Stages hand each other files (a stage's outs are the next
 * one's deps) and share runwise.lock and .runwise/, so they need one file system; a git artifact
 * would bring the code but not what upstream stages wrote, and artifact passing would need every
 * out declared as an artifact plus an artifact store. Because every task writes that one volume
 * (the lock file, the tracker's SQLite database), stages run one at a time: Argo's
 * `spec.parallelism: 1`, Airflow's `max_active_tasks=1`, and in Kubeflow (which has no
 * pipeline-wide limit) each task also waits for the one before it in the runner's order.
 *
 * The output is deterministic: same pipeline and options, same bytes.
 */
import type { PipelineGraph } from '../pipelineModel';
import { airflowDag } from './airflowDag';
import { argoWorkflow } from './argoWorkflow';
import { ExportOptionsError, type ExportOptions } from './exportSettings';
import { kubeflowPipelineSpec } from './kubeflowPipelineSpec';

/** The exported pipeline as the text of one file (YAML for Argo and Kubeflow, Python for Airflow). */
export function exportPipeline(graph: PipelineGraph, options: ExportOptions): string {
  if (options.format !== 'airflow' || options.operator === 'k8s') {
    if (!options.image) throw new ExportOptionsError(`--format ${options.format}${options.format === 'airflow' ? ' --operator k8s' : ''} needs --image IMAGE (an image with runwise and what the stages run)`);
  }
  if (options.trackingUri !== undefined && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(options.trackingUri)) {
    throw new ExportOptionsError(`--tracking-uri '${options.trackingUri}' is not a URI (expected e.g. https://mlflow.example.com)`);
  }
  switch (options.format) {
    case 'argo':
      return argoWorkflow(graph, options);
    case 'kubeflow':
      return kubeflowPipelineSpec(graph, options);
    case 'airflow':
      return airflowDag(graph, options);
  }
}
