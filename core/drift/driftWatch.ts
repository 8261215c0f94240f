/**
 * Drift monitoring over a folder of batches (`runwise drift watch REF DIR` and the editor's "Watch
 * Folder for Drift…"): each batch file that appears in DIR (directly in it, not below; CSV, JSON
 * Lines or Parquet, or what `pattern` names) is compared with REF once it is written completely —
 * its size and modification time unchanged over one `stableMs` interval — and, with a tracker, logged
 * as a drift run tagged `runwise.drift.watch` (naming REF and DIR: `driftWatchTag`) and
 * `runwise.drift.batch` (the batch file). Files already in DIR when watching starts are checked once
 * (oldest name first), unless `newOnly`. Batches run one at a time, in the order they became
 * stable; a file rewritten later (another size or time) is a new batch. A batch that cannot be read
 * is reported with its error and watching goes on.
 *
 * Where the file events come from is a `BatchFileEvents` (chokidar's in `chokidarBatchEvents`;
 * tests script their own). Aborting `signal` (Ctrl-C) stops watching: no new batch starts, and a
 * comparison in progress is dropped without a run.
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { watch } from 'chokidar';
import { DatasetError } from '../dataset/dataset';
import type { Tracker } from '../tracker/tracker';
import { computeDrift, type DriftOptions } from './driftEngine';
import type { DriftReport } from './driftReport';
import { logDriftRun } from './driftTracking';

export const DRIFT_WATCH_TAG = 'runwise.drift.watch';
export const DRIFT_BATCH_TAG = 'runwise.drift.batch';
/** The file names a watch takes when no pattern is given. */
export const DEFAULT_BATCH_PATTERN = '*.{csv,jsonl,ndjson,parquet}';

/** Reports files added or changed directly in the watched folder. */
export interface BatchFileEvents {
  /** Starts reporting (absolute paths); resolves once events are being delivered. */
  start(onFile: (file: string) => void, onError: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** The folder's events through chokidar (one level, existing files not reported: the watch lists them). */
export function chokidarBatchEvents(folder: string, createWatcher: typeof watch = watch): BatchFileEvents {
  let watcher: ReturnType<typeof watch> | undefined;
  return {
    start(onFile, onError) {
      const w = createWatcher(folder, { ignoreInitial: true, depth: 0, followSymlinks: false });
      watcher = w;
      w.on('add', (file) => onFile(file));
      w.on('change', (file) => onFile(file));
      w.on('error', (e) => onError(e instanceof Error ? e.message : String(e)));
      return new Promise((resolve) => w.once('ready', () => resolve()));
    },
    async close() {
      await watcher?.close();
      watcher = undefined;
    },
  };
}

/** A file-name glob (`*`, `?`, `[abc]`, `[!abc]`, `{a,b}`) as a regular expression over the whole name. */
export function batchPattern(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const close = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, close);
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`.replace(/\\/g, '\\\\');
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  if (braces > 0) throw new DatasetError(`batch pattern '${glob}': a '{' is not closed`);
  return new RegExp(`^${re}$`, 's');
}

/** The value of the `runwise.drift.watch` tag: the reference and the folder as shown (workspace-relative). */
export function driftWatchTag(reference: string, folder: string): string {
  return `${reference} | ${folder}`;
}

export interface DriftBatchResult {
  /** The batch file (absolute). */
  file: string;
  /** The batch as shown: its path relative to the workspace, or as given. */
  shown: string;
  report?: DriftReport;
  runId?: string;
  /** Why the batch could not be compared (its report is then absent). */
  error?: string;
}

export interface DriftWatchOptions {
  /** The reference dataset (absolute). */
  reference: string;
  /** The folder batches arrive in (absolute). */
  folder: string;
  events: BatchFileEvents;
  /** File-name glob for batches (default DEFAULT_BATCH_PATTERN). */
  pattern?: string;
  /** Skip the files already in the folder. */
  newOnly?: boolean;
  drift?: DriftOptions;
  /** How a file is named in reports, tags and results (default: as given). */
  display?: (file: string) => string;
  /** When set, each batch is logged as a drift run in this tracker. */
  tracker?: () => Tracker;
  /** Each batch's outcome, in order; a rejection stops watching and rejects the watch. */
  onBatch(result: DriftBatchResult): void | Promise<void>;
  /** Watcher errors that do not stop watching. */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** How long a file's size and time must stay unchanged before it counts as written (default 500 ms). */
  stableMs?: number;
}

interface FileStamp {
  size: number;
  mtimeMs: number;
}

function stampOf(file: string): FileStamp | undefined {
  try {
    const s = statSync(file);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

const sameStamp = (a: FileStamp | undefined, b: FileStamp | undefined) => a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Watches until `signal` aborts (resolves) or `onBatch` throws (rejects with that error). */
export async function watchDrift(options: DriftWatchOptions): Promise<void> {
  const { reference, folder, events, signal } = options;
  const matches = batchPattern(options.pattern ?? DEFAULT_BATCH_PATTERN);
  const stableMs = options.stableMs ?? 500;
  const display = options.display ?? ((f: string) => f);
  const tag = driftWatchTag(display(reference), display(folder));
  /** The stamp each file had when it was last compared (or skipped as already there). */
  const done = new Map<string, FileStamp>();
  /** Files waiting for their size to settle. */
  const settling = new Set<string>();
  const queue: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let wake: (() => void) | undefined;
  let failure: { error: unknown } | undefined;

  const isBatch = (file: string) => {
    const name = path.basename(file);
    return path.dirname(file) === folder && !name.startsWith('.') && matches.test(name) && path.resolve(file) !== path.resolve(reference);
  };

  const settle = (file: string, last: FileStamp | undefined) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      const now = stampOf(file);
      if (!now) {
        settling.delete(file); // gone (renamed or deleted) before it was complete
        return;
      }
      if (!sameStamp(now, last)) return settle(file, now);
      settling.delete(file);
      if (sameStamp(now, done.get(file))) return;
      queue.push(file);
      wake?.();
    }, stableMs);
    timers.add(timer);
  };

  const offer = (file: string) => {
    if (stopped || !isBatch(file) || settling.has(file) || queue.includes(file)) return;
    settling.add(file);
    settle(file, stampOf(file));
  };

  const stop = () => {
    stopped = true;
    wake?.();
  };
  if (signal?.aborted) return;
  signal?.addEventListener('abort', stop, { once: true });

  try {
    await events.start(offer, (message) => options.onWarning?.(message));
    const existing = readdirSync(folder)
      .map((name) => path.join(folder, name))
      .filter(isBatch)
      .sort();
    for (const file of existing) {
      if (options.newOnly) {
        const stamp = stampOf(file);
        if (stamp) done.set(file, stamp);
      } else offer(file);
    }
    while (!stopped) {
      const file = queue.shift();
      if (file === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const stamp = stampOf(file);
      if (!stamp) continue;
      done.set(file, stamp);
      const result = await compareBatch(file);
      if (stopped) break;
      try {
        await options.onBatch(result);
      } catch (e) {
        failure = { error: e };
        break;
      }
    }
  } finally {
    stopped = true;
    signal?.removeEventListener('abort', stop);
    for (const t of timers) clearTimeout(t);
    await events.close();
  }
  if (failure) throw failure.error;

  async function compareBatch(file: string): Promise<DriftBatchResult> {
    const shown = display(file);
    try {
      // A logged batch's md5 (its dataset input) comes from the read the report is made of.
      const report = await computeDrift(reference, file, { ...options.drift, ...(options.tracker ? { md5: true } : {}) }, { reference: display(reference), current: shown });
      if (stopped || !options.tracker) return { file, shown, report };
      const runId = await logDriftRun(options.tracker(), report, {
        files: { reference, current: file },
        tags: [
          { key: DRIFT_WATCH_TAG, value: tag },
          { key: DRIFT_BATCH_TAG, value: shown },
        ],
      });
      return { file, shown, report, runId };
    } catch (e) {
      if (e instanceof DatasetError) return { file, shown, error: e.message };
      const err = e as NodeJS.ErrnoException;
      if (err && typeof err.code === 'string') return { file, shown, error: err.message };
      throw e;
    }
  }
}

export interface DriftWatchPoint {
  runId: string;
  batch: string;
  driftShare: number;
  datasetDrift: boolean;
  startTime: number;
}

/** The runs of one watch (its `runwise.drift.watch` tag value), oldest first: the drift share per batch. */
export function driftWatchHistory(tracker: Tracker, tagValue: string, maxResults = 500): DriftWatchPoint[] {
  const quoted = tagValue.replace(/[\\']/g, '\\$&');
  const runs = tracker.searchRuns({ filter: `tags.\`${DRIFT_WATCH_TAG}\` = '${quoted}'`, orderBy: ['attributes.start_time DESC'], maxResults }).items;
  const points: DriftWatchPoint[] = [];
  for (const run of runs) {
    const share = run.metrics.find((m) => m.key === 'drift_share')?.value;
    if (share === undefined) continue;
    points.push({
      runId: run.info.runId,
      batch: run.tags.find((t) => t.key === DRIFT_BATCH_TAG)?.value ?? run.info.runName,
      driftShare: share,
      datasetDrift: run.metrics.find((m) => m.key === 'dataset_drift')?.value === 1,
      startTime: run.info.startTime,
    });
  }
  return points.reverse();
}
