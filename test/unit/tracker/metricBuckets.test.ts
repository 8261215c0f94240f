/**
 * getMetricBuckets for a series on both sides of step 0: zero is a bucket boundary at every width,
 * so the buckets stop widening at two (they once widened to an infinite width, which SQLite refused),
 * and a push counts such a series' points from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketWidth } from '../../../core/tracker/metricHistory';
import { Tracker } from '../../../core/tracker/tracker';
import { localPointCount } from '../../../core/sync/pushRuns';
import { tempWorkspace } from '../../support/tempWorkspace';

test('bucketWidth stops widening once each side of zero is one bucket', () => {
  assert.equal(bucketWidth(-1, 1, 1), 2);
  assert.equal(bucketWidth(-1000, 5000, 1), 8192);
  assert.equal(bucketWidth(0, 5000, 1), 8192);
  assert.equal(bucketWidth(3, 3, 1), 1);
  assert.equal(bucketWidth(-1000, 5000, 1000), 8);
  for (const [lo, hi, n] of [[-1, 1, 1], [-7, 3, 1], [-(2 ** 52), 2 ** 52, 1], [-5, -1, 1], [-100, 100, 3]] as const) {
    const w = bucketWidth(lo, hi, n);
    assert.ok(Number.isFinite(w), `${lo}..${hi}, ${n}: ${w}`);
    assert.ok(Math.floor(hi / w) - Math.floor(lo / w) + 1 <= Math.max(n, 2), `${lo}..${hi}, ${n}: width ${w}`);
  }
});

test('a series on both sides of step 0 reads as buckets and is counted for a push', () => {
  const t = Tracker.open(tempWorkspace('buckets'));
  try {
    const runId = t.createRun({ experimentId: '0' }).info.runId;
    t.logBatch(runId, { metrics: [-3, -1, 0, 1, 7].map((step, i) => ({ key: 'm', value: i, timestamp: 1000 + i, step })) });
    const one = t.getMetricBuckets(runId, 'm', 1);
    assert.equal(one.length, 2);
    assert.equal(one.reduce((n, b) => n + b.count, 0), 5);
    assert.equal(localPointCount(t, runId, 'm'), 5);
  } finally {
    t.close();
  }
});
