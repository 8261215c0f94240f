/**
 * Card checks beyond the schema: `license: other` needs `license_name` (and usually
 * `license_link`); a model card's `library_name` should be a library the Hub knows (warning, with
 * "did you mean"); a Space's `emoji` is a single emoji; model and data paths of the Model Card
 * Toolkit sections must exist (warning) and stay in the workspace (error). Spans are YAML offsets.
 */
import { jsonSyntaxError } from './cardNames';
import { didYouMean } from '../schema/didYouMean';
import type { AnalysisDiagnostic, AnalyzedDocument, WorkspaceView } from '../languageTypes';
import { HF_LIBRARIES } from '../schema/hfLibraries';
import { parentDir, resolveWorkspacePath } from '../files/workspacePaths';
import { asMap, asScalar, asSeq, pairOf, valueOf } from '../yaml/yamlAccess';
import type { YamlScalar } from '../yaml/yamlTree';

export function modelCardDiagnostics(doc: AnalyzedDocument, workspace: WorkspaceView): AnalysisDiagnostic[] {
  const out: AnalysisDiagnostic[] = [];
  // A JSON card is read as YAML here (JSON is YAML), which takes what JSON refuses (a trailing comma,
  // a comment, single quotes): the toolkit's json.loads and `runwise card update` refuse it.
  if (/\.json$/i.test(doc.relPath)) {
    // Python's json.loads (and json.load of a file opened as UTF-8) refuses a leading byte order mark.
    if (doc.yaml.text.charCodeAt(0) === 0xfeff)
      out.push({ start: 0, end: 1, severity: 'error', code: 'byte-order-mark', message: "The file starts with a byte order mark: Python's json.load and json.loads refuse it ('Unexpected UTF-8 BOM'), so the toolkit cannot read the card. Save it as UTF-8 without BOM." });
    const invalid = jsonSyntaxError(doc.yaml.text);
    if (invalid) out.push({ start: invalid.at, end: Math.min(doc.yaml.text.length, invalid.at + 1), severity: 'error', code: 'invalid-json', message: `Not valid JSON, as the Model Card Toolkit reads it: ${invalid.message}.` });
  }
  // huggingface_hub opens a card as plain UTF-8 and finds the front matter with `^(\s*---…`, whose
  // `\s` is not U+FEFF: its ModelCard.load and metadata_load see no metadata (the Hub's site does).
  if (doc.bom)
    out.push({
      // At the mark itself, the file's first character (before the front matter's YAML).
      start: -doc.yamlOffset,
      end: -doc.yamlOffset + 1,
      severity: 'warning',
      code: 'byte-order-mark',
      message: 'The file starts with a byte order mark: huggingface_hub (ModelCard.load, metadata_load) finds no metadata after it. Save the file as UTF-8 without BOM.',
    });
  if (doc.unclosedFrontMatter)
    out.push({
      start: 0,
      end: 3,
      severity: 'error',
      code: 'unclosed-front-matter',
      message: 'The front matter opened here is never closed: expected a line `---` after the metadata (the Hub reads front matter up to such a line, not `...`), or no metadata is read at all.',
    });
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

  if (doc.kind === 'space-card') {
    const emoji = asScalar(valueOf(root, 'emoji'));
    if (emoji && typeof emoji.value === 'string' && emoji.value !== '' && !isSingleEmoji(emoji.value)) {
      out.push({ start: emoji.start, end: emoji.end, severity: 'warning', code: 'invalid-value', message: `'emoji' is a single emoji, not '${clip(emoji.value)}'.` });
    }
    return out;
  }

  const library = asScalar(valueOf(root, 'library_name'));
  if (library && typeof library.value === 'string' && library.value !== '' && !KNOWN_LIBRARIES.has(library.value)) {
    const suggestion = didYouMean(library.value, HF_LIBRARIES);
    out.push({
      start: library.start,
      end: library.end,
      severity: 'warning',
      code: 'unknown-value',
      message: suggestion
        ? `Unknown library '${clip(library.value)}'. Did you mean '${suggestion}'?`
        : `Unknown library '${clip(library.value)}': the Hub shows no code snippet for it (it knows e.g. 'transformers', 'diffusers', 'sklearn').`,
      data: suggestion ? { suggestion } : undefined,
    });
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

const KNOWN_LIBRARIES: ReadonlySet<string> = new Set(HF_LIBRARIES);

/** User text quoted in a message, cut so that the message does not grow with the input. */
function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** One grapheme (a flag, a keycap or a ZWJ sequence count as one) that is an emoji. */
function isSingleEmoji(text: string): boolean {
  const t = text.trim();
  // The longest emoji sequences (families with skin tones) are well under 64 UTF-16 units.
  if (t.length > 64) return false;
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(t)];
  return graphemes.length === 1 && EMOJI.test(graphemes[0]!.segment);
}
