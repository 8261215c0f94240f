/**
 * The tracker's files as a repository may carry them: a crafted tracker.db (objects Runwise does
 * not create, however their type is spelled), symbolic links inside `.runwise/`, a read-only open
 * that must write nothing, and the errors the CLI prints for a tracker it cannot open.
 * Runs under both SQLite backends (the sqlite-fallback layer runs it again with node:sqlite).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../core/cli/main';
import { errorReply } from '../../core/endpoint/httpErrors';
import { MIGRATIONS, SCHEMA_VERSION } from '../../core/tracker/schema';
import { openSqlDatabase, type SqlDatabase } from '../../core/tracker/sqlStore';
import { Tracker } from '../../core/tracker/tracker';
import { TrackerOpenError, damagedTracker, type TrackerOpenProblem } from '../../core/tracker/trackerOpenError';
import { artifactsDir, runwiseDir, trackerDbPath } from '../../core/workspace/workspacePath';
import { tempWorkspace } from '../support/tempWorkspace';
import { onnxBytes } from '../support/onnxBytes';

/** A connection that may write `sqlite_schema` (better-sqlite3 in unsafe mode, else node:sqlite). */
function rawDatabase(file: string): { exec(sql: string): void; close(): void } {
  const req = createRequire(__filename);
  try {
    const Database = req('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(file);
    db.unsafeMode(true);
    return db;
  } catch {
    const { DatabaseSync } = req('node:sqlite') as { DatabaseSync: new (p: string) => { exec(sql: string): void; close(): void } };
    return new DatabaseSync(file);
  }
}

/** A workspace whose tracker.db has had `sql` run on it with `writable_schema` on. */
function crafted(sql: string): string {
  const ws = tempWorkspace('crafted');
  Tracker.open(ws).close();
  const db = rawDatabase(trackerDbPath(ws));
  db.exec('PRAGMA writable_schema = ON');
  db.exec(sql);
  db.exec('PRAGMA writable_schema = OFF');
  db.close();
  return ws;
}

function refusedWith(fn: () => unknown, problem: TrackerOpenProblem, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TrackerOpenError, `expected a TrackerOpenError, got ${String(e)}`);
    assert.equal(e.problem, problem, e.message);
    assert.match(e.message, message);
    return true;
  });
}

function schemaRows(db: SqlDatabase): unknown[] {
  return db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name').all().map((r) => ({ ...r }));
}

/** Every file under `dir` with its bytes' digest: equal listings mean nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, name);
    try {
      out[name] = createHash('sha256').update(readFileSync(p)).digest('hex');
    } catch {
      out[name] = 'dir';
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Objects Runwise does not create

const RECURSIVE_VIEW = 'CREATE VIEW endless AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c';
const TRIGGER = "CREATE TRIGGER sneaky AFTER INSERT ON metrics BEGIN DELETE FROM metrics; END";

test('schema rows typed VIEW, TRIGGER, View or trigger\\0 are refused, naming the object and its spelling', () => {
  const rows = [
    ["'VIEW'", 'endless', 'endless', RECURSIVE_VIEW],
    ["'TRIGGER'", 'sneaky', 'metrics', TRIGGER],
    ["'View'", 'endless', 'endless', RECURSIVE_VIEW],
    ["'trigger' || char(0)", 'sneaky', 'metrics', TRIGGER],
  ] as const;
  for (const [type, name, table, sql] of rows) {
    const ws = crafted(
      `INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES (${type}, '${name}', '${table}', 0, '${sql.replace(/'/g, "''")}')`,
    );
    const message = new RegExp(`contains a (view|trigger) '${name}' \\(its type spelled '[^']+'\\) that Runwise does not create; refusing to open it`);
    refusedWith(() => Tracker.open(ws), 'foreign-objects', message);
    refusedWith(() => Tracker.open(ws, { readonly: true, skipRecovery: true }), 'foreign-objects', message);
  }
});

test('an extra table, or a Runwise table or index whose SQL was altered, is refused', () => {
  refusedWith(() => Tracker.open(crafted('CREATE TABLE extra (x)')), 'foreign-objects', /contains a table 'extra' that Runwise does not create/);
  const altered = crafted(
    "UPDATE sqlite_schema SET sql = 'CREATE INDEX runs_by_experiment ON runs(experiment_id)' WHERE name = 'runs_by_experiment'",
  );
  refusedWith(() => Tracker.open(altered), 'foreign-objects', /has Runwise's index 'runs_by_experiment' altered/);
  const table = crafted("UPDATE sqlite_schema SET sql = replace(sql, 'value  TEXT NOT NULL', 'value  TEXT') WHERE name = 'params'");
  refusedWith(() => Tracker.open(table), 'foreign-objects', /has Runwise's table 'params' altered/);
  const dropped = crafted("DELETE FROM sqlite_schema WHERE name = 'tags_by_key'");
  refusedWith(() => Tracker.open(dropped), 'corrupt', /lacks Runwise's index 'tags_by_key'/);
});

test("another application's database (rollback journal) is refused before anything is written: not even WAL mode", () => {
  const ws = tempWorkspace('other-app');
  mkdirSync(runwiseDir(ws));
  const db = rawDatabase(trackerDbPath(ws));
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
  db.exec("INSERT INTO users (name) VALUES ('ada')");
  db.close();
  const before = snapshot(ws);
  assert.equal(readFileSync(trackerDbPath(ws))[18], 1, 'the fixture is in rollback-journal mode');
  refusedWith(() => Tracker.open(ws), 'foreign-objects', /contains a table 'users' that Runwise does not create/);
  assert.deepEqual(snapshot(ws), before, 'the file is byte for byte as it was, and nothing was created beside it');
});

/** A workspace whose tracker was written by a Runwise of schema `version`. */
function atSchema(version: number): string {
  const ws = tempWorkspace(`v${version}`);
  mkdirSync(runwiseDir(ws));
  const db = openSqlDatabase(trackerDbPath(ws));
  db.transaction(() => {
    for (const m of MIGRATIONS.slice(0, version)) db.exec(m);
    db.exec("INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) VALUES (0, 'Default', 'mlflow-artifacts:/0', 1, 1)");
    db.exec(`PRAGMA user_version = ${version}`);
  });
  db.close();
  return ws;
}

test('a database migrated from every older schema opens, with the same schema as a fresh one', () => {
  const fresh = tempWorkspace('fresh');
  const t = Tracker.open(fresh);
  const expected = schemaRows(t.db);
  t.close();
  for (let version = 1; version < SCHEMA_VERSION; version++) {
    const ws = atSchema(version);
    const migrated = Tracker.open(ws);
    try {
      assert.deepEqual(schemaRows(migrated.db), expected, `migrated from schema ${version}`);
      assert.equal(migrated.createRun().info.status, 'RUNNING');
    } finally {
      migrated.close();
    }
    Tracker.open(ws).close(); // and it opens again, checked at the current schema
  }
});

test('migrating a registry from schema 5: the highest number is remembered (versions 1 and 3, 3 then deleted: 4 next); a model with none gives 1', async () => {
  const ws = atSchema(5);
  const db = openSqlDatabase(trackerDbPath(ws));
  db.exec(`INSERT INTO registered_models (id, name, creation_time, last_updated_time) VALUES (1, 'churn', 1, 1), (2, 'empty', 1, 1);
    INSERT INTO model_versions (model_id, version, creation_time, last_updated_time, source, sha256, size) VALUES (1, 1, 1, 1, 's', 'x', 1), (1, 3, 1, 1, 's', 'x', 1)`);
  db.close();
  const model = path.join(ws, 'model.onnx');
  writeFileSync(model, onnxBytes('onnx'));
  const t = Tracker.open(ws);
  try {
    // Deleted after the migration: only the migrated last_version still knows 3 was given.
    t.registry.deleteModelVersion('churn', 3);
    assert.equal((await t.registerModelFiles('churn', model)).version, '4');
    assert.equal((await t.registerModelFiles('empty', model)).version, '1');
  } finally {
    t.close();
  }
});

test('an older schema that cannot be migrated says so: locked by another process, or opened read-only', () => {
  const ws = atSchema(SCHEMA_VERSION - 1);
  const holder = rawDatabase(trackerDbPath(ws));
  holder.exec('BEGIN EXCLUSIVE');
  try {
    refusedWith(
      () => Tracker.open(ws, { busyTimeoutMs: 10, busyRetryMs: 10 }),
      'locked',
      new RegExp(`while migrating it from schema ${SCHEMA_VERSION - 1} to ${SCHEMA_VERSION} .*another process holds it locked`),
    );
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
  refusedWith(() => Tracker.open(ws, { readonly: true, skipRecovery: true }), 'read-only', /older than this Runwise's .* open it once for writing/);
  Tracker.open(ws).close();
});

test('statistics tables SQLite adds on ANALYZE are accepted', () => {
  const ws = tempWorkspace('analyzed');
  const t = Tracker.open(ws);
  t.createRun();
  t.close();
  const db = rawDatabase(trackerDbPath(ws));
  db.exec('ANALYZE');
  db.close();
  Tracker.open(ws).close();
});

// ---------------------------------------------------------------------------------------------
// Symbolic links inside .runwise/

/** Another application's SQLite database, outside the workspace. */
function foreignDatabase(): string {
  const file = path.join(tempWorkspace('other-app'), 'app.db');
  const db = rawDatabase(file);
  db.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT); INSERT INTO accounts (owner) VALUES ('someone')");
  db.close();
  return file;
}

test("a tracker.db linked to another application's database is refused, and that database left as it was", () => {
  const target = foreignDatabase();
  const before = snapshot(path.dirname(target));
  const ws = tempWorkspace('linked-db');
  mkdirSync(runwiseDir(ws));
  symlinkSync(target, trackerDbPath(ws));
  const message = /tracker\.db \(the tracker database\) is a symbolic link; Runwise does not follow links inside \.runwise\/.*replace the link/;
  refusedWith(() => Tracker.open(ws), 'symbolic-link', message);
  refusedWith(() => Tracker.open(ws, { readonly: true, skipRecovery: true }), 'symbolic-link', message);
  assert.deepEqual(snapshot(path.dirname(target)), before);
});

test('a linked .runwise folder or a linked -wal beside tracker.db is refused', () => {
  const elsewhere = tempWorkspace('elsewhere');
  const ws = tempWorkspace('linked-dir');
  symlinkSync(elsewhere, runwiseDir(ws));
  refusedWith(() => Tracker.open(ws), 'symbolic-link', /\.runwise \(the tracker folder\) is a symbolic link/);
  assert.deepEqual(readdirSync(elsewhere), []);

  const ws2 = tempWorkspace('linked-wal');
  Tracker.open(ws2).close();
  symlinkSync(path.join(elsewhere, 'x'), `${trackerDbPath(ws2)}-wal`);
  refusedWith(() => Tracker.open(ws2), 'symbolic-link', /tracker\.db-wal .* is a symbolic link/);
  assert.deepEqual(readdirSync(elsewhere), []);
});

test('a blob linked to a secret file is not served, for runs and logged models alike', async () => {
  const secret = path.join(tempWorkspace('home'), 'id_rsa');
  writeFileSync(secret, 'PRIVATE KEY');
  const ws = tempWorkspace('linked-blob');
  const t = Tracker.open(ws);
  try {
    const run = t.createRun().info.runId;
    const stored = await t.putArtifact(run, 'model.txt', Buffer.from('weights'));
    const model = t.createLoggedModel();
    await t.putLoggedModelArtifact(model.modelId, 'model.txt', Buffer.from('weights'));
    const blob = t.artifacts.blobPath(stored.sha256);
    // Opened while it was a real file, then swapped for a link: reading must not follow it.
    const early = t.openArtifact(run, 'model.txt');
    unlinkSync(blob);
    symlinkSync(secret, blob);
    await assert.rejects(
      async () => {
        for await (const chunk of early.stream()) assert.fail(`served ${String(chunk)}`);
      },
      { code: 'ELOOP' },
    );
    const message = /sha256 .* is a symbolic link; Runwise does not follow links/;
    refusedWith(() => t.openArtifact(run, 'model.txt'), 'symbolic-link', message);
    refusedWith(() => t.openLoggedModelArtifact(model.modelId, 'model.txt'), 'symbolic-link', message);
  } finally {
    t.close();
  }
});

test('an upload through a linked shard folder, artifact root or tmp folder is refused and writes nothing outside', async () => {
  const content = Buffer.from('uploaded bytes');
  const sha = createHash('sha256').update(content).digest('hex');
  for (const linked of [`sha256/${sha.slice(0, 2)}`, 'sha256', 'tmp', '']) {
    const outside = tempWorkspace('outside');
    const ws = tempWorkspace('linked-shard');
    const t = Tracker.open(ws);
    try {
      const run = t.createRun().info.runId;
      const at = path.join(artifactsDir(ws), linked);
      mkdirSync(path.dirname(at), { recursive: true });
      symlinkSync(outside, at);
      await assert.rejects(t.putArtifact(run, 'data.bin', content), (e: unknown) => {
        assert.ok(e instanceof TrackerOpenError && e.problem === 'symbolic-link', String(e));
        return true;
      });
      assert.deepEqual(readdirSync(outside), [], `nothing lands through ${linked || 'the artifact root'}`);
      assert.deepEqual(t.listArtifacts(run), []);
    } finally {
      t.close();
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Read-only opens write nothing

/** A workspace with a tracker in WAL mode, closed cleanly (no -wal, no -shm left). */
function closedTracker(): { ws: string; run: string } {
  const ws = tempWorkspace('readonly');
  const t = Tracker.open(ws);
  const run = t.createRun({ runName: 'first' }).info.runId;
  t.logBatch(run, { metrics: [{ key: 'loss', value: 0.5, step: 0, timestamp: 1 }] });
  t.close();
  assert.deepEqual(readdirSync(runwiseDir(ws)), ['tracker.db']);
  return { ws, run };
}

test('a read-only open of a WAL tracker with no -wal or -shm writes nothing beside it, yet sees later writes', () => {
  const { ws, run } = closedTracker();
  const before = snapshot(runwiseDir(ws));
  const reader = Tracker.open(ws, { readonly: true, skipRecovery: true });
  try {
    assert.equal(reader.getRun(run).info.runName, 'first');
    assert.equal(reader.searchRuns({}).items.length, 1);
    assert.deepEqual(snapshot(runwiseDir(ws)), before, 'while open');
    // A writer comes along: the reader follows it (through the files the writer made).
    const writer = Tracker.open(ws);
    try {
      writer.createRun({ runName: 'second' });
      assert.deepEqual(
        reader.searchRuns({}).items.map((r) => r.info.runName).sort(),
        ['first', 'second'],
      );
    } finally {
      writer.close();
    }
  } finally {
    reader.close();
  }
  const { ws: ws2 } = closedTracker();
  const before2 = snapshot(runwiseDir(ws2));
  Tracker.open(ws2, { readonly: true, skipRecovery: true }).close();
  assert.deepEqual(snapshot(runwiseDir(ws2)), before2, 'after close');
});

test('a read-only reader sees commits still in the -wal', () => {
  const { ws } = closedTracker();
  const writer = Tracker.open(ws);
  try {
    writer.createRun({ runName: 'in-the-wal' });
    assert.ok(readdirSync(runwiseDir(ws)).includes('tracker.db-wal'));
    const reader = Tracker.open(ws, { readonly: true, skipRecovery: true });
    try {
      assert.ok(reader.searchRuns({}).items.some((r) => r.info.runName === 'in-the-wal'));
    } finally {
      reader.close();
    }
  } finally {
    writer.close();
  }
});

test('a repository that carries tracker.db and its -wal but no -shm: read-only, the commits are seen and nothing is created or changed', () => {
  const { ws } = closedTracker();
  const writer = Tracker.open(ws);
  const cloned = tempWorkspace('cloned-with-wal');
  mkdirSync(runwiseDir(cloned));
  try {
    writer.createRun({ runName: 'only-in-the-wal' });
    // What a repository would carry: the two files as they are on disk while the writer works.
    copyFileSync(trackerDbPath(ws), trackerDbPath(cloned));
    copyFileSync(`${trackerDbPath(ws)}-wal`, `${trackerDbPath(cloned)}-wal`);
  } finally {
    writer.close();
  }
  assert.ok(statSync(`${trackerDbPath(cloned)}-wal`).size > 0);
  const before = snapshot(cloned);
  const reader = Tracker.open(cloned, { readonly: true, skipRecovery: true });
  try {
    assert.ok(reader.searchRuns({}).items.some((r) => r.info.runName === 'only-in-the-wal'), 'the commits in the -wal are read');
    assert.deepEqual(snapshot(cloned), before, 'no -shm created, no byte changed');
  } finally {
    reader.close();
  }
  assert.deepEqual(snapshot(cloned), before);
});

test('a read-only open of a workspace without a tracker creates nothing', () => {
  const ws = tempWorkspace('empty');
  assert.throws(() => Tracker.open(ws, { readonly: true, skipRecovery: true }), TrackerOpenError);
  assert.deepEqual(readdirSync(ws), []);
});

// ---------------------------------------------------------------------------------------------
// What the CLI says about a tracker it cannot open

async function runsList(ws: string): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main(['runs', 'list', '--workspace', ws], { out: () => undefined, err: (t) => (err += t) });
  return { code, err };
}

test('the CLI reports a tracker it cannot open as a user error saying what to do', async () => {
  const newer = tempWorkspace('newer');
  Tracker.open(newer).close();
  const db = openSqlDatabase(trackerDbPath(newer));
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();

  const notDb = tempWorkspace('notdb');
  mkdirSync(runwiseDir(notDb));
  writeFileSync(trackerDbPath(notDb), 'these are not the bytes of a database, but long enough to look at '.repeat(20));

  const damaged = tempWorkspace('damaged');
  Tracker.open(damaged).close();
  const bytes = readFileSync(trackerDbPath(damaged));
  bytes.fill(0xa5, 100, 4096); // page 1 (the schema) past the header
  writeFileSync(trackerDbPath(damaged), bytes);

  const linked = tempWorkspace('cli-linked');
  mkdirSync(runwiseDir(linked));
  symlinkSync(foreignDatabase(), trackerDbPath(linked));

  const cases: [string, RegExp][] = [
    [newer, /was written by a newer Runwise \(schema \d+; this one knows \d+\): upgrade Runwise/],
    [notDb, /not an SQLite database: move it aside/],
    [damaged, /it is damaged: move it aside/],
    [crafted(`INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES ('VIEW', 'endless', 'endless', 0, '${RECURSIVE_VIEW}')`), /contains a view 'endless'/],
    [linked, /is a symbolic link.*replace the link/],
  ];
  for (const [ws, message] of cases) {
    const r = await runsList(ws);
    assert.equal(r.code, 1, r.err);
    assert.doesNotMatch(r.err, /internal error/);
    assert.match(r.err, /^runwise: /);
    assert.match(r.err, message);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  rmSync(trackerDbPath(linked));
});

test('a page damaged after the schema was read: the CLI and the endpoint say the file is damaged, not "internal error" or a 500', async () => {
  const ws = tempWorkspace('damaged-page');
  const t = Tracker.open(ws);
  const run = t.createRun({ runName: 'r' }).info.runId;
  t.logBatch(run, { tags: Array.from({ length: 50 }, (_, i) => ({ key: `t${i}`, value: 'v'.repeat(100) })) });
  t.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  const root = Number(t.db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'tags'").get()!.rootpage);
  const pageSize = Number(t.db.prepare('PRAGMA page_size').get()!.page_size);
  t.close();
  const file = trackerDbPath(ws);
  const bytes = readFileSync(file);
  bytes.fill(0xa5, (root - 1) * pageSize, root * pageSize);
  writeFileSync(file, bytes);

  const listed = await runsList(ws);
  assert.equal(listed.code, 1, listed.err);
  assert.match(listed.err, /^runwise: .*tracker\.db: .*; it is damaged: move it aside/m);
  assert.doesNotMatch(listed.err, /internal error/);

  const reply = errorReply(
    (() => {
      const damaged = Tracker.open(ws, { skipRecovery: true });
      try {
        damaged.getRun(run);
        return new Error('expected the damaged page to be met');
      } catch (e) {
        return e;
      } finally {
        damaged.close();
      }
    })(),
  );
  assert.equal(reply.status, 400);
  assert.equal(reply.body.error_code, 'INVALID_STATE');
  assert.match(reply.body.message, /it is damaged: move it aside/);
});

test('a write refused after the tracker opened (read-only since): one line naming the file and what to do, not an internal error', () => {
  const ws = tempWorkspace('tracker-readonly-later');
  Tracker.open(ws).close();
  // A real read-only refusal from SQLite (through whichever backend runs these tests), as a database
  // made read-only under a running command gives.
  const db = openSqlDatabase(trackerDbPath(ws), { readonly: true });
  let refused: unknown;
  try {
    db.prepare("INSERT INTO experiments (name) VALUES ('x')").run();
  } catch (e) {
    refused = e;
  } finally {
    db.close();
  }
  assert.ok(refused instanceof Error, 'the write is refused');
  const reply = errorReply(refused);
  assert.equal(reply.body.error_code, 'INVALID_STATE');
  assert.match(reply.body.message, /tracker\.db: .*readonly database.*; it or its folder cannot be written/);
  assert.equal(damagedTracker(refused)?.problem, 'read-only');
  assert.equal(damagedTracker(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })), undefined, 'a lock is worth a retry');
});
