/**
 * Evaluation metrics with scikit-learn's definitions (sklearn.metrics), so a number Runwise reports
 * is the number the same predictions give in Python:
 *
 * - precision, recall and f1 divide by zero as `zero_division="warn"` does: the value is 0 and a
 *   warning is recorded (returned in `warnings`, written into the report);
 * - f1 is 2·tp / (2·tp + fp + fn) per class, as sklearn ≥ 1.3 computes it;
 * - macro averages run over the labels present in the true or the predicted values (sklearn's
 *   `unique_labels`), weighted averages weigh each by its true count (support);
 * - roc_auc is the trapezoid area under the ROC curve with one point per distinct score (tied
 *   scores move together); one-vs-rest macro for multiclass; undefined (NaN, with a warning) when a
 *   class has no positive or no negative rows, where sklearn raises;
 * - average_precision is sklearn's step sum Σ (Rₙ − Rₙ₋₁) · Pₙ over distinct scores;
 * - log_loss clips probabilities to [eps, 1 − eps] with eps the machine epsilon of the probabilities'
 *   dtype (sklearn ≥ 1.2's `eps="auto"`, the only behaviour since 1.5), renormalises each row, and
 *   averages −log p(true class);
 * - mape divides by max(|y|, ε) with ε = float64 epsilon, as sklearn does, so a zero target gives a
 *   large term rather than Infinity; r2 is 1 for a perfect fit of a constant target and 0 otherwise
 *   (sklearn's `force_finite=True`).
 */

/** float64 machine epsilon (numpy.finfo(float64).eps). */
export const FLOAT64_EPS = 2 ** -52;
/** float32 machine epsilon (numpy.finfo(float32).eps). */
export const FLOAT32_EPS = 2 ** -23;

export interface ClassificationMetrics {
  metrics: Record<string, number>;
  /** Rows: true class index; columns: predicted class index. */
  confusionMatrix: number[][];
  warnings: string[];
}

/** True/false positive counts at each distinct score, highest score first. */
export interface BinaryCurve {
  tps: Uint32Array;
  fps: Uint32Array;
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
/**
 * Where BinaryCounts takes the logarithm of its running product, and the smallest factor it
 * multiplies in: the product stays above 2⁻¹⁰⁰⁰, a normal double (the smallest is 2⁻¹⁰²²).
 */
const PRODUCT_FLOOR = 2 ** -900;
const FACTOR_FLOOR = 2 ** -100;
/** Radix passes over one 32-bit word. */
const PASSES_32 = Math.ceil(32 / RADIX_BITS);

/**
 * The binary curve's working arrays for up to `capacity` rows: the sort keys and labels, their
 * second buffers, and the curve's counts. One evaluation allocates one and passes it to every
 * binary curve it computes (the whole data, then each slice); a curve's counts stay valid until the
 * next curve is computed with the same arrays.
 */
export class CurveArrays {
  readonly keys: [Uint32Array, Uint32Array];
  readonly labels: [Uint8Array, Uint8Array];
  readonly tps: Uint32Array;
  readonly fps: Uint32Array;
  /** The low words of float64 keys, allocated only for scores that are not all float32. */
  private lowKeys: [Uint32Array, Uint32Array] | undefined;

  /**
   * Rows whose float32 keys and labels `prepare` has written ahead of the curve (from row 0 on), and
   * the digit counts of each radix pass over them; −1 once a range could not be prepared.
   */
  private preparedRows = 0;
  private readonly digitCounts = new Int32Array(PASSES_32 * RADIX);

  constructor(readonly capacity: number) {
    this.keys = [new Uint32Array(capacity), new Uint32Array(capacity)];
    this.labels = [new Uint8Array(capacity), new Uint8Array(capacity)];
    this.tps = new Uint32Array(capacity);
    this.fps = new Uint32Array(capacity);
  }

  /**
   * Writes the keys and labels of rows [from, from + count) of a float32 score column, with the digit
   * counts their sort makes: `binaryCurve` does so for all rows at once, an evaluation batch by batch
   * as the rows arrive, so that the curve over exactly the prepared rows starts at the sort's scatter
   * passes. Rows must come in order from 0; a NaN score, rows past the capacity or out of order leave
   * nothing prepared (`binaryCurve` then reports the NaN, or starts over).
   */
  prepare(positive: ArrayLike<boolean | number>, score: Float32Array, from: number, count: number): void {
    if (this.preparedRows !== from || from + count > this.capacity) {
      this.preparedRows = -1;
      return;
    }
    const keys = this.keys[0];
    const labels = this.labels[0];
    const counts = this.digitCounts;
    const bits = new Uint32Array(score.buffer, score.byteOffset, score.length);
    for (let i = from; i < from + count; i++) {
      let b = bits[i]!;
      if ((b & 0x7fffffff) > 0x7f800000) {
        this.preparedRows = -1;
        return;
      }
      if (b === 0x80000000) b = 0; // −0 → 0
      // IEEE bits as an unsigned key that sorts like the number: negatives flipped whole, positives' sign bit set.
      const k = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
      keys[i] = k;
      labels[i] = +!!positive[i]; // not `? 1 : 0`: a branch on a random label, mispredicted, took half the loop's time
      counts[k & (RADIX - 1)]!++;
      counts[RADIX + ((k >>> RADIX_BITS) & (RADIX - 1))]!++;
      counts[2 * RADIX + (k >>> (2 * RADIX_BITS))]!++;
    }
    this.preparedRows = from + count;
  }

  /** The digit counts when exactly `n` rows are prepared (and forgets them: the sort overwrites the keys). */
  takePrepared(n: number): Int32Array | undefined {
    const ready = this.preparedRows === n && n > 0;
    this.preparedRows = 0;
    if (!ready) {
      this.digitCounts.fill(0);
      return undefined;
    }
    const counts = this.digitCounts.slice();
    this.digitCounts.fill(0);
    return counts;
  }

  low(): [Uint32Array, Uint32Array] {
    return (this.lowKeys ??= [new Uint32Array(this.capacity), new Uint32Array(this.capacity)]);
  }
}

/**
 * Sorts 32-bit keys (ascending, unsigned), each word of a multi-word key carried along with its
 * label: least significant digit first, 11 bits a pass, a pass skipped when every key has the same
 * digit there. `words[0]` is the most significant word; `to` has a second buffer for each word and
 * for the labels. Returns whichever of the two holds the sorted keys.
 */
interface SortKeys {
  words: Uint32Array[];
  labels: Uint8Array;
}

function radixSort(n: number, from: SortKeys, to: SortKeys, digitCounts?: Int32Array): SortKeys {
  const counts = new Int32Array(RADIX);
  for (let w = from.words.length - 1; w >= 0; w--) {
    for (let shift = 0; shift < 32; shift += RADIX_BITS) {
      const key = from.words[w]!;
      // Counted ahead (CurveArrays.prepare) for a one-word key; else counted here.
      if (digitCounts) counts.set(digitCounts.subarray((shift / RADIX_BITS) * RADIX, (shift / RADIX_BITS + 1) * RADIX));
      else {
        counts.fill(0);
        for (let i = 0; i < n; i++) counts[(key[i]! >>> shift) & (RADIX - 1)]!++;
      }
      if (n === 0 || counts[(key[0]! >>> shift) & (RADIX - 1)] === n) continue;
      let sum = 0;
      for (let d = 0; d < RADIX; d++) {
        const c = counts[d]!;
        counts[d] = sum;
        sum += c;
      }
      const srcWords = from.words;
      const dstWords = to.words;
      const srcLabels = from.labels;
      const dstLabels = to.labels;
      if (srcWords.length === 1) scatter32(n, shift, counts, srcWords[0]!, srcLabels, dstWords[0]!, dstLabels);
      else {
        const [srcHi, srcLo] = srcWords as [Uint32Array, Uint32Array];
        const [dstHi, dstLo] = dstWords as [Uint32Array, Uint32Array];
        for (let i = 0; i < n; i++) {
          const at = counts[(key[i]! >>> shift) & (RADIX - 1)]!++;
          dstHi[at] = srcHi[i]!;
          dstLo[at] = srcLo[i]!;
          dstLabels[at] = srcLabels[i]!;
        }
      }
      [from, to] = [to, from];
    }
  }
  return from;
}

/**
 * One scatter pass of a one-word key with its labels. A function of its own: a fresh process (the
 * CLI) runs the sort once, and V8 optimises this small loop on its first pass and reuses it for the
 * next, where inside radixSort each pass left optimised code at its end (~30 ms more on 1M rows).
 */
function scatter32(n: number, shift: number, counts: Int32Array, src: Uint32Array, srcLabels: Uint8Array, dst: Uint32Array, dstLabels: Uint8Array): void {
  for (let i = 0; i < n; i++) {
    const k = src[i]!;
    const at = counts[(k >>> shift) & (RADIX - 1)]!++;
    dst[at] = k;
    dstLabels[at] = srcLabels[i]!;
  }
}

function nanScore(i: number, n: number): Error {
  return new Error(`score ${i + 1} of ${n} is NaN: the ROC and precision-recall curves need numbers`);
}

/**
 * True/false positives per distinct score, highest score first (sklearn's `_binary_clf_curve`):
 * one radix sort of the scores' bits (as float32 when every score is one, as they are from a
 * float32 model, else as float64), labels carried along, then one pass down from the top. −0 counts
 * as 0; a NaN score is an error, as scikit-learn refuses it. A Float32Array of scores gives its
 * keys straight from its bits. `arrays` (sized for at least the rows) is reused instead of
 * allocating; the curve's counts are views into it.
 */
export function binaryCurve(positive: ArrayLike<boolean | number>, score: ArrayLike<number>, arrays?: CurveArrays): BinaryCurve {
  const n = score.length;
  const scratch = arrays && arrays.capacity >= n ? arrays : new CurveArrays(n);
  const [keys, spareKeys] = scratch.keys;
  const [labels, spareLabels] = scratch.labels;
  // Keys an evaluation prepared batch by batch hold for exactly these float32 scores.
  let counts = scratch.takePrepared(score instanceof Float32Array ? n : -1);
  if (!counts) {
    // As float32 when every score is one (a float32 model's): then narrowed into the keys' own buffer.
    let single = score instanceof Float32Array ? score : undefined;
    if (!single) {
      const narrow = new Float32Array(keys.buffer, keys.byteOffset, n);
      let i = 0;
      for (; i < n; i++) {
        const v = score[i]! + 0; // −0 → 0
        if (Number.isNaN(v)) throw nanScore(i, n);
        narrow[i] = v;
        if (narrow[i] !== v) break;
      }
      if (i === n) single = narrow;
    }
    if (!single) return float64Curve(n, positive, score, scratch);
    if (n > 0) {
      scratch.prepare(positive, single, 0, n);
      counts = scratch.takePrepared(n);
      if (!counts) throw nanScore(single.findIndex((v) => Number.isNaN(v)), n);
    }
  }
  const sorted = radixSort(n, { words: [keys], labels }, { words: [spareKeys], labels: spareLabels }, counts);
  return countCurve(n, sorted.words[0]!, undefined, sorted.labels, scratch);
}

/** The curve of scores that are not all float32: each key the float64's two words. */
function float64Curve(n: number, positive: ArrayLike<boolean | number>, score: ArrayLike<number>, scratch: CurveArrays): BinaryCurve {
  const [keys, spareKeys] = scratch.keys;
  const [labels, spareLabels] = scratch.labels;
  const [lo, spareLo] = scratch.low();
  const wide = new Float64Array(1);
  const halves = new Uint32Array(wide.buffer);
  const littleEndian = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
  for (let i = 0; i < n; i++) {
    labels[i] = positive[i] ? 1 : 0;
    wide[0] = score[i]! + 0; // −0 → 0
    if (Number.isNaN(wide[0])) throw nanScore(i, n);
    const h = halves[littleEndian ? 1 : 0]!;
    const l = halves[littleEndian ? 0 : 1]!;
    if (h & 0x80000000) {
      keys[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      keys[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
  const sorted = radixSort(n, { words: [keys, lo], labels }, { words: [spareKeys, spareLo], labels: spareLabels });
  return countCurve(n, sorted.words[0]!, sorted.words[1], sorted.labels, scratch);
}

/** The pass down from the highest key: cumulative true/false positives at each distinct key. */
function countCurve(n: number, top: Uint32Array, low: Uint32Array | undefined, sortedLabels: Uint8Array, arrays: CurveArrays): BinaryCurve {
  const { tps, fps } = arrays;
  let points = 0;
  let tp = 0;
  let fp = 0;
  for (let i = n - 1; i >= 0; ) {
    const key = top[i]!;
    const keyLow = low ? low[i]! : 0;
    do {
      if (sortedLabels[i]) tp++;
      else fp++;
      i--;
    } while (i >= 0 && top[i] === key && (!low || low[i] === keyLow));
    tps[points] = tp;
    fps[points] = fp;
    points++;
  }
  return { tps: tps.subarray(0, points), fps: fps.subarray(0, points) };
}

/** ROC AUC of one binary problem; NaN when only one class is present (sklearn raises). */
export function rocAuc(positive: ArrayLike<boolean | number>, score: ArrayLike<number>, curve: BinaryCurve = binaryCurve(positive, score)): number {
  const { tps, fps } = curve;
  const p = tps[tps.length - 1] ?? 0;
  const f = fps[fps.length - 1] ?? 0;
  if (p === 0 || f === 0) return NaN;
  // Trapezoids from (0, 0) through each distinct threshold, as numpy.trapz(tpr, fpr).
  let area = 0;
  let prevX = 0;
  let prevY = 0;
  for (let k = 0; k < tps.length; k++) {
    const x = fps[k]! / f;
    const y = tps[k]! / p;
    area += ((x - prevX) * (y + prevY)) / 2;
    prevX = x;
    prevY = y;
  }
  return area;
}

/** sklearn's average_precision_score for one binary problem; NaN when no row is positive. */
export function averagePrecision(positive: ArrayLike<boolean | number>, score: ArrayLike<number>, curve: BinaryCurve = binaryCurve(positive, score)): number {
  const { tps, fps } = curve;
  const p = tps[tps.length - 1] ?? 0;
  // No positive row: scikit-learn sets recall to 1 at every threshold, which makes the sum 0 (with a warning).
  if (p === 0) return 0;
  // Σ (R_k − R_{k−1}) · P_k over thresholds from the highest score down, R_{-1} = 0.
  let sum = 0;
  let prevRecall = 0;
  for (let k = 0; k < tps.length; k++) {
    const recall = tps[k]! / p;
    const precision = tps[k]! / (tps[k]! + fps[k]!);
    sum += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return sum;
}

/**
 * Mean log loss over rows of `probabilities` (row-major, `classes` wide) against true class
 * indices, clipped and renormalised as sklearn.
 */
export function logLoss(trueIndex: ArrayLike<number>, probabilities: ArrayLike<number>, classes: number, eps: number): number {
  const n = trueIndex.length;
  if (n === 0) return NaN;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let own = 0;
    for (let c = 0; c < classes; c++) {
      const v = Math.min(Math.max(probabilities[i * classes + c]!, eps), 1 - eps);
      sum += v;
      if (c === trueIndex[i]) own = v;
    }
    total += -Math.log(own / sum);
  }
  return total / n;
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
  support: number;
}

function perClass(matrix: number[][], c: number): Counts {
  const k = matrix.length;
  let predicted = 0;
  let actual = 0;
  for (let j = 0; j < k; j++) {
    predicted += matrix[j]![c]!;
    actual += matrix[c]![j]!;
  }
  const tp = matrix[c]![c]!;
  return { tp, fp: predicted - tp, fn: actual - tp, support: actual };
}

function divide(numerator: number, denominator: number, what: string, warnings: string[]): number {
  if (denominator === 0) {
    if (!warnings.includes(what)) warnings.push(what);
    return 0;
  }
  return numerator / denominator;
}

function confusion(trueIndex: ArrayLike<number>, predictedIndex: ArrayLike<number>, classes: number): number[][] {
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < trueIndex.length; i++) matrix[trueIndex[i]!]![predictedIndex[i]!]!++;
  return matrix;
}

/**
 * The row pass of the binary metrics: the confusion matrix at `threshold` and the summed log loss of
 * the rows [1 − p, p] (clipped and renormalised as logLoss does), fed a range of rows at a time in
 * order, as batches arrive. Fed every row, `binaryMetrics` given it makes the same numbers to the bit.
 *
 * The log loss multiplies the rows' probabilities of their true class and takes the logarithm of the
 * product when it nears the bottom of the double range (every ~1,000 rows): Σ −log pᵢ = −log Π pᵢ.
 * A product of k factors is off by at most k·2⁻⁵³ relative, so each row adds at most ~1.1e-16 to the
 * sum's error, absolute: less than adding one rounded logarithm per row does, at a fraction of its
 * cost.
 */
export class BinaryCounts {
  readonly matrix = [
    [0, 0],
    [0, 0],
  ];
  rows = 0;
  /** −log of the products taken so far, and the product of the rows since. */
  private logged = 0;
  private product = 1;
  private readonly cells = new Int32Array(4);
  private readonly pair = new Float64Array(2);

  constructor(
    readonly threshold: number,
    readonly eps: number,
  ) {}

  /**
   * Rows [from, to) of the class indices (0, 1) and P(class 1); `positives`, when given, gets each
   * row's flag. `negativeScore`, when the model gives it (a two-column output), is P(class 0) at the
   * same rows: the log loss then takes the pair as given, clipped and renormalised as scikit-learn's
   * `log_loss` takes an (n, 2) `predict_proba`, rather than 1 − P(class 1).
   */
  add(trueIndex: ArrayLike<number>, positiveScore: ArrayLike<number>, from: number, to: number, positives?: Uint8Array, negativeScore?: ArrayLike<number>): void {
    const { matrix, threshold, eps } = this;
    const high = 1 - eps;
    let logged = this.logged;
    let product = this.product;
    // The matrix's cells [true][predicted] at 2 × true + predicted, and the clipped pair of a row,
    // indexed rather than branched on: the class and the prediction are as good as random, and a
    // mispredicted branch per row cost more than the rest of the row's work.
    const cells = this.cells;
    const pair = this.pair;
    for (let i = from; i < to; i++) {
      const t = trueIndex[i]!;
      const p = positiveScore[i]!;
      const predicted = +(p > threshold);
      const v0 = Math.min(Math.max(negativeScore !== undefined ? negativeScore[i]! : 1 - p, eps), high);
      const v1 = Math.min(Math.max(p, eps), high);
      pair[0] = v0;
      pair[1] = v1;
      let own: number;
      if (t > 1) {
        matrix[t]![predicted]!++;
        own = 0;
      } else {
        cells[2 * t + predicted]!++;
        own = pair[t]! / (v0 + v1);
      }
      if (positives) positives[i] = t === 1 ? 1 : 0;
      if (own >= FACTOR_FLOOR) {
        product *= own;
        if (product < PRODUCT_FLOOR) {
          logged += -Math.log(product);
          product = 1;
        }
      } else logged += -Math.log(own); // tiny (an eps below 2⁻¹⁰⁰), 0 or NaN: on its own, so the product never underflows
    }
    matrix[0]![0]! += cells[0]!;
    matrix[0]![1]! += cells[1]!;
    matrix[1]![0]! += cells[2]!;
    matrix[1]![1]! += cells[3]!;
    cells.fill(0);
    this.logged = logged;
    this.product = product;
    this.rows += to - from;
  }

  /** The summed log loss of the rows so far. */
  loss(): number {
    return this.logged + -Math.log(this.product);
  }
}

/**
 * Binary metrics. `positiveScore` is P(class 1) per row; a row is predicted positive when its score
 * is above `threshold` (at 0.5, scikit-learn's `predict` for a probabilistic classifier). `counts`:
 * the row pass already made over every row (BinaryCounts), with the same threshold and eps.
 * `negativeScore`: P(class 0) per row when the model gives it (see BinaryCounts.add).
 */
export function binaryMetrics(trueIndex: ArrayLike<number>, positiveScore: ArrayLike<number>, threshold: number, eps: number, arrays?: CurveArrays, counts?: BinaryCounts, negativeScore?: ArrayLike<number>): ClassificationMetrics {
  const n = trueIndex.length;
  // Class indices 0 and 1 in a Uint8Array are the positive flags themselves.
  const given = trueIndex instanceof Uint8Array;
  const positives = given ? trueIndex : new Uint8Array(n);
  let pass = counts;
  if (!pass || pass.rows !== n || pass.threshold !== threshold || pass.eps !== eps || !given) {
    pass = new BinaryCounts(threshold, eps);
    pass.add(trueIndex, positiveScore, 0, n, given ? undefined : positives, negativeScore);
  }
  const { matrix } = pass;
  const loss = pass.loss();
  const warnings: string[] = [];
  const { tp, fp, fn } = perClass(matrix, 1);
  const curve = binaryCurve(positives, positiveScore, arrays);
  const metrics: Record<string, number> = {
    accuracy: (matrix[0]![0]! + matrix[1]![1]!) / n,
    precision: divide(tp, tp + fp, 'precision is ill-defined (no row was predicted positive) and set to 0', warnings),
    recall: divide(tp, tp + fn, 'recall is ill-defined (no row is positive) and set to 0', warnings),
    f1: divide(2 * tp, 2 * tp + fp + fn, 'f1 is ill-defined (no positive rows and no positive predictions) and set to 0', warnings),
    roc_auc: rocAuc(positives, positiveScore, curve),
    average_precision: averagePrecision(positives, positiveScore, curve),
    log_loss: n === 0 ? NaN : loss / n,
  };
  if (Number.isNaN(metrics.roc_auc)) warnings.push('roc_auc is undefined: only one class is present in the true values');
  if (tp + fn === 0) warnings.push('average_precision is ill-defined (no row is positive) and set to 0, as scikit-learn does');
  return { metrics, confusionMatrix: matrix, warnings };
}

/** Index of the largest probability per row; the first one on a tie (ArgMax, numpy.argmax). */
export function argmaxRows(probabilities: ArrayLike<number>, classes: number): Int32Array {
  const n = probabilities.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[i * classes + c]! > probabilities[i * classes + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * Multiclass metrics from class probabilities (row-major, `classes` wide); the predicted class is
 * the most probable one.
 */
export function multiclassMetrics(trueIndex: ArrayLike<number>, probabilities: ArrayLike<number>, classes: number, eps: number): ClassificationMetrics {
  const n = trueIndex.length;
  const predicted = argmaxRows(probabilities, classes);
  const matrix = confusion(trueIndex, predicted, classes);
  const warnings: string[] = [];
  const present: number[] = [];
  for (let c = 0; c < classes; c++) {
    const { tp, fp, fn } = perClass(matrix, c);
    if (tp + fp + fn > 0) present.push(c);
  }
  const sums = { precision: [0, 0], recall: [0, 0], f1: [0, 0] };
  for (const c of present) {
    const { tp, fp, fn, support } = perClass(matrix, c);
    const values = {
      precision: divide(tp, tp + fp, 'precision is ill-defined for a class no row was predicted as, and set to 0', warnings),
      recall: divide(tp, tp + fn, 'recall is ill-defined for a class with no true rows, and set to 0', warnings),
      f1: divide(2 * tp, 2 * tp + fp + fn, 'f1 is ill-defined for a class with no true or predicted rows, and set to 0', warnings),
    };
    for (const key of ['precision', 'recall', 'f1'] as const) {
      sums[key][0]! += values[key];
      sums[key][1]! += values[key] * support;
    }
  }
  let correct = 0;
  for (let c = 0; c < classes; c++) correct += matrix[c]![c]!;
  const metrics: Record<string, number> = { accuracy: correct / n };
  for (const key of ['precision', 'recall', 'f1'] as const) {
    metrics[`${key}_macro`] = sums[key][0]! / present.length;
    metrics[`${key}_weighted`] = sums[key][1]! / n;
  }
  metrics.log_loss = logLoss(trueIndex, probabilities, classes, eps);
  // scikit-learn refuses a one-vs-rest roc_auc over scores whose rows do not sum to 1 (np.allclose).
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += probabilities[i * classes + c]!;
    if (!(Math.abs(sum - 1) <= 1e-8 + 1e-5)) {
      metrics.roc_auc = NaN;
      warnings.push(`roc_auc is undefined: the scores of row ${i + 1} sum to ${sum}, not 1 (one-vs-rest roc_auc needs probabilities)`);
      return { metrics, confusionMatrix: matrix, warnings };
    }
  }
  let aucSum = 0;
  const column = new Float64Array(n);
  const positives = new Uint8Array(n);
  const arrays = new CurveArrays(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < n; i++) {
      column[i] = probabilities[i * classes + c]!;
      positives[i] = trueIndex[i] === c ? 1 : 0;
    }
    aucSum += rocAuc(positives, column, binaryCurve(positives, column, arrays));
  }
  metrics.roc_auc = aucSum / classes;
  if (Number.isNaN(metrics.roc_auc)) warnings.push('roc_auc is undefined: a class has no true rows (one-vs-rest needs each class present)');
  return { metrics, confusionMatrix: matrix, warnings };
}

/**
 * The sum of `n` values from `from`, added in numpy's order, so that sums, means and the metrics built
 * on them are the ones numpy and scikit-learn compute, to the bit: its add reduction takes the values
 * in buffers of 8192 (NPY_BUFSIZE), each summed by pairwise_sum (runs of at most 128 values with 8
 * accumulators, longer runs halved), into a running total.
 */
export function numpySum(a: Float64Array, from: number, n: number): number {
  let total = 0;
  for (let at = 0; at < n; at += NUMPY_BUFFER) total += pairwiseSum(a, from + at, Math.min(NUMPY_BUFFER, n - at));
  return total;
}

const NUMPY_BUFFER = 8192;

function pairwiseSum(a: Float64Array, from: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[from + i]!;
    return res;
  }
  if (n <= 128) {
    let r0 = a[from]!;
    let r1 = a[from + 1]!;
    let r2 = a[from + 2]!;
    let r3 = a[from + 3]!;
    let r4 = a[from + 4]!;
    let r5 = a[from + 5]!;
    let r6 = a[from + 6]!;
    let r7 = a[from + 7]!;
    let i = 8;
    for (const end = n - (n % 8); i < end; i += 8) {
      const at = from + i;
      r0 += a[at]!;
      r1 += a[at + 1]!;
      r2 += a[at + 2]!;
      r3 += a[at + 3]!;
      r4 += a[at + 4]!;
      r5 += a[at + 5]!;
      r6 += a[at + 6]!;
      r7 += a[at + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[from + i]!;
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(a, from, half) + pairwiseSum(a, from + half, n - half);
}

/**
 * scikit-learn's regression metrics (mean_absolute_error, mean_squared_error and its root, r2_score,
 * mean_absolute_percentage_error), each sum in numpy's order (numpySum). r2 of a constant target
 * is scikit-learn's finite stand-in, 1 for a perfect fit and else 0: decided by the values being
 * equal, not by the spread its sums give (a mean of three equal values can miss by an ulp, and
 * scikit-learn then reports about −5e31); of fewer than two rows it is NaN, as there.
 */
export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): { metrics: Record<string, number>; warnings: string[] } {
  const n = actual.length;
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) terms[i] = actual[i]!;
  const mean = numpySum(terms, 0, n) / n;
  let constant = true;
  const first = actual[0];
  for (let i = 0; i < n; i++) {
    const d = actual[i]! - mean;
    terms[i] = d * d;
    if (actual[i] !== first) constant = false;
  }
  const total = numpySum(terms, 0, n);
  for (let i = 0; i < n; i++) {
    const e = actual[i]! - predicted[i]!;
    terms[i] = e * e;
  }
  const sqSum = numpySum(terms, 0, n);
  for (let i = 0; i < n; i++) terms[i] = Math.abs(predicted[i]! - actual[i]!);
  const absSum = numpySum(terms, 0, n);
  for (let i = 0; i < n; i++) terms[i] = Math.abs(predicted[i]! - actual[i]!) / Math.max(Math.abs(actual[i]!), FLOAT64_EPS);
  const pctSum = numpySum(terms, 0, n);
  const mse = sqSum / n;
  const warnings: string[] = [];
  let r2: number;
  if (n < 2) {
    r2 = NaN;
    warnings.push('r2 is not well-defined with fewer than two rows');
  } else if (constant || total === 0) {
    r2 = sqSum === 0 ? 1 : 0;
    warnings.push('r2 is undefined for a constant target: reported as 1 for a perfect fit, else 0 (scikit-learn\'s stand-ins; its own sums can give a huge negative number instead)');
  } else r2 = 1 - sqSum / total;
  return { metrics: { mae: absSum / n, mse, rmse: Math.sqrt(mse), r2, mape: pctSum / n }, warnings };
}
