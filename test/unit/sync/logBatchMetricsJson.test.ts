/**
 * The log-batch bodies a push writes from a series' columns are, byte for byte, what
 * JSON.stringify makes of the same points as objects (value as doubleJson gives it): for odd
 * values, large and negative integers, keys that need escaping, and any slice of the columns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logBatchMetricsJson } from '../../../core/sync/pushRuns';
import { doubleJson } from '../../../core/endpoint/mlflowProtocol';
import type { MetricTextColumns } from '../../../core/tracker/metricHistory';

const values = [0, -0, 1, -1.5, 0.1, 1 / 3, Math.PI, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e21, 1e-7, 123456789.125, NaN, Infinity, -Infinity];
const timestamps = values.map((_, i) => (i % 3 === 0 ? -86_400_000 * (i + 1) : 1_700_000_000_000 + i * 1_000_003));
const steps = values.map((_, i) => (i % 4 === 0 ? -(i + 1) : i * 1_000_000_007));

function columns(): MetricTextColumns {
  return { values: [...values], timestamps: timestamps.map(String), steps: steps.map(String) };
}

function expected(runId: string, key: string, from: number, to: number): string {
  const metrics = [];
  for (let i = from; i < to; i++) metrics.push({ key, value: doubleJson(values[i]!), timestamp: timestamps[i]!, step: steps[i]! });
  return JSON.stringify({ run_id: runId, metrics });
}

test('a log-batch body written from columns is what JSON.stringify makes of the points', () => {
  const runId = '0123456789abcdef0123456789abcdef';
  for (const key of ['loss', 'val/acc', 'quote"and\\backslash', 'line\nbreak', 'ünïcödé ✓']) {
    for (const [from, to] of [[0, values.length], [0, 1], [3, 9], [values.length - 3, values.length]] as const) {
      assert.equal(logBatchMetricsJson(runId, key, columns(), from, to), expected(runId, key, from, to), `${key} [${from}, ${to})`);
    }
  }
});

test('the body parses back to the same points, NaN and the infinities as MLflow strings', () => {
  const body = JSON.parse(logBatchMetricsJson('r', 'k', columns(), 0, values.length)) as { run_id: string; metrics: { key: string; value: number | string; timestamp: number; step: number }[] };
  assert.equal(body.run_id, 'r');
  assert.equal(body.metrics.length, values.length);
  body.metrics.forEach((m, i) => {
    const v = values[i]!;
    if (Number.isNaN(v)) assert.equal(m.value, 'NaN');
    else if (!Number.isFinite(v)) assert.equal(m.value, v > 0 ? 'Infinity' : '-Infinity');
    else assert.equal(m.value, v === 0 ? 0 : v); // JSON has no -0: JSON.stringify writes it as 0 too
    assert.equal(m.timestamp, timestamps[i]);
    assert.equal(m.step, steps[i]);
    assert.equal(m.key, 'k');
  });
});
