/**
 * A drift report as a tracker run (`runwise drift --log`, `drift watch` and the pipeline's drift
 * step, which logs into its stage's run): metrics `drift_share`, `drifted_columns` (the report's
 * `n_drifted`: the name pipeline gates complete, core/language/schema/builtinSteps.ts), `n_columns`,
 * `dataset_drift` (1 or 0) and one `drift_score/<column>` per checked column (its score: the
 * p-value for a test, the distance for a distance), params for the files, the
 * drift-share threshold, the sample and each column's test and threshold, the two files as dataset
 * inputs (context `reference` / `current`, digest: the file's md5, the sha256 as the input tag
 * `runwise.sha256`), and the JSON report as the
 * artifact `drift/report.json` (with the HTML page as `drift/report.html` when one was written).
 *
 * One naming for the scores, `drift_score/<column>`: `/` is the project's separator inside a metric
 * name (DVCLive's `train/loss`, which the gate grammar reads as one name), MLflow's UI groups a
 * run's charts by the part before the first `/`, so the scores sit together apart from the
 * dataset-level metrics, and a column name's own dots (`petal.length`) stay unambiguous.
 *
 * Column names become metric and param names, so they are made valid for MLflow's rule
 * (core/tracker/entityNames.ts): any other character becomes `_`, and so does `/` (a name may not
 * hold `//` or end in `/`); names that collide get `_2`, `_3`… in column order.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileMd5 } from '../dataset/dataset';
import type { DriftReport } from './driftReport';
import { MAX_ENTITY_KEY_LENGTH, MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, MAX_PARAM_VAL_LENGTH } from '../tracker/limits';
import { DRIFT_REPORT_ARTIFACT, FAILURE_REASON_TAG, type Metric, type Param } from '../tracker/model';
import type { Tracker } from '../tracker/tracker';

export const DRIFT_HTML_ARTIFACT = 'drift/report.html';
/** Each checked column's score is the metric `drift_score/<column>`. */
export const DRIFT_SCORE_METRIC_PREFIX = 'drift_score/';

export interface DriftRunOptions {
  experimentId?: string;
  runName?: string;
  /** Tags set on the run when it is created (e.g. the pipeline's parent run). */
  tags?: readonly { key: string; value: string }[];
  /** An HTML page of the report already written: stored as `drift/report.html`. */
  htmlFile?: string;
  /**
   * The two compared files on disk, read for their md5 when `md5` does not give it; by default the
   * report's `reference_file` and `current_file` (resolved against the working directory).
   */
  files?: { reference: string; current: string };
  /** Each file's md5 (hex) when the caller knows it already (a pipeline stage's hashed dependencies). */
  md5?: { reference?: string; current?: string };
  /**
   * Log into this existing run (the pipeline stage's) and leave its status to its owner, instead of
   * creating a run and finishing it (`experimentId`, `runName` and `tags` then do not apply).
   */
  runId?: string;
}

/** `prefix` + `column` as a valid MLflow entity name, unique among `taken` (which it joins). */
export function driftEntityName(prefix: string, column: string, taken: Set<string>): string {
  // An empty column name is `_`: `drift_score/` alone would end in `/`.
  const base = `${prefix}${column.replace(/[^\p{L}\p{N}_.\- :]/gu, '_') || '_'}`.slice(0, MAX_ENTITY_KEY_LENGTH);
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

/**
 * Logs `report` as a new finished run and returns its id; a failure while logging marks the run
 * FAILED. With `options.runId`, logs into that run instead and leaves its status alone.
 */
export async function logDriftRun(tracker: Tracker, report: DriftReport, options: DriftRunOptions = {}): Promise<string> {
  const verdictTag = { key: 'runwise.drift.dataset_drift', value: String(report.dataset_drift) };
  if (options.runId) {
    tracker.setTag(options.runId, verdictTag);
    await logReport(tracker, options.runId, report, options);
    return options.runId;
  }
  const run = tracker.createRun({
    ...(options.experimentId ? { experimentId: options.experimentId } : {}),
    runName: options.runName ?? `drift ${path.basename(report.current_file ?? 'current')}`.slice(0, 250),
    tags: [verdictTag, ...(options.tags ?? [])],
  });
  const runId = run.info.runId;
  try {
    await logReport(tracker, runId, report, options);
    tracker.updateRun(runId, { status: 'FINISHED' });
    return runId;
  } catch (e) {
    tracker.updateRun(runId, { status: 'FAILED' });
    tracker.setTag(runId, { key: FAILURE_REASON_TAG, value: String((e as Error).message ?? e).slice(0, 5000) });
    throw e;
  }
}

/** The report's metrics, params, inputs and artifacts into `runId`. */
async function logReport(tracker: Tracker, runId: string, report: DriftReport, options: DriftRunOptions): Promise<void> {
  const { htmlFile } = options;
  const timestamp = Date.now();
  const metric = (key: string, value: number): Metric => ({ key, value, timestamp, step: 0 });
  const metrics: Metric[] = [metric('drift_share', report.drift_share), metric('drifted_columns', report.n_drifted), metric('n_columns', report.n_columns), metric('dataset_drift', report.dataset_drift ? 1 : 0)];
  const clip = (v: string) => (v.length > MAX_PARAM_VAL_LENGTH ? `${v.slice(0, MAX_PARAM_VAL_LENGTH - 1)}…` : v);
  // Under `drift.`: in a pipeline's drift stage these share the stage run with its params.yaml
  // values, and a param cannot be logged twice with different values.
  const params: Param[] = [
    { key: 'drift.reference', value: clip(report.reference_file ?? '') },
    { key: 'drift.current', value: clip(report.current_file ?? '') },
    { key: 'drift.drift_share_threshold', value: String(report.drift_share_threshold ?? 0.5) },
    { key: 'drift.sample', value: report.sample ? String(report.sample.rows) : 'all rows' },
  ];
  const metricNames = new Set(metrics.map((m) => m.key));
  const paramNames = new Set(params.map((p) => p.key));
  for (const c of report.columns) {
    if (c.test === null || c.score === null || c.threshold === null) continue;
    if (Number.isFinite(c.score)) metrics.push(metric(driftEntityName(DRIFT_SCORE_METRIC_PREFIX, c.name, metricNames), c.score));
    params.push({ key: driftEntityName('drift.test.', c.name, paramNames), value: `${c.test} ${c.threshold}` });
  }
  for (const batch of chunks(metrics, MAX_METRICS_PER_BATCH)) tracker.logBatch(runId, { metrics: batch });
  for (const batch of chunks(params, MAX_PARAMS_TAGS_PER_BATCH)) tracker.logBatch(runId, { params: batch });
  const schema = JSON.stringify({ columns: report.columns.map((c) => ({ name: c.name, type: c.type })) });
  // The digest is the file's md5, as a pipeline stage records its dependencies and an evaluation
  // its dataset: lineage then shows one node for one version of a file, whoever read it.
  const md5 = async (side: 'reference' | 'current') => {
    const known = options.md5?.[side] ?? report[side === 'reference' ? 'reference_md5' : 'current_md5'];
    if (known !== undefined) return known;
    const file = options.files?.[side] ?? report[side === 'reference' ? 'reference_file' : 'current_file'];
    // No file named (a report built without one): no hash recorded, as lineage shows it.
    return file ? fileMd5(path.resolve(file)) : '';
  };
  const digests = { reference: await md5('reference'), current: await md5('current') };
  const input = (file: string | undefined, sha256: string | undefined, context: 'reference' | 'current') => ({
    dataset: {
      name: path.basename(file ?? context).replace(/\.[^.]+$/, '') || context,
      digest: digests[context],
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
  if (htmlFile) await tracker.putArtifact(runId, DRIFT_HTML_ARTIFACT, readFileSync(htmlFile));
}
