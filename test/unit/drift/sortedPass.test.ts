/**
 * statistics.ts's sortedPass (the merge with no branch on which side comes next) gives the same
 * KS D, Wasserstein and energy distance, to the bit, as the plain merge it replaced (kept here as
 * the reference): ties within and across the samples, unequal sizes, single values, ±Infinity,
 * −0 and +0, one sample entirely below the other, an empty sample.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sortedPass } from '../../../core/drift/statistics';

/** The merge before: at each distinct value of both samples, which side (or both) advances, by branches. */
function referencePass(a: Float64Array, b: Float64Array): { ks: number; wasserstein: number; energy: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  let w = 0;
  let e = 0;
  let prev = Math.min(a[0]!, b[0]!);
  let ai = n1 > 0 ? a[0]! : Infinity;
  let bj = n2 > 0 ? b[0]! : Infinity;
  let diff = 0;
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && ai <= bj) ? ai : bj;
    const gap = x - prev;
    w += Math.abs(diff) * gap;
    e += diff * diff * gap;
    if (i < n1 && ai === x) {
      do i++;
      while (i < n1 && a[i] === x);
      ai = i < n1 ? a[i]! : Infinity;
    }
    if (j < n2 && bj === x) {
      do j++;
      while (j < n2 && b[j] === x);
      bj = j < n2 ? b[j]! : Infinity;
    }
    diff = i / n1 - j / n2;
    const after = Math.abs(diff);
    if (after > d) d = after;
    prev = x;
  }
  return { ks: d, wasserstein: w, energy: Math.sqrt(2 * e) };
}

function assertSamePass(a: number[], b: number[], label: string): void {
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  const got = sortedPass(sa, sb);
  const expected = referencePass(sa, sb);
  for (const key of ['ks', 'wasserstein', 'energy'] as const) {
    if (!Object.is(got[key], expected[key])) assert.fail(`${label}: ${key} ${got[key]} where the plain merge gives ${expected[key]}`);
  }
}

test('sortedPass equals the plain merge on chosen samples', () => {
  assertSamePass([1, 2, 3], [1, 2, 3], 'the same values');
  assertSamePass([1, 1, 1, 2], [1, 2, 2, 2, 2], 'ties within and across');
  assertSamePass([0, 1, 2], [10, 11], 'one sample entirely below the other');
  assertSamePass([10, 11], [0, 1, 2], 'one sample entirely above the other');
  assertSamePass([5], [5], 'single equal values');
  assertSamePass([5], [1, 9, 9, 9], 'a single value against several');
  assertSamePass([-Infinity, 0, Infinity], [-1, 1, Infinity], '±Infinity');
  assertSamePass([-0, 0, -0, 1], [0, -0, 2], '−0 and +0');
  assertSamePass([], [1, 2], 'an empty first sample');
  assertSamePass([1, 2], [], 'an empty second sample');
  assertSamePass([], [], 'both empty');
});

test('sortedPass equals the plain merge on any samples (property)', () => {
  const value = fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.integer({ min: -5, max: 5 }), fc.constantFrom(0, -0, Infinity, -Infinity, 1e-310));
  const sample = fc.array(value, { minLength: 1, maxLength: 200 });
  fc.assert(
    fc.property(sample, sample, fc.array(value, { maxLength: 10 }), (a, b, shared) => {
      // Values drawn into both samples make ties across them common.
      assertSamePass([...a, ...shared], [...b, ...shared], 'property');
    }),
    { numRuns: 500 },
  );
});

test('sortedPass stops on a NaN (which callers never pass) instead of looping', () => {
  const result = sortedPass(Float64Array.from([1, 2, NaN]), Float64Array.from([NaN, 1.5]));
  assert.equal(typeof result.ks, 'number');
});
