/**
 * The tracker's SQLite schema, migrated by `PRAGMA user_version`. Each migration runs once, in
 * order, inside one transaction; a database from a newer Runwise is refused rather than guessed at.
 *
 * Layout notes
 * - Runs have an integer `id` for joins and the MLflow-style 32-hex `run_uuid` for the outside.
 * - Run name, note and parent are also MLflow tags (`mlflow.runName`, `mlflow.note.content`,
 *   `mlflow.parentRunId`); `runs.name` and `runs.parent_id` mirror them for search and display.
 * - Metric keys are interned (`metric_keys`); points are append-only in `metrics`; the latest value
 *   per key is maintained on write in `latest_metrics` (MLflow's order: step, timestamp, value).
 * - `metric_rollups` holds per-block min/max/last at block sizes of 32, 1024 and 32768 steps, kept up
 *   to date on write, so a million-step history downsamples by reading a thousand rows, not a million.
 * - A NaN metric value is stored as NULL (SQLite has no NaN) and read back as NaN.
 * - Change tracking (migration 2): `change_counter` holds one sequence number that every write
 *   transaction touching a run or an experiment advances; the row it touched takes the new number in
 *   its `change_seq`. A viewer remembers the number it has seen and reads back only the rows above
 *   it (`Tracker.changesSince`), instead of re-reading the whole table when the database file moves.
 * - Logged models (migration 4), MLflow 3's model entity: an integer `id` for joins and the
 *   `m-<32 hex>` `model_id` outside; tags, params and linked metrics hang off it, its files are in
 *   `logged_model_artifacts` (content-addressed like run artifacts), and `run_model_links` records
 *   the runs/outputs (and model inputs) that tie runs to models. Deleting one is a soft delete.
 * - The model registry (migration 5): `registered_models` by unique name; `model_versions` numbered
 *   1, 2, … per model inside the write transaction, immutable but for description, stage and tags,
 *   their files in `model_version_files` (blobs of the artifact store); aliases point at a version
 *   number and every move is kept in `model_alias_history`. No foreign key cascades (the pragma is
 *   off): the registry deletes child rows itself. `registered_models.last_version` (migration 6) is
 *   the highest number given, so a deleted version's number is not given again, as in MLflow.
 */
import { openSqlDatabase, type SqlDatabase } from './sqlStore';
import { TrackerOpenError, openFailure } from './trackerOpenError';

/** Rollup block sizes by level; level 0 is the raw `metrics` table. */
export const ROLLUP_BLOCK_SIZES = [1, 32, 1024, 32768] as const;

const migrations: string[] = [
  // 1: the initial layout
  `
  CREATE TABLE experiments (
    experiment_id     INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
  );
  CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
  ) WITHOUT ROWID;

  -- One row per process that opened the tracker for writing; a RUNNING run names its owner, so a
  -- run whose owner died can be told from one that is still going.
  CREATE TABLE sessions (
    session_id INTEGER PRIMARY KEY,
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    proc_start TEXT,
    opened_at  INTEGER NOT NULL
  );

  CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    run_uuid        TEXT NOT NULL UNIQUE,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id),
    name            TEXT NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    artifact_uri    TEXT NOT NULL,
    parent_id       INTEGER REFERENCES runs(id),
    session_id      INTEGER REFERENCES sessions(session_id)
  );
  CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
  CREATE INDEX runs_running ON runs(session_id) WHERE status = 'RUNNING';

  CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX params_by_key ON params(key, value);

  CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX tags_by_key ON tags(key, value);

  CREATE TABLE metric_keys (
    key_id INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE
  );

  -- Append-only points. No foreign key here: it would cost a lookup per point on the hot path;
  -- the tracker checks the run once per batch instead.
  CREATE TABLE metrics (
    run_id    INTEGER NOT NULL,
    key_id    INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL
  );
  CREATE INDEX metrics_by_series ON metrics(run_id, key_id, step);

  CREATE TABLE latest_metrics (
    run_id    INTEGER NOT NULL,
    key_id    INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL,
    PRIMARY KEY (run_id, key_id)
  ) WITHOUT ROWID;
  CREATE INDEX latest_metrics_by_value ON latest_metrics(key_id, value);

  CREATE TABLE metric_rollups (
    run_id         INTEGER NOT NULL,
    key_id         INTEGER NOT NULL,
    level          INTEGER NOT NULL,
    block          INTEGER NOT NULL,
    min            REAL,
    max            REAL,
    last_step      INTEGER NOT NULL,
    last_timestamp INTEGER NOT NULL,
    last_value     REAL,
    count          INTEGER NOT NULL,
    PRIMARY KEY (run_id, key_id, level, block)
  ) WITHOUT ROWID;

  CREATE TABLE artifacts (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    size    INTEGER NOT NULL,
    sha256  TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
  ) WITHOUT ROWID;

  CREATE TABLE datasets (
    dataset_id    INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    source_type   TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    schema        TEXT,
    profile       TEXT,
    UNIQUE (experiment_id, name, digest)
  );
  CREATE TABLE run_inputs (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL REFERENCES datasets(dataset_id),
    tags       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, dataset_id)
  ) WITHOUT ROWID;
  `,
  // 2: change tracking for viewers (see the note above); existing rows count as changed once
  `
  CREATE TABLE change_counter (
    id  INTEGER PRIMARY KEY CHECK (id = 0),
    seq INTEGER NOT NULL
  );
  ALTER TABLE runs ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE experiments ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
  UPDATE runs SET change_seq = 1;
  UPDATE experiments SET change_seq = 1;
  INSERT INTO change_counter (id, seq) VALUES (0, 1);
  CREATE INDEX runs_by_change ON runs(change_seq);
  `,
  // 3: a session's pid namespace and boot, so an owner in another container (same host name,
  // other pids) is not taken for dead, and one from before a reboot is known to be
  `
  ALTER TABLE sessions ADD COLUMN pid_ns TEXT;
  ALTER TABLE sessions ADD COLUMN boot_id TEXT;
  `,
  // 4: MLflow 3's logged models (see the note above)
  `
  CREATE TABLE logged_models (
    id                        INTEGER PRIMARY KEY,
    model_id                  TEXT NOT NULL UNIQUE,
    experiment_id             INTEGER NOT NULL REFERENCES experiments(experiment_id),
    name                      TEXT NOT NULL,
    artifact_location         TEXT NOT NULL,
    creation_timestamp_ms     INTEGER NOT NULL,
    last_updated_timestamp_ms INTEGER NOT NULL,
    status                    TEXT NOT NULL CHECK (status IN ('LOGGED_MODEL_STATUS_UNSPECIFIED', 'LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED')),
    status_message            TEXT,
    lifecycle_stage           TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    model_type                TEXT,
    source_run_id             TEXT
  );
  CREATE INDEX logged_models_by_experiment ON logged_models(experiment_id, creation_timestamp_ms);
  CREATE INDEX logged_models_by_source_run ON logged_models(source_run_id);

  CREATE TABLE logged_model_tags (
    model_id INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX logged_model_tags_by_key ON logged_model_tags(key, value);

  CREATE TABLE logged_model_params (
    model_id INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX logged_model_params_by_key ON logged_model_params(key, value);

  -- Every point logged with a model_id, as MLflow keeps them (its primary key included); the
  -- point also lands in the run's own metrics.
  CREATE TABLE logged_model_metrics (
    model_id       INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    timestamp      INTEGER NOT NULL,
    step           INTEGER NOT NULL,
    run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    value          REAL,
    dataset_name   TEXT,
    dataset_digest TEXT,
    PRIMARY KEY (model_id, key, timestamp, step, run_id)
  ) WITHOUT ROWID;
  CREATE INDEX logged_model_metrics_by_key ON logged_model_metrics(key, value);

  -- runs/outputs (direction 'output', with its step) and runs/log-inputs' models ('input').
  CREATE TABLE run_model_links (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
    model_id  INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    step      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, direction, model_id, step)
  ) WITHOUT ROWID;
  CREATE INDEX run_model_links_by_model ON run_model_links(model_id);

  -- A model's files, content-addressed like run artifacts.
  CREATE TABLE logged_model_artifacts (
    model_id INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    sha256   TEXT NOT NULL,
    created  INTEGER NOT NULL,
    PRIMARY KEY (model_id, path)
  ) WITHOUT ROWID;
  `,
  // 5: the model registry (see core/tracker/modelRegistry.ts): registered models, their immutable
  // versions (numbered per model inside the write transaction), the version's files as
  // content-addressed blobs, tags, aliases and each alias move
  `
  CREATE TABLE registered_models (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT NOT NULL DEFAULT '',
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL
  );
  CREATE TABLE registered_model_tags (
    model_id INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE model_versions (
    id                INTEGER PRIMARY KEY,
    model_id          INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    version           INTEGER NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    user_id           TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL DEFAULT '',
    current_stage     TEXT NOT NULL DEFAULT 'None' CHECK (current_stage IN ('None', 'Staging', 'Production', 'Archived')),
    source            TEXT NOT NULL,
    run_id            TEXT,
    run_link          TEXT,
    logged_model_id   TEXT,
    status            TEXT NOT NULL DEFAULT 'READY' CHECK (status IN ('PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY')),
    sha256            TEXT NOT NULL,
    size              INTEGER NOT NULL,
    card_path         TEXT,
    card_sha256       TEXT,
    card_size         INTEGER,
    UNIQUE (model_id, version)
  );
  CREATE INDEX model_versions_by_run ON model_versions(run_id);
  CREATE INDEX model_versions_by_sha256 ON model_versions(sha256);

  CREATE TABLE model_version_tags (
    version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (version_id, key)
  ) WITHOUT ROWID;

  -- The version's files, each a blob of the artifact store: a copy no later upload can change.
  CREATE TABLE model_version_files (
    version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (version_id, path)
  ) WITHOUT ROWID;

  CREATE TABLE registered_model_aliases (
    model_id INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    alias    TEXT NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (model_id, alias)
  ) WITHOUT ROWID;

  -- Every move of an alias: version NULL when it was deleted, previous_version NULL when it was new.
  CREATE TABLE model_alias_history (
    id               INTEGER PRIMARY KEY,
    model_id         INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    alias            TEXT NOT NULL,
    version          INTEGER,
    previous_version INTEGER,
    user_id          TEXT NOT NULL DEFAULT '',
    changed_at       INTEGER NOT NULL
  );
  CREATE INDEX model_alias_history_by_model ON model_alias_history(model_id, alias, id);
  `,
  // 6: the highest version number a registered model has given, so that a deleted version's number
  // is never given again (MLflow keeps a deleted version's row for this)
  `
  ALTER TABLE registered_models ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
  UPDATE registered_models SET last_version = coalesce((SELECT max(version) FROM model_versions WHERE model_id = registered_models.id), 0);
  `,
];

export const SCHEMA_VERSION = migrations.length;

/** The migrations' SQL, in order: migration i + 1 is `MIGRATIONS[i]` (tests build older databases with it). */
export const MIGRATIONS: readonly string[] = migrations;

/** One row of `sqlite_schema`, as compared. */
interface SchemaObject {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

const CANONICAL_TYPES: ReadonlySet<string> = new Set(['table', 'index', 'view', 'trigger']);
const expectedByVersion = new Map<number, { required: SchemaObject[]; optional: SchemaObject[] }>();

/**
 * The objects a Runwise database at schema `version` holds: derived by applying the migrations up
 * to it to an empty in-memory database, once per version. Optional are the tables SQLite itself
 * adds on `ANALYZE` or `PRAGMA optimize` (`sqlite_stat1`, `sqlite_stat4`), which hold statistics,
 * no code. Because the stored SQL is compared byte for byte (ALTER TABLE appends to it), a released
 * migration's text must never be edited: add a new migration instead.
 */
function expectedObjects(version: number, backend: SqlDatabase['backend']): { required: SchemaObject[]; optional: SchemaObject[] } {
  let expected = expectedByVersion.get(version);
  if (!expected) {
    const mem = openSqlDatabase(':memory:', { backend });
    try {
      for (let i = 0; i < version; i++) mem.exec(migrations[i]!);
      const required = schemaObjects(mem);
      mem.exec('ANALYZE');
      const optional = schemaObjects(mem).filter((o) => o.name.startsWith('sqlite_stat'));
      expected = { required, optional };
    } finally {
      mem.close();
    }
    expectedByVersion.set(version, expected);
  }
  return expected;
}

/** The rows of `sqlite_schema`, read as bytes: node:sqlite would cut a text at a NUL byte. */
function schemaObjects(db: SqlDatabase): SchemaObject[] {
  const text = (v: unknown) => Buffer.from(v as Uint8Array).toString('utf8');
  return db
    .prepare('SELECT CAST(type AS BLOB) AS type, CAST(name AS BLOB) AS name, CAST(tbl_name AS BLOB) AS tbl_name, CAST(sql AS BLOB) AS sql FROM sqlite_schema ORDER BY rowid')
    .all()
    .map((r) => ({ type: text(r.type), name: text(r.name), tbl_name: text(r.tbl_name), sql: r.sql == null ? null : text(r.sql) }));
}

const sameObject = (a: SchemaObject, b: SchemaObject) => a.type === b.type && a.name === b.name && a.tbl_name === b.tbl_name && a.sql === b.sql;
/** A name or type as it is, control characters escaped (a crafted row may hold a NUL or a newline). */
const shown = (s: string) => JSON.stringify(s).slice(1, -1);

/**
 * Refuses a database holding any object Runwise does not create at schema `version`, or one of its
 * own objects altered. A tracker.db comes with the workspace, which may be someone else's
 * repository: a view or trigger there would run an attacker's SQL (an endless recursive view hangs
 * whoever reads it; a trigger rewrites what is logged) the moment the Runs view opens the file.
 * This is an allow-list: every row of `sqlite_schema` must be one Runwise creates, type spelled in
 * SQLite's own lower case (SQLite accepts `VIEW`, `View` or `trigger\0` there and acts on them).
 */
export function checkSchemaObjects(db: SqlDatabase, version: number): void {
  const { required, optional } = expectedObjects(version, db.backend);
  const unmatched = [...required];
  const refuse = (what: string) => {
    throw new TrackerOpenError(
      'foreign-objects',
      db.path,
      `${db.path} ${what}; refusing to open it. If this repository's tracker.db is not yours, move it aside ` +
        '(Runwise then starts a new one); if it is, remove the object with the sqlite3 shell.',
    );
  };
  for (const o of schemaObjects(db)) {
    const i = unmatched.findIndex((e) => sameObject(e, o));
    if (i >= 0) {
      unmatched.splice(i, 1);
      continue;
    }
    if (optional.some((e) => sameObject(e, o))) continue;
    const lower = o.type.toLowerCase().replace(/\0.*$/s, '');
    const type = CANONICAL_TYPES.has(lower) ? lower : 'object';
    const spelled = o.type === type ? '' : ` (its type spelled '${shown(o.type)}')`;
    const own = required.find((e) => e.name === o.name);
    if (own && own.type === o.type) refuse(`has Runwise's ${type} '${shown(o.name)}' altered (its definition differs from schema ${version}'s)`);
    refuse(`contains a ${type} '${shown(o.name)}'${spelled} that Runwise does not create`);
  }
  if (unmatched.length > 0) {
    const o = unmatched[0]!;
    throw new TrackerOpenError(
      'corrupt',
      db.path,
      `${db.path} lacks Runwise's ${o.type} '${o.name}' (schema ${version}): it is damaged or not a Runwise tracker; move it aside and Runwise starts a new one`,
    );
  }
}

/**
 * Checks that `db` is a tracker this Runwise may open, a schema it knows (not a newer one) holding
 * exactly Runwise's objects, and returns its schema version. Runs before anything is written (see
 * OpenOptions.checkBeforeWrite) and again in `migrate`.
 */
export function checkTrackerSchema(db: SqlDatabase): number {
  // The version and the objects from one snapshot: another process may be creating or migrating
  // the schema (both in one transaction), and a version read before its commit with objects read
  // after it would look like foreign objects.
  return db.readSnapshot(() => {
    const current = userVersion(db);
    if (current > SCHEMA_VERSION) {
      throw new TrackerOpenError(
        'newer-schema',
        db.path,
        `${db.path} was written by a newer Runwise (schema ${current}; this one knows ${SCHEMA_VERSION}): upgrade Runwise to open it`,
      );
    }
    checkSchemaObjects(db, current);
    return current;
  });
}

export function migrate(db: SqlDatabase, now: () => number = Date.now): void {
  const current = checkTrackerSchema(db);
  if (current === SCHEMA_VERSION) return;
  if (db.readOnly) {
    throw new TrackerOpenError(
      'read-only',
      db.path,
      `${db.path} has schema ${current}, older than this Runwise's ${SCHEMA_VERSION}, and is open read-only: ` +
        'open it once for writing (in a trusted workspace, or with any runwise command) to migrate it',
    );
  }
  try {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const v = userVersion(db);
      if (v !== current) checkSchemaObjects(db, v);
      for (let i = v; i < migrations.length; i++) db.exec(migrations[i]!);
      if (v === 0) {
        const t = now();
        db.prepare(
          'INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) VALUES (0, ?, ?, ?, ?)',
        ).run('Default', 'mlflow-artifacts:/0', t, t);
      }
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  } catch (e) {
    if (e instanceof TrackerOpenError) throw e;
    throw openFailure(e, db.path, current === 0 ? undefined : { from: current, to: SCHEMA_VERSION });
  }
}

function userVersion(db: SqlDatabase): number {
  return Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
}
