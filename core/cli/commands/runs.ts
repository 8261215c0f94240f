/** `runwise runs …`: list, show, compare, rename, note, tag, delete. */
import { flag, intOption, optionValue, optionValues, positionals, type OptionSpecs, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { oneLine, renderTable } from '../table';
import { compareRuns } from '../../tracker/runComparison';
import { runRecord } from '../../tracker/runExport';
import { NOTE_TAG, type ArtifactListEntry, type Run, type RunInfo, type RunSearch } from '../../tracker/model';
import type { Tracker } from '../../tracker/tracker';
import { formatBytes, formatDuration, formatMetricCompact, formatMetricValue, formatTimestamp } from '../../views/displayFormat';
import { loggedModelFlavorsText, loggedModelStatusText, type LoggedModelSummary } from '../../views/loggedModelSummary';
import { loggedModelsOfRun } from '../../views/runLoggedModels';

export const runsListOptions: OptionSpecs = {
  filter: { value: true },
  'order-by': { value: true, repeat: true, continuedBy: /^(asc|desc)$/i },
  experiment: { value: true, repeat: true },
  'max-results': { value: true },
  all: {},
};

/** Experiment names or ids from `--experiment` as ids; undefined (every experiment) when none is given. */
export function experimentIds(tracker: Tracker, refs: readonly string[]): string[] | undefined {
  if (refs.length === 0) return undefined;
  return refs.map((ref) => {
    const byName = tracker.getExperimentByName(ref);
    if (byName) return byName.experimentId;
    if (!/^\d+$/.test(ref)) throw new CliError(`No experiment is named '${ref}' (give an experiment's name or id)`);
    return tracker.getExperiment(ref).experimentId;
  });
}

export function runSearchFromArgs(tracker: Tracker, args: ParsedArgs): RunSearch {
  const ids = experimentIds(tracker, optionValues(args, 'experiment'));
  const search: RunSearch = {
    ...(ids ? { experimentIds: ids } : {}),
    orderBy: optionValues(args, 'order-by'),
    maxResults: intOption(args, 'max-results', 1, 50_000) ?? 1000,
    viewType: flag(args, 'all') ? 'ALL' : 'ACTIVE_ONLY',
  };
  const filter = optionValue(args, 'filter');
  if (filter !== undefined) search.filter = filter;
  return search;
}

/** The keys worth a column: present in the most runs, then alphabetical. */
function commonKeys(lists: string[][], limit: number): string[] {
  const counts = new Map<string, number>();
  for (const keys of lists) for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([k]) => k);
}

export function runsList(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  if (!ctx.hasTracker()) {
    if (ctx.json) ctx.printJson([]);
    else ctx.io.out(`No runs yet: ${ctx.workspace} has no tracker. Runs appear here once a script logs through \`runwise serve\` or a pipeline runs.\n`);
    return;
  }
  const tracker = ctx.openTracker();
  const page = tracker.searchRuns(runSearchFromArgs(tracker, args));
  if (ctx.json) {
    ctx.printJson(page.items.map(runRecord));
    return;
  }
  if (page.items.length === 0) {
    ctx.io.out(optionValue(args, 'filter') ? 'No runs match the filter.\n' : 'No runs yet.\n');
    return;
  }
  const metricKeys = commonKeys(page.items.map((r) => r.metrics.map((m) => m.key)), 4);
  const comparison = compareRuns(page.items);
  const paramKeys = comparison.params.filter((p) => p.differs).slice(0, 3).map((p) => p.key);
  const header = ['RUN ID', 'NAME', 'STATUS', 'STARTED', 'DURATION', ...metricKeys, ...paramKeys];
  const rows = page.items.map((r) => {
    const metrics = new Map(r.metrics.map((m) => [m.key, m.value]));
    const params = new Map(r.params.map((p) => [p.key, p.value]));
    return [
      r.info.runId.slice(0, 8),
      r.info.runName,
      r.info.status,
      formatTimestamp(r.info.startTime),
      r.info.endTime === null ? '' : formatDuration(r.info.endTime - r.info.startTime),
      ...metricKeys.map((k) => (metrics.has(k) ? formatMetricCompact(metrics.get(k)!) : '')),
      ...paramKeys.map((k) => params.get(k) ?? ''),
    ];
  });
  const numeric = new Set(metricKeys.map((_, i) => 5 + i));
  ctx.io.out(`${renderTable(header, rows, { rightAligned: numeric })}\n`);
  const more = page.nextPageToken ? ' (more match: raise --max-results or narrow --filter)' : '';
  ctx.io.out(`${page.items.length} run${page.items.length === 1 ? '' : 's'}${more}\n`);
}

export function runsShow(ctx: CommandContext, args: ParsedArgs): void {
  const [ref] = positionals(args, ['run']);
  const tracker = ctx.openTracker();
  const run = tracker.getRun(tracker.resolveRunId(ref!));
  const artifacts = tracker.listArtifacts(run.info.runId);
  const models = loggedModelsOfRun(tracker, run);
  if (ctx.json) {
    const loggedModels = models.map((m) => ({ model_id: m.modelId, name: m.name, ...(m.flavors ? { flavors: m.flavors } : {}), status: m.status, artifacts: m.artifacts }));
    ctx.printJson({ ...runRecord(run), inputs: run.inputs, artifacts, logged_models: loggedModels });
    return;
  }
  ctx.io.out(describeRun(run, artifacts, models));
}

/** An artifact listing entry for people: `dir/`, `file (2.9 KiB)`. */
function artifactText(a: ArtifactListEntry): string {
  return a.isDir ? `${a.path}/` : a.fileSize === undefined ? a.path : `${a.path} (${formatBytes(a.fileSize)})`;
}

function endedText(i: RunInfo): string {
  return i.endTime === null ? '-' : `${formatTimestamp(i.endTime)} (${formatDuration(i.endTime - i.startTime)})`;
}

function describeRun(run: Run, artifacts: ArtifactListEntry[], models: LoggedModelSummary[]): string {
  const i = run.info;
  const note = run.tags.find((t) => t.key === NOTE_TAG)?.value;
  const lines = [
    `Run ${oneLine(i.runName)} (${i.runId})`,
    `  status      ${i.status}`,
    `  experiment  ${i.experimentId}`,
    `  started     ${formatTimestamp(i.startTime)}`,
    `  ended       ${endedText(i)}`,
  ];
  if (i.parentRunId) lines.push(`  parent      ${i.parentRunId}`);
  if (i.lifecycleStage === 'deleted') lines.push('  deleted     yes');
  if (note) lines.push(`  note        ${oneLine(note)}`);
  const section = (title: string, header: string[], rows: string[][]) => {
    lines.push('', title);
    lines.push(rows.length ? renderTable(header, rows, { maxCell: 80 }).replace(/^/gm, '  ') : '  (none)');
  };
  section('Params', ['KEY', 'VALUE'], run.params.map((p) => [p.key, p.value]));
  section('Metrics (latest)', ['KEY', 'VALUE', 'STEP'], run.metrics.map((m) => [m.key, formatMetricValue(m.value), String(m.step)]));
  section('Tags', ['KEY', 'VALUE'], run.tags.filter((t) => t.key !== NOTE_TAG).map((t) => [t.key, t.value]));
  if (run.inputs.length) section('Inputs', ['NAME', 'DIGEST', 'SOURCE'], run.inputs.map((d) => [d.dataset.name, d.dataset.digest, d.dataset.source]));
  if (artifacts.length) section('Artifacts', ['PATH'], artifacts.map((a) => [artifactText(a)]));
  for (const m of models) {
    lines.push('', `Logged model ${oneLine(m.name)} (${m.modelId})`);
    lines.push(`  flavors     ${loggedModelFlavorsText(m)}`, `  status      ${loggedModelStatusText(m.status)}`);
    lines.push(m.artifacts.length ? m.artifacts.map((a) => `  ${artifactText(a)}`).join('\n') : '  (no files)');
  }
  return `${lines.join('\n')}\n`;
}

export function runsCompare(ctx: CommandContext, args: ParsedArgs): void {
  const refs = positionals(args, ['run', 'run'], 'runs');
  const tracker = ctx.openTracker();
  const runs = refs.map((ref) => tracker.getRun(tracker.resolveRunId(ref)));
  const cmp = compareRuns(runs);
  if (ctx.json) {
    ctx.printJson(cmp);
    return;
  }
  const header = ['', ...cmp.runs.map((r) => `${r.runName} (${r.runId.slice(0, 8)})`)];
  const show = (v: string | number | null) => (v === null ? '-' : typeof v === 'number' ? formatMetricValue(v) : v);
  const block = (title: string, rows: typeof cmp.params) => {
    if (rows.length === 0) return `${title}: none\n`;
    const body = rows.map((r) => [`${r.differs ? '* ' : '  '}${r.key}`, ...r.values.map(show)]);
    return `${title}\n${renderTable(header, body, { rightAligned: new Set(cmp.runs.map((_, i) => i + 1)) })}\n`;
  };
  ctx.io.out(`${block('Params', cmp.params)}\n${block('Metrics (latest)', cmp.metrics)}\n* differs between the runs\n`);
}

export function runsRename(ctx: CommandContext, args: ParsedArgs): void {
  const [ref, name] = positionals(args, ['run', 'name']);
  const tracker = ctx.openTracker();
  const info = tracker.renameRun(tracker.resolveRunId(ref!), name!);
  if (ctx.json) ctx.printJson({ run_id: info.runId, run_name: info.runName });
  else ctx.io.out(`Renamed run ${info.runId.slice(0, 8)} to '${info.runName}'\n`);
}

export function runsNote(ctx: CommandContext, args: ParsedArgs): void {
  const [ref, text] = positionals(args, ['run', 'text']);
  const tracker = ctx.openTracker();
  const id = tracker.resolveRunId(ref!);
  tracker.setNote(id, text!);
  if (ctx.json) ctx.printJson({ run_id: id, note: text });
  else ctx.io.out(text === '' ? `Removed the note of run ${id.slice(0, 8)}\n` : `Noted run ${id.slice(0, 8)}\n`);
}

export const runsTagOptions: OptionSpecs = { delete: {} };

export function runsTag(ctx: CommandContext, args: ParsedArgs): void {
  const tracker = ctx.openTracker();
  if (flag(args, 'delete')) {
    const [ref, key] = positionals(args, ['run', 'key']);
    const id = tracker.resolveRunId(ref!);
    tracker.deleteTag(id, key!);
    if (ctx.json) ctx.printJson({ run_id: id, deleted: key });
    else ctx.io.out(`Removed tag '${key}' from run ${id.slice(0, 8)}\n`);
    return;
  }
  const [ref, key, value] = positionals(args, ['run', 'key', 'value']);
  const id = tracker.resolveRunId(ref!);
  tracker.setTag(id, { key: key!, value: value! });
  if (ctx.json) ctx.printJson({ run_id: id, key, value });
  else ctx.io.out(`Tagged run ${id.slice(0, 8)}: ${key} = ${value}\n`);
}

export function runsDelete(ctx: CommandContext, args: ParsedArgs): void {
  const refs = positionals(args, ['run'], 'runs');
  const tracker = ctx.openTracker();
  const ids = refs.map((r) => tracker.resolveRunId(r));
  for (const id of ids) tracker.deleteRun(id);
  if (ctx.json) ctx.printJson({ deleted: ids });
  else ctx.io.out(`Deleted ${ids.length} run${ids.length === 1 ? '' : 's'} (hidden from lists; \`runs list --all\` shows them)\n`);
}
