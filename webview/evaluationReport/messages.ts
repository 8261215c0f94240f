/**
 * The evaluation report webview's messages, typed once here; the host
 * (client/evaluationReportPanel.ts) and the page (webview/evaluationReport/main.ts) both import this
 * module. The host checks what the page sends with `isEvaluationReportWebviewMessage` before acting
 * on it.
 *
 * `evaluationReportData` turns core/evaluation's report (as evaluateModel returns it, or as its
 * `evaluation/report.json` artifact reads back, where JSON turned NaN into null) into what the page
 * shows: metric values travel as WireNumbers, class labels as text.
 */
import { isRunId, toWireNumber, type WireNumber } from '../shared/messages';

export interface EvaluationSliceData {
  value: string;
  rows: number;
  metrics: Record<string, WireNumber>;
}

/** Everything the evaluation report page shows. */
export interface EvaluationReportData {
  runId: string | null;
  task: string;
  taskInferred: boolean;
  rows: number;
  threshold: number | null;
  model: { path: string; sha256: string };
  /** The registered versions that hold the model's bytes (`churn/2 (@champion)`), when known. */
  registeredAs: string[];
  dataset: { path: string; sha256: string; format: string; target: string; features: string[] };
  metrics: { key: string; value: WireNumber }[];
  /** Class labels in the confusion matrix's order (rows: true class, columns: predicted class). */
  classes: string[] | null;
  confusionMatrix: number[][] | null;
  slices: {
    column: string;
    /** The metrics the slice table shows, in the overall metrics' order. */
    metricKeys: string[];
    values: EvaluationSliceData[];
    largestGap: { metric: string; gap: WireNumber; lowest: string; highest: string } | null;
  } | null;
  latencyMs: { p50: WireNumber; p95: WireNumber; p99: WireNumber };
  rowsPerSecond: WireNumber;
  batches: number;
  batchSize: number;
  warnings: string[];
}

/** Host → page. */
export type EvaluationReportHostMessage =
  | { type: 'report'; report: EvaluationReportData }
  /** No report to show (the run has none, the tracker cannot be read); `reason` says why. */
  | { type: 'reportMissing'; reason: string };

/** Page → host. */
export type EvaluationReportWebviewMessage = { type: 'ready' } | { type: 'showRun'; runId: string };

/** Is `m` a message the evaluation report page may send? (The host ignores anything else.) */
export function isEvaluationReportWebviewMessage(m: unknown): m is EvaluationReportWebviewMessage {
  if (typeof m !== 'object' || m === null) return false;
  const { type, runId } = m as { type?: unknown; runId?: unknown };
  return type === 'ready' || (type === 'showRun' && isRunId(runId));
}

/** A number as it travels; null (NaN after a JSON round trip) and non-numbers become 'NaN'. */
function wire(v: unknown): WireNumber {
  return typeof v === 'number' ? toWireNumber(v) : 'NaN';
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

/** A count, or 0 for anything else. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * An evaluation report as core/evaluation writes it (EvaluationReport), typed loosely here: it may
 * be a run's report.json read back, so every field is checked before use (browser code imports no
 * evaluation module).
 */
export interface EvaluationReportJson {
  task?: unknown;
  task_inferred?: unknown;
  rows?: unknown;
  metrics?: Record<string, unknown> | null;
  confusion_matrix?: unknown[] | null;
  classes?: unknown[] | null;
  threshold?: unknown;
  slices?: {
    column?: unknown;
    values?: { value?: unknown; rows?: unknown; metrics?: Record<string, unknown> }[];
    largest_gap?: { metric?: unknown; gap?: unknown; lowest?: unknown; highest?: unknown } | null;
  } | null;
  latency_ms?: { p50?: unknown; p95?: unknown; p99?: unknown };
  rows_per_second?: unknown;
  batches?: unknown;
  batch_size?: unknown;
  warnings?: unknown[];
  model?: { path?: unknown; sha256?: unknown };
  dataset?: { path?: unknown; sha256?: unknown; format?: unknown; target?: unknown; features?: unknown[] };
  run_id?: unknown;
}

/** What the page shows of an evaluation report (also one read back from a run's report.json). */
export function evaluationReportData(report: EvaluationReportJson, registeredAs: readonly string[] = []): EvaluationReportData {
  const metrics = Object.entries(report.metrics ?? {}).map(([key, value]) => ({ key, value: wire(value) }));
  const slices = report.slices;
  const gap = slices?.largest_gap;
  return {
    runId: typeof report.run_id === 'string' ? report.run_id : null,
    task: text(report.task),
    taskInferred: report.task_inferred === true,
    registeredAs: registeredAs.map(text),
    rows: count(report.rows),
    threshold: typeof report.threshold === 'number' ? report.threshold : null,
    model: { path: text(report.model?.path), sha256: text(report.model?.sha256) },
    dataset: {
      path: text(report.dataset?.path),
      sha256: text(report.dataset?.sha256),
      format: text(report.dataset?.format),
      target: text(report.dataset?.target),
      features: Array.isArray(report.dataset?.features) ? report.dataset.features.map(text) : [],
    },
    metrics,
    classes: Array.isArray(report.classes) ? report.classes.map(text) : null,
    confusionMatrix: Array.isArray(report.confusion_matrix) ? report.confusion_matrix.map((row) => (Array.isArray(row) ? (row as unknown[]).map(count) : [])) : null,
    slices: slices
      ? {
          column: text(slices.column),
          metricKeys: metrics.map((m) => m.key),
          values: (Array.isArray(slices.values) ? slices.values : []).map((s) => ({
            value: text(s.value),
            rows: count(s.rows),
            metrics: Object.fromEntries(Object.entries(s.metrics ?? {}).map(([k, v]) => [k, wire(v)])),
          })),
          largestGap: gap ? { metric: text(gap.metric), gap: wire(gap.gap), lowest: text(gap.lowest), highest: text(gap.highest) } : null,
        }
      : null,
    latencyMs: { p50: wire(report.latency_ms?.p50), p95: wire(report.latency_ms?.p95), p99: wire(report.latency_ms?.p99) },
    rowsPerSecond: wire(report.rows_per_second),
    batches: count(report.batches),
    batchSize: count(report.batch_size),
    warnings: Array.isArray(report.warnings) ? report.warnings.map(text) : [],
  };
}
