/**
 * The model registry over the tracker's database (schema migration 5), with MLflow's Model Registry
 * semantics (mlflow/store/model_registry/sqlalchemy_store.py) and Runwise's guarantees:
 *
 * - A registered model has a unique name, a description, tags and aliases. Its versions are numbered
 *   1, 2, … per model; the number is allocated inside the write transaction (`BEGIN IMMEDIATE`), so
 *   two processes registering the same name at once get different numbers.
 * - A version is immutable: its files are blobs of the content-addressed artifact store, recorded in
 *   `model_version_files`, so a later upload over the run's or the logged model's files does not
 *   change it. Only its description, stage and tags can change, as in MLflow.
 * - Its `sha256`: of the file, for a one-file model; of a folder, the sha256 of the manifest
 *   `<sha256>  <path>\n` per file in path order (sha256sum's line format).
 * - Reading a version's files re-hashes them (`verifyVersion`): a stored copy that no longer has
 *   its recorded hash is refused with both hashes named.
 * - Aliases (`champion`) point at a version; each move is recorded with the previous holder, the
 *   user and the time. MLflow's stages (None, Staging, Production, Archived) are kept for its clients.
 *
 * Every write is one transaction. SQLite's foreign keys are off in the tracker, so deleting a model
 * or a version deletes its child rows here.
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readFileSync, readdirSync, readSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { onnxExternalData, onnxHeadProblem, onnxModelProblem } from '../evaluation/onnxGraph';
import type { ArtifactStore } from './artifactStore';
import { READ_NO_FOLLOW } from './artifactStore';
import { checkEntityName } from './entityNames';
import { MAX_ENTITY_KEY_LENGTH, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH } from './limits';
import type { ArtifactRecord, Page, Run, Tag } from './model';
import { MODEL_SHA256_TAG, STAGE_TAG } from './model';
import { outputKey, recordedOutputs, runsWithOutputs, type OutputsReader } from './recordedOutputs';
import { parseFilter, parseOrderBy, type Comparison, type Dialect, type FilterExpr } from './search/filterSyntax';
import { closedColumn, nextPageToken, orderKey, pageOffset, predicate } from './search/runSearchSql';
import { MODEL_VERSION_DIALECT, REGISTERED_MODEL_DIALECT } from './search/searchDialects';
import type { SqlDatabase, SqlRow, SqlValue } from './sqlStore';
import { TrackerError, invalid, notFound } from './trackerError';
import { aliasProblem, modelNameProblem } from './registryNames';
import { realRootOf, relativeInside } from '../workspace/workspacePath';

export const MODEL_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];
export type ModelVersionStatus = 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';

/** SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT and _THRESHOLD in mlflow/store/model_registry/__init__.py. */
export const SEARCH_REGISTERED_MODELS_DEFAULT = 100;
export const SEARCH_REGISTERED_MODELS_LIMIT = 1000;
/** SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT and _THRESHOLD. */
export const SEARCH_MODEL_VERSIONS_DEFAULT = 10_000;
export const SEARCH_MODEL_VERSIONS_LIMIT = 200_000;

export interface ModelAlias {
  alias: string;
  version: string;
}

export interface ModelCardRecord {
  /** The card's file name as given at registration. */
  path: string;
  sha256: string;
  size: number;
}

export interface ModelVersion {
  name: string;
  /** A decimal string, as MLflow's API has it. */
  version: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string;
  currentStage: ModelStage;
  description: string;
  source: string;
  runId?: string;
  runLink?: string;
  /** The MLflow 3 logged model the version was registered from. */
  modelId?: string;
  status: ModelVersionStatus;
  tags: Tag[];
  aliases: string[];
  sha256: string;
  size: number;
  card?: ModelCardRecord;
}

export interface RegisteredModel {
  name: string;
  description: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  tags: Tag[];
  aliases: ModelAlias[];
  /** The latest version in each stage, as MLflow's `latest_versions`. */
  latestVersions: ModelVersion[];
}

export interface AliasMove {
  alias: string;
  /** The version it points at after the move; undefined when the alias was deleted. */
  version?: string;
  previousVersion?: string;
  userId: string;
  changedAt: number;
}

export interface RegistrySearch {
  filter?: string;
  maxResults?: number;
  orderBy?: readonly string[];
  pageToken?: string;
}

/** What a new version is made of; its files are already blobs of the artifact store. */
export interface NewModelVersion {
  name: string;
  source: string;
  files: readonly ArtifactRecord[];
  runId?: string;
  runLink?: string;
  modelId?: string;
  description?: string;
  tags?: readonly Tag[];
  card?: ModelCardRecord;
  userId?: string;
  /** Create the registered model when it does not exist (the CLI's `models register`). */
  createModel?: boolean;
}

/** A version's file whose stored copy no longer has the hash recorded at registration. */
export class ModelTamperedError extends TrackerError {
  constructor(
    readonly model: string,
    readonly version: string,
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'INVALID_STATE',
      `Model version ${model}/${version} is refused: its file '${path}' was registered with sha256 ${expected} ` +
        `but the stored copy now has sha256 ${actual} (it was changed after registration).`,
    );
    this.name = 'ModelTamperedError';
  }
}

// -----------------------------------------------------------------------------------------------

interface ModelRow {
  id: number;
  name: string;
}

interface VersionRow {
  id: number;
  model_id: number;
  version: number;
  name: string;
}

const VERSION_COLUMNS = `mv.id, mv.model_id, mv.version, rm.name, mv.creation_time, mv.last_updated_time, mv.user_id, mv.description,
  mv.current_stage, mv.source, mv.run_id, mv.run_link, mv.logged_model_id, mv.status, mv.sha256, mv.size, mv.card_path, mv.card_sha256, mv.card_size`;

export class ModelRegistry {
  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number,
    private readonly artifacts: ArtifactStore,
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Registered models

  createRegisteredModel(name: string, options: { description?: string; tags?: readonly Tag[] } = {}): RegisteredModel {
    const checked = checkModelName(name);
    const tags = checkTags(options.tags ?? []);
    refusePrompt(tags);
    return this.db.transaction(() => {
      this.insertModel(checked, options.description ?? '', tags);
      return this.getRegisteredModel(checked);
    });
  }

  /** True when a registered model is named `name`. */
  hasModel(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(name) !== undefined;
  }

  /**
   * `text` read as a version reference against this registry: a registered name holding '@' is
   * that model; when it also reads as another model's alias, the reference is refused as ambiguous.
   */
  parseRef(text: string): VersionRef {
    const ref = parseVersionRef(text, (n) => this.hasModel(n));
    const at = text.lastIndexOf('@');
    if (ref.version === undefined && ref.alias === undefined && at > 0 && !text.includes('/')) {
      const [name, alias] = [text.slice(0, at), text.slice(at + 1)];
      const row = this.db.prepare('SELECT 1 FROM registered_model_aliases a JOIN registered_models m ON m.id = a.model_id WHERE m.name = ? AND a.alias = ?').get(name, alias);
      if (row) throw invalid(`'${text}' is both a registered model and the alias @${alias} of '${name}': name a version (${text}/N) or ${name}/N.`);
    }
    return ref;
  }

  getRegisteredModel(name: string): RegisteredModel {
    return this.modelsByIds([this.modelRow(name).id])[0]!;
  }

  updateRegisteredModel(name: string, description: string): RegisteredModel {
    return this.db.transaction(() => {
      const row = this.modelRow(name);
      this.db.prepare('UPDATE registered_models SET description = ?, last_updated_time = ? WHERE id = ?').run(description, this.now(), row.id);
      return this.getRegisteredModel(name);
    });
  }

  renameRegisteredModel(name: string, newName: string): RegisteredModel {
    const checked = checkModelName(newName, 'new_name');
    return this.db.transaction(() => {
      const row = this.modelRow(name);
      if (checked !== row.name && this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(checked)) {
        throw new TrackerError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${checked}) already exists.`);
      }
      const t = this.now();
      this.db.prepare('UPDATE registered_models SET name = ?, last_updated_time = ? WHERE id = ?').run(checked, t, row.id);
      // As MLflow's store: every version of the renamed model is updated at that time too.
      this.db.prepare('UPDATE model_versions SET last_updated_time = ? WHERE model_id = ?').run(t, row.id);
      return this.getRegisteredModel(checked);
    });
  }

  /** MLflow deletes a registered model for good, with its versions, tags and aliases. */
  deleteRegisteredModel(name: string): void {
    this.db.transaction(() => {
      const row = this.modelRow(name);
      for (const v of this.db.prepare('SELECT id FROM model_versions WHERE model_id = ?').all(row.id)) this.deleteVersionRows(Number(v.id));
      for (const table of ['registered_model_tags', 'registered_model_aliases', 'model_alias_history']) {
        this.db.prepare(`DELETE FROM ${table} WHERE model_id = ?`).run(row.id);
      }
      this.db.prepare('DELETE FROM registered_models WHERE id = ?').run(row.id);
    });
  }

  setRegisteredModelTag(name: string, tag: Tag): void {
    const [checked] = checkTags([tag]);
    refusePrompt([checked!]);
    this.db.transaction(() => {
      const row = this.modelRow(name);
      this.db
        .prepare('INSERT INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value')
        .run(row.id, checked!.key, checked!.value);
    });
  }

  deleteRegisteredModelTag(name: string, key: string): void {
    this.db.transaction(() => {
      const row = this.modelRow(name);
      // MLflow answers a tag that is not set without error.
      this.db.prepare('DELETE FROM registered_model_tags WHERE model_id = ? AND key = ?').run(row.id, key);
    });
  }

  searchRegisteredModels(search: RegistrySearch = {}): Page<RegisteredModel> {
    const maxResults = checkMaxResults(search.maxResults, SEARCH_REGISTERED_MODELS_DEFAULT, SEARCH_REGISTERED_MODELS_LIMIT);
    const params: SqlValue[] = [];
    const where = this.searchWhere(search.filter, params, REGISTERED_MODEL_DIALECT, 'registered_model_tags', 'rm.id', "rm.id NOT IN (SELECT t.model_id FROM registered_model_tags t WHERE t.key = ? AND t.value = 'true')");
    const order = orderClause(search.orderBy, REGISTERED_MODEL_DIALECT, ['rm.name ASC']);
    const offset = pageOffset(search.pageToken);
    const rows = this.db.prepare(`SELECT rm.id FROM registered_models rm ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...params, maxResults + 1, offset);
    const items = this.modelsByIds(rows.slice(0, maxResults).map((r) => Number(r.id)));
    return rows.length > maxResults ? { items, nextPageToken: nextPageToken(offset + maxResults) } : { items };
  }

  /**
   * The latest version in each of `stages` (every stage when none is given), in MLflow's order: its
   * SQL store walks the versions from the first and lists each stage where it first meets it, so the
   * stages come in the order of the lowest version each holds (v1 and v3 in Production, v2 in None:
   * [3, 2]); `stages` filters without reordering.
   */
  getLatestVersions(name: string, stages: readonly string[] = []): ModelVersion[] {
    const row = this.modelRow(name);
    const wanted = stages.length === 0 ? [...MODEL_STAGES] : stages.map(canonicalStage);
    const ids = this.db
      .prepare(
        `SELECT max(id) AS id FROM model_versions WHERE model_id = ? AND current_stage IN (SELECT value FROM json_each(?))
          GROUP BY current_stage ORDER BY min(version)`,
      )
      .all(row.id, JSON.stringify(wanted));
    // versionsByIds keeps the order of the ids it is given.
    return this.versionsByIds(ids.map((r) => Number(r.id)));
  }

  // ---------------------------------------------------------------------------------------------
  // Versions

  /** A new version N (1 + the highest given so far, deleted ones included), allocated inside this write transaction. */
  createModelVersion(v: NewModelVersion): ModelVersion {
    const name = checkModelName(v.name);
    const tags = checkTags(v.tags ?? []);
    refusePrompt(tags);
    if (v.files.length === 0) throw invalid(`Model version source '${v.source}' holds no files: nothing to register.`);
    const { sha256, size } = contentHash(v.files);
    return this.db.transaction(() => {
      let model = this.db.prepare('SELECT id, name FROM registered_models WHERE name = ?').get(name) as unknown as ModelRow | undefined;
      if (!model) {
        if (!v.createModel) throw notFound(`Registered Model with name=${name} not found`);
        model = { id: this.insertModel(name, '', []), name };
      }
      // Never a number given before, even to a version since deleted (MLflow's numbering).
      const number = Number(
        this.db.prepare('SELECT max(last_version, coalesce((SELECT max(version) FROM model_versions WHERE model_id = rm.id), 0)) + 1 AS n FROM registered_models rm WHERE id = ?').get(model.id)!.n,
      );
      const t = this.now();
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO model_versions (model_id, version, creation_time, last_updated_time, user_id, description, source, run_id,
               run_link, logged_model_id, status, sha256, size, card_path, card_sha256, card_size)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'READY', ?, ?, ?, ?, ?)`,
          )
          .run(
            model.id,
            number,
            t,
            t,
            v.userId ?? '',
            v.description ?? '',
            v.source,
            v.runId || null,
            v.runLink || null,
            v.modelId || null,
            sha256,
            size,
            v.card?.path ?? null,
            v.card?.sha256 ?? null,
            v.card?.size ?? null,
          ).lastInsertRowid,
      );
      const insertFile = this.db.prepare('INSERT INTO model_version_files (version_id, path, size, sha256) VALUES (?, ?, ?, ?)');
      for (const f of v.files) insertFile.run(id, f.path, f.size, f.sha256);
      const insertTag = this.db.prepare('INSERT INTO model_version_tags (version_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value');
      for (const tag of tags) insertTag.run(id, tag.key, tag.value);
      this.db.prepare('UPDATE registered_models SET last_updated_time = ?, last_version = ? WHERE id = ?').run(t, number, model.id);
      return this.versionsByIds([id])[0]!;
    });
  }

  getModelVersion(name: string, version: string | number): ModelVersion {
    return this.versionsByIds([this.versionRow(name, version).id])[0]!;
  }

  updateModelVersion(name: string, version: string | number, description: string): ModelVersion {
    return this.db.transaction(() => {
      const row = this.versionRow(name, version);
      this.db.prepare('UPDATE model_versions SET description = ?, last_updated_time = ? WHERE id = ?').run(description, this.now(), row.id);
      return this.versionsByIds([row.id])[0]!;
    });
  }

  /** MLflow's transition-stage; with `archiveExisting`, the other versions in that stage become Archived. */
  transitionModelVersionStage(name: string, version: string | number, stage: string, archiveExisting = false): ModelVersion {
    const target = canonicalStage(stage);
    if (archiveExisting && target !== 'Staging' && target !== 'Production') {
      throw invalid(`Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are Staging, Production`);
    }
    return this.db.transaction(() => {
      const row = this.versionRow(name, version);
      const t = this.now();
      if (archiveExisting) {
        this.db
          .prepare("UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE model_id = ? AND current_stage = ? AND id != ?")
          .run(t, row.model_id, target, row.id);
      }
      this.db.prepare('UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE id = ?').run(target, t, row.id);
      this.db.prepare('UPDATE registered_models SET last_updated_time = ? WHERE id = ?').run(t, row.model_id);
      return this.versionsByIds([row.id])[0]!;
    });
  }

  /** Deletes a version, its tags and files, and the aliases pointing at it (MLflow's SQL store). */
  deleteModelVersion(name: string, version: string | number, userId = ''): void {
    this.db.transaction(() => {
      const row = this.versionRow(name, version);
      const t = this.now();
      for (const a of this.db.prepare('SELECT alias FROM registered_model_aliases WHERE model_id = ? AND version = ?').all(row.model_id, row.version)) {
        this.recordAliasMove(row.model_id, String(a.alias), null, row.version, userId, t);
      }
      this.db.prepare('DELETE FROM registered_model_aliases WHERE model_id = ? AND version = ?').run(row.model_id, row.version);
      this.deleteVersionRows(row.id);
      this.db.prepare('UPDATE registered_models SET last_updated_time = ? WHERE id = ?').run(t, row.model_id);
    });
  }

  setModelVersionTag(name: string, version: string | number, tag: Tag): void {
    const [checked] = checkTags([tag]);
    refusePrompt([checked!]);
    this.db.transaction(() => {
      const row = this.versionRow(name, version);
      this.db
        .prepare('INSERT INTO model_version_tags (version_id, key, value) VALUES (?, ?, ?) ON CONFLICT (version_id, key) DO UPDATE SET value = excluded.value')
        .run(row.id, checked!.key, checked!.value);
    });
  }

  deleteModelVersionTag(name: string, version: string | number, key: string): void {
    this.db.transaction(() => {
      const row = this.versionRow(name, version);
      this.db.prepare('DELETE FROM model_version_tags WHERE version_id = ? AND key = ?').run(row.id, key);
    });
  }

  searchModelVersions(search: RegistrySearch = {}): Page<ModelVersion> {
    const maxResults = checkMaxResults(search.maxResults, SEARCH_MODEL_VERSIONS_DEFAULT, SEARCH_MODEL_VERSIONS_LIMIT);
    const params: SqlValue[] = [];
    // As MLflow, prompts left out: every version of a model that has a version tagged as a prompt.
    const where = this.searchWhere(
      search.filter,
      params,
      MODEL_VERSION_DIALECT,
      'model_version_tags',
      'mv.id',
      "mv.model_id NOT IN (SELECT p.model_id FROM model_version_tags t JOIN model_versions p ON p.id = t.version_id WHERE t.key = ? AND t.value = 'true')",
    );
    // MLflow's store (_parse_search_model_versions_order_by): the given keys, then name ascending
    // and version descending, each unless given; no order_by means last updated first.
    const order = orderClause(search.orderBy, MODEL_VERSION_DIALECT, ['mv.last_updated_time DESC', 'rm.name ASC', 'mv.version DESC'], ['rm.name ASC', 'mv.version DESC']);
    const offset = pageOffset(search.pageToken);
    const rows = this.db
      .prepare(`SELECT mv.id FROM model_versions mv JOIN registered_models rm ON rm.id = mv.model_id ${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...params, maxResults + 1, offset);
    const items = this.versionsByIds(rows.slice(0, maxResults).map((r) => Number(r.id)));
    return rows.length > maxResults ? { items, nextPageToken: nextPageToken(offset + maxResults) } : { items };
  }

  /** The version's files, in path order. */
  versionFiles(name: string, version: string | number): ArtifactRecord[] {
    const row = this.versionRow(name, version);
    return this.db
      .prepare('SELECT path, size, sha256 FROM model_version_files WHERE version_id = ? ORDER BY path')
      .all(row.id)
      .map((r) => ({ path: String(r.path), size: Number(r.size), sha256: String(r.sha256) }));
  }

  /**
   * Re-hashes every stored file of the version (and its card) and returns the files; throws
   * ModelTamperedError naming the file and both hashes when one differs, and a clear error when
   * one is missing.
   */
  verifyVersion(name: string, version: string | number): ArtifactRecord[] {
    const { mv, files, stored } = this.storedFiles(name, version);
    for (const f of stored) {
      let actual: string;
      try {
        actual = sha256OfFile(this.artifacts.open(f.sha256).filePath);
      } catch (e) {
        throw unreadableCopy(mv, f, e);
      }
      if (actual !== f.sha256) throw new ModelTamperedError(mv.name, mv.version, f.path, f.sha256, actual);
    }
    return files;
  }

  /**
   * verifyVersion without holding the event loop: the files are read and hashed a chunk at a time,
   * so a server answers other requests while a large model is checked.
   */
  async verifyVersionAsync(name: string, version: string | number): Promise<ArtifactRecord[]> {
    const { mv, files, stored } = this.storedFiles(name, version);
    for (const f of stored) {
      let actual: string;
      try {
        actual = await sha256OfFileAsync(this.artifacts.open(f.sha256).filePath);
      } catch (e) {
        throw unreadableCopy(mv, f, e);
      }
      if (actual !== f.sha256) throw new ModelTamperedError(mv.name, mv.version, f.path, f.sha256, actual);
    }
    return files;
  }

  /** A version, its files, and every stored file to check (its files and its card). */
  private storedFiles(name: string, version: string | number): { mv: ModelVersion; files: ArtifactRecord[]; stored: ArtifactRecord[] } {
    const mv = this.getModelVersion(name, version);
    const files = this.versionFiles(name, version);
    return { mv, files, stored: mv.card ? [...files, mv.card] : files };
  }

  // ---------------------------------------------------------------------------------------------
  // Aliases

  /**
   * Points `alias` at `version`, recording the previous holder, the user and the time. As in MLflow,
   * tags and aliases leave the model's last_updated_timestamp as it is.
   */
  setAlias(name: string, alias: string, version: string | number, userId = ''): void {
    const checked = checkAlias(alias);
    this.db.transaction(() => {
      // As MLflow's store, the version is looked up alone: a missing model is a missing version.
      const row = this.versionRow(name, version);
      const prior = this.db.prepare('SELECT version FROM registered_model_aliases WHERE model_id = ? AND alias = ?').get(row.model_id, checked);
      const previous = prior ? Number(prior.version) : null;
      if (previous === row.version) return;
      this.db
        .prepare('INSERT INTO registered_model_aliases (model_id, alias, version) VALUES (?, ?, ?) ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version')
        .run(row.model_id, checked, row.version);
      const t = this.now();
      this.recordAliasMove(row.model_id, checked, row.version, previous, userId, t);
    });
  }

  /** Removes an alias; MLflow answers a missing one without error, and so does this (a reserved name, `latest`, is refused first, as MLflow's store refuses it). */
  deleteAlias(name: string, alias: string, userId = ''): void {
    checkAlias(alias);
    this.db.transaction(() => {
      const model = this.modelRow(name);
      const prior = this.db.prepare('SELECT version FROM registered_model_aliases WHERE model_id = ? AND alias = ?').get(model.id, alias);
      if (!prior) return;
      this.db.prepare('DELETE FROM registered_model_aliases WHERE model_id = ? AND alias = ?').run(model.id, alias);
      const t = this.now();
      this.recordAliasMove(model.id, alias, null, Number(prior.version), userId, t);
    });
  }

  /** As MLflow, an alias of a model that does not exist is an alias not found (INVALID_PARAMETER_VALUE), not a missing model. */
  getVersionByAlias(name: string, alias: string): ModelVersion {
    checkNameGiven(name);
    checkAlias(alias);
    const row = this.db
      .prepare('SELECT rm.name, a.version FROM registered_model_aliases a JOIN registered_models rm ON rm.id = a.model_id WHERE rm.name = ? AND a.alias = ?')
      .get(name, alias);
    if (!row) throw invalid(`Registered model alias ${alias} not found.`);
    return this.getModelVersion(String(row.name), Number(row.version));
  }

  /** Every move of the model's aliases (of one alias, when given), oldest first. */
  aliasHistory(name: string, alias?: string): AliasMove[] {
    const model = this.modelRow(name);
    const rows =
      alias === undefined
        ? this.db.prepare('SELECT * FROM model_alias_history WHERE model_id = ? ORDER BY id').all(model.id)
        : this.db.prepare('SELECT * FROM model_alias_history WHERE model_id = ? AND alias = ? ORDER BY id').all(model.id, alias);
    return rows.map((r) => {
      const move: AliasMove = { alias: String(r.alias), userId: String(r.user_id), changedAt: Number(r.changed_at) };
      if (r.version != null) move.version = String(r.version);
      if (r.previous_version != null) move.previousVersion = String(r.previous_version);
      return move;
    });
  }

  /** Versions of any model whose content hash is `sha256` (the same model registered twice). */
  versionsWithHash(sha256: string): ModelVersion[] {
    return this.versionsByIds(this.db.prepare('SELECT id FROM model_versions WHERE sha256 = ? ORDER BY id').all(sha256).map((r) => Number(r.id)));
  }

  /** The version a reference names: by alias, by number, or the highest number for a bare name. */
  resolveVersion(ref: VersionRef): ModelVersion {
    if (ref.alias !== undefined) {
      const model = this.getRegisteredModel(ref.name); // a model that does not exist is named as such
      const held = model.aliases.find((a) => a.alias === ref.alias);
      if (!held) {
        const known = model.aliases.map((a) => `@${a.alias}`).join(', ');
        throw invalid(`Registered model '${model.name}' has no alias '${ref.alias}' (${known ? `its aliases: ${known}` : 'it has none'}).`);
      }
      return this.getModelVersion(model.name, held.version);
    }
    if (ref.version !== undefined) {
      if (ref.version === 'latest') return this.latestVersion(ref.name);
      if (!/^\d{1,15}$/.test(ref.version) || Number(ref.version) < 1) throw invalid(`Version '${ref.version}' of '${ref.name}': expected a whole number from 1, or 'latest'.`);
      return this.getModelVersion(ref.name, ref.version);
    }
    return this.latestVersion(ref.name);
  }

  private latestVersion(name: string): ModelVersion {
    const model = this.modelRow(name);
    const row = this.db.prepare('SELECT max(version) AS v FROM model_versions WHERE model_id = ?').get(model.id);
    if (row?.v == null) throw notFound(`Registered model '${model.name}' has no versions yet.`);
    return this.getModelVersion(model.name, Number(row.v));
  }

  /**
   * The version a download location names (versionLocation): its row id and the start of its
   * content hash, so that a location never names another version's bytes once its row id is given
   * out again after a delete.
   */
  versionAt(id: number, digest: string): { name: string; version: string } {
    const row = this.db.prepare('SELECT rm.name, mv.version, mv.sha256 FROM model_versions mv JOIN registered_models rm ON rm.id = mv.model_id WHERE mv.id = ?').get(id);
    if (!row || !String(row.sha256).startsWith(digest)) throw notFound(`No model version is stored under '${id}-${digest}': it was deleted.`);
    return { name: String(row.name), version: String(row.version) };
  }

  /** Where a version's download location points: `<row id>-<the first 16 hex digits of its sha256>`. */
  versionLocation(name: string, version: string | number): string {
    const { id } = this.versionRow(name, version);
    const row = this.db.prepare('SELECT sha256 FROM model_versions WHERE id = ?').get(id);
    return `${id}-${String(row!.sha256).slice(0, 16)}`;
  }

  // ---------------------------------------------------------------------------------------------

  private insertModel(name: string, description: string, tags: readonly Tag[]): number {
    if (this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(name)) {
      throw new TrackerError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
    }
    const t = this.now();
    const id = Number(
      this.db.prepare('INSERT INTO registered_models (name, description, creation_time, last_updated_time) VALUES (?, ?, ?, ?)').run(name, description, t, t).lastInsertRowid,
    );
    const insert = this.db.prepare('INSERT INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value');
    for (const tag of tags) insert.run(id, tag.key, tag.value);
    return id;
  }

  private recordAliasMove(modelId: number, alias: string, version: number | null, previous: number | null, userId: string, t: number): void {
    this.db
      .prepare('INSERT INTO model_alias_history (model_id, alias, version, previous_version, user_id, changed_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(modelId, alias, version, previous, userId, t);
  }

  private deleteVersionRows(id: number): void {
    for (const table of ['model_version_tags', 'model_version_files']) this.db.prepare(`DELETE FROM ${table} WHERE version_id = ?`).run(id);
    this.db.prepare('DELETE FROM model_versions WHERE id = ?').run(id);
  }

  private modelRow(name: string): ModelRow {
    checkNameGiven(name);
    const row = this.db.prepare('SELECT id, name FROM registered_models WHERE name = ?').get(name);
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return { id: Number(row.id), name: String(row.name) };
  }

  /** As MLflow's `_get_sql_model_version`: the name and version checked, then one not-found for a missing version or model. */
  private versionRow(name: string, version: string | number): VersionRow {
    checkNameGiven(name);
    const number = parseVersion(version);
    const row = this.db
      .prepare('SELECT mv.id, mv.model_id, rm.name FROM model_versions mv JOIN registered_models rm ON rm.id = mv.model_id WHERE rm.name = ? AND mv.version = ?')
      .get(name, number);
    if (!row) throw notFound(`Model Version (name=${name}, version=${number}) not found`);
    return { id: Number(row.id), model_id: Number(row.model_id), version: number, name: String(row.name) };
  }

  /**
   * A search's WHERE clause (or ''): its filter, prompts scoped as MLflow scopes them (promptScope);
   * `noPrompts` is the condition that leaves prompts out, its one `?` the prompt tag's key.
   */
  private searchWhere(filter: string | undefined, params: SqlValue[], dialect: Dialect, tagTable: string, idColumn: string, noPrompts: string): string {
    const scope = promptScope(parseFilter(filter ?? '', dialect));
    const conditions = scope.filter ? [this.condition(scope.filter, params, dialect, tagTable, idColumn)] : [];
    if (scope.excludePrompts) {
      conditions.push(noPrompts);
      params.push(IS_PROMPT_TAG);
    }
    return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  }

  /** A filter as a WHERE condition; tags match through `tagTable` keyed by `idColumn`. */
  private condition(e: FilterExpr, params: SqlValue[], dialect: Dialect, tagTable: string, idColumn: string): string {
    if (e.kind !== 'compare') {
      const left = this.condition(e.left, params, dialect, tagTable, idColumn);
      const right = this.condition(e.right, params, dialect, tagTable, idColumn);
      return `(${left} ${e.kind === 'and' ? 'AND' : 'OR'} ${right})`;
    }
    if (e.entity === 'tags') {
      params.push(e.key);
      const owner = tagTable === 'model_version_tags' ? 'version_id' : 'model_id';
      // The prompt tag, where a comparison on it stays (see promptScope): missing reads as 'false'.
      if (e.key === IS_PROMPT_TAG) return predicate(`coalesce((SELECT t.value FROM ${tagTable} t WHERE t.key = ? AND t.${owner} = ${idColumn}), 'false')`, e, params);
      return `${idColumn} IN (SELECT t.${owner} FROM ${tagTable} t WHERE t.key = ? AND ${predicate('t.value', e, params)})`;
    }
    const spec = closedColumn(dialect, 'attributes', e.key);
    if (spec.filterable === false) throw invalid(`Invalid filter: '${e.key}' can be ordered by, not filtered on, in a search of ${dialect.subject}.`);
    const c: Comparison = e.key === 'current_stage' && !Array.isArray(e.value) && e.op !== 'LIKE' && e.op !== 'ILIKE' ? { ...e, value: canonicalStage(String(e.value)) } : e;
    return predicate(spec.column!, c, params);
  }

  private modelsByIds(ids: readonly number[]): RegisteredModel[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const inList = 'IN (SELECT value FROM json_each(?))';
    const models = new Map<number, RegisteredModel>();
    for (const r of this.db.prepare(`SELECT * FROM registered_models WHERE id ${inList}`).all(list)) {
      models.set(Number(r.id), {
        name: String(r.name),
        description: String(r.description),
        creationTimestamp: Number(r.creation_time),
        lastUpdatedTimestamp: Number(r.last_updated_time),
        tags: [],
        aliases: [],
        latestVersions: [],
      });
    }
    for (const r of this.db.prepare(`SELECT model_id, key, value FROM registered_model_tags WHERE model_id ${inList} ORDER BY model_id, key`).all(list)) {
      models.get(Number(r.model_id))?.tags.push({ key: String(r.key), value: String(r.value) });
    }
    for (const r of this.db.prepare(`SELECT model_id, alias, version FROM registered_model_aliases WHERE model_id ${inList} ORDER BY model_id, alias`).all(list)) {
      models.get(Number(r.model_id))?.aliases.push({ alias: String(r.alias), version: String(r.version) });
    }
    const latest = this.db
      .prepare(`SELECT max(id) AS id, model_id FROM model_versions WHERE model_id ${inList} GROUP BY model_id, current_stage ORDER BY model_id, min(version)`)
      .all(list);
    const versions = new Map(this.versionsByIds(latest.map((r) => Number(r.id))).map((v, i) => [Number(latest[i]!.id), v]));
    for (const r of latest) {
      const v = versions.get(Number(r.id));
      if (v) models.get(Number(r.model_id))?.latestVersions.push(v);
    }
    return ids.map((id) => models.get(id)).filter((m): m is RegisteredModel => m !== undefined);
  }

  private versionsByIds(ids: readonly number[]): ModelVersion[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const inList = 'IN (SELECT value FROM json_each(?))';
    const versions = new Map<number, ModelVersion & { modelRowId: number }>();
    for (const r of this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv JOIN registered_models rm ON rm.id = mv.model_id WHERE mv.id ${inList}`).all(list)) {
      versions.set(Number(r.id), versionFromRow(r));
    }
    for (const r of this.db.prepare(`SELECT version_id, key, value FROM model_version_tags WHERE version_id ${inList} ORDER BY version_id, key`).all(list)) {
      versions.get(Number(r.version_id))?.tags.push({ key: String(r.key), value: String(r.value) });
    }
    const byModelVersion = new Map([...versions.values()].map((v) => [`${v.modelRowId}/${v.version}`, v]));
    for (const r of this.db
      .prepare(
        `SELECT a.model_id, a.alias, a.version FROM registered_model_aliases a
          WHERE a.model_id IN (SELECT model_id FROM model_versions WHERE id ${inList}) ORDER BY a.alias`,
      )
      .all(list)) {
      byModelVersion.get(`${Number(r.model_id)}/${Number(r.version)}`)?.aliases.push(String(r.alias));
    }
    return ids
      .map((id) => versions.get(id))
      .filter((v): v is ModelVersion & { modelRowId: number } => v !== undefined)
      .map(({ modelRowId: _, ...v }) => v);
  }
}

function versionFromRow(r: SqlRow): ModelVersion & { modelRowId: number } {
  const v: ModelVersion & { modelRowId: number } = {
    modelRowId: Number(r.model_id),
    name: String(r.name),
    version: String(r.version),
    creationTimestamp: Number(r.creation_time),
    lastUpdatedTimestamp: Number(r.last_updated_time),
    userId: String(r.user_id),
    currentStage: r.current_stage as ModelStage,
    description: String(r.description),
    source: String(r.source),
    status: r.status as ModelVersionStatus,
    tags: [],
    aliases: [],
    sha256: String(r.sha256),
    size: Number(r.size),
  };
  if (r.run_id != null) v.runId = String(r.run_id);
  if (r.run_link != null) v.runLink = String(r.run_link);
  if (r.logged_model_id != null) v.modelId = String(r.logged_model_id);
  if (r.card_sha256 != null) v.card = { path: String(r.card_path), sha256: String(r.card_sha256), size: Number(r.card_size) };
  return v;
}

// -----------------------------------------------------------------------------------------------
// Checks and hashes

/** A registered model's name in a lookup: refused when empty, as MLflow refuses it. */
function checkNameGiven(name: unknown): void {
  if (typeof name !== 'string' || name === '') throw invalid('Registered model name cannot be empty.');
}

/** MLflow's tag that makes a registered model (and its versions) a prompt. */
export const IS_PROMPT_TAG = 'mlflow.prompt.is_prompt';

/**
 * MLflow 3's prompt registry (`mlflow.genai.register_prompt`) is ordinary registry calls: a model
 * tagged as a prompt, then versions with no files whose text is a tag. Runwise's registry holds
 * models and their bytes, so a prompt is refused at its first call, before anything is written
 * (accepting the model and refusing its version left an empty prompt behind).
 */
export function refusePrompt(tags: readonly Tag[]): void {
  const prompt = tags.find((t) => t.key === IS_PROMPT_TAG && String(t.value).toLowerCase() === 'true');
  if (prompt) {
    throw invalid(
      `Runwise's registry holds models, not prompts: the tag ${IS_PROMPT_TAG}=${prompt.value} (what mlflow.genai.register_prompt sends) is refused. ` +
        'Keep prompts on an MLflow server; nothing was written.',
    );
  }
}

/**
 * MLflow's registry searches return models, not prompts, unless the filter asks for prompts: its
 * first comparison on the prompt tag is `= 'true'` or `!= 'false'` (any case). Otherwise every
 * comparison on that tag among the filter's AND terms is dropped, and what is tagged as a prompt is
 * left out (sqlalchemy_store's `_is_querying_prompt` and `_update_query_to_exclude_prompts`). MLflow's
 * client adds `tags.`mlflow.prompt.is_prompt` != 'true'` to every registered-model search, which a
 * model without the tag would fail as a plain tag comparison.
 *
 * Runwise's filters also take OR, which MLflow's do not: a prompt comparison under an OR stays, and
 * reads a model without the tag as 'false' (see `condition`), so that `name = 'a' OR name = 'b' AND
 * tags.`mlflow.prompt.is_prompt` != 'true'` (the client's term after a user's OR) keeps both models.
 */
export function promptScope(filter: FilterExpr | undefined): { filter: FilterExpr | undefined; excludePrompts: boolean } {
  const isPromptTerm = (e: FilterExpr): e is Comparison => e.kind === 'compare' && e.entity === 'tags' && e.key === IS_PROMPT_TAG;
  const all: Comparison[] = [];
  const walk = (e: FilterExpr): void => {
    if (e.kind === 'compare') {
      if (isPromptTerm(e)) all.push(e);
    } else {
      walk(e.left);
      walk(e.right);
    }
  };
  if (filter) walk(filter);
  const first = all.sort((a, b) => a.start - b.start)[0];
  if (first && typeof first.value === 'string') {
    const value = first.value.toLowerCase();
    if ((first.op === '=' && value === 'true') || (first.op === '!=' && value === 'false')) return { filter, excludePrompts: false };
  }
  const terms: FilterExpr[] = [];
  const collect = (e: FilterExpr): void => {
    if (e.kind === 'and') {
      collect(e.left);
      collect(e.right);
    } else terms.push(e);
  };
  if (filter) collect(filter);
  const kept = terms.filter((e) => !isPromptTerm(e));
  const rest = kept.reduce<FilterExpr | undefined>((left, right) => (left ? { kind: 'and', left, right } : right), undefined);
  return { filter: rest, excludePrompts: true };
}

/** A registered model name, checked (see registryNames.ts). */
export function checkModelName(name: unknown, param = 'name'): string {
  if (typeof name !== 'string') throw invalid(`Invalid value ${JSON.stringify(name)} for parameter '${param}' supplied: expected a string.`);
  const problem = modelNameProblem(name);
  if (problem) throw invalid(problem);
  return name;
}

/** An alias, checked (MLflow's `_validate_model_alias_name`, see registryNames.ts). */
export function checkAlias(alias: unknown): string {
  if (typeof alias !== 'string') throw invalid('Registered model alias name cannot be empty.');
  const problem = aliasProblem(alias);
  if (problem) throw invalid(problem);
  return alias;
}

/**
 * MLflow's `_validate_model_version`: an integer, given as a number or a decimal string (0 and -1
 * are integers: no version has them, so they are not found, as MLflow answers them).
 */
export function parseVersion(version: unknown): number {
  const n = typeof version === 'number' ? version : typeof version === 'string' && /^[+-]?\d{1,15}$/.test(version.trim()) ? Number(version.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`Parameter 'version' must be an integer, got '${String(version)}'.`);
  return n;
}

/** A stage name as MLflow canonicalises it (case-insensitive: `production` → `Production`). */
export function canonicalStage(stage: string): ModelStage {
  const found = MODEL_STAGES.find((s) => s.toLowerCase() === String(stage).toLowerCase());
  if (!found) throw invalid(`Invalid Model Version stage: ${stage}. Value must be one of ${MODEL_STAGES.join(', ')}.`);
  return found;
}

function checkTags(tags: readonly Tag[]): Tag[] {
  for (const t of tags) {
    if (typeof t.key !== 'string' || t.key === '') throw invalid("Missing value for required parameter 'key'.");
    if (t.key.length > MAX_ENTITY_KEY_LENGTH) throw invalid(`'key' exceeds the maximum length of ${MAX_ENTITY_KEY_LENGTH} characters (got ${t.key.length}).`);
    checkEntityName('tag', t.key);
    if (typeof t.value !== 'string') throw invalid(`Invalid value for tag '${t.key}': expected a string.`);
    if (t.value.length > MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH) {
      throw invalid(`The value of tag '${t.key}' exceeds the maximum length of ${MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH} characters (got ${t.value.length}).`);
    }
  }
  return [...tags];
}

function checkMaxResults(maxResults: number | undefined, fallback: number, limit: number): number {
  if (maxResults === undefined) return fallback;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1) {
    throw invalid(`Invalid value for max_results. It must be a positive integer, but got ${maxResults}`);
  }
  if (maxResults > limit) throw invalid(`Invalid value for request parameter max_results. It must be at most ${limit}, but got value ${maxResults}`);
  return maxResults;
}

/**
 * The ORDER BY of a registry search: `fallback` when no order is asked for; else the asked keys,
 * their ties broken by the `tiebreak` terms (default: `fallback`) on columns they do not name, as
 * MLflow's store does, so that pages follow one another without gaps or repeats.
 */
function orderClause(clauses: readonly string[] | undefined, dialect: Dialect, fallback: readonly string[], tiebreak: readonly string[] = fallback): string {
  const terms = parseOrderBy(clauses, dialect);
  if (terms.length === 0) return fallback.join(', ');
  const columns = terms.map((t) => closedColumn(dialect, 'attributes', t.key));
  const keys = terms.flatMap((t, i) => orderKey(columns[i]!.column!, t.descending, columns[i]!.nullable === true));
  const named = new Set(columns.map((c) => c.column));
  return [...keys, ...tiebreak.filter((term) => !named.has(term.split(' ')[0]))].join(', ');
}

/** The version's content hash: the file's own, or for several files the hash of their manifest. */
export function contentHash(files: readonly ArtifactRecord[]): { sha256: string; size: number } {
  const size = files.reduce((n, f) => n + f.size, 0);
  if (files.length === 1 && !files[0]!.path.includes('/')) return { sha256: files[0]!.sha256, size };
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest = sorted.map((f) => `${f.sha256}  ${f.path}\n`).join('');
  return { sha256: createHash('sha256').update(manifest, 'utf8').digest('hex'), size };
}

/**
 * The sha256 the registry records for the model at `abs` (a file's own; with external data or a
 * folder, its files' manifest), before registering it: to find a version that holds the same bytes.
 * Read a chunk at a time, without blocking.
 */
export async function modelSha256(abs: string, within?: string): Promise<string> {
  const files: ArtifactRecord[] = [];
  // Through links, as registration copies them (a DVC symlink cache).
  for (const f of modelFilesOnDisk(abs, abs, within)) files.push({ path: f.rel, sha256: await sha256OfFileAsync(f.abs, { followLinks: true }), size: 0 });
  return contentHash(files).sha256;
}

/** The error for a version's stored file that cannot be read. */
export function unreadableCopy(mv: { name: string; version: string }, f: ArtifactRecord, e: unknown): TrackerError {
  return new TrackerError('INVALID_STATE', `Model version ${mv.name}/${mv.version} is refused: the stored copy of its file '${f.path}' (sha256 ${f.sha256}) cannot be read: ${storeReadFailure(e)}`);
}

/**
 * Why a file of the store could not be read, by the system's code: its message names the file's
 * absolute path, which the endpoint's answers do not give out.
 */
export function storeReadFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' ? 'ENOENT, it is gone from .runwise/' : code === 'EACCES' || code === 'EPERM' ? `${code}, permission denied` : (code ?? 'unreadable');
}

/** sha256OfFile, read a chunk at a time without blocking: other work runs between chunks. */
export async function sha256OfFileAsync(filePath: string, options: { followLinks?: boolean } = {}): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(filePath, options.followLinks ? 'r' : READ_NO_FOLLOW);
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The sha256 of a file, read in 1 MiB chunks; a symbolic link is followed only with `followLinks`. */
export function sha256OfFile(filePath: string, options: { followLinks?: boolean } = {}): string {
  const hash = createHash('sha256');
  // A link is not followed unless asked: Runwise's own stored files are never links.
  const fd = openSync(filePath, options.followLinks ? 'r' : READ_NO_FOLLOW);
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

// -----------------------------------------------------------------------------------------------
// References, files on disk, lineage

/** `NAME`, `NAME/VERSION` or `NAME@ALIAS`, as `models show` and `models:/` URIs write them. */
export interface VersionRef {
  name: string;
  version?: string;
  alias?: string;
}

/**
 * `ref` read as a version reference. A name may hold '@' (MLflow allows it): `named(ref)`, when
 * given, says whether the whole text is a registered model's name, which then wins over NAME@ALIAS.
 */
export function parseVersionRef(ref: string, named?: (name: string) => boolean): VersionRef {
  // A name may hold '@' but not '/' (checkModelName), an alias neither: `team@corp/2` is a version.
  const slash = ref.lastIndexOf('/');
  if (slash > 0) {
    const version = ref.slice(slash + 1);
    if (version.includes('@')) throw invalid(`'${ref}': name a version (NAME/VERSION) or an alias (NAME@ALIAS), not both.`);
    return { name: ref.slice(0, slash), version };
  }
  const at = ref.lastIndexOf('@');
  if (at > 0 && !named?.(ref)) return { name: ref.slice(0, at), alias: ref.slice(at + 1) };
  return { name: ref };
}

/**
 * An ONNX file this large is read as it is, not parsed for external data: a model saved with external
 * data keeps a small graph, and reading a large one whole would hold the extension host (register
 * a model folder to keep every file).
 */
const ONNX_GRAPH_READ_LIMIT = 512 * 1024 * 1024;
/** The first bytes of an .onnx file read to judge it when it is not read whole. */
const ONNX_HEAD_BYTES = 64 * 1024;

/**
 * The external data files an `.onnx` file names (`weights.bin` beside it, as onnx.save_model with
 * save_as_external_data writes them): a version of the model is nothing without them. Each must be
 * a file inside the model's folder.
 */
function externalDataFiles(onnxPath: string, size: number, shown: string): { abs: string; rel: string }[] {
  if (!onnxPath.toLowerCase().endsWith('.onnx')) return [];
  // A version keeps its files for good: an .onnx file that is no model (empty, a Git LFS pointer,
  // a truncated copy) is refused, as an evaluation of it would be. One too large to read whole
  // here is judged by its first bytes.
  if (size > ONNX_GRAPH_READ_LIMIT) {
    const problem = onnxStartProblem(onnxPath);
    if (problem) throw invalid(`Model '${shown}' is ${problem}; nothing was registered.`);
    return [];
  }
  const bytes = readFileSync(onnxPath);
  const problem = onnxModelProblem(bytes);
  if (problem) throw invalid(`Model '${shown}' is ${problem}; nothing was registered.`);
  let locations: string[];
  try {
    locations = onnxExternalData(bytes);
  } catch (e) {
    // Its nodes or initializers do not read as protobuf: a damaged file.
    throw invalid(`Model '${shown}' is not an ONNX model (${(e as Error).message}); nothing was registered.`);
  }
  return locations.map((location) => {
    const { abs, rel } = externalDataFile(onnxPath, location);
    if (!rel || rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) throw invalid(`Model '${shown}' names external data '${location}' outside its folder; register the folder that holds both.`);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw invalid(`Model '${shown}' keeps its weights in '${location}' (external data), and there is no such file beside it.`);
    }
    if (!st.isFile()) throw invalid(`Model '${shown}' names external data '${location}', which is not a file.`);
    // (A folder on the way that links out of the workspace is refused where every file registered is: Tracker.registerModelFiles.)
    return { abs, rel };
  });
}

/**
 * Where an external data file an ONNX model names is: its absolute path, and its path beside the
 * model (`/`-separated) as a version's file list and the evaluation's hash of the model name it.
 */
export function externalDataFile(onnxPath: string, location: string): { abs: string; rel: string } {
  const dir = path.dirname(onnxPath);
  const abs = path.resolve(dir, location);
  return { abs, rel: path.relative(dir, abs).split(path.sep).join('/') };
}

/** The path's own status (a link not followed), or undefined when nothing is there. */
export function lstatIfAny(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** What the path leads to (links followed), or undefined when nothing (or a link to nothing). */
function statIfAny(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Why an .onnx file not read whole is no model, from its first ONNX_HEAD_BYTES (onnxHeadProblem);
 * a file no longer than those is judged whole (onnxModelProblem).
 */
function onnxStartProblem(file: string): string | undefined {
  const head = fileHead(file, ONNX_HEAD_BYTES + 1);
  return head.length <= ONNX_HEAD_BYTES ? onnxModelProblem(head) : onnxHeadProblem(head.subarray(0, ONNX_HEAD_BYTES));
}

/** Up to `n` first bytes of a file. */
function fileHead(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(n);
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * The files of a model at `absPath` (named `shown` in messages: the path as the user gave it): the
 * file itself (named by its base name) with the external data files an `.onnx` names (by their
 * path beside it), or every file under the folder (named by their `/`-separated path in it), in
 * path order. A symbolic link is followed (DVC's symlink cache links a tracked model into
 * .dvc/cache): the version keeps the bytes it points at, under the link's own name. Where a link may
 * point is the caller's to check (Tracker.registerModelFiles keeps every file inside the workspace).
 */
export function modelFilesOnDisk(absPath: string, shown = absPath, within?: string): { abs: string; rel: string }[] {
  // A folder reached through a link to outside `within` (the workspace) is refused before it is
  // walked (`root -> /` would walk the whole file system); files are checked by the caller.
  const realWithin = within !== undefined ? realRootOf(within) : undefined;
  let st;
  try {
    st = statSync(absPath);
  } catch {
    throw invalid(`Model path '${shown}' does not exist${lstatIfAny(absPath)?.isSymbolicLink() ? ' (a symbolic link to nothing)' : ''}.`);
  }
  if (st.isFile()) {
    // A file outside is refused before it is read (as a model, for its external data): what is
    // said of it would tell an outside file's content.
    if (realWithin !== undefined && relativeInside(realWithin, realpathSync(absPath)) === undefined) {
      throw invalid(`Model file '${path.basename(absPath)}' is reached through a symbolic link to a place outside the workspace; register files inside it.`);
    }
    return [{ abs: absPath, rel: path.basename(absPath) }, ...externalDataFiles(absPath, st.size, shown)];
  }
  if (!st.isDirectory()) throw invalid(`Model path '${shown}' is neither a file nor a folder.`);
  const out: { abs: string; rel: string }[] = [];
  // Folders by their real path: a link back up the tree is not walked again.
  const walked = new Set<string>();
  const walk = (dir: string, prefix: string) => {
    let real: string;
    let entries: Dirent[];
    try {
      real = realpathSync(dir);
      if (realWithin !== undefined && relativeInside(realWithin, real) === undefined) {
        throw invalid(`Model folder '${shown}': ${prefix ? `its '${prefix}'` : 'it'} is reached through a symbolic link to a place outside the workspace; register files inside it.`);
      }
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (e instanceof TrackerError) throw e;
      throw invalid(`Model folder '${shown}': ${prefix ? `'${prefix}'` : 'it'} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
    if (walked.has(real)) throw invalid(`Model folder '${shown}': '${prefix}' is a symbolic link to a folder above it; nothing was registered.`);
    walked.add(real);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const abs = path.join(dir, entry.name);
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const kind = entry.isSymbolicLink() ? statIfAny(abs) : entry;
      if (!kind) throw invalid(`Model folder '${shown}': its '${rel}' is a symbolic link to nothing; nothing was registered.`);
      if (kind.isDirectory()) walk(abs, rel);
      else if (kind.isFile()) out.push({ abs, rel });
    }
    walked.delete(real);
  };
  walk(absPath, '');
  if (out.length === 0) throw invalid(`Model folder '${shown}' holds no files: nothing to register.`);
  // An .onnx file in the folder that is plainly no model (empty, a Git LFS pointer, a damaged or
  // truncated start) is refused, from its first bytes only: a folder's files are not read whole
  // here. A file no longer than those bytes is judged whole.
  for (const f of out) {
    if (!f.rel.toLowerCase().endsWith('.onnx')) continue;
    const problem = onnxStartProblem(f.abs);
    if (problem) throw invalid(`Model folder '${shown}': its '${f.rel}' is ${problem}; nothing was registered.`);
  }
  return out;
}

export interface LineageRun {
  runId: string;
  runName: string;
  status: string;
  /** The pipeline stage the run ran (`runwise.stage`), if any. */
  stage?: string;
  /** The run it is a child of (a stage run's pipeline run), if any. */
  parentRunId?: string;
  datasets: { name: string; digest: string; source: string }[];
}

export interface EvaluationRun extends LineageRun {
  metrics: { key: string; value: number }[];
}

/**
 * Where a version came from and where it went: its source run's datasets (by hash), the pipeline
 * run above it and that run's stage runs, the runs that evaluated the same model bytes (tagged
 * MODEL_SHA256_TAG with the version's hash), and its aliases with their moves.
 */
export interface ModelLineage {
  version: ModelVersion;
  datasets: { name: string; digest: string; source: string }[];
  sourceRun?: LineageRun;
  pipelineRun?: LineageRun;
  stageRuns: LineageRun[];
  evaluations: EvaluationRun[];
  aliases: string[];
  aliasHistory: AliasMove[];
  /**
   * The run that wrote the registered file: the stage run whose outputs record holds the version's
   * file (the path and md5 its source run read it at), when its source run registered a file another
   * stage made (a pipeline's `register` step after `train`); else the source run itself.
   */
  producedBy?: string;
}

/**
 * The runs, before `runs` started, that last wrote a file version one of them read (and upstream of
 * those), earliest first: from every run's outputs record (OUTPUTS_ARTIFACT: [{path, md5}]).
 */
function earlierProducers(tracker: LineageReader, runs: readonly LineageRun[], asLineage: (run: Run) => LineageRun): LineageRun[] {
  /** path and md5 → the runs that wrote it, oldest first, with their start. */
  const writers = new Map<string, { runId: string; start: number }[]>();
  const starts = new Map<string, number>();
  for (const { runId, startTime } of runsWithOutputs(tracker)) {
    starts.set(runId, startTime);
    for (const o of recordedOutputs(tracker, runId)) {
      if (o.md5 === null) continue;
      const key = outputKey(o.path, o.md5);
      const list = writers.get(key) ?? [];
      list.push({ runId, start: startTime });
      writers.set(key, list);
    }
  }
  if (writers.size === 0) return [];
  const included = new Set(runs.map((r) => r.runId));
  const firstStart = Math.min(...runs.map((r) => starts.get(r.runId) ?? tracker.getRun(r.runId).info.startTime ?? Infinity));
  const found: { run: LineageRun; start: number }[] = [];
  let frontier: readonly LineageRun[] = runs;
  while (frontier.length > 0) {
    const next: LineageRun[] = [];
    for (const r of frontier) {
      for (const d of r.datasets) {
        // The last writer of that version that started before the runs of this lineage.
        const candidates = (writers.get(outputKey(d.source || d.name, d.digest)) ?? []).filter((w) => w.start < firstStart);
        const writer = candidates[candidates.length - 1];
        if (!writer || included.has(writer.runId)) continue;
        included.add(writer.runId);
        const run = asLineage(tracker.getRun(writer.runId));
        found.push({ run, start: writer.start });
        next.push(run);
      }
    }
    frontier = next;
  }
  return found.sort((a, b) => a.start - b.start).map((f) => f.run);
}

/** What lineage reads of the tracker. */
export interface LineageReader extends OutputsReader {
  getRun(runId: string): Run;
}

export function modelLineage(tracker: LineageReader, registry: ModelRegistry, name: string, version: string | number): ModelLineage {
  const mv = registry.getModelVersion(name, version);
  const asLineage = (run: Run): LineageRun => {
    const out: LineageRun = {
      runId: run.info.runId,
      runName: run.info.runName,
      status: run.info.status,
      datasets: run.inputs.map((i) => ({ name: i.dataset.name, digest: i.dataset.digest, source: i.dataset.source })),
    };
    const stage = run.tags.find((t) => t.key === STAGE_TAG)?.value;
    if (stage !== undefined) out.stage = stage;
    if (run.info.parentRunId) out.parentRunId = run.info.parentRunId;
    return out;
  };
  const runIfKnown = (runId: string | undefined): Run | undefined => {
    if (!runId) return undefined;
    try {
      return tracker.getRun(runId);
    } catch (e) {
      if (e instanceof TrackerError && e.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw e;
    }
  };
  let sourceRunId = mv.runId;
  if (!sourceRunId && mv.modelId) {
    const lm = tracker.db.prepare('SELECT source_run_id FROM logged_models WHERE model_id = ?').get(mv.modelId);
    if (lm?.source_run_id != null) sourceRunId = String(lm.source_run_id);
  }
  const source = runIfKnown(sourceRunId);
  const pipeline = runIfKnown(source?.info.parentRunId ?? undefined);
  const stageRuns = pipeline
    ? tracker.db
        .prepare("SELECT run_uuid FROM runs WHERE parent_id = (SELECT id FROM runs WHERE run_uuid = ?) AND lifecycle_stage = 'active' ORDER BY start_time, id")
        .all(pipeline.info.runId)
        .map((r) => asLineage(tracker.getRun(String(r.run_uuid))))
    : [];
  // Stages a rerun left as they were (prepare, when only train's params changed) ran in an earlier
  // pipeline run: the last run before it that wrote a file version these runs read (path and md5,
  // from its outputs record) is added, and so on upstream, as `runwise lineage` traces the graph.
  if (stageRuns.length > 0) stageRuns.unshift(...earlierProducers(tracker, stageRuns, asLineage));
  const evaluations = tracker.db
    .prepare(
      `SELECT r.run_uuid FROM tags t JOIN runs r ON r.id = t.run_id
        WHERE t.key = ? AND t.value = ? AND r.lifecycle_stage = 'active' ORDER BY r.start_time, r.id`,
    )
    .all(MODEL_SHA256_TAG, mv.sha256)
    .map((r) => {
      const run = tracker.getRun(String(r.run_uuid));
      return { ...asLineage(run), metrics: run.metrics.map((m) => ({ key: m.key, value: m.value })) };
    });
  const datasets = new Map<string, { name: string; digest: string; source: string }>();
  // One entry per file version, by path and digest (a stage's script may log a dependency again under
  // another name): the entry named by its path (the runner's) is the one kept. Upstream first: in the
  // order the stages ran (what `prepare` read before what `register` read), the source run's own
  // when it is no stage of a pipeline.
  const sourceIsStage = source !== undefined && stageRuns.some((s) => s.runId === source.info.runId);
  for (const d of [...stageRuns.flatMap((s) => s.datasets), ...(source && !sourceIsStage ? asLineage(source).datasets : [])]) {
    const key = `${d.source || d.name}\0${d.digest}`;
    const seen = datasets.get(key);
    if (!seen || (d.name === d.source && seen.name !== seen.source)) datasets.set(key, d);
  }
  const lineage: ModelLineage = {
    version: mv,
    datasets: [...datasets.values()],
    stageRuns,
    evaluations,
    aliases: mv.aliases,
    aliasHistory: registry.aliasHistory(mv.name).filter((m) => m.version === mv.version || m.previousVersion === mv.version),
  };
  if (source) lineage.sourceRun = asLineage(source);
  if (pipeline) lineage.pipelineRun = asLineage(pipeline);
  if (source) {
    // The registered file as the source run read it, and the latest stage run that wrote that version.
    const read = asLineage(source).datasets.filter((d) => (d.source || d.name) === mv.source).map((d) => outputKey(d.source || d.name, d.digest));
    const writer = [...stageRuns].reverse().find((r) => r.runId !== source.info.runId && recordedOutputs(tracker, r.runId).some((o) => o.md5 !== null && read.includes(outputKey(o.path, o.md5))));
    lineage.producedBy = writer?.runId ?? source.info.runId;
  }
  return lineage;
}

/**
 * The artifact-proxy root of registered versions' own copies: `mlflow-artifacts:/model-versions/<id>-<hash>`
 * (the version's row id and the start of its content hash, versionLocation; an experiment id is
 * never `model-versions`).
 */
export const MODEL_VERSION_ARTIFACT_ROOT = 'mlflow-artifacts:/model-versions';
