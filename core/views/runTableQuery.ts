/**
 * What the Compare Runs host asks the tracker, without the editor: the runs a comparison shows (an
 * experiment's runs, or picked runs), which of them a filter in the tracker's search grammar
 * matches (or where the filter is wrong), the experiment to open when nothing is picked, and the
 * inline edits (name, note, tags) written back. client/compareRunsPanel.ts calls these; the unit
 * tests call them on a real tracker.
 */
import type { Run } from '../tracker/model';
import { FilterSyntaxError } from '../tracker/search/filterSyntax';
import { compileRunSearch, MAX_RESULTS_LIMIT, type CompiledSearch } from '../tracker/search/runSearchSql';
import { TrackerError } from '../tracker/trackerError';
import type { Tracker } from '../tracker/tracker';
import { NOTE_COLUMN, RUN_NAME_COLUMN } from './runTableModel';

/** What a comparison shows: every active run of some experiments, or only the runs named. */
export interface ComparedScope {
  experimentIds: string[];
  runIds?: string[];
}

/** The active runs of `scope`, newest first (picked runs in the order given; deleted or unknown ones left out). */
export function comparedRuns(tracker: Tracker, scope: ComparedScope): Run[] {
  if (scope.runIds) {
    const out: Run[] = [];
    for (const id of scope.runIds) {
      try {
        const run = tracker.getRun(id);
        if (run.info.lifecycleStage === 'active') out.push(run);
      } catch {
        // A run deleted for good since it was picked is no longer compared.
      }
    }
    return out;
  }
  const runs: Run[] = [];
  let pageToken: string | undefined;
  do {
    const page = tracker.searchRuns({ experimentIds: scope.experimentIds, orderBy: ['attributes.start_time DESC'], maxResults: MAX_RESULTS_LIMIT, ...(pageToken ? { pageToken } : {}) });
    runs.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}

export type FilterOutcome = { runIds: string[] } | { position: number; message: string };

/**
 * The ids of the active runs of `scope` that `filter` (MLflow's search syntax, with `or` and
 * parentheses) matches; or, for a filter that does not parse, where and why. Only ids are read: a
 * filter over 10,000 runs does not load them.
 */
export function matchingRunIds(tracker: Tracker, scope: ComparedScope, filter: string): FilterOutcome {
  let compiled: CompiledSearch;
  try {
    compiled = compileRunSearch({ experimentIds: scope.experimentIds, filter, maxResults: MAX_RESULTS_LIMIT });
  } catch (e) {
    if (e instanceof FilterSyntaxError) return { position: e.position, message: e.message };
    if (e instanceof TrackerError) return { position: 0, message: e.message };
    throw e;
  }
  // Every match, not a page: the compiled search ends with LIMIT ? OFFSET ?, and -1 is SQLite's "no limit".
  const params = [...compiled.params.slice(0, -2), -1, 0];
  const ids = tracker.db
    .prepare(`SELECT run_uuid FROM runs WHERE id IN (${compiled.sql})`)
    .all(...params)
    .map((r) => String(r.run_uuid));
  if (!scope.runIds) return { runIds: ids };
  const picked = new Set(scope.runIds);
  return { runIds: ids.filter((id) => picked.has(id)) };
}

/** The experiment of the most recently started active run, or undefined when there is none. */
export function mostRecentExperimentId(tracker: Tracker): string | undefined {
  return tracker.searchRuns({ orderBy: ['attributes.start_time DESC'], maxResults: 1 }).items[0]?.info.experimentId;
}

/**
 * Writes an inline edit: the run name (must not be empty), the note (empty removes it) or a user
 * tag `tags.<key>` (empty removes it). Any other column is refused.
 */
export function applyCellEdit(tracker: Tracker, runId: string, column: string, value: string): void {
  if (column === RUN_NAME_COLUMN) {
    tracker.renameRun(runId, value);
  } else if (column === NOTE_COLUMN) {
    tracker.setNote(runId, value);
  } else if (column.startsWith('tags.') && !column.startsWith('tags.mlflow.') && column.length > 5) {
    const key = column.slice(5);
    if (value === '') {
      if (tracker.getRun(runId).tags.some((t) => t.key === key)) tracker.deleteTag(runId, key);
    } else {
      tracker.setTag(runId, { key, value });
    }
  } else {
    throw new Error(`the column ${column} cannot be edited (only the run name, the note and tags can)`);
  }
}
