/** The order evaluation metrics are shown in: key metrics first, run statistics last. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRunStatistic, orderedMetrics } from '../../core/views/evaluationMetrics';

test('key metrics first in their order (roc_auc second, not cut by the alphabet), then the rest by name, rows and latency last', () => {
  const keys = ['latency_p50_ms', 'average_precision', 'rows', 'roc_auc', 'precision', 'accuracy', 'zeta', 'rows_per_second', 'f1'];
  assert.deepEqual(
    orderedMetrics(keys.map((key) => ({ key, value: 0 }))).map((m) => m.key),
    ['accuracy', 'roc_auc', 'f1', 'average_precision', 'precision', 'zeta', 'latency_p50_ms', 'rows', 'rows_per_second'],
  );
  assert.deepEqual(['rows', 'rows_per_second', 'latency_p99_ms', 'rmse'].map(isRunStatistic), [true, true, true, false]);
});

test("the user's key metrics (runwise.runs.keyMetrics) come first, in their order, before the built-in ones", () => {
  const keys = ['accuracy', 'roc_auc', 'recall', 'rows', 'precision'];
  assert.deepEqual(
    orderedMetrics(keys.map((key) => ({ key })), ['recall', 'missing', 'precision']).map((m) => m.key),
    ['recall', 'precision', 'accuracy', 'roc_auc', 'rows'],
  );
});
