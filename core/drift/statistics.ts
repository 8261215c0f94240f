/**
 * Two-sample statistics as scipy computes them (scipy 1.10, Debian's python3-scipy) and Evidently's
 * drift formulas. Numerical tests take the two samples sorted ascending, missing values removed;
 * one merge pass over both gives the Kolmogorov–Smirnov D, the Wasserstein distance and the energy
 * distance. Categorical tests take counts per category, aligned (index i is the same category on
 * both sides).
 */

// ---------------------------------------------------------------------------------------------
// Special functions

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** log Γ(x) for x > 0 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized upper incomplete gamma Q(a, x) (series for x < a + 1, continued fraction otherwise). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const lead = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(lead);
  }
  // Lentz's continued fraction.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return Math.exp(lead) * h;
}

/** The standard normal survival function, 1 − Φ(z), through erfc(t) = Q(1/2, t²). */
export function normalSf(z: number): number {
  if (z >= 0) return 0.5 * gammaQ(0.5, (z * z) / 2);
  return 1 - 0.5 * gammaQ(0.5, (z * z) / 2);
}

/** The chi-square survival function with k degrees of freedom. */
export function chiSquareSf(x: number, k: number): number {
  return gammaQ(k / 2, x / 2);
}

/** numpy's round: halves to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---------------------------------------------------------------------------------------------
// Kolmogorov–Smirnov

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** scipy `_compute_prob_outside_square(n, h)`: P(D_{n,n} ≥ h/n). */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/** scipy `_compute_outer_prob_inside_method(m, n, g, h)` (Hodges' inside method, Viehmann's 1 − p recursion). */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) for (let k = maxj - minj; k < maxj - minj + (lastlen - curlen); k++) A[k] = 1;
  }
  return A[maxj - minj - 1]!;
}

/** Pr(D_n ≤ d), Durbin's matrix with the Marsaglia–Tsang–Wang scaling (scipy `_kolmogn_DMTW`). */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;
  const multiply = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(m * m);
    for (let i = 0; i < m; i++)
      for (let l = 0; l < m; l++) {
        const x = a[i * m + l]!;
        if (x === 0) continue;
        for (let j = 0; j < m; j++) out[i * m + j]! += x * b[l * m + j]!;
      }
    return out;
  };
  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  const E = 2 ** 128;
  let expnt = 0;
  let hExpnt = 0;
  let nn = n;
  while (nn > 0) {
    if (nn % 2) {
      power = multiply(power, H);
      expnt += hExpnt;
    }
    H = multiply(H, H);
    hExpnt *= 2;
    if (Math.abs(H[(k - 1) * m + k - 1]!) > E) {
      for (let i = 0; i < H.length; i++) H[i]! /= E;
      hExpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = power[(k - 1) * m + k - 1]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 1 / E) {
      p *= E;
      expnt -= 128;
    }
  }
  if (expnt !== 0) p *= 2 ** expnt;
  return Math.min(1, Math.max(0, p));
}

const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT2PI = Math.sqrt(2 * Math.PI);

/** The Pelz–Good approximation of Pr(D_n ≤ x) (scipy `_kolmogn_PelzGood`). */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qp + coeffs[i]!;
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / div[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2extra += k2 * qk;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  K[2]! += (k2extra * PI2 * SQRT2PI) / (-36 * z ** 3);
  K[3]! += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i]! / n ** (i / 2);
  return sum;
}

/**
 * The one-sided Smirnov survival function P(D+_n ≥ x) by the Birnbaum–Tingey sum, each term in
 * logs. scipy evaluates the same sum in double-double arithmetic; this agrees to about 1e-12
 * relative for the sizes drift meets (tested against scipy). Above n = 10^6 scipy (and this) use
 * exp(−(6nx+1)²/(18n)).
 */
export function smirnovSf(n: number, x: number): number {
  if (n === 1) return 1 - x;
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  const nx = n * x;
  if (nx <= 1) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < -708.3964185322641) return 0;
  if (nx >= n - 1) return (1 - x) ** n;
  if (n > 1000000) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  // sf = x Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (1 − x − j/n)^(n−j) (x + j/n)^(j−1)
  const last = Math.ceil(n * (1 - x)) - 1;
  const lgn = logGamma(n + 1);
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const a = 1 - x - j / n;
    if (a <= 0) break;
    const logTerm = lgn - logGamma(j + 1) - logGamma(n - j + 1) + (n - j) * Math.log(a) + (j - 1) * Math.log(x + j / n);
    const term = Math.exp(logTerm);
    sum += term;
    if (j > 0 && term < sum * 1e-17 && j > n * x) break;
  }
  return Math.min(1, Math.max(0, x * sum));
}

/** scipy `kstwo.sf(d, n)`: the two-sided one-sample KS survival function (Simard & L'Ecuyer's choice of method). */
export function kstwoSf(d: number, n: number): number {
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const t = n * d;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const prob = n <= 140 ? Array.from({ length: n }, (_, i) => ((i + 1) / n) * (2 * t - 1)).reduce((a, b) => a * b, 1) : Math.exp(logGamma(n + 1) - n * Math.log(n) + n * Math.log(2 * t - 1));
    return Math.min(1, Math.max(0, 1 - prob));
  }
  if (t >= n - 1) return Math.min(1, Math.max(0, 2 * (1 - d) ** n));
  if (d >= 0.5) return Math.min(1, Math.max(0, 2 * smirnovSf(n, d)));
  const nx2 = t * d;
  if (n <= 140) {
    // scipy uses Pomeranz's recursion for 0.754693 < n·d² ≤ 4; Durbin's matrix gives the same exact CDF.
    if (nx2 <= 4) return Math.min(1, Math.max(0, 1 - kolmogorovCdfDurbin(n, d)));
    return Math.min(1, Math.max(0, 2 * smirnovSf(n, d)));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return Math.min(1, Math.max(0, 2 * smirnovSf(n, d)));
  let cdf: number;
  if (nx2 >= 18) cdf = 1;
  else if (n <= 100000 && n * d ** 1.5 <= 1.4) cdf = kolmogorovCdfDurbin(n, d);
  else cdf = kolmogorovCdfPelzGood(n, d);
  return Math.min(1, Math.max(0, 1 - cdf));
}

/** The larger sample size up to which scipy's `ks_2samp(method='auto')` is exact. */
export const KS_EXACT_MAX_N = 10000;

/** scipy `ks_2samp(a, b)` p-value for the statistic `d` (two-sided, method 'auto'). */
export function ksPValue(d: number, n1: number, n2: number): { d: number; p: number; method: 'exact' | 'asymp' } {
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const dd = h / lcm;
    if (h === 0) return { d: dd, p: 1, method: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { d: dd, p, method: 'exact' };
    d = dd;
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  return { d, p: Math.min(1, Math.max(0, kstwoSf(d, roundHalfEven(en)))), method: 'asymp' };
}

// ---------------------------------------------------------------------------------------------
// One merge pass over two sorted samples

export interface SortedPassResult {
  /** sup |F₁ − F₂| (KS D). */
  ks: number;
  /** ∫ |F₁ − F₂| (scipy `wasserstein_distance`). */
  wasserstein: number;
  /** √(2 ∫ (F₁ − F₂)²) (scipy `energy_distance`). */
  energy: number;
}

/**
 * KS D, Wasserstein and energy distance from both samples sorted ascending (no NaN). Steps through
 * the distinct values of both in ascending order; while both samples have values left, the smaller
 * next value is picked by indexing a pair with the comparison's 0/1 and each side advances by a
 * comparison's 0/1, so that the merge has no branch on which side comes next (the branch a random
 * interleaving mispredicts half the time). Runs of one side's equal values are skipped by loops
 * that, on continuous data, stop at once.
 */
export function sortedPass(a: Float64Array, b: Float64Array): SortedPassResult {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  let w = 0;
  let e = 0;
  let prev = Math.min(a[0]!, b[0]!);
  // F₁ − F₂ on [prev, x), carried from the step before (0 before the first value).
  let diff = 0;
  if (n1 > 0 && n2 > 0) {
    const next = new Float64Array(2);
    let ai = a[0]!;
    let bj = b[0]!;
    for (;;) {
      next[0] = ai;
      next[1] = bj;
      const fromB = +(bj < ai);
      const x = next[fromB]!;
      // a advances unless b's value is smaller, b when its value is not larger (both on a tie).
      i += 1 - fromB;
      j += +(bj <= ai);
      while (i < n1 && a[i] === x) i++;
      while (j < n2 && b[j] === x) j++;
      // The CDFs are constant on [prev, x): weight the gap by their difference there.
      const gap = x - prev;
      w += Math.abs(diff) * gap;
      e += diff * diff * gap;
      diff = i / n1 - j / n2;
      const after = Math.abs(diff);
      if (after > d) d = after;
      prev = x;
      if (i >= n1 || j >= n2) break;
      ai = a[i]!;
      bj = b[j]!;
    }
  }
  // One side used up (or empty): the other's remaining values, the same steps.
  while (i < n1) {
    const x = a[i]!;
    const gap = x - prev;
    w += Math.abs(diff) * gap;
    e += diff * diff * gap;
    do i++;
    while (i < n1 && a[i] === x);
    diff = i / n1 - j / n2;
    const after = Math.abs(diff);
    if (after > d) d = after;
    prev = x;
  }
  while (j < n2) {
    const x = b[j]!;
    const gap = x - prev;
    w += Math.abs(diff) * gap;
    e += diff * diff * gap;
    do j++;
    while (j < n2 && b[j] === x);
    diff = i / n1 - j / n2;
    const after = Math.abs(diff);
    if (after > d) d = after;
    prev = x;
  }
  return { ks: d, wasserstein: w, energy: Math.sqrt(2 * e) };
}

// ---------------------------------------------------------------------------------------------
// Sorting

/** Turns the bucket counts in `counts[from, to)` into each bucket's first slot, the first at `start`. */
function startOffsets(counts: Uint32Array, from: number, to: number, start: number): void {
  let sum = start;
  for (let k = from; k < to; k++) {
    const c = counts[k]!;
    counts[k] = sum;
    sum += c;
  }
}

/**
 * Sorts float64 values ascending into a new array, as `Float64Array.prototype.sort` does (−0
 * before +0; a NaN, which the drift tests never pass, by its bits: after +Infinity unless its sign
 * bit is set): below 4,096 values the built-in sort, above an LSD radix sort on the raw 64-bit
 * patterns, 16-bit digits. `sortFloat64` hands it what its distribution sort does not take
 * (±Infinity, ranges it cannot scale; a NaN goes to the built-in sort instead). One pass over the input counts all four digits; each of the
 * four scatter passes then moves every value once (a digit that every value shares is skipped), the
 * first one reading the input itself. Ascending bit patterns order the non-negative values, and
 * the negative ones in reverse: the last pass (the digit holding the sign) puts the negative
 * buckets first, the largest digit first, each filled from its end, so that no pass maps the bits
 * to an order-preserving key and back.
 */
export function radixSortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 4096) return Float64Array.from(values).sort();
  const input = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  // The four digits' counts (low word's low half first), 65,536 each.
  const counts = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const lo = input[2 * i]!;
    const hi = input[2 * i + 1]!;
    counts[lo & 0xffff]!++;
    counts[65536 + (lo >>> 16)]!++;
    counts[131072 + (hi & 0xffff)]!++;
    counts[196608 + (hi >>> 16)]!++;
  }
  let from = input;
  let first: Uint32Array | undefined;
  let second: Uint32Array | undefined;
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    const top = pass === 3;
    let shared = -1;
    for (let k = 0; k < 65536; k++) {
      if (counts[base + k] === n) shared = k;
      if (counts[base + k] !== 0) break;
    }
    // A digit every value shares orders nothing, except a negative top digit (the order reverses).
    if (shared >= 0 && !(top && shared >= 0x8000)) continue;
    const to = from === first ? (second ??= new Uint32Array(2 * n)) : (first ??= new Uint32Array(2 * n));
    if (!top) {
      startOffsets(counts, base, base + 65536, 0);
      for (let i = 0; i < n; i++) {
        const lo = from[2 * i]!;
        const hi = from[2 * i + 1]!;
        const at = counts[base + (((word ? hi : lo) >>> shift) & 0xffff)]!++;
        to[2 * at] = lo;
        to[2 * at + 1] = hi;
      }
    } else {
      // Negative top digits (sign bit set) from the largest down, each bucket's count becoming one
      // past its last slot (filled downwards); then the non-negative ones upwards.
      let sum = 0;
      for (let k = 0xffff; k >= 0x8000; k--) {
        sum += counts[base + k]!;
        counts[base + k] = sum;
      }
      startOffsets(counts, base, base + 0x8000, sum);
      for (let i = 0; i < n; i++) {
        const lo = from[2 * i]!;
        const hi = from[2 * i + 1]!;
        const digit = hi >>> 16;
        const at = digit >= 0x8000 ? --counts[base + digit]! : counts[base + digit]!++;
        to[2 * at] = lo;
        to[2 * at + 1] = hi;
      }
    }
    from = to;
  }
  // Every digit shared by every value: all values are the same bits.
  if (from === input) return Float64Array.from(values);
  return new Float64Array(from.buffer, from.byteOffset, n);
}

/** Buckets of the first distribution pass (at most; one per 8 values below 32,768 values). */
const TOP_BUCKETS = 4096;
/** A segment of at most this many values is finished by insertion sort. */
const INSERTION_MAX = 24;
/** A segment still too large after this many levels of buckets goes to the radix sort. */
const MAX_DEPTH = 8;

/** The smallest and largest value of `a[s, e)` (NaN for both when one is NaN), written into `range`. */
function valueRange(a: Float64Array, s: number, e: number, range: Float64Array): void {
  let lo = a[s]!;
  let hi = lo;
  for (let i = s + 1; i < e; i++) {
    const x = a[i]!;
    if (x < lo) lo = x;
    else if (x > hi) hi = x;
    else if (x !== x) {
      lo = hi = NaN;
      break;
    }
  }
  range[0] = lo;
  range[1] = hi;
}

/**
 * The bucket of a value x of [lo, hi], given t = (x − lo) · scale (≥ 0): ⌊t⌋, at most `last`.
 * Each step (the subtraction, the product, both rounded to nearest; the truncation; the cap) is
 * non-decreasing in x, so a value's bucket never falls as the value grows: bucket order is value
 * order, and the values that compare equal (−0 and +0 too) share a bucket.
 */
function bucketOf(t: number, last: number): number {
  return t < last ? t | 0 : last;
}

/** Adds each value of `a[s, e)` to its bucket's count. */
function countBuckets(a: Float64Array, s: number, e: number, lo: number, scale: number, last: number, counts: Int32Array): void {
  for (let i = s; i < e; i++) counts[bucketOf((a[i]! - lo) * scale, last)]!++;
}

/** Turns the counts of `buckets` buckets into each bucket's first slot; returns the largest count. */
function bucketStarts(counts: Int32Array, buckets: number): number {
  let sum = 0;
  let largest = 0;
  for (let b = 0; b < buckets; b++) {
    const c = counts[b]!;
    if (c > largest) largest = c;
    counts[b] = sum;
    sum += c;
  }
  return largest;
}

/** Moves each value of `a[s, e)` to its bucket's next slot in `to` (from `to[0]`); each bucket's start becomes its end. */
function scatterBuckets(a: Float64Array, s: number, e: number, lo: number, scale: number, last: number, counts: Int32Array, to: Float64Array): void {
  for (let i = s; i < e; i++) {
    const x = a[i]!;
    to[counts[bucketOf((x - lo) * scale, last)]!++] = x;
  }
}

/**
 * The high 32 bits of a double's pattern (sign, exponent, 20 bits of mantissa) made an unsigned
 * key in value order: the sign bit flipped for a non-negative value, every bit for a negative one.
 * Only −0 and +0, equal as values, get different keys (−0's below).
 */
function highKey(high: number): number {
  return (high ^ ((high >> 31) | 0x80000000)) >>> 0;
}

/** countBuckets by `(highKey − low) >>> shift`: buckets of equal width on a logarithmic scale, for values spread over magnitudes. */
function countKeyBuckets(words: Uint32Array, n: number, low: number, shift: number, counts: Int32Array): void {
  for (let i = 0; i < n; i++) counts[(highKey(words[2 * i + 1]!) - low) >>> shift]!++;
}

/** scatterBuckets by `(highKey − low) >>> shift`. */
function scatterKeyBuckets(values: Float64Array, words: Uint32Array, n: number, low: number, shift: number, counts: Int32Array, to: Float64Array): void {
  for (let i = 0; i < n; i++) to[counts[(highKey(words[2 * i + 1]!) - low) >>> shift]!++] = values[i]!;
}

/** Insertion sort of `a[s, e)`; fast when each value is near its place (after the buckets). */
function insertionSort(a: Float64Array, s: number, e: number): void {
  for (let i = s + 1; i < e; i++) {
    const x = a[i]!;
    let j = i - 1;
    if (!(a[j]! > x)) continue;
    do {
      a[j + 1] = a[j]!;
      j--;
    } while (j >= s && a[j]! > x);
    a[j + 1] = x;
  }
}

/** What the levels of one `sortFloat64` share: `range` for valueRange, a scratch at least as long as any segment sorted by buckets, counts per level. */
interface SortScratch {
  range: Float64Array;
  values: Float64Array;
  counts: Int32Array[];
}

/**
 * Sorts `a[s, e)` in place (finite values; −0 and +0 left in any order among themselves): a
 * bucket pass over the segment's own range (so that a crowded bucket of the level above is spread
 * out again), then the crowded buckets the same way, one level deeper, and one insertion sort
 * over the whole segment, whose values by then are each within their small bucket.
 */
function sortSegment(a: Float64Array, s: number, e: number, depth: number, scratch: SortScratch): void {
  const k = e - s;
  if (k <= INSERTION_MAX) return insertionSort(a, s, e);
  valueRange(a, s, e, scratch.range);
  const lo = scratch.range[0]!;
  const hi = scratch.range[1]!;
  if (lo === hi) return;
  const buckets = Math.min(k, TOP_BUCKETS);
  const scale = buckets / (hi - lo);
  if (!(scale < Infinity) || depth > MAX_DEPTH) {
    // A range of a few subnormals (the scale overflows), or values spread so unevenly that each
    // level splits off little.
    a.set(radixSortFloat64(a.subarray(s, e)), s);
    return;
  }
  const counts = (scratch.counts[depth] ??= new Int32Array(TOP_BUCKETS)).fill(0, 0, buckets);
  countBuckets(a, s, e, lo, scale, buckets - 1, counts);
  const largest = bucketStarts(counts, buckets);
  scatterBuckets(a, s, e, lo, scale, buckets - 1, counts, scratch.values);
  a.set(scratch.values.subarray(0, k), s);
  if (largest > INSERTION_MAX) {
    let start = 0;
    for (let b = 0; b < buckets; b++) {
      const end = counts[b]!;
      if (end - start > INSERTION_MAX) sortSegment(a, s + start, s + end, depth + 1, scratch);
      start = end;
    }
  }
  insertionSort(a, s, e);
}

/** Values of a column sampled to choose its first buckets. */
const SAMPLE = 1024;

/**
 * Whether equal-width buckets of [lo, hi] would crowd: a bucket holding more than an eighth of
 * 1,024 values sampled at even strides (a heavy tail stretches the range, as a Pareto or Cauchy
 * sample's does). Leaves `counts` zero.
 */
function crowded(values: Float64Array, lo: number, scale: number, buckets: number, counts: Int32Array): boolean {
  const stride = Math.floor(values.length / SAMPLE);
  let largest = 0;
  for (let i = 0; i < SAMPLE; i++) {
    const b = bucketOf((values[i * stride]! - lo) * scale, buckets - 1);
    const c = ++counts[b]!;
    if (c > largest) largest = c;
  }
  counts.fill(0);
  return largest > SAMPLE / 8;
}

/** Puts the −0s of the sorted `a` before its +0s (the buckets and comparisons leave them mixed). */
function orderZeros(a: Float64Array): Float64Array {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! >= 0) hi = mid;
    else lo = mid + 1;
  }
  let negative = 0;
  let end = lo;
  for (; end < a.length && a[end] === 0; end++) if (Object.is(a[end], -0)) negative++;
  if (negative > 0) {
    a.fill(-0, lo, lo + negative);
    a.fill(0, lo + negative, end);
  }
  return a;
}

/**
 * Sorts float64 values ascending into a new array, equal to `Float64Array.prototype.sort` to the
 * bit (−0 before +0). Below 4,096 values the built-in sort; above, a distribution sort: one pass
 * for the smallest and largest value, one counting the values per bucket of [min, max] (4,096
 * buckets of equal width, monotone in the value), one moving each value to its bucket in the new
 * array, then each bucket, small enough to stay in the cache, sorted in place by `sortSegment`.
 * That is three passes over the column where the radix sort makes five; a column whose values
 * crowd into a few buckets (heavy tails, clusters) costs a level more in those buckets only.
 * ±Infinity, a range wider than the largest double or of a few subnormals: `radixSortFloat64`; a
 * NaN: the built-in sort (every NaN last, as it puts them).
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 4096) return Float64Array.from(values).sort();
  const range = new Float64Array(2);
  valueRange(values, 0, n, range);
  const lo = range[0]!;
  const hi = range[1]!;
  // A NaN: the built-in sort puts every NaN last whatever its bits (the radix sort orders them by
  // their bits, a sign-bit NaN first).
  if (Number.isNaN(hi - lo)) return Float64Array.from(values).sort();
  if (!(hi - lo < Infinity)) return radixSortFloat64(values);
  const out = new Float64Array(n);
  if (lo === hi) {
    out.set(values);
    return orderZeros(out);
  }
  let buckets = Math.min(TOP_BUCKETS, n >> 3);
  const scale = buckets / (hi - lo);
  if (!(scale < Infinity)) return radixSortFloat64(values);
  const counts = new Int32Array(buckets);
  let largest: number;
  if (crowded(values, lo, scale, buckets, counts)) {
    // Buckets on the high words' keys instead: equal widths on a log scale suit heavy tails.
    const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
    // The keys' range: −0's key is below +0's, and the smallest (largest) value found may be
    // either zero, so a zero at the bottom counts as −0 and one at the top as +0.
    range[0] = lo === 0 ? -0 : lo;
    range[1] = hi === 0 ? 0 : hi;
    const rangeWords = new Uint32Array(range.buffer);
    const low = highKey(rangeWords[1]!);
    const span = highKey(rangeWords[3]!) - low;
    let shift = 0;
    while (span >>> shift >= buckets) shift++;
    buckets = (span >>> shift) + 1;
    countKeyBuckets(words, n, low, shift, counts);
    largest = bucketStarts(counts, buckets);
    scatterKeyBuckets(values, words, n, low, shift, counts, out);
  } else {
    countBuckets(values, 0, n, lo, scale, buckets - 1, counts);
    largest = bucketStarts(counts, buckets);
    scatterBuckets(values, 0, n, lo, scale, buckets - 1, counts, out);
  }
  const scratch: SortScratch = { range, values: new Float64Array(largest), counts: [] };
  let start = 0;
  for (let b = 0; b < buckets; b++) {
    const end = counts[b]!;
    if (end - start > 1) sortSegment(out, start, end, 1, scratch);
    start = end;
  }
  return orderZeros(out);
}

// ---------------------------------------------------------------------------------------------
// Other tests

/** scipy `mannwhitneyu(a, b, alternative='two-sided')` p-value (its default method 'auto', continuity corrected), from sorted samples. */
export function mannWhitneyPValue(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  const n = n1 + n2;
  let i = 0;
  let j = 0;
  let rank = 0;
  let r1 = 0;
  let tieTerm = 0;
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let ca = 0;
    let cb = 0;
    while (i < n1 && a[i] === x) {
      i++;
      ca++;
    }
    while (j < n2 && b[j] === x) {
      j++;
      cb++;
    }
    const t = ca + cb;
    const midRank = rank + (t + 1) / 2;
    r1 += ca * midRank;
    tieTerm += t * t * t - t;
    rank += t;
  }
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u = Math.max(u1, n1 * n2 - u1);
  // scipy's method 'auto': the exact distribution when a sample has at most 8 values and no value
  // is tied, the normal approximation otherwise.
  // (Past 2e7 pairs the exact table would take hundreds of MB; the approximation is then as good.)
  if (Math.min(n1, n2) <= 8 && tieTerm === 0 && n1 > 0 && n2 > 0 && n1 * n2 <= 2e7) return Math.min(1, 2 * mannWhitneyExactCdf(n1 * n2 - u, n1, n2));
  const mu = (n1 * n2) / 2;
  const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = (u - mu - 0.5) / s;
  return Math.min(1, 2 * normalSf(z));
}

/**
 * P(U ≤ k) under the null hypothesis for samples of m and n values without ties: the coefficients
 * of the Gaussian binomial [m+n choose m]_q up to q^k, over C(m+n, m). Built as the product
 * Π (1 − q^(large+i)) / (1 − q^i) for i = 1…small; below q^(large+1) nothing is subtracted, so the
 * low tail, where small p-values come from, is exact. (scipy's two-sided exact p-value is twice
 * P(U ≥ max(U1, U2)) = P(U ≤ mn − max(U1, U2)), by symmetry.)
 */
export function mannWhitneyExactCdf(k: number, m: number, n: number): number {
  if (k < 0) return 0;
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  const top = Math.min(k, m * n);
  const c = new Float64Array(top + 1);
  c[0] = 1;
  for (let i = 1; i <= small; i++) {
    for (let u = top; u >= large + i; u--) c[u]! -= c[u - large - i]!;
    for (let u = i; u <= top; u++) c[u]! += c[u - i]!;
  }
  let sum = 0;
  for (let u = 0; u <= top; u++) sum += c[u]!;
  let total = 1;
  for (let i = 1; i <= small; i++) total = (total * (large + i)) / i;
  return Math.min(1, sum / total);
}

/** scipy `chisquare(observed, expected)` p-value with k − 1 degrees of freedom. */
export function chiSquarePValue(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    const o = observed[i]!;
    stat += e === 0 ? (o === 0 ? NaN : Infinity) : ((o - e) * (o - e)) / e;
  }
  if (Number.isNaN(stat)) return NaN;
  return chiSquareSf(stat, observed.length - 1);
}

/** Evidently's chi-square drift test: current counts against reference counts scaled to the current size. */
export function evidentlyChiSquare(refCounts: ArrayLike<number>, curCounts: ArrayLike<number>): number {
  let nRef = 0;
  let nCur = 0;
  for (let i = 0; i < refCounts.length; i++) {
    nRef += refCounts[i]!;
    nCur += curCounts[i]!;
  }
  const k = nCur / nRef;
  const expected = Array.from(refCounts, (c) => c * k);
  return chiSquarePValue(curCounts, expected);
}

/** Evidently's two-proportion z test p-value on the share of the first category. */
export function evidentlyZ(refCounts: ArrayLike<number>, curCounts: ArrayLike<number>): number {
  const nonZero = (c: ArrayLike<number>) => Array.from(c).filter((x) => x > 0).length;
  if (refCounts.length === 1 || (nonZero(refCounts) === 1 && nonZero(curCounts) === 1 && Array.from(refCounts).findIndex((x) => x > 0) === Array.from(curCounts).findIndex((x) => x > 0))) return 1;
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < refCounts.length; i++) {
    n1 += refCounts[i]!;
    n2 += curCounts[i]!;
  }
  const p1 = refCounts[0]! / n1;
  const p2 = curCounts[0]! / n2;
  const P = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1 / n1 + 1 / n2));
  return 2 * (1 - (1 - normalSf(Math.abs(z))));
}

/** Σ x log(x/y) with scipy's `rel_entr` conventions (0 when x = 0). */
function relativeEntropy(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const x = p[i]!;
    const y = q[i]!;
    if (x > 0) s += y > 0 ? x * Math.log(x / y) : Infinity;
  }
  return s;
}

function normalise(p: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i]!;
  return Float64Array.from(p, (x) => x / s);
}

/** scipy `spatial.distance.jensenshannon(p, q)` (natural log). */
export function jensenShannon(p0: ArrayLike<number>, q0: ArrayLike<number>): number {
  const p = normalise(p0);
  const q = normalise(q0);
  const m = Float64Array.from(p, (x, i) => (x + q[i]!) / 2);
  return Math.sqrt(Math.max(0, (relativeEntropy(p, m) + relativeEntropy(q, m)) / 2));
}

/** scipy `stats.entropy(p, q)`: the Kullback–Leibler divergence of normalised p from q. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  return relativeEntropy(normalise(p), normalise(q));
}

/** Evidently's population stability index: Σ (r − c) ln(r / c) on shares with empty bins filled. */
export function psi(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < ref.length; i++) s += (ref[i]! - cur[i]!) * Math.log(ref[i]! / cur[i]!);
  return s;
}

/** Total variation distance ½ Σ |r − c| on shares. */
export function totalVariation(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  const p = normalise(ref);
  const q = normalise(cur);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i]! - q[i]!);
  return s / 2;
}

/** Hellinger distance √(1 − Σ √(p q)) on shares (Evidently's categorical form; the bin-width form reduces to it on equal bins). */
export function hellingerFromShares(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let bc = 0;
  for (let i = 0; i < p.length; i++) bc += Math.sqrt(p[i]! * q[i]!);
  return Math.sqrt(1 - Math.min(1, Math.max(0, bc)));
}

// ---------------------------------------------------------------------------------------------
// numpy histograms

/** `np.histogram_bin_edges(values, bins='sturges')` for `n` values with the given minimum and maximum. */
export function sturgesEdges(min: number, max: number, n: number): Float64Array {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  // A range wider than the largest double (−1e308 to 1e308), where numpy fails: halves are taken.
  const wide = !Number.isFinite(last - first);
  const width = wide ? (max / 2 - min / 2) / (Math.log2(n) + 1) : (max - min) / (Math.log2(n) + 1);
  const bins = width ? Math.ceil((wide ? last / 2 - first / 2 : last - first) / width) : 1;
  return linspace(first, last, bins + 1);
}

/** `np.linspace(start, stop, num)` (over a range wider than the largest double, by half steps). */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  if (Number.isFinite(step)) for (let i = 0; i < num; i++) out[i] = i * step + start;
  else {
    const half = (stop / 2 - start / 2) / (num - 1);
    for (let i = 0; i < num; i++) out[i] = start + i * half + i * half;
  }
  out[num - 1] = stop;
  return out;
}

/**
 * `np.histogram(values, edges)[0]` for uniform edges and values sorted ascending: numpy's bin of a
 * value (its index computation and edge corrections, `histogramBin`) never decreases as the value
 * grows, so each bin's first value is found by a binary search instead of binning every value.
 */
export function histogramCounts(sorted: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  const first = edges[0]!;
  const last = edges[bins]!;
  // Over a range wider than the largest double, bins are found on halved values.
  const scale = Number.isFinite(last - first) ? 1 : 0.5;
  const norm = bins / (last * scale - first * scale);
  // Values outside [first, last] fall in no bin: the first value ≥ first and the first value > last.
  let lo = lowerIndex(sorted, 0, sorted.length, (x) => x >= first);
  const end = lowerIndex(sorted, lo, sorted.length, (x) => x > last);
  for (let k = 0; k < bins; k++) {
    const next = k === bins - 1 ? end : lowerIndex(sorted, lo, end, (x) => histogramBin(x, first, norm, edges, bins, scale) > k);
    counts[k] = next - lo;
    lo = next;
  }
  return counts;
}

/** numpy's bin index of a value within [edges[0], edges[bins]] (uniform edges). */
function histogramBin(x: number, first: number, norm: number, edges: Float64Array, bins: number, scale = 1): number {
  // Over a range of a few subnormals `norm` overflows to Infinity, and at x = first 0 × ∞ is NaN: bin 0.
  let k = Math.floor((x * scale - first * scale) * norm);
  if (Number.isNaN(k)) k = 0;
  if (k >= bins) k = bins - 1;
  if (x < edges[k]!) k--;
  else if (k !== bins - 1 && x >= edges[k + 1]!) k++;
  return k;
}

/** The first index in [from, to) whose value passes `test` (which, once true, stays true over the sorted values), or `to`. */
function lowerIndex(sorted: Float64Array, from: number, to: number, test: (x: number) => boolean): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (test(sorted[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Evidently's `get_binned_data` zero filling: empty bins take min(non-zero share)/10^6 when that minimum is ≤ 0.0001, else 0.0001. */
export function fillEmptyBins(shares: Float64Array): Float64Array {
  let min = Infinity;
  for (const s of shares) if (s !== 0 && s < min) min = s;
  const fill = min <= 0.0001 ? min / 1e6 : 0.0001;
  return shares.map((s) => (s === 0 ? fill : s));
}
