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
 * `metricSeries` gives one run's series as plain arrays (the run details' sparklines);
 * `metricSeriesColumns` gives many runs' in typed arrays, read without a row object per bucket
 * (the Compare Runs chart: 100 runs × 1,000 buckets), with or without the min and max (the chart
 * draws them as a band only for a few runs; without them 100 runs' buckets are read in about half
 * the time).
 */
import { bucketWidth, fromSql, jsonRealsExact } from '../tracker/metricHistory';
import { ROLLUP_BLOCK_SIZES } from '../tracker/schema';
import type { SqlDatabase, SqlRow } from '../tracker/sqlStore';
import type { Tracker } from '../tracker/tracker';
import type { SeriesColumns } from './seriesColumns';

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

/** How to read one run's series: the SQL that gives its buckets in order, or nothing to read. */
interface SeriesPlan {
  totalPoints: number;
  stepRange: [number, number] | null;
  /**
   * Rows of last_step, last_timestamp, last_value and (when planned with min and max) bmin, bmax,
   * one per bucket in bucket order.
   */
  sql?: string;
  params?: number[];
}

function checkQuery(maxPoints: number, minStep: number | undefined, maxStep: number | undefined): boolean {
  if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > MAX_SERIES_POINTS) {
    throw new Error(`max points must be an integer from 1 to ${MAX_SERIES_POINTS}, not ${maxPoints}`);
  }
  const ranged = minStep !== undefined || maxStep !== undefined;
  if (ranged && !(Number.isFinite(minStep) && Number.isFinite(maxStep) && minStep! <= maxStep!)) {
    throw new Error(`a step range needs two finite steps, the first not above the second (got ${minStep} to ${maxStep})`);
  }
  return ranged;
}

/**
 * Plans the read of run `runRow`'s metric `keyId` (both the tracker's integer ids); `minMax` false
 * leaves each bucket's min and max out (the same buckets, the same last points).
 */
function planSeries(db: SqlDatabase, runRow: number, keyId: number, maxPoints: number, range: { minStep: number; maxStep: number } | undefined, minMax: boolean): SeriesPlan {
  const bounds = db
    .prepare(
      `SELECT (SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step ASC LIMIT 1) AS lo,
              (SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step DESC LIMIT 1) AS hi,
              (SELECT SUM(count) FROM metric_rollups WHERE run_id = ? AND key_id = ? AND level = ${ROLLUP_BLOCK_SIZES.length - 1}) AS n`,
    )
    .get(runRow, keyId, runRow, keyId, runRow, keyId);
  if (!bounds || bounds.lo === null || bounds.lo === undefined) return { totalPoints: 0, stepRange: null };
  const first = Number(bounds.lo);
  const lastStep = Number(bounds.hi);
  const lo = range ? Math.max(first, Math.floor(range.minStep)) : first;
  const hi = range ? Math.min(lastStep, Math.ceil(range.maxStep)) : lastStep;
  const plan: SeriesPlan = { totalPoints: Number(bounds.n ?? 0), stepRange: [first, lastStep] };
  if (lo > hi) return plan;
  const width = bucketWidth(lo, hi, maxPoints);
  let level = 0;
  while (level + 1 < ROLLUP_BLOCK_SIZES.length && ROLLUP_BLOCK_SIZES[level + 1]! <= width) level++;
  const block = ROLLUP_BLOCK_SIZES[level]!;
  plan.params = [runRow, keyId, ...(level === 0 ? [lo, hi] : [Math.floor(lo / block), Math.floor(hi / block)])];
  // A bucket as wide as a rollup block is that block's row: read as they are, no window to compute
  // (the common case: a long series charted whole, e.g. a million steps at 1,024 per bucket).
  if (level > 0 && width === block) {
    plan.sql = `SELECT last_step, last_timestamp, last_value${minMax ? ', min AS bmin, max AS bmax' : ''} FROM metric_rollups
                 WHERE run_id = ? AND key_id = ? AND level = ${level} AND block BETWEEN ? AND ? ORDER BY block`;
    return plan;
  }
  // Otherwise per bucket: min and max by GROUP BY, and its last point (highest step, then latest
  // timestamp, then the later row: downsampleMetric's order) looked up by index. Three to four times
  // faster than downsampleMetric's window functions over the 10,000 raw points of a zoomed-in range.
  if (level === 0) {
    plan.sql = `SELECT m.step AS last_step, m.timestamp AS last_timestamp, m.value AS last_value${minMax ? ', b.bmin, b.bmax' : ''}
        FROM (SELECT ${floorDiv('step', width)} AS bucket,${minMax ? ' MIN(value) AS bmin, MAX(value) AS bmax,' : ''} MAX(step) AS top
                FROM metrics WHERE run_id = ? AND key_id = ? AND step BETWEEN ? AND ? GROUP BY bucket) AS b
        JOIN metrics AS m ON m.rowid =
             (SELECT rowid FROM metrics WHERE run_id = ? AND key_id = ? AND step = b.top ORDER BY timestamp DESC, rowid DESC LIMIT 1)
       ORDER BY b.bucket`;
    plan.params.push(runRow, keyId);
    return plan;
  }
  const per = width / block;
  plan.sql = `SELECT r.last_step, r.last_timestamp, r.last_value${minMax ? ', b.bmin, b.bmax' : ''}
      FROM (SELECT ${floorDiv('block', per)} AS bucket${minMax ? ', MIN(min) AS bmin, MAX(max) AS bmax' : ''}
              FROM metric_rollups WHERE run_id = ? AND key_id = ? AND level = ${level} AND block BETWEEN ? AND ? GROUP BY bucket) AS b
      JOIN metric_rollups AS r ON r.run_id = ? AND r.key_id = ? AND r.level = ${level} AND r.block =
           (SELECT block FROM metric_rollups WHERE run_id = ? AND key_id = ? AND level = ${level} AND block BETWEEN ? AND ?
               AND block BETWEEN b.bucket * ${per} AND b.bucket * ${per} + ${per - 1}
             ORDER BY last_step DESC, last_timestamp DESC, block DESC LIMIT 1)
     ORDER BY b.bucket`;
  plan.params.push(runRow, keyId, runRow, keyId, plan.params[2]!, plan.params[3]!);
  return plan;
}

/** The series `query` asks for; an unknown metric key gives an empty series, an unknown run an error. */
export function metricSeries(tracker: Tracker, query: SeriesQuery): MetricSeries {
  const { runId, key, maxPoints } = query;
  const ranged = checkQuery(maxPoints, query.minStep, query.maxStep);
  const db = tracker.db;
  const out: MetricSeries = {
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
  if (!keyRow) return out;
  const plan = planSeries(db, Number(run.id), Number(keyRow.key_id), maxPoints, ranged ? { minStep: query.minStep!, maxStep: query.maxStep! } : undefined, true);
  out.totalPoints = plan.totalPoints;
  out.stepRange = plan.stepRange;
  if (!plan.sql) return out;
  for (const r of db.prepare(plan.sql).all(...plan.params!)) {
    out.step.push(Number(r.last_step));
    out.timestamp.push(Number(r.last_timestamp));
    out.last.push(chartValue(fromSql(r.last_value ?? null)));
    out.min.push(chartValue(fromSql(r.bmin ?? null)));
    out.max.push(chartValue(fromSql(r.bmax ?? null)));
  }
  return out;
}

export interface SeriesColumnsQuery {
  runIds: readonly string[];
  key: string;
  maxPoints: number;
  minStep?: number;
  maxStep?: number;
  /** Read each bucket's min and max too? (Without them: the same buckets, read faster.) */
  minMax: boolean;
}

/** A gap (NULL, or a NaN or infinite value) as NaN. */
function columnValue(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/** The columns read: step, timestamp, last, and min and max when asked for. */
type Columns = Float64Array[];

function columnsOfJson(row: SqlRow | undefined, minMax: boolean): Columns | undefined {
  const steps = JSON.parse(String(row?.step ?? '[]')) as number[];
  // Buckets are disjoint step ranges read in bucket order, so their last steps rise strictly; JSON
  // aggregation keeps the subquery's order in practice, and this checks it (else: rows, below).
  for (let i = 1; i < steps.length; i++) if (!(steps[i]! > steps[i - 1]!)) return undefined;
  const n = steps.length;
  const cols = [Float64Array.from(steps), Float64Array.from(JSON.parse(String(row!.timestamp)) as number[])];
  for (const c of minMax ? ['last', 'bmin', 'bmax'] : ['last']) {
    const vs = JSON.parse(String(row![c])) as (number | null)[];
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = columnValue(vs[i]);
    cols.push(out);
  }
  return cols;
}

function columnsOfRows(rows: SqlRow[], minMax: boolean): Columns {
  const n = rows.length;
  const [step, timestamp, last] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const [min, max] = minMax ? [new Float64Array(n), new Float64Array(n)] : [];
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    step[i] = Number(r.last_step);
    timestamp[i] = Number(r.last_timestamp);
    last[i] = columnValue(fromSql(r.last_value ?? null));
    if (min && max) {
      min[i] = columnValue(fromSql(r.bmin ?? null));
      max[i] = columnValue(fromSql(r.bmax ?? null));
    }
  }
  return min && max ? [step, timestamp, last, min, max] : [step, timestamp, last];
}

/**
 * The series of metric `key` for each of `runIds` (in that order; a run the tracker does not have is
 * left out), each exactly `metricSeries`'s buckets (without min and max unless `query.minMax`:
 * then neither aggregated nor read, and absent from the result). Where the database's JSON gives
 * doubles back exactly, each run's buckets come back as JSON arrays in one row instead of a row
 * object per bucket: 100 runs × 1,000 buckets read in well under half the time.
 */
export function metricSeriesColumns(tracker: Tracker, query: SeriesColumnsQuery): SeriesColumns[] {
  const { key, maxPoints, minMax } = query;
  const ranged = checkQuery(maxPoints, query.minStep, query.maxStep);
  const range = ranged ? { minStep: query.minStep!, maxStep: query.maxStep! } : undefined;
  const db = tracker.db;
  return db.readSnapshot(() => {
    const ids = new Map<string, number>();
    for (const r of db.prepare('SELECT id, run_uuid FROM runs WHERE run_uuid IN (SELECT value FROM json_each(?))').all(JSON.stringify(query.runIds))) {
      ids.set(String(r.run_uuid), Number(r.id));
    }
    const keyRow = db.prepare('SELECT key_id FROM metric_keys WHERE key = ?').get(key);
    const json = jsonRealsExact(db);
    const out: SeriesColumns[] = [];
    for (const runId of query.runIds) {
      const runRow = ids.get(runId);
      if (runRow === undefined) continue;
      const plan: SeriesPlan = keyRow ? planSeries(db, runRow, Number(keyRow.key_id), maxPoints, range, minMax) : { totalPoints: 0, stepRange: null };
      let cols: Columns | undefined;
      if (!plan.sql) cols = (minMax ? [0, 1, 2, 3, 4] : [0, 1, 2]).map(() => new Float64Array(0));
      else if (json) {
        const row = db
          .prepare(
            `SELECT json_group_array(last_step) AS step, json_group_array(last_timestamp) AS timestamp, json_group_array(last_value) AS last
                    ${minMax ? ', json_group_array(bmin) AS bmin, json_group_array(bmax) AS bmax' : ''} FROM (${plan.sql})`,
          )
          .get(...plan.params!);
        cols = columnsOfJson(row, minMax);
      }
      cols ??= columnsOfRows(db.prepare(plan.sql!).all(...plan.params!), minMax);
      const [step, timestamp, last, min, max] = cols as [Float64Array, Float64Array, Float64Array, Float64Array?, Float64Array?];
      out.push({ runId, step, timestamp, last, ...(min && max ? { min, max } : {}), totalPoints: plan.totalPoints, stepRange: plan.stepRange });
    }
    return out;
  });
}
