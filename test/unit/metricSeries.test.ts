// The Compare Runs chart query (core/views/metricSeries.ts) on a real tracker: over the whole series
// it gives exactly the tracker's own downsampling (downsampleMetric, raw points and rollup levels),
// with each bucket's timestamp; over a step range it narrows to that range with finer buckets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker } from '../../core/tracker/tracker';
import { metricSeries } from '../../core/views/metricSeries';
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
