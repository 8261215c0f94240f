/**
 * The drift report: the shape `runwise drift --json` prints, the report view and the HTML page
 * render, and the tracker stores as an artifact. Pure data (no Node, no editor API), so browser code
 * may import it.
 *
 * `score` is the p-value for a hypothesis test (`ks`, `chisquare`, `z`, `mannwhitney`: drift when
 * score < threshold) and the distance for a distance (every other test: drift when score ≥
 * threshold). Columns that are not checked (datetime, free text, all missing) carry `test: null`,
 * `score: null`, `drifted: false` and the reason in `skipped`.
 */

export type DriftTestName =
  | 'ks'
  | 'wasserstein'
  | 'chisquare'
  | 'z'
  | 'jensenshannon'
  | 'psi'
  | 'kl_div'
  | 'hellinger'
  | 'tvd'
  | 'energy'
  | 'mannwhitney';

export const DRIFT_TEST_NAMES: readonly DriftTestName[] = ['ks', 'wasserstein', 'chisquare', 'z', 'jensenshannon', 'psi', 'kl_div', 'hellinger', 'tvd', 'energy', 'mannwhitney'];

/** Tests whose score is a p-value: drift when the p-value is below the threshold. */
export const P_VALUE_TESTS: readonly DriftTestName[] = ['ks', 'chisquare', 'z', 'mannwhitney'];

export const DEFAULT_THRESHOLDS: Readonly<Record<DriftTestName, number>> = {
  ks: 0.05,
  wasserstein: 0.1,
  chisquare: 0.05,
  z: 0.05,
  jensenshannon: 0.1,
  psi: 0.1,
  kl_div: 0.1,
  hellinger: 0.1,
  tvd: 0.1,
  energy: 0.1,
  mannwhitney: 0.05,
};

export type DriftColumnType = 'numerical' | 'categorical' | 'binary' | 'datetime' | 'text';

/** A histogram on a range shared by both sides (numerical) or on the union of values (categorical). */
export type DriftHistogram =
  | {
      kind: 'numeric';
      /** Bin edges, `counts.length + 1` of them, the same for reference and current. */
      edges: number[];
      counts: number[];
    }
  | {
      kind: 'categorical';
      /** Category labels, the same list and order for reference and current. */
      labels: string[];
      counts: number[];
    };

export interface DriftSideSummary {
  /** Rows read (after sampling when `sample` is set). */
  count: number;
  /** Missing cells (empty, NA, null, NaN) among those rows; they take no part in the test. */
  missing: number;
  /** Distinct non-missing values. */
  distinct: number;
  /** Numerical columns only. */
  mean?: number;
  std?: number;
  min?: number;
  p25?: number;
  median?: number;
  p75?: number;
  max?: number;
  /** Categorical and binary columns: the most frequent value. */
  top?: string;
  histogram?: DriftHistogram;
}

export interface DriftColumn {
  name: string;
  type: DriftColumnType;
  test: DriftTestName | null;
  score: number | null;
  threshold: number | null;
  drifted: boolean;
  /** Why a column was not checked (datetime, free text, all missing on one side). */
  skipped?: string;
  reference: DriftSideSummary;
  current: DriftSideSummary;
}

export interface DriftReport {
  dataset_drift: boolean;
  /** The share of drifted columns among the checked ones (0 when none were checked). */
  drift_share: number;
  n_drifted: number;
  /** Columns checked (those with a test). */
  n_columns: number;
  columns: DriftColumn[];
  /** The threshold on `drift_share` for `dataset_drift` (default 0.5). */
  drift_share_threshold?: number;
  reference_file?: string;
  current_file?: string;
  /** Each file's sha256 (hex), as read. */
  reference_sha256?: string;
  current_sha256?: string;
  /** Each file's md5 (hex), from the same read, when asked for (DriftOptions.md5: a run's dataset inputs). */
  reference_md5?: string;
  current_md5?: string;
  /** Rows in each file and rows the tests used: equal unless `--sample N` sampled. */
  rows?: { reference: { read: number; used: number }; current: { read: number; used: number } };
  /** True when a file has columns with no name (the row index pandas' to_csv and R's write.csv write, a spreadsheet's empty columns), left out. */
  index_left_out?: boolean;
  /** Present only when `--sample N` was given: N, the rows in each file, and the seed. */
  sample?: { rows: number; reference_rows: number; current_rows: number; seed: number };
}

/** Whether a test's score is a p-value. */
export function isPValueTest(test: DriftTestName): boolean {
  return P_VALUE_TESTS.includes(test);
}

/**
 * How far a column is past its threshold, comparable between p-values and distances: positive when
 * drifted, negative when not. For a p-value, log10(threshold / p); for a distance, log10(score /
 * threshold). Null for an unchecked column. Used to order the table, drifted first.
 */
export function driftMargin(column: Pick<DriftColumn, 'test' | 'score' | 'threshold'>): number | null {
  if (column.test === null || column.score === null || column.threshold === null) return null;
  const tiny = 1e-300;
  const score = Math.max(column.score, tiny);
  const threshold = Math.max(column.threshold, tiny);
  return isPValueTest(column.test) ? Math.log10(threshold / score) : Math.log10(score / threshold);
}

/** Columns ordered for display: drifted first, then by margin (largest first), unchecked last. */
export function orderByMargin<T extends Pick<DriftColumn, 'test' | 'score' | 'threshold' | 'drifted' | 'name'>>(columns: readonly T[]): T[] {
  return [...columns].sort((a, b) => {
    if (a.drifted !== b.drifted) return a.drifted ? -1 : 1;
    const ma = driftMargin(a);
    const mb = driftMargin(b);
    if (ma === null || mb === null) return ma === null ? (mb === null ? a.name.localeCompare(b.name) : 1) : -1;
    return mb - ma || a.name.localeCompare(b.name);
  });
}
