/**
 * `runwise export-pipeline --format argo|kubeflow|airflow [--image IMAGE] [--output FILE]
 * [--pipeline FILE] [--tracking-uri URI] [--name NAME] [--operator bash|k8s]`: the pipeline's stage
 * graph, as the runner loads it, as an Argo Workflow, a Kubeflow pipeline spec or an Airflow DAG
 * file (core/pipeline/export). On stdout unless --output; pipelines the runner would refuse are
 * refused with the same diagnostics.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { optionValue, positionals, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { CliError, type CommandContext } from '../context';
import { exportPipeline } from '../../pipeline/export/pipelineExport';
import { EXPORT_FORMATS, exportName, ExportOptionsError, type AirflowOperator, type ExportFormat } from '../../pipeline/export/exportSettings';
import { loadGraphForCommand } from './status';

export const exportPipelineOptions: OptionSpecs = {
  format: { value: true },
  image: { value: true },
  output: { value: true, short: 'o' },
  pipeline: { value: true, short: 'p' },
  'tracking-uri': { value: true },
  name: { value: true },
  operator: { value: true },
};

export function exportPipelineCommand(ctx: CommandContext, args: ParsedArgs): void {
  positionals(args, []);
  const format = optionValue(args, 'format');
  if (format === undefined || !EXPORT_FORMATS.includes(format as ExportFormat)) {
    throw new UsageError(`export-pipeline needs --format ${EXPORT_FORMATS.join('|')}${format !== undefined ? ` (got '${format}')` : ''}`);
  }
  const operator = optionValue(args, 'operator');
  if (operator !== undefined && format !== 'airflow') throw new UsageError('--operator is for --format airflow');
  if (operator !== undefined && operator !== 'bash' && operator !== 'k8s') throw new UsageError(`--operator is bash or k8s (got '${operator}')`);
  const graph = loadGraphForCommand(ctx, args, 'nothing was exported');
  let text: string;
  try {
    const image = optionValue(args, 'image');
    const trackingUri = optionValue(args, 'tracking-uri');
    text = exportPipeline(graph, {
      format: format as ExportFormat,
      name: exportName(optionValue(args, 'name'), graph.root),
      ...(image !== undefined ? { image } : {}),
      ...(trackingUri !== undefined ? { trackingUri } : {}),
      ...(operator !== undefined ? { operator: operator as AirflowOperator } : {}),
    });
  } catch (e) {
    if (e instanceof ExportOptionsError) throw new UsageError(e.message);
    throw e;
  }
  const output = optionValue(args, 'output');
  if (output === undefined) {
    (ctx.io.data ?? ctx.io.out)(text);
    return;
  }
  const target = path.resolve(output);
  try {
    writeFileSync(target, text);
  } catch (e) {
    throw new CliError(`cannot write ${output}: ${(e as Error).message}`);
  }
  ctx.io.err(`Wrote the ${format} pipeline (${graph.stages.length} stage${graph.stages.length === 1 ? '' : 's'}) to ${output}\n`);
}
