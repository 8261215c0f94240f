/** `runwise metrics history RUN KEY`: a metric's history, downsampled for reading. */
import { intOption, positionals, type OptionSpecs, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { formatMetricValue } from '../../views/displayFormat';
import { renderTable } from '../table';

export const metricsHistoryOptions: OptionSpecs = { 'max-points': { value: true } };

export function metricsHistory(ctx: CommandContext, args: ParsedArgs): void {
  const [ref, key] = positionals(args, ['run', 'key']);
  const maxPoints = intOption(args, 'max-points', 1, 100_000) ?? 50;
  const tracker = ctx.openTracker();
  const runId = tracker.resolveRunId(ref!);
  const buckets = tracker.getMetricBuckets(runId, key!, maxPoints);
  if (ctx.json) {
    ctx.printJson({ run_id: runId, key, buckets });
    return;
  }
  if (buckets.length === 0) {
    const known = tracker.metricKeys(runId);
    throw new CliError(`run ${runId.slice(0, 8)} has no metric '${key}'${known.length ? ` (it has: ${known.join(', ')})` : ' (it has no metrics)'}`);
  }
  const rows = buckets.map((b) => [String(b.step), formatMetricValue(b.last), formatMetricValue(b.min), formatMetricValue(b.max), String(b.count)]);
  ctx.io.out(`${renderTable(['STEP', 'LAST', 'MIN', 'MAX', 'POINTS'], rows, { rightAligned: new Set([0, 1, 2, 3, 4]) })}\n`);
  const total = buckets.reduce((s, b) => s + b.count, 0);
  ctx.io.out(`${total} points in ${buckets.length} bucket${buckets.length === 1 ? '' : 's'}\n`);
}
