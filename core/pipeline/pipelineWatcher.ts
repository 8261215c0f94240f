/**
 * Watches the paths a pipeline names (stageStateModel.ts's watchedPaths), and nothing else, with
 * chokidar: an existing path itself (a directory with what is under it); a missing one (an output
 * not written yet, a lock file before the first run) through its nearest existing folder, one level
 * deep, whose events count only when they lead to a named path. Each change calls `onChange`
 * (callers debounce). When the OS refuses more watches (ENOSPC: inotify's limit; EMFILE), watching
 * stops and `onFailure` says why once.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface PipelineWatcherOptions {
  onChange: (absPath: string) => void;
  onFailure: (message: string, code: string) => void;
  /** Other watcher errors (logged; watching goes on). */
  onError?: (message: string) => void;
  /** Makes a watcher (chokidar's `watch`; tests pass a stand-in). */
  createWatcher?: typeof watch;
}

interface WatchSet {
  watcher: FSWatcher;
  paths: Set<string>;
}

/** What to hand chokidar for these absolute paths under `root`: the present ones, and the folders where missing ones would appear. */
export function watchTargets(root: string, paths: readonly string[], exists: (absPath: string) => boolean = existsSync): { present: Set<string>; parents: Set<string>; missing: string[] } {
  const present = new Set<string>();
  const parents = new Set<string>();
  const missing: string[] = [];
  const inside = (p: string) => p === root || p.startsWith(root + path.sep);
  for (const p of paths) {
    if (exists(p)) {
      present.add(p);
      continue;
    }
    missing.push(p);
    let dir = path.dirname(p);
    while (dir !== root && inside(dir) && !exists(dir)) dir = path.dirname(dir);
    parents.add(inside(dir) ? dir : root);
  }
  return { present, parents, missing };
}

export class PipelineWatcher {
  private present: WatchSet | undefined;
  private parents: WatchSet | undefined;
  private missing: string[] = [];
  /** Set once watching failed for good. */
  failure: string | undefined;

  constructor(
    private readonly root: string,
    private readonly options: PipelineWatcherOptions,
  ) {}

  /** Watches exactly these workspace-relative paths (re-check after each change: missing paths may have appeared). */
  update(relPaths: readonly string[]): void {
    if (this.failure) return;
    const targets = watchTargets(
      this.root,
      relPaths.map((p) => path.join(this.root, ...p.split('/'))),
    );
    this.missing = targets.missing;
    this.present = this.sync(this.present, targets.present, false);
    this.parents = this.sync(this.parents, targets.parents, true);
  }

  /** Resolves when every watcher has scanned what it watches (events before that may be missed). */
  async ready(): Promise<void> {
    await Promise.all([this.present, this.parents].map((w) => (w ? new Promise<void>((r) => (isReady(w.watcher) ? r() : w.watcher.once('ready', () => r()))) : undefined)));
  }

  private sync(current: WatchSet | undefined, wanted: Set<string>, shallow: boolean): WatchSet | undefined {
    if (!current) {
      if (wanted.size === 0) return undefined;
      const watcher = (this.options.createWatcher ?? watch)([...wanted], { ignoreInitial: true, followSymlinks: false, atomic: true, ...(shallow ? { depth: 0 } : {}) });
      watcher.once('ready', () => readyWatchers.add(watcher));
      watcher.on('all', (_event, changed) => {
        if (!shallow || this.leadsToMissing(changed)) this.options.onChange(changed);
      });
      watcher.on('error', (e) => this.onError(e));
      return { watcher, paths: wanted };
    }
    const removed = [...current.paths].filter((p) => !wanted.has(p));
    const added = [...wanted].filter((p) => !current.paths.has(p));
    if (removed.length) current.watcher.unwatch(removed);
    if (added.length) current.watcher.add(added);
    return { watcher: current.watcher, paths: wanted };
  }

  /** A change in a shallow-watched folder matters when it is a missing named path or a folder on the way to one. */
  private leadsToMissing(changed: string): boolean {
    return this.missing.some((m) => m === changed || m.startsWith(changed + path.sep));
  }

  private onError(e: unknown): void {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'ENOSPC' && code !== 'EMFILE') {
      this.options.onError?.(e instanceof Error ? e.message : String(e));
      return;
    }
    if (this.failure) return;
    this.failure =
      code === 'ENOSPC'
        ? 'The system limit on file watches was reached (ENOSPC): Runwise cannot follow changes to the pipeline, so stage states are unknown. Raise fs.inotify.max_user_watches and reload the window.'
        : 'Too many open files (EMFILE): Runwise cannot follow changes to the pipeline, so stage states are unknown.';
    void this.close();
    this.options.onFailure(this.failure, code);
  }

  async close(): Promise<void> {
    const sets = [this.present, this.parents];
    this.present = undefined;
    this.parents = undefined;
    await Promise.all(sets.map((s) => s?.watcher.close()));
  }
}

const readyWatchers = new WeakSet<FSWatcher>();
function isReady(w: FSWatcher): boolean {
  return readyWatchers.has(w);
}
