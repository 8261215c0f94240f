/**
 * Why a tracker's files cannot be used as they are, said so that a user knows what to do: a
 * database written by a newer Runwise, a file that is not a database or is damaged, objects
 * Runwise does not create, a symbolic link inside `.runwise/`, a read-only or locked file. The CLI
 * prints these as a user's error (one line, exit 1); the endpoint answers them as INVALID_STATE.
 */
import { TrackerError } from './trackerError';

export type TrackerOpenProblem =
  | 'newer-schema'
  | 'not-a-database'
  | 'corrupt'
  | 'foreign-objects'
  | 'symbolic-link'
  | 'read-only'
  | 'locked'
  | 'cannot-open'
  | 'disk-full'
  | 'migration-failed';

export class TrackerOpenError extends TrackerError {
  constructor(
    readonly problem: TrackerOpenProblem,
    /** The file or folder at fault. */
    readonly file: string,
    message: string,
  ) {
    super('INVALID_STATE', message);
    this.name = 'TrackerOpenError';
  }
}

/** SQLite's primary result code of a better-sqlite3 or node:sqlite error, if it is one. */
function sqliteCode(e: unknown): number | string | undefined {
  const err = e as { code?: unknown; errcode?: unknown };
  if (typeof err?.errcode === 'number') return err.errcode & 0xff;
  if (typeof err?.code === 'string' && err.code.startsWith('SQLITE_')) return err.code.replace(/^(SQLITE_[A-Z]+?)(_[A-Z_]+)?$/, '$1');
  if (typeof err?.code === 'string') return err.code;
  return undefined;
}

const PROBLEMS: Record<string, TrackerOpenProblem> = {
  26: 'not-a-database',
  SQLITE_NOTADB: 'not-a-database',
  11: 'corrupt',
  SQLITE_CORRUPT: 'corrupt',
  8: 'read-only',
  SQLITE_READONLY: 'read-only',
  EROFS: 'read-only',
  EACCES: 'cannot-open',
  EPERM: 'cannot-open',
  5: 'locked',
  6: 'locked',
  SQLITE_BUSY: 'locked',
  SQLITE_LOCKED: 'locked',
  14: 'cannot-open',
  SQLITE_CANTOPEN: 'cannot-open',
  13: 'disk-full',
  SQLITE_FULL: 'disk-full',
  ENOSPC: 'disk-full',
};

const MOVE_ASIDE = 'move it aside (for example to tracker.db.bad) and Runwise starts a new tracker';

const ADVICE: Record<TrackerOpenProblem, string> = {
  'newer-schema': 'upgrade Runwise to open it',
  'not-a-database': `it is not an SQLite database: ${MOVE_ASIDE}`,
  corrupt: `it is damaged: ${MOVE_ASIDE} (\`sqlite3 tracker.db .recover\` may rescue what it holds)`,
  'foreign-objects': MOVE_ASIDE,
  'symbolic-link': 'replace the link with the real file or folder',
  'read-only': 'it or its folder cannot be written: make .runwise/ and its files writable by you',
  locked: 'another process holds it locked: close it (or wait for it to finish) and try again',
  'cannot-open': 'check that .runwise/ and the file exist and that you may read and write them',
  'disk-full': 'the disk is full: free some space and try again',
  'migration-failed': 'the file was left as it was; report this with the message above',
};

/** What an SQLite or file-system error says about the file, if anything. */
function problemOf(e: unknown): TrackerOpenProblem | undefined {
  const code = sqliteCode(e);
  return code === undefined ? undefined : PROBLEMS[code];
}

/** An error's first line, for a one-line message. */
const reasonOf = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0]! : String(e));

/**
 * `e`, raised while opening or migrating the tracker at `file`, as a TrackerOpenError when it says
 * something about the file; anything else (a bug) is returned as it is. `migration` is set when
 * the failure happened while upgrading an older schema, which the message then says.
 */
export function openFailure(e: unknown, file: string, migration?: { from: number; to: number }): unknown {
  if (e instanceof TrackerOpenError) return e;
  const problem = problemOf(e);
  const reason = reasonOf(e);
  const during = migration ? ` while migrating it from schema ${migration.from} to ${migration.to}` : '';
  if (problem) return new TrackerOpenError(problem, file, `cannot open ${file}${during} (${reason}): ${ADVICE[problem]}`);
  if (migration) {
    return new TrackerOpenError('migration-failed', file, `cannot open ${file}${during} (${reason}): ${ADVICE['migration-failed']}`);
  }
  return e;
}

/**
 * `e`, raised while using a tracker that opened fine, as a TrackerOpenError when SQLite says the
 * file is damaged or not a database (a page broken after the header and schema were read), or
 * refuses a write to it (read-only, disk full); undefined for any other error.
 */
export function damagedTracker(e: unknown, file = '.runwise/tracker.db'): TrackerOpenError | undefined {
  if (e instanceof TrackerOpenError) return undefined;
  const problem = problemOf(e);
  if (problem === 'corrupt' || problem === 'not-a-database') return new TrackerOpenError('corrupt', file, `${file}: ${reasonOf(e)}; ${ADVICE.corrupt}`);
  // An SQLite write refused after the tracker opened (made read-only since, the disk filled); a
  // lock is left as it is, a passing state worth a retry.
  // better-sqlite3 codes its errors SQLITE_…; node:sqlite gives the number as errcode.
  const err = e as { code?: unknown; errcode?: unknown } | undefined;
  const sqlite = typeof err?.errcode === 'number' || (typeof err?.code === 'string' && err.code.startsWith('SQLITE_'));
  if (sqlite && (problem === 'read-only' || problem === 'disk-full')) return new TrackerOpenError(problem, file, `${file}: ${reasonOf(e)}; ${ADVICE[problem]}`);
  return undefined;
}

/** The error for a symbolic link found where Runwise keeps its own files. */
export function symbolicLinkError(file: string, what: string): TrackerOpenError {
  return new TrackerOpenError(
    'symbolic-link',
    file,
    `${file} (${what}) is a symbolic link; Runwise does not follow links inside .runwise/, since a repository could point them at ` +
      `other files: ${ADVICE['symbolic-link']}`,
  );
}
