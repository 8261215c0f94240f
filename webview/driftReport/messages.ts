/**
 * The drift report view's messages, typed once here; the host (client/driftReportPanel.ts) and the
 * page (webview/driftReport/main.ts) both import this module. The host checks what the page sends
 * with `isDriftReportWebviewMessage` before acting on it.
 *
 * The page is given the report as `runwise drift --json` prints it (core/drift/driftReport.ts), in a
 * webview by message and in the offline HTML file (core/drift/driftHtml.ts) as a JSON data block.
 * Either way it went through JSON (NaN and ±Infinity became null) and may be a stored artifact, so
 * `driftReportFromJson` checks every field before the page uses it.
 */
import type { DriftColumn, DriftColumnType, DriftHistogram, DriftReport, DriftSideSummary, DriftTestName } from '../../core/drift/driftReport';
import { DRIFT_TEST_NAMES } from '../../core/drift/driftReport';

/** One batch of a watched folder (client/driftWatches.ts): its drift share, oldest batch first. */
export interface DriftBatchPoint {
  batch: string;
  drift_share: number;
  dataset_drift: boolean;
}

/** Host → page. `history`: the watch's batches when the report was opened from a watched folder. */
export type DriftReportHostMessage =
  | { type: 'report'; report: DriftReport; history?: DriftBatchPoint[] }
  /** No report to show (the comparison failed, the run has none); `reason` says why. */
  | { type: 'reportMissing'; reason: string };

/** Page → host. */
export type DriftReportWebviewMessage = { type: 'ready' };

/** Is `m` a message the drift report page may send? (The host ignores anything else.) */
export function isDriftReportWebviewMessage(m: unknown): m is DriftReportWebviewMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ready';
}

/** The id of the JSON data block the offline HTML page carries its report in. */
export const DRIFT_REPORT_DATA_ID = 'runwise-drift-report';

const COLUMN_TYPES: readonly DriftColumnType[] = ['numerical', 'categorical', 'binary', 'datetime', 'text'];

type Loose = Record<string, unknown>;
const record = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});
/** A number, or NaN for null (NaN after a JSON round trip) and anything else. */
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const text = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const optionalNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function histogramFromJson(v: unknown): DriftHistogram | undefined {
  const h = record(v);
  const counts = Array.isArray(h.counts) ? h.counts.map(count) : undefined;
  if (!counts) return undefined;
  if (h.kind === 'numeric' && Array.isArray(h.edges) && h.edges.length === counts.length + 1) return { kind: 'numeric', edges: h.edges.map(num), counts };
  if (h.kind === 'categorical' && Array.isArray(h.labels) && h.labels.length === counts.length) return { kind: 'categorical', labels: h.labels.map(text), counts };
  return undefined;
}

function sideFromJson(v: unknown): DriftSideSummary {
  const s = record(v);
  const side: DriftSideSummary = { count: count(s.count), missing: count(s.missing), distinct: count(s.distinct) };
  for (const key of ['mean', 'std', 'min', 'p25', 'median', 'p75', 'max'] as const) {
    const n = optionalNumber(s[key]);
    if (n !== undefined) side[key] = n;
  }
  if (s.top !== undefined && s.top !== null) side.top = text(s.top);
  const histogram = histogramFromJson(s.histogram);
  if (histogram) side.histogram = histogram;
  return side;
}

function columnFromJson(v: unknown): DriftColumn {
  const c = record(v);
  const test = DRIFT_TEST_NAMES.includes(c.test as DriftTestName) ? (c.test as DriftTestName) : null;
  const column: DriftColumn = {
    name: text(c.name),
    type: COLUMN_TYPES.includes(c.type as DriftColumnType) ? (c.type as DriftColumnType) : 'text',
    test,
    score: test !== null && typeof c.score === 'number' ? c.score : null,
    threshold: test !== null && typeof c.threshold === 'number' ? c.threshold : null,
    drifted: c.drifted === true,
    reference: sideFromJson(c.reference),
    current: sideFromJson(c.current),
  };
  if (c.skipped !== undefined && c.skipped !== null) column.skipped = text(c.skipped);
  return column;
}

/** A drift report read back from JSON, every field checked; throws when `v` is no drift report at all. */
export function driftReportFromJson(v: unknown): DriftReport {
  const r = record(v);
  if (!Array.isArray(r.columns) || typeof r.dataset_drift !== 'boolean') throw new Error('not a drift report: it has no columns or no dataset_drift');
  const report: DriftReport = {
    dataset_drift: r.dataset_drift,
    drift_share: num(r.drift_share),
    n_drifted: count(r.n_drifted),
    n_columns: count(r.n_columns),
    columns: r.columns.map(columnFromJson),
  };
  const shareThreshold = optionalNumber(r.drift_share_threshold);
  if (shareThreshold !== undefined) report.drift_share_threshold = shareThreshold;
  if (typeof r.reference_file === 'string') report.reference_file = r.reference_file;
  if (typeof r.current_file === 'string') report.current_file = r.current_file;
  const sample = record(r.sample);
  if (r.sample !== undefined && r.sample !== null) {
    report.sample = { rows: count(sample.rows), reference_rows: count(sample.reference_rows), current_rows: count(sample.current_rows), seed: num(sample.seed) };
  }
  return report;
}

/** A watch's batch history read back from a message, every field checked (points without a finite share are dropped). */
export function driftHistoryFromJson(v: unknown): DriftBatchPoint[] {
  if (!Array.isArray(v)) return [];
  return v
    .map(record)
    .filter((p) => typeof p.drift_share === 'number' && Number.isFinite(p.drift_share))
    .map((p) => ({ batch: text(p.batch), drift_share: p.drift_share as number, dataset_drift: p.dataset_drift === true }));
}
