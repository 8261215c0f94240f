/**
 * Tells a viewer that the workspace's tracker was written, by any process: the tracking endpoint, a
 * pipeline stage, the `runwise` CLI. It watches the files SQLite writes (`.runwise/tracker.db-wal`
 * in WAL mode, `tracker.db` on checkpoints) with `fs.watch`, and calls back once per burst of
 * writes: `debounceMs` after the last write, and at least every `maxWaitMs` while writes keep
 * coming. The callback then asks the tracker what changed (`Tracker.changesSince`); nothing polls.
 *
 * When `.runwise/` does not exist yet it watches the workspace folder for its creation first.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { runwiseDir } from '../workspace/workspacePath';

export interface TrackerWatchOptions {
  /** Quiet time after a write before the callback runs (default 100 ms). */
  debounceMs?: number;
  /** Longest delay between a write and the callback while writes keep coming (default 400 ms). */
  maxWaitMs?: number;
  /** Where watch errors are reported (default: ignored; the watcher re-arms itself). */
  log?: (message: string) => void;
}

export interface TrackerWatcher {
  dispose(): void;
}

/** The files whose changes mean the tracker was written. */
const TRACKER_FILES: ReadonlySet<string> = new Set(['tracker.db', 'tracker.db-wal']);

export function watchTracker(workspace: string, onChange: () => void, options: TrackerWatchOptions = {}): TrackerWatcher {
  const debounceMs = options.debounceMs ?? 100;
  const maxWaitMs = options.maxWaitMs ?? 400;
  const dir = runwiseDir(workspace);
  const root = path.dirname(dir);
  let watcher: FSWatcher | undefined;
  let watching: 'dir' | 'root' | undefined;
  let timer: NodeJS.Timeout | undefined;
  let firstPending = 0;
  let disposed = false;

  const fire = () => {
    timer = undefined;
    firstPending = 0;
    if (disposed) return;
    try {
      onChange();
    } catch (e) {
      options.log?.(`tracker change handler failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const schedule = () => {
    if (disposed) return;
    const now = Date.now();
    if (firstPending === 0) firstPending = now;
    if (timer) clearTimeout(timer);
    const wait = Math.max(0, Math.min(debounceMs, firstPending + maxWaitMs - now));
    timer = setTimeout(fire, wait);
  };

  const close = () => {
    watcher?.close();
    watcher = undefined;
    watching = undefined;
  };

  const arm = () => {
    if (disposed) return;
    close();
    try {
      if (existsSync(dir)) {
        watcher = watch(dir, { persistent: false }, (_event, filename) => {
          if (filename == null || TRACKER_FILES.has(String(filename))) schedule();
          // The folder itself went away (renamed or removed): go back to waiting for it.
          if (!existsSync(dir)) setImmediate(arm);
        });
        watching = 'dir';
      } else {
        watcher = watch(root, { persistent: false }, (_event, filename) => {
          if ((filename == null || String(filename) === '.runwise') && existsSync(dir)) {
            setImmediate(arm);
            schedule();
          }
        });
        watching = 'root';
        // Created between the check and the watch: do not wait for an event that already happened.
        if (existsSync(dir)) setImmediate(arm);
      }
      watcher.on('error', (e) => {
        options.log?.(`watching ${watching === 'dir' ? dir : root} failed: ${e.message}; watching again`);
        setTimeout(arm, 500);
      });
    } catch (e) {
      options.log?.(`cannot watch ${dir}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  arm();
  return {
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
      close();
    },
  };
}
