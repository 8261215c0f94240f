/**
 * The series the Compare Runs charts draw: one metric of one run, downsampled in SQL to at most N
 * buckets (min, max and the last point of each, as core/tracker/metricHistory.ts's
 * `downsampleMetric` computes them from the raw points or a rollup level), optionally over a step
 * range only, so a chart zoomed into a million-step run asks again for just what it shows and gets
 * full detail there. Each bucket also carries its last point's timestamp, for the wall-time and
 * relative-time axes.
 *
 * Over the whole series the buckets are exactly `downsampleMetric`'s (the unit tests check that);
 * this module adds the step range and the timestamps, which that function does not take or return.
 */
import { bucketWidth, fromSql } from '../tracker/metricHistory';
import { ROLLUP_BLOCK_SIZES } from '../tracker/schema';
import type { Tracker } from '../tracker/tracker';

export interface SeriesQuery {
  runId: string;
  key: string;
  /** At most this many buckets (1 to 10,000). */
  maxPoints: number;
  /** Only points with minStep <= step <= maxStep (both or neither). */
  minStep?: number;
  maxStep?: number;
}

/**
 * One downsampled series, column-wise (what a canvas chart wants). A value that is NaN or infinite
 * is null: the chart leaves a gap there.
 */
export interface MetricSeries {
  runId: string;
  key: string;
  /** The step of each bucket's last point. */
  step: number[];
  /** Milliseconds since the epoch of each bucket's last point. */
  timestamp: number[];
  last: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  /** Points in the whole series (not just the range): how much the chart summarises. */
  totalPoints: number;
  /** The step range of the whole series, for the zoom-out bound; null when it has no points. */
  stepRange: [number, number] | null;
}

export const MAX_SERIES_POINTS = 10_000;

/** Floor division in SQLite integer arithmetic, correct for negative numerators. */
function floorDiv(x: string, d: number): string {
  return `((${x}) - ((((${x}) % ${d}) + ${d}) % ${d})) / ${d}`;
}

function chartValue(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** The series `query` asks for; an unknown metric key gives an empty series, an unknown run an error. */
export function metricSeries(tracker: Tracker, query: SeriesQuery): MetricSeries {
  const { runId, key, maxPoints } = query;
  if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > MAX_SERIES_POINTS) {
    throw new Error(`max points must be an integer from 1 to ${MAX_SERIES_POINTS}, not ${maxPoints}`);
  }
  const ranged = query.minStep !== undefined || query.maxStep !== undefined;
  if (ranged && !(Number.isFinite(query.minStep) && Number.isFinite(query.maxStep) && query.minStep! <= query.maxStep!)) {
    throw new Error(`a step range needs two finite steps, the first not above the second (got ${query.minStep} to ${query.maxStep})`);
  }
  const db = tracker.db;
  const empty: MetricSeries = {
    runId,
    key,
    step: [],
    timestamp: [],
    last: [],
    min: [],
    max: [],
    totalPoints: 0,
    stepRange: null,
  };
  const run = db.prepare('SELECT id FROM runs WHERE run_uuid = ?').get(runId);
  if (!run) throw new Error(`no run ${runId} in the tracker`);
  const keyRow = db.prepare('SELECT key_id FROM metric_keys WHERE key = ?').get(key);
  if (!keyRow) return empty;
  const runRow = Number(run.id);
  const keyId = Number(keyRow.key_id);
  const bounds = db
    .prepare(
      `SELECT (SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step ASC LIMIT 1) AS lo,
              (SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step DESC LIMIT 1) AS hi,
              (SELECT SUM(count) FROM metric_rollups WHERE run_id = ? AND key_id = ? AND level = ${ROLLUP_BLOCK_SIZES.length - 1}) AS n`,
    )
    .get(runRow, keyId, runRow, keyId, runRow, keyId);
  if (!bounds || bounds.lo === null || bounds.lo === undefined) return empty;
  const first = Number(bounds.lo);
  const lastStep = Number(bounds.hi);
  const lo = ranged ? Math.max(first, Math.floor(query.minStep!)) : first;
  const hi = ranged ? Math.min(lastStep, Math.ceil(query.maxStep!)) : lastStep;
  const base = {
    ...empty,
    totalPoints: Number(bounds.n ?? 0),
    stepRange: [first, lastStep] as [number, number],
  };
  if (lo > hi) return base;
  const width = bucketWidth(lo, hi, maxPoints);
  let level = 0;
  while (level + 1 < ROLLUP_BLOCK_SIZES.length && ROLLUP_BLOCK_SIZES[level + 1]! <= width) level++;
  const block = ROLLUP_BLOCK_SIZES[level]!;
  const source =
    level === 0
      ? `SELECT ${floorDiv('step', width)} AS bucket, value AS min, value AS max, step AS last_step,
                timestamp AS last_timestamp, value AS last_value, rowid AS seq
           FROM metrics WHERE run_id = ? AND key_id = ? AND step BETWEEN ? AND ?`
      : `SELECT ${floorDiv('block', width / block)} AS bucket, min, max, last_step, last_timestamp, last_value, block AS seq
           FROM metric_rollups WHERE run_id = ? AND key_id = ? AND level = ${level} AND block BETWEEN ? AND ?`;
  const range = level === 0 ? [lo, hi] : [Math.floor(lo / block), Math.floor(hi / block)];
  // A bucket as wide as a rollup block is that block's row: read as they are, no window to compute
  // (the common case: a long series charted whole, e.g. a million steps at 1,024 per bucket).
  const aligned = level > 0 && width === block;
  const rows = aligned
    ? db
        .prepare(
          `SELECT last_step, last_timestamp, last_value, min AS bmin, max AS bmax FROM metric_rollups
            WHERE run_id = ? AND key_id = ? AND level = ${level} AND block BETWEEN ? AND ? ORDER BY block`,
        )
        .all(runRow, keyId, range[0]!, range[1]!)
    : db
        .prepare(
          `WITH src AS (${source}),
       ranked AS (
         SELECT bucket, last_step, last_timestamp, last_value, MIN(min) OVER b AS bmin, MAX(max) OVER b AS bmax,
                ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY last_step DESC, last_timestamp DESC, seq DESC) AS rn
           FROM src
         WINDOW b AS (PARTITION BY bucket))
       SELECT last_step, last_timestamp, last_value, bmin, bmax FROM ranked WHERE rn = 1 ORDER BY bucket`,
        )
        .all(runRow, keyId, range[0]!, range[1]!);
  const out = base;
  for (const r of rows) {
    out.step.push(Number(r.last_step));
    out.timestamp.push(Number(r.last_timestamp));
    out.last.push(chartValue(fromSql(r.last_value ?? null)));
    out.min.push(chartValue(fromSql(r.bmin ?? null)));
    out.max.push(chartValue(fromSql(r.bmax ?? null)));
  }
  return out;
}
