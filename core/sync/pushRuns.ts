/**
 * `runwise push`: copies local runs to a remote MLflow Tracking Server through its REST API.
 *
 * Each run is matched on the remote by its `runwise.source_run_id` tag (created when missing, in the
 * experiment of the same name), and only what the remote lacks is sent: params and tags it does not
 * have, metric points beyond its count per key, dataset inputs, artifacts missing by path and size.
 * A run whose `runwise.sync.state` digest matches the local run is skipped without reading it back.
 *
 * Metric points of one key go in order, one batch after the other, so the remote always holds a
 * prefix of each key's history: a push stopped anywhere (killed, cancelled, a failed request)
 * continues from the remote's counts next time, losing and duplicating nothing. Batches of
 * different runs (and of different keys of one run) are sent side by side.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MAX_ENTITIES_PER_BATCH, MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, MAX_BATCH_LOG_REQUEST_SIZE, MAX_RESULTS_GET_METRIC_HISTORY } from '../tracker/limits';
import { PARENT_RUN_TAG, FAILURE_REASON_TAG, type Run, type Tag } from '../tracker/model';
import type { MetricTextColumns } from '../tracker/metricHistory';
import type { Tracker } from '../tracker/tracker';
import { sha256OfFileAsync, type ModelVersion } from '../tracker/modelRegistry';
import { TrackerError } from '../tracker/trackerError';
import { datasetInputJson, doubleJson } from '../endpoint/mlflowProtocol';
import type { RunJson, ModelVersionJson } from '../mlflow/restApi';
import { artifactRoot } from '../trackingClient/runRequests';
import { AmbiguousSendError, RemoteClient, RemoteRequestError, type RemoteClientOptions } from './remoteClient';
import type { Remote } from './remoteConfig';
import { SyncError } from './syncError';
import { ORIGIN_REMOTE_TAG, SOURCE_RUN_TAG, SOURCE_VERSION_TAG, SYNC_STATE_TAG, filterLiteral as quote, isLocalOnlyTag, pushedTag } from './syncTags';

export interface PushSelection {
  /** Run ids, prefixes or names. */
  runs?: readonly string[];
  /** Experiment names or ids. */
  experiments?: readonly string[];
  all?: boolean;
}

/** Events a push and a pull both report: what they will do, and a request about to be retried. */
export type SyncPlanEvent = { kind: 'plan'; runs: number; skipped: { runId: string; reason: string }[] };
export type SyncRetryEvent = { kind: 'retry'; what: string; reason: string; delayMs: number };

/** What a push reports while it goes. */
export type PushEvent =
  | SyncPlanEvent
  | SyncRetryEvent
  | { kind: 'run'; runId: string; runName: string; remoteRunId: string; state: 'created' | 'updated' | 'up-to-date'; points: number; bytes: number }
  | { kind: 'progress'; points: number; requests: number; bytes: number }
  | { kind: 'model'; name: string; version: string; remoteVersion: string; state: 'created' | 'up-to-date' };

/** How a push or pull talks to the remote, and where its events go. */
export interface SyncOptions<E> {
  client?: RemoteClientOptions;
  onEvent?: (event: E) => void;
}
export type PushOptions = SyncOptions<PushEvent>;

/** What a push or pull did: runs handled (created, updated, already up to date), skipped and why, points and requests sent. */
export interface SyncSummary {
  runs: number;
  created: number;
  updated: number;
  upToDate: number;
  skipped: { runId: string; reason: string }[];
  points: number;
  requests: number;
}

export interface PushSummary extends SyncSummary {
  params: number;
  tags: number;
  inputs: number;
  artifacts: number;
  artifactBytes: number;
  modelVersions: number;
  bytesSent: number;
  /** Local run id → remote run id. */
  remoteIds: Record<string, string>;
}

/** Points per key read from the local tracker at a time. */
const LOCAL_PAGE = MAX_RESULTS_GET_METRIC_HISTORY;
/** Parallel key lanes per run. */
const LANES_PER_RUN = 4;
/** From this many runs of one experiment, the remote's pushed runs there are listed at once. */
const LIST_WHOLE_EXPERIMENT_FROM = 10;
/** Times a lane re-reads the remote count after a batch that may or may not have landed. */
const MAX_RESYNCS = 5;

interface RemoteRun {
  json: RunJson;
  created: boolean;
}

interface LocalState {
  run: Run;
  counts: Map<string, number>;
  artifacts: { path: string; size: number }[];
  tags: Tag[];
  digest: string;
}

export async function pushRuns(tracker: Tracker, remote: Remote, selection: PushSelection, options: PushOptions = {}): Promise<PushSummary> {
  const emit = options.onEvent ?? (() => undefined);
  const client = new RemoteClient(remote, { ...options.client, onRetry: (what, reason, delayMs) => emit({ kind: 'retry', what, reason, delayMs }) });
  const summary: PushSummary = {
    runs: 0,
    created: 0,
    updated: 0,
    upToDate: 0,
    skipped: [],
    points: 0,
    params: 0,
    tags: 0,
    inputs: 0,
    artifacts: 0,
    artifactBytes: 0,
    modelVersions: 0,
    requests: 0,
    bytesSent: 0,
    remoteIds: {},
  };
  try {
    const { runs, skipped } = selectRuns(tracker, remote, selection);
    summary.skipped = skipped;
    summary.runs = runs.length;
    emit({ kind: 'plan', runs: runs.length, skipped });
    const push = new Push(tracker, remote, client, summary, emit);
    await push.listPushedRuns(runs);
    // Parents first: a child's parent link names the parent's remote id.
    for (const level of byDepth(runs)) {
      await inParallel(level, (run) => push.pushRun(run));
    }
    await push.pushModelVersions(runs);
    return summary;
  } finally {
    summary.requests = client.requests;
    summary.bytesSent = client.bytesSent;
    client.close();
  }
}

/** The runs a selection names, their ancestors added; RUNNING runs and runs pulled from this remote left out. */
function selectRuns(tracker: Tracker, remote: Remote, selection: PushSelection): { runs: Run[]; skipped: { runId: string; reason: string }[] } {
  const chosen = new Map<string, Run>();
  const add = (run: Run) => chosen.set(run.info.runId, run);
  for (const ref of selection.runs ?? []) add(tracker.getRun(tracker.resolveRunId(ref)));
  const experimentIds: string[] = [];
  for (const e of selection.experiments ?? []) {
    const byName = tracker.getExperimentByName(e);
    if (byName) experimentIds.push(byName.experimentId);
    else if (/^\d+$/.test(e)) experimentIds.push(tracker.getExperiment(e).experimentId);
    else throw new SyncError(`no experiment named '${e}'`);
  }
  if (selection.all || experimentIds.length > 0) {
    const ids = selection.all ? allExperimentIds(tracker) : experimentIds;
    let pageToken: string | undefined;
    do {
      const page = tracker.searchRuns({ experimentIds: ids, maxResults: 1000, pageToken });
      for (const run of page.items) add(run);
      pageToken = page.nextPageToken;
    } while (pageToken);
  }
  // Ancestors: a child's link needs its parent on the remote.
  for (const run of [...chosen.values()]) {
    let parent = run.info.parentRunId;
    while (parent && !chosen.has(parent)) {
      const p = tracker.getRun(parent);
      add(p);
      parent = p.info.parentRunId;
    }
  }
  const skipped: { runId: string; reason: string }[] = [];
  const runs: Run[] = [];
  for (const run of chosen.values()) {
    const tags = tagMap(run.tags);
    if (run.info.status === 'RUNNING' || run.info.status === 'SCHEDULED') skipped.push({ runId: run.info.runId, reason: `still ${run.info.status}: push it once it has ended` });
    else if (run.info.lifecycleStage === 'deleted') skipped.push({ runId: run.info.runId, reason: 'deleted' });
    else if (tags.get(ORIGIN_REMOTE_TAG) === remote.name) skipped.push({ runId: run.info.runId, reason: `pulled from '${remote.name}'` });
    else runs.push(run);
  }
  return { runs, skipped };
}

function allExperimentIds(tracker: Tracker): string[] {
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = tracker.searchExperiments({ maxResults: 1000, pageToken });
    ids.push(...page.items.map((e) => e.experimentId));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return ids;
}

/** Runs grouped by depth in the parent tree of the selection: roots first. */
function byDepth(runs: readonly Run[]): Run[][] {
  const byId = new Map(runs.map((r) => [r.info.runId, r]));
  const depth = (r: Run, seen = new Set<string>()): number => {
    const p = r.info.parentRunId ? byId.get(r.info.parentRunId) : undefined;
    if (!p || seen.has(r.info.runId)) return 0;
    seen.add(r.info.runId);
    return 1 + depth(p, seen);
  };
  const levels: Run[][] = [];
  for (const r of runs) (levels[depth(r)] ??= []).push(r);
  return levels.filter(Boolean);
}

/** Runs `fn` over `items`, at most `width` at once; the first failure wins, the rest stop. */
export async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>, width = 8): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

export const tagMap = (tags: readonly { key: string; value: string }[] | undefined): Map<string, string> => new Map((tags ?? []).map((t) => [t.key, t.value]));

/**
 * The runs/log-batch message of points `from`…`to` (exclusive) of one key's columns, byte for byte
 * what `JSON.stringify({ run_id, metrics: [{ key, value, timestamp, step }, …] })` makes of them
 * (the value as `doubleJson` gives it), written as text without an object per point.
 */
export function logBatchMetricsJson(runId: string, key: string, columns: MetricTextColumns, from: number, to: number): string {
  const { values, timestamps, steps } = columns;
  const head = `{"key":${JSON.stringify(key)},"value":`;
  let json = `{"run_id":${JSON.stringify(runId)},"metrics":[`;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    // A finite number's JSON is its String(); the others go as doubleJson's strings.
    const value = Number.isFinite(v) ? String(v) : JSON.stringify(doubleJson(v));
    json += `${i > from ? ',' : ''}${head}${value},"timestamp":${timestamps[i]!},"step":${steps[i]!}}`;
  }
  return `${json}]}`;
}

/** How many points of `key` a local run has (counted from the rollups, not read). */
export function localPointCount(tracker: Tracker, runId: string, key: string): number {
  return tracker.getMetricBuckets(runId, key, 1).reduce((n, b) => n + b.count, 0);
}

/** Every artifact file of a local run, with its size. */
export function localArtifacts(tracker: Tracker, runId: string): { path: string; size: number }[] {
  const artifacts: { path: string; size: number }[] = [];
  const walk = (dir: string) => {
    for (const e of tracker.listArtifacts(runId, dir)) {
      if (e.isDir) walk(e.path);
      else artifacts.push({ path: e.path, size: e.fileSize ?? 0 });
    }
  };
  walk('');
  return artifacts;
}

/**
 * Where a remote run's artifacts are behind the server's artifact proxy (`<experiment>/<run>/artifacts`),
 * or a SyncError when the server stores them elsewhere (then they are not reachable over its API).
 */
export function proxiedArtifactRoot(remote: Remote, info: { artifact_uri?: string }): string {
  const uri = info.artifact_uri ?? '';
  if (!uri.startsWith('mlflow-artifacts:')) {
    throw new SyncError(
      `remote '${remote.name}' stores run artifacts at '${uri}', not behind its artifact proxy: start its server with artifact serving on (mlflow server --serve-artifacts, the default since MLflow 2.0)`,
    );
  }
  return artifactRoot(info as unknown as Record<string, unknown>);
}

/** Folders below a run's artifact root that a listing follows, at most: a deeper listing is refused. */
const MAX_ARTIFACT_DEPTH = 64;

/**
 * Every artifact file under `root` of the remote's artifact proxy, by its path below `root`, with its
 * size (−1 when the listing gives none). An entry whose name is empty, `.` or `..` (which would list
 * a folder again, or leave it) and folders nested past MAX_ARTIFACT_DEPTH are a SyncError.
 */
export async function remoteArtifacts(client: RemoteClient, root: string, dir = '', depth = 0): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const listed = dir ? `${root}/${dir}` : root;
  if (depth > MAX_ARTIFACT_DEPTH) throw new SyncError(`the artifacts of '${root}' nest folders deeper than ${MAX_ARTIFACT_DEPTH} (at '${listed}')`);
  const entries = await client.listArtifacts(listed);
  await Promise.all(
    entries.map(async (e) => {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      if (name === '' || name === '.' || name === '..') throw new SyncError(`the artifact listing of '${listed}' names an entry '${e.path}' that is not a file or folder below it`);
      const rel = dir ? `${dir}/${name}` : name;
      if (e.is_dir) for (const [p, size] of await remoteArtifacts(client, root, rel, depth + 1)) out.set(p, size);
      else {
        const size = Number(e.file_size ?? -1);
        out.set(rel, Number.isSafeInteger(size) && size >= 0 ? size : -1);
      }
    }),
  );
  return out;
}

class Push {
  private readonly experiments = new Map<string, Promise<string>>();
  /** Remote experiment id → its runs that carry a source run id (by that id), for experiments listed whole. */
  private readonly listed = new Map<string, Map<string, RunJson>>();
  private points = 0;
  private lastProgress = 0;

  constructor(
    private readonly tracker: Tracker,
    private readonly remote: Remote,
    private readonly client: RemoteClient,
    private readonly summary: PushSummary,
    private readonly emit: (event: PushEvent) => void,
  ) {}

  async pushRun(run: Run): Promise<void> {
    const local = this.localState(run);
    const remoteRun = await this.matchOrCreate(run);
    const remoteId = remoteRun.json.info.run_id;
    this.summary.remoteIds[run.info.runId] = remoteId;
    const remoteTags = tagMap(remoteRun.json.data.tags);
    if (!remoteRun.created && remoteTags.get(SYNC_STATE_TAG) === local.digest) {
      this.summary.upToDate++;
      this.markPushed(run, remoteId);
      this.emit({ kind: 'run', runId: run.info.runId, runName: run.info.runName, remoteRunId: remoteId, state: 'up-to-date', points: 0, bytes: 0 });
      return;
    }
    await this.sendParamsAndTags(run, local, remoteRun);
    await this.sendInputs(run, remoteRun);
    // This run's own counts: runs are pushed side by side, so the totals' differences are not its.
    const points = await this.sendMetrics(run, local, remoteRun);
    const bytes = await this.sendArtifacts(run, local, remoteRun);
    // The status last but one (a Runwise server drops runwise.failure_reason when a status is set),
    // the digest last: a push that stops before it is compared in full next time.
    await this.client.rpc('UpdateRun', { run_id: remoteId, status: run.info.status, ...(run.info.endTime != null ? { end_time: run.info.endTime } : {}) });
    const last: Tag[] = [{ key: SYNC_STATE_TAG, value: local.digest }];
    const reason = tagMap(run.tags).get(FAILURE_REASON_TAG);
    if (reason !== undefined) last.unshift({ key: FAILURE_REASON_TAG, value: reason });
    await this.client.rpc('LogBatch', { run_id: remoteId, tags: last });
    this.markPushed(run, remoteId);
    if (remoteRun.created) this.summary.created++;
    else this.summary.updated++;
    this.emit({
      kind: 'run',
      runId: run.info.runId,
      runName: run.info.runName,
      remoteRunId: remoteId,
      state: remoteRun.created ? 'created' : 'updated',
      points,
      bytes,
    });
  }

  /** Records on the local run that it is on the remote (the Runs view shows it). */
  private markPushed(run: Run, remoteId: string): void {
    const key = pushedTag(this.remote.name);
    if (tagMap(run.tags).get(key) !== remoteId) this.tracker.setTag(run.info.runId, { key, value: remoteId });
  }

  private localState(run: Run): LocalState {
    const runId = run.info.runId;
    const counts = new Map<string, number>();
    for (const key of this.tracker.metricKeys(runId)) {
      counts.set(key, localPointCount(this.tracker, runId, key));
    }
    const artifacts = localArtifacts(this.tracker, runId);
    const tags = run.tags.filter((t) => !isLocalOnlyTag(t.key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const digest = createHash('sha256')
      .update(
        JSON.stringify({
          status: run.info.status,
          end: run.info.endTime,
          // The parent as linked on the remote: a parent pushed later (it was RUNNING) changes it.
          parent: run.info.parentRunId ? (this.summary.remoteIds[run.info.parentRunId] ?? '') : '',
          name: run.info.runName,
          params: [...run.params].sort((a, b) => (a.key < b.key ? -1 : 1)).map((p) => [p.key, p.value]),
          tags: tags.map((t) => [t.key, t.value]),
          inputs: run.inputs.map((i) => [i.dataset.name, i.dataset.digest]).sort(),
          metrics: [...counts].sort(),
          artifacts: artifacts.map((a) => [a.path, a.size]),
        }),
      )
      .digest('hex')
      .slice(0, 32);
    return { run, counts, artifacts, tags, digest };
  }

  private remoteExperimentId(name: string): Promise<string> {
    let id = this.experiments.get(name);
    if (!id) {
      id = this.findOrCreateExperiment(name);
      this.experiments.set(name, id);
    }
    return id;
  }

  private async findOrCreateExperiment(name: string): Promise<string> {
    for (let i = 0; i < 2; i++) {
      try {
        const { experiment } = await this.client.rpc<{ experiment: { experiment_id: string; lifecycle_stage: string } }>('GetExperimentByName', { experiment_name: name });
        if (experiment.lifecycle_stage === 'deleted') {
          throw new SyncError(`experiment '${name}' is deleted on remote '${this.remote.name}': restore it there, or rename the local experiment`);
        }
        return experiment.experiment_id;
      } catch (e) {
        if (!(e instanceof RemoteRequestError) || e.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw e;
      }
      try {
        return String((await this.client.rpc<{ experiment_id: string }>('CreateExperiment', { name }, { ambiguousFails: true })).experiment_id);
      } catch (e) {
        // Created meanwhile (or by our own request whose answer was lost): look it up again.
        if (!(e instanceof AmbiguousSendError) && !(e instanceof RemoteRequestError && e.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw e;
      }
    }
    throw new SyncError(`could not find or create experiment '${name}' on remote '${this.remote.name}'`);
  }

  private async findRemote(experimentId: string, runId: string): Promise<RunJson | undefined> {
    const reply = await this.client.rpc<{ runs?: RunJson[] }>('SearchRuns', {
      experiment_ids: [experimentId],
      filter: `tags.\`${SOURCE_RUN_TAG}\` = ${quote(runId)}`,
      run_view_type: 'ACTIVE_ONLY',
      max_results: 10,
      order_by: ['attributes.start_time ASC'],
    });
    return reply.runs?.[0];
  }

  /**
   * Where many runs of one experiment are pushed, one listing of the remote's pushed runs there
   * replaces a search per run (a no-op push of 100 runs is then a few requests).
   */
  async listPushedRuns(runs: readonly Run[]): Promise<void> {
    const perExperiment = new Map<string, number>();
    for (const r of runs) perExperiment.set(r.info.experimentId, (perExperiment.get(r.info.experimentId) ?? 0) + 1);
    for (const [localId, count] of perExperiment) {
      if (count < LIST_WHOLE_EXPERIMENT_FROM) continue;
      const experimentId = await this.remoteExperimentId(this.tracker.getExperiment(localId).name);
      const bySource = new Map<string, RunJson>();
      let pageToken: string | undefined;
      do {
        const reply = await this.client.rpc<{ runs?: RunJson[]; next_page_token?: string }>('SearchRuns', {
          experiment_ids: [experimentId],
          filter: `tags.\`${SOURCE_RUN_TAG}\` LIKE '%'`,
          run_view_type: 'ACTIVE_ONLY',
          max_results: 1000,
          order_by: ['attributes.start_time ASC'],
          ...(pageToken ? { page_token: pageToken } : {}),
        });
        for (const r of reply.runs ?? []) {
          const source = tagMap(r.data.tags).get(SOURCE_RUN_TAG);
          if (source !== undefined && !bySource.has(source)) bySource.set(source, r);
        }
        pageToken = reply.next_page_token || undefined;
      } while (pageToken);
      this.listed.set(experimentId, bySource);
    }
  }

  private async matchOrCreate(run: Run): Promise<RemoteRun> {
    const experimentName = this.tracker.getExperiment(run.info.experimentId).name;
    const experimentId = await this.remoteExperimentId(experimentName);
    const listed = this.listed.get(experimentId);
    const found = listed ? listed.get(run.info.runId) : await this.findRemote(experimentId, run.info.runId);
    if (found) return { json: found, created: false };
    const message = {
      experiment_id: experimentId,
      run_name: run.info.runName,
      start_time: run.info.startTime,
      user_id: run.info.userId,
      tags: [{ key: SOURCE_RUN_TAG, value: run.info.runId }],
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const { run: created } = await this.client.rpc<{ run: RunJson }>('CreateRun', message, { ambiguousFails: true });
        return { json: created, created: true };
      } catch (e) {
        if (!(e instanceof AmbiguousSendError)) throw e;
        // The run may have been created: find it before creating another.
        const again = await this.findRemote(experimentId, run.info.runId);
        if (again) return { json: again, created: true };
      }
    }
    throw new SyncError(`could not create run ${run.info.runId} on remote '${this.remote.name}'`);
  }

  private async sendParamsAndTags(run: Run, local: LocalState, remote: RemoteRun): Promise<void> {
    const remoteId = remote.json.info.run_id;
    const remoteParams = tagMap(remote.json.data.params);
    const params = run.params.filter((p) => !remoteParams.has(p.key));
    for (const p of run.params) {
      const there = remoteParams.get(p.key);
      if (there !== undefined && there !== p.value) {
        throw new SyncError(`param '${p.key}' of run ${run.info.runId} is '${p.value}' here and '${there}' on remote '${this.remote.name}' (run ${remoteId}); params cannot change`);
      }
    }
    const remoteTags = tagMap(remote.json.data.tags);
    const tags: Tag[] = [];
    for (const t of local.tags) {
      if (t.key === FAILURE_REASON_TAG) continue; // sent after the status (see pushRun)
      let value = t.value;
      if (t.key === PARENT_RUN_TAG) {
        const parent = this.summary.remoteIds[t.value];
        if (!parent) continue; // the parent was not pushed (it is RUNNING or deleted)
        value = parent;
      }
      if (remoteTags.get(t.key) !== value) tags.push({ key: t.key, value });
    }
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < Math.max(params.length, tags.length); i += MAX_PARAMS_TAGS_PER_BATCH) {
      const p = params.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH);
      const t = tags.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH);
      sends.push(this.client.rpc('LogBatch', { run_id: remoteId, ...(p.length ? { params: p } : {}), ...(t.length ? { tags: t } : {}) }));
    }
    await Promise.all(sends);
    this.summary.params += params.length;
    this.summary.tags += tags.length;
  }

  private async sendInputs(run: Run, remote: RemoteRun): Promise<void> {
    const there = new Set((remote.json.inputs?.dataset_inputs ?? []).map((d) => `${d.dataset.name}\u0000${d.dataset.digest}`));
    const missing = run.inputs.filter((i) => !there.has(`${i.dataset.name}\u0000${i.dataset.digest}`));
    for (let i = 0; i < missing.length; i += 10) {
      await this.client.rpc('LogInputs', { run_id: remote.json.info.run_id, datasets: missing.slice(i, i + 10).map(datasetInputJson) });
    }
    this.summary.inputs += missing.length;
  }

  private async remoteCount(remoteId: string, key: string): Promise<number> {
    let n = 0;
    let pageToken: string | undefined;
    do {
      const reply = await this.client.rpc<{ metrics?: unknown[]; next_page_token?: string }>('GetMetricHistory', {
        run_id: remoteId,
        metric_key: key,
        max_results: MAX_RESULTS_GET_METRIC_HISTORY,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      n += reply.metrics?.length ?? 0;
      pageToken = reply.next_page_token || undefined;
    } while (pageToken);
    return n;
  }

  /** Sends the points the remote lacks; returns how many were sent. */
  private async sendMetrics(run: Run, local: LocalState, remote: RemoteRun): Promise<number> {
    const remoteId = remote.json.info.run_id;
    let points = 0;
    const remoteKeys = new Set((remote.json.data.metrics ?? []).map((m) => m.key));
    const keys = [...local.counts.keys()];
    const lanes: string[][] = Array.from({ length: Math.min(LANES_PER_RUN, keys.length) }, () => []);
    keys.forEach((k, i) => lanes[i % lanes.length]!.push(k));
    await Promise.all(
      lanes.map(async (laneKeys) => {
        for (const key of laneKeys) {
          const total = local.counts.get(key)!;
          let sent = remote.created || !remoteKeys.has(key) ? 0 : await this.remoteCount(remoteId, key);
          const start = sent;
          for (let resyncs = 0; sent < total; ) {
            try {
              sent = await this.sendKey(run.info.runId, remoteId, key, sent, total);
            } catch (e) {
              if (!(e instanceof AmbiguousSendError) || ++resyncs > MAX_RESYNCS) throw e;
              sent = await this.remoteCount(remoteId, key);
            }
          }
          if (sent > total) {
            throw new SyncError(`metric '${key}' of run ${run.info.runId} has ${sent} points on remote '${this.remote.name}' (run ${remoteId}) but ${total} here`);
          }
          points += sent - start;
        }
      }),
    );
    return points;
  }

  /** Sends points `from`… of one key in batches, each after the previous one has landed; returns the count sent up to. */
  private async sendKey(runId: string, remoteId: string, key: string, from: number, total: number): Promise<number> {
    // MLflow's limits: 1000 metrics (and entities) and 1 MB a request. A point's JSON is its key
    // and at most ~110 characters of value, timestamp, step and punctuation.
    const perBatch = Math.min(MAX_METRICS_PER_BATCH, MAX_ENTITIES_PER_BATCH, Math.floor((MAX_BATCH_LOG_REQUEST_SIZE - 1024) / (Buffer.byteLength(JSON.stringify(key)) + 110)));
    let sentUpTo = from;
    const json = this.tracker.metricHistoryJson(runId, key, from);
    if (json) {
      // The points as MLflow Metric JSON, written by SQLite: no object, number or string per point here.
      const head = `{"run_id":${JSON.stringify(remoteId)},"metrics":[`;
      while (sentUpTo < total) {
        const piece = json.read(Math.min(perBatch, total - sentUpTo));
        if (!piece) break;
        await this.client.rpcJson('LogBatch', `${head}${piece.json}]}`, { ambiguousFails: true });
        sentUpTo += piece.count;
        this.countPoints(piece.count);
      }
      return sentUpTo;
    }
    for (const columns of this.tracker.metricHistoryColumns(runId, key, from, LOCAL_PAGE)) {
      const n = Math.min(columns.values.length, total - sentUpTo);
      for (let i = 0; i < n; ) {
        const count = Math.min(perBatch, n - i);
        await this.client.rpcJson('LogBatch', logBatchMetricsJson(remoteId, key, columns, i, i + count), { ambiguousFails: true });
        i += count;
        sentUpTo += count;
        this.countPoints(count);
      }
      if (sentUpTo >= total) break;
    }
    return sentUpTo;
  }

  private countPoints(n: number): void {
    this.summary.points += n;
    this.points += n;
    const now = Date.now();
    if (now - this.lastProgress >= 250) {
      this.lastProgress = now;
      this.emit({ kind: 'progress', points: this.summary.points, requests: this.client.requests, bytes: this.client.bytesSent });
    }
  }

  private remoteRoot(remote: RemoteRun): string {
    return proxiedArtifactRoot(this.remote, remote.json.info);
  }

  /** Uploads the files the remote lacks; returns their bytes. */
  private async sendArtifacts(run: Run, local: LocalState, remote: RemoteRun): Promise<number> {
    if (local.artifacts.length === 0) return 0;
    const root = this.remoteRoot(remote);
    const there = remote.created ? new Map<string, number>() : await remoteArtifacts(this.client, root);
    const missing = local.artifacts.filter((a) => there.get(a.path) !== a.size);
    await inParallel(missing, async (a) => {
      const opened = this.tracker.openArtifact(run.info.runId, a.path);
      // Re-hashed first: a stored file changed in .runwise/ is not pushed as the run's (nor, through
      // it, as a version registered from the run).
      const size = (await stat(opened.filePath)).size;
      const actual = size === opened.record.size ? await sha256OfFileAsync(opened.filePath) : undefined;
      if (actual !== opened.record.sha256) {
        throw new TrackerError('INVALID_STATE', `Run ${run.info.runId}'s artifact '${a.path}' was stored with sha256 ${opened.record.sha256} (${opened.record.size} bytes) but now holds ${actual ? `sha256 ${actual}` : `${size} bytes`}: it was changed in .runwise/ and is not pushed.`);
      }
      await this.client.uploadArtifact(`${root}/${a.path}`, opened.filePath);
      this.summary.artifacts++;
      this.summary.artifactBytes += a.size;
    }, 4);
    return missing.reduce((sum, a) => sum + a.size, 0);
  }

  /** Registered versions made from the pushed runs, with their aliases. */
  async pushModelVersions(runs: readonly Run[]): Promise<void> {
    const pushed = new Set(runs.map((r) => r.info.runId));
    const versions: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const page = this.tracker.registry.searchModelVersions({ maxResults: 10_000, pageToken });
      versions.push(...page.items.filter((v) => v.runId && pushed.has(v.runId) && this.summary.remoteIds[v.runId]));
      pageToken = page.nextPageToken;
    } while (pageToken);
    // Oldest first: the remote numbers its versions in the order they come, so `models:/name/2` and
    // `latest` name the same bytes there as here (the search gives the last updated first).
    versions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : Number(a.version) - Number(b.version)));
    const models = new Set<string>();
    for (const v of versions) {
      if (!models.has(v.name)) {
        models.add(v.name);
        try {
          await this.client.rpc('CreateRegisteredModel', { name: v.name });
        } catch (e) {
          if (!(e instanceof RemoteRequestError && e.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw e;
        }
      }
      await this.pushModelVersion(v);
    }
  }

  private async pushModelVersion(v: ModelVersion): Promise<void> {
    const remoteRunId = this.summary.remoteIds[v.runId!]!;
    const marker = `${v.name}/${v.version}`;
    const reply = await this.client.rpc<{ model_versions?: ModelVersionJson[] }>('SearchModelVersions', {
      filter: `name = ${quote(v.name)} and run_id = ${quote(remoteRunId)}`,
      max_results: 1000,
    });
    let remote = (reply.model_versions ?? []).find((m) => tagMap(m.tags).get(SOURCE_VERSION_TAG) === marker);
    const state = remote ? 'up-to-date' : 'created';
    if (!remote) {
      const source = await this.versionSource(v, remoteRunId);
      const tags = [...v.tags.filter((t) => t.key !== SOURCE_VERSION_TAG), { key: SOURCE_VERSION_TAG, value: marker }];
      remote = (
        await this.client.rpc<{ model_version: ModelVersionJson }>('CreateModelVersion', {
          name: v.name,
          source,
          run_id: remoteRunId,
          tags,
          ...(v.description ? { description: v.description } : {}),
        })
      ).model_version;
      this.summary.modelVersions++;
    }
    const has = new Set(remote.aliases ?? []);
    for (const alias of v.aliases) {
      if (!has.has(alias)) await this.client.rpc('SetRegisteredModelAlias', { name: v.name, alias, version: remote.version });
    }
    this.emit({ kind: 'model', name: v.name, version: v.version, remoteVersion: remote.version, state });
  }

  /**
   * The remote source of a version: `runs:/<remote run>/<path>` when the local source is a path of
   * its run's artifacts (pushed with the run); otherwise the version's own files are uploaded under
   * the remote run's `registered-models/<name>/<version>/` and named from there.
   */
  private async versionSource(v: ModelVersion, remoteRunId: string): Promise<string> {
    const m = /^runs:\/([0-9a-f]{32})\/(.+)$/.exec(v.source);
    if (m && m[1] === v.runId) return `runs:/${remoteRunId}/${m[2]}`;
    const { run } = await this.client.rpc<{ run: RunJson }>('GetRun', { run_id: remoteRunId });
    const root = this.remoteRoot({ json: run, created: false });
    const dir = `registered-models/${v.name}/${v.version}`;
    const files = this.tracker.registry.versionFiles(v.name, v.version);
    await inParallel(files, async (f) => {
      // Re-hashed first, as every read of a version's file is: a changed copy is refused, not pushed.
      // What is sent is a private copy of the bytes hashed (an upload may read its file again to retry).
      const opened = await this.tracker.openModelVersionFileAsync(v.name, v.version, f.path);
      const scratch = mkdtempSync(path.join(tmpdir(), 'runwise-push-'));
      try {
        const copy = path.join(scratch, 'file');
        opened.verified.copyTo(copy);
        await this.client.uploadArtifact(`${root}/${dir}/${f.path}`, copy);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      this.summary.artifactBytes += f.size;
    }, 4);
    return `runs:/${remoteRunId}/${dir}`;
  }
}
