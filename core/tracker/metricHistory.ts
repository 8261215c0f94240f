/**
 * Metric history: the rollups kept on write and the downsampling read for charts.
 *
 * A chart asks for at most N points of a series. The bucket width is the smallest power of two W
 * for which the series' step range falls into at most N aligned buckets (`floor(step / W)`). The
 * buckets are computed in SQL from the coarsest table whose block size divides W: the raw points
 * (block size 1) or a rollup level (32, 1024, 32768 steps), so a million-step series is summarised
 * from about a thousand rollup rows. Every bucket carries min, max, the last value (the point with
 * the highest step; among equal steps the latest timestamp) and its point count.
 */
import { ROLLUP_BLOCK_SIZES } from './schema';
import type { SqlDatabase, SqlStatement, SqlValue } from './sqlStore';
import type { MetricBucket } from './model';

/** A point as the tracker writes it: the metric's fields, its key already interned. */
export interface MetricPoint {
  value: number;
  timestamp: number;
  step: number;
}

interface RollupCell {
  keyId: number;
  level: number;
  block: number;
  min: number | null;
  max: number | null;
  lastStep: number;
  lastTimestamp: number;
  lastValue: number;
  count: number;
}

function isLater(step: number, ts: number, thanStep: number, thanTs: number): boolean {
  return step > thanStep || (step === thanStep && ts >= thanTs);
}

/**
 * Folds a batch of points into one cell per (key, level, block) touched. Points usually arrive in
 * step order, so the cell of the previous point is tried before the map.
 */
export function rollupCells(points: readonly MetricPoint[], keyIds: ArrayLike<number>): RollupCell[] {
  const cells = new Map<string, RollupCell>();
  const levels = ROLLUP_BLOCK_SIZES.length - 1;
  const recent: (RollupCell | undefined)[] = new Array(levels).fill(undefined);
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const keyId = keyIds[i]!;
    const finite = !Number.isNaN(p.value);
    for (let l = 0; l < levels; l++) {
      const level = l + 1;
      const block = Math.floor(p.step / ROLLUP_BLOCK_SIZES[level]!);
      let c = recent[l];
      if (!c || c.block !== block || c.keyId !== keyId) {
        const id = `${keyId}:${level}:${block}`;
        c = cells.get(id);
        if (!c) {
          c = { keyId, level, block, min: finite ? p.value : null, max: finite ? p.value : null, lastStep: p.step, lastTimestamp: p.timestamp, lastValue: p.value, count: 1 };
          cells.set(id, c);
          recent[l] = c;
          continue;
        }
        recent[l] = c;
      }
      if (finite) {
        if (c.min === null || p.value < c.min) c.min = p.value;
        if (c.max === null || p.value > c.max) c.max = p.value;
      }
      if (isLater(p.step, p.timestamp, c.lastStep, c.lastTimestamp)) {
        c.lastStep = p.step;
        c.lastTimestamp = p.timestamp;
        c.lastValue = p.value;
      }
      c.count++;
    }
  }
  return [...cells.values()];
}

const later = 'excluded.last_step > last_step OR (excluded.last_step = last_step AND excluded.last_timestamp >= last_timestamp)';
export const UPSERT_ROLLUP_SQL = `
  INSERT INTO metric_rollups (run_id, key_id, level, block, min, max, last_step, last_timestamp, last_value, count)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (run_id, key_id, level, block) DO UPDATE SET
    min = CASE WHEN excluded.min IS NULL THEN min WHEN min IS NULL OR excluded.min < min THEN excluded.min ELSE min END,
    max = CASE WHEN excluded.max IS NULL THEN max WHEN max IS NULL OR excluded.max > max THEN excluded.max ELSE max END,
    last_value = CASE WHEN ${later} THEN excluded.last_value ELSE last_value END,
    last_timestamp = CASE WHEN ${later} THEN excluded.last_timestamp ELSE last_timestamp END,
    last_step = max(last_step, excluded.last_step),
    count = count + excluded.count`;

export function writeRollups(db: SqlDatabase, runId: number, points: readonly MetricPoint[], keyIds: ArrayLike<number>): void {
  const upsert = db.prepare(UPSERT_ROLLUP_SQL);
  for (const c of rollupCells(points, keyIds)) {
    upsert.run(runId, c.keyId, c.level, c.block, c.min, c.max, c.lastStep, c.lastTimestamp, toSql(c.lastValue), c.count);
  }
}

/**
 * The points of a series from a position (step, rowid) on, in history order. The row value keeps
 * the search a range of the series' index; `step > ? OR (step = ? AND rowid >= ?)`, the same
 * points, made SQLite walk the series from its first point for every chunk.
 */
const FROM_POSITION = 'FROM metrics WHERE run_id = ? AND key_id = ? AND (step, rowid) >= (?, ?) ORDER BY step, rowid';

/** The statements that find a chunk's first point: the `offset`-th of a series, and `n` points on from a position. */
function seriesPositions(db: SqlDatabase): { first: SqlStatement; next: SqlStatement } {
  return {
    first: db.prepare('SELECT step, rowid AS seq FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step, rowid LIMIT 1 OFFSET ?'),
    next: db.prepare(`SELECT step, rowid AS seq ${FROM_POSITION} LIMIT 1 OFFSET ?`),
  };
}

/**
 * Reals in SQLite's JSON text read back to the same doubles? SQLite 3.52 and later write the
 * shortest text that does; earlier releases write 15 significant digits (node:sqlite in Node 22
 * bundles one of those). Asked once per connection.
 */
const exactJson = new WeakMap<SqlDatabase, boolean>();
const JSON_PROBES = [0.1 + 0.2, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1 / 3, -123456789.12345679, 0.9999999999999999];
export function jsonRealsExact(db: SqlDatabase): boolean {
  let exact = exactJson.get(db);
  if (exact === undefined) {
    const row = db.prepare(`SELECT json_array(${JSON_PROBES.map(() => '?').join(', ')}) AS a`).get(...JSON_PROBES);
    const back = JSON.parse(String(row?.a ?? '[]')) as unknown[];
    exact = JSON_PROBES.every((v, i) => Object.is(back[i], v));
    exactJson.set(db, exact);
  }
  return exact;
}

/** Reads a series' points as MLflow `Metric` JSON, a piece at a time (metricJsonReader). */
export interface MetricJsonReader {
  /**
   * The next at most `limit` points as `{"key":…,"value":…,"timestamp":…,"step":…}` objects joined by
   * commas, and how many they are; undefined past the series' end.
   */
  read(limit: number): { json: string; count: number } | undefined;
}

/**
 * The points of one series from the `offset`-th on, in history order, as MLflow's `Metric` JSON
 * written by SQLite: no row, number or string per point in JavaScript. The value is `json_quote`'s
 * text, exact only where `jsonRealsExact` (undefined is returned otherwise: read metricTextColumns);
 * NaN and ±Infinity are MLflow's strings ("NaN", "Infinity", "-Infinity"). Each piece is one
 * statement over a range of the series' index; the points of a piece are the ones its ORDER BY …
 * LIMIT picks, whatever order group_concat joins them in.
 */
export function metricJsonReader(db: SqlDatabase, runId: number, keyId: number, key: string, offset: number): MetricJsonReader | undefined {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad offset ${offset}`);
  if (!jsonRealsExact(db)) return undefined;
  const { first, next } = seriesPositions(db);
  const value = `CASE WHEN value IS NULL THEN '"NaN"' WHEN value > 1.7976931348623157e308 THEN '"Infinity"' WHEN value < -1.7976931348623157e308 THEN '"-Infinity"' ELSE json_quote(value) END`;
  const piece = db.prepare(
    `SELECT count(*) AS n, group_concat(item, ',') AS json FROM (SELECT '{"key":' || ? || ',"value":' || ${value} || ',"timestamp":' || timestamp || ',"step":' || step || '}' AS item ${FROM_POSITION} LIMIT ?)`,
  );
  const keyJson = JSON.stringify(key);
  let start = first.get(runId, keyId, offset);
  return {
    read(limit: number) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`bad limit ${limit}`);
      if (!start) return undefined;
      const at: SqlValue[] = [runId, keyId, start.step!, start.seq!];
      const row = db.readSnapshot(() => {
        const r = piece.get(keyJson, ...at, limit)!;
        start = Number(r.n) < limit ? undefined : next.get(...at, limit);
        return r;
      });
      const count = Number(row.n);
      return count === 0 ? undefined : { json: String(row.json), count };
    },
  };
}

/**
 * Points of one series as parallel columns, for writers of text formats (MLflow's JSON, CSV): the
 * values as numbers (NaN for a NaN point), the timestamps and steps as the decimal text of their
 * integers, which is what such a writer prints for them, made by SQLite without a row object or a
 * number-to-text conversion per point in JavaScript.
 */
export interface MetricTextColumns {
  values: number[];
  timestamps: string[];
  steps: string[];
}

/**
 * The points of one series from the `offset`-th on, in history order (step, then logging order, as
 * `getMetricHistory` pages them), in chunks of at most `chunk` points. Each chunk starts at a
 * point found by walking the series' index only (its step and rowid) and is read on one snapshot
 * by two statements over the same rows: the values (one number a row) and the timestamps and steps
 * (one comma-separated text each for the whole chunk, in the same order by the aggregates' own
 * ORDER BY); the steps are checked to ascend all the same.
 */
export function* metricTextColumns(db: SqlDatabase, runId: number, keyId: number, offset: number, chunk: number): Generator<MetricTextColumns> {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(chunk) || chunk < 1) throw new RangeError(`bad offset ${offset} or chunk ${chunk}`);
  const { first, next } = seriesPositions(db);
  const values = db.prepare(`SELECT value ${FROM_POSITION} LIMIT ?`);
  // The aggregates' ORDER BY pairs the texts with the values point for point (two points of one
  // step too), not only the subquery's order, which SQLite keeps but does not promise to an aggregate.
  const integers = db.prepare(
    `SELECT count(*) AS n, group_concat(timestamp, ',' ORDER BY step, seq) AS timestamps, group_concat(step, ',' ORDER BY step, seq) AS steps FROM (SELECT timestamp, step, rowid AS seq ${FROM_POSITION} LIMIT ?)`,
  );
  let start = first.get(runId, keyId, offset);
  while (start) {
    const at: SqlValue[] = [runId, keyId, start.step!, start.seq!];
    const columns = db.readSnapshot((): MetricTextColumns => {
      const ints = integers.get(...at, chunk)!;
      const v = values.firstColumn(...at, chunk) as (number | null)[];
      const n = Number(ints.n);
      if (v.length !== n) throw new Error(`read ${v.length} values and ${n} steps of one chunk of a series`);
      for (let i = 0; i < n; i++) if (v[i] === null) v[i] = NaN;
      const steps = String(ints.steps).split(',');
      for (let i = 1, previous = Number(steps[0]); i < n; i++) {
        const step = Number(steps[i]);
        if (step < previous) throw new Error('the steps of a chunk of a series came out of order');
        previous = step;
      }
      // A chunk short of `chunk` points ended the series on this snapshot: no next chunk to look for.
      start = n < chunk ? undefined : next.get(...at, chunk);
      return { values: v as number[], timestamps: String(ints.timestamps).split(','), steps };
    });
    yield columns;
  }
}

export function toSql(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

export function fromSql(value: SqlValue): number {
  return value === null ? NaN : Number(value);
}

/** Floor division in SQLite integer arithmetic, correct for negative numerators. */
function floorDiv(x: string, d: number): string {
  return `((${x}) - ((((${x}) % ${d}) + ${d}) % ${d})) / ${d}`;
}

/** The bucket width (a power of two) giving at most `maxPoints` buckets over [minStep, maxStep]. */
export function bucketWidth(minStep: number, maxStep: number, maxPoints: number): number {
  // Zero is a bucket boundary at every width: a series on both sides of it keeps two buckets
  // however wide they are (maxPoints 1 then gives 2), so widening stops once each side is one.
  const reach = Math.max(Math.abs(minStep), Math.abs(maxStep));
  let w = 1;
  while (Math.floor(maxStep / w) - Math.floor(minStep / w) + 1 > maxPoints && w <= reach) w *= 2;
  return w;
}

export function downsampleMetric(db: SqlDatabase, runId: number, keyId: number, maxPoints: number): MetricBucket[] {
  const first = db.prepare('SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step ASC LIMIT 1').get(runId, keyId);
  if (!first) return [];
  const last = db.prepare('SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step DESC LIMIT 1').get(runId, keyId)!;
  const width = bucketWidth(Number(first.step), Number(last.step), maxPoints);
  let level = 0;
  while (level + 1 < ROLLUP_BLOCK_SIZES.length && ROLLUP_BLOCK_SIZES[level + 1]! <= width) level++;
  const source =
    level === 0
      ? `SELECT ${floorDiv('step', width)} AS bucket, value AS min, value AS max, step AS last_step,
                timestamp AS last_timestamp, value AS last_value, 1 AS count, rowid AS seq
           FROM metrics WHERE run_id = ? AND key_id = ?`
      : `SELECT ${floorDiv('block', width / ROLLUP_BLOCK_SIZES[level]!)} AS bucket, min, max, last_step,
                last_timestamp, last_value, count, block AS seq
           FROM metric_rollups WHERE run_id = ? AND key_id = ? AND level = ${level}`;
  const rows = db
    .prepare(
      `WITH src AS (${source}),
       ranked AS (
         SELECT bucket, last_step, last_value,
                MIN(min) OVER b AS bmin, MAX(max) OVER b AS bmax, SUM(count) OVER b AS bcount,
                ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY last_step DESC, last_timestamp DESC, seq DESC) AS rn
           FROM src
         WINDOW b AS (PARTITION BY bucket))
       SELECT last_step, last_value, bmin, bmax, bcount FROM ranked WHERE rn = 1 ORDER BY bucket`,
    )
    .all(runId, keyId);
  return rows.map((r) => ({
    step: Number(r.last_step),
    min: fromSql(r.bmin ?? null),
    max: fromSql(r.bmax ?? null),
    last: fromSql(r.last_value ?? null),
    count: Number(r.bcount),
  }));
}
