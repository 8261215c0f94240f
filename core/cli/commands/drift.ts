/**
 * `runwise drift REF CUR [--json] [--html OUT] [--test [COLUMN=]NAME]... [--threshold [COLUMN=]X]...
 * [--columns a,b] [--exclude a,b] [--drift-share X] [--sample N] [--seed S] [--fail-on-drift] [--log]`:
 * does CUR drift from REF? --json prints the DriftReport (core/drift/driftReport.ts); otherwise a
 * verdict line, which rows were used, and a table of the columns, drifted first by how far past
 * their threshold they are. Exit 0 whether or not the data drifts, unless --fail-on-drift (then 1
 * on dataset drift). --log records the report as a tracker run (created when the workspace has
 * none). Loaded on use: the drift engine stays out of other commands' start-up.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { flag, intOption, optionValue, optionValues, positionals, UsageError, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { renderTable } from '../table';
import { DatasetError } from '../../dataset/dataset';
import { computeDrift, type DriftOptions } from '../../drift/driftEngine';
import { DRIFT_TEST_NAMES, driftMargin, orderByMargin, type DriftReport, type DriftTestName } from '../../drift/driftReport';
import { writeDriftHtml } from '../../drift/driftHtml';
import { logDriftRun } from '../../drift/driftTracking';
import { batchPattern, chokidarBatchEvents, DEFAULT_BATCH_PATTERN, watchDrift, type DriftBatchResult } from '../../drift/driftWatch';

function testName(text: string, option: string): DriftTestName {
  if (!(DRIFT_TEST_NAMES as readonly string[]).includes(text)) throw new UsageError(`${option}: unknown test '${text}' (expected one of ${DRIFT_TEST_NAMES.join(', ')})`);
  return text as DriftTestName;
}

function nonNegative(text: string, option: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`${option} needs a number of 0 or more, not '${text}'`);
  return v;
}

function nameList(text: string | undefined): string[] | undefined {
  const names = text
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  return names && names.length > 0 ? names : undefined;
}

/**
 * `--test NAME` for every column, `--test COLUMN=NAME` for one (the last `=` splits, so a column
 * name may hold `=`); the same for `--threshold`.
 */
function perColumn<T>(values: readonly string[], option: string, parse: (text: string, option: string) => T): { all?: T; byColumn: Record<string, T> } {
  const byColumn: Record<string, T> = {};
  let all: T | undefined;
  for (const v of values) {
    const eq = v.lastIndexOf('=');
    if (eq === -1) {
      if (all !== undefined) throw new UsageError(`${option} for every column given more than once`);
      all = parse(v, option);
    } else {
      const column = v.slice(0, eq);
      if (!column) throw new UsageError(`${option} '${v}': no column before '='`);
      byColumn[column] = parse(v.slice(eq + 1), `${option} ${column}`);
    }
  }
  return { ...(all !== undefined ? { all } : {}), byColumn };
}

/** The comparison options `drift` and `drift watch` share (--test, --threshold, --columns, --exclude, --drift-share, --sample, --seed). */
function driftOptions(args: ParsedArgs): { options: DriftOptions; perColumn: string[] } {
  const tests = perColumn(optionValues(args, 'test'), '--test', testName);
  const thresholds = perColumn(optionValues(args, 'threshold'), '--threshold', nonNegative);
  const shareText = optionValue(args, 'drift-share');
  const driftShare = shareText === undefined ? undefined : nonNegative(shareText, '--drift-share');
  if (driftShare !== undefined && driftShare > 1) throw new UsageError(`--drift-share is a share of columns, from 0 to 1 (got '${shareText}')`);
  const sample = intOption(args, 'sample', 1, 1_000_000_000);
  const seed = intOption(args, 'seed', 0, 2 ** 32 - 1);
  if (seed !== undefined && sample === undefined) throw new UsageError('--seed goes with --sample N');
  const columns = nameList(optionValue(args, 'columns'));
  const exclude = nameList(optionValue(args, 'exclude'));
  const options: DriftOptions = {
    ...(tests.all ? { test: tests.all } : {}),
    ...(thresholds.all !== undefined ? { threshold: thresholds.all } : {}),
    columnTests: tests.byColumn,
    columnThresholds: thresholds.byColumn,
    ...(columns ? { columns } : {}),
    ...(exclude ? { exclude } : {}),
    ...(driftShare !== undefined ? { driftShare } : {}),
    ...(sample !== undefined ? { sample } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  const named = [...Object.keys(tests.byColumn), ...Object.keys(thresholds.byColumn)];
  for (const c of named) {
    if (columns && !columns.includes(c)) throw new UsageError(`'${c}' has a test or threshold but is not among --columns`);
    if (exclude?.includes(c)) throw new UsageError(`'${c}' has a test or threshold but is excluded`);
  }
  return { options, perColumn: [...new Set(named)] };
}

export async function drift(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  const [reference, current] = positionals(args, ['reference', 'current']);
  const { options, perColumn: named } = driftOptions(args);
  const html = optionValue(args, 'html');
  const shown = (file: string) => path.relative(process.cwd(), path.resolve(file)) || file;
  let report: DriftReport;
  try {
    // With --log the files' md5s (the run's dataset inputs) come from the same read as the report.
    const withDigests = flag(args, 'log') ? { ...options, md5: true } : options;
    report = await computeDrift(path.resolve(reference!), path.resolve(current!), withDigests, { reference: shown(reference!), current: shown(current!) });
  } catch (e) {
    if (e instanceof DatasetError) throw new CliError(e.message);
    throw e;
  }
  for (const c of named) {
    if (!report.columns.some((col) => col.name === c)) throw new CliError(`--test/--threshold: no column '${c}' in both files`);
  }
  const htmlFile = html ? path.resolve(html) : undefined;
  if (htmlFile) {
    try {
      writeDriftHtml(report, htmlFile);
    } catch (e) {
      // The view not built, or the file not writable: one line, not a stack.
      throw new CliError(`--html ${html}: ${(e as Error).message}`);
    }
  }
  const files = { reference: path.resolve(reference!), current: path.resolve(current!) };
  const runId = flag(args, 'log') ? await logDriftRun(ctx.openTracker(true), report, { files, ...(htmlFile ? { htmlFile } : {}) }) : undefined;
  if (ctx.json) ctx.printJson(runId ? { ...report, run_id: runId } : report);
  else {
    ctx.io.out(driftText(report));
    if (htmlFile) ctx.io.out(`Report written to ${shown(htmlFile)}\n`);
    if (runId) ctx.io.out(`Logged as run ${runId}\n`);
  }
  if ((report.dataset_drift || report.n_columns === 0) && flag(args, 'fail-on-drift')) {
    // A gate that compared nothing does not pass.
    const failure = new CliError(report.n_columns === 0 ? 'no column could be compared (--fail-on-drift)' : `dataset drift: ${report.n_drifted} of ${report.n_columns} columns drifted (--fail-on-drift)`);
    (failure as CliError & { exitCode: number }).exitCode = 1;
    throw failure;
  }
}

/**
 * `runwise drift watch REF DIR [--pattern GLOB] [--new-only] [--log] [--fail-on-drift]` and the
 * comparison options of `drift`: each batch file in DIR, once written completely, is compared with
 * REF (core/drift/driftWatch.ts), one line per batch (with --json one JSON object per line); --log
 * records each as a run tagged with the batch and the watch. Runs until Ctrl-C (exit 130), or with
 * --fail-on-drift until the first batch that drifts (exit 1).
 */
export async function driftWatch(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  const [reference, folder] = positionals(args, ['reference', 'folder']);
  const { options } = driftOptions(args);
  const pattern = optionValue(args, 'pattern');
  if (pattern !== undefined) {
    try {
      batchPattern(pattern);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const refFile = path.resolve(reference!);
  const dir = path.resolve(folder!);
  if (!statSync(refFile, { throwIfNoEntry: false })?.isFile()) throw new CliError(`${reference}: no such file`);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`${folder}: no such folder`);
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  const log = flag(args, 'log');
  const failOnDrift = flag(args, 'fail-on-drift');
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  let drifted: DriftBatchResult | undefined;
  if (!ctx.json) ctx.io.err(`Watching ${shown(dir)} for batches (${pattern ?? DEFAULT_BATCH_PATTERN}) against ${shown(refFile)}; Ctrl-C stops.\n`);
  try {
    await watchDrift({
      reference: refFile,
      folder: dir,
      events: chokidarBatchEvents(dir),
      ...(pattern !== undefined ? { pattern } : {}),
      newOnly: flag(args, 'new-only'),
      drift: options,
      display: shown,
      ...(log ? { tracker: () => ctx.openTracker(true) } : {}),
      signal: controller.signal,
      onWarning: (message) => ctx.io.err(`runwise: watching ${shown(dir)}: ${message}\n`),
      onBatch: (result) => {
        ctx.io.out(ctx.json ? `${JSON.stringify(batchRecord(result))}\n` : `${batchLine(result)}\n`);
        // As for one report: a batch that compared nothing does not pass --fail-on-drift.
        if (failOnDrift && (result.report?.dataset_drift || result.report?.n_columns === 0)) {
          drifted = result;
          controller.abort();
        }
      },
    });
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  if (drifted) {
    const failure = new CliError(
      drifted.report!.n_columns === 0
        ? `no column could be compared in ${drifted.shown} (--fail-on-drift)`
        : `dataset drift in ${drifted.shown}: ${drifted.report!.n_drifted} of ${drifted.report!.n_columns} columns drifted (--fail-on-drift)`,
    );
    (failure as CliError & { exitCode: number }).exitCode = 1;
    throw failure;
  }
  const interrupted = new CliError('interrupted: stopped watching');
  (interrupted as CliError & { exitCode: number }).exitCode = 130;
  throw interrupted;
}

function batchRecord(r: DriftBatchResult): Record<string, unknown> {
  if (!r.report) return { file: r.shown, error: r.error ?? 'no report' };
  const { dataset_drift, drift_share, n_drifted, n_columns } = r.report;
  return { file: r.shown, dataset_drift, drift_share, n_drifted, n_columns, run_id: r.runId ?? null };
}

/** One line per batch: `batch.csv: DRIFT 3 of 5 columns (share 0.6) run 1a2b3c4d`. */
export function batchLine(r: DriftBatchResult): string {
  if (!r.report) return `${r.shown}: error: ${r.error ?? 'no report'}`;
  const rep = r.report;
  const verdict =
    rep.n_columns === 0
      ? `nothing compared: none of the ${rep.columns.length} columns could be checked`
      : `${rep.dataset_drift ? 'DRIFT' : 'ok'} ${rep.n_drifted} of ${rep.n_columns} columns drifted (share ${formatScore(rep.drift_share)}, threshold ${rep.drift_share_threshold ?? 0.5})`;
  return `${r.shown}: ${verdict}${r.runId ? ` run ${r.runId.slice(0, 8)}` : ''}`;
}

function formatScore(v: number | null): string {
  if (v === null) return '-';
  if (Number.isNaN(v)) return 'NaN';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** The report for people: the verdict, the rows used, and the columns drifted first by margin. */
export function driftText(r: DriftReport): string {
  const lines: string[] = [];
  const share = `${r.n_drifted} of ${r.n_columns} columns drifted (share ${formatScore(r.drift_share)}, threshold ${r.drift_share_threshold ?? 0.5})`;
  if (r.n_columns === 0) lines.push(`Nothing compared: none of the ${r.columns.length} columns could be checked (why below)`);
  else lines.push(`${r.dataset_drift ? 'Dataset drift' : 'No dataset drift'}: ${share}`);
  if (r.rows) {
    const side = (name: string, s: { read: number; used: number }) => (s.used === s.read ? `${s.read} ${name}` : `${s.used} of ${s.read} ${name}`);
    const used = `${side('reference', r.rows.reference)} and ${side('current', r.rows.current)} rows`;
    lines.push(r.sample && (r.rows.reference.used < r.rows.reference.read || r.rows.current.used < r.rows.current.read) ? `Sampled ${used} (seed ${r.sample.seed})` : `Every row used: ${used}`);
  }
  if (r.index_left_out) lines.push("Left out: columns with no name (a row index, as pandas' to_csv and R's write.csv write one first)");
  lines.push('');
  const rows = orderByMargin(r.columns).map((c) => {
    const margin = driftMargin(c);
    return [c.name, c.type, c.test ?? '-', formatScore(c.score), c.threshold === null ? '-' : String(c.threshold), c.test === null ? `not checked: ${c.skipped ?? ''}` : c.drifted ? 'DRIFT' : 'ok', margin === null ? '' : margin.toFixed(2)];
  });
  lines.push(renderTable(['COLUMN', 'TYPE', 'TEST', 'SCORE', 'THRESHOLD', 'VERDICT', 'MARGIN'], rows, { rightAligned: new Set([3, 4, 6]), maxCell: 60 }));
  return `${lines.join('\n')}\n`;
}
