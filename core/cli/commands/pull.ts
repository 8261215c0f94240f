/** `runwise pull --from NAME [--experiment E] [--filter EXPR] [--artifacts]`: remote runs (and their artifacts) into the local tracker. */
import { flag, optionValue, positionals, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import type { CommandContext } from '../context';
import { getRemote } from '../../sync/remoteConfig';
import { pullRuns } from '../../sync/pullRuns';
import { asCliError, withProgressAndInterrupt } from './remote';

export const pullOptions: OptionSpecs = { from: { value: true }, experiment: { value: true }, filter: { value: true }, artifacts: {} };

export async function pull(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  positionals(args, []);
  const from = optionValue(args, 'from');
  if (!from) throw new UsageError('name the remote with --from NAME');
  let remote;
  try {
    remote = getRemote(ctx.workspace, from);
  } catch (e) {
    throw asCliError(e);
  }
  const tracker = ctx.openTracker(true);
  const experiment = optionValue(args, 'experiment');
  const filter = optionValue(args, 'filter');
  const artifacts = flag(args, 'artifacts');
  const summary = await withProgressAndInterrupt((signal, onEvent) =>
    pullRuns(tracker, remote, { ...(experiment !== undefined ? { experiment } : {}), ...(filter !== undefined ? { filter } : {}) }, { client: { signal }, onEvent, artifacts }),
  );
  if (ctx.json) {
    ctx.printJson({ remote: remote.name, ...summary });
    return;
  }
  ctx.io.out(
    `pulled ${summary.runs} run(s) from '${remote.name}': ${summary.created} new, ${summary.updated} updated, ${summary.upToDate} up to date; ${summary.points} metric points${artifacts ? `, ${summary.artifacts} artifact file(s) (${summary.artifactBytes} bytes)` : ''}, ${summary.requests} requests\n`,
  );
  for (const s of summary.skipped) ctx.io.out(`skipped ${s.runId}: ${s.reason}\n`);
}
