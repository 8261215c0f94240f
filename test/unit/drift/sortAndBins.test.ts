/**
 * statistics.ts's sorts give what `Float64Array.prototype.sort` gives, to the bit: the radix sort
 * (−0 before +0, ±Infinity, subnormals, all-negative and all-equal inputs, digits every value
 * shares) and the distribution sort, sortFloat64, on those and on what its own paths meet
 * (columns like the drift bench's, heavy tails that take the log-scale buckets, clusters and
 * outliers that take deeper levels, ranges of subnormals inside a bucket, duplicates, sorted and
 * reversed input, −0 and +0 among other values). histogramCounts on sorted values (a binary
 * search per bin) counts what numpy's per-value binning counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { histogramCounts, radixSortFloat64, sortFloat64, sturgesEdges } from '../../../core/drift/statistics';

/** Above the built-in sort's cut-off (4,096), so that the radix path runs. */
const RADIX_SIZE = 5000;

/** Both sorts (the distribution sort and the radix sort it falls back on) against the built-in one. */
function assertSameSort(values: Float64Array, label: string): void {
  const expected = Float64Array.from(values).sort();
  const before = Float64Array.from(values);
  for (const [name, sort] of [
    ['sortFloat64', sortFloat64],
    ['radixSortFloat64', radixSortFloat64],
  ] as const) {
    const got = sort(values);
    assert.equal(got.length, expected.length, `${name}, ${label}`);
    for (let i = 0; i < expected.length; i++) {
      if (!Object.is(got[i], expected[i])) assert.fail(`${name}, ${label}: index ${i}: ${got[i]} where the built-in sort gives ${expected[i]}`);
    }
    assert.deepEqual(values, before, `${name}, ${label}: the input is left as it was`);
    assert.notEqual(got.buffer, values.buffer, `${name}, ${label}: a new array`);
  }
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

test('both sorts equal the built-in sort on chosen inputs', () => {
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

test('both sorts equal the built-in sort on any doubles (property)', () => {
  const double = fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(...SPECIALS), fc.double({ noNaN: true, min: -1e-300, max: 1e-300 }));
  fc.assert(
    fc.property(fc.array(double, { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 1000 }), (pool, seed) => {
      // Drawn with repeats from a small pool, so that ties and shared digits are common.
      assertSameSort(filled(RADIX_SIZE, seed, (r) => pool[Math.floor(r() * pool.length)]!), 'property');
    }),
    { numRuns: 150 },
  );
});

/** A standard normal draw from two uniform ones. */
function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Rounded to nine decimals, as the drift bench writes its CSVs (ties between values are then possible). */
function nineDecimals(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

const DISTRIBUTION_SIZE = 60000;

test('the distribution sort equals the built-in sort on columns like the drift bench\'s and on heavy tails', () => {
  const shapes: [string, (r: () => number) => number][] = [
    ['normal', (r) => nineDecimals(4 + 1.4 * gaussian(r))],
    ['uniform', (r) => nineDecimals(100 * r())],
    ['exponential', (r) => nineDecimals(-5 * Math.log(1 - r()))],
    ['log-normal', (r) => nineDecimals(Math.exp(1 + 0.5 * gaussian(r)))],
    ['Pareto (log-scale buckets)', (r) => 1 / (1 - r()) ** 1.5],
    ['negative Pareto', (r) => -1 / (1 - r()) ** 1.5],
    ['Cauchy, both signs', (r) => Math.tan(Math.PI * (r() - 0.5))],
    ['log-uniform over 600 binades, both signs', (r) => (r() < 0.5 ? -1 : 1) * 2 ** (600 * r() - 300)],
    ['Pareto with zeros of both signs', (r) => (r() < 0.05 ? (r() < 0.5 ? -0 : 0) : 1 / (1 - r()) ** 1.5)],
  ];
  shapes.forEach(([label, pick], k) => assertSameSort(filled(DISTRIBUTION_SIZE, 100 + k, pick), label));
  // Log-scale buckets whose smallest value found first is +0 (−0's key lies below it), and whose largest is −0 (+0's above).
  const zerosFirst = filled(DISTRIBUTION_SIZE, 120, (r) => (r() < 0.05 ? -0 : 1 / (1 - r()) ** 1.5));
  zerosFirst[0] = 0;
  assertSameSort(zerosFirst, 'Pareto, +0 first and −0 later');
  const zerosLast = filled(DISTRIBUTION_SIZE, 121, (r) => (r() < 0.05 ? 0 : -1 / (1 - r()) ** 1.5));
  zerosLast[0] = -0;
  assertSameSort(zerosLast, 'negative Pareto, −0 first and +0 later');
});

test('the distribution sort equals the built-in sort on duplicates, order, clusters and odd ranges', () => {
  assertSameSort(filled(DISTRIBUTION_SIZE, 20, (r) => Math.floor(r() * 100)), 'integers 0-99 (many duplicates)');
  assertSameSort(filled(DISTRIBUTION_SIZE, 21, (r) => [3, -7.25, 1e6][Math.floor(r() * 3)]!), 'three distinct values');
  assertSameSort(filled(DISTRIBUTION_SIZE, 22, (r) => (r() < 0.999 ? 5 : 6)), 'two values, one rare');
  const ascending = filled(DISTRIBUTION_SIZE, 23, (r) => nineDecimals(4 + 1.4 * gaussian(r))).sort();
  assertSameSort(ascending, 'already sorted');
  assertSameSort(ascending.slice().reverse(), 'reverse sorted');
  // Most values in one narrow cluster, a few far away: the cluster's bucket is bucketed again on its own range, level after level.
  assertSameSort(filled(DISTRIBUTION_SIZE, 24, (r) => (r() < 0.995 ? 1000 + r() * 1e-6 : r() * 1e12)), 'a narrow cluster and far outliers');
  assertSameSort(filled(DISTRIBUTION_SIZE, 25, (r) => (r() < 0.5 ? r() * 1e-9 : 1e9 + r())), 'two tight clusters far apart');
  assertSameSort(filled(DISTRIBUTION_SIZE, 26, (r) => 2 ** -Math.floor(r() * 1000)), 'powers of two down to 2^-999');
  // Uniform values in [0, 1) and a tenth of powers of two in the first bucket: each level of buckets
  // splits off a dozen powers of two, and past the depth limit the radix sort finishes.
  assertSameSort(filled(DISTRIBUTION_SIZE, 32, (r) => (r() < 0.1 ? 2 ** -Math.floor(r() * 1000) : r())), 'powers of two among uniform values');
  // Subnormals crowd the first bucket of [0, 1]: its own range is too small to scale (the radix sort takes it).
  assertSameSort(filled(DISTRIBUTION_SIZE, 27, (r) => (r() < 0.9 ? Math.floor(r() * 50) * Number.MIN_VALUE : r())), 'subnormals inside a wider range');
  assertSameSort(filled(DISTRIBUTION_SIZE, 28, (r) => (r() < 0.3 ? (r() < 0.5 ? -0 : 0) : r() * 2 - 1)), '−0 and +0 among other values');
  assertSameSort(filled(DISTRIBUTION_SIZE, 29, (r) => (r() < 0.001 ? Infinity : r() < 0.001 ? -Infinity : r())), '±Infinity among finite values');
  assertSameSort(filled(DISTRIBUTION_SIZE, 30, (r) => (r() < 0.5 ? -Number.MAX_VALUE : Number.MAX_VALUE) * r()), 'a range wider than the largest double');
  assertSameSort(filled(5000, 31, (r) => r() - 0.5), 'just above the built-in sort\'s cut-off');
});

test('a NaN goes last, as the built-in sort puts it, whatever its sign bit', () => {
  // x86-64 makes 0/0 and ∞ − ∞ a NaN with the sign bit set (high word 0xfff80000); JS's NaN
  // constant has it clear. The radix sort orders NaNs by their bits, so a sign-bit NaN would go first.
  const signNaN = new Float64Array(new Uint32Array([0, 0xfff80000]).buffer)[0]!;
  for (const [label, nan] of [['NaN', NaN], ['sign-bit NaN', signNaN]] as const) {
    for (const size of [RADIX_SIZE, DISTRIBUTION_SIZE]) {
      const values = filled(size, 40, (r) => (r() < 0.01 ? nan : r() * 10 - 5));
      values[100] = nan;
      const got = sortFloat64(values);
      const expected = Float64Array.from(values).sort();
      for (let i = 0; i < values.length; i++) if (!Object.is(got[i], expected[i])) assert.fail(`${label}, ${size}: index ${i}: ${got[i]} where the built-in sort gives ${expected[i]}`);
      assert.ok(Number.isNaN(got[got.length - 1]!) && !Number.isNaN(got[0]!), `${label}, ${size}: NaNs last`);
    }
  }
});

test('the distribution sort equals the built-in sort on random shapes (property)', () => {
  const shape = fc.record({
    kind: fc.constantFrom('uniform', 'normal', 'exponential', 'pareto', 'integers', 'mixture'),
    offset: fc.oneof(fc.constant(0), fc.double({ noNaN: true, min: -1e6, max: 1e6 })),
    scale: fc.oneof(fc.constant(1), fc.double({ noNaN: true, min: 1e-12, max: 1e12 })),
    size: fc.integer({ min: 4096, max: 40000 }),
    seed: fc.integer({ min: 0, max: 1e6 }),
  });
  fc.assert(
    fc.property(shape, ({ kind, offset, scale, size, seed }) => {
      const draw = (r: () => number): number => {
        switch (kind) {
          case 'uniform':
            return r();
          case 'normal':
            return gaussian(r);
          case 'exponential':
            return -Math.log(1 - r());
          case 'pareto':
            return 1 / (1 - r()) ** 2;
          case 'integers':
            return Math.floor(r() * 20);
          default:
            return r() < 0.5 ? gaussian(r) : 50 + 1e-3 * r();
        }
      };
      assertSameSort(filled(size, seed, (r) => offset + scale * draw(r)), `${kind} × ${scale} + ${offset}, ${size} values`);
    }),
    { numRuns: 60 },
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
