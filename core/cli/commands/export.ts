/** `runwise export --format csv|json`: runs with params, latest metrics and tags, for other tools. */
import { writeFileSync } from 'node:fs';
import { optionValue, positionals, type OptionSpecs, type ParsedArgs } from '../args';
import { UsageError } from '../args';
import type { CommandContext } from '../context';
import { runRecord, runsToCsv } from '../../tracker/runExport';
import type { Run } from '../../tracker/model';
import { runSearchFromArgs, runsListOptions } from './runs';

export const exportOptions: OptionSpecs = { ...runsListOptions, format: { value: true }, output: { value: true, short: 'o' } };

export function exportRuns(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  const format = optionValue(args, 'format') ?? (ctx.json ? 'json' : undefined);
  if (format !== 'csv' && format !== 'json') throw new UsageError("export needs --format csv or --format json");
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
    writeFileSync(output, text);
    ctx.io.err(`Wrote ${runs.length} run${runs.length === 1 ? '' : 's'} to ${output}\n`);
  } else ctx.io.out(text);
}
