/**
 * What a model card says about a model's measured quality, read from the tracker: the latest
 * finished evaluation run of the model's bytes (tagged MODEL_SHA256_TAG with the sha256 a registered
 * version records), its metrics, the dataset it ran on (by hash), and its report artifact
 * (`evaluation/report.json`: the task, the full dataset hash, the slices) when it has one.
 */
import { readFileSync } from "node:fs";
import { EVALUATION_REPORT_ARTIFACT, MODEL_SHA256_TAG, PARENT_RUN_TAG, type Run } from "../tracker/model";
import type { Tracker } from "../tracker/tracker";

/** The evaluation's report artifact, as core/evaluation writes it. */

/** Metrics an evaluation logs that describe the run, not the model's quality: never written into a card. */
const RUN_METRICS = new Set([
  "rows",
  "rows_per_second",
  "latency_p50_ms",
  "latency_p95_ms",
  "latency_p99_ms",
]);

export interface CardSlice {
  /** `column=value`. */
  name: string;
  metrics: { key: string; value: number }[];
}

export interface CardEvaluation {
  /** `NAME/VERSION` of the registered version, or the model file, that the numbers describe. */
  subject: string;
  runId: string;
  /** `binary`, `multiclass`, `regression`, or undefined when the run does not say. */
  task?: string;
  dataset: { name: string; path: string; sha256: string; rows?: number };
  /** Quality metrics, in the order the run logged them (run statistics such as latency left out). */
  metrics: { key: string; value: number }[];
  threshold?: number;
  slices: CardSlice[];
}

/** The run ids of finished evaluations of the model whose sha256 is `sha256`, oldest first. */
export function evaluationRunIds(
  tracker: Pick<Tracker, "db">,
  sha256: string,
): string[] {
  return tracker.db
    .prepare(
      `SELECT r.run_uuid FROM tags t JOIN runs r ON r.id = t.run_id
        WHERE t.key = ? AND t.value = ? AND r.lifecycle_stage = 'active' AND r.status = 'FINISHED'
        ORDER BY r.start_time, r.id`,
    )
    .all(MODEL_SHA256_TAG, sha256)
    .map((r) => String(r.run_uuid));
}

/** The dataset an evaluation run read: the input tagged as the evaluation's (as core/evaluation logs it), or its first. */
export function evaluationInput(run: Run): Run["inputs"][number]["dataset"] | undefined {
  return (run.inputs.find((i) => i.tags.some((t) => t.key === "mlflow.data.context" && t.value === "evaluation")) ?? run.inputs[0])?.dataset;
}

/**
 * What an evaluation run measured on: the dataset it read (evaluationInput) and the settings that
 * change the numbers (target, task, threshold, features), as one key; undefined when it logged no
 * dataset.
 */
function evaluatedDataset(tracker: Pick<Tracker, "getRun">, runId: string): { source: string; digest: string; key: string } | undefined {
  const run = tracker.getRun(runId);
  const input = evaluationInput(run);
  if (!input) return undefined;
  const param = (k: string) => run.params.find((p) => p.key === k)?.value ?? "";
  return { source: input.source || input.name, digest: input.digest, key: [input.digest, param("target"), param("task"), param("threshold"), param("features")].join("\u0000") };
}

/**
 * The evaluations to compare two models by (their sha256s): the latest pair on one dataset (the
 * same file version, by digest) with the same target, task, threshold and features, newest first
 * by `a`'s; else each one's latest, with `shared` false (their numbers are not comparable).
 * Undefined when either was never evaluated.
 */
export function comparableEvaluations(
  tracker: Pick<Tracker, "db" | "getRun">,
  a: string,
  b: string,
): { a: string; b: string; shared: boolean; datasets: [{ source: string; digest: string } | undefined, { source: string; digest: string } | undefined] } | undefined {
  const ofA = evaluationRunIds(tracker, a);
  const ofB = evaluationRunIds(tracker, b);
  if (ofA.length === 0 || ofB.length === 0) return undefined;
  const datasetsB = ofB.map((id) => evaluatedDataset(tracker, id));
  for (let i = ofA.length - 1; i >= 0; i--) {
    const d = evaluatedDataset(tracker, ofA[i]!);
    if (!d) continue;
    for (let j = ofB.length - 1; j >= 0; j--) {
      if (datasetsB[j]?.key === d.key) return { a: ofA[i]!, b: ofB[j]!, shared: true, datasets: [d, datasetsB[j]] };
    }
  }
  const lastA = ofA[ofA.length - 1]!;
  return { a: lastA, b: ofB[ofB.length - 1]!, shared: false, datasets: [evaluatedDataset(tracker, lastA), datasetsB[datasetsB.length - 1]] };
}

/** The finished evaluation run that is a child of `parentRunId` (a pipeline's evaluate stage run), if any. */
export function evaluationUnder(tracker: Pick<Tracker, "db">, parentRunId: string): string | undefined {
  const row = tracker.db
    .prepare(
      `SELECT r.run_uuid FROM tags p JOIN runs r ON r.id = p.run_id JOIN tags m ON m.run_id = r.id AND m.key = ?
        WHERE p.key = ? AND p.value = ? AND r.lifecycle_stage = 'active' AND r.status = 'FINISHED'
        ORDER BY r.start_time DESC, r.id DESC LIMIT 1`,
    )
    .get(MODEL_SHA256_TAG, PARENT_RUN_TAG, parentRunId);
  return row ? String(row.run_uuid) : undefined;
}

/**
 * The latest finished evaluation of model `sha256` measured as `like` was (the same dataset
 * version, target, task, threshold and features), or undefined when there is none.
 */
export function evaluationLike(tracker: Pick<Tracker, "db" | "getRun">, sha256: string, like: string): string | undefined {
  const key = evaluatedDataset(tracker, like)?.key;
  if (key === undefined) return undefined;
  const ids = evaluationRunIds(tracker, sha256);
  for (let i = ids.length - 1; i >= 0; i--) if (evaluatedDataset(tracker, ids[i]!)?.key === key) return ids[i];
  return undefined;
}

/** Metrics where lower is better; the other quality metrics are better higher. */
const LOWER_IS_BETTER = new Set(["log_loss", "mae", "mse", "rmse", "mape"]);

/**
 * Which way an evaluation's metric improves: lower for the losses, errors and latencies, higher for
 * the scores and throughput; undefined for a count such as `rows`.
 */
export function betterWhen(metric: string): "higher" | "lower" | undefined {
  if (metric === "rows") return undefined;
  return LOWER_IS_BETTER.has(metric) || metric.startsWith("latency") ? "lower" : "higher";
}

/**
 * The change of a metric from `from` to `to`, signed (`+0.02`, `−0.02`, the size written by
 * `format`), and whether that is better or worse for the metric (see betterWhen): `−0.02 (worse)`
 * for an accuracy that fell.
 */
export function metricChange(metric: string, from: number, to: number, format: (v: number) => string): string {
  const d = to - from;
  if (!Number.isFinite(d)) return "";
  if (d === 0) return "0";
  const shown = `${d > 0 ? "+" : "−"}${format(Math.abs(d))}`;
  const way = betterWhen(metric);
  if (!way) return shown;
  return `${shown} (${(way === "higher") === d > 0 ? "better" : "worse"})`;
}

/**
 * The first metric of `order` on which model `to` measured worse than model `from` (by sha256),
 * when both were evaluated on one dataset version; undefined when not worse or not comparable.
 */
export function worseOnSameData(
  tracker: Pick<Tracker, "db" | "getRun">,
  from: string,
  to: string,
  order: readonly string[],
): { metric: string; from: number; to: number; dataset: string } | undefined {
  const pair = comparableEvaluations(tracker, from, to);
  if (!pair?.shared) return undefined;
  const values = (runId: string) => new Map(tracker.getRun(runId).metrics.map((m) => [m.key, m.value]));
  const [a, b] = [values(pair.a), values(pair.b)];
  const metric = order.find((k) => Number.isFinite(a.get(k)) && Number.isFinite(b.get(k)));
  if (metric === undefined) return undefined;
  const [x, y] = [a.get(metric)!, b.get(metric)!];
  const worse = betterWhen(metric) === "lower" ? y > x : y < x;
  return worse ? { metric, from: x, to: y, dataset: pair.datasets[0]?.source ?? "the same data" } : undefined;
}

/** On a pipeline's `evaluate` stage run: the evaluation run it made. */
export const EVALUATION_RUN_TAG = "runwise.evaluation_run";

/**
 * The latest finished evaluation of the model `sha256` that a pipeline's evaluate stage made (the
 * stage's run names it), or undefined when no stage evaluated these bytes: what a `register` step
 * writes into its card, so that an ad-hoc evaluation on other data or at another threshold never
 * reaches the registered version's card.
 */
export function latestPipelineEvaluation(
  tracker: Tracker,
  sha256: string,
  subject: string,
): CardEvaluation | undefined {
  const row = tracker.db
    .prepare(
      `SELECT r.run_uuid FROM tags t JOIN runs r ON r.id = t.run_id
        WHERE t.key = ? AND t.value = ? AND r.lifecycle_stage = 'active' AND r.status = 'FINISHED'
          AND EXISTS (SELECT 1 FROM tags s WHERE s.key = ? AND s.value = r.run_uuid)
        ORDER BY r.start_time DESC, r.id DESC LIMIT 1`,
    )
    .get(MODEL_SHA256_TAG, sha256, EVALUATION_RUN_TAG);
  return row ? cardEvaluationOf(tracker, tracker.getRun(String(row.run_uuid)), subject) : undefined;
}

/** The latest finished evaluation of the model `sha256`, or undefined when it was never evaluated. */
export function latestEvaluation(
  tracker: Tracker,
  sha256: string,
  subject: string,
): CardEvaluation | undefined {
  const ids = evaluationRunIds(tracker, sha256);
  const last = ids[ids.length - 1];
  return last === undefined
    ? undefined
    : cardEvaluationOf(tracker, tracker.getRun(last), subject);
}

/**
 * The latest finished evaluation of the bytes on each dataset they were evaluated on, the latest
 * first: what a card may be updated from, when "the latest" alone would swap its test-set numbers
 * for another file's.
 */
export function latestEvaluationsByData(tracker: Tracker, sha256: string, subject: string): CardEvaluation[] {
  const seen = new Set<string>();
  const out: CardEvaluation[] = [];
  for (const id of evaluationRunIds(tracker, sha256).reverse()) {
    const evaluation = cardEvaluationOf(tracker, tracker.getRun(id), subject);
    const data = `${evaluation.dataset.path || evaluation.dataset.name}\u0000${evaluation.dataset.sha256 ?? ""}`;
    if (seen.has(data)) continue;
    seen.add(data);
    out.push(evaluation);
  }
  return out;
}

interface ReportShape {
  task?: unknown;
  rows?: unknown;
  threshold?: unknown;
  dataset?: { path?: unknown; sha256?: unknown };
  slices?: {
    column?: unknown;
    values?: { value?: unknown; metrics?: Record<string, unknown> }[];
  } | null;
}

function readReport(tracker: Tracker, runId: string): ReportShape | undefined {
  try {
    const parsed: unknown = JSON.parse(
      readFileSync(
        tracker.openArtifact(runId, EVALUATION_REPORT_ARTIFACT).filePath,
        "utf8",
      ),
    );
    return parsed && typeof parsed === "object"
      ? (parsed as ReportShape)
      : undefined;
  } catch {
    // No report, or one that cannot be read: the run's own records still say enough.
    return undefined;
  }
}

const numeric = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(v);

export function cardEvaluationOf(
  tracker: Tracker,
  run: Run,
  subject: string,
): CardEvaluation {
  const runId = run.info.runId;
  const report = readReport(tracker, runId);
  const param = (key: string) => run.params.find((p) => p.key === key)?.value;
  const input = evaluationInput(run);
  const datasetPath =
    (typeof report?.dataset?.path === "string"
      ? report.dataset.path
      : undefined) ??
    input?.source ??
    param("data") ??
    "";
  const sha256 =
    (typeof report?.dataset?.sha256 === "string"
      ? report.dataset.sha256
      : undefined) ??
    input?.digest ??
    "";
  const rows = numeric(report?.rows)
    ? report.rows
    : run.metrics.find((m) => m.key === "rows")?.value;
  const task = typeof report?.task === "string" ? report.task : param("task");
  const thresholdParam = param("threshold");
  const threshold = numeric(report?.threshold)
    ? report.threshold
    : thresholdParam !== undefined && Number.isFinite(Number(thresholdParam))
      ? Number(thresholdParam)
      : undefined;
  const slices: CardSlice[] = [];
  const column = report?.slices?.column;
  if (typeof column === "string") {
    for (const s of report?.slices?.values ?? []) {
      const metrics = Object.entries(s.metrics ?? {}).flatMap(([key, value]) =>
        numeric(value) && !RUN_METRICS.has(key) ? [{ key, value }] : [],
      );
      slices.push({ name: `${column}=${String(s.value)}`, metrics });
    }
  }
  return {
    subject,
    runId,
    ...(task !== undefined ? { task } : {}),
    dataset: {
      name:
        input?.name ??
        (datasetPath.split("/").pop() ?? datasetPath).replace(/\.[^.]+$/, ""),
      path: datasetPath,
      sha256,
      ...(rows !== undefined ? { rows } : {}),
    },
    metrics: run.metrics
      .filter((m) => !RUN_METRICS.has(m.key) && Number.isFinite(m.value))
      .map((m) => ({ key: m.key, value: m.value })),
    ...(threshold !== undefined ? { threshold } : {}),
    slices,
  };
}
