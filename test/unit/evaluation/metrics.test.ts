/**
 * Metrics against scikit-learn: golden.json holds what test/fixtures/evaluation/golden.py computed
 * with Debian's python3-sklearn for the CSV files beside it; every value must agree to 1e-9
 * (relative, for mape's huge terms over zero targets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { BinaryCounts, CurveArrays, FLOAT32_EPS, FLOAT64_EPS, binaryCurve, binaryMetrics, logLoss, multiclassMetrics, regressionMetrics } from '../../../core/evaluation/metrics';

const FIXTURES = path.join(__dirname, '../../fixtures/evaluation');

interface GoldenCase {
  dataset: string;
  exact?: boolean;
  threshold?: number;
  metrics: Record<string, number | null>;
  confusion_matrix?: number[][];
}
const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'golden.json'), 'utf8')) as {
  sklearn_version: string;
  binary: GoldenCase[];
  multiclass: GoldenCase[];
  regression: GoldenCase[];
};

function columns(name: string): number[][] {
  const lines = readFileSync(path.join(FIXTURES, name), 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((l) => l.split(',').map(Number));
  return rows[0]!.map((_, c) => rows.map((r) => r[c]!));
}

function assertClose(actual: Record<string, number>, expected: Record<string, number | null>, label: string): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${label}: metric names`);
  for (const [key, want] of Object.entries(expected)) {
    const got = actual[key]!;
    if (want === null) {
      assert.ok(Number.isNaN(got), `${label} ${key}: scikit-learn refuses it, expected NaN, got ${got}`);
      continue;
    }
    assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${label} ${key}: expected ${want}, got ${got}`);
  }
}

test(`golden values come from scikit-learn (${golden.sklearn_version})`, () => {
  assert.match(golden.sklearn_version, /^\d+\.\d+/);
  assert.ok(golden.binary.length >= 4 && golden.multiclass.length >= 1 && golden.regression.length >= 1);
});

for (const g of golden.binary) {
  test(`binary metrics match scikit-learn: ${g.dataset} at threshold ${g.threshold}`, () => {
    const [y, score] = columns(g.dataset);
    const result = binaryMetrics(y!, score!, g.threshold!, FLOAT64_EPS);
    assertClose(result.metrics, g.metrics, g.dataset);
    assert.deepEqual(result.confusionMatrix, g.confusion_matrix);
    if (g.metrics.roc_auc === null) assert.ok(result.warnings.some((w) => w.startsWith('roc_auc is undefined')));
  });
}

test('binary: no positive prediction makes precision 0 with a warning (zero_division)', () => {
  const one = golden.binary.find((g) => g.dataset === 'binary_one_class.csv' && g.threshold === 1)!;
  const [y, score] = columns(one.dataset);
  const result = binaryMetrics(y!, score!, 1, FLOAT64_EPS);
  assert.equal(result.metrics.precision, 0);
  assert.ok(result.warnings.some((w) => w.startsWith('precision is ill-defined')), result.warnings.join('; '));
});

for (const g of golden.multiclass) {
  test(`multiclass metrics match scikit-learn: ${g.dataset}`, () => {
    const [y, ...proba] = columns(g.dataset);
    const classes = proba.length;
    const rows = new Float64Array(y!.length * classes);
    for (let i = 0; i < y!.length; i++) for (let c = 0; c < classes; c++) rows[i * classes + c] = proba[c]![i]!;
    const result = multiclassMetrics(y!, rows, classes, FLOAT64_EPS);
    assertClose(result.metrics, g.metrics, g.dataset);
    assert.deepEqual(result.confusionMatrix, g.confusion_matrix);
  });
}

for (const g of golden.regression) {
  test(`regression metrics match scikit-learn: ${g.dataset}${g.exact ? ', to the bit' : ''}`, () => {
    const [y, prediction] = columns(g.dataset);
    if (g.dataset === 'regression.csv') assert.ok(y!.includes(0), 'the dataset has zero targets (mape epsilon)');
    const result = regressionMetrics(y!, prediction!);
    assertClose(result.metrics, g.metrics, g.dataset);
    // numpy's summation order (numpySum): the same doubles, not merely close ones.
    if (g.exact) for (const [key, want] of Object.entries(g.metrics)) assert.equal(result.metrics[key], want, `${g.dataset} ${key}`);
    if (g.metrics.r2 === null) assert.ok(result.warnings.some((w) => w.startsWith('r2 is not well-defined')), result.warnings.join('; '));
  });
}

test('regression: r2 of a constant target is 0 for an imperfect fit and 1 for a perfect one, at any length (not a rounding artefact)', () => {
  for (const n of [2, 3, 7, 10, 1000]) {
    const y = new Float64Array(n).fill(0.1);
    const imperfect = regressionMetrics(y, new Float64Array(n).fill(0.2));
    assert.equal(imperfect.metrics.r2, 0, `n=${n}`);
    assert.ok(imperfect.warnings.some((w) => w.startsWith('r2 is undefined for a constant target')));
    assert.equal(regressionMetrics(y, y).metrics.r2, 1, `n=${n}`);
  }
});

/** The curve by definition: for each distinct score from the highest down, the rows scoring at least that. */
function curveByDefinition(positive: number[], score: number[]): { tps: number[]; fps: number[] } {
  const distinct = [...new Set(score)].sort((a, b) => b - a);
  const tps: number[] = [];
  const fps: number[] = [];
  for (const t of distinct) {
    let tp = 0;
    let fp = 0;
    score.forEach((s, i) => {
      if (s >= t) {
        if (positive[i]) tp++;
        else fp++;
      }
    });
    tps.push(tp);
    fps.push(fp);
  }
  return { tps, fps };
}

test('the ROC/PR curve (one radix sort) equals the curve by definition: float32 and float64 scores, ties, signs, −0', () => {
  const float32Scores = fc.array(fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 0.5, 1, -1)), { minLength: 1, maxLength: 300 });
  const float64Scores = fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(0, -0, 0.25, -Infinity, Infinity)), { minLength: 1, maxLength: 300 });
  for (const scores of [float32Scores, float64Scores]) {
    fc.assert(
      fc.property(scores, fc.infiniteStream(fc.boolean()), (score, labels) => {
        const positive = score.map(() => (labels.next().value ? 1 : 0));
        const curve = binaryCurve(positive, score);
        assert.deepEqual({ tps: [...curve.tps], fps: [...curve.fps] }, curveByDefinition(positive, score));
      }),
      { numRuns: 300 },
    );
  }
});

test('batch by batch (BinaryCounts, CurveArrays.prepare) the binary metrics are the same to the bit as over all rows at once', () => {
  const scores = fc.array(fc.oneof(fc.float({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, -0, 0.5, 1)), { minLength: 1, maxLength: 400 });
  fc.assert(
    fc.property(scores, fc.infiniteStream(fc.boolean()), fc.integer({ min: 1, max: 64 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, labels, batch, threshold) => {
      const n = values.length;
      const score = Float32Array.from(values);
      const truth = Uint8Array.from(values, () => (labels.next().value ? 1 : 0));
      const whole = binaryMetrics(truth, score, threshold, FLOAT32_EPS);
      const counts = new BinaryCounts(threshold, FLOAT32_EPS);
      const arrays = new CurveArrays(n + 5);
      for (let at = 0; at < n; at += batch) {
        const to = Math.min(n, at + batch);
        counts.add(truth, score, at, to);
        arrays.prepare(truth, score, at, to - at);
      }
      const batched = binaryMetrics(truth, score, threshold, FLOAT32_EPS, arrays, counts);
      assert.deepEqual(batched, whole);
      // The prepared keys were used up: the same arrays serve a next curve (a slice) from scratch.
      const half = Math.ceil(n / 2);
      assert.deepEqual(binaryMetrics(truth.subarray(0, half), score.subarray(0, half), threshold, FLOAT32_EPS, arrays), binaryMetrics(truth.subarray(0, half), score.subarray(0, half), threshold, FLOAT32_EPS));
    }),
    { numRuns: 300 },
  );
  // The log loss from running products equals the per-row sum, with tiny eps and probabilities too (no underflow to Infinity).
  for (const [truth, score, eps] of [
    [Uint8Array.of(1, 1, 0), Float64Array.of(1e-200, 1e-200, 0.3), 1e-300],
    [Uint8Array.from({ length: 5000 }, (_, i) => i % 2), Float64Array.from({ length: 5000 }, (_, i) => (i % 2 ? 1e-9 : 1 - 1e-9)), FLOAT64_EPS],
    [Uint8Array.of(1, 0), Float64Array.of(0, 1), 0],
  ] as const) {
    const rows = Float64Array.from({ length: score.length * 2 }, (_, k) => (k % 2 ? score[k >> 1]! : 1 - score[k >> 1]!));
    const expected = logLoss(truth, rows, 2, eps);
    const got = binaryMetrics(truth, score, 0.5, eps).metrics.log_loss!;
    if (Number.isFinite(expected)) assert.ok(Math.abs(got - expected) <= 1e-12 * expected, `log loss ${got} against ${expected}`);
    else assert.equal(got, expected);
  }
  // A prepared range out of order, past the capacity or holding a NaN leaves the curve to binaryCurve, which reports the NaN.
  const arrays = new CurveArrays(4);
  arrays.prepare([1, 0], Float32Array.of(0.2, Number.NaN), 0, 2);
  assert.throws(() => binaryCurve([1, 0], Float32Array.of(0.2, Number.NaN), arrays), /score 2 of 2 is NaN/);
  const skipped = new CurveArrays(8);
  skipped.prepare([1, 0, 1, 0], Float32Array.of(0.1, 0.2, 0.3, 0.4), 2, 2);
  assert.deepEqual(binaryCurve([1, 0, 1, 0], Float32Array.of(0.1, 0.2, 0.3, 0.4), skipped), binaryCurve([1, 0, 1, 0], Float32Array.of(0.1, 0.2, 0.3, 0.4)));
});

test('a NaN score is an error naming it, not a curve', () => {
  assert.throws(() => binaryCurve([1, 0, 1], [0.2, Number.NaN, 0.4]), /score 2 of 3 is NaN/);
});
