/**
 * Folding ranges: every block mapping entry and list item that spans several lines, and runs of
 * comment lines. Lines are zero-based lines of the FILE (front matter lines shifted by the
 * Markdown's opening `---`).
 */
import type { AnalyzedDocument, FoldingSpan } from '../languageTypes';
import { positionAt } from '../text/lineIndex';
import { type YamlDocument, type YamlNode } from '../yaml/yamlTree';

const MAX_RANGES = 20_000;

export function foldingRangesOf(doc: AnalyzedDocument): FoldingSpan[] {
  const yaml = doc.yaml;
  const out: FoldingSpan[] = [];
  const lineShift = doc.yamlOffset > 0 ? 1 : 0;
  const add = (start: number, end: number, kind?: FoldingSpan['kind']) => {
    if (out.length >= MAX_RANGES) return;
    const a = positionAt(yaml, start).line;
    const b = positionAt(yaml, lastContent(yaml, end)).line;
    if (b > a) out.push({ startLine: a + lineShift, endLine: b + lineShift, ...(kind ? { kind } : {}) });
  };
  const visit = (n: YamlNode | null, depth: number) => {
    if (!n || depth > 256 || out.length >= MAX_RANGES) return;
    if (n.kind === 'map') {
      for (const p of n.items) {
        if (p.value && p.value.kind !== 'alias') add(p.key.start, p.value.end);
        visit(p.value, depth + 1);
      }
    } else if (n.kind === 'seq') {
      for (const it of n.items) {
        if (it && it.kind !== 'scalar') add(it.start, it.end);
        visit(it, depth + 1);
      }
    }
  };
  visit(yaml.root, 0);
  comments(yaml, (a, b) => {
    if (b > a && out.length < MAX_RANGES) out.push({ startLine: a + lineShift, endLine: b + lineShift, kind: 'comment' });
  });
  return out.sort((x, y) => x.startLine - y.startLine || y.endLine - x.endLine);
}

/** The last non-whitespace offset before `end` (a block's span may end after its newline). */
function lastContent(yaml: YamlDocument, end: number): number {
  let i = Math.min(end, yaml.text.length) - 1;
  while (i > 0 && /\s/.test(yaml.text[i]!)) i--;
  return Math.max(0, i);
}

function comments(yaml: YamlDocument, emit: (startLine: number, endLine: number) => void): void {
  let runStart = -1;
  const n = yaml.lineStarts.length;
  for (let l = 0; l <= n; l++) {
    let isComment = false;
    if (l < n) {
      const s = yaml.lineStarts[l]!;
      let i = s;
      while (i < yaml.text.length && (yaml.text[i] === ' ' || yaml.text[i] === '\t')) i++;
      isComment = yaml.text[i] === '#';
    }
    if (isComment && runStart < 0) runStart = l;
    if (!isComment && runStart >= 0) {
      emit(runStart, l - 1);
      runStart = -1;
    }
  }
}
