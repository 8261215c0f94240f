// The Compare Runs chart query (core/views/metricSeries.ts) on a real tracker: over the whole series
// it gives exactly the tracker's own downsampling (downsampleMetric, raw points and rollup levels),
// with each bucket's timestamp; over a step range it narrows to that range with finer buckets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketWidth } from '../../core/tracker/metricHistory';
import { Tracker } from '../../core/tracker/tracker';
import { metricSeries, metricSeriesColumns } from '../../core/views/metricSeries';
import { tempWorkspace } from '../support/tempWorkspace';

function withSeries(points: number, fn: (t: Tracker, runId: string) => void): void {
  const t = Tracker.open(tempWorkspace());
  try {
    const runId = t.createRun().info.runId;
    const batch = 1000;
    for (let s = 0; s < points; s += batch) {
      const metrics = [];
      for (let i = s; i < Math.min(points, s + batch); i++) metrics.push({ key: 'loss', value: i % 97 === 0 ? NaN : Math.sin(i / 50) + i / points, step: i, timestamp: 1_000_000 + i * 10 });
      t.logBatch(runId, { metrics });
    }
    fn(t, runId);
  } finally {
    t.close();
  }
}

test('over the whole series the buckets are the tracker downsampling, at every rollup level', () => {
  withSeries(70_000, (t, runId) => {
    // 70 and 2188 points make buckets exactly a rollup block wide (1,024 and 32 steps): read from the rollup rows directly.
    for (const maxPoints of [10_000, 5000, 2188, 1000, 70, 64, 3]) {
      const want = t.getMetricBuckets(runId, 'loss', maxPoints);
      const got = metricSeries(t, { runId, key: 'loss', maxPoints });
      assert.ok(got.step.length <= maxPoints && got.step.length > 0);
      assert.deepEqual(got.step, want.map((b) => b.step), `steps at ${maxPoints} points`);
      const chart = (v: number) => (Number.isFinite(v) ? v : null);
      assert.deepEqual(got.last, want.map((b) => chart(b.last)));
      assert.deepEqual(got.min, want.map((b) => chart(b.min)));
      assert.deepEqual(got.max, want.map((b) => chart(b.max)));
      assert.deepEqual(got.timestamp, got.step.map((s) => 1_000_000 + s * 10), 'each bucket carries its last point time');
      assert.equal(got.totalPoints, 70_000);
      assert.deepEqual(got.stepRange, [0, 69_999]);
    }
  });
});

test('a step range narrows the buckets to it and shows it in finer detail', () => {
  withSeries(70_000, (t, runId) => {
    const whole = metricSeries(t, { runId, key: 'loss', maxPoints: 500 });
    const zoomed = metricSeries(t, { runId, key: 'loss', maxPoints: 500, minStep: 10_000, maxStep: 10_400 });
    assert.ok(whole.step.length <= 500 && zoomed.step.length <= 500);
    assert.ok(zoomed.step[0]! >= 10_000 && zoomed.step.at(-1)! <= 10_400, `${zoomed.step[0]}..${zoomed.step.at(-1)}`);
    assert.equal(zoomed.step.length, 401, 'every raw point of a 401-step range fits in 500 buckets');
    assert.equal(zoomed.last[5], Math.sin(10_005 / 50) + 10_005 / 70_000);
    assert.equal(zoomed.last[10_088 - 10_000], null, 'NaN (step 10088 = 97 * 104) is a gap');
    // A wider range still within bounds uses rollups and stays within it (whole blocks at the edges).
    const wide = metricSeries(t, { runId, key: 'loss', maxPoints: 100, minStep: 33_000, maxStep: 66_000 });
    assert.ok(wide.step.length <= 100 && wide.step[0]! >= 32_768 && wide.step.at(-1)! <= 66_000 + 1024, `${wide.step[0]}..${wide.step.at(-1)}`);
    const outside = metricSeries(t, { runId, key: 'loss', maxPoints: 100, minStep: 80_000, maxStep: 90_000 });
    assert.deepEqual(outside.step, []);
    assert.deepEqual(outside.stepRange, [0, 69_999]);
  });
});

test('bad queries get clear errors; an unknown metric is an empty series', () => {
  withSeries(10, (t, runId) => {
    assert.deepEqual(metricSeries(t, { runId, key: 'nope', maxPoints: 10 }).step, []);
    assert.throws(() => metricSeries(t, { runId, key: 'loss', maxPoints: 0 }), /max points must be an integer from 1 to 10000, not 0/);
    assert.throws(() => metricSeries(t, { runId, key: 'loss', maxPoints: 10, minStep: 5, maxStep: 1 }), /step range needs two finite steps/);
    assert.throws(() => metricSeries(t, { runId: 'f'.repeat(32), key: 'loss', maxPoints: 10 }), /no run f{32}/);
  });
});

// The chart's batched read (metricSeriesColumns): for each run, metricSeries's buckets, in typed
// arrays with NaN for the gaps; runs the tracker does not have are left out. Asked without min and
// max (`minMax: false`), the same buckets (steps, times, last values) and no min or max arrays.
// Under better-sqlite3 the read goes through JSON arrays; the sqlite-fallback layer (node:sqlite in
// Node 22, whose JSON reals are not exact) runs this file again through the rows path.
function sameColumns(got: ReturnType<typeof metricSeriesColumns>[number], want: ReturnType<typeof metricSeries>, what: string, minMax = true): void {
  assert.equal(got.runId, want.runId);
  assert.equal(got.totalPoints, want.totalPoints, `${what}: total points`);
  assert.deepEqual(got.stepRange, want.stepRange, `${what}: step range`);
  if (!minMax) assert.ok(!('min' in got) && !('max' in got), `${what}: no min or max when not asked for`);
  for (const k of minMax ? (['step', 'timestamp', 'last', 'min', 'max'] as const) : (['step', 'timestamp', 'last'] as const)) {
    const g = got[k]!;
    const w = want[k] as (number | null)[];
    assert.ok(g instanceof Float64Array, `${what}: ${k} is a Float64Array`);
    assert.equal(g.length, w.length, `${what}: ${k} length`);
    for (let i = 0; i < w.length; i++) {
      if (!Object.is(g[i], w[i] ?? NaN)) assert.fail(`${what}: ${k}[${i}] is ${g[i]}, metricSeries has ${w[i]}`);
    }
  }
}

test('the batched read gives each run metricSeries’s buckets: mixed lengths and levels, gaps, missing runs', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    // Lengths that land on different rollup levels at 1,000 buckets (raw points, 32 and 1,024 per
    // bucket, a window over rollup rows), a run with one point, one with only another metric.
    const lengths = [70_000, 40_000, 3000, 700, 1];
    const runIds = lengths.map((n, r) => {
      const runId = t.createRun().info.runId;
      for (let s = 0; s < n; s += 1000) {
        const metrics = [];
        for (let i = s; i < Math.min(n, s + 1000); i++) {
          const value = i % 97 === 0 ? NaN : i % 89 === 0 ? (i % 2 ? Infinity : -Infinity) : Math.sin(i / 50 + r) * 3 + i / n;
          metrics.push({ key: 'loss', value, step: i * (r + 1), timestamp: 1_000_000 + i * 10 });
        }
        t.logBatch(runId, { metrics });
      }
      return runId;
    });
    const other = t.createRun().info.runId;
    t.logBatch(other, { metrics: [{ key: 'acc', value: 1, step: 0, timestamp: 1 }] });
    const missing = 'e'.repeat(32);
    const asked = [runIds[0]!, missing, ...runIds.slice(1), other];
    for (const minMax of [true, false]) {
      for (const maxPoints of [1000, 70, 10_000, 1]) {
        const got = metricSeriesColumns(t, { runIds: asked, key: 'loss', maxPoints, minMax });
        assert.deepEqual(got.map((s) => s.runId), [...runIds, other], 'in the order asked, the missing run left out');
        for (const [i, s] of got.entries()) sameColumns(s, metricSeries(t, { runId: s.runId, key: 'loss', maxPoints }), `run ${i} at ${maxPoints} points, minMax ${minMax}`, minMax);
        assert.equal(got.at(-1)!.step.length, 0, 'a run without the metric: no buckets');
        assert.equal(got.at(-1)!.stepRange, null);
      }
      // A step range: each run clamps it to its own steps.
      const range = { minStep: 1500, maxStep: 9000 };
      for (const s of metricSeriesColumns(t, { runIds, key: 'loss', maxPoints: 300, ...range, minMax })) {
        sameColumns(s, metricSeries(t, { runId: s.runId, key: 'loss', maxPoints: 300, ...range }), `run ${s.runId} over steps 1500..9000, minMax ${minMax}`, minMax);
      }
      assert.deepEqual(metricSeriesColumns(t, { runIds, key: 'nope', maxPoints: 10, minMax }).map((s) => [s.step.length, s.last.length, s.min?.length]), runIds.map(() => [0, 0, minMax ? 0 : undefined]));
    }
    // Gaps: NaN and ±Infinity (logged at steps 97·k and 89·k of the first run) are NaN.
    const raw = metricSeriesColumns(t, { runIds: [runIds[3]!], key: 'loss', maxPoints: 10_000, minMax: true })[0]!;
    assert.equal(raw.step.length, 700);
    assert.ok(Number.isNaN(raw.last[97]!) && Number.isNaN(raw.last[89]!) && Number.isNaN(raw.min![178]!));
    assert.throws(() => metricSeriesColumns(t, { runIds, key: 'loss', maxPoints: 10_001, minMax: false }), /max points must be an integer from 1 to 10000/);
  } finally {
    t.close();
  }
});

test('the batched read gives back every double exactly as logged', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const runId = t.createRun().info.runId;
    // Random bit patterns (finite ones) and values whose shortest text needs 17 digits.
    const bits = new Float64Array(1);
    const words = new Uint32Array(bits.buffer);
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0);
    const values: number[] = [0.1 + 0.2, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0, 1 / 3];
    while (values.length < 3000) {
      words[0] = next();
      words[1] = next();
      if (Number.isFinite(bits[0]!)) values.push(bits[0]!);
    }
    t.logBatch(runId, { metrics: values.map((value, step) => ({ key: 'x', value, step, timestamp: step })) });
    for (const minMax of [true, false]) {
      const [s] = metricSeriesColumns(t, { runIds: [runId], key: 'x', maxPoints: 10_000, minMax });
      assert.equal(s!.last.length, values.length);
      // SQLite keeps -0 as 0 (as metricSeries reads it too); every other value to the bit.
      values.forEach((v, i) => assert.ok(Object.is(s!.last[i], v === 0 ? 0 : v), `value ${i}: ${s!.last[i]} for ${v}`));
      sameColumns(s!, metricSeries(t, { runId, key: 'x', maxPoints: 10_000 }), 'random doubles', minMax);
      sameColumns(metricSeriesColumns(t, { runIds: [runId], key: 'x', maxPoints: 50, minMax })[0]!, metricSeries(t, { runId, key: 'x', maxPoints: 50 }), 'random doubles in rollups', minMax);
    }
  } finally {
    t.close();
  }
});

test('buckets over any range and level match the points: min and max of the values, the last by step, then time, then logging order', () => {
  const t = Tracker.open(tempWorkspace());
  try {
    const runId = t.createRun().info.runId;
    // 20,000 steps; every 7th step logged twice (a later time, or the same time: the later row
    // wins), some NaN and infinite values.
    const points: { step: number; timestamp: number; value: number }[] = [];
    for (let i = 0; i < 20_000; i++) {
      const value = i % 101 === 0 ? NaN : i % 211 === 0 ? -Infinity : Math.cos(i / 30) + (i % 13) / 7;
      points.push({ step: i, timestamp: 5000 + i, value });
      if (i % 7 === 0) points.push({ step: i, timestamp: 5000 + i + (i % 2), value: value + 0.5 });
    }
    for (let s = 0; s < points.length; s += 1000) t.logBatch(runId, { metrics: points.slice(s, s + 1000).map((p) => ({ key: 'v', ...p })) });
    const oracle = (lo: number, hi: number, maxPoints: number) => {
      const first = Math.max(lo, 0);
      const last = Math.min(hi, 19_999);
      const width = bucketWidth(first, last, maxPoints);
      let block = 1;
      for (const b of [32, 1024, 32768]) if (b <= width) block = b;
      // Rollup levels read whole blocks at the range's ends.
      const [from, to] = block === 1 ? [first, last] : [Math.floor(first / block) * block, Math.floor(last / block) * block + block - 1];
      const buckets = new Map<number, { min: number; max: number; last: (typeof points)[number] }>();
      for (const p of points) {
        if (p.step < from || p.step > to) continue;
        const k = Math.floor(p.step / width);
        const b = buckets.get(k) ?? { min: NaN, max: NaN, last: p };
        if (!Number.isNaN(p.value)) {
          b.min = Number.isNaN(b.min) || p.value < b.min ? p.value : b.min;
          b.max = Number.isNaN(b.max) || p.value > b.max ? p.value : b.max;
        }
        if (p.step > b.last.step || (p.step === b.last.step && p.timestamp >= b.last.timestamp)) b.last = p;
        buckets.set(k, b);
      }
      const gap = (v: number) => (Number.isFinite(v) ? v : null);
      const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
      return { step: sorted.map((b) => b.last.step), timestamp: sorted.map((b) => b.last.timestamp), last: sorted.map((b) => gap(b.last.value)), min: sorted.map((b) => gap(b.min)), max: sorted.map((b) => gap(b.max)) };
    };
    const cases: [number, number, number][] = [
      [0, 19_999, 10_000], // raw points, one a bucket
      [0, 19_999, 5000], // raw points, 4 a bucket
      [0, 19_999, 300], // 64 steps a bucket: two rollup blocks of 32
      [0, 19_999, 3], // 8,192 steps a bucket: eight blocks of 1,024
      [1234, 5678, 200], // a range: 32 steps a bucket, whole blocks
      [1000, 19_000, 100], // 256 a bucket: 8 blocks of 32
      [-50, 777, 50], // 16 a bucket from raw points, the range past the first step
      [3333, 3340, 2],
    ];
    for (const [lo, hi, maxPoints] of cases) {
      const want = oracle(lo, hi, maxPoints);
      const got = metricSeries(t, { runId, key: 'v', maxPoints, minStep: lo, maxStep: hi });
      const what = `steps ${lo}..${hi} at ${maxPoints} points`;
      for (const k of ['step', 'timestamp', 'last', 'min', 'max'] as const) assert.deepEqual(got[k], want[k], `${what}: ${k}`);
      sameColumns(metricSeriesColumns(t, { runIds: [runId], key: 'v', maxPoints, minStep: lo, maxStep: hi, minMax: true })[0]!, got, what);
      sameColumns(metricSeriesColumns(t, { runIds: [runId], key: 'v', maxPoints, minStep: lo, maxStep: hi, minMax: false })[0]!, got, `${what} without min and max`, false);
    }
    // Over the whole series too, and as the tracker's own downsampling does it.
    for (const maxPoints of [10_000, 300, 3]) {
      const want = t.getMetricBuckets(runId, 'v', maxPoints);
      const got = metricSeries(t, { runId, key: 'v', maxPoints });
      assert.deepEqual(got.step, want.map((b) => b.step));
      assert.deepEqual(got.last, want.map((b) => (Number.isFinite(b.last) ? b.last : null)));
      assert.deepEqual(got.min, want.map((b) => (Number.isFinite(b.min) ? b.min : null)));
    }
  } finally {
    t.close();
  }
});
