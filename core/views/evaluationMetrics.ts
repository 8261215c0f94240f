/**
 * The order evaluation metrics are shown in, wherever a few are picked from many (the Models view's
 * rows, the CLI's lineage, the editor's messages): the key metrics first, then the rest by name, the
 * run's statistics (rows, latency) last.
 */

/** Metrics shown first, in this order, when an evaluation has them. */
export const KEY_METRICS = ['accuracy', 'roc_auc', 'f1', 'f1_macro', 'log_loss', 'r2', 'rmse', 'mae'];

/** Whether a metric is a statistic of the run (rows, throughput, latency), not of the model's fit. */
export function isRunStatistic(key: string): boolean {
  return key === 'rows' || key === 'rows_per_second' || key.startsWith('latency_');
}

/**
 * The user's metrics first (`preferred`, in its order: the `runwise.runs.keyMetrics` setting), then
 * the key metrics (in KEY_METRICS' order), then the rest; run statistics (rows, latency) last.
 */
export function orderedMetrics<M extends { key: string }>(metrics: readonly M[], preferred: readonly string[] = []): M[] {
  const rank = (k: string) => {
    const p = preferred.indexOf(k);
    if (p >= 0) return p - preferred.length - KEY_METRICS.length;
    const i = KEY_METRICS.indexOf(k);
    if (i >= 0) return i;
    return isRunStatistic(k) ? 1000 : 100;
  };
  return [...metrics].sort((a, b) => rank(a.key) - rank(b.key) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
