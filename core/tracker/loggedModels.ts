/**
 * MLflow 3's logged models over the tracker's database (schema migration 4): a model is created
 * PENDING by `mlflow.<flavor>.log_model`, its files are uploaded under its own artifact root, then
 * it is finalized READY (or UPLOAD_FAILED). It carries tags, immutable params and the metric points
 * logged with its id; runs/outputs ties the run that produced it to it.
 *
 * Semantics follow MLflow's SqlAlchemyStore (mlflow/store/tracking/sqlalchemy_store.py): ids
 * `m-<32 hex>`, a random readable name when none is given, soft delete, `get` not seeing deleted
 * models, last_updated_timestamp moved by finalize and delete. Every write is one transaction; the
 * caller (Tracker) owns the database and runs these inside its own transactions where needed.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ArtifactStore } from './artifactStore';
import { checkArtifactTarget } from './artifactTarget';
import { MAX_ENTITY_KEY_LENGTH, MAX_LOGGED_MODEL_TAG_VAL_LENGTH, MAX_PARAM_VAL_LENGTH } from './limits';
import { checkEntityName } from './entityNames';
import { fromSql, toSql } from './metricHistory';
import type {
  ArtifactRecord,
  CreateLoggedModelOptions,
  LoggedModel,
  LoggedModelInput,
  LoggedModelMetric,
  LoggedModelOutput,
  LoggedModelSearch,
  LoggedModelStatus,
  Metric,
  Page,
  Param,
  Tag,
} from './model';
import { LOGGED_MODEL_STATUSES } from './model';
import { generateRunName } from './runNames';
import { compileLoggedModelSearch } from './search/loggedModelSearchSql';
import type { SqlDatabase, SqlRow } from './sqlStore';
import { invalid, notFound } from './trackerError';

/** MLflow's longest model name (the `name` column of `logged_models`). */
export const MAX_LOGGED_MODEL_NAME_LENGTH = 500;
/** Characters MLflow refuses in a model name (`_validate_logged_model_name`). */
const BAD_NAME_CHARS = ['/', ':', '.', '%', '"', "'"] as const;

/** The row of a model the store works on. */
export interface LoggedModelRow {
  id: number;
  model_id: string;
  experiment_id: number;
  lifecycle_stage: 'active' | 'deleted';
}

/** What the store needs of the run it links a model to (the Tracker's RunRow). */
export interface RunRef {
  id: number;
  run_uuid: string;
  experiment_id: number;
}

export interface OpenedModelArtifact {
  record: ArtifactRecord;
  filePath: string;
  stream(): Readable;
}

export function loggedModelArtifactUri(experimentId: number | string, modelId: string): string {
  return `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`;
}

export function newLoggedModelId(): string {
  return `m-${randomUUID().replace(/-/g, '')}`;
}

export class LoggedModelStore {
  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number,
    private readonly artifacts: ArtifactStore,
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Models

  /** A PENDING model in an active experiment. Call inside a transaction. */
  create(experimentId: number, options: CreateLoggedModelOptions): LoggedModel {
    const name = options.name === undefined || options.name === '' ? generateRunName() : checkModelName(options.name);
    const tags = checkKeyValues(options.tags ?? [], 'tags', MAX_LOGGED_MODEL_TAG_VAL_LENGTH);
    const params = checkKeyValues(options.params ?? [], 'params', MAX_PARAM_VAL_LENGTH);
    const exp = this.db.prepare('SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?').get(experimentId);
    if (!exp) throw notFound(`No Experiment with id=${experimentId} exists`);
    if (exp.lifecycle_stage !== 'active') {
      throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
    }
    const modelId = newLoggedModelId();
    const t = this.now();
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms,
             status, model_type, source_run_id) VALUES (?, ?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', ?, ?)`,
        )
        .run(modelId, experimentId, name, loggedModelArtifactUri(experimentId, modelId), t, t, options.modelType || null, options.sourceRunId || null)
        .lastInsertRowid,
    );
    this.writeParams(id, modelId, params);
    for (const tag of tags) this.upsertTag(id, tag);
    return this.byIds([id])[0]!;
  }

  get(modelId: string, allowDeleted = false): LoggedModel {
    return this.byIds([this.row(modelId, allowDeleted).id])[0]!;
  }

  /** The model's row; deleted ones only when `allowDeleted`. */
  row(modelId: string, allowDeleted = false): LoggedModelRow {
    if (typeof modelId !== 'string' || modelId === '') throw invalid("Missing value for required parameter 'model_id'.");
    const row = this.db.prepare('SELECT id, model_id, experiment_id, lifecycle_stage FROM logged_models WHERE model_id = ?').get(modelId);
    if (!row || (!allowDeleted && row.lifecycle_stage !== 'active')) throw notFound(`Logged model with ID '${modelId}' not found.`);
    return row as unknown as LoggedModelRow;
  }

  /** Sets the model's status (READY or UPLOAD_FAILED once its files are in, as the client does). */
  finalize(modelId: string, status: LoggedModelStatus): LoggedModel {
    if (!(LOGGED_MODEL_STATUSES as readonly string[]).includes(status) || status === 'LOGGED_MODEL_STATUS_UNSPECIFIED') {
      throw invalid(`Invalid model status '${String(status)}': expected LOGGED_MODEL_READY, LOGGED_MODEL_UPLOAD_FAILED or LOGGED_MODEL_PENDING.`);
    }
    return this.db.transaction(() => {
      const row = this.row(modelId, true);
      this.db.prepare('UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE id = ?').run(status, this.now(), row.id);
      return this.byIds([row.id])[0]!;
    });
  }

  /** Soft delete, as MLflow: the model is kept, no longer found by get or search. */
  delete(modelId: string): void {
    this.db.transaction(() => {
      const row = this.row(modelId, true);
      this.db.prepare("UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ? WHERE id = ?").run(this.now(), row.id);
    });
  }

  setTags(modelId: string, tags: readonly Tag[]): void {
    const checked = checkKeyValues(tags, 'tags', MAX_LOGGED_MODEL_TAG_VAL_LENGTH, true);
    this.db.transaction(() => {
      const row = this.row(modelId, true);
      for (const tag of checked) this.upsertTag(row.id, tag);
    });
  }

  deleteTag(modelId: string, key: string): void {
    this.db.transaction(() => {
      const row = this.row(modelId, true);
      const r = this.db.prepare('DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?').run(row.id, key);
      if (r.changes === 0) throw notFound(`No tag with key '${key}' found for model with ID '${modelId}'.`);
    });
  }

  /** Params are immutable, as a run's: the same value again is accepted, another is refused. */
  logParams(modelId: string, params: readonly Param[]): void {
    const checked = checkKeyValues(params, 'params', MAX_PARAM_VAL_LENGTH);
    this.db.transaction(() => {
      const row = this.row(modelId, true);
      this.writeParams(row.id, row.model_id, checked);
    });
  }

  search(search: LoggedModelSearch): Page<LoggedModel> {
    const compiled = compileLoggedModelSearch(search);
    const rows = this.db.prepare(compiled.sql).all(...compiled.params);
    const page = rows.slice(0, compiled.maxResults);
    const items = this.byIds(page.map((r) => Number(r.id)));
    if (rows.length <= compiled.maxResults) return { items };
    return { items, nextPageToken: compiled.pageToken(compiled.offset + compiled.maxResults) };
  }

  // ---------------------------------------------------------------------------------------------
  // Links with runs (called by the Tracker inside its write transactions)

  /**
   * Writes the points of a log-batch that name a model into the model's metrics, once per
   * (model, key, timestamp, step, run) as MLflow's primary key has it: a point logged again
   * replaces the first.
   */
  writeMetrics(run: RunRef, metrics: readonly Metric[]): void {
    const insert = this.db.prepare(
      `INSERT INTO logged_model_metrics (model_id, key, timestamp, step, run_id, value, dataset_name, dataset_digest)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model_id, key, timestamp, step, run_id) DO UPDATE SET value = excluded.value,
         dataset_name = excluded.dataset_name, dataset_digest = excluded.dataset_digest`,
    );
    const ids = new Map<string, number>();
    for (const m of metrics) {
      const modelId = m.modelId!;
      let id = ids.get(modelId);
      if (id === undefined) {
        id = this.row(modelId).id;
        ids.set(modelId, id);
      }
      insert.run(id, m.key, m.timestamp, m.step, run.id, toSql(m.value), m.datasetName || null, m.datasetDigest || null);
    }
  }

  /** runs/outputs: the models the run produced, at a step. */
  linkOutputs(run: RunRef, outputs: readonly LoggedModelOutput[]): void {
    const insert = this.db.prepare("INSERT INTO run_model_links (run_id, direction, model_id, step) VALUES (?, 'output', ?, ?) ON CONFLICT DO NOTHING");
    for (const o of outputs) insert.run(run.id, this.row(o.modelId).id, o.step);
  }

  /** runs/log-inputs' `models`: the models the run used. */
  linkInputs(run: RunRef, inputs: readonly LoggedModelInput[]): void {
    const insert = this.db.prepare("INSERT INTO run_model_links (run_id, direction, model_id, step) VALUES (?, 'input', ?, 0) ON CONFLICT DO NOTHING");
    for (const i of inputs) insert.run(run.id, this.row(i.modelId).id);
  }

  /** The model inputs and outputs of runs, by run row id. */
  linksOfRuns(runIds: readonly number[]): Map<number, { inputs: LoggedModelInput[]; outputs: LoggedModelOutput[] }> {
    const out = new Map<number, { inputs: LoggedModelInput[]; outputs: LoggedModelOutput[] }>();
    if (runIds.length === 0) return out;
    const rows = this.db
      .prepare(
        `SELECT l.run_id, l.direction, l.step, m.model_id FROM run_model_links l JOIN logged_models m ON m.id = l.model_id
          WHERE l.run_id IN (SELECT value FROM json_each(?)) ORDER BY l.run_id, l.direction, l.step, m.model_id`,
      )
      .all(JSON.stringify(runIds));
    for (const r of rows) {
      const runId = Number(r.run_id);
      let links = out.get(runId);
      if (!links) out.set(runId, (links = { inputs: [], outputs: [] }));
      if (r.direction === 'input') links.inputs.push({ modelId: String(r.model_id) });
      else links.outputs.push({ modelId: String(r.model_id), step: Number(r.step) });
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Artifacts, under the model's own root (`<experiment>/models/<model_id>/artifacts/<path>`)

  /** Records a stored blob at `rel` (already checked) of a non-deleted model, replacing any there. */
  recordArtifact(modelId: string, rel: string, blob: { sha256: string; size: number }): ArtifactRecord {
    return this.db.transaction(() => {
      const row = this.row(modelId);
      this.checkArtifactTarget(row, rel);
      this.db
        .prepare(
          `INSERT INTO logged_model_artifacts (model_id, path, size, sha256, created) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (model_id, path) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, created = excluded.created`,
        )
        .run(row.id, rel, blob.size, blob.sha256, this.now());
      return { path: rel, size: blob.size, sha256: blob.sha256 };
    });
  }

  /** A file may not be stored where the model has a folder, nor below one of its files. */
  checkArtifactTarget(row: LoggedModelRow, rel: string): void {
    checkArtifactTarget(this.db, { table: 'logged_model_artifacts', column: 'model_id', id: row.id, name: `logged model ${row.model_id}` }, rel);
  }

  openArtifact(modelId: string, rel: string): OpenedModelArtifact {
    const row = this.row(modelId);
    const found = this.db.prepare('SELECT path, size, sha256 FROM logged_model_artifacts WHERE model_id = ? AND path = ?').get(row.id, rel);
    if (!found) throw notFound(`No artifact '${rel}' in logged model ${modelId}`);
    const record = { path: String(found.path), size: Number(found.size), sha256: String(found.sha256) };
    return { record, ...this.artifacts.open(record.sha256) };
  }

  /** The model's files under `rel` ('' for all), in path order. */
  artifactRows(modelId: string, rel: string): SqlRow[] {
    const row = this.row(modelId);
    if (rel === '') return this.db.prepare('SELECT path, size FROM logged_model_artifacts WHERE model_id = ? ORDER BY path').all(row.id);
    return this.db
      .prepare('SELECT path, size FROM logged_model_artifacts WHERE model_id = ? AND path >= ? AND path < ? ORDER BY path')
      .all(row.id, `${rel}/`, `${rel}0`);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /** Hydrates models in the order given, with one query per table for the whole page. */
  byIds(ids: readonly number[]): LoggedModel[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const inList = 'IN (SELECT value FROM json_each(?))';
    const models = new Map<number, LoggedModel>();
    for (const r of this.db.prepare(`SELECT * FROM logged_models WHERE id ${inList}`).all(list)) {
      const m: LoggedModel = {
        modelId: String(r.model_id),
        experimentId: String(r.experiment_id),
        name: String(r.name),
        artifactUri: String(r.artifact_location),
        creationTimestamp: Number(r.creation_timestamp_ms),
        lastUpdatedTimestamp: Number(r.last_updated_timestamp_ms),
        status: r.status as LoggedModelStatus,
        lifecycleStage: r.lifecycle_stage as LoggedModel['lifecycleStage'],
        tags: [],
        params: [],
        metrics: [],
      };
      if (r.status_message != null) m.statusMessage = String(r.status_message);
      if (r.model_type != null) m.modelType = String(r.model_type);
      if (r.source_run_id != null) m.sourceRunId = String(r.source_run_id);
      models.set(Number(r.id), m);
    }
    for (const r of this.db.prepare(`SELECT model_id, key, value FROM logged_model_tags WHERE model_id ${inList} ORDER BY model_id, key`).all(list)) {
      models.get(Number(r.model_id))?.tags.push({ key: String(r.key), value: String(r.value) });
    }
    for (const r of this.db.prepare(`SELECT model_id, key, value FROM logged_model_params WHERE model_id ${inList} ORDER BY model_id, key`).all(list)) {
      models.get(Number(r.model_id))?.params.push({ key: String(r.key), value: String(r.value) });
    }
    for (const r of this.db
      .prepare(
        `SELECT m.model_id, m.key, m.timestamp, m.step, m.value, m.dataset_name, m.dataset_digest, r.run_uuid
           FROM logged_model_metrics m JOIN runs r ON r.id = m.run_id
          WHERE m.model_id ${inList} ORDER BY m.model_id, m.key, m.step, m.timestamp, r.run_uuid`,
      )
      .all(list)) {
      const model = models.get(Number(r.model_id));
      if (!model) continue;
      const metric: LoggedModelMetric = {
        key: String(r.key),
        value: fromSql(r.value ?? null),
        timestamp: Number(r.timestamp),
        step: Number(r.step),
        modelId: model.modelId,
        runId: String(r.run_uuid),
      };
      if (r.dataset_name != null) metric.datasetName = String(r.dataset_name);
      if (r.dataset_digest != null) metric.datasetDigest = String(r.dataset_digest);
      model.metrics.push(metric);
    }
    return ids.map((id) => models.get(id)).filter((m): m is LoggedModel => m !== undefined);
  }

  // ---------------------------------------------------------------------------------------------

  private upsertTag(id: number, tag: Tag): void {
    this.db
      .prepare('INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value')
      .run(id, tag.key, tag.value);
  }

  private writeParams(id: number, modelId: string, params: readonly Param[]): void {
    const existing = this.db.prepare('SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?');
    const insert = this.db.prepare('INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)');
    for (const p of params) {
      const prior = existing.get(id, p.key);
      if (prior) {
        if (prior.value !== p.value) {
          throw invalid(
            `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${prior.value}' for logged model ID='${modelId}'. Attempted logging new value '${p.value}'.`,
          );
        }
        continue;
      }
      insert.run(id, p.key, p.value);
    }
  }
}

/** MLflow's `_validate_logged_model_name`, and the length of its column. */
export function checkModelName(name: unknown): string {
  if (typeof name !== 'string') throw invalid(`Invalid value ${JSON.stringify(name)} for parameter 'name' supplied: expected a string.`);
  if (name === '' || BAD_NAME_CHARS.some((c) => name.includes(c))) {
    throw invalid(
      `Invalid model name ('${name}') provided. Model name must be a non-empty string and cannot contain the following characters: ${BAD_NAME_CHARS.map((c) => `'${c}'`).join(', ')}`,
    );
  }
  if (name.length > MAX_LOGGED_MODEL_NAME_LENGTH) {
    throw invalid(`'name' exceeds the maximum length of ${MAX_LOGGED_MODEL_NAME_LENGTH} characters (got ${name.length}).`);
  }
  return name;
}

/**
 * Keys and values of tags or params: keys non-empty and at most 250 characters, values within the
 * limit. Without `lastWins`, a key twice with two values is refused (MLflow's primary key refuses
 * it); with it (tags set again), the last value counts.
 */
function checkKeyValues<T extends { key: string; value: string }>(items: readonly T[], what: string, maxValue: number, lastWins = false): T[] {
  const seen = new Map<string, string>();
  for (const item of items) {
    if (typeof item.key !== 'string' || item.key === '') throw invalid(`Missing value for required parameter '${what}.key'.`);
    if (item.key.length > MAX_ENTITY_KEY_LENGTH) {
      throw invalid(`'${what}.key' exceeds the maximum length of ${MAX_ENTITY_KEY_LENGTH} characters (got ${item.key.length}).`);
    }
    checkEntityName(what === 'params' ? 'parameter' : 'tag', item.key);
    if (typeof item.value !== 'string') throw invalid(`Invalid value for ${what} '${item.key}': expected a string.`);
    if (item.value.length > maxValue) {
      throw invalid(`The value of ${what} '${item.key}' exceeds the maximum length of ${maxValue} characters (got ${item.value.length}).`);
    }
    const prior = seen.get(item.key);
    if (!lastWins && prior !== undefined && prior !== item.value) {
      throw invalid(`Duplicate ${what} keys have been submitted: ['${item.key}']. Please ensure the request contains only one value per key.`);
    }
    seen.set(item.key, item.value);
  }
  return [...items];
}
