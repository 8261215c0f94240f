/** `runwise export --format csv|json`: runs with params, latest metrics and tags, for other tools. */
import { writeFileSync } from 'node:fs';
import { optionValue, positionals, type OptionSpecs, type ParsedArgs } from '../args';
import { UsageError } from '../args';
import { CliError, type CommandContext } from '../context';
import { runRecord, runsToCsv } from '../../tracker/runExport';
import type { Run } from '../../tracker/model';
import { runSearchFromArgs, runsListOptions } from './runs';

export const exportOptions: OptionSpecs = { ...runsListOptions, format: { value: true }, output: { value: true, short: 'o' } };

export function exportRuns(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  const given = optionValue(args, 'format');
  const format = given ?? (ctx.json ? 'json' : undefined);
  if (format !== 'csv' && format !== 'json') throw new UsageError(given === undefined ? 'export needs --format csv or --format json' : `--format takes csv or json, not '${given}'`);
  if (ctx.json && format === 'csv') throw new UsageError('--json asks for JSON and --format csv for CSV: give one');
  let runs: Run[] = [];
  if (ctx.hasTracker()) {
    const tracker = ctx.openTracker();
    const search = runSearchFromArgs(tracker, args);
    if (optionValue(args, 'max-results') === undefined) search.maxResults = 50_000;
    let token: string | undefined;
    do {
      const page = tracker.searchRuns(token ? { ...search, pageToken: token } : search);
      runs = runs.concat(page.items);
      token = page.nextPageToken;
    } while (token && optionValue(args, 'max-results') === undefined);
  }
  const text = format === 'csv' ? runsToCsv(runs) : `${JSON.stringify(runs.map(runRecord), null, 2)}\n`;
  const output = optionValue(args, 'output');
  if (output) {
    try {
      writeFileSync(output, text);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' || code === 'EPERM' ? 'it may not be written' : (e as Error).message;
      throw new CliError(`cannot write ${output}: ${why}; nothing was exported`);
    }
    ctx.io.err(`Wrote ${runs.length} run${runs.length === 1 ? '' : 's'} to ${output}\n`);
  } else (ctx.io.data ?? ctx.io.out)(text);
}
