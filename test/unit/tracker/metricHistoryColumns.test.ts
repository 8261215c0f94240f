/**
 * Tracker.metricHistoryColumns: a series read as columns (for export) holds the same points, in the
 * same order, as getMetricHistory pages them, from any offset and in chunks of any size; values
 * keep their bits (NaN, ±Infinity, subnormals, the largest double), and timestamps and steps are
 * the decimal text of the integers logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../../core/tracker/tracker';
import { TrackerError } from '../../../core/tracker/trackerError';
import type { MetricTextColumns } from '../../../core/tracker/metricHistory';
import { tempWorkspace } from '../../support/tempWorkspace';

interface Point {
  value: number;
  timestamp: number;
  step: number;
}

function history(t: Tracker, runId: string, key: string): Point[] {
  const out: Point[] = [];
  let pageToken: string | undefined;
  do {
    const page = t.getMetricHistory(runId, key, { maxResults: 7, pageToken });
    out.push(...page.items.map((m) => ({ value: m.value, timestamp: m.timestamp, step: m.step })));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

function points(chunks: Iterable<MetricTextColumns>): { points: Point[]; chunkSizes: number[] } {
  const out: Point[] = [];
  const chunkSizes: number[] = [];
  for (const c of chunks) {
    assert.equal(c.timestamps.length, c.values.length);
    assert.equal(c.steps.length, c.values.length);
    chunkSizes.push(c.values.length);
    for (let i = 0; i < c.values.length; i++) {
      // Decimal text of an integer: what String() of the number gives.
      assert.match(c.timestamps[i]!, /^-?\d+$/);
      assert.match(c.steps[i]!, /^-?\d+$/);
      out.push({ value: c.values[i]!, timestamp: Number(c.timestamps[i]), step: Number(c.steps[i]) });
    }
  }
  return { points: out, chunkSizes };
}

function samePoints(actual: Point[], expected: Point[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Object.is(a.value, e.value), `point ${i}: value ${a.value} is not ${e.value}`);
    assert.equal(a.timestamp, e.timestamp, `point ${i}: timestamp`);
    assert.equal(a.step, e.step, `point ${i}: step`);
  }
}

function trackerWithSeries(): { t: Tracker; runId: string; expected: Point[] } {
  const t = Tracker.open(tempWorkspace('columns'));
  const runId = t.createRun({ experimentId: '0' }).info.runId;
  const odd = [NaN, Infinity, -Infinity, -0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3, -42, 1e21];
  const metrics: { key: string; value: number; timestamp: number; step: number }[] = [];
  // Steps out of logging order, repeated steps, negative steps, timestamps past 2^31 and before 1970.
  for (let i = 0; i < 40; i++) {
    metrics.push({ key: 'loss', value: i < odd.length ? odd[i]! : Math.sin(i), timestamp: i % 5 === 0 ? -1000 - i : 1_700_000_000_000 + i, step: (i * 7) % 13 - 3 });
    metrics.push({ key: 'other', value: i, timestamp: i, step: i });
  }
  t.logBatch(runId, { metrics: metrics.slice(0, 50) });
  t.logBatch(runId, { metrics: metrics.slice(50) });
  return { t, runId, expected: history(t, runId, 'loss') };
}

test('columns hold the points of getMetricHistory, in its order, for every offset and chunk size', () => {
  const { t, runId, expected } = trackerWithSeries();
  try {
    assert.equal(expected.length, 40);
    for (const chunk of [1, 3, 7, 40, 41, 25_000]) {
      for (const offset of [0, 1, 6, 7, 39, 40, 100]) {
        const { points: got, chunkSizes } = points(t.metricHistoryColumns(runId, 'loss', offset, chunk));
        samePoints(got, expected.slice(offset));
        assert.ok(chunkSizes.every((n) => n >= 1 && n <= chunk), `chunks of at most ${chunk}: ${chunkSizes.join(',')}`);
      }
    }
    // The default: from the start, in getMetricHistory's page size.
    samePoints(points(t.metricHistoryColumns(runId, 'loss')).points, expected);
  } finally {
    t.close();
  }
});

test('values keep their bits: NaN, ±Infinity, subnormals and the largest double come back as logged', () => {
  const { t, runId } = trackerWithSeries();
  try {
    const values = points(t.metricHistoryColumns(runId, 'loss')).points.map((p) => p.value);
    // (-0 is stored as 0, by getMetricHistory's reading too: the first test compares with it.)
    for (const v of [NaN, Infinity, -Infinity, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3, 1e21]) {
      assert.ok(values.some((x) => Object.is(x, v)), `${v} is read back`);
    }
  } finally {
    t.close();
  }
});

test('a key the run has not logged reads as nothing; an unknown run is refused as getMetricHistory refuses it', () => {
  const { t, runId } = trackerWithSeries();
  try {
    assert.deepEqual([...t.metricHistoryColumns(runId, 'never-logged')], []);
    // A key another run logged, not this one.
    const other = t.createRun({ experimentId: '0' }).info.runId;
    assert.deepEqual([...t.metricHistoryColumns(other, 'loss')], []);
    assert.throws(
      () => t.metricHistoryColumns('0'.repeat(32), 'loss'),
      (e: unknown) => e instanceof TrackerError && e.code === 'RESOURCE_DOES_NOT_EXIST',
    );
    assert.throws(() => [...t.metricHistoryColumns(runId, 'loss', -1)], RangeError);
    assert.throws(() => [...t.metricHistoryColumns(runId, 'loss', 0, 0)], RangeError);
  } finally {
    t.close();
  }
});

/** MLflow's JSON for a metric value: a number, or "NaN" / "Infinity" / "-Infinity". */
function valueOfJson(v: unknown): number {
  if (typeof v === 'number') return v;
  assert.ok(v === 'NaN' || v === 'Infinity' || v === '-Infinity', `value ${JSON.stringify(v)}`);
  return Number(v);
}

test('metricHistoryJson: MLflow Metric JSON written by SQLite, the same points for every offset and piece size', () => {
  const { t, runId, expected } = trackerWithSeries();
  try {
    const first = t.metricHistoryJson(runId, 'loss');
    if (process.env.RUNWISE_SQLITE_BACKEND === 'node:sqlite') {
      // Node 22's SQLite (3.51) writes reals in JSON with 15 digits: not offered, the columns are read instead.
      assert.equal(first, undefined);
      return;
    }
    assert.ok(first, 'offered where SQLite writes JSON reals exactly');
    for (const limit of [1, 3, 7, 40, 41, 1000]) {
      for (const offset of [0, 1, 6, 7, 39, 40, 100]) {
        const reader = t.metricHistoryJson(runId, 'loss', offset)!;
        const got: Point[] = [];
        for (let piece = reader.read(limit); piece; piece = reader.read(limit)) {
          assert.ok(piece.count >= 1 && piece.count <= limit, `piece of ${piece.count}, limit ${limit}`);
          const items = JSON.parse(`[${piece.json}]`) as { key: string; value: unknown; timestamp: number; step: number }[];
          assert.equal(items.length, piece.count);
          // Within a piece the order is not promised (group_concat); across pieces it is.
          items.sort((a, b) => a.step - b.step || 0);
          for (const m of items) {
            assert.deepEqual(Object.keys(m), ['key', 'value', 'timestamp', 'step']);
            assert.equal(m.key, 'loss');
            got.push({ value: valueOfJson(m.value), timestamp: m.timestamp, step: m.step });
          }
        }
        const want = expected.slice(offset);
        assert.equal(got.length, want.length, `offset ${offset}, limit ${limit}`);
        const key = (p: Point) => `${p.step} ${p.timestamp} ${Object.is(p.value, -0) ? 0 : p.value}`;
        assert.deepEqual(got.map(key).sort(), want.map(key).sort(), `offset ${offset}, limit ${limit}`);
      }
    }
    // Every odd value comes back to the bit (NaN and ±Infinity as MLflow's strings).
    const all = JSON.parse(`[${t.metricHistoryJson(runId, 'loss')!.read(1000)!.json}]`) as { value: unknown }[];
    const values = all.map((m) => valueOfJson(m.value));
    for (const v of [NaN, Infinity, -Infinity, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3, 1e21]) {
      assert.ok(values.some((x) => Object.is(x, v)), `${v} is read back`);
    }
    assert.equal(t.metricHistoryJson(runId, 'never-logged')!.read(10), undefined);
    assert.throws(() => t.metricHistoryJson(runId, 'loss', -1), RangeError);
    assert.throws(() => t.metricHistoryJson(runId, 'loss')!.read(0), RangeError);
  } finally {
    t.close();
  }
});
