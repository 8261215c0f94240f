/**
 * All diagnostics of a document: YAML syntax errors (and duplicate keys, alias limits) from the
 * parser, the schema checks, then the checks of its kind (pipeline, model card). A broken document
 * still gets every diagnostic the recovered tree allows. Returned spans are FILE offsets (YAML
 * offsets plus `yamlOffset`), sorted by position.
 */
import type { FeatureContext } from './featureContext';
import { isCardKind, isPipelineKind } from '../files/fileKinds';
import type { AnalysisDiagnostic } from '../languageTypes';
import { modelCardDiagnostics } from '../modelCard/modelCardDiagnostics';
import { pipelineDiagnostics } from '../pipeline/pipelineDiagnostics';
import { schemaFor } from '../schema/schemaFor';
import { MCT_JSON_CARD_SCHEMA } from '../schema/modelCardSchema';
import { isJsonCardName } from '../modelCard/cardNames';
import { RUNWISE_ONLY_KEYS, nearSyntaxError, validateAgainstSchema } from '../schema/schemaValidation';

/**
 * At most this many diagnostics per document (the first ones by position): a generated or hostile
 * file can have hundreds of thousands, which no one reads and an editor should not be sent.
 */
export const MAX_DIAGNOSTICS_PER_DOCUMENT = 1000;

function append(out: AnalysisDiagnostic[], more: readonly AnalysisDiagnostic[]): void {
  // A loop, not push(...more): spreading ~100k arguments overflows the call stack.
  for (const d of more) out.push(d);
}

export function computeDiagnostics(ctx: FeatureContext): AnalysisDiagnostic[] {
  const { doc, cancelled } = ctx;
  const yaml = doc.yaml;
  const out: AnalysisDiagnostic[] = yaml.errors.map((e) => ({
    start: e.start,
    end: e.end,
    severity: e.severity ?? 'error',
    code: e.code || 'yaml-syntax',
    message: e.message,
  }));
  const pipeline = isPipelineKind(doc.kind);
  const jsonCard = isCardKind(doc.kind) && isJsonCardName(doc.relPath);
  if (!cancelled()) {
    // A JSON card is the toolkit's: its own keys and JSON's own types (a number is no string there).
    const found = validateAgainstSchema(yaml.root, jsonCard ? MCT_JSON_CARD_SCHEMA : schemaFor(doc.kind), {
      interpolation: pipeline,
      lenientStrings: isCardKind(doc.kind) && !jsonCard,
      emptyOptionalKeys: isCardKind(doc.kind) && !jsonCard,
      runwiseOnlyKeys: doc.kind === 'dvc-pipeline' ? RUNWISE_ONLY_KEYS : undefined,
      cancelled,
    });
    // After a syntax error the tree is the parser's guess: a mapping it cut there lacks keys that are
    // on the next lines. Its missing keys are said once the syntax is mended.
    const errorStarts = yaml.errors.filter((e) => e.severity !== 'warning' && (e.code || 'yaml-syntax') === 'yaml-syntax').map((e) => e.start);
    append(out, errorStarts.length > 0 ? found.filter((d) => d.code !== 'missing-key' || !nearSyntaxError(d, errorStarts, yaml.text)) : found);
  }
  if (!cancelled()) {
    // An index cut short by cancellation lacks stages: its findings would be wrong, not just partial.
    if (pipeline && ctx.index?.complete) {
      append(out, pipelineDiagnostics(ctx.index, ctx.workspace, cancelled));
      // Findings across the workspace's pipeline files; a cycle inside this file is already reported.
      const across = ctx.index.otherPipelines?.diagnosticsFor(ctx.index, cancelled) ?? [];
      if (across.length) {
        const seen = new Set(out.map((d) => `${d.code}:${d.start}:${d.end}`));
        append(
          out,
          across.filter((d) => !seen.has(`${d.code}:${d.start}:${d.end}`)),
        );
      }
    } else if (isCardKind(doc.kind)) append(out, modelCardDiagnostics(doc, ctx.workspace));
  }
  const sorted = toFileOffsets(out, yaml.text.length, doc.yamlOffset).sort((a, b) => a.start - b.start || a.end - b.end);
  if (sorted.length <= MAX_DIAGNOSTICS_PER_DOCUMENT) return sorted;
  const kept = sorted.slice(0, MAX_DIAGNOSTICS_PER_DOCUMENT - 1);
  kept.push({
    start: 0,
    end: 0,
    severity: 'warning',
    code: 'too-many-diagnostics',
    message: `${sorted.length.toLocaleString('en-US')} problems found; only the first ${MAX_DIAGNOSTICS_PER_DOCUMENT - 1} are shown.`,
  });
  return kept;
}

function toFileOffsets(list: AnalysisDiagnostic[], length: number, shift: number): AnalysisDiagnostic[] {
  for (const d of list) {
    // Down to the file's start: a finding before the YAML (a card's byte order mark) is at -shift.
    const start = Math.max(-shift, Math.min(d.start, length));
    const end = Math.max(start, Math.min(d.end, length));
    d.start = start + shift;
    d.end = end + shift;
  }
  return list;
}
