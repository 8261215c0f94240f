/**
 * Runs as flat records for export: one record per run with its attributes, params, latest metrics
 * and tags; CSV columns `params.<key>`, `metrics.<key>`, `tags.<key>` as MLflow's `search_runs`
 * DataFrame names them.
 */
import type { Run } from './model';

export interface RunRecord {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  parent_run_id: string | null;
  params: Record<string, string>;
  metrics: Record<string, number | string>;
  tags: Record<string, string>;
}

/** JSON has no NaN or Infinity; they are written as MLflow's JSON does, as strings. */
function jsonNumber(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return v;
}

export function runRecord(run: Run): RunRecord {
  return {
    run_id: run.info.runId,
    run_name: run.info.runName,
    experiment_id: run.info.experimentId,
    status: run.info.status,
    start_time: run.info.startTime,
    end_time: run.info.endTime,
    lifecycle_stage: run.info.lifecycleStage,
    parent_run_id: run.info.parentRunId,
    params: Object.fromEntries(run.params.map((p) => [p.key, p.value])),
    metrics: Object.fromEntries(run.metrics.map((m) => [m.key, jsonNumber(m.value)])),
    tags: Object.fromEntries(run.tags.map((t) => [t.key, t.value])),
  };
}

/** A plain decimal number: a spreadsheet reads it as a number, never as a formula. */
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** What a spreadsheet takes as the start of a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell. Run names, params, tags and keys come from whoever logged them, so a cell that a
 * spreadsheet would run as a formula (`=HYPERLINK(…)`, `@SUM(…)`, `-2+3`, a leading tab or CR) is
 * neutralised as OWASP recommends: prefixed with `'` and quoted. Plain numbers (`-0.5`, `+1e-3`)
 * are left as they are.
 */
export function csvCell(v: string): string {
  const text = FORMULA_START.test(v) && !PLAIN_NUMBER.test(v) ? `'${v}` : v;
  return text !== v || /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function runsToCsv(runs: readonly Run[]): string {
  const records = runs.map(runRecord);
  const keysOf = (pick: (r: RunRecord) => Record<string, unknown>) => [...new Set(records.flatMap((r) => Object.keys(pick(r))))].sort();
  const paramKeys = keysOf((r) => r.params);
  const metricKeys = keysOf((r) => r.metrics);
  const tagKeys = keysOf((r) => r.tags);
  const header = [
    'run_id',
    'run_name',
    'experiment_id',
    'status',
    'start_time',
    'end_time',
    ...metricKeys.map((k) => `metrics.${k}`),
    ...paramKeys.map((k) => `params.${k}`),
    ...tagKeys.map((k) => `tags.${k}`),
  ];
  const lines = [header.map(csvCell).join(',')];
  for (const r of records) {
    const row = [
      r.run_id,
      r.run_name,
      r.experiment_id,
      r.status,
      new Date(r.start_time).toISOString(),
      r.end_time === null ? '' : new Date(r.end_time).toISOString(),
      ...metricKeys.map((k) => (k in r.metrics ? String(r.metrics[k]) : '')),
      ...paramKeys.map((k) => r.params[k] ?? ''),
      ...tagKeys.map((k) => r.tags[k] ?? ''),
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
