/** `runwise push [RUN...|--experiment E|--all] --to NAME`: local runs to a remote MLflow Tracking Server. */
import { flag, optionValue, optionValues, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import type { CommandContext } from '../context';
import { formatBytes } from '../../views/displayFormat';
import { getRemote } from '../../sync/remoteConfig';
import { pushRuns } from '../../sync/pushRuns';
import { asCliError, withProgressAndInterrupt } from './remote';

export const pushOptions: OptionSpecs = { to: { value: true }, experiment: { value: true, repeat: true }, all: {}, jobs: { value: true, short: 'j' } };

export async function push(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  const to = optionValue(args, 'to');
  if (!to) throw new UsageError('name the remote with --to NAME');
  const experiments = optionValues(args, 'experiment');
  const all = flag(args, 'all');
  if (args.positionals.length === 0 && experiments.length === 0 && !all) throw new UsageError('name the runs to push: RUN..., --experiment E or --all');
  if (all && (args.positionals.length > 0 || experiments.length > 0)) throw new UsageError('--all pushes every run: give it alone, or name RUN... or --experiment E instead');
  const jobs = optionValue(args, 'jobs');
  if (jobs !== undefined && (!/^\d+$/.test(jobs) || Number(jobs) < 1 || Number(jobs) > 32)) throw new UsageError(`--jobs takes a whole number from 1 to 32, not '${jobs}'`);
  let remote;
  try {
    remote = getRemote(ctx.workspace, to);
  } catch (e) {
    throw asCliError(e);
  }
  const tracker = ctx.openTracker();
  const summary = await withProgressAndInterrupt((signal, onEvent) =>
    pushRuns(tracker, remote, { runs: args.positionals, experiments, all }, { client: { signal, ...(jobs ? { concurrency: Number(jobs) } : {}) }, onEvent }),
  );
  if (ctx.json) {
    ctx.printJson({ remote: remote.name, ...summary });
    return;
  }
  ctx.io.out(
    `pushed ${summary.runs} run(s) to '${remote.name}': ${summary.created} created, ${summary.updated} updated, ${summary.upToDate} up to date; ` +
      `${summary.points} metric points, ${summary.params} params, ${summary.tags} tags, ${summary.inputs} inputs, ${summary.artifacts} artifacts (${formatBytes(summary.artifactBytes)}), ` +
      `${summary.modelVersions} model version(s); ${summary.requests} requests, ${formatBytes(summary.bytesSent)} sent\n`,
  );
  for (const s of summary.skipped) ctx.io.out(`skipped ${s.runId}: ${s.reason}\n`);
}
