/**
 * Reads a run's logged models from the tracker for the run details panel and `runwise runs show`:
 * the models the run produced (`runs/outputs`), then any other model naming the run as its source,
 * each with its flavors (from its `MLmodel` file, as MLflow reads them) and its top-level files.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { LoggedModel, Run } from '../tracker/model';
import type { Tracker } from '../tracker/tracker';
import type { LoggedModelSummary } from './loggedModelSummary';

/** An `MLmodel` file larger than this is not read for its flavors (real ones are a few kB). */
const MAX_MLMODEL_BYTES = 1 << 20;

export function loggedModelsOfRun(tracker: Tracker, run: Run): LoggedModelSummary[] {
  const ids = new Set((run.modelOutputs ?? []).map((o) => o.modelId));
  const models: LoggedModel[] = [];
  for (const id of ids) {
    const model = getModel(tracker, id);
    if (model) models.push(model);
  }
  let pageToken: string | undefined;
  do {
    const page = tracker.searchLoggedModels({
      experimentIds: [run.info.experimentId],
      filter: `source_run_id = '${run.info.runId}'`,
      orderBy: [{ fieldName: 'creation_time' }],
      maxResults: 100,
      ...(pageToken ? { pageToken } : {}),
    });
    for (const m of page.items) if (!ids.has(m.modelId)) models.push(m);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return models.map((m) => summarize(tracker, m));
}

function summarize(tracker: Tracker, model: LoggedModel): LoggedModelSummary {
  const artifacts = tracker.listLoggedModelArtifacts(model.modelId);
  const flavors = artifacts.some((a) => a.path === 'MLmodel' && !a.isDir) ? flavorsOf(tracker, model.modelId) : undefined;
  return { modelId: model.modelId, name: model.name, ...(flavors ? { flavors } : {}), status: model.status, artifacts };
}

/** A deleted model is not shown (`getLoggedModel` refuses it). */
function getModel(tracker: Tracker, modelId: string): LoggedModel | undefined {
  try {
    return tracker.getLoggedModel(modelId);
  } catch {
    return undefined;
  }
}

/** The keys of the `flavors` mapping in the model's `MLmodel` file; undefined when it cannot be read. */
function flavorsOf(tracker: Tracker, modelId: string): string[] | undefined {
  try {
    const file = tracker.openLoggedModelArtifact(modelId, 'MLmodel');
    if (file.record.size > MAX_MLMODEL_BYTES) return undefined;
    const doc: unknown = parse(readFileSync(file.filePath, 'utf8'), { maxAliasCount: 100 });
    const flavors = doc && typeof doc === 'object' ? (doc as { flavors?: unknown }).flavors : undefined;
    return flavors && typeof flavors === 'object' && !Array.isArray(flavors) ? Object.keys(flavors) : undefined;
  } catch {
    return undefined;
  }
}
