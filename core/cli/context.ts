/** What every command gets: the workspace, output streams, and the tracker opened on demand. */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Tracker } from '../tracker/tracker';
import { trackerDbPath } from '../workspace/workspacePath';

/** A user's mistake the CLI reports in one line with exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /**
   * Written as it is, to stderr: the CLI's own terminal control (the live progress's cursor moves)
   * and a stage's own output (what its command printed, as it prints run by itself); to `err` where absent.
   */
  verbatim?(text: string): void;
  /**
   * Data for a file or another program (`export` without `--output`): the stored text itself,
   * shown escaped only on a terminal; to `out` where absent.
   */
  data?(text: string): void;
}

export class CommandContext {
  private tracker: Tracker | undefined;
  constructor(
    readonly workspace: string,
    readonly io: Output,
    readonly json: boolean,
    /** The workspace was named (`--workspace`), not taken from the current folder. */
    readonly workspaceGiven = true,
  ) {
    if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
      throw new CliError(`workspace '${workspace}' is not a folder`);
    }
  }

  hasTracker(): boolean {
    return existsSync(trackerDbPath(this.workspace));
  }

  /** The workspace's tracker; created when `create` is set, otherwise it must exist. */
  openTracker(create = false): Tracker {
    if (!this.tracker) {
      if (!create && !this.hasTracker()) {
        throw new CliError(`no tracker in ${path.resolve(this.workspace)} (looked for .runwise/tracker.db)`);
      }
      // Loaded on use: commands that never open the tracker start without SQLite.
      this.tracker = (require('../tracker/tracker') as typeof import('../tracker/tracker')).Tracker.open(this.workspace);
    }
    return this.tracker;
  }

  printJson(value: unknown): void {
    this.io.out(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
  }

  close(): void {
    this.tracker?.close();
    this.tracker = undefined;
  }
}
