/**
 * `runwise pull`: runs of a remote MLflow Tracking Server into the local tracker, so they show in
 * Runs, comparison and lineage beside local ones. A pulled run carries `runwise.origin.remote` and
 * `runwise.origin.run_id`; a second pull finds it by them and adds only what is new (params, tags,
 * inputs, metric points beyond the local count per key, the status). Everything of one run is
 * fetched first and written in one transaction: a failed pull leaves no half-written run.
 *
 * Runs still RUNNING on the remote are left for a later pull (a local RUNNING run would be ended
 * FAILED by the tracker once this process is gone), and so are runs that were pushed from this
 * workspace (their `runwise.source_run_id` names a local run).
 *
 * Artifacts stay on the remote unless asked for (`artifacts`): then each file of a pulled run's
 * artifacts that the local run lacks, or holds with another size, is downloaded through the
 * server's artifact proxy after the run is written, one file at a time into the artifact store (a
 * file is stored whole or not at all), so a pull stopped midway fetches only the rest next time.
 */
import { MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, MAX_RESULTS_GET_METRIC_HISTORY } from '../tracker/limits';
import { PARENT_RUN_TAG, type Metric, type Param, type Run, type RunStatus, type Tag } from '../tracker/model';
import type { Tracker } from '../tracker/tracker';
import { normalizeRelativePath } from '../workspace/workspacePath';
import { TrackerError } from '../tracker/trackerError';
import { HttpError } from '../endpoint/httpErrors';
import { parseLogBatch, parseLogInputs } from '../endpoint/mlflowProtocol';
import type { ExperimentJson, MetricJson, RunJson } from '../mlflow/restApi';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RemoteClient, RemoteRequestError } from './remoteClient';
import type { Remote } from './remoteConfig';
import { SyncError } from './syncError';
import { ORIGIN_REMOTE_TAG, ORIGIN_RUN_TAG, SOURCE_RUN_TAG, filterLiteral as quote, isLocalOnlyTag } from './syncTags';
import { inParallel, localArtifacts, localPointCount, proxiedArtifactRoot, remoteArtifacts, tagMap, type SyncOptions, type SyncPlanEvent, type SyncRetryEvent, type SyncSummary } from './pushRuns';

export interface PullSelection {
  /** A remote experiment's name (or id); default every active experiment. */
  experiment?: string;
  /** MLflow's filter syntax, passed to the remote's runs/search. */
  filter?: string;
}

export type PullEvent =
  | SyncPlanEvent
  | SyncRetryEvent
  | { kind: 'pulled'; remoteRunId: string; runId: string; runName: string; state: 'created' | 'updated' | 'up-to-date'; points: number };

export interface PullOptions extends SyncOptions<PullEvent> {
  /** Also download the runs' artifacts that are missing here (see the top). */
  artifacts?: boolean;
}

export interface PullSummary extends SyncSummary {
  /** Artifact files downloaded, and their bytes (with `artifacts`). */
  artifacts: number;
  artifactBytes: number;
  /** Remote run id → local run id. */
  localIds: Record<string, string>;
}

export async function pullRuns(tracker: Tracker, remote: Remote, selection: PullSelection, options: PullOptions = {}): Promise<PullSummary> {
  const emit = options.onEvent ?? (() => undefined);
  const client = new RemoteClient(remote, { ...options.client, onRetry: (what, reason, delayMs) => emit({ kind: 'retry', what, reason, delayMs }) });
  const summary: PullSummary = { runs: 0, created: 0, updated: 0, upToDate: 0, skipped: [], points: 0, requests: 0, artifacts: 0, artifactBytes: 0, localIds: {} };
  try {
    const experiments = await remoteExperiments(client, remote, selection.experiment);
    const names = new Map(experiments.map((e) => [e.experiment_id, e.name]));
    const found: RunJson[] = [];
    let pageToken: string | undefined;
    do {
      const reply = await client.rpc<{ runs?: RunJson[]; next_page_token?: string }>('SearchRuns', {
        experiment_ids: experiments.map((e) => e.experiment_id),
        ...(selection.filter ? { filter: selection.filter } : {}),
        run_view_type: 'ACTIVE_ONLY',
        max_results: 1000,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      found.push(...(reply.runs ?? []));
      pageToken = reply.next_page_token || undefined;
    } while (pageToken);
    const runs: RunJson[] = [];
    for (const r of found) {
      const source = tagMap(r.data.tags).get(SOURCE_RUN_TAG);
      if (r.info.status === 'RUNNING' || r.info.status === 'SCHEDULED') summary.skipped.push({ runId: r.info.run_id, reason: `still ${r.info.status} on the remote: pull it once it has ended` });
      else if (source !== undefined && localRunExists(tracker, source)) summary.skipped.push({ runId: r.info.run_id, reason: `pushed from this workspace (run ${source})` });
      else runs.push(r);
    }
    const ordered = parentsFirst(runs);
    summary.runs = ordered.length;
    emit({ kind: 'plan', runs: ordered.length, skipped: summary.skipped });
    for (const r of ordered) {
      await pullRun(tracker, client, remote, r, names, summary, emit);
      if (options.artifacts) await pullArtifacts(tracker, client, remote, r, summary);
    }
    return summary;
  } finally {
    summary.requests = client.requests;
    client.close();
  }
}

/**
 * By start time, each run after its parent when both are pulled, so a child is written with its
 * parent's local id. (Start times alone do not order them: a parent and a child started in the
 * same millisecond, or a child whose clock ran behind, came first half the time.)
 */
function parentsFirst(runs: readonly RunJson[]): RunJson[] {
  const byId = new Map(runs.map((r) => [r.info.run_id, r]));
  const placed = new Set<string>();
  const out: RunJson[] = [];
  const place = (r: RunJson) => {
    if (placed.has(r.info.run_id)) return;
    placed.add(r.info.run_id);
    const parent = byId.get(tagMap(r.data.tags).get(PARENT_RUN_TAG) ?? '');
    if (parent) place(parent);
    out.push(r);
  };
  for (const r of [...runs].sort((a, b) => Number(a.info.start_time) - Number(b.info.start_time))) place(r);
  return out;
}

/**
 * The remote run's artifact files that its local copy lacks, or holds with another size than the
 * listing gives, downloaded into it. A file is stored only when its download has the listed size. A
 * local copy the user deleted gets none (it is named in `skipped`).
 */
async function pullArtifacts(tracker: Tracker, client: RemoteClient, remote: Remote, r: RunJson, summary: PullSummary): Promise<void> {
  const remoteId = r.info.run_id;
  const localId = summary.localIds[remoteId]!;
  const what = `run ${remoteId} (${r.info.run_name}) of remote '${remote.name}'`;
  if (tracker.getRun(localId).info.lifecycleStage !== 'active') {
    summary.skipped.push({ runId: remoteId, reason: `its artifacts: the local copy ${localId} is deleted (restore it to pull them)` });
    return;
  }
  const root = proxiedArtifactRoot(remote, r.info);
  let there: Map<string, number>;
  try {
    there = await remoteArtifacts(client, root);
  } catch (e) {
    if (e instanceof RemoteRequestError || e instanceof SyncError) throw new SyncError(`the artifacts of ${what} cannot be listed: ${e.message}`);
    throw e;
  }
  const here = new Map(localArtifacts(tracker, localId).map((a) => [a.path, a.size]));
  // A size the listing does not give (−1): a file already here is taken as the same.
  const missing = [...there].filter(([file, size]) => (size >= 0 ? here.get(file) !== size : !here.has(file)));
  const odd = missing.find(([file]) => !isPlainPath(file));
  if (odd) throw new SyncError(`artifact '${odd[0]}' of ${what} cannot be pulled: not a plain relative path; nothing of it was fetched`);
  if (missing.length === 0) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'runwise-pull-'));
  try {
    let n = 0;
    await inParallel(
      missing,
      async ([file, size]) => {
        const dest = path.join(dir, String(n++));
        try {
          await client.downloadArtifact(`${root}/${file}`, dest);
          const got = statSync(dest).size;
          if (size >= 0 && got !== size) throw new SyncError(`artifact '${file}' of ${what} cannot be pulled: ${got} bytes arrived where the listing says ${size}; it was not stored`);
          const stored = await tracker.putArtifact(localId, file, dest);
          summary.artifacts++;
          summary.artifactBytes += stored.size;
        } catch (e) {
          if (e instanceof TrackerError || e instanceof RemoteRequestError) {
            throw new SyncError(`artifact '${file}' of ${what} cannot be pulled: ${e.message}; the run's other artifacts already pulled are kept`);
          }
          throw e;
        } finally {
          rmSync(dest, { force: true });
        }
      },
      4,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether `file` is a relative path already in its normal form (no '.', '..', empty or absolute part). */
function isPlainPath(file: string): boolean {
  try {
    return normalizeRelativePath(file) === file;
  } catch {
    return false;
  }
}

function localRunExists(tracker: Tracker, runId: string): boolean {
  try {
    tracker.getRunInfo(runId);
    return true;
  } catch (e) {
    if (e instanceof TrackerError) return false;
    throw e;
  }
}

async function remoteExperiments(client: RemoteClient, remote: Remote, experiment: string | undefined): Promise<ExperimentJson[]> {
  if (experiment !== undefined) {
    try {
      return [(await client.rpc<{ experiment: ExperimentJson }>('GetExperimentByName', { experiment_name: experiment })).experiment];
    } catch (e) {
      if (!(e instanceof RemoteRequestError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST')) throw e;
      if (/^\d+$/.test(experiment)) return [(await client.rpc<{ experiment: ExperimentJson }>('GetExperiment', { experiment_id: experiment })).experiment];
      throw new SyncError(`remote '${remote.name}' has no experiment named '${experiment}'`);
    }
  }
  const out: ExperimentJson[] = [];
  let pageToken: string | undefined;
  do {
    const reply = await client.rpc<{ experiments?: ExperimentJson[]; next_page_token?: string }>('SearchExperiments', {
      max_results: 1000,
      view_type: 'ACTIVE_ONLY',
      ...(pageToken ? { page_token: pageToken } : {}),
    });
    out.push(...(reply.experiments ?? []));
    pageToken = reply.next_page_token || undefined;
  } while (pageToken);
  return out;
}

function localCopy(tracker: Tracker, remote: Remote, remoteRunId: string): Run | undefined {
  const page = tracker.searchRuns({ filter: `tags.\`${ORIGIN_RUN_TAG}\` = ${quote(remoteRunId)} and tags.\`${ORIGIN_REMOTE_TAG}\` = ${quote(remote.name)}`, viewType: 'ALL', maxResults: 2 });
  return page.items[0];
}

const sameLatest = (a: { key: string; value: unknown; step: number; timestamp: number }, b: MetricJson): boolean =>
  String(a.value) === String(b.value) && Number(a.step) === Number(b.step) && Number(a.timestamp) === Number(b.timestamp);

async function history(client: RemoteClient, runId: string, key: string): Promise<MetricJson[]> {
  const out: MetricJson[] = [];
  let pageToken: string | undefined;
  do {
    const reply = await client.rpc<{ metrics?: MetricJson[]; next_page_token?: string }>('GetMetricHistory', {
      run_id: runId,
      metric_key: key,
      max_results: MAX_RESULTS_GET_METRIC_HISTORY,
      ...(pageToken ? { page_token: pageToken } : {}),
    });
    out.push(...(reply.metrics ?? []));
    pageToken = reply.next_page_token || undefined;
  } while (pageToken);
  return out;
}

async function pullRun(
  tracker: Tracker,
  client: RemoteClient,
  remote: Remote,
  r: RunJson,
  experimentNames: Map<string, string>,
  summary: PullSummary,
  emit: (e: PullEvent) => void,
): Promise<void> {
  const remoteId = r.info.run_id;
  const existing = localCopy(tracker, remote, remoteId);
  const remoteTags = tagMap(r.data.tags);
  const localTags = tagMap(existing?.tags);
  const localParams = tagMap(existing?.params);
  const localLatest = new Map((existing?.metrics ?? []).map((m) => [m.key, m]));
  const tags: Tag[] = [];
  for (const [key, value] of remoteTags) {
    if (isLocalOnlyTag(key) && key !== SOURCE_RUN_TAG) continue;
    let v = value;
    if (key === PARENT_RUN_TAG) {
      const local = summary.localIds[value] ?? localCopy(tracker, remote, value)?.info.runId;
      if (!local) continue; // the parent is not pulled: the child stands alone here
      v = local;
    }
    if (localTags.get(key) !== v) tags.push({ key, value: v });
  }
  for (const t of [
    { key: ORIGIN_REMOTE_TAG, value: remote.name },
    { key: ORIGIN_RUN_TAG, value: remoteId },
  ]) {
    if (localTags.get(t.key) !== t.value) tags.push(t);
  }
  const params = (r.data.params ?? []).filter((p) => !localParams.has(p.key));
  const staleKeys = (r.data.metrics ?? []).filter((m) => {
    const mine = localLatest.get(m.key);
    return !mine || !sameLatest(mine, m);
  });
  const haveInputs = new Set((existing?.inputs ?? []).map((i) => `${i.dataset.name}\u0000${i.dataset.digest}`));
  const inputs = (r.inputs?.dataset_inputs ?? []).filter((d) => !haveInputs.has(`${d.dataset.name}\u0000${d.dataset.digest}`));
  const status = r.info.status as RunStatus;
  const endTime = r.info.end_time != null ? Number(r.info.end_time) : null;
  const statusChanged = !existing || existing.info.status !== status || existing.info.endTime !== endTime;
  if (existing && tags.length === 0 && params.length === 0 && staleKeys.length === 0 && inputs.length === 0 && !statusChanged) {
    summary.upToDate++;
    summary.localIds[remoteId] = existing.info.runId;
    emit({ kind: 'pulled', remoteRunId: remoteId, runId: existing.info.runId, runName: existing.info.runName, state: 'up-to-date', points: 0 });
    return;
  }
  // Fetch everything first, check it as the endpoint checks a request, then write in one transaction.
  const experimentName = experimentNames.get(r.info.experiment_id) ?? (await client.rpc<{ experiment: ExperimentJson }>('GetExperiment', { experiment_id: r.info.experiment_id })).experiment.name;
  const histories = new Map<string, MetricJson[]>();
  await inParallel(staleKeys, async (m) => void histories.set(m.key, await history(client, remoteId, m.key)), 4);
  let runId: string;
  try {
    const newPoints: Metric[] = [];
    for (const [key, points] of histories) {
      const have = existing ? localPointCount(tracker, existing.info.runId, key) : 0;
      for (let i = have; i < points.length; i += MAX_METRICS_PER_BATCH) {
        newPoints.push(...parseLogBatch({ run_id: remoteId, metrics: points.slice(i, i + MAX_METRICS_PER_BATCH) }).batch.metrics!);
      }
    }
    const datasetInputs = inputs.length ? parseLogInputs({ run_id: remoteId, datasets: inputs }).inputs : [];
    for (let i = 0; i < tags.length; i += MAX_PARAMS_TAGS_PER_BATCH) parseLogBatch({ run_id: remoteId, tags: tags.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH) });
    const checkedParams: Param[] = [];
    for (let i = 0; i < params.length; i += MAX_PARAMS_TAGS_PER_BATCH) checkedParams.push(...parseLogBatch({ run_id: remoteId, params: params.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH) }).batch.params!);
    runId = tracker.db.transaction(() => {
      const id =
        existing?.info.runId ??
        tracker.createRun({
          experimentId: tracker.ensureExperiment(experimentName).experimentId,
          runName: r.info.run_name || remoteTags.get('mlflow.runName') || undefined,
          userId: r.info.user_id,
          startTime: Number(r.info.start_time),
          status,
        }).info.runId;
      for (let i = 0; i < Math.max(checkedParams.length, tags.length); i += MAX_PARAMS_TAGS_PER_BATCH) {
        tracker.logBatch(id, { params: checkedParams.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH), tags: tags.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH) });
      }
      if (datasetInputs.length) tracker.logInputs(id, datasetInputs);
      if (statusChanged) tracker.updateRun(id, { status, ...(endTime !== null ? { endTime } : {}) });
      // Points last, once everything that could be refused is written: a rolled-back metrics write
      // would leave the tracker's cache of new metric key ids behind in this process.
      for (let i = 0; i < newPoints.length; i += 10_000) tracker.logBatch(id, { metrics: newPoints.slice(i, i + 10_000) });
      return id;
    });
    summary.points += newPoints.length;
    emit({ kind: 'pulled', remoteRunId: remoteId, runId, runName: r.info.run_name, state: existing ? 'updated' : 'created', points: newPoints.length });
  } catch (e) {
    if (e instanceof HttpError || e instanceof TrackerError) {
      throw new SyncError(`run ${remoteId} (${r.info.run_name}) of remote '${remote.name}' cannot be pulled: ${e.message}; nothing of it was written`);
    }
    throw e;
  }
  summary.localIds[remoteId] = runId;
  if (existing) summary.updated++;
  else summary.created++;
}
