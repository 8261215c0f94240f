/**
 * Model card checks beyond the schema: `license: other` needs `license_name` (and usually
 * `license_link`); model and data paths of the Model Card Toolkit sections must exist (warning) and
 * stay in the workspace (error). Spans are YAML offsets.
 */
import type { AnalysisDiagnostic, AnalyzedDocument, WorkspaceView } from './languageTypes';
import { parentDir, resolveWorkspacePath } from './workspacePaths';
import { asMap, asScalar, asSeq, pairOf, valueOf } from './yamlAccess';
import type { YamlScalar } from './yaml/yamlTree';

export function modelCardDiagnostics(doc: AnalyzedDocument, workspace: WorkspaceView): AnalysisDiagnostic[] {
  const out: AnalysisDiagnostic[] = [];
  const root = asMap(doc.yaml.root);
  if (!root) return out;
  const license = asScalar(valueOf(root, 'license'));
  if (license && license.value === 'other') {
    if (!pairOf(root, 'license_name')) {
      out.push({
        start: license.start,
        end: license.end,
        severity: 'warning',
        code: 'missing-key',
        message: "'license: other' needs 'license_name' (an id for the license) and 'license_link' (where its text is).",
        data: { key: 'license_name' },
      });
    } else if (!pairOf(root, 'license_link')) {
      out.push({
        start: license.start,
        end: license.end,
        severity: 'information',
        code: 'missing-key',
        message: "'license: other' usually comes with 'license_link' (a URL or a file such as LICENSE).",
        data: { key: 'license_link' },
      });
    }
  }

  const paths: YamlScalar[] = [];
  const details = asMap(valueOf(root, 'model_details'));
  const p = asScalar(valueOf(details, 'path'));
  if (p) paths.push(p);
  for (const d of asSeq(valueOf(asMap(valueOf(root, 'model_parameters')), 'data'))?.items ?? []) {
    const dp = asScalar(valueOf(asMap(d), 'path'));
    if (dp) paths.push(dp);
  }
  const dir = parentDir(doc.relPath);
  for (const s of paths) {
    if (typeof s.value !== 'string' || s.value === '') continue;
    const r = resolveWorkspacePath(dir, s.value);
    if (r.kind === 'outside') out.push({ start: s.start, end: s.end, severity: 'error', code: 'path-outside-workspace', message: `'${s.value}' ${r.reason}.` });
    else if (r.kind === 'inside' && !workspace.exists(r.path)) {
      out.push({ start: s.start, end: s.end, severity: 'warning', code: 'missing-path', message: `'${r.path}' does not exist.`, data: { path: r.path } });
    }
  }
  return out;
}
