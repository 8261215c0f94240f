/**
 * The drift statistics against scipy 1.10 (Debian's python3-scipy) and Evidently's formulas: the
 * golden values come from test/fixtures/drift/golden.py, committed with its golden.json.
 * Tolerance 1e-9 relative unless a comment says why it is looser.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  evidentlyChiSquare,
  evidentlyZ,
  fillEmptyBins,
  histogramCounts,
  jensenShannon,
  klDivergence,
  kstwoSf,
  ksPValue,
  mannWhitneyPValue,
  psi,
  sortFloat64,
  sortedPass,
  sturgesEdges,
} from '../../../core/drift/statistics';

interface Case {
  name: string;
  reference: number[];
  current: number[];
  ks_statistic: number;
  ks_pvalue: number;
  wasserstein: number;
  wasserstein_normed: number;
  energy: number;
  mannwhitney_pvalue: number;
  edges: number[];
  jensenshannon: number;
  psi: number;
  kl_div: number;
}
const golden = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/drift/golden.json'), 'utf8')) as {
  cases: Case[];
  kstwo: { n: number; d: number; sf: number }[];
  categorical: { reference: number[]; current: number[]; chisquare_pvalue: number; z_pvalue: number; jensenshannon: number }[];
};

function close(actual: number, expected: number, rel: number, what: string): void {
  const tol = rel * Math.max(Math.abs(expected), 1e-300);
  assert.ok(Math.abs(actual - expected) <= tol || (actual === 0 && expected === 0), `${what}: ${actual} vs scipy ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

function std(a: Float64Array): number {
  let m = 0;
  for (const x of a) m += x;
  m /= a.length;
  let s = 0;
  for (const x of a) s += (x - m) * (x - m);
  return Math.sqrt(s / a.length);
}

for (const c of golden.cases) {
  test(`numerical statistics match scipy: ${c.name} (${c.reference.length} vs ${c.current.length})`, () => {
    const a = sortFloat64(Float64Array.from(c.reference));
    const b = sortFloat64(Float64Array.from(c.current));
    const pass = sortedPass(a, b);
    close(pass.ks, c.ks_statistic, 1e-12, 'ks D');
    const ks = ksPValue(pass.ks, a.length, b.length);
    assert.equal(ks.method, Math.max(a.length, b.length) <= 10000 ? 'exact' : 'asymp');
    close(ks.p, c.ks_pvalue, 1e-9, 'ks p');
    // Sums over up to 35,000 gaps accumulate rounding in a different order than numpy: 1e-11.
    close(pass.wasserstein, c.wasserstein, 1e-11, 'wasserstein');
    close(pass.wasserstein / Math.max(std(a), 0.001), c.wasserstein_normed, 1e-11, 'wasserstein normed');
    close(pass.energy, c.energy, 1e-10, 'energy');
    close(mannWhitneyPValue(a, b), c.mannwhitney_pvalue, 1e-9, 'mannwhitney p');
    const edges = sturgesEdges(Math.min(a[0]!, b[0]!), Math.max(a[a.length - 1]!, b[b.length - 1]!), a.length + b.length);
    assert.deepEqual(Array.from(edges), c.edges);
    const r = histogramCounts(a, edges).map((x) => x / a.length);
    const q = histogramCounts(b, edges).map((x) => x / b.length);
    close(jensenShannon(r, q), c.jensenshannon, 1e-12, 'jensenshannon');
    const rf = fillEmptyBins(r);
    const qf = fillEmptyBins(q);
    close(psi(rf, qf), c.psi, 1e-9, 'psi');
    close(klDivergence(rf, qf), c.kl_div, 1e-9, 'kl_div');
  });
}

test('kstwo.sf matches scipy across its methods', () => {
  // Where scipy takes 2·smirnov(n, d) (n > 140, n·d² ≥ 2.2) it sums in double-double arithmetic; the
  // sum here takes each term through logs of size ~n, so 1e-8 there (1.2e-9 seen at n = 500,000).
  for (const k of golden.kstwo) close(kstwoSf(k.d, k.n), k.sf, k.n > 140 && k.n * k.d * k.d >= 2.2 ? 1e-8 : 1e-9, `kstwo.sf(${k.d}, ${k.n})`);
});

test('categorical tests match scipy and Evidently', () => {
  for (const c of golden.categorical) {
    close(evidentlyChiSquare(c.reference, c.current), c.chisquare_pvalue, 1e-9, 'chisquare p');
    close(evidentlyZ(c.reference, c.current), c.z_pvalue, 1e-9, 'z p');
    close(jensenShannon(c.reference, c.current), c.jensenshannon, 1e-12, 'jensenshannon');
  }
});

test('the radix sort orders like the built-in sort, negatives, zeros and ties included', () => {
  const n = 50000;
  const v = new Float64Array(n);
  let seed = 7;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    v[i] = i % 7 === 0 ? Math.round((seed / 2147483648 - 0.5) * 10) : (seed / 2147483648 - 0.5) * 1e6;
  }
  v[3] = -0;
  v[4] = 0;
  const got = sortFloat64(v);
  const want = Float64Array.from(v).sort();
  for (let i = 0; i < n; i++) assert.ok(got[i] === want[i], `index ${i}: ${got[i]} vs ${want[i]}`);
});

test("mannwhitney: scipy's exact p-value when a sample has at most 8 values and nothing is tied", () => {
  // scipy.stats.mannwhitneyu(a, b).pvalue with scipy 1.10 (method 'auto' picks 'exact' here).
  const cases: [number[], number[], number][] = [
    [[0, 1, 2, 3, 4, 5, 11, 15], [6, 7, 8, 9, 10, 12, 13, 14], 0.04988344988344988],
    [[0.1, 0.4, 0.9, 1.3, 2.2, 2.8, 3.1], [1.0, 1.9, 2.5, 3.3, 4.0], 0.20202020202020204],
    [[3], [1, 2, 4, 5, 6, 7, 8, 9, 10, 11], 0.5454545454545454],
    [[1.5, 2.5], [0.5, 3.5], 1],
  ];
  for (const [a, b, p] of cases) close(mannWhitneyPValue(Float64Array.from(a), Float64Array.from(b)), p, 1e-12, `${a.length} vs ${b.length}`);
  // A tie: the normal approximation, as scipy.
  close(mannWhitneyPValue(Float64Array.from([1, 2, 3]), Float64Array.from([3, 4, 5, 6])), 0.07446183141740546, 1e-9, 'tied');
});
