/** `runwise gc [--delete]`: the artifact store's unreferenced blobs and stale temporary files. */
import { flag, positionals, type OptionSpecs, type ParsedArgs } from '../args';
import type { CommandContext } from '../context';
import { collectArtifactGarbage } from '../../tracker/artifactGc';
import { formatBytes } from '../../views/displayFormat';

export const gcOptions: OptionSpecs = { delete: {} };

export function gc(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  const tracker = ctx.openTracker();
  const report = collectArtifactGarbage(tracker.db, tracker.artifacts, { delete: flag(args, 'delete') });
  if (ctx.json) {
    ctx.printJson({
      deleted: report.deleted,
      grace_seconds: report.graceMs / 1000,
      unreferenced_blobs: report.blobs,
      stale_tmp_files: report.tmp,
    });
    return;
  }
  const hours = report.graceMs / 3_600_000;
  const line = (what: string, t: { count: number; bytes: number }) => `${t.count} ${what} (${formatBytes(t.bytes)})`;
  ctx.io.out(
    `${report.deleted ? 'removed' : 'found'} ${line('unreferenced blob(s)', report.blobs)} and ${line('stale temporary file(s)', report.tmp)}, ` +
      `older than ${hours} hour${hours === 1 ? '' : 's'}\n`,
  );
  if (!report.deleted && report.blobs.count + report.tmp.count > 0) ctx.io.out('dry run: run `runwise gc --delete` to remove them\n');
}
