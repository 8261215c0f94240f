/**
 * One run's series as the Compare Runs chart gets it: the buckets of `metricSeries` in typed arrays
 * (what a canvas chart reads, and what a webview message carries as bytes rather than as numbers one
 * by one). A gap (a NaN or infinite value) is NaN. Pure data: the host's query
 * (core/views/metricSeries.ts) makes it and the webview's `series` message carries it.
 */
export interface SeriesColumns {
  runId: string;
  step: Float64Array;
  timestamp: Float64Array;
  last: Float64Array;
  /**
   * Each bucket's min and max (the chart's band behind the line): only when the query asked for
   * them (`minMax`), absent otherwise.
   */
  min?: Float64Array;
  max?: Float64Array;
  /** Points in the whole series. */
  totalPoints: number;
  stepRange: [number, number] | null;
}
