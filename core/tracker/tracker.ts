/**
 * The experiment tracker: experiments, runs, params, metrics, tags, dataset inputs and artifacts
 * over `.runwise/tracker.db`, with MLflow's semantics (immutable params, append-only metrics with a
 * maintained latest value, soft-deleted runs, `mlflow.*` system tags).
 *
 * One Tracker per process and workspace; several processes may write at once (WAL, busy_timeout,
 * `BEGIN IMMEDIATE`). Every write is one transaction: a batch lands whole or not at all.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, openSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ArtifactStore, READ_NO_FOLLOW } from './artifactStore';
import {
  MAX_DATASET_DIGEST_LENGTH,
  MAX_DATASET_NAME_LENGTH,
  MAX_DATASET_PROFILE_LENGTH,
  MAX_DATASET_SCHEMA_LENGTH,
  MAX_DATASET_SOURCE_LENGTH,
  MAX_ENTITY_KEY_LENGTH,
  MAX_EXPERIMENT_NAME_LENGTH,
  MAX_PARAM_VAL_LENGTH,
  MAX_RESULTS_GET_METRIC_HISTORY,
  MAX_RUN_NAME_LENGTH,
  MAX_TAG_VAL_LENGTH,
  MAX_LOGGED_MODEL_TAG_VAL_LENGTH,
} from './limits';
import { downsampleMetric, fromSql, jsonRealsExact, metricJsonReader, metricTextColumns, toSql, writeRollups, type MetricJsonReader, type MetricPoint, type MetricTextColumns } from './metricHistory';
import type {
  ArtifactListEntry,
  ArtifactRecord,
  CreateLoggedModelOptions,
  Dataset,
  DatasetInput,
  Experiment,
  ExperimentSearch,
  LoggedModel,
  LoggedModelInput,
  LoggedModelOutput,
  LoggedModelSearch,
  LoggedModelStatus,
  Metric,
  MetricBucket,
  Page,
  Param,
  Run,
  RunInfo,
  RunSearch,
  RunStatus,
  Tag,
} from './model';
import { RUN_ID_PATTERN, RUN_STATUSES } from './model';
import { LoggedModelStore } from './loggedModels';
import {
  MODEL_VERSION_ARTIFACT_ROOT,
  ModelRegistry,
  ModelTamperedError,
  checkAlias,
  checkModelName as checkRegisteredModelName,
  modelFilesOnDisk,
  unreadableCopy,
  modelLineage,
  refusePrompt,
  storeReadFailure,
  type ModelCardRecord,
  type ModelLineage,
  type ModelVersion,
  type NewModelVersion,
} from './modelRegistry';
import { currentProcess, isAlive, sameProcess, type ProcessIdentity } from './processOwner';
import { generateRunName } from './runNames';
import { checkTrackerSchema, migrate } from './schema';
import { compileExperimentSearch, compileRunSearch, takePage } from './search/runSearchSql';
import { openSqlDatabase, type OpenOptions, type SqlDatabase, type SqlRow, type SqlValue } from './sqlStore';
import { TrackerError, invalid, notFound } from './trackerError';
import { checkArtifactTarget } from './artifactTarget';
import { checkTrackerFiles } from './trackerFiles';
import { openVerified, openVerifiedSync, type VerifiedFile } from './verifiedFile';
import { openFailure } from './trackerOpenError';
import { checkEntityName } from './entityNames';
import { PathOutsideWorkspaceError, artifactsDir, normalizeRelativePath, realRootOf, relativeInside, runwiseDir, trackerDbPath } from '../workspace/workspacePath';

import { FAILURE_REASON_TAG, MODEL_VERSIONS_TAG, NOTE_TAG, PARENT_RUN_TAG, RUN_NAME_TAG, USER_TAG } from './model';
import { pythonJsonDumps } from './pythonJson';

/** MLflow's system tags that the tracker mirrors into columns: named in model.ts, re-exported for importers of the tracker. */
export { FAILURE_REASON_TAG, NOTE_TAG, PARENT_RUN_TAG, RUN_NAME_TAG, USER_TAG };

export interface TrackerOptions extends OpenOptions {
  /** Clock, for tests. */
  now?: () => number;
  /** Skip marking dead owners' RUNNING runs as FAILED on open (a read-only viewer sets this). */
  skipRecovery?: boolean;
}

export interface LogBatch {
  metrics?: readonly Metric[];
  params?: readonly Param[];
  tags?: readonly Tag[];
}

export interface CreateRunOptions {
  experimentId?: string;
  runName?: string;
  userId?: string;
  startTime?: number;
  tags?: readonly Tag[];
  /** Status a run starts with; RUNNING unless stated. */
  status?: RunStatus;
}

export interface UpdateRunOptions {
  status?: RunStatus;
  endTime?: number;
  runName?: string;
}

/** What `Tracker.changesSince` returns. */
export interface TrackerChanges {
  /** Pass this to the next `changesSince` call. */
  marker: number;
  /** True for a first load (no marker given): these are all the active runs and experiments. */
  full: boolean;
  experiments: Experiment[];
  runs: Run[];
}

export interface RegisterModelOptions {
  /** The run that produced the model (a run id). */
  runId?: string;
  /** An absolute path to the model card, kept with the version. */
  cardPath?: string;
  alias?: string;
  description?: string;
  /** Who registers (and moves the alias). */
  userId?: string;
  /** The source recorded; default the model's path. */
  source?: string;
}

export interface OpenedArtifact {
  record: ArtifactRecord;
  stream(): Readable;
  filePath: string;
}

/**
 * A version's file opened and hashed once (verifiedFile.ts): its stream and `verified` read the
 * bytes that were hashed. `filePath` is the store's path, for messages, not to be read again.
 */
export interface VerifiedArtifact extends OpenedArtifact {
  verified: VerifiedFile;
}

interface RunRow {
  id: number;
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: 'active' | 'deleted';
  artifact_uri: string;
  parent_uuid: string | null;
}

const RUN_COLUMNS = `r.id, r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time,
  r.lifecycle_stage, r.artifact_uri, (SELECT p.run_uuid FROM runs p WHERE p.id = r.parent_id) AS parent_uuid`;

/** Rows per multi-row INSERT of metric points, largest first; the last must be 1. */
const INSERT_CHUNKS = [64, 8, 1] as const;
const insertMetricsSql = (rows: number) =>
  `INSERT INTO metrics (run_id, key_id, step, timestamp, value) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?)').join(', ')}`;

const TERMINAL: ReadonlySet<RunStatus> = new Set(['FINISHED', 'FAILED', 'KILLED']);

/** How a write that records stored bytes is run: at once, or when another process's lock allows it. */
export type RecordWrite = <T>(write: () => T) => T | Promise<T>;

export class Tracker {
  readonly artifacts: ArtifactStore;
  private readonly models: LoggedModelStore;
  private readonly now: () => number;
  private readonly keyIds = new Map<string, number>();
  private readonly keyNames = new Map<number, string>();
  private sessionId: number | null = null;

  private constructor(
    readonly workspace: string,
    readonly db: SqlDatabase,
    options: TrackerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.artifacts = new ArtifactStore(artifactsDir(workspace));
    this.models = new LoggedModelStore(db, this.now, this.artifacts);
  }

  /** Opens (creating if needed) the tracker of `workspace`, migrates it and recovers dead runs. */
  static open(workspace: string, options: TrackerOptions = {}): Tracker {
    const file = trackerDbPath(workspace);
    let db: SqlDatabase;
    try {
      // No link inside .runwise/ is followed; a read-only open creates nothing, not even the folder.
      checkTrackerFiles(workspace, !options.readonly);
      db = openSqlDatabase(file, { ...options, checkBeforeWrite: checkTrackerSchema });
    } catch (e) {
      throw openFailure(e, file);
    }
    try {
      const tracker = new Tracker(workspace, db, options);
      migrate(db, tracker.now);
      if (!options.skipRecovery) tracker.recoverOrphanedRuns();
      return tracker;
    } catch (e) {
      db.close();
      throw openFailure(e, file);
    }
  }

  close(): void {
    if (this.sessionId !== null) {
      const sid = this.sessionId;
      this.sessionId = null;
      try {
        this.db.transaction(() => {
          const owned = this.db.prepare("SELECT count(*) AS n FROM runs WHERE session_id = ? AND status = 'RUNNING'").get(sid);
          if (Number(owned?.n ?? 0) === 0) {
            this.db.prepare('UPDATE runs SET session_id = NULL WHERE session_id = ?').run(sid);
            this.db.prepare('DELETE FROM sessions WHERE session_id = ?').run(sid);
          }
        });
      } catch {
        /* closing must not throw over a busy database; the next open cleans up */
      }
    }
    this.db.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Runs left RUNNING by a dead process

  /**
   * Marks FAILED every RUNNING run whose owning process is gone (killed, crashed), with the reason
   * in the `runwise.failure_reason` tag, and removes the session rows of gone processes (only a
   * RUNNING run refers to one). Returns the ids of the runs it ended.
   */
  recoverOrphanedRuns(): string[] {
    const owners = this.db.prepare('SELECT session_id, pid, host, proc_start, pid_ns, boot_id FROM sessions').all();
    const text = (v: unknown) => (v == null ? null : String(v));
    const dead = owners.filter(
      (o) => !isAlive({ pid: Number(o.pid), host: String(o.host), procStart: text(o.proc_start), pidNs: text(o.pid_ns), bootId: text(o.boot_id) }),
    );
    const ended: string[] = [];
    if (dead.length === 0) return ended;
    const t = this.now();
    this.db.transaction(() => {
      for (const o of dead) {
        const runs = this.db.prepare("SELECT id, run_uuid FROM runs WHERE session_id = ? AND status = 'RUNNING'").all(o.session_id!);
        const reason = `the process that owned this run (pid ${o.pid} on ${o.host}) exited without ending it`;
        for (const r of runs) {
          const lastPoint = this.db.prepare('SELECT max(timestamp) AS t FROM latest_metrics WHERE run_id = ?').get(r.id!);
          const endTime = lastPoint?.t != null ? Number(lastPoint.t) : t;
          this.db.prepare("UPDATE runs SET status = 'FAILED', end_time = ?, session_id = NULL WHERE id = ?").run(endTime, r.id!);
          this.upsertTag(Number(r.id), FAILURE_REASON_TAG, reason);
          this.touchRun(Number(r.id));
          ended.push(String(r.run_uuid));
        }
        this.db.prepare('DELETE FROM sessions WHERE session_id = ?').run(o.session_id!);
      }
    });
    return ended;
  }

  /** This process's session row, created on first need (a read-only user never writes one). */
  private ownSession(): number {
    if (this.sessionId === null) {
      const me = currentProcess();
      const r = this.db
        .prepare('INSERT INTO sessions (pid, host, proc_start, pid_ns, boot_id, opened_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(me.pid, me.host, me.procStart, me.pidNs, me.bootId, this.now());
      this.sessionId = Number(r.lastInsertRowid);
    }
    return this.sessionId;
  }

  /**
   * The session row of the process that owns a run: `owner` (a tracking client's process, found by
   * the endpoint), one row per process, or this process's own when there is no other owner.
   */
  private sessionOf(owner: ProcessIdentity | undefined): number {
    if (owner === undefined || sameProcess(owner, currentProcess())) return this.ownSession();
    const identity = [owner.pid, owner.host, owner.procStart, owner.pidNs, owner.bootId] as const;
    const known = this.db
      .prepare('SELECT session_id FROM sessions WHERE pid = ? AND host = ? AND proc_start IS ? AND pid_ns IS ? AND boot_id IS ? LIMIT 1')
      .get(...identity);
    if (known) return Number(known.session_id);
    const r = this.db.prepare('INSERT INTO sessions (pid, host, proc_start, pid_ns, boot_id, opened_at) VALUES (?, ?, ?, ?, ?, ?)').run(...identity, this.now());
    return Number(r.lastInsertRowid);
  }

  // ---------------------------------------------------------------------------------------------
  // Experiments

  createExperiment(name: string, options: { artifactLocation?: string; tags?: readonly Tag[] } = {}): Experiment {
    const trimmed = checkExperimentName(name, 'name');
    return this.db.transaction(() => {
      this.checkNameFree(trimmed);
      const t = this.now();
      const id = Number(
        this.db
          .prepare('INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES (?, ?, ?, ?)')
          .run(trimmed, '', t, t).lastInsertRowid,
      );
      const location = options.artifactLocation ?? `mlflow-artifacts:/${id}`;
      this.db.prepare('UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?').run(location, id);
      for (const tag of options.tags ?? []) this.setExperimentTagRow(id, tag);
      this.touchExperiment(id);
      return this.getExperiment(String(id));
    });
  }

  getExperiment(experimentId: string): Experiment {
    const id = parseExperimentId(experimentId);
    const row = this.db.prepare('SELECT * FROM experiments WHERE experiment_id = ?').get(id);
    if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
    return this.experimentFromRow(row);
  }

  getExperimentByName(name: string): Experiment | undefined {
    const row = this.db.prepare('SELECT * FROM experiments WHERE name = ?').get(name);
    return row ? this.experimentFromRow(row) : undefined;
  }

  /** The experiment named `name`, created when missing. */
  ensureExperiment(name: string): Experiment {
    return this.getExperimentByName(name) ?? this.createExperiment(name);
  }

  /** As MLflow's SQL store: only an active experiment takes tags. */
  setExperimentTag(experimentId: string, tag: Tag): void {
    this.db.transaction(() => this.setExperimentTagRow(this.activeExperimentId(experimentId), tag));
  }

  /** MLflow's delete_experiment_tag: the experiment must be active and hold the tag. */
  deleteExperimentTag(experimentId: string, key: string): void {
    this.db.transaction(() => {
      const id = this.activeExperimentId(experimentId);
      const r = this.db.prepare('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?').run(id, key);
      if (r.changes === 0) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
      this.db.prepare('UPDATE experiments SET last_update_time = ? WHERE experiment_id = ?').run(this.now(), id);
      this.touchExperiment(id);
    });
  }

  /**
   * MLflow's UpdateExperiment (rename_experiment): an active experiment only (INVALID_STATE
   * otherwise); names stay unique across deleted experiments too.
   */
  renameExperiment(experimentId: string, newName: string): Experiment {
    const name = checkExperimentName(newName, 'new_name');
    return this.db.transaction(() => {
      const { id, stage } = this.experimentStage(experimentId);
      if (stage !== 'active') throw new TrackerError('INVALID_STATE', 'Cannot rename a non-active experiment.');
      this.checkNameFree(name, id);
      this.db.prepare('UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?').run(name, this.now(), id);
      this.touchExperiment(id);
      return this.getExperiment(String(id));
    });
  }

  /**
   * Soft delete, as MLflow's SQL store: the experiment and every run in it become `deleted` (they
   * leave ACTIVE_ONLY searches and the Runs view). Only an active experiment can be deleted.
   */
  deleteExperiment(experimentId: string): void {
    this.setExperimentStage(experimentId, 'active', 'deleted');
  }

  /** Undoes `deleteExperiment`: the experiment and every run in it become active again, as in MLflow. */
  restoreExperiment(experimentId: string): void {
    this.setExperimentStage(experimentId, 'deleted', 'active');
  }

  /**
   * Moves an experiment in stage `from` and all its runs to stage `to`, in one transaction. An
   * experiment not in `from` is RESOURCE_DOES_NOT_EXIST, MLflow's answer (its lookup is by view type).
   */
  private setExperimentStage(experimentId: string, from: 'active' | 'deleted', to: 'active' | 'deleted'): void {
    this.db.transaction(() => {
      const { id, stage } = this.experimentStage(experimentId);
      if (stage !== from) throw notFound(`No Experiment with id=${experimentId} exists`);
      this.db.prepare('UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?').run(to, this.now(), id);
      this.touchExperiment(id);
      // One change number for all the runs: a viewer reads back every row above its marker.
      this.db.prepare('UPDATE runs SET lifecycle_stage = ?, change_seq = ? WHERE experiment_id = ?').run(to, this.nextChange(), id);
    });
  }

  /** An experiment's row id and lifecycle stage; RESOURCE_DOES_NOT_EXIST when there is none. */
  private experimentStage(experimentId: string): { id: number; stage: string } {
    const id = parseExperimentId(experimentId);
    const row = this.db.prepare('SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?').get(id);
    if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
    return { id, stage: String(row.lifecycle_stage) };
  }

  private activeExperimentId(experimentId: string): number {
    const { id, stage } = this.experimentStage(experimentId);
    if (stage !== 'active') {
      throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${stage}.`);
    }
    return id;
  }

  /** Experiment names are unique, deleted experiments included (as MLflow's unique constraint). */
  private checkNameFree(name: string, renamed?: number): void {
    const holder = this.db.prepare('SELECT experiment_id FROM experiments WHERE name = ?').get(name);
    if (holder && Number(holder.experiment_id) !== renamed) {
      throw new TrackerError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`);
    }
  }

  searchExperiments(search: ExperimentSearch = {}): Page<Experiment> {
    const compiled = compileExperimentSearch(search);
    const page = takePage(this.db.prepare(compiled.sql).all(...compiled.params), compiled);
    return { ...page, items: page.items.map((r) => this.getExperiment(String(r.experiment_id))) };
  }

  private setExperimentTagRow(id: number, tag: Tag): void {
    checkTag(tag);
    this.db
      .prepare('INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value')
      .run(id, tag.key, tag.value);
    this.db.prepare('UPDATE experiments SET last_update_time = ? WHERE experiment_id = ?').run(this.now(), id);
    this.touchExperiment(id);
  }

  private experimentFromRow(row: SqlRow): Experiment {
    const tags = this.db.prepare('SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key').all(row.experiment_id!);
    return {
      experimentId: String(row.experiment_id),
      name: String(row.name),
      artifactLocation: String(row.artifact_location),
      lifecycleStage: row.lifecycle_stage as Experiment['lifecycleStage'],
      creationTime: Number(row.creation_time),
      lastUpdateTime: Number(row.last_update_time),
      tags: Object.fromEntries(tags.map((t) => [String(t.key), String(t.value)])),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Runs

  /**
   * Creates a run. A RUNNING run is owned by `owner` (the tracking client's process that asked for
   * it, when the endpoint can tell), else by this process: it is FAILED once its owner is gone.
   */
  createRun(options: CreateRunOptions = {}, owner?: ProcessIdentity): Run {
    const experimentId = parseExperimentId(options.experimentId ?? '0');
    const status = options.status ?? 'RUNNING';
    checkStatus(status);
    const tags = [...(options.tags ?? [])];
    for (const t of tags) checkTag(t);
    const tagName = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (options.runName && tagName && options.runName !== tagName) {
      throw invalid(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${options.runName}', mlflow.runName='${tagName}').`);
    }
    const name = checkString(options.runName || tagName || generateRunName(), 'run_name', MAX_RUN_NAME_LENGTH);
    const runUuid = randomUUID().replace(/-/g, '');
    return this.db.transaction(() => {
      const exp = this.db.prepare('SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?').get(experimentId);
      if (!exp) throw notFound(`No Experiment with id=${experimentId} exists`);
      if (exp.lifecycle_stage !== 'active') {
        throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
      }
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, session_id)
             VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
          )
          .run(
            runUuid,
            experimentId,
            name,
            options.userId ?? '',
            status,
            options.startTime ?? this.now(),
            `mlflow-artifacts:/${experimentId}/${runUuid}/artifacts`,
            status === 'RUNNING' ? this.sessionOf(owner) : null,
          ).lastInsertRowid,
      );
      if (!tags.some((t) => t.key === RUN_NAME_TAG)) tags.push({ key: RUN_NAME_TAG, value: name });
      if (options.userId && !tags.some((t) => t.key === USER_TAG)) tags.push({ key: USER_TAG, value: options.userId });
      this.writeTags(id, tags);
      this.touchRun(id);
      return this.runById(id);
    });
  }

  getRun(runId: string): Run {
    return this.runById(this.runRow(runId).id);
  }

  getRunInfo(runId: string): RunInfo {
    return infoFromRow(this.runRow(runId));
  }

  /**
   * Renames a run or sets its status. RUNNING makes `owner` (else this process) the run's owner and
   * clears its end time (a run resumed, as mlflow.start_run(run_id=…) does). Any status set here
   * replaces one Runwise inferred, so the `runwise.failure_reason` tag of a run failed by recovery
   * goes too.
   */
  updateRun(runId: string, update: UpdateRunOptions, owner?: ProcessIdentity): RunInfo {
    if (update.status) checkStatus(update.status);
    return this.db.transaction(() => {
      const row = this.runRow(runId);
      if (update.runName !== undefined && update.runName !== '') {
        this.writeTags(row.id, [{ key: RUN_NAME_TAG, value: update.runName }]);
      }
      if (update.status) {
        const running = update.status === 'RUNNING';
        // As MLflow's store: the end time sent is kept, also when a run is resumed (mlflow.start_run with
        // an existing run id sends the old one back); a terminal status without one ends the run now.
        const endTime = update.endTime ?? (TERMINAL.has(update.status) ? this.now() : null);
        this.db
          .prepare('UPDATE runs SET status = ?, end_time = ?, session_id = ? WHERE id = ?')
          .run(update.status, endTime, running ? this.sessionOf(owner) : null, row.id);
        this.db.prepare('DELETE FROM tags WHERE run_id = ? AND key = ?').run(row.id, FAILURE_REASON_TAG);
      } else if (update.endTime !== undefined) {
        this.db.prepare('UPDATE runs SET end_time = ? WHERE id = ?').run(update.endTime, row.id);
      }
      this.touchRun(row.id);
      return infoFromRow(this.runRow(runId));
    });
  }

  renameRun(runId: string, name: string): RunInfo {
    if (name.trim() === '') throw invalid('A run name must be a non-empty string.');
    return this.updateRun(runId, { runName: name });
  }

  /** The run's note (MLflow's `mlflow.note.content` tag); an empty text removes it. */
  setNote(runId: string, text: string): void {
    this.db.transaction(() => {
      const row = this.runRow(runId);
      if (text === '') this.db.prepare('DELETE FROM tags WHERE run_id = ? AND key = ?').run(row.id, NOTE_TAG);
      else this.writeTags(row.id, [{ key: NOTE_TAG, value: text }]);
      this.touchRun(row.id);
    });
  }

  /** Soft delete, as MLflow: the run stays, hidden from ACTIVE_ONLY searches. */
  deleteRun(runId: string): void {
    this.db.transaction(() => {
      const row = this.runRow(runId);
      this.db.prepare("UPDATE runs SET lifecycle_stage = 'deleted' WHERE id = ?").run(row.id);
      this.touchRun(row.id);
    });
  }

  restoreRun(runId: string): void {
    this.db.transaction(() => {
      const row = this.runRow(runId);
      this.db.prepare("UPDATE runs SET lifecycle_stage = 'active' WHERE id = ?").run(row.id);
      this.touchRun(row.id);
    });
  }

  deleteTag(runId: string, key: string): void {
    this.db.transaction(() => {
      const row = this.activeRunRow(runId);
      const r = this.db.prepare('DELETE FROM tags WHERE run_id = ? AND key = ?').run(row.id, key);
      if (r.changes === 0) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
      // The parent link mirrors its tag: without the tag the run is no one's child any more.
      if (key === PARENT_RUN_TAG) this.db.prepare('UPDATE runs SET parent_id = NULL WHERE id = ?').run(row.id);
      this.touchRun(row.id);
    });
  }

  searchRuns(search: RunSearch = {}): Page<Run> {
    const compiled = compileRunSearch(search);
    const page = takePage(this.db.prepare(compiled.sql).all(...compiled.params), compiled);
    return { ...page, items: this.runsByIds(page.items.map((r) => Number(r.id))) };
  }

  /** Resolves a run id or a unique prefix of one (at least 4 characters), or an exact run name. */
  resolveRunId(ref: string): string {
    if (RUN_ID_PATTERN.test(ref)) return this.runRow(ref).run_uuid;
    const byPrefix =
      /^[0-9a-f]{4,31}$/.test(ref) ? this.db.prepare('SELECT run_uuid FROM runs WHERE run_uuid >= ? AND run_uuid < ? LIMIT 2').all(ref, `${ref}g`) : [];
    if (byPrefix.length === 1) return String(byPrefix[0]!.run_uuid);
    // Active runs first; a name only deleted runs carry still finds them (`runs show`, restore).
    let byName = this.db.prepare("SELECT run_uuid FROM runs WHERE name = ? AND lifecycle_stage = 'active' ORDER BY start_time DESC LIMIT 6").all(ref);
    if (byName.length === 0) byName = this.db.prepare("SELECT run_uuid FROM runs WHERE name = ? AND lifecycle_stage = 'deleted' ORDER BY start_time DESC LIMIT 6").all(ref);
    if (byPrefix.length > 1) throw invalid(`'${ref}' matches more than one run id; give more of it`);
    if (byName.length > 1) {
      // Which runs: the newest few, by the id prefix that tells each apart.
      const ids = byName.slice(0, 5).map((r) => String(r.run_uuid).slice(0, 8));
      throw invalid(`'${ref}' names more than one run (${ids.join(', ')}${byName.length > 5 ? ', …' : ''}, newest first); give a run id or a unique prefix of one`);
    }
    if (byName.length === 1) return String(byName[0]!.run_uuid);
    const short = /^[0-9a-f]{1,3}$/.test(ref) ? '; a prefix of a run id needs at least 4 characters' : '';
    throw notFound(`No run matches '${ref}' (give a run id, a unique prefix of one, or a run name${short})`);
  }

  // ---------------------------------------------------------------------------------------------
  // Logging

  logMetric(runId: string, metric: Metric): void {
    this.logBatch(runId, { metrics: [metric] });
  }

  logParam(runId: string, param: Param): void {
    this.logBatch(runId, { params: [param] });
  }

  setTag(runId: string, tag: Tag): void {
    this.logBatch(runId, { tags: [tag] });
  }

  /**
   * Logs metrics, params and tags in one transaction. Params are immutable: a key logged again with
   * the same value is accepted, with a different value it is an error and nothing of the batch lands.
   */
  logBatch(runId: string, batch: LogBatch): void {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    for (const m of metrics) checkMetric(m);
    const seenParams = new Map<string, string>();
    for (const p of params) {
      checkString(p.key, 'key', MAX_ENTITY_KEY_LENGTH);
      checkEntityName('parameter', p.key);
      checkString(p.value, 'value', MAX_PARAM_VAL_LENGTH, true);
      const prior = seenParams.get(p.key);
      if (prior !== undefined && prior !== p.value) {
        throw invalid(`Duplicate parameter keys have been submitted: ['${p.key}']. Please ensure the request contains only one param value per param key.`);
      }
      seenParams.set(p.key, p.value);
    }
    for (const t of tags) checkTag(t);
    const modelMetrics = metrics.filter((m) => m.modelId);
    const newKeys = new Map<string, number>();
    this.db.transaction(() => {
      const run = this.activeRunRow(runId);
      if (params.length > 0) this.writeParams(run, params);
      if (tags.length > 0) this.writeTags(run.id, tags);
      if (modelMetrics.length > 0) this.models.writeMetrics(run, modelMetrics);
      const runMetrics = modelMetrics.length > 0 ? this.withoutLoggedPoints(run.id, metrics) : metrics;
      if (runMetrics.length > 0) this.writeMetrics(run.id, runMetrics, newKeys);
      if (metrics.length > 0 || params.length > 0 || tags.length > 0) this.touchRun(run.id);
    });
    // Cached once the keys' rows are the database's: this batch may be part of a larger transaction.
    this.db.afterCommit(() => {
      for (const [k, id] of newKeys) this.keyIds.set(k, id);
    });
  }

  /** Dataset inputs of a run and, in MLflow 3, the logged models it used. */
  logInputs(runId: string, inputs: readonly DatasetInput[], models: readonly LoggedModelInput[] = []): void {
    for (const input of inputs) checkDataset(input.dataset);
    this.db.transaction(() => {
      const run = this.activeRunRow(runId);
      if (models.length > 0) {
        this.models.linkInputs(run, models);
        this.touchRun(run.id);
      }
      for (const input of inputs) {
        const d = input.dataset;
        this.db
          .prepare(
            `INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (experiment_id, name, digest) DO NOTHING`,
          )
          .run(run.experiment_id, d.name, d.digest, d.sourceType, d.source, d.schema ?? null, d.profile ?? null);
        const ds = this.db
          .prepare('SELECT dataset_id FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?')
          .get(run.experiment_id, d.name, d.digest)!;
        const tagObject = Object.fromEntries(input.tags.map((t) => [t.key, t.value]));
        this.db
          .prepare('INSERT INTO run_inputs (run_id, dataset_id, tags) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET tags = excluded.tags')
          .run(run.id, ds.dataset_id!, JSON.stringify(tagObject));
      }
      if (inputs.length > 0) this.touchRun(run.id);
    });
  }

  /**
   * The batch without the model-linked points the run already has, as MLflow's store drops a point
   * equal (key, value, timestamp, step) to a logged one: log_model re-logs the run's metrics with
   * the new model's id, and the run's own history must not grow by it.
   */
  private withoutLoggedPoints(runId: number, metrics: readonly Metric[]): Metric[] {
    const logged = this.db.prepare(
      `SELECT 1 FROM metrics WHERE run_id = ? AND key_id = (SELECT key_id FROM metric_keys WHERE key = ?)
         AND step = ? AND timestamp = ? AND value IS ? LIMIT 1`,
    );
    const seen = new Set<string>();
    return metrics.filter((m) => {
      if (!m.modelId) return true;
      const value = toSql(m.value);
      const point = JSON.stringify([m.key, m.step, m.timestamp, value]);
      if (seen.has(point)) return false;
      seen.add(point);
      return !logged.get(runId, m.key, m.step, m.timestamp, value);
    });
  }

  private writeParams(run: RunRow, params: readonly Param[]): void {
    const existing = this.db.prepare('SELECT value FROM params WHERE run_id = ? AND key = ?');
    const insert = this.db.prepare('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)');
    for (const p of params) {
      const prior = existing.get(run.id, p.key);
      if (prior) {
        if (prior.value !== p.value) {
          throw invalid(
            `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${prior.value}' for run ID='${run.run_uuid}'. Attempted logging new value '${p.value}'.`,
          );
        }
        continue;
      }
      insert.run(run.id, p.key, p.value);
    }
  }

  private writeTags(runId: number, tags: readonly Tag[]): void {
    for (const t of tags) {
      this.upsertTag(runId, t.key, t.value);
      if (t.key === RUN_NAME_TAG) {
        checkString(t.value, 'run_name', MAX_RUN_NAME_LENGTH);
        this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(t.value, runId);
      } else if (t.key === PARENT_RUN_TAG) {
        const parent = this.db.prepare('SELECT id FROM runs WHERE run_uuid = ?').get(t.value);
        if (parent && this.isAncestorOrSelf(runId, Number(parent.id))) {
          throw invalid(`Cannot set '${PARENT_RUN_TAG}' to '${t.value}': that run is this run or one of its descendants, and a run cannot be its own ancestor.`);
        }
        this.db.prepare('UPDATE runs SET parent_id = ? WHERE id = ?').run(parent ? Number(parent.id) : null, runId);
      }
    }
  }

  /**
   * Whether `runId` is `descendantId` or one of its ancestors. The walk follows parent links with
   * UNION, so it ends even on a database that already holds a cycle.
   */
  private isAncestorOrSelf(runId: number, descendantId: number): boolean {
    return (
      this.db
        .prepare(
          `WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT r.parent_id FROM runs r JOIN up ON r.id = up.id WHERE r.parent_id IS NOT NULL)
           SELECT 1 AS hit FROM up WHERE id = ? LIMIT 1`,
        )
        .get(descendantId, runId) !== undefined
    );
  }

  private upsertTag(runId: number, key: string, value: string): void {
    this.db
      .prepare('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value')
      .run(runId, key, value);
  }

  private keyId(key: string, pending: Map<string, number>): number {
    const known = this.keyIds.get(key) ?? pending.get(key);
    if (known !== undefined) return known;
    this.db.prepare('INSERT INTO metric_keys (key) VALUES (?) ON CONFLICT (key) DO NOTHING').run(key);
    const id = Number(this.db.prepare('SELECT key_id FROM metric_keys WHERE key = ?').get(key)!.key_id);
    // Cached only after the transaction commits: a rolled-back insert must not leave a stale id.
    pending.set(key, id);
    return id;
  }

  private writeMetrics(runId: number, metrics: readonly Metric[], pendingKeys: Map<string, number>): void {
    const keyIds = new Float64Array(metrics.length);
    // Index of the latest point of each key in this batch.
    const latest = new Map<number, number>();
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i]!;
      const keyId = this.keyId(m.key, pendingKeys);
      keyIds[i] = keyId;
      const cur = latest.get(keyId);
      if (cur === undefined || isLaterPoint(m, metrics[cur]!)) latest.set(keyId, i);
    }
    // Points go in with multi-row INSERTs: one statement call per 64 rows instead of per row.
    let i = 0;
    for (const chunk of INSERT_CHUNKS) {
      if (metrics.length - i < chunk) continue;
      const insert = this.db.prepare(insertMetricsSql(chunk));
      const args: SqlValue[] = new Array(chunk * 5);
      for (; metrics.length - i >= chunk; i += chunk) {
        for (let j = 0; j < chunk; j++) {
          const m = metrics[i + j]!;
          const o = j * 5;
          args[o] = runId;
          args[o + 1] = keyIds[i + j]!;
          args[o + 2] = m.step;
          args[o + 3] = m.timestamp;
          args[o + 4] = toSql(m.value);
        }
        insert.run(...args);
      }
    }
    const upsertLatest = this.db.prepare(
      `INSERT INTO latest_metrics (run_id, key_id, step, timestamp, value) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key_id) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, value = excluded.value
       WHERE excluded.step > step OR (excluded.step = step AND (excluded.timestamp > timestamp
         OR (excluded.timestamp = timestamp AND coalesce(excluded.value, -1e308) >= coalesce(value, -1e308))))`,
    );
    for (const [keyId, i] of latest) {
      const m = metrics[i]!;
      upsertLatest.run(runId, keyId, m.step, m.timestamp, toSql(m.value));
    }
    writeRollups(this.db, runId, metrics, keyIds);
  }

  // ---------------------------------------------------------------------------------------------
  // Metric history

  /** Raw points of one metric, ordered by step then logging order, paged. */
  getMetricHistory(runId: string, key: string, options: { maxResults?: number; pageToken?: string } = {}): Page<Metric> {
    const max = options.maxResults ?? MAX_RESULTS_GET_METRIC_HISTORY;
    if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS_GET_METRIC_HISTORY) {
      throw invalid(`Invalid value ${max} for parameter 'max_results' supplied. It must be between 1 and ${MAX_RESULTS_GET_METRIC_HISTORY}.`);
    }
    const run = this.runRow(runId);
    const keyId = this.metricKeyId(key);
    if (keyId === undefined) return { items: [] };
    let after: { step: number; seq: number } | undefined;
    if (options.pageToken) after = decodeHistoryToken(options.pageToken);
    const rows = after
      ? this.db
          .prepare(
            // A row value keeps the page a range of the series' index (the OR of step and rowid
            // made SQLite walk the series from its first point for every page).
            `SELECT rowid AS seq, step, timestamp, value FROM metrics WHERE run_id = ? AND key_id = ?
               AND (step, rowid) > (?, ?) ORDER BY step, rowid LIMIT ?`,
          )
          .all(run.id, keyId, after.step, after.seq, max + 1)
      : this.db
          .prepare('SELECT rowid AS seq, step, timestamp, value FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step, rowid LIMIT ?')
          .all(run.id, keyId, max + 1);
    const page = rows.slice(0, max);
    const items = page.map((r) => ({ key, value: fromSql(r.value ?? null), timestamp: Number(r.timestamp), step: Number(r.step) }));
    if (rows.length <= max) return { items };
    const lastRow = page[page.length - 1]!;
    return { items, nextPageToken: encodeHistoryToken(Number(lastRow.step), Number(lastRow.seq)) };
  }

  /**
   * The points of one metric from the `offset`-th on, in `getMetricHistory`'s order, as columns of
   * at most `chunk` points each (values, and timestamps and steps as decimal text), read as the
   * iteration goes: for writers of text formats, with no object per point.
   */
  metricHistoryColumns(runId: string, key: string, offset = 0, chunk = MAX_RESULTS_GET_METRIC_HISTORY): Iterable<MetricTextColumns> {
    const run = this.runRow(runId);
    const keyId = this.metricKeyId(key);
    return keyId === undefined ? [] : metricTextColumns(this.db, run.id, keyId, offset, chunk);
  }

  /**
   * The points of one metric from the `offset`-th on, in `getMetricHistory`'s order, as MLflow
   * `Metric` JSON written by SQLite (see metricJsonReader); undefined where this SQLite's JSON
   * reals are not exact (read metricHistoryColumns then).
   */
  metricHistoryJson(runId: string, key: string, offset = 0): MetricJsonReader | undefined {
    const run = this.runRow(runId);
    const keyId = this.metricKeyId(key);
    if (keyId === undefined) return jsonRealsExact(this.db) ? { read: () => undefined } : undefined;
    return metricJsonReader(this.db, run.id, keyId, key, offset);
  }

  /**
   * At most `maxPoints` buckets of one metric (two, with `maxPoints` 1, for a series on both sides
   * of step 0: zero is a boundary at every width), each with min, max and last, computed in SQL.
   */
  getMetricBuckets(runId: string, key: string, maxPoints = 1000): MetricBucket[] {
    if (!Number.isInteger(maxPoints) || maxPoints < 1) throw invalid(`max points must be a positive integer, not ${maxPoints}`);
    const run = this.runRow(runId);
    const keyId = this.metricKeyId(key);
    return keyId === undefined ? [] : downsampleMetric(this.db, run.id, keyId, maxPoints);
  }

  /** The id of a metric key some run has logged; undefined for a key never logged. */
  private metricKeyId(key: string): number | undefined {
    const row = this.db.prepare('SELECT key_id FROM metric_keys WHERE key = ?').get(key);
    return row ? Number(row.key_id) : undefined;
  }

  /** Metric keys a run has logged. */
  metricKeys(runId: string): string[] {
    const run = this.runRow(runId);
    return this.db
      .prepare('SELECT k.key FROM latest_metrics lm JOIN metric_keys k USING (key_id) WHERE lm.run_id = ? ORDER BY k.key')
      .all(run.id)
      .map((r) => String(r.key));
  }

  // ---------------------------------------------------------------------------------------------
  // Artifacts

  /** Stores an artifact of a run at `artifactPath` (relative, `/`-separated), replacing any there. */
  /**
   * Stores a run's file. `record` runs the write that records it once the bytes are stored (the
   * endpoint passes one that waits for another process's write lock without blocking).
   */
  async putArtifact(runId: string, artifactPath: string, source: Readable | Buffer | string, maxBytes?: number, record: RecordWrite = (write) => write()): Promise<ArtifactRecord> {
    const rel = checkArtifactPath(artifactPath);
    // Checked before the bytes are stored, so a refused upload leaves no blob behind; and again in
    // the transaction, since another writer may have added a file under `rel/` meanwhile.
    this.checkArtifactTarget(this.activeRunRow(runId), rel);
    const blob = await this.artifacts.put(source, maxBytes);
    return record(() => this.db.transaction(() => {
      const run = this.activeRunRow(runId);
      this.checkArtifactTarget(run, rel);
      this.db
        .prepare(
          `INSERT INTO artifacts (run_id, path, size, sha256, created) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (run_id, path) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, created = excluded.created`,
        )
        .run(run.id, rel, blob.size, blob.sha256, this.now());
      this.touchRun(run.id);
      return { path: rel, size: blob.size, sha256: blob.sha256 };
    }));
  }

  /** A file may not be stored where the run has a folder, nor below one of its files. */
  private checkArtifactTarget(run: RunRow, rel: string): void {
    checkArtifactTarget(this.db, { table: 'artifacts', column: 'run_id', id: run.id, name: `run ${run.run_uuid}` }, rel);
  }

  openArtifact(runId: string, artifactPath: string): OpenedArtifact {
    const rel = checkArtifactPath(artifactPath);
    const run = this.runRow(runId);
    const row = this.db.prepare('SELECT path, size, sha256 FROM artifacts WHERE run_id = ? AND path = ?').get(run.id, rel);
    if (!row) throw notFound(`No artifact '${rel}' in run ${runId}`);
    const record = { path: String(row.path), size: Number(row.size), sha256: String(row.sha256) };
    return { record, ...this.artifacts.open(record.sha256) };
  }

  /** The entries directly under `dir` ('' for the root) of a run's artifacts. */
  listArtifacts(runId: string, dir = ''): ArtifactListEntry[] {
    const rel = dir === '' ? '' : checkArtifactPath(dir, true);
    const run = this.runRow(runId);
    const prefix = rel === '' ? '' : `${rel}/`;
    const rows =
      prefix === ''
        ? this.db.prepare('SELECT path, size FROM artifacts WHERE run_id = ? ORDER BY path').all(run.id)
        : this.db.prepare('SELECT path, size FROM artifacts WHERE run_id = ? AND path >= ? AND path < ? ORDER BY path').all(run.id, prefix, `${rel}0`);
    return directoryListing(rows, prefix);
  }

  // ---------------------------------------------------------------------------------------------
  // Logged models (MLflow 3): see loggedModels.ts

  /** A PENDING model in `experimentId` (default '0'); the source run, if named, must exist. */
  createLoggedModel(options: CreateLoggedModelOptions = {}): LoggedModel {
    const experimentId = parseExperimentId(options.experimentId ?? '0');
    return this.db.transaction(() => {
      if (options.sourceRunId) this.runRow(options.sourceRunId);
      return this.models.create(experimentId, options);
    });
  }

  /** A model by id; a deleted one only with `allowDeleted`. */
  getLoggedModel(modelId: string, options: { allowDeleted?: boolean } = {}): LoggedModel {
    return this.models.get(modelId, options.allowDeleted === true);
  }

  finalizeLoggedModel(modelId: string, status: LoggedModelStatus): LoggedModel {
    return this.models.finalize(modelId, status);
  }

  deleteLoggedModel(modelId: string): void {
    this.models.delete(modelId);
  }

  setLoggedModelTags(modelId: string, tags: readonly Tag[]): void {
    this.models.setTags(modelId, tags);
  }

  deleteLoggedModelTag(modelId: string, key: string): void {
    this.models.deleteTag(modelId, key);
  }

  logLoggedModelParams(modelId: string, params: readonly Param[]): void {
    this.models.logParams(modelId, params);
  }

  searchLoggedModels(search: LoggedModelSearch): Page<LoggedModel> {
    return this.models.search(search);
  }

  /** runs/outputs: records that the run produced these models (at these steps). */
  logOutputs(runId: string, outputs: readonly LoggedModelOutput[]): void {
    for (const o of outputs) {
      if (!Number.isSafeInteger(o.step)) throw invalid(`Invalid step ${JSON.stringify(o.step)} for model output '${o.modelId}': expected an integer.`);
    }
    this.db.transaction(() => {
      const run = this.activeRunRow(runId);
      this.models.linkOutputs(run, outputs);
      if (outputs.length > 0) this.touchRun(run.id);
    });
  }

  /** Stores a file of a model at `artifactPath` under its artifact root, replacing any there. */
  async putLoggedModelArtifact(modelId: string, artifactPath: string, source: Readable | Buffer | string, maxBytes?: number, record: RecordWrite = (write) => write()): Promise<ArtifactRecord> {
    const rel = checkArtifactPath(artifactPath);
    this.models.checkArtifactTarget(this.models.row(modelId), rel);
    const blob = await this.artifacts.put(source, maxBytes);
    return record(() => this.models.recordArtifact(modelId, rel, blob));
  }

  openLoggedModelArtifact(modelId: string, artifactPath: string): OpenedArtifact {
    return this.models.openArtifact(modelId, checkArtifactPath(artifactPath));
  }

  /** The entries directly under `dir` ('' for the root) of a model's files. */
  listLoggedModelArtifacts(modelId: string, dir = ''): ArtifactListEntry[] {
    const rel = dir === '' ? '' : checkArtifactPath(dir, true);
    return directoryListing(this.models.artifactRows(modelId, rel), rel === '' ? '' : `${rel}/`);
  }

  // ---------------------------------------------------------------------------------------------
  // The model registry: see modelRegistry.ts

  private registryStore: ModelRegistry | undefined;

  /** Registered models, their versions, tags, stages and aliases. */
  get registry(): ModelRegistry {
    return (this.registryStore ??= new ModelRegistry(this.db, this.now, this.artifacts));
  }

  /**
   * Registers the model file or folder at `modelPath` (absolute) as a new version of `name` (created
   * when missing): its files and the card are copied into the artifact store first, then the
   * version is numbered and recorded in one transaction, and `alias` moved to it.
   */
  async registerModelFiles(name: string, modelPath: string, options: RegisterModelOptions = {}): Promise<ModelVersion> {
    checkRegisteredModelName(name);
    if (options.runId) this.runRow(options.runId);
    if (options.alias !== undefined) checkAlias(options.alias);
    // The tracker's own folder (its database, its stored copies) is no model, nor any folder that holds it.
    const own = runwiseDir(this.workspace);
    const given = path.resolve(modelPath);
    if (given === own || given.startsWith(`${own}${path.sep}`) || own.startsWith(`${given}${path.sep}`)) {
      throw invalid(`Model path '${options.source ?? modelPath}' is or holds Runwise's own folder (.runwise): register the model's file, or a folder of its own.`);
    }
    // Every file registered is the workspace's: a folder on the way that is a link to elsewhere
    // (`weights -> ~/.ssh`) would copy outside files into a version that is served and pushed.
    // Nor Runwise's own folder reached through a link (`rw -> .runwise`).
    const realRoot = realRootOf(this.workspace);
    const realOwn = realRootOf(own);
    // The real path checked is the one read, opened without following a link: a file swapped for a
    // link to elsewhere after the check is refused, not copied into a version kept for good.
    const checkInside = (abs: string, what: string): string => {
      const real = realpathSync(abs);
      if (relativeInside(realRoot, real) === undefined) throw invalid(`${what} is reached through a symbolic link to a place outside the workspace; register files inside it.`);
      if (relativeInside(realOwn, real) !== undefined) throw invalid(`${what} is reached through a symbolic link into Runwise's own folder (.runwise): register the model's own files.`);
      return real;
    };
    const readChecked = (real: string, rel: string) => {
      try {
        return createReadStream('', { fd: openSync(real, READ_NO_FOLLOW) });
      } catch (e) {
        throw invalid(`Model file '${rel}' changed while it was registered (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}): nothing was registered.`);
      }
    };
    const onDisk = modelFilesOnDisk(modelPath, options.source ?? modelPath, this.workspace).map((f) => ({ ...f, real: checkInside(f.abs, `Model file '${f.rel}'`) }));
    let cardFile: { abs: string; rel: string; real: string } | undefined;
    if (options.cardPath !== undefined) {
      const [c] = modelFilesOnDisk(options.cardPath);
      if (!c || c.abs !== options.cardPath) throw invalid(`Model card '${options.cardPath}' must be a file.`);
      cardFile = { ...c, real: checkInside(c.abs, `Model card '${c.rel}'`) };
    }
    const files: ArtifactRecord[] = [];
    for (const f of onDisk) files.push({ path: f.rel, ...(await this.artifacts.put(readChecked(f.real, f.rel))) });
    let card: ModelCardRecord | undefined;
    if (cardFile) card = { path: cardFile.rel, ...(await this.artifacts.put(readChecked(cardFile.real, cardFile.rel))) };
    const version = this.registry.createModelVersion({
      name,
      source: options.source ?? modelPath,
      files,
      createModel: true,
      ...(options.runId ? { runId: options.runId } : {}),
      ...(options.description ? { description: options.description } : {}),
      ...(options.userId ? { userId: options.userId } : {}),
      ...(card ? { card } : {}),
    });
    if (options.alias === undefined) return version;
    this.registry.setAlias(name, options.alias, version.version, options.userId ?? '');
    return this.registry.getModelVersion(name, version.version);
  }

  /**
   * MLflow's CreateModelVersion: the files at `source` (`runs:/<run_id>/<path>`, `models:/m-<id>`,
   * `models:/<name>/<version>`, or the `mlflow-artifacts:/` URI of a run's or a logged model's
   * files), or of the logged model `modelId`, become the new version's own copy. As MLflow's
   * server, a version of a logged model is added to the model's
   * `mlflow.modelVersions` tag (a JSON list of `{"name", "version"}` as json.dumps writes it).
   */
  createModelVersionFromSource(v: Omit<NewModelVersion, 'files' | 'createModel'>): ModelVersion {
    refusePrompt(v.tags ?? []);
    const found = this.modelSourceFiles(v.source, v.modelId);
    // A version whose bytes are already gone from the store could never be downloaded: refused now.
    const gone = found.files.find((f) => !this.artifacts.has(f.sha256));
    if (gone) {
      throw new TrackerError('INVALID_STATE', `Model version source '${v.source}': the stored file of its '${gone.path}' (sha256 ${gone.sha256}) is gone from .runwise/; nothing was registered.`);
    }
    // As MLflow's store: a version from `models:/m-<id>` or with a model_id takes the logged model's
    // source run when none is given; any other source keeps the run_id the request gave (none: none).
    const runId = v.runId || found.loggedModelRunId;
    return this.db.transaction(() => {
      const version = this.registry.createModelVersion({ ...v, files: found.files, ...(runId ? { runId } : {}) });
      if (v.modelId) this.addModelVersionsTag(v.modelId, version);
      return version;
    });
  }

  /** MLflow's `set_model_versions_tags`: the version appended to the logged model's list unless it is there. */
  private addModelVersionsTag(modelId: string, version: ModelVersion): void {
    const entry = { name: version.name, version: Number(version.version) };
    const existing = this.models.get(modelId, true).tags.find((t) => t.key === MODEL_VERSIONS_TAG)?.value;
    let list: unknown[] = [entry];
    if (existing) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(existing);
      } catch {
        parsed = undefined;
      }
      // A value that is not a JSON list (set by hand) is left as it is, where MLflow's server would fail the request.
      if (!Array.isArray(parsed)) return;
      const same = (e: unknown) => typeof e === 'object' && e !== null && Object.keys(e).length === 2 && (e as Record<string, unknown>).name === entry.name && (e as Record<string, unknown>).version === entry.version;
      if (parsed.some(same)) return;
      list = [...parsed, entry];
    }
    let value: string;
    try {
      value = pythonJsonDumps(list);
    } catch {
      return; // a hand-set list holding what JSON cannot carry back (1e400): left as it is
    }
    // A list past what a tag holds is left as it was: the version is registered all the same.
    if (value.length > MAX_LOGGED_MODEL_TAG_VAL_LENGTH) return;
    this.models.setTags(modelId, [{ key: MODEL_VERSIONS_TAG, value }]);
  }

  private modelSourceFiles(source: string, modelId: string | undefined): { files: ArtifactRecord[]; loggedModelRunId?: string } {
    const unknown = () =>
      invalid(
        `Invalid model version source: '${source}'. Runwise registers models whose files are in this tracker: runs:/<run_id>/<path>, ` +
          'models:/<model_id>, models:/<name>/<version>, or the mlflow-artifacts:/ URI of a run\'s or a logged model\'s files.',
      );
    // The files under a folder, or the one file the path names (`runs:/<run>/model.onnx`: a
    // version of that file alone, as MLflow's store takes any source).
    const under = (rows: SqlRow[], dir: string): ArtifactRecord[] => {
      const prefix = dir === '' ? '' : `${dir}/`;
      const record = (r: SqlRow, at: number) => ({ path: String(r.path).slice(at), size: Number(r.size), sha256: String(r.sha256) });
      const inside = rows.filter((r) => dir === '' || String(r.path).startsWith(prefix)).map((r) => record(r, prefix.length));
      const file = dir === '' || inside.length > 0 ? undefined : rows.find((r) => String(r.path) === dir);
      return file ? [record(file, dir.lastIndexOf('/') + 1)] : inside;
    };
    const loggedModelFiles = (id: string, dir: string) => {
      const model = this.models.get(id);
      const rows = this.db.prepare('SELECT path, size, sha256 FROM logged_model_artifacts WHERE model_id = (SELECT id FROM logged_models WHERE model_id = ?) ORDER BY path').all(id);
      return { files: under(rows, dir), ...(model.sourceRunId ? { loggedModelRunId: model.sourceRunId } : {}) };
    };
    const runFiles = (runId: string, dir: string) => {
      const run = this.runRow(runId);
      return { files: under(this.db.prepare('SELECT path, size, sha256 FROM artifacts WHERE run_id = ? ORDER BY path').all(run.id), dir) };
    };
    const cleanDir = (p: string) => {
      const trimmed = p.replace(/^\/+|\/+$/g, '');
      return trimmed === '' ? '' : checkArtifactPath(trimmed);
    };
    if (modelId) {
      // The files are the logged model's; the source must name that model (MLflow's server refuses a
      // local path outside its artifacts), or the version would claim a provenance it has not.
      const model = this.models.get(modelId);
      if (source === `models:/${modelId}` || source === `models:/${modelId}/`) return loggedModelFiles(modelId, '');
      const artifacts = /^mlflow-artifacts:\/{1,3}(\d+)\/models\/(m-[0-9a-f]{32})\/artifacts(?:\/(.*))?$/.exec(source);
      if (artifacts && artifacts[2] === modelId && artifacts[1] === model.experimentId) return loggedModelFiles(modelId, cleanDir(artifacts[3] ?? ''));
      // runs:/<its source run>/<its name>, as MLflow 3's register_model("runs:/<run>/<name>") finds
      // the logged model by its name: another path names other files of the run.
      const fromRun = /^runs:\/([0-9a-f]{32})(?:\/(.*))?$/.exec(source);
      const named = (fromRun?.[2] ?? '').replace(/^\/+|\/+$/g, '');
      if (fromRun && fromRun[1] === model.sourceRunId && (named === '' || named === model.name)) return loggedModelFiles(modelId, '');
      // MLflow 3's copy_model_version: `models:/<name>/<version>` of a version of that same model,
      // whose own copy becomes the new version's (the same bytes, the same provenance).
      const copiedFrom = /^models:\/([^/]+)\/(\d+)\/?$/.exec(source);
      if (copiedFrom) {
        const copied = this.registry.getModelVersion(copiedFrom[1]!, copiedFrom[2]!);
        if (copied.modelId === modelId) return { files: this.registry.verifyVersion(copied.name, copied.version), ...(model.sourceRunId ? { loggedModelRunId: model.sourceRunId } : {}) };
      }
      throw invalid(
        `Invalid model version source: '${source}' with model_id '${modelId}': the source must name that logged model ` +
          `(models:/${modelId}, its mlflow-artifacts:/ URI, runs:/<its source run>/<its name>, or models:/<name>/<version> of a version of it).`,
      );
    }
    let m = /^runs:\/([0-9a-f]{32})(?:\/(.*))?$/.exec(source);
    if (m) return runFiles(m[1]!, cleanDir(m[2] ?? ''));
    m = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(source);
    if (m) return loggedModelFiles(m[1]!, '');
    m = /^models:\/([^/]+)\/(\d+)\/?$/.exec(source);
    if (m) {
      const copied = this.registry.getModelVersion(m[1]!, m[2]!);
      return { files: this.registry.verifyVersion(copied.name, copied.version) };
    }
    m = /^mlflow-artifacts:\/{1,3}(\d+)\/models\/(m-[0-9a-f]{32})\/artifacts(?:\/(.*))?$/.exec(source);
    if (m) {
      const found = loggedModelFiles(m[2]!, cleanDir(m[3] ?? ''));
      if (this.models.get(m[2]!).experimentId !== m[1]) throw unknown();
      // MLflow's store takes the logged model's source run from a models:/ source or a model_id only.
      return { files: found.files };
    }
    m = /^mlflow-artifacts:\/{1,3}(\d+)\/([0-9a-f]{32})\/artifacts(?:\/(.*))?$/.exec(source);
    if (m) {
      const found = runFiles(m[2]!, cleanDir(m[3] ?? ''));
      if (this.getRunInfo(m[2]!).experimentId !== m[1]) throw unknown();
      return found;
    }
    throw unknown();
  }

  /** Where MLflow's client downloads a version from: its own immutable copy, through the artifact proxy (its files re-hashed first, without blocking). */
  async modelVersionDownloadUri(name: string, version: string | number): Promise<string> {
    await this.registry.verifyVersionAsync(name, version);
    return `${MODEL_VERSION_ARTIFACT_ROOT}/${this.registry.versionLocation(name, version)}`;
  }

  /** A file of a version for reading, its bytes re-hashed first (ModelTamperedError when they changed). */
  openModelVersionFile(name: string, version: string | number, filePath: string): VerifiedArtifact {
    const opened = this.modelVersionFile(name, version, filePath);
    let verified: VerifiedFile;
    try {
      verified = openVerifiedSync(opened.filePath);
    } catch (e) {
      throw unreadableCopy({ name, version: String(version) }, opened.record, e);
    }
    return this.checkedVersionFile(name, version, opened, verified);
  }

  /** The verified open of a version's file, refused (closed) when its bytes are not the recorded ones. */
  private checkedVersionFile(name: string, version: string | number, opened: OpenedArtifact, verified: VerifiedFile): VerifiedArtifact {
    if (verified.sha256 !== opened.record.sha256) {
      verified.close();
      throw new ModelTamperedError(name, String(version), opened.record.path, opened.record.sha256, verified.sha256);
    }
    return { ...opened, verified, stream: () => verified.stream() };
  }

  /**
   * The card stored with a version (its bytes re-hashed: a changed copy is a ModelTamperedError), or
   * undefined when it was registered without one.
   */
  openModelVersionCard(name: string, version: string | number): { path: string; filePath: string; verified: VerifiedFile } | undefined {
    const card = this.registry.getModelVersion(name, String(version)).card;
    if (!card) return undefined;
    const { filePath } = this.artifacts.open(card.sha256);
    let verified: VerifiedFile;
    try {
      verified = openVerifiedSync(filePath);
    } catch (e) {
      throw new TrackerError('INVALID_STATE', `The card stored with ${name}/${version} (${card.path}, sha256 ${card.sha256}) cannot be read: ${storeReadFailure(e)}`);
    }
    if (verified.sha256 !== card.sha256) {
      verified.close();
      throw new ModelTamperedError(name, String(version), card.path, card.sha256, verified.sha256);
    }
    return { path: card.path, filePath, verified };
  }

  /** openModelVersionFile for a server: the bytes re-hashed a chunk at a time, without blocking. */
  async openModelVersionFileAsync(name: string, version: string | number, filePath: string): Promise<VerifiedArtifact> {
    const opened = this.modelVersionFile(name, version, filePath);
    let verified: VerifiedFile;
    try {
      verified = await openVerified(opened.filePath);
    } catch (e) {
      throw unreadableCopy({ name, version: String(version) }, opened.record, e);
    }
    return this.checkedVersionFile(name, version, opened, verified);
  }

  private modelVersionFile(name: string, version: string | number, filePath: string): OpenedArtifact {
    const rel = checkArtifactPath(filePath);
    const record = this.registry.versionFiles(name, version).find((f) => f.path === rel);
    if (!record) throw notFound(`No file '${rel}' in model version ${name}/${version}`);
    return { record, ...this.artifacts.open(record.sha256) };
  }

  /** The entries directly under `dir` ('' for the root) of a version's files. */
  listModelVersionFiles(name: string, version: string | number, dir = ''): ArtifactListEntry[] {
    const rel = dir === '' ? '' : checkArtifactPath(dir, true);
    const prefix = rel === '' ? '' : `${rel}/`;
    const rows = this.registry.versionFiles(name, version).filter((f) => f.path.startsWith(prefix)) as unknown as SqlRow[];
    return directoryListing(rows, prefix);
  }

  /** Where a version came from (datasets, pipeline and stage runs), its evaluations and aliases. */
  modelLineage(name: string, version: string | number): ModelLineage {
    return modelLineage(this, this.registry, name, version);
  }

  // ---------------------------------------------------------------------------------------------
  // Change tracking: a viewer (the Runs view) reads back only what was written since it last looked

  /** The tracker's current change number; anything written later gets a higher one. */
  changeMarker(): number {
    return Number(this.db.prepare('SELECT seq FROM change_counter WHERE id = 0').get()?.seq ?? 0);
  }

  /**
   * Runs and experiments written after `marker` (a `marker` from an earlier call, or
   * `changeMarker()`), deleted ones included so a viewer can drop them, and the marker to pass next
   * time. Without a marker: every active run and experiment, for a first load. A write that lands
   * while this reads is returned now or next time, never lost (it may come twice).
   */
  changesSince(marker?: number): TrackerChanges {
    // The counter is read first: rows changed after this point carry a higher number.
    const next = this.changeMarker();
    const runRows =
      marker === undefined
        ? this.db.prepare("SELECT id FROM runs WHERE lifecycle_stage = 'active' ORDER BY id").all()
        : this.db.prepare('SELECT id FROM runs WHERE change_seq > ? ORDER BY id').all(marker);
    const experimentRows =
      marker === undefined
        ? this.db.prepare("SELECT * FROM experiments WHERE lifecycle_stage = 'active' ORDER BY experiment_id").all()
        : this.db.prepare('SELECT * FROM experiments WHERE change_seq > ? ORDER BY experiment_id').all(marker);
    return {
      marker: next,
      full: marker === undefined,
      experiments: experimentRows.map((r) => this.experimentFromRow(r)),
      runs: this.runsByIds(runRows.map((r) => Number(r.id))),
    };
  }

  /** Gives a run the next change number; called inside the write transaction that changed it. */
  private touchRun(id: number): void {
    this.db.prepare('UPDATE runs SET change_seq = ? WHERE id = ?').run(this.nextChange(), id);
  }

  private touchExperiment(id: number): void {
    this.db.prepare('UPDATE experiments SET change_seq = ? WHERE experiment_id = ?').run(this.nextChange(), id);
  }

  private nextChange(): number {
    return Number(this.db.prepare('UPDATE change_counter SET seq = seq + 1 WHERE id = 0 RETURNING seq').get()!.seq);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading runs

  private runRow(runId: string): RunRow {
    if (typeof runId !== 'string' || runId === '') throw invalid("Missing value for required parameter 'run_id'.");
    const row = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.run_uuid = ?`).get(runId);
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return row as unknown as RunRow;
  }

  private activeRunRow(runId: string): RunRow {
    const row = this.runRow(runId);
    if (row.lifecycle_stage !== 'active') {
      throw invalid(`The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    }
    return row;
  }

  private runById(id: number): Run {
    return this.runsByIds([id])[0]!;
  }

  /**
   * Hydrates runs in the order given, with one query per table for the whole page. Params, tags and
   * latest metrics come back as one JSON array per run, aggregated in SQLite: materialising a row
   * object per value costs several times more than parsing one string per run.
   */
  private runsByIds(ids: readonly number[]): Run[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const inList = 'IN (SELECT value FROM json_each(?))';
    const perRun = (table: string, columns: string) =>
      this.db.prepare(`SELECT run_id, json_group_array(json_array(${columns})) AS j FROM ${table} WHERE run_id ${inList} GROUP BY run_id`).all(list);
    const runs = new Map<number, Run>();
    for (const row of this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.id ${inList}`).all(list)) {
      runs.set(Number(row.id), { info: infoFromRow(row as unknown as RunRow), metrics: [], params: [], tags: [], inputs: [] });
    }
    // Rows of one run come in primary-key order, (run_id, key): already sorted by key.
    for (const r of perRun('params', 'key, value')) {
      const run = runs.get(Number(r.run_id));
      if (run) run.params = (JSON.parse(String(r.j)) as [string, string][]).map(([key, value]) => ({ key, value }));
    }
    for (const r of perRun('tags', 'key, value')) {
      const run = runs.get(Number(r.run_id));
      if (run) run.tags = (JSON.parse(String(r.j)) as [string, string][]).map(([key, value]) => ({ key, value }));
    }
    for (const r of perRun('latest_metrics', 'key_id, value, timestamp, step')) {
      const run = runs.get(Number(r.run_id));
      if (!run) continue;
      run.metrics = (JSON.parse(String(r.j)) as [number, number | null, number, number][])
        .map(([keyId, value, timestamp, step]) => ({ key: this.keyName(keyId), value: value ?? NaN, timestamp, step }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    for (const r of this.db
      .prepare(
        `SELECT ri.run_id, ri.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
           FROM run_inputs ri JOIN datasets d USING (dataset_id) WHERE ri.run_id ${inList} ORDER BY d.name, d.digest`,
      )
      .all(list)) {
      const dataset: Dataset = { name: String(r.name), digest: String(r.digest), sourceType: String(r.source_type), source: String(r.source) };
      if (r.schema != null) dataset.schema = String(r.schema);
      if (r.profile != null) dataset.profile = String(r.profile);
      const tags = Object.entries(JSON.parse(String(r.tags)) as Record<string, string>).map(([key, value]) => ({ key, value }));
      runs.get(Number(r.run_id))?.inputs.push({ dataset, tags });
    }
    for (const [id, links] of this.models.linksOfRuns(ids)) {
      const run = runs.get(id);
      if (!run) continue;
      if (links.inputs.length > 0) run.modelInputs = links.inputs;
      if (links.outputs.length > 0) run.modelOutputs = links.outputs;
    }
    return ids.map((id) => runs.get(id)).filter((r): r is Run => r !== undefined);
  }

  /** A metric key's name by its id; keys are never renamed or removed, so the cache stays true. */
  private keyName(keyId: number): string {
    let name = this.keyNames.get(keyId);
    if (name === undefined) {
      for (const r of this.db.prepare('SELECT key_id, key FROM metric_keys').all()) this.keyNames.set(Number(r.key_id), String(r.key));
      name = this.keyNames.get(keyId);
      if (name === undefined) throw new Error(`metric key id ${keyId} is not in metric_keys`);
    }
    return name;
  }
}

function infoFromRow(row: RunRow): RunInfo {
  return {
    runId: row.run_uuid,
    runName: row.name,
    experimentId: String(row.experiment_id),
    userId: row.user_id,
    status: row.status,
    startTime: Number(row.start_time),
    endTime: row.end_time == null ? null : Number(row.end_time),
    artifactUri: row.artifact_uri,
    lifecycleStage: row.lifecycle_stage,
    parentRunId: row.parent_uuid ?? null,
  };
}

/** The entries directly under `prefix` ('' or `dir/`) of artifact rows sorted by path: files and first-level directories. */
function directoryListing(rows: readonly SqlRow[], prefix: string): ArtifactListEntry[] {
  const out: ArtifactListEntry[] = [];
  const dirs = new Set<string>();
  for (const r of rows) {
    const rest = String(r.path).slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash === -1) out.push({ path: prefix + rest, isDir: false, fileSize: Number(r.size) });
    else {
      const d = prefix + rest.slice(0, slash);
      if (!dirs.has(d)) {
        dirs.add(d);
        out.push({ path: d, isDir: true });
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isLaterPoint(a: MetricPoint, b: MetricPoint): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  const av = Number.isNaN(a.value) ? -Infinity : a.value;
  const bv = Number.isNaN(b.value) ? -Infinity : b.value;
  return av >= bv;
}

function parseExperimentId(id: string): number {
  if (typeof id !== 'string' || !/^\d{1,15}$/.test(id)) throw invalid(`Invalid experiment id: '${id}'. Experiment ids are non-negative integers.`);
  return Number(id);
}

/** An experiment name given as `param` (`name`, `new_name`): a non-blank string within MLflow's length limit. */
function checkExperimentName(name: string, param: string): string {
  const checked = checkString(name, param, MAX_EXPERIMENT_NAME_LENGTH);
  if (checked.trim() === '') throw invalid(`Invalid experiment name: '${checked}'. An experiment name must be a non-empty string.`);
  return checked;
}

function checkStatus(status: string): asserts status is RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(status)) {
    throw invalid(`Invalid run status '${status}'; expected one of ${RUN_STATUSES.join(', ')}`);
  }
}

function checkString(value: unknown, name: string, maxLength: number, allowEmpty = false): string {
  if (typeof value !== 'string') throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${name}' supplied: expected a string.`);
  if (!allowEmpty && value === '') throw invalid(`Missing value for required parameter '${name}'.`);
  if (value.length > maxLength) {
    throw invalid(`'${name}' exceeds the maximum length of ${maxLength} characters (got ${value.length}).`);
  }
  return value;
}

/** A run or experiment tag: a key MLflow accepts, a value within the limit. */
function checkTag(t: Tag): void {
  checkString(t.key, 'key', MAX_ENTITY_KEY_LENGTH);
  checkEntityName('tag', t.key);
  checkString(t.value, 'value', MAX_TAG_VAL_LENGTH, true);
}

function checkMetric(m: Metric): void {
  checkString(m.key, 'key', MAX_ENTITY_KEY_LENGTH);
  checkEntityName('metric', m.key);
  if (typeof m.value !== 'number') throw invalid(`Got invalid value ${JSON.stringify(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`);
  if (!Number.isSafeInteger(m.timestamp)) throw invalid(`Got invalid timestamp ${JSON.stringify(m.timestamp)} for metric '${m.key}' (value=${m.value}). Timestamp must be an integer (ms since the epoch).`);
  if (!Number.isSafeInteger(m.step)) throw invalid(`Got invalid step ${JSON.stringify(m.step)} for metric '${m.key}' (value=${m.value}). Step must be an integer.`);
}

function checkDataset(d: Dataset): void {
  checkString(d.name, 'dataset.name', MAX_DATASET_NAME_LENGTH);
  checkString(d.digest, 'dataset.digest', MAX_DATASET_DIGEST_LENGTH);
  checkString(d.sourceType, 'dataset.source_type', MAX_DATASET_SOURCE_LENGTH, true);
  checkString(d.source, 'dataset.source', MAX_DATASET_SOURCE_LENGTH, true);
  if (d.schema !== undefined) checkString(d.schema, 'dataset.schema', MAX_DATASET_SCHEMA_LENGTH, true);
  if (d.profile !== undefined) checkString(d.profile, 'dataset.profile', MAX_DATASET_PROFILE_LENGTH, true);
}

function checkArtifactPath(p: string, allowRoot = false): string {
  try {
    return normalizeRelativePath(p, { allowRoot });
  } catch (e) {
    if (e instanceof PathOutsideWorkspaceError) throw invalid(`Invalid artifact path: ${e.message}`);
    throw e;
  }
}

function encodeHistoryToken(step: number, seq: number): string {
  return Buffer.from(JSON.stringify({ s: step, q: seq })).toString('base64url');
}

function decodeHistoryToken(token: string): { step: number; seq: number } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s: unknown; q: unknown };
    if (Number.isSafeInteger(v.s) && Number.isSafeInteger(v.q)) return { step: v.s as number, seq: v.q as number };
  } catch {
    /* fall through */
  }
  throw invalid(`Invalid page token: '${token}'`);
}
