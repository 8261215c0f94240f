/**
 * All diagnostics of a document: YAML syntax errors (and duplicate keys, alias limits) from the
 * parser, the schema checks, then the checks of its kind (pipeline, model card). A broken document
 * still gets every diagnostic the recovered tree allows. Returned spans are FILE offsets (YAML
 * offsets plus `yamlOffset`), sorted by position.
 */
import type { FeatureContext } from './featureContext';
import { isPipelineKind } from './fileKinds';
import type { AnalysisDiagnostic } from './languageTypes';
import { modelCardDiagnostics } from './modelCardDiagnostics';
import { pipelineDiagnostics } from './pipelineDiagnostics';
import { schemaFor } from './schema/schemaFor';
import { RUNWISE_ONLY_KEYS, validateAgainstSchema } from './schemaValidation';

export function computeDiagnostics(ctx: FeatureContext): AnalysisDiagnostic[] {
  const { doc, cancelled } = ctx;
  const yaml = doc.yaml;
  const out: AnalysisDiagnostic[] = yaml.errors.map((e) => ({
    start: e.start,
    end: e.end,
    severity: 'error',
    code: e.code || 'yaml-syntax',
    message: e.message,
  }));
  const pipeline = isPipelineKind(doc.kind);
  if (!cancelled()) {
    out.push(
      ...validateAgainstSchema(yaml.root, schemaFor(doc.kind), {
        interpolation: pipeline,
        lenientStrings: doc.kind === 'model-card' || doc.kind === 'readme-model-card',
        runwiseOnlyKeys: doc.kind === 'dvc-pipeline' ? RUNWISE_ONLY_KEYS : undefined,
        cancelled,
      }),
    );
  }
  if (!cancelled()) {
    // An index cut short by cancellation lacks stages: its findings would be wrong, not just partial.
    if (pipeline && ctx.index?.complete) out.push(...pipelineDiagnostics(ctx.index, ctx.workspace, cancelled));
    else if (doc.kind === 'model-card' || doc.kind === 'readme-model-card') out.push(...modelCardDiagnostics(doc, ctx.workspace));
  }
  return toFileOffsets(out, yaml.text.length, doc.yamlOffset).sort((a, b) => a.start - b.start || a.end - b.end);
}

function toFileOffsets(list: AnalysisDiagnostic[], length: number, shift: number): AnalysisDiagnostic[] {
  for (const d of list) {
    const start = Math.max(0, Math.min(d.start, length));
    const end = Math.max(start, Math.min(d.end, length));
    d.start = start + shift;
    d.end = end + shift;
  }
  return list;
}
