/**
 * The small store interface the tracker is written against, with two backends: better-sqlite3 (the
 * native addon, preferred) and `node:sqlite` (built into newer Node releases), used where the addon
 * cannot load in the running host (for example a different Node ABI, as in desktop VS Code).
 *
 * Only positional `?` parameters are used, so both backends bind identically.
 *
 * A read-only connection writes nothing beside the database (a repository's tracker opened in
 * Restricted Mode stays byte-for-byte as it came). SQLite needs `-wal` and `-shm` files to read a
 * WAL-mode database, and creates them when missing, so:
 * - when `-wal` holds content and `-shm` exists (a writer is at work), the reader goes through
 *   SQLite's shared files as usual: they are that writer's, and none of its commits is lost;
 * - when `-wal` holds content but there is no `-shm` (commits left behind, e.g. a repository that
 *   carries both files), the database and its `-wal` are copied to a private temporary folder and
 *   read there, so the commits are seen and nothing is created beside the original;
 * - otherwise everything is in the database file, and it is read as a snapshot: node:sqlite opens
 *   it as `file:…?mode=ro&immutable=1`; better-sqlite3, built without URI support, reads a copy of
 *   the file into memory. Before each statement is prepared the file and its `-wal` are looked at
 *   again, and the connection is reopened when a writer changed them, so a viewer stays current.
 */
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export type SqlValue = number | string | bigint | null | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
  /** Like `all`, but only the first column of each row: no object per row. */
  firstColumn(...params: SqlValue[]): SqlValue[];
}

export type SqlBackend = 'better-sqlite3' | 'node:sqlite';

export interface SqlDatabase {
  readonly backend: SqlBackend;
  readonly path: string;
  /** Opened with `readonly`: nothing is ever written. */
  readonly readOnly: boolean;
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /**
   * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws). Nested calls join the
   * outer transaction. Waiting for another writer is bounded by `busy_timeout`, then retried, so a
   * busy database surfaces as a delay, never as an error, unless it stays locked past `busyRetryMs`.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Runs `fn` with its first transaction not waiting for another connection's write lock: when the
   * database is locked, that transaction's BEGIN throws DatabaseBusyError at once, before anything
   * is written, so the caller can try `fn` again later without blocking its event loop (the
   * endpoint). Later transactions of `fn`, and `fn`'s asynchronous part, wait as usual.
   */
  firstWriteWithoutWaiting<T>(fn: () => T): T;
  /**
   * Runs `fn` once what was written so far is committed: when the outermost transaction commits,
   * or at once outside a transaction. Dropped if that transaction rolls back. For in-memory caches
   * of rows a transaction inserted (a nested transaction's COMMIT is not yet the database's).
   */
  afterCommit(fn: () => void): void;
  /**
   * Runs `fn`, which only reads, on one snapshot of the database: inside a deferred read
   * transaction (or the transaction already open). Without it, two reads in a row may see the
   * database before and after another connection's commit.
   */
  readSnapshot<T>(fn: () => T): T;
  close(): void;
}

export interface OpenOptions {
  /** Force one backend; default: better-sqlite3, falling back to node:sqlite if it cannot load. */
  backend?: SqlBackend;
  readonly?: boolean;
  /** SQLite busy_timeout in milliseconds. */
  busyTimeoutMs?: number;
  /** Total time to keep retrying a transaction whose BEGIN found the database locked. */
  busyRetryMs?: number;
  /**
   * Runs on a writable connection before anything is written to the file (before the switch to WAL
   * mode, which rewrites its header): a check that refuses a file that is not what it should be
   * leaves it byte for byte as it was.
   */
  checkBeforeWrite?: (db: SqlDatabase) => void;
}

const requireNative = createRequire(__filename);

/** The backend named by RUNWISE_SQLITE_BACKEND, if any (used by tests to force the fallback). */
export function backendFromEnvironment(env: NodeJS.ProcessEnv = process.env): SqlBackend | undefined {
  const v = env.RUNWISE_SQLITE_BACKEND;
  if (!v) return undefined;
  if (v === 'better-sqlite3' || v === 'node:sqlite') return v;
  throw new Error(`RUNWISE_SQLITE_BACKEND must be "better-sqlite3" or "node:sqlite", not "${v}"`);
}

export function openSqlDatabase(path: string, options: OpenOptions = {}): SqlDatabase {
  const wanted = options.backend ?? backendFromEnvironment();
  if (wanted === 'node:sqlite') return new NodeSqliteDatabase(path, options);
  if (wanted === 'better-sqlite3') return new BetterSqliteDatabase(path, options);
  let nativeError: unknown;
  try {
    return new BetterSqliteDatabase(path, options);
  } catch (e) {
    if (!isAddonLoadError(e)) throw e;
    nativeError = e;
  }
  try {
    return new NodeSqliteDatabase(path, options);
  } catch (e) {
    throw new Error(
      `cannot open the tracker: better-sqlite3 did not load (${messageOf(nativeError)}) ` +
        `and node:sqlite is not available in Node ${process.versions.node} (${messageOf(e)})`,
    );
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

function isAddonLoadError(e: unknown): boolean {
  const m = messageOf(e);
  const code = (e as { code?: string }).code;
  return (
    code === 'MODULE_NOT_FOUND' ||
    code === 'ERR_DLOPEN_FAILED' ||
    /NODE_MODULE_VERSION|was compiled against a different Node|invalid ELF|cannot open shared object|Could not locate the bindings file/.test(
      m,
    )
  );
}

function isBusyError(e: unknown): boolean {
  const code = (e as { code?: string; errcode?: number }).code;
  const errcode = (e as { errcode?: number }).errcode;
  return (
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_LOCKED' ||
    errcode === 5 ||
    errcode === 6 ||
    /database is locked|SQLITE_BUSY/.test(messageOf(e))
  );
}

/** What identifies a version of a file on disk: a write or a replacement changes one of these. */
interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  walSize: number;
}

function stampOf(path: string): FileStamp | undefined {
  try {
    const st = statSync(path);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, walSize: walSize(path) };
  } catch {
    return undefined;
  }
}

function walSize(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

const sameStamp = (a: FileStamp | undefined, b: FileStamp | undefined) =>
  a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.walSize === b.walSize;

/** Byte 18 of an SQLite header is 2 for a database in WAL mode (1 for a rollback journal). */
function isWalDatabase(path: string): boolean {
  const head = Buffer.alloc(20);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return readSync(fd, head, 0, 20, 0) === 20 && head.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' && head[18] === 2;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A write that would have had to wait for another connection's lock (firstWriteWithoutWaiting). */
export class DatabaseBusyError extends Error {
  constructor() {
    super('the tracker database is locked by another connection');
  }
}

abstract class BaseDatabase implements SqlDatabase {
  abstract readonly backend: SqlBackend;
  private depth = 0;
  /** Set by firstWriteWithoutWaiting until its first transaction begins. */
  private noWait = false;
  /** afterCommit callbacks waiting for the outermost transaction to commit. */
  private committed: (() => void)[] = [];
  private readonly statements = new Map<string, SqlStatement>();
  /** Set while reading a snapshot: the file as it was when the snapshot was taken. */
  protected snapshotStamp: FileStamp | undefined;
  constructor(
    readonly path: string,
    protected readonly options: OpenOptions,
  ) {}
  get readOnly(): boolean {
    return this.options.readonly ?? false;
  }
  abstract exec(sql: string): void;
  protected abstract prepareRaw(sql: string): SqlStatement;
  protected abstract closeConnection(): void;
  /** (Re)opens the connection; see the note at the top for read-only connections. */
  protected abstract connect(): void;
  /** The private folder holding a copy of the database and its `-wal`, while one is read. */
  private copyDir: string | undefined;

  close(): void {
    try {
      this.closeConnection();
    } finally {
      this.releaseCopy();
    }
  }

  /**
   * For a read-only connection to a WAL database whose `-wal` holds commits but that has no `-shm`:
   * the path of a private copy of both files to read instead (SQLite would create `-shm` beside the
   * original), with `snapshotStamp` set so a writer's change is noticed; undefined otherwise.
   */
  protected privateCopy(): string | undefined {
    if (!this.readOnly || this.path === ':memory:') return undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = stampOf(this.path);
      if (!before || before.walSize === 0 || existsSync(`${this.path}-shm`) || !isWalDatabase(this.path)) return undefined;
      const dir = mkdtempSync(path.join(tmpdir(), 'runwise-ro-'));
      const copy = path.join(dir, 'tracker.db');
      copyFileSync(this.path, copy);
      copyFileSync(`${this.path}-wal`, `${copy}-wal`);
      if (!sameStamp(before, stampOf(this.path))) {
        rmSync(dir, { recursive: true, force: true });
        continue; // a writer came meanwhile: copy again
      }
      this.copyDir = dir;
      this.snapshotStamp = before;
      return copy;
    }
    return undefined;
  }

  private releaseCopy(): void {
    if (this.copyDir === undefined) return;
    rmSync(this.copyDir, { recursive: true, force: true });
    this.copyDir = undefined;
  }

  /**
   * For a read-only connection: the stamp of the database when it can be read as a snapshot (a
   * WAL database whose `-wal` holds nothing), or undefined when SQLite's shared files are needed.
   */
  protected snapshotCandidate(): FileStamp | undefined {
    if (!this.readOnly || this.path === ':memory:') return undefined;
    const stamp = stampOf(this.path);
    if (!stamp || stamp.walSize > 0 || !isWalDatabase(this.path)) return undefined;
    return stamp;
  }

  /** A snapshot whose file a writer has changed since is reopened. */
  private refreshSnapshot(): void {
    if (!this.snapshotStamp || sameStamp(this.snapshotStamp, stampOf(this.path))) return;
    this.close();
    this.statements.clear();
    this.snapshotStamp = undefined;
    this.connect();
  }

  /** Statements are cached by text: the tracker prepares each query once per connection. */
  prepare(sql: string): SqlStatement {
    this.refreshSnapshot();
    let s = this.statements.get(sql);
    if (!s) {
      s = this.prepareRaw(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  afterCommit(fn: () => void): void {
    if (this.depth > 0) this.committed.push(fn);
    else fn();
  }

  readSnapshot<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.exec('BEGIN');
    try {
      return fn();
    } finally {
      try {
        this.exec('COMMIT');
      } catch {
        /* a read transaction has nothing to keep */
      }
    }
  }

  firstWriteWithoutWaiting<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.noWait = true;
    try {
      return fn();
    } finally {
      this.noWait = false;
    }
  }

  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    const deadline = Date.now() + (this.options.busyRetryMs ?? 120_000);
    if (this.noWait) this.beginWithoutWaiting();
    else this.beginWaiting(deadline);
    this.depth++;
    let result: T;
    try {
      result = fn();
      this.commitWithRetry(deadline);
    } catch (e) {
      this.committed = [];
      try {
        this.exec('ROLLBACK');
      } catch {
        /* the transaction may already be gone */
      }
      throw e;
    } finally {
      this.depth--;
    }
    const committed = this.committed;
    this.committed = [];
    for (const f of committed) f();
    return result;
  }

  /** BEGIN IMMEDIATE, retried past busy_timeout until `deadline`. */
  private beginWaiting(deadline: number): void {
    this.execRetried('BEGIN IMMEDIATE', deadline);
  }

  /** BEGIN IMMEDIATE, or DatabaseBusyError at once when another connection holds the write lock. */
  private beginWithoutWaiting(): void {
    this.noWait = false;
    this.exec('PRAGMA busy_timeout = 0');
    try {
      this.exec('BEGIN IMMEDIATE');
    } catch (e) {
      if (isBusyError(e)) throw new DatabaseBusyError();
      throw e;
    } finally {
      this.exec(`PRAGMA busy_timeout = ${this.options.busyTimeoutMs ?? 10_000}`);
    }
  }

  private commitWithRetry(deadline: number): void {
    this.execRetried('COMMIT', deadline);
  }

  /** `sql`, tried again while the database is busy, until `deadline`. */
  private execRetried(sql: string, deadline: number): void {
    for (let attempt = 0; ; attempt++) {
      try {
        this.exec(sql);
        return;
      } catch (e) {
        if (!isBusyError(e) || Date.now() > deadline) throw e;
        sleepSync(Math.min(50, 1 + attempt * 2));
      }
    }
  }

  /** Applies the pragmas; a connection whose file is refused (checkBeforeWrite) is closed, not leaked. */
  protected pragmasOrClose(): void {
    try {
      this.applyPragmas();
    } catch (e) {
      try {
        this.close();
      } catch {
        /* the refusal is what matters */
      }
      throw e;
    }
  }

  private applyPragmas(): void {
    this.exec(`PRAGMA busy_timeout = ${this.options.busyTimeoutMs ?? 10_000}`);
    // Functions with side effects never run from schema objects (a database may come with a repo).
    this.exec('PRAGMA trusted_schema = OFF');
    if (this.readOnly) {
      this.exec('PRAGMA query_only = ON');
      return;
    }
    this.options.checkBeforeWrite?.(this);
    this.exec('PRAGMA journal_mode = WAL');
    this.exec('PRAGMA synchronous = NORMAL');
    this.exec('PRAGMA foreign_keys = ON');
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

class BetterSqliteDatabase extends BaseDatabase {
  readonly backend = 'better-sqlite3' as const;
  private db!: import('better-sqlite3').Database;
  constructor(path: string, options: OpenOptions) {
    super(path, options);
    this.connect();
  }
  protected connect(): void {
    const Database = requireNative('better-sqlite3') as typeof import('better-sqlite3');
    const timeout = this.options.busyTimeoutMs ?? 10_000;
    // The private copy is opened for writing (SQLite makes its -shm there); query_only keeps it read.
    const copy = this.privateCopy();
    const snapshot = copy === undefined ? this.snapshotBytes() : undefined;
    this.db = new Database(copy ?? snapshot ?? this.path, { readonly: copy === undefined && this.readOnly, timeout });
    this.pragmasOrClose();
  }
  /** The database file's bytes, marked as a rollback-journal database so memory can hold it. */
  private snapshotBytes(): Buffer | undefined {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = this.snapshotCandidate();
      if (!before) return undefined;
      const bytes = readFileSync(this.path);
      // A writer may have come meanwhile: take the copy only if the file did not move under it.
      if (!sameStamp(before, stampOf(this.path))) continue;
      bytes[18] = 1;
      bytes[19] = 1;
      this.snapshotStamp = before;
      return bytes;
    }
    return undefined;
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  protected prepareRaw(sql: string): SqlStatement {
    const s = this.db.prepare(sql);
    // Bound methods, not wrappers: this is the per-point path of metric ingest.
    const run = s.run.bind(s) as SqlStatement['run'];
    if (!s.reader) {
      // Statements that return no rows (INSERT, PRAGMA x = y …) cannot be used with get/all.
      const noRows = () => {
        throw new Error(`statement returns no rows: ${sql}`);
      };
      return { run, get: noRows, all: noRows, firstColumn: noRows };
    }
    // Plucking is a state of the statement: the column comes from a second statement of the same text.
    let plucked: import('better-sqlite3').Statement | undefined;
    const firstColumn = (...p: SqlValue[]) => (plucked ??= this.db.prepare(sql).pluck(true)).all(...p) as SqlValue[];
    return { run, get: s.get.bind(s) as SqlStatement['get'], all: s.all.bind(s) as SqlStatement['all'], firstColumn };
  }
  protected closeConnection(): void {
    this.db.close();
  }
}

interface NodeSqliteModule {
  DatabaseSync: new (
    path: string,
    options?: { readOnly?: boolean; open?: boolean },
  ) => {
    exec(sql: string): void;
    prepare(sql: string): {
      run(...p: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
      get(...p: SqlValue[]): unknown;
      all(...p: SqlValue[]): unknown[];
    };
    close(): void;
  };
}

class NodeSqliteDatabase extends BaseDatabase {
  readonly backend = 'node:sqlite' as const;
  private db!: InstanceType<NodeSqliteModule['DatabaseSync']>;
  constructor(path: string, options: OpenOptions) {
    super(path, options);
    this.connect();
  }
  protected connect(): void {
    const mod = requireNative('node:sqlite') as NodeSqliteModule;
    const copy = this.privateCopy();
    if (copy !== undefined) {
      // Opened for writing (SQLite makes its -shm there); query_only keeps it read.
      this.db = new mod.DatabaseSync(copy, { readOnly: false });
    } else {
      this.snapshotStamp = this.snapshotCandidate();
      const target = this.snapshotStamp ? `${pathToFileURL(this.path).href}?mode=ro&immutable=1` : this.path;
      this.db = new mod.DatabaseSync(target, { readOnly: this.readOnly });
    }
    this.pragmasOrClose();
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  protected prepareRaw(sql: string): SqlStatement {
    const s = this.db.prepare(sql);
    return {
      run: (...p) => {
        const r = s.run(...p);
        return { changes: Number(r.changes), lastInsertRowid: r.lastInsertRowid };
      },
      get: (...p) => s.get(...p) as SqlRow | undefined,
      all: (...p) => s.all(...p) as SqlRow[],
      firstColumn: (...p) => (s.all(...p) as SqlRow[]).map((r) => Object.values(r)[0] ?? null),
    };
  }
  protected closeConnection(): void {
    this.db.close();
  }
}
