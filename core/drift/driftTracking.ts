/**
 * A drift report as a tracker run (`runwise drift --log` and the pipeline's drift step): metrics
 * `drift_share`, `n_drifted`, `dataset_drift` (1 or 0) and one `drift.<column>` per checked column
 * (its score: the p-value for a test, the distance for a distance), params for the files, the
 * drift-share threshold, the sample and each column's test and threshold, the two files as dataset
 * inputs (context `reference` / `current`, digest from their sha256), and the JSON report as the
 * artifact `drift/report.json` (with the HTML page as `drift/report.html` when one was written).
 *
 * Column names become metric and param names, so they are made valid for MLflow's rule
 * (core/tracker/entityNames.ts): any other character becomes `_`, and so does `/` (a name may not
 * hold `//` or end in `/`); names that collide get `_2`, `_3`… in column order.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DriftReport } from './driftReport';
import { MAX_ENTITY_KEY_LENGTH, MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, MAX_PARAM_VAL_LENGTH } from '../tracker/limits';
import { DRIFT_REPORT_ARTIFACT, FAILURE_REASON_TAG, type Metric, type Param } from '../tracker/model';
import type { Tracker } from '../tracker/tracker';

export const DRIFT_HTML_ARTIFACT = 'drift/report.html';

export interface DriftRunOptions {
  experimentId?: string;
  runName?: string;
  /** Tags set on the run when it is created (e.g. the pipeline's parent run). */
  tags?: readonly { key: string; value: string }[];
  /** An HTML page of the report already written: stored as `drift/report.html`. */
  htmlFile?: string;
}

/** `prefix` + `column` as a valid MLflow entity name, unique among `taken` (which it joins). */
export function driftEntityName(prefix: string, column: string, taken: Set<string>): string {
  const base = `${prefix}${column.replace(/[^\p{L}\p{N}_.\- :]/gu, '_')}`.slice(0, MAX_ENTITY_KEY_LENGTH);
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base.slice(0, MAX_ENTITY_KEY_LENGTH - `_${k}`.length)}_${k}`;
  taken.add(name);
  return name;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Logs `report` as a new finished run and returns its id; a failure while logging marks the run FAILED. */
export async function logDriftRun(tracker: Tracker, report: DriftReport, options: DriftRunOptions = {}): Promise<string> {
  const run = tracker.createRun({
    ...(options.experimentId ? { experimentId: options.experimentId } : {}),
    runName: options.runName ?? `drift ${path.basename(report.current_file ?? 'current')}`.slice(0, 250),
    tags: [{ key: 'runwise.drift.dataset_drift', value: String(report.dataset_drift) }, ...(options.tags ?? [])],
  });
  const runId = run.info.runId;
  try {
    const timestamp = Date.now();
    const metric = (key: string, value: number): Metric => ({ key, value, timestamp, step: 0 });
    const metrics: Metric[] = [metric('drift_share', report.drift_share), metric('n_drifted', report.n_drifted), metric('n_columns', report.n_columns), metric('dataset_drift', report.dataset_drift ? 1 : 0)];
    const clip = (v: string) => (v.length > MAX_PARAM_VAL_LENGTH ? `${v.slice(0, MAX_PARAM_VAL_LENGTH - 1)}…` : v);
    const params: Param[] = [
      { key: 'reference', value: clip(report.reference_file ?? '') },
      { key: 'current', value: clip(report.current_file ?? '') },
      { key: 'drift_share_threshold', value: String(report.drift_share_threshold ?? 0.5) },
      { key: 'sample', value: report.sample ? String(report.sample.rows) : 'all rows' },
    ];
    const metricNames = new Set(metrics.map((m) => m.key));
    const paramNames = new Set(params.map((p) => p.key));
    for (const c of report.columns) {
      if (c.test === null || c.score === null || c.threshold === null) continue;
      if (Number.isFinite(c.score)) metrics.push(metric(driftEntityName('drift.', c.name, metricNames), c.score));
      params.push({ key: driftEntityName('test.', c.name, paramNames), value: `${c.test} ${c.threshold}` });
    }
    for (const batch of chunks(metrics, MAX_METRICS_PER_BATCH)) tracker.logBatch(runId, { metrics: batch });
    for (const batch of chunks(params, MAX_PARAMS_TAGS_PER_BATCH)) tracker.logBatch(runId, { params: batch });
    const schema = JSON.stringify({ columns: report.columns.map((c) => ({ name: c.name, type: c.type })) });
    const input = (file: string | undefined, sha256: string | undefined, context: string) => ({
      dataset: {
        name: path.basename(file ?? context).replace(/\.[^.]+$/, '') || context,
        digest: (sha256 ?? '').slice(0, 16),
        sourceType: 'local',
        source: file ?? '',
        schema,
      },
      tags: [
        { key: 'mlflow.data.context', value: context },
        ...(sha256 ? [{ key: 'runwise.sha256', value: sha256 }] : []),
      ],
    });
    tracker.logInputs(runId, [input(report.reference_file, report.reference_sha256, 'reference'), input(report.current_file, report.current_sha256, 'current')]);
    await tracker.putArtifact(runId, DRIFT_REPORT_ARTIFACT, Buffer.from(`${JSON.stringify(report, null, 2)}\n`));
    if (options.htmlFile) await tracker.putArtifact(runId, DRIFT_HTML_ARTIFACT, readFileSync(options.htmlFile));
    tracker.updateRun(runId, { status: 'FINISHED' });
    return runId;
  } catch (e) {
    tracker.updateRun(runId, { status: 'FAILED' });
    tracker.setTag(runId, { key: FAILURE_REASON_TAG, value: String((e as Error).message ?? e).slice(0, 5000) });
    throw e;
  }
}
