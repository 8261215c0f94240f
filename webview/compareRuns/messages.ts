/**
 * The Compare Runs webview's messages, typed once here; the host (client/compareRunsPanel.ts) and
 * the page (webview/compareRuns/main.ts) both import this module. The host checks what the page
 * sends with `isCompareRunsWebviewMessage` before acting on it: a webview is a browser page and its
 * messages are input like any other (run ids are checked, edits name only the columns the page may
 * edit, sizes are bounded).
 */
import { NOTE_COLUMN, RUN_NAME_COLUMN, type RunTable } from '../../core/views/runTableModel';
import type { SeriesColumns } from '../../core/views/seriesColumns';
import { isRunId } from '../shared/messages';

/** What the panel compares: every run of some experiments, or the runs picked in the Runs view. */
export interface CompareScope {
  experimentIds: string[];
  /** When set, only these runs (of those experiments). */
  runIds?: string[];
}

/** One run's downsampled metric, column-wise, in typed arrays, as the host's query makes it. */
export type ChartSeries = SeriesColumns;

/** The view state the page keeps with setState (and the host's serializer gets back on reload). */
export interface CompareRunsViewState {
  scope?: CompareScope;
  /** Column ids the user hid. */
  hidden: string[];
  onlyDiffering: boolean;
  sort: { column: string; descending: boolean } | null;
  filter: string;
  /** Run ids selected for the charts. */
  selected: string[];
  baseline: string | null;
  groupBy: string | null;
  chart: { metric: string | null; xAxis: XAxis; logScale: boolean; smoothing: number; scatterX: string | null; parallel: string[] };
}

export type XAxis = 'step' | 'wallTime' | 'relativeTime';
export const X_AXES: readonly XAxis[] = ['step', 'wallTime', 'relativeTime'];

/** Host → page. */
export type CompareRunsHostMessage =
  /**
   * The runs to show (first load and after every tracker change that touches them). `viewState` is
   * the state the page last reported for this scope, which a page without a state of its own (a
   * panel opened again) starts from. The table travels as JSON text (`tableJson`, a `RunTable`):
   * one string crosses into the page far faster than 10,000 row objects would be cloned there.
   */
  | { type: 'table'; title: string; scope: CompareScope; tableJson: string; viewState?: CompareRunsViewState }
  /** The runs the filter matches (of the shown ones), for the filter text it answers. */
  | { type: 'filterResult'; filter: string; runIds: string[] }
  /** The filter does not parse; `position` is the 0-based offset of the offending text. */
  | { type: 'filterError'; filter: string; position: number; message: string }
  /** The answer to a `series` request (same `requestId`). */
  | { type: 'series'; requestId: number; key: string; series: ChartSeries[] }
  /** An inline edit the tracker refused; the page puts the old value back and says why. */
  | { type: 'editFailed'; runId: string; column: string; message: string };

/** Page → host. */
export type CompareRunsWebviewMessage =
  | { type: 'ready' }
  | { type: 'filter'; filter: string }
  /** `minMax`: whether the chart draws each bucket's min and max (few runs); the host reads them only then. */
  | { type: 'series'; requestId: number; key: string; runIds: string[]; maxPoints: number; minStep?: number; maxStep?: number; minMax: boolean }
  /** Set the run name, the note, or a user tag (`tags.<key>`); an empty tag value deletes the tag. */
  | { type: 'editCell'; runId: string; column: string; value: string }
  | { type: 'openRun'; runId: string }
  | { type: 'exportCsv'; runIds: string[] }
  /** The view state changed: the host keeps it for the next time the panel opens. */
  | { type: 'viewState'; state: CompareRunsViewState };

/** Longest filter, metric key or edited value the host takes from the page. */
export const MAX_TEXT = 100_000;
/** Most runs one message may name (the tracker's largest search page). */
export const MAX_RUN_IDS = 50_000;
export const MAX_CHART_POINTS = 10_000;
/**
 * The most runs whose min–max bands the chart draws, and so asks the host for (`minMax`).
 * Translucent bands compound where they overlap: past about ten runs the plot turns into a wash of
 * colour behind the lines, and each band costs a filled path of twice the buckets.
 */
export const BAND_MAX_RUNS = 10;
/** Largest view state (as JSON) the host keeps: a selection of 50,000 runs fits. */
export const MAX_VIEW_STATE = 4_000_000;

const text = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const runIds = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_RUN_IDS && v.every(isRunId);
const step = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v));

/** The table a `table` message carries. */
export function tableOfJson(json: string): RunTable {
  const t = JSON.parse(json) as RunTable;
  if (!Array.isArray(t?.columns) || !Array.isArray(t.rows)) throw new Error('the host sent no run table');
  return t;
}

/** May the page edit this column inline? (The run name, the note and user tags, nothing else.) */
export function isEditableColumn(column: string): boolean {
  return column === RUN_NAME_COLUMN || column === NOTE_COLUMN || (column.startsWith('tags.') && column.length > 5 && !column.startsWith('tags.mlflow.'));
}

/** Is `m` a message the Compare Runs page may send? (The host ignores anything else.) */
export function isCompareRunsWebviewMessage(m: unknown): m is CompareRunsWebviewMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  switch (r.type) {
    case 'ready':
      return true;
    case 'filter':
      return text(r.filter);
    case 'series':
      return (
        Number.isSafeInteger(r.requestId) &&
        text(r.key) &&
        runIds(r.runIds) &&
        Number.isInteger(r.maxPoints) &&
        (r.maxPoints as number) >= 1 &&
        (r.maxPoints as number) <= MAX_CHART_POINTS &&
        step(r.minStep) &&
        step(r.maxStep) &&
        (r.minStep === undefined) === (r.maxStep === undefined) &&
        typeof r.minMax === 'boolean'
      );
    case 'editCell':
      return isRunId(r.runId) && typeof r.column === 'string' && isEditableColumn(r.column) && text(r.value);
    case 'openRun':
      return isRunId(r.runId);
    case 'exportCsv':
      return runIds(r.runIds);
    case 'viewState':
      return typeof r.state === 'object' && r.state !== null && !Array.isArray(r.state) && JSON.stringify(r.state).length <= MAX_VIEW_STATE;
    default:
      return false;
  }
}
