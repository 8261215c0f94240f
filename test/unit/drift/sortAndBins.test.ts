/**
 * statistics.ts's radix sort gives what `Float64Array.prototype.sort` gives, to the bit (−0 before
 * +0, ±Infinity, subnormals, all-negative and all-equal inputs, digits every value shares), and
 * histogramCounts on sorted values (a binary search per bin) counts what numpy's per-value binning
 * counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { histogramCounts, sortFloat64, sturgesEdges } from '../../../core/drift/statistics';

/** Above the built-in sort's cut-off (4,096), so that the radix path runs. */
const RADIX_SIZE = 5000;

function assertSameSort(values: Float64Array, label: string): void {
  const expected = Float64Array.from(values).sort();
  const before = Float64Array.from(values);
  const got = sortFloat64(values);
  assert.equal(got.length, expected.length, label);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(got[i], expected[i])) assert.fail(`${label}: index ${i}: ${got[i]} where the built-in sort gives ${expected[i]}`);
  }
  assert.deepEqual(values, before, `${label}: the input is left as it was`);
  assert.notEqual(got.buffer, values.buffer, `${label}: a new array`);
}

/** `count` values drawn from `pick` (seeded). */
function filled(count: number, seed: number, pick: (r: () => number) => number): Float64Array {
  let a = seed >>> 0;
  const r = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
  return Float64Array.from({ length: count }, () => pick(r));
}

const SPECIALS = [0, -0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, -2.225073858507201e-308, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1, 1 + Number.EPSILON, -1 - Number.EPSILON];

test('the radix sort equals the built-in sort on chosen inputs', () => {
  assertSameSort(filled(RADIX_SIZE, 1, (r) => SPECIALS[Math.floor(r() * SPECIALS.length)]!), 'specials');
  assertSameSort(filled(RADIX_SIZE, 2, (r) => -r() * 1e6), 'all negative');
  assertSameSort(filled(RADIX_SIZE, 3, (r) => (r() - 0.5) * 1e-310), 'subnormals of both signs');
  for (const v of [0, -0, 3.5, -3.5, -Infinity]) assertSameSort(new Float64Array(RADIX_SIZE).fill(v), `all ${Object.is(v, -0) ? '-0' : v}`);
  assertSameSort(filled(RADIX_SIZE, 4, (r) => (r() < 0.5 ? -0 : 0)), '−0 and +0 mixed');
  // Only the lowest bits differ (the three high digits are shared), then only the sign and top bits.
  assertSameSort(filled(RADIX_SIZE, 5, (r) => 1 + Math.floor(r() * 1000) * Number.EPSILON), 'low bits only');
  assertSameSort(filled(RADIX_SIZE, 6, (r) => -(1 + Math.floor(r() * 1000) * Number.EPSILON)), 'low bits only, negative');
  assertSameSort(filled(RADIX_SIZE, 7, (r) => (r() < 0.5 ? -1 : 1) * 2 ** Math.floor(r() * 60 - 30)), 'powers of two of both signs');
  // A subarray view (byte offset not 0) of a larger buffer.
  const big = filled(RADIX_SIZE + 10, 8, (r) => (r() - 0.5) * 100);
  assertSameSort(big.subarray(7, 7 + RADIX_SIZE), 'a subarray');
  assertSameSort(filled(100, 9, (r) => r() - 0.5), 'below the cut-off');
});

test('the radix sort equals the built-in sort on any doubles (property)', () => {
  const double = fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(...SPECIALS), fc.double({ noNaN: true, min: -1e-300, max: 1e-300 }));
  fc.assert(
    fc.property(fc.array(double, { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 1000 }), (pool, seed) => {
      // Drawn with repeats from a small pool, so that ties and shared digits are common.
      assertSameSort(filled(RADIX_SIZE, seed, (r) => pool[Math.floor(r() * pool.length)]!), 'property');
    }),
    { numRuns: 150 },
  );
});

/** numpy's per-value binning (np.histogram with uniform edges), the reference for histogramCounts. */
function binEveryValue(values: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  const first = edges[0]!;
  const last = edges[bins]!;
  const norm = bins / (last - first);
  for (const x of values) {
    if (x < first || x > last) continue;
    let k = Math.floor((x - first) * norm);
    if (Number.isNaN(k)) k = 0; // x = first over a subnormal range: 0 × ∞
    if (k >= bins) k = bins - 1;
    if (x < edges[k]!) k--;
    else if (k !== bins - 1 && x >= edges[k + 1]!) k++;
    counts[k]!++;
  }
  return counts;
}

test('histogramCounts over a range of subnormals counts the first value (0 × ∞ is not a bin)', () => {
  const sorted = Float64Array.from([0, 5e-324]);
  const edges = sturgesEdges(0, 5e-324, 4);
  assert.equal(histogramCounts(sorted, edges).reduce((a, b) => a + b, 0), 2);
  assert.deepEqual(histogramCounts(sorted, edges), binEveryValue(sorted, edges));
});

test('histogramCounts on sorted values counts what binning every value counts (property)', () => {
  const value = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.integer({ min: -20, max: 20 }));
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), fc.array(value, { minLength: 0, maxLength: 50 }), (sample, outside) => {
      const sorted = Float64Array.from(sample).sort();
      const edges = sturgesEdges(sorted[0]!, sorted[sorted.length - 1]!, sorted.length * 2);
      // The edges themselves as values (each lands on one side of a boundary), and values of another sample, some outside the edges.
      const probe = Float64Array.from([...sample, ...edges, ...outside]).sort();
      assert.deepEqual(histogramCounts(sorted, edges), binEveryValue(sorted, edges));
      assert.deepEqual(histogramCounts(probe, edges), binEveryValue(probe, edges));
    }),
    { numRuns: 300 },
  );
});
