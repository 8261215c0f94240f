/**
 * `runwise evaluate MODEL --data FILE --target COLUMN [--task T] [--threshold X] [--features a,b]
 * [--slice-by C] [--batch-size N] [--json]`: an ONNX model on a dataset (CSV, JSON Lines, Parquet),
 * logged as a tracker run (created when the workspace has none). --json prints `{task, rows,
 * metrics, confusion_matrix, slices, latency_ms, rows_per_second, run_id, …}` with scikit-learn's
 * metric names. Loaded on use: onnxruntime stays out of the other commands' start-up.
 */
import { existsSync } from 'node:fs';
import { parseFeatureList } from '../../evaluation/featureList';
import { intOption, optionValue, positionals, UsageError, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { oneLine, renderTable } from '../table';
import { DatasetError } from '../../dataset/dataset';
import { EVALUATION_TASKS, EvaluationCancelledError, EvaluationError, MAX_BATCH_ROWS, evaluateModel, runEndedBy, type EvaluationReport, type EvaluationTask } from '../../evaluation/evaluate';
import { parseThreshold } from '../../evaluation/threshold';
import { ModelError } from '../../evaluation/onnxModel';
import { withVersionModel } from '../../tracker/versionModel';
import { commandLinePath } from '../../workspace/workspaceRoot';
import { MODEL_SHA256_TAG } from '../../tracker/model';
import { formatMetricValue, formatMetricCompact } from '../../views/displayFormat';


export async function evaluate(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  const [model] = positionals(args, ['model']);
  const data = optionValue(args, 'data');
  const target = optionValue(args, 'target');
  if (!data) throw new UsageError('--data FILE is required');
  if (!target) throw new UsageError('--target COLUMN is required');
  const task = optionValue(args, 'task');
  if (task !== undefined && !(EVALUATION_TASKS as readonly string[]).includes(task)) {
    throw new UsageError(`--task must be one of ${EVALUATION_TASKS.join(', ')} (got '${task}')`);
  }
  const thresholdText = optionValue(args, 'threshold');
  const threshold = thresholdText === undefined ? undefined : parseThreshold(thresholdText);
  if (thresholdText !== undefined && threshold === undefined) throw new UsageError(`--threshold must be a number between 0 and 1 (got '${thresholdText}')`);
  const featuresText = optionValue(args, 'features');
  const features = featuresText === undefined ? undefined : featureList(featuresText);
  const sliceBy = optionValue(args, 'slice-by');
  const batchSize = intOption(args, 'batch-size', 1, MAX_BATCH_ROWS);
  let report: EvaluationReport;
  // Ctrl-C (or a TERM) ends the evaluation between batches: its run is KILLED, saying so, not left
  // running. The handlers go with the first signal, so a second one (the model still loading, a
  // long batch holding the thread) ends the process as signals do; the next command then finds
  // the run abandoned.
  const controller = new AbortController();
  const interrupt = () => {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // A registered version (`models:/NAME/N`, `NAME/N`, `NAME@ALIAS`) is evaluated from the registry's
  // own copy, its bytes re-hashed first, as the editor's Evaluate Model Version… and a gate do.
  const version = registeredVersion(ctx, model!);
  try {
    const evaluateAt = (modelPath: string) => evaluateModel({
      model: modelPath,
      ...(version ? { modelName: `models:/${version.name}/${version.version}` } : {}),
      data: commandLinePath(ctx.workspace, data),
      target,
      ...(task ? { task: task as EvaluationTask } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(features ? { features } : {}),
      ...(sliceBy ? { sliceBy } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      workspace: ctx.workspace,
      tracker: ctx.openTracker(true),
      signal: controller.signal,
    });
    report = version
      ? await withVersionModel(ctx.openTracker(), version.name, version.version, async (modelPath) => {
          const r = await evaluateAt(modelPath);
          // The version's hash, which for a folder (an MLmodel beside the .onnx) is not the .onnx's own: cards and gates find it.
          if (r.run_id) ctx.openTracker().setTag(r.run_id, { key: MODEL_SHA256_TAG, value: version.sha256 });
          return r;
        })
      : await evaluateAt(commandLinePath(ctx.workspace, model!));
  } catch (e) {
    if (e instanceof EvaluationCancelledError) throw Object.assign(new CliError(`interrupted: ${e.message}`), { exitCode: 130 });
    if (e instanceof DatasetError || e instanceof ModelError || e instanceof EvaluationError) {
      // A problem found after the run started: the run it ended FAILED is named, to find it by.
      const run = runEndedBy(e);
      throw new CliError(run ? `${e.message} (run ${run} ended FAILED)` : e.message);
    }
    throw e;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  if (ctx.json) {
    ctx.printJson(report);
    return;
  }
  ctx.io.out(reportText(report));
}

/**
 * The registered version `ref` names, when it names one: `models:/NAME/VERSION` or `models:/NAME@ALIAS`
 * always (an error when there is none), `NAME/VERSION`, `NAME@ALIAS` or `NAME` (its latest) when no
 * file is at that path and the registry has such a model. Anything else is a model file's path.
 */
function registeredVersion(ctx: CommandContext, ref: string): { name: string; version: string; sha256: string } | undefined {
  const uri = /^models:\/(.+)$/.exec(ref)?.[1];
  if (uri === undefined && (existsSync(commandLinePath(ctx.workspace, ref)) || !ctx.hasTracker())) return undefined;
  if (uri !== undefined && !ctx.hasTracker()) throw new CliError(`${ref}: no tracker in ${ctx.workspace}, so no registered model`);
  const registry = ctx.openTracker().registry;
  const parsed = registry.parseRef(uri ?? ref);
  if (uri === undefined && !registry.hasModel(parsed.name)) return undefined;
  const v = registry.resolveVersion(parsed);
  return { name: v.name, version: v.version, sha256: v.sha256 };
}

/** The report for people: what was evaluated, the metrics, the confusion matrix, slices, speed. */
export function reportText(r: EvaluationReport): string {
  const lines: string[] = [];
  lines.push(`Evaluated ${r.model.path} on ${r.dataset.path} (${r.rows} rows, target '${oneLine(r.dataset.target)}')`);
  // The positive class of binary metrics (scikit-learn's classes_[1]): named, as 'legit' of fraud/legit is no obvious choice.
  const positive = r.task === 'binary' && r.classes && r.classes.length === 2 ? `, positive class ${oneLine(String(r.classes[1]))}` : '';
  lines.push(`Task: ${r.task}${r.task_inferred ? ' (inferred from the model outputs)' : ''}${positive}${r.threshold !== null ? `, threshold ${r.threshold}` : ''}`);
  lines.push('');
  lines.push(renderTable(['METRIC', 'VALUE'], Object.entries(r.metrics).map(([k, v]) => [k, formatMetricValue(v)]), { rightAligned: new Set([1]) }));
  if (r.confusion_matrix && r.classes) {
    lines.push('', 'Confusion matrix (rows: true class, columns: predicted):');
    const header = ['', ...r.classes.map((c) => `pred ${c}`)];
    const rows = r.confusion_matrix.map((row, i) => [`true ${r.classes![i]}`, ...row.map(String)]);
    lines.push(renderTable(header, rows, { rightAligned: new Set(header.map((_, i) => i).slice(1)) }));
  }
  if (r.slices) {
    const keys = Object.keys(r.metrics);
    lines.push('', `Slices by '${oneLine(r.slices.column)}':`);
    const rows = r.slices.values.map((s) => [s.value, String(s.rows), ...keys.map((k) => formatMetricCompact(s.metrics[k]!))]);
    lines.push(renderTable([r.slices.column, 'ROWS', ...keys], rows, { rightAligned: new Set(keys.map((_, i) => i + 1).concat(keys.length + 1)) }));
    const g = r.slices.largest_gap;
    if (g) lines.push(`Largest gap in ${g.metric}: ${formatMetricCompact(g.gap)} (lowest: ${oneLine(g.lowest)}, highest: ${oneLine(g.highest)})`);
  }
  lines.push('', `Latency per batch of ${r.batch_size}: p50 ${r.latency_ms.p50.toFixed(2)} ms, p95 ${r.latency_ms.p95.toFixed(2)} ms, p99 ${r.latency_ms.p99.toFixed(2)} ms; ${Math.round(r.rows_per_second)} rows/s`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(r.run_id ? `Logged as run ${r.run_id}` : 'Not logged');
  return `${lines.join('\n')}\n`;
}

/** `--features` as core/evaluation/featureList.ts reads it, a mistake as a usage error. */
export function featureList(text: string): string[] {
  try {
    return parseFeatureList(text);
  } catch (e) {
    throw new UsageError(`--features: ${(e as Error).message}`);
  }
}
